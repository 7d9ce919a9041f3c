/**
 * Batches: create one from any item source, watch its progress, list and retry failed items, cancel it,
 * and await its completion, whose finalizer fires exactly once (see store/batch-store.ts for why).
 *
 * Creation streams: items are serialised and packed into chunk messages as they are read, sent ten
 * messages per store call, and counted; memory holds one send's worth of chunks whatever the size of the
 * batch. The batch is sealed with the creator's own count once the source is exhausted, which is what
 * allows it to complete. A creator that dies before sealing leaves the batch CREATING: cancel it.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionService } from '../functions/service.js';
import type { Clock } from '../model/clock.js';
import { SluiceError, invalidValue } from '../model/errors.js';
import { MAX_MESSAGE_SIZE_LIMIT } from '../queues/attributes.js';
import type { QueueService } from '../queues/service.js';
import { parseTarget } from '../schedules/target.js';
import { type BatchTarget, type FunctionTarget, type QueueTarget } from '../store/targets.js';
import { batchCatalogChannel, batchChannel, type StoredBatch } from '../store/batch-store.js';
import type { Store } from '../store/store.js';
import type { TriggerService } from '../triggers/service.js';
import { chunksOf, groupRetries, retryChunkText, type ChunkText } from './chunks.js';
import { BatchProcessing } from './processing.js';
import type { BatchSummary, FinalizerDelivery } from '../store/rules/batch-finalizer.js';
import {
  batchLimits,
  type BatchInput,
  type BatchItems,
  type BatchView,
  type FailedItemView,
} from './types.js';
import type { Service } from '../model/service.js';

export interface BatchServiceOptions {
  store: Store;
  clock: Clock;
  queues: QueueService;
  functions: FunctionService;
  triggers: TriggerService;
  onError: (error: unknown) => void;
}

/** Yields the items of a scheduled batch; registered by name, named by a schedule's batch target. */
export type BatchSource = (context: {
  schedule: string;
  scheduledTime: Date;
  input: unknown;
}) => BatchItems | Promise<BatchItems>;

const ID_FORM = /^[A-Za-z0-9_.:-]{1,128}$/;
const SEND_BATCH_ENTRIES = 10;
/** Unfinished batches looked at when one is created elsewhere (newest first: the new one is among them). */
const DISCOVER_LIMIT = 100;

interface Plan {
  id: string;
  queueName: string;
  itemsPerMessage: number;
}

export class BatchService implements Service {
  private readonly processing: BatchProcessing;
  private readonly sources = new Map<string, BatchSource>();
  private readonly filling = new Set<Promise<unknown>>();
  private readonly unsubscribeFunctions: () => void;
  private readonly unsubscribeCatalog: () => void;
  private stopped = false;

  constructor(private readonly options: BatchServiceOptions) {
    this.processing = new BatchProcessing({
      ...options,
      store: this.options.store,
      now: () => options.clock.now(),
    });
    // A processor declared (again, after a restart) resumes its unfinished batches.
    this.unsubscribeFunctions = options.functions.onChange(({ name, change }) => {
      if (BatchProcessing.isWorker(name)) return;
      if (change === 'deleted') this.processing.forget(name).catch(options.onError);
      else this.resume(name).catch(options.onError);
    });
    // A batch created by another process (a cron's batcher, another node): this process may declare its
    // processor without having built the worker, since it had no unfinished batch when it was declared.
    this.unsubscribeCatalog = options.store.notifier.subscribe(batchCatalogChannel, () => {
      if (!this.stopped) this.discover().catch(options.onError);
    });
  }

  /** Creates a batch and enqueues every item; resolves once the batch is sealed (its total is final). */
  async create(input: BatchInput): Promise<BatchView> {
    const plan = await this.begin(input);
    if (plan === 'exists')
      throw new SluiceError('ResourceConflictException', `id: the batch '${input.id}' already exists`, {
        field: 'id',
      });
    await this.fill(plan, input.items);
    return this.get(plan.id);
  }

