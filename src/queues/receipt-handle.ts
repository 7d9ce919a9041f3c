/**
 * A receipt handle names one receive of one message: the queue, the message's sequence and the token
 * of that receive. A later receive of the same message gets a new token, which is how a stale handle is
 * told apart from the current one. The handle is opaque to callers.
 */
import { randomBytes } from 'node:crypto';
import { SluiceError } from '../model/errors.js';

export interface ReceiptHandle {
  queueId: number;
  seq: number;
  token: string;
}

const PREFIX = 'sl1';

const TOKEN_BYTES = 12;
// Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 341 tokens instead of one per token
// (a receive or a trigger batch each takes one). The tokens are as unguessable; none is handed out twice.
const POOL_BYTES = TOKEN_BYTES * 341;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function newReceiptToken(): string {
  if (poolOffset + TOKEN_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + TOKEN_BYTES);
  poolOffset += TOKEN_BYTES;
  return token;
}

export function encodeReceiptHandle(handle: ReceiptHandle): string {
  return Buffer.from(`${PREFIX}:${handle.queueId}:${handle.seq}:${handle.token}`, 'utf8').toString('base64url');
}

/** Parses a handle given for `queueId`; a malformed handle or one of another queue is ReceiptHandleIsInvalid. */
export function decodeReceiptHandle(text: unknown, queueId: number, field = 'ReceiptHandle'): ReceiptHandle {
  const invalid = (why: string) =>
    new SluiceError('ReceiptHandleIsInvalid', `${field}: the receipt handle is invalid (${why})`, { field });
  if (typeof text !== 'string' || text.length === 0 || text.length > 1024) throw invalid('it must be a non-empty string');
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
  if (parts.length !== 4 || parts[0] !== PREFIX) throw invalid('it was not issued by Sluice');
  const handleQueue = Number(parts[1]);
  const seq = Number(parts[2]);
  const token = parts[3]!;
  if (!Number.isSafeInteger(handleQueue) || !Number.isSafeInteger(seq) || token.length === 0) throw invalid('it is malformed');
  if (handleQueue !== queueId) throw invalid('it belongs to another queue');
  return { queueId: handleQueue, seq, token };
}
