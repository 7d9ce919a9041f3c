/**
 * TransactWriteItems' ClientRequestToken: for 10 minutes after a transaction with a token succeeded, the
 * same token with the same actions succeeds again without applying them, and with other actions fails
 * (IdempotentParameterMismatchException). The token is kept in the store and taken in the transaction
 * that applies the actions (TableStore.itemWrite's requestToken), so a retry reaching any node of a
 * cluster, or this one after a restart, is recognized. A transaction that fails leaves no token behind,
 * so a retry applies it. A repeat that arrives while the first is still being applied gets
 * TransactionInProgressException, as DynamoDB answers ("The transaction with the given request token is
 * already in progress"): on the same node the table service sees the first in flight; across nodes the
 * PostgreSQL store holds a lock on the token for the first one's transaction. The client retries, and
 * its retry after the first committed succeeds without applying again.
 */
import { createHash } from 'node:crypto';
import { SluiceError } from '../model/errors.js';
import type { RequestToken } from '../store/table-store.js';
import { NumberValue } from './expressions/index.js';
import type { TransactWriteAction } from './types.js';

export const TOKEN_LIFETIME_MS = 10 * 60_000;

/** The actions as text, sets, binary and exact numbers included, for comparing two requests. */
export function fingerprintOf(actions: TransactWriteAction[]): string {
  return JSON.stringify(actions, (_key, value: unknown) => {
    if (value instanceof Set) return { $set: [...(value as Set<unknown>)] };
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
    if (value instanceof NumberValue) return { $number: value.value };
    return value;
  });
}

/** The store's form of a token for a request made now: a digest of the actions, and its window. */
export function requestTokenOf(token: string, actions: TransactWriteAction[], now: number): RequestToken {
  return {
    token,
    fingerprint: createHash('sha256').update(fingerprintOf(actions)).digest('base64'),
    notBefore: now - TOKEN_LIFETIME_MS,
  };
}

export function tokenMismatch(): SluiceError {
  return new SluiceError(
    'IdempotentParameterMismatchException',
    'The request uses the same client token as a previous, but non-identical request.',
    { field: 'ClientRequestToken' },
  );
}

export function transactionInProgress(): SluiceError {
  return new SluiceError('TransactionInProgressException', 'The transaction with the given request token is already in progress.', {
    field: 'ClientRequestToken',
  });
}
