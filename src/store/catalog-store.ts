/**
 * The cluster-wide catalog: definitions created through any node's API (event source mappings, functions'
 * settings, ...) stored once, so every node runs the same ones. An entry is a JSON document under a kind
 * and a name, with a revision that grows by one at every write; the feature that owns a kind validates
 * the document before it is written (src/catalog/). Every write publishes on `catalogChannel`, through
 * LISTEN/NOTIFY on PostgreSQL, and nodes re-read the catalog when they hear it: nobody polls.
 *
 * An entry may carry an attachment: bytes too large to sit in its JSON (a function's code package, the
 * zip CreateFunction uploads), kept beside it (migration 12) with their SHA-256. The attachment is
 * written in the same transaction as the entry (a refused write stores neither), stays until a later
 * write replaces it, and is deleted with the entry; so every node that reads an entry can fetch the
 * bytes it names. The bytes are content-addressed (migration 24): kept once per SHA-256 however many
 * entries attach them (a Lambda function and each version published from unchanged code), and removed
 * in the transaction that removes or replaces their last reference. A write attaching bytes and the
 * removal of their last other reference may run at once: whichever commits second finds what the first
 * did (on PostgreSQL both take the blob's row lock before deciding), so bytes an entry names are never
 * removed.
 */

import type { QueueSettings } from './queue-settings.js';
import type { TableDefinition } from './table-definition.js';
import type { ScheduleStore, StoredSchedule } from './schedule-store.js';

export const catalogChannel = 'catalog';

export interface CatalogEntry {
  kind: string;
  name: string;
  /** The definition as JSON text. */
  definition: string;
  /** Starts at 1; each write adds 1. */
  revision: number;
  modifiedAt: number;
}

/** The `catalog_entries` row both backends read (migration 11). */
export interface CatalogRow {
  kind: string;
  name: string;
  definition: string;
  revision: number;
  modified_at: number;
}

export function catalogEntryOf(row: CatalogRow): CatalogEntry {
  return { kind: row.kind, name: row.name, definition: row.definition, revision: row.revision, modifiedAt: row.modified_at };
}

/** Bytes kept with a catalog entry; `sha256` is the hex digest of `content`. */
export interface CatalogAttachment {
  sha256: string;
  content: Buffer;
}

/**
 * One write of `catalogWrite`; an attachment is written with its entry. In a batch it may name bytes
 * the store already keeps by their digest alone (PublishVersion attaches `$LATEST`'s zip so, without
 * reading it): the batch then fails, naming kind `attachment` and the digest, if they are not kept.
 */
export interface CatalogPutInput {
  kind: string;
  name: string;
  definition: string;
  modifiedAt: number;
  ifRevision?: number | null;
  attachment?: CatalogAttachment | { sha256: string; content?: undefined };
}

/** One delete of `catalogWrite`; an absent entry fails its condition. */
export interface CatalogDeleteInput {
  kind: string;
  name: string;
  ifRevision?: number;
}

export type CatalogWriteOutcome = { written: true } | { written: false; failed: { kind: string; name: string } };

/**
 * Schedule rows `catalogWrite` writes in its transaction (`sluice apply`): a create fails its condition
 * when the name exists, an update or a delete when it does not (the failure names kind `schedule`).
 */
export interface CatalogScheduleWrites {
  creates: StoredSchedule[];
  updates: Array<Parameters<ScheduleStore['scheduleUpdate']>[0]>;
  deletes: string[];
}

/**
 * Queue rows `catalogWrite` writes in its transaction (`sluice apply`): a create fails its condition when
 * the name exists or was deleted less than `nameReuseDelayMs` ago (SQS's rule), an update or a delete
 * when it does not exist (the failure names kind `queue`). A delete removes the queue's messages, as
 * DeleteQueue does.
 */
export interface CatalogQueueWrites {
  creates: Array<{ name: string; fifo: boolean; settings: QueueSettings; tags: Record<string, string> }>;
  updates: Array<{ name: string; settings: QueueSettings; tags: Record<string, string> }>;
  deletes: string[];
  now: number;
  nameReuseDelayMs: number;
}

