/**
 * How a table's change stream is cut into shards, and how shards and sequence numbers are named.
 *
 * A partition key always lands in the same shard: FNV-1a (32-bit) of its encoded bytes, modulo the
 * table's fixed shard count. Computed here in TypeScript, so every backend and every node agrees.
 * Sequence numbers are per-shard integers shown as 21-digit strings, DynamoDB's width, so they also
 * compare correctly as strings.
 */
import { invalidValue } from '../model/errors.js';

export function shardOf(pk: Buffer, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < pk.length; i++) {
    hash ^= pk[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}

export function shardIdOf(shard: number): string {
  return `shardId-${String(shard).padStart(20, '0')}`;
}

export function shardFromId(shardId: string, shardCount: number): number {
  const match = /^shardId-(\d{20})$/.exec(shardId);
  const shard = match ? Number(match[1]) : -1;
  if (shard < 0 || shard >= shardCount)
    throw invalidValue('ShardId', `'${shardId}' is not a shard of this stream`);
  return shard;
}

export function formatSequenceNumber(seq: number): string {
  return String(seq).padStart(21, '0');
}

/** The integer of a sequence number string, or undefined when it is not one. */
export function parseSequenceNumber(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^\d{1,21}$/.test(text)) return undefined;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : undefined;
}
