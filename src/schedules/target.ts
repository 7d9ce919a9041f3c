/**
 * Where a schedule tick or a batch finalizer goes, as EventBridge Scheduler names its templated
 * targets: a function invoked with a fixed input, a queue sent a fixed message body, or (schedules only)
 * a batch started from a registered item source. Stored as plain JSON.
 */
import { invalidValue } from '../model/errors.js';
import type { BatchTarget, DeliveryFailurePolicy, FunctionTarget, QueueTarget, ScheduleTarget } from '../store/targets.js';

/** The forms a caller writes: `{ function: 'f', input }`, `{ queue: 'q', body }`, `{ batch: {...} }`, or the stored form. */
export type TargetInput =
  | ScheduleTarget
  | { function: string; input?: unknown; onFailure?: DeliveryFailurePolicy }
  | { queue: string; body?: string; messageGroupId?: string; onFailure?: DeliveryFailurePolicy }
  | { batch: Omit<BatchTarget, 'kind' | 'finalizer'> & { finalizer?: TargetInput } };

function nonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidValue(field, 'must be a non-empty string');
  return value;
}

/** Normalises and validates a target; `allowBatch` is false for finalizers (a batch cannot finalize into a batch). */
export function parseTarget(input: unknown, field: string, allowBatch = true): ScheduleTarget {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidValue(field, 'must be an object naming a function, a queue or a batch');
  }
  const raw = input as Record<string, unknown>;
  const kind =
    typeof raw.kind === 'string'
      ? raw.kind
      : 'function' in raw
        ? 'function'
        : 'queue' in raw
          ? 'queue'
          : 'batch' in raw
            ? 'batch'
            : undefined;
  if (kind === 'function') {
    const functionName = nonEmptyString(`${field}.function`, raw.functionName ?? raw.function);
    checkJson(`${field}.input`, raw.input);
    const target: FunctionTarget = raw.input === undefined ? { kind, functionName } : { kind, functionName, input: raw.input };
    return withFailurePolicy(target, raw.onFailure, field, allowBatch);
  }
  if (kind === 'queue') {
    const target: QueueTarget = { kind, queue: nonEmptyString(`${field}.queue`, raw.queue) };
    if (raw.body !== undefined) target.body = nonEmptyString(`${field}.body`, raw.body);
    if (raw.messageGroupId !== undefined)
      target.messageGroupId = nonEmptyString(`${field}.messageGroupId`, raw.messageGroupId);
    return withFailurePolicy(target, raw.onFailure, field, allowBatch);
  }
  if (kind === 'batch' && allowBatch) {
    const spec = (raw.kind === 'batch' ? raw : raw.batch) as Record<string, unknown> | undefined;
    if (!spec || typeof spec !== 'object') throw invalidValue(`${field}.batch`, 'must be an object');
    const target: BatchTarget = {
      kind: 'batch',
      source: nonEmptyString(`${field}.batch.source`, spec.source),
      processor: nonEmptyString(`${field}.batch.processor`, spec.processor),
    };
    if (spec.itemsPerMessage !== undefined) target.itemsPerMessage = spec.itemsPerMessage as number;
    if (spec.finalizer !== undefined)
      target.finalizer = parseTarget(spec.finalizer, `${field}.batch.finalizer`, false) as
        FunctionTarget | QueueTarget;
    if (spec.input !== undefined) {
      checkJson(`${field}.batch.input`, spec.input);
      target.input = spec.input;
    }
    return target;
  }
  throw invalidValue(
    field,
    allowBatch ? 'must name a function, a queue or a batch' : 'must name a function or a queue',
  );
}

/** Limits of a failure policy: EventBridge Scheduler's RetryPolicy ranges. */
export const failurePolicyLimits = {
  maxRetryAttempts: 185,
  minEventAgeSeconds: 60,
  maxEventAgeSeconds: 86_400,
} as const;

function withFailurePolicy<T extends FunctionTarget | QueueTarget>(target: T, raw: unknown, field: string, allowed: boolean): T {
  if (raw === undefined) return target;
  if (!allowed) throw invalidValue(`${field}.onFailure`, 'is only valid on a schedule target');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalidValue(`${field}.onFailure`, 'must be an object');
  const spec = raw as Record<string, unknown>;
  const attempts = spec.maximumRetryAttempts;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0 || attempts > failurePolicyLimits.maxRetryAttempts) {
    throw invalidValue(`${field}.onFailure.maximumRetryAttempts`, `${JSON.stringify(attempts)} is invalid; must be an integer from 0 to ${failurePolicyLimits.maxRetryAttempts}`);
  }
  const age = spec.maximumEventAgeSeconds;
  if (typeof age !== 'number' || !Number.isInteger(age) || age < failurePolicyLimits.minEventAgeSeconds || age > failurePolicyLimits.maxEventAgeSeconds) {
    throw invalidValue(
      `${field}.onFailure.maximumEventAgeSeconds`,
      `${JSON.stringify(age)} is invalid; must be an integer from ${failurePolicyLimits.minEventAgeSeconds} to ${failurePolicyLimits.maxEventAgeSeconds}`,
    );
  }
  const policy: DeliveryFailurePolicy = { maximumRetryAttempts: attempts, maximumEventAgeSeconds: age };
  if (spec.deadLetterQueue !== undefined) {
    const queue = nonEmptyString(`${field}.onFailure.deadLetterQueue`, spec.deadLetterQueue);
    if (queue.endsWith('.fifo')) throw invalidValue(`${field}.onFailure.deadLetterQueue`, 'must be a standard queue, not a FIFO queue');
    policy.deadLetterQueue = queue;
  }
  return { ...target, onFailure: policy };
}

function checkJson(field: string, value: unknown): void {
  if (value === undefined) return;
  try {
    JSON.stringify(value);
  } catch (error) {
    throw invalidValue(field, `must be JSON-serialisable (${(error as Error).message})`);
  }
}

/** A short human form for views and errors: `function:f`, `queue:q`, `batch:source->processor`. */
export function describeTarget(target: ScheduleTarget): string {
  if (target.kind === 'function') return `function:${target.functionName}`;
  if (target.kind === 'queue') return `queue:${target.queue}`;
  return `batch:${target.source}->${target.processor}`;
}