  async get(id: string): Promise<BatchView> {
    const batch = await this.require(id);
    const entry =
      batch.finalizedAt === null ? undefined : await this.options.store.outboxGet({ key: `batch:${id}` });
    return view(batch, entry ? { deliveredAt: entry.deliveredAt, lastError: entry.lastError } : undefined);
  }

  /** Newest first. */
  async list(
    filter: { processor?: string; unfinished?: boolean; limit?: number } = {},
  ): Promise<BatchView[]> {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw invalidValue('limit', `${JSON.stringify(limit)} is invalid; must be an integer from 1 to 1000`);
    const batches = await this.options.store.batchList({
      limit,
      ...(filter.processor ? { processor: filter.processor } : {}),
      ...(filter.unfinished ? { unfinished: true } : {}),
    });
    return batches.map((b) => view(b));
  }

  /** Failed items in index order, `limit` (1-1000, default 100) after index `after`. */
  async failedItems(id: string, page: { after?: number; limit?: number } = {}): Promise<FailedItemView[]> {
    await this.require(id);
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw invalidValue('limit', `${JSON.stringify(limit)} is invalid; must be an integer from 1 to 1000`);
    const items = await this.options.store.batchFailedItems({ id, afterIndex: page.after ?? -1, limit });
    return items.map((f) => ({
      index: f.index,
      item: JSON.parse(f.item),
      error: f.error,
      attempts: f.attempts,
      failedAt: new Date(f.failedAt).toISOString(),
    }));
  }

  /**
   * Sends failed items to the processor again (up to `limit`, default all). They count as failed until
   * their retry succeeds; the batch's completion and its finalizer are not affected.
   */
  async retryFailed(id: string, options: { limit?: number } = {}): Promise<{ retried: number }> {
    const batch = await this.require(id);
    if (batch.cancelledAt !== null)
      throw new SluiceError('ResourceConflictException', `id: the batch '${id}' was cancelled`, {
        field: 'id',
      });
    const queueName = await this.processing.ensure(batch.processor);
    let retried = 0;
    let after = -1;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    while (retried < limit) {
      const page = await this.options.store.batchFailedItems({
        id,
        afterIndex: after,
        limit: Math.min(1000, limit - retried),
      });
      if (page.length === 0) break;
      const groups = groupRetries(page, batch.itemsPerMessage);
      const first = await this.options.store.batchReserveRetryChunks({ id, count: groups.length });
      if (first === undefined) throw missing(id);
      await this.send(
        queueName,
        groups.map((group, i) => retryChunkText(id, first - i, group)),
      );
      retried += page.length;
      after = page[page.length - 1]!.index;
    }
    return { retried };
  }

  /** Cancels an unfinished batch: items not done yet are dropped, and the finalizer fires (status CANCELLED). */
  async cancel(id: string): Promise<BatchView> {
    const result = await this.options.store.batchCancel({ id, now: this.options.clock.now() });
    if (result.outcome === 'missing') throw missing(id);
    if (result.outcome === 'finished')
      throw new SluiceError('ResourceConflictException', `id: the batch '${id}' has already finished`, {
        field: 'id',
      });
    return this.get(id);
  }

