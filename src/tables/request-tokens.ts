/**
 * TransactWriteItems' ClientRequestToken: for 10 minutes after a transaction with a token succeeded, the
 * same token with the same actions succeeds again without applying them, and with other actions fails
 * (IdempotentParameterMismatchException); while the first is still being applied, a repeat fails with
 * TransactionInProgressException. A failed transaction leaves no token behind, so a retry applies it.
 * Kept in memory, per engine.
 */
import { SluiceError } from '../model/errors.js';
import type { TransactWriteAction } from './types.js';

export const TOKEN_LIFETIME_MS = 10 * 60_000;

/** The actions as text, sets and binary values included, for comparing two requests. */
export function fingerprintOf(actions: TransactWriteAction[]): string {
  return JSON.stringify(actions, (_key, value: unknown) => {
    if (value instanceof Set) return { $set: [...(value as Set<unknown>)] };
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
    return value;
  });
}

interface Entry {
  fingerprint: string;
  at: number;
  done: boolean;
}

export class RequestTokens {
  private readonly entries = new Map<string, Entry>();

  async run(token: string, fingerprint: string, now: number, apply: () => Promise<void>): Promise<void> {
    this.forgetBefore(now - TOKEN_LIFETIME_MS);
    const entry = this.entries.get(token);
    if (entry) {
      if (entry.fingerprint !== fingerprint) {
        throw new SluiceError(
          'IdempotentParameterMismatchException',
          'The request uses the same client token as a previous, but non-identical request.',
          { field: 'ClientRequestToken' },
        );
      }
      if (!entry.done) {
        throw new SluiceError(
          'TransactionInProgressException',
          'The transaction with the given request token is already in progress.',
          { field: 'ClientRequestToken' },
        );
      }
      return;
    }
    const fresh: Entry = { fingerprint, at: now, done: false };
    this.entries.set(token, fresh);
    try {
      await apply();
      fresh.done = true;
    } catch (error) {
      this.entries.delete(token);
      throw error;
    }
  }

  private forgetBefore(cutoff: number): void {
    // Entries are in insertion order, which is time order.
    for (const [token, entry] of this.entries) {
      if (entry.at >= cutoff) break;
      if (entry.done) this.entries.delete(token);
    }
  }
}
