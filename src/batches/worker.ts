/**
 * The batch worker: the handler the batch queue's trigger invokes with each SQS batch of chunks. It runs
 * the processor function on the chunks that still need it and turns the outcome into chunk acks:
 *
 * - a chunk the processor finished: acked with the items it reported failed (`itemFailures`);
 * - a chunk it failed as a whole (threw, timed out, or listed it in `batchItemFailures`): returned to
 *   the queue for another attempt, or, at its `maxAttempts`-th receive, acked with all its items failed;
 * - a chunk already done (a redelivery after a crash between ack and delete), of a cancelled or unknown
 *   batch, or not a chunk at all: dropped without running the processor.
 *
 * All acks of one invocation are one store transaction, committed before the trigger deletes the
 * messages; a crash between the two redelivers chunks that are then recognised as done.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ExecutionContext } from '../functions/service.js';
import type { EngineEvents } from '../observability/events.js';
import type { Execution } from '../functions/types.js';
import type { ChunkAck, ItemFailure, StoredBatch } from '../store/batch-store.js';
import type { Store } from '../store/store.js';
import type { BatchChunk, BatchItemFailure, BatchProcessorResponse } from './types.js';

export interface WorkerDeps {
  store: Store;
  now: () => number;
  execute: (functionName: string, event: unknown, context: ExecutionContext) => Promise<Execution>;
  onError: (error: unknown) => void;
  /** Hears each item that failed alone (logged once, at error, with its stack). */
  events?: EngineEvents | undefined;
}

interface LiveChunk {
  record: SQSRecord;
  body: BatchChunk;
  batch: StoredBatch;
}

