/**
 * A schedule tick's delivery under its target's failure policy (EventBridge Scheduler's Target.RetryPolicy
 * and Target.DeadLetterConfig; store/targets.ts DeliveryFailurePolicy).
 *
 * - Without a policy, a failure is rethrown as is and the outbox relay applies its own limit (3 attempts).
 * - With one, the relay's limit steps aside (`RetryDelivery`): the delivery is retried with the relay's
 *   backoff while retries remain (attempts - 1 < MaximumRetryAttempts) and the event is younger than
 *   MaximumEventAgeInSeconds, counted from its first due time. Then the event goes to the dead-letter
 *   queue if there is one (and the entry is done), or is dropped (`AbandonDelivery`, recorded on the
 *   outbox entry).
 * - The dead-letter message's body is the event as the target would have received it; its attributes say
 *   why, as Scheduler's dead-letter events do (String attributes ERROR_CODE, ERROR_MESSAGE, EXECUTION_ID,
 *   EXHAUSTED_RETRY_CONDITION (`MaximumRetryAttempts` or `MaximumEventAgeInSeconds`, the RetryPolicy
 *   member whose limit was reached), IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS, SCHEDULED_TIME, SCHEDULE_ARN
 *   with the schedule's group, TARGET_ARN). EXECUTION_ID names the scheduled invocation: a
 *   UUID derived from the outbox key (`schedule:<name>:<tick>`), so every retry and every node agree.
 *   An event the dead-letter queue refuses (it is gone) is dropped, with both errors on the outbox entry.
 */
import { createHash } from 'node:crypto';
import { AbandonDelivery, RetryDelivery } from './outbox-relay.js';
import { deliverToTarget, type DeliveryDeps } from './deliver.js';
import type { OutboxEntry } from '../store/outbox-store.js';
import type { ScheduleTarget } from '../store/targets.js';
import type { MessageAttributeInput } from '../queues/message-attributes.js';
import { isSluiceError } from '../model/errors.js';

/** EXHAUSTED_RETRY_CONDITION's values: the RetryPolicy member whose limit was reached. */
export type ExhaustedCondition = 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';

export interface PolicyDelivery {
  deps: DeliveryDeps;
  target: ScheduleTarget;
  event: unknown;
  entry: OutboxEntry;
  /** When the event was first due: its age counts from here. */
  firstDueAt: number;
  /** The tick's time by the schedule (before any flexible window): SCHEDULED_TIME. */
  scheduledTime: number;
  now: number;
  scheduleArn: string;
  targetArn: string;
}

/** Which limit a failed attempt has reached, if any. `attempts` counts the attempt that just failed. */
export function exhaustedCondition(
  policy: { maximumRetryAttempts: number; maximumEventAgeSeconds: number },
  attempts: number,
  ageMs: number,
): ExhaustedCondition | undefined {
  if (attempts - 1 >= policy.maximumRetryAttempts) return 'MaximumRetryAttempts';
  if (ageMs >= policy.maximumEventAgeSeconds * 1000) return 'MaximumEventAgeInSeconds';
  return undefined;
}

export async function deliverWithPolicy(p: PolicyDelivery): Promise<void> {
  const { target } = p;
  if (target.kind === 'batch') throw new Error('deliverWithPolicy: batch targets are started, not delivered');
  const policy = target.onFailure;
  // A retry that comes due once the event is too old is not attempted: the last failure stands.
  if (policy && p.entry.attempts > 1 && p.now - p.firstDueAt >= policy.maximumEventAgeSeconds * 1000) {
    // lastError is the relay's `Name: message` of the previous failure.
    const [name, ...rest] = (p.entry.lastError ?? 'Error: the previous attempt failed').split(': ');
    const last = Object.assign(new Error(rest.join(': ')), { name: name ?? 'Error' });
    const retries = p.entry.attempts - 2;
    if (!policy.deadLetterQueue) throw new AbandonDelivery(`MaximumEventAgeInSeconds: ${p.entry.lastError ?? ''}`, last);
    await sendDeadLetter(p, policy.deadLetterQueue, 'MaximumEventAgeInSeconds', last, retries);
    return;
  }
  try {
    await deliverToTarget(p.deps, target, p.event, p.entry.key);
    return;
  } catch (error) {
    if (!policy) throw error;
    const condition = exhaustedCondition(policy, p.entry.attempts, p.now - p.firstDueAt);
    if (!condition) throw new RetryDelivery(error);
    if (!policy.deadLetterQueue) throw new AbandonDelivery(`${condition}: ${describe(error)}`, error);
    await sendDeadLetter(p, policy.deadLetterQueue, condition, error, p.entry.attempts - 1);
  }
}

/** A UUID (version-4 shape) derived from the invocation's outbox key: the same for every attempt. */
export function executionId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function sendDeadLetter(
  p: PolicyDelivery,
  queue: string,
  condition: ExhaustedCondition,
  error: unknown,
  retries: number,
): Promise<void> {
  const code = isSluiceError(error) ? error.code : error instanceof Error ? error.name : 'Error';
  const text = (value: string): MessageAttributeInput => ({ dataType: 'String', stringValue: value });
  try {
    await p.deps.queues.send(queue, {
      body: typeof p.event === 'string' ? p.event : JSON.stringify(p.event),
      messageAttributes: {
        ERROR_CODE: text(code),
        ERROR_MESSAGE: text((error instanceof Error ? error.message : String(error)).slice(0, 1024) || code),
        EXECUTION_ID: text(executionId(p.entry.key)),
        EXHAUSTED_RETRY_CONDITION: text(condition),
        // The whole event is sent or the send fails (the entry keeps why): never truncated.
        IS_PAYLOAD_TRUNCATED: text('false'),
        RETRY_ATTEMPTS: text(String(retries)),
        // The invocation's scheduled time, as <aws.scheduler.scheduled-time> gives it (whole seconds, UTC).
        SCHEDULED_TIME: text(new Date(Math.floor(p.scheduledTime / 1000) * 1000).toISOString().replace('.000Z', 'Z')),
        SCHEDULE_ARN: text(p.scheduleArn),
        TARGET_ARN: text(p.targetArn),
      },
    });
  } catch (dlqError) {
    // As Scheduler does when its DLQ cannot be written to: the event is dropped, and the reason kept.
    throw new AbandonDelivery(`${condition}: ${describe(error)}; the dead-letter queue ${queue} refused it: ${describe(dlqError)}`, dlqError);
  }
}
