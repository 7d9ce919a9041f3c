/**
 * Delivers an event to a function or queue target; used by schedule ticks and batch finalizers (both
 * through the outbox relay, which retries what throws here).
 * - A function is invoked synchronously, so an entry is marked delivered only once the handler ran; a
 *   function error throws (the relay retries it, as Lambda retries an asynchronous event), and so does
 *   a throttle.
 * - A queue is sent the body. On a FIFO queue the deduplication id is derived from the outbox key, so a
 *   redelivery within SQS's five-minute window is dropped by the queue itself.
 */
import { createHash } from 'node:crypto';
import type { FunctionService } from '../functions/service.js';
import { SluiceError } from '../model/errors.js';
import type { QueueService } from '../queues/service.js';
import type { FunctionTarget, QueueTarget } from '../store/targets.js';

export interface DeliveryDeps {
  queues: QueueService;
  functions: FunctionService;
}

export async function deliverToTarget(
  deps: DeliveryDeps,
  target: FunctionTarget | QueueTarget,
  event: unknown,
  deliveryKey: string,
): Promise<void> {
  if (target.kind === 'function') {
    const response = await deps.functions.invoke(target.functionName, event, {
      via: 'schedule',
      schedule: deliveryKey,
    });
    if (response.functionError) {
      const payload = response.payload as { errorType?: string; errorMessage?: string };
      throw new SluiceError(
        'InternalFailure',
        `function ${target.functionName} failed: ${payload.errorType ?? 'Error'}: ${payload.errorMessage ?? ''}`,
      );
    }
    return;
  }
  const fifo = target.queue.endsWith('.fifo');
  await deps.queues.send(target.queue, {
    body: typeof event === 'string' ? event : JSON.stringify(event),
    ...(fifo
      ? {
          messageGroupId: target.messageGroupId ?? 'sluice',
          messageDeduplicationId: createHash('sha256').update(deliveryKey).digest('hex'),
        }
      : target.messageGroupId !== undefined
        ? { messageGroupId: target.messageGroupId }
        : {}),
  });
}
