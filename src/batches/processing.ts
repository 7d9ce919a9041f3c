/**
 * The machinery that runs a processor over its batches, one set per processor function, made on first
 * use and on restart when the processor is declared again:
 * - a standard queue `sluice-batch-<processor>` (1 MiB messages, 14-day retention, a visibility timeout
 *   of twice the worker's timeout) that carries the chunks of every batch of this processor;
 * - an in-process worker function `sluice-batch-<processor>` (worker.ts) that runs the processor;
 * - a trigger (SQS event source mapping) from the queue to the worker, 10 chunks per invocation, with
 *   partial batch responses, scaling with the backlog like any trigger.
 *
 * The worker takes its concurrency slots as the processor (`shareSlots`): the processor's reserved
 * concurrency bounds its batches together with its direct invocations, and a reservation of 0 holds
 * the batches back (throttled, as Lambda does) until it is raised.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import type { FunctionService } from '../functions/service.js';
import { SluiceError } from '../model/errors.js';
import type { QueueService } from '../queues/service.js';
import type { Store } from '../store/store.js';
import type { TriggerService } from '../triggers/service.js';
import { runBatchChunks } from './worker.js';

export interface ProcessingDeps {
  store: Store;
  now: () => number;
  queues: QueueService;
  functions: FunctionService;
  triggers: TriggerService;
  onError: (error: unknown) => void;
}

const PREFIX = 'sluice-batch-';
const MAX_FUNCTION_NAME = 64;
const RETENTION_SECONDS = 1_209_600;
const CHUNKS_PER_INVOCATION = 10;

export class BatchProcessing {
  private readonly ready = new Map<string, Promise<string>>();

  constructor(private readonly deps: ProcessingDeps) {}

  static queueName(processor: string): string {
    return `${PREFIX}${processor}`;
  }

  static workerName(processor: string): string {
    const name = `${PREFIX}${processor}`;
    return name.length <= MAX_FUNCTION_NAME
      ? name
      : `${PREFIX}${createHash('sha256').update(processor).digest('hex').slice(0, 24)}`;
  }

  static isWorker(functionName: string): boolean {
    return functionName.startsWith(PREFIX);
  }

  /** Makes sure the queue, worker and trigger of `processor` exist; returns the queue's name. */
  ensure(processor: string): Promise<string> {
    if (!this.deps.functions.exists(processor)) {
      return Promise.reject(
        new SluiceError(
          'ResourceNotFoundException',
          `processor: the function '${processor}' does not exist; create it before its batches`,
          { field: 'processor' },
        ),
      );
    }
    let ready = this.ready.get(processor);
    if (!ready) {
      ready = this.build(processor);
      this.ready.set(processor, ready);
      ready.catch(() => this.ready.delete(processor));
    }
    return ready;
  }

  /** The processor was deleted: its worker and trigger go (the queue and its chunks stay for its return). */
  async forget(processor: string): Promise<void> {
    if (!this.ready.delete(processor)) return;
    const worker = BatchProcessing.workerName(processor);
    for (const trigger of this.deps.triggers.list({ functionName: worker }))
      await this.deps.triggers.delete(trigger.uuid);
    if (this.deps.functions.exists(worker)) await this.deps.functions.delete(worker);
  }

  private async build(processor: string): Promise<string> {
    const { queues, functions, triggers } = this.deps;
    const definition = functions.definition(processor)!;
    const queueName = BatchProcessing.queueName(processor);
    const workerName = BatchProcessing.workerName(processor);
    const workerTimeout = Math.min(900, definition.timeoutSeconds + 5);
    const attributes = {
      VisibilityTimeout: Math.min(43_200, Math.max(30, workerTimeout * 2)),
      MaximumMessageSize: 1_048_576,
      MessageRetentionPeriod: RETENTION_SECONDS,
    };
    if (await queues.exists(queueName)) await queues.setAttributes(queueName, attributes);
    else await queues.create(queueName, attributes);

    const handler = (event: SQSEvent) =>
      runBatchChunks(
        {
          store: this.deps.store,
          now: this.deps.now,
          execute: (name, e, context) => functions.execute(name, e, undefined, context),
          events: functions.events,
          onError: this.deps.onError,
        },
        processor,
        event,
      );
    if (functions.exists(workerName)) await functions.update(workerName, { handler, timeout: workerTimeout });
    else
      await functions.create({ name: workerName, handler, timeout: workerTimeout, execution: 'in-process' });

    functions.concurrency.shareSlots(workerName, processor);

    const existing = triggers.list({ queue: queueName, functionName: workerName })[0];
    if (existing) await triggers.update(existing.uuid, { scalingConfig: null });
    else {
      await triggers.create({
        queue: queueName,
        functionName: workerName,
        batchSize: CHUNKS_PER_INVOCATION,
        functionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    return queueName;
  }
}