/**
 * Table rows `catalogWrite` writes in its transaction (`sluice apply`): a create fails its condition when
 * the name exists; an update (a compare-and-set on the definition read, `expected`, with no index change)
 * or a delete (with the table's items, stream and checkpoints) when it does not (the failure names kind
 * `table`).
 */
export interface CatalogTableWrites {
  creates: Array<{ name: string; definition: TableDefinition }>;
  /**
   * Compare-and-set updates. With `indexesChanged` (`sluice apply` adding or removing a global index), as
   * TableStore.tableUpdate: item writes in progress are waited for, `indexVersion` is bumped, the entries
   * of `dropIndexes` deleted, and the backfill lease rows kept in step with the definition (an added
   * index's row written free, for any node's watcher to take).
   */
  updates: Array<{ name: string; definition: TableDefinition; expected: TableDefinition; indexesChanged?: boolean; dropIndexes?: string[] }>;
  deletes: string[];
  now: number;
}

export function hasTableWrites(writes: CatalogTableWrites | undefined): boolean {
  return writes !== undefined && writes.creates.length + writes.updates.length + writes.deletes.length > 0;
}

/** Whether a batch may change index backfill leases (its writers then publish their channel). */
export function hasBackfillWrites(writes: CatalogTableWrites | undefined): boolean {
  return writes !== undefined && (writes.deletes.length > 0 || writes.updates.some((update) => update.indexesChanged === true));
}

/** Whether a batch changes any queue (its writers then publish the queues' channel). */
export function hasQueueWrites(writes: CatalogQueueWrites | undefined): boolean {
  return writes !== undefined && writes.creates.length + writes.updates.length + writes.deletes.length > 0;
}

export type CatalogPutOutcome = { written: true; entry: CatalogEntry } | { written: false; current: CatalogEntry | null };

export interface CatalogStore {
  /**
   * Writes an entry. `ifRevision`: undefined writes whatever is there; null writes only if the entry is
   * absent; a number only if the entry is at that revision. Not written: the entry as it is (or null).
   */
  catalogPut(p: {
    kind: string;
    name: string;
    definition: string;
    modifiedAt: number;
    ifRevision?: number | null;
    /** Replaces the entry's attachment, in the same transaction; absent keeps the one it has. */
    attachment?: CatalogAttachment;
  }): Promise<CatalogPutOutcome>;
  /** Deletes an entry and its attachment (only at `ifRevision` when given); whether one was deleted. */
  catalogDelete(p: { kind: string; name: string; ifRevision?: number }): Promise<boolean>;
  /** Every entry of `kind` (every entry when absent), by kind then name. */
  catalogList(p: { kind?: string }): Promise<CatalogEntry[]>;
  /**
   * Several writes and deletes in one transaction, each under its own condition (`ifRevision` as in
   * catalogPut and catalogDelete): all are made, or none when one condition fails (that entry is
   * named). One wake-up on the catalog channel for the whole batch. `sluice apply` uses it.
   */
  catalogWrite(p: { puts: CatalogPutInput[]; deletes: CatalogDeleteInput[]; schedules?: CatalogScheduleWrites; queues?: CatalogQueueWrites; tables?: CatalogTableWrites }): Promise<CatalogWriteOutcome>;
  /** The entry's attachment, if it has one. */
  catalogAttachment(p: { kind: string; name: string }): Promise<CatalogAttachment | undefined>;
  /** How many entries have an attachment, and the distinct bytes kept for them (tests, diagnostics). */
  catalogAttachmentStats(): Promise<{ references: number; blobs: number; bytes: number }>;
}

/** Whether a batch changes any schedule (its writers then publish the schedules' channel). */
export function hasScheduleWrites(writes: CatalogScheduleWrites | undefined): boolean {
  return writes !== undefined && writes.creates.length + writes.updates.length + writes.deletes.length > 0;
}
