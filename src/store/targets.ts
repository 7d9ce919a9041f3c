/**
 * Where a schedule tick or a batch finalizer goes, as EventBridge Scheduler names its templated
 * targets: a function invoked with a fixed input, a queue sent a fixed message body, or (schedules only)
 * a batch started from a registered item source. Stored as plain JSON; schedules/target.ts validates a
 * caller's input into this form.
 */
/**
 * What a schedule does when delivering to its target fails (EventBridge Scheduler's Target.RetryPolicy and
 * Target.DeadLetterConfig). Without it a delivery is tried 3 times (the outbox relay's default).
 */
export interface DeliveryFailurePolicy {
  /** Retries after the first attempt, 0-185. */
  maximumRetryAttempts: number;
  /** No retry once the event is this old (from its due time), 60-86,400. */
  maximumEventAgeSeconds: number;
  /** A standard queue that receives the event once retries are exhausted; without it the event is dropped. */
  deadLetterQueue?: string;
}

export interface FunctionTarget {
  kind: 'function';
  functionName: string;
  /** The event the function receives (a schedule's fixed input). */
  input?: unknown;
  onFailure?: DeliveryFailurePolicy;
}

export interface QueueTarget {
  kind: 'queue';
  queue: string;
  /** The message body; a schedule sends it as is. Default: the event, as JSON. */
  body?: string;
  /** FIFO queues: the message group (default `sluice`). */
  messageGroupId?: string;
  onFailure?: DeliveryFailurePolicy;
}

export interface BatchTarget {
  kind: 'batch';
  /** A source registered with `sluice.batches.registerSource(name, ...)`: yields the batch's items. */
  source: string;
  processor: string;
  itemsPerMessage?: number;
  finalizer?: FunctionTarget | QueueTarget;
  /** Passed to the source and stored with the batch. */
  input?: unknown;
}

export type ScheduleTarget = FunctionTarget | QueueTarget | BatchTarget;
