/**
 * Turns an item source into chunk message bodies without holding more than one chunk in memory: the
 * source is consumed lazily, each item serialised once, and a chunk is cut at `itemsPerMessage` items
 * or before it would pass `maxChunkBytes`.
 */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { invalidValue } from '../model/errors.js';
import { batchLimits, type BatchItems } from './types.js';

export interface ChunkText {
  chunk: number;
  firstIndex: number;
  /** Items in the chunk. */
  count: number;
  /** The message body: a BatchChunk as JSON. */
  body: string;
}

/** Iterates any item source as items: arrays, iterables, async iterables, object streams, NDJSON byte streams. */
export async function* itemsOf(source: BatchItems): AsyncGenerator<unknown> {
  if (source instanceof Readable && !source.readableObjectMode) {
    let line = 0;
    for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      try {
        yield JSON.parse(text);
      } catch {
        throw invalidValue('items', `line ${line} of the NDJSON stream is not JSON`);
      }
    }
    return;
  }
  if (source && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    yield* source as AsyncIterable<unknown>;
    return;
  }
  if (
    source &&
    typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function' &&
    typeof source !== 'string'
  ) {
    yield* source as Iterable<unknown>;
    return;
  }
  throw invalidValue('items', 'must be an array, an iterable, an async iterable or a stream');
}

/** Packs items into chunk bodies, numbering chunks from 0 and items from 0. */
export async function* chunksOf(params: {
  batchId: string;
  items: BatchItems;
  itemsPerMessage: number;
}): AsyncGenerator<ChunkText> {
  const head = (chunk: number, firstIndex: number) =>
    `{"batchId":${JSON.stringify(params.batchId)},"chunk":${chunk},"firstIndex":${firstIndex},"items":[`;
  let chunk = 0;
  let index = 0;
  let parts: string[] = [];
  let bytes = 0;
  let firstIndex = 0;
  const cut = (): ChunkText => {
    const text: ChunkText = {
      chunk,
      firstIndex,
      count: parts.length,
      body: `${head(chunk, firstIndex)}${parts.join(',')}]}`,
    };
    chunk++;
    parts = [];
    bytes = 0;
    firstIndex = index;
    return text;
  };
  for await (const item of itemsOf(params.items)) {
    const text = JSON.stringify(item === undefined ? null : item);
    const size = Buffer.byteLength(text, 'utf8') + 1;
    if (size > batchLimits.maxChunkBytes) {
      throw invalidValue(
        `items[${index}]`,
        `the item is ${size} bytes as JSON; an item may be at most ${batchLimits.maxChunkBytes} bytes`,
      );
    }
    if (
      parts.length > 0 &&
      (parts.length >= params.itemsPerMessage || bytes + size > batchLimits.maxChunkBytes)
    )
      yield cut();
    parts.push(text);
    bytes += size;
    index++;
  }
  if (parts.length > 0) yield cut();
}

export interface RetryEntry {
  index: number;
  /** The item as JSON text, as stored with its failure. */
  item: string;
}

/** Groups retried items into chunks of at most `itemsPerMessage` items and `maxChunkBytes` bytes. */
export function groupRetries(items: RetryEntry[], itemsPerMessage: number): RetryEntry[][] {
  const groups: RetryEntry[][] = [];
  let group: RetryEntry[] = [];
  let bytes = 0;
  for (const entry of items) {
    const size = Buffer.byteLength(entry.item, 'utf8') + 12;
    if (group.length > 0 && (group.length >= itemsPerMessage || bytes + size > batchLimits.maxChunkBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(entry);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The body of a retry chunk: its items keep their own indexes. */
export function retryChunkText(batchId: string, chunk: number, group: RetryEntry[]): ChunkText {
  const indexes = group.map((g) => g.index);
  return {
    chunk,
    firstIndex: indexes[0]!,
    count: group.length,
    body: `{"batchId":${JSON.stringify(batchId)},"chunk":${chunk},"firstIndex":${indexes[0]},"indexes":[${indexes.join(',')}],"items":[${group.map((g) => g.item).join(',')}]}`,
  };
}
