/**
 * `processBatchItems(fn)`: writes a batch processor from a function of one item. The handler it returns
 * takes the SQSEvent of chunks, calls `fn` for every item (up to `concurrency` at a time within a
 * chunk), and reports each item that threw in `itemFailures`, so one bad item fails alone.
 */
import type { SQSEvent } from 'aws-lambda';
import type { BatchChunk, BatchItemFailure, BatchProcessorResponse } from './types.js';

export interface BatchItemContext {
  batchId: string;
  /** The item's index in the batch. */
  index: number;
}

export function processBatchItems<T = unknown>(
  fn: (item: T, context: BatchItemContext) => unknown,
  options: { concurrency?: number } = {},
): (event: SQSEvent) => Promise<BatchProcessorResponse> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  return async (event) => {
    const itemFailures: BatchItemFailure[] = [];
    for (const record of event.Records) {
      const chunk = JSON.parse(record.body) as BatchChunk<T>;
      const indexOf = (i: number) => (chunk.indexes ? chunk.indexes[i]! : chunk.firstIndex + i);
      let next = 0;
      const lane = async () => {
        while (next < chunk.items.length) {
          const i = next++;
          try {
            await fn(chunk.items[i]!, { batchId: chunk.batchId, index: indexOf(i) });
          } catch (error) {
            itemFailures.push({
              batchId: chunk.batchId,
              index: indexOf(i),
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
              ...(error instanceof Error && error.stack ? { stack: error.stack.slice(0, 8192) } : {}),
            });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, chunk.items.length) }, lane));
    }
    return { itemFailures };
  };
}