export async function runBatchChunks(
  deps: WorkerDeps,
  processor: string,
  event: SQSEvent,
): Promise<SQSBatchResponse> {
  const live = await liveChunks(deps, event.Records);
  if (live.length === 0) return { batchItemFailures: [] };
  const origin = {
    via: 'batch' as const,
    batch: [...new Set(live.map((c) => c.body.batchId))].join(','),
    items: live.flatMap((c) =>
      c.body.items.map((_, i) => `${c.body.batchId}#${c.body.indexes?.[i] ?? c.body.firstIndex + i}`),
    ),
    attempt: Math.max(...live.map((c) => Number(c.record.attributes.ApproximateReceiveCount) || 1)),
  };
  const execution = await deps.execute(processor, { Records: live.map((c) => c.record) }, { origin });
  const { wholeFailures, itemFailures, reason } = readOutcome(execution, live);
  const acks: ChunkAck[] = [];
  const retry: string[] = [];
  for (const chunk of live) {
    const { record, body, batch } = chunk;
    if (wholeFailures.has(record.messageId)) {
      if (Number(record.attributes.ApproximateReceiveCount) < batch.maxAttempts) retry.push(record.messageId);
      else
        acks.push(
          ackOf(
            body,
            body.items.map((_, i) => failureOf(body, i, reason)),
          ),
        );
      continue;
    }
    const failures: ItemFailure[] = [];
    const positions = positionsOf(body);
    for (const f of itemFailures.get(body.batchId) ?? []) {
      const position = positions.get(f.index);
      if (position === undefined) continue;
      failures.push(failureOf(body, position, f.error ?? 'the processor reported the item failed'));
      if (deps.events?.active)
        deps.events.emit({
          type: 'item-failure',
          function: processor,
          batch: body.batchId,
          index: f.index,
          attempt: Number(record.attributes.ApproximateReceiveCount) || 1,
          error: f.error ?? 'the processor reported the item failed',
          ...(typeof f.stack === 'string' ? { stack: f.stack } : {}),
          at: deps.now(),
        });
    }
    acks.push(ackOf(body, failures));
  }
  if (acks.length > 0) await deps.store.batchAckChunks({ acks, now: deps.now() });
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Parses the records and keeps the chunks that need the processor. */
async function liveChunks(deps: WorkerDeps, records: SQSRecord[]): Promise<LiveChunk[]> {
  const parsed: Array<{ record: SQSRecord; body: BatchChunk }> = [];
  for (const record of records) {
    const body = parseChunk(record.body);
    if (body) parsed.push({ record, body });
    else deps.onError(new Error(`batch worker: message ${record.messageId} is not a batch chunk; dropped`));
  }
  const byBatch = new Map<string, Array<{ record: SQSRecord; body: BatchChunk }>>();
  for (const entry of parsed) {
    const list = byBatch.get(entry.body.batchId);
    if (list) list.push(entry);
    else byBatch.set(entry.body.batchId, [entry]);
  }
  const live: LiveChunk[] = [];
  for (const [batchId, entries] of byBatch) {
    const batch = await deps.store.batchGet({ id: batchId });
    if (!batch || batch.cancelledAt !== null) continue;
    const done = new Set(
      await deps.store.batchChunksDone({ batchId, chunks: entries.map((e) => e.body.chunk) }),
    );
    for (const entry of entries) if (!done.has(entry.body.chunk)) live.push({ ...entry, batch });
  }
  return live;
}

function readOutcome(execution: Execution, live: LiveChunk[]) {
  const wholeFailures = new Set<string>();
  const itemFailures = new Map<string, BatchItemFailure[]>();
  if (!execution.ok) {
    for (const chunk of live) wholeFailures.add(chunk.record.messageId);
    return {
      wholeFailures,
      itemFailures,
      reason: `${execution.error.errorType}: ${execution.error.errorMessage}`,
    };
  }
  const response = (execution.result ?? {}) as BatchProcessorResponse;
  const ids = new Set(live.map((c) => c.record.messageId));
  let malformed = false;
  for (const failure of Array.isArray(response.batchItemFailures) ? response.batchItemFailures : []) {
    if (failure && typeof failure.itemIdentifier === 'string' && ids.has(failure.itemIdentifier))
      wholeFailures.add(failure.itemIdentifier);
    else malformed = true;
  }
  if (malformed) {
    // As Lambda: an identifier that is not a message of the batch fails the whole batch.
    for (const id of ids) wholeFailures.add(id);
    return { wholeFailures, itemFailures, reason: 'the batch response named an unknown itemIdentifier' };
  }
  for (const failure of Array.isArray(response.itemFailures) ? response.itemFailures : []) {
    if (!failure || typeof failure.batchId !== 'string' || !Number.isInteger(failure.index)) continue;
    const list = itemFailures.get(failure.batchId);
    if (list) list.push(failure);
    else itemFailures.set(failure.batchId, [failure]);
  }
  return { wholeFailures, itemFailures, reason: 'the processor reported the message failed' };
}

function parseChunk(text: string): BatchChunk | undefined {
  try {
    const body = JSON.parse(text) as BatchChunk;
    if (
      typeof body?.batchId === 'string' &&
      Number.isInteger(body.chunk) &&
      Number.isInteger(body.firstIndex) &&
      Array.isArray(body.items)
    )
      return body;
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

/** Item index in the batch → position in the chunk. */
function positionsOf(body: BatchChunk): Map<number, number> {
  const positions = new Map<number, number>();
  body.items.forEach((_, i) => positions.set(body.indexes ? body.indexes[i]! : body.firstIndex + i, i));
  return positions;
}

function failureOf(body: BatchChunk, position: number, error: string): ItemFailure {
  return {
    index: body.indexes ? body.indexes[position]! : body.firstIndex + position,
    item: JSON.stringify(body.items[position] ?? null),
    error: error.slice(0, 4096),
  };
}

function ackOf(body: BatchChunk, failures: ItemFailure[]): ChunkAck {
  const ack: ChunkAck = { batchId: body.batchId, chunk: body.chunk, items: body.items.length, failures };
  if (body.indexes) ack.retriedIndexes = body.indexes;
  return ack;
}