  /** Resolves with the finalizer's summary once the batch has finalized (at once if it has). */
  wait(id: string, options: { signal?: AbortSignal } = {}): Promise<BatchSummary> {
    const store = this.options.store;
    return new Promise<BatchSummary>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const check = async () => {
        const batch = await store.batchGet({ id });
        if (!batch) return finish(() => reject(missing(id)));
        if (batch.finalizedAt === null) return;
        const entry = await store.outboxGet({ key: `batch:${id}` });
        finish(() => resolve((JSON.parse(entry!.payload) as FinalizerDelivery).summary));
      };
      const onAbort = () => finish(() => reject(options.signal?.reason ?? new Error('aborted')));
      const unsubscribe = store.notifier.subscribe(
        batchChannel(id),
        () => void check().catch((e: unknown) => finish(() => reject(e))),
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      check().catch((e: unknown) => finish(() => reject(e)));
    });
  }

  /** Names an item source for schedules whose target is a batch. */
  registerSource(name: string, source: BatchSource): void {
    if (typeof name !== 'string' || name.length === 0)
      throw invalidValue('name', 'must be a non-empty string');
    this.sources.set(name, source);
  }

  /**
   * Starts the batch of a schedule tick. Its id is derived from the tick, so a tick delivered twice
   * finds its batch and starts nothing; resolves once the batch exists, while its items are enqueued.
   */
  async startScheduled(
    target: BatchTarget,
    context: { schedule: string; scheduledTime: number },
  ): Promise<void> {
    const source = this.sources.get(target.source);
    if (!source)
      throw new SluiceError(
        'ResourceNotFoundException',
        `source: no batch source '${target.source}' is registered`,
        { field: 'source' },
      );
    const scheduledTime = new Date(context.scheduledTime);
    const plan = await this.begin({
      id: `${context.schedule}:${scheduledTime.toISOString().replace(/[-:]|\.\d+/g, '')}`,
      processor: target.processor,
      items: [],
      ...(target.itemsPerMessage !== undefined ? { itemsPerMessage: target.itemsPerMessage } : {}),
      ...(target.finalizer ? { finalizer: target.finalizer } : {}),
      metadata: {
        schedule: context.schedule,
        scheduledTime: scheduledTime.toISOString(),
        input: target.input ?? null,
      },
    });
    if (plan === 'exists') return;
    const filling = Promise.resolve(
      source({ schedule: context.schedule, scheduledTime, input: target.input }),
    )
      .then((items) => this.fill(plan, items))
      .catch(this.options.onError);
    this.filling.add(filling);
    void filling.finally(() => this.filling.delete(filling));
  }

  /** Nothing to arm: a batch's chunks are processed by its trigger. */
  async start(): Promise<void> {}

  /** Stops creations under way (their batches stay CREATING) and stops following function changes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeFunctions();
    this.unsubscribeCatalog();
    await Promise.allSettled([...this.filling]);
  }

  // ---------------------------------------------------------------- internals

  private async begin(input: BatchInput): Promise<Plan | 'exists'> {
    if (!input || typeof input !== 'object') throw invalidValue('batch', 'must be an object');
    const id = input.id ?? randomUUID();
    if (typeof id !== 'string' || !ID_FORM.test(id))
      throw invalidValue(
        'id',
        `${JSON.stringify(id)} is invalid; must be 1-128 letters, digits, '-', '_', '.' or ':'`,
      );
    const itemsPerMessage = integerIn(
      'itemsPerMessage',
      input.itemsPerMessage ?? batchLimits.defaultItemsPerMessage,
      1,
      batchLimits.maxItemsPerMessage,
    );
    const maxAttempts = integerIn(
      'maxAttempts',
      input.maxAttempts ?? batchLimits.defaultMaxAttempts,
      1,
      batchLimits.maxMaxAttempts,
    );
    const finalizer =
      input.finalizer === undefined
        ? null
        : (parseTarget(input.finalizer, 'finalizer', false) as FunctionTarget | QueueTarget);
    if (typeof input.processor !== 'string') throw invalidValue('processor', 'must name a function');
    const queueName = await this.processing.ensure(input.processor);
    const created = await this.options.store.batchCreate({
      batch: {
        id,
        processor: input.processor,
        queueName,
        finalizer,
        itemsPerMessage,
        maxAttempts,
        metadata: input.metadata === undefined ? null : JSON.stringify(input.metadata),
        createdAt: this.options.clock.now(),
      },
    });
    return created === 'exists' ? 'exists' : { id, queueName, itemsPerMessage };
  }

  /** Enqueues the items and seals the batch; a failure cancels it (and rethrows). */
  private async fill(plan: Plan, items: BatchItems): Promise<void> {
    try {
      let total = 0;
      let chunks = 0;
      let group: ChunkText[] = [];
      let groupBytes = 0;
      const flush = async (): Promise<boolean> => {
        if (group.length === 0) return true;
        const sent = group;
        group = [];
        groupBytes = 0;
        await this.send(plan.queueName, sent);
        const items = sent.reduce((n, c) => n + c.count, 0);
        return (await this.options.store.batchEnqueued({ id: plan.id, items, chunks: sent.length })) === 'ok';
      };
      for await (const chunk of chunksOf({
        batchId: plan.id,
        items,
        itemsPerMessage: plan.itemsPerMessage,
      })) {
        if (this.stopped)
          throw new SluiceError(
            'ServiceUnavailable',
            `batch ${plan.id}: the engine stopped while its items were being enqueued`,
          );
        const size = Buffer.byteLength(chunk.body, 'utf8');
        if (group.length >= SEND_BATCH_ENTRIES || groupBytes + size > MAX_MESSAGE_SIZE_LIMIT) {
          if (!(await flush())) return; // cancelled while we were enqueueing
        }
        group.push(chunk);
        groupBytes += size;
        total += chunk.count;
        chunks++;
      }
      if (!(await flush())) return;
      await this.options.store.batchSeal({ id: plan.id, total, chunks, now: this.options.clock.now() });
    } catch (error) {
      if (!this.stopped)
        await this.options.store
          .batchCancel({ id: plan.id, now: this.options.clock.now() })
          .catch(() => undefined);
      throw error;
    }
  }

  private async send(queueName: string, chunks: ChunkText[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += SEND_BATCH_ENTRIES) {
      const entries = chunks.slice(i, i + SEND_BATCH_ENTRIES).map((c, j) => ({ id: `c${j}`, body: c.body }));
      const result = await this.options.queues.sendBatch(queueName, entries);
      const failure = result.failed[0];
      if (failure)
        throw new SluiceError(
          failure.code as SluiceError['code'],
          `a chunk could not be enqueued: ${failure.message}`,
        );
    }
  }

  private async resume(processor: string): Promise<void> {
    const unfinished = await this.options.store.batchList({ processor, unfinished: true, limit: 1 });
    if (unfinished.length > 0) await this.processing.ensure(processor);
  }

  /** Builds the worker of every processor this process declares that has unfinished batches. */
  private async discover(): Promise<void> {
    const unfinished = await this.options.store.batchList({ unfinished: true, limit: DISCOVER_LIMIT });
    for (const processor of new Set(unfinished.map((b) => b.processor)))
      if (!BatchProcessing.isWorker(processor) && this.options.functions.exists(processor))
        await this.processing.ensure(processor);
  }

  private async require(id: string): Promise<StoredBatch> {
    const batch = typeof id === 'string' ? await this.options.store.batchGet({ id }) : undefined;
    if (!batch) throw missing(id);
    return batch;
  }
}

function view(
  batch: StoredBatch,
  finalizer?: { deliveredAt: number | null; lastError: string | null },
): BatchView {
  const target = batch.finalizer && batch.finalizer.kind !== 'batch' ? batch.finalizer : null;
  return {
    id: batch.id,
    status: batch.status,
    processor: batch.processor,
    queue: batch.queueName,
    total: batch.total,
    succeeded: batch.succeeded,
    failed: batch.failed,
    cancelled: batch.cancelled,
    inFlight: Math.max(0, batch.total - batch.succeeded - batch.failed - batch.cancelled),
    itemsPerMessage: batch.itemsPerMessage,
    createdAt: new Date(batch.createdAt).toISOString(),
    finalizedAt: batch.finalizedAt === null ? null : new Date(batch.finalizedAt).toISOString(),
    finalizer: {
      target,
      deliveredAt: finalizer?.deliveredAt ? new Date(finalizer.deliveredAt).toISOString() : null,
      lastError: finalizer?.lastError ?? null,
    },
  };
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(
      field,
      `${JSON.stringify(value)} is invalid; must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function missing(id: string): SluiceError {
  return new SluiceError('ResourceNotFoundException', `id: the batch '${String(id)}' does not exist`, {
    field: 'id',
  });
}
