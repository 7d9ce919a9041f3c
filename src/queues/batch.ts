/** The request-level rules every SQS batch shares: 1-10 entries with distinct, well-formed Ids. */
import { SluiceError } from '../model/errors.js';

const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
export const MAX_BATCH_ENTRIES = 10;

export function validateBatchEntries(entries: unknown, field: string): asserts entries is Array<{ id: string }> {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new SluiceError('EmptyBatchRequest', `${field}: a batch needs at least one entry`, { field });
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new SluiceError(
      'TooManyEntriesInBatchRequest',
      `${field}: ${entries.length} entries; a batch has at most ${MAX_BATCH_ENTRIES}`,
      { field },
    );
  }
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !ENTRY_ID.test(id)) {
      throw new SluiceError(
        'InvalidBatchEntryId',
        `${field}[${index}].Id: must be 1-80 characters of letters, digits, '-' and '_'`,
        { field: `${field}[${index}].Id` },
      );
    }
    if (seen.has(id)) {
      throw new SluiceError('BatchEntryIdsNotDistinct', `${field}[${index}].Id: '${id}' is used by two entries`, {
        field: `${field}[${index}].Id`,
      });
    }
    seen.add(id);
  });
}

/** Runs `work` on each entry, turning a SluiceError into a per-entry failure as SQS's batch APIs do. */
export function entryFailure(id: string, error: unknown): { id: string; code: string; message: string; senderFault: boolean } {
  if (error instanceof SluiceError) return { id, code: error.code, message: error.message, senderFault: error.senderFault };
  throw error;
}
