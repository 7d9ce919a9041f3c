/**
 * The table and stream half of the store: one domain operation per method, one transaction each.
 *
 * Items are opaque to a backend: it keeps each one as text under an encoded primary key (`EncodedKey`,
 * bytes whose unsigned order is DynamoDB's key order, see tables/keys.ts) and compares keys as bytes
 * (SQLite BLOB, PostgreSQL bytea). Every rule about an item (conditions, updates, sizes, stream images)
 * is decided in TypeScript: a write carries a `decide` function that the backend calls inside its
 * transaction, between reading the current item and writing the new one. `decide` is synchronous and
 * pure, so a backend that retries a transaction (PostgreSQL after a serialization failure or a unique
 * violation on a concurrent insert of the same key) may call it again.
 *
 * Ordering assumptions a backend must keep (the stream trigger relies on them):
 * - sequence numbers come from a per-shard counter row (`stream_shards.last_seq`) incremented inside
 *   the writing transaction, so they grow by one within a shard, and the counter row's lock makes the
 *   records of a shard become visible in sequence order: a reader that saw seq n never later finds a
 *   committed record below n. (A database-wide SEQUENCE would break this under concurrent commits.)
 * - a transaction's records get consecutive sequence numbers in the order of its writes.
 * - reads of a shard return records in ascending sequence order.
 */
import type { TableDefinition } from './table-definition.js';
import type { EncodedKey } from './table-definition.js';

export interface StoredTable {
  id: number;
  name: string;
  definition: TableDefinition;
  createdAt: number;
  modifiedAt: number;
  /**
   * Grows whenever the set of secondary indexes changes. A write carries the version its index entries
   * were computed for; the store refuses it (`tableChanged`) when the table has moved on, so a writer
   * holding an old definition never leaves an index without its entry.
   */
  indexVersion: number;
}

/** An item read by its key: its text (tables/item-codec.ts) and its DynamoDB size. */
export interface StoredItem {
  item: string;
  size: number;
}

/** An item as stored: its encoded key, its text (tables/item-codec.ts) and its DynamoDB size. */
export interface ItemRow {
  pk: Buffer;
  sk: Buffer;
  item: string;
  size: number;
}

export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** A stream record as a write produces it; the store adds the shard, sequence number and time. */
export interface StreamRecordDraft {
  eventName: StreamEventName;
  /** JSON of the record's `dynamodb` part (Keys, images, SizeBytes, ...) without SequenceNumber. */
  body: string;
  /** A TTL deletion: the record carries DynamoDB's service userIdentity. */
  byService: boolean;
}

/**
 * A secondary index entry's key: the index, the item's index key (encoded as primary keys are) and,
 * implicitly, the item's primary key (the write's). `isk` is empty for an index without a sort key.
 */
export interface IndexEntryKey {
  index: string;
  ipk: Buffer;
  isk: Buffer;
}

/** An index entry: the projected item's text (tables/item-codec.ts) and its size. */
export interface IndexEntry extends IndexEntryKey {
  item: string;
  size: number;
}

/**
 * What a write changes in the table's secondary indexes: entries to remove (the old item's, whose key
 * changed or left) and entries to write (inserted or replaced). Never the same key in both.
 */
export interface IndexChanges {
  remove: IndexEntryKey[];
  put: IndexEntry[];
}

export type ItemDecision =
  | {
      kind: 'put';
      item: string;
      size: number;
      expiresAt: number | null;
      record: StreamRecordDraft | null;
      index?: IndexChanges;
      /** How much the write grows (or, negative, shrinks) its item collection; see ItemWrite.collectionLimit. */
      collectionDelta?: number;
    }
  | { kind: 'delete'; record: StreamRecordDraft | null; index?: IndexChanges; collectionDelta?: number }
  /** Nothing to write: a passed condition check, or a delete of a missing item. */
  | { kind: 'none' }
  /** The write's condition failed (`ConditionalCheckFailed`); the whole call writes nothing. */
  | { kind: 'fail'; reason: string };

export interface ItemWrite {
  tableId: number;
  key: EncodedKey;
  /** The key's stream shard, or null when the table has no stream. */
  shard: number | null;
  /** The table's `indexVersion` the decision computes index entries for. */
  indexVersion: number;
  /** Called inside the transaction with the stored item text, or undefined when there is none. */
  decide(current: string | undefined): ItemDecision;
  /**
   * For a table with local secondary indexes: the most bytes an item collection (the items of one
   * partition key and their local index entries) may hold. The store keeps each collection's size
   * (table item_collections) and refuses, writing nothing, a write whose decision grows its collection
   * past this (`collectionTooLarge`); a write that shrinks it or leaves it as it is always goes through.
   */
  collectionLimit?: number;
}

export type ItemWriteOutcome =
  | { outcome: 'written'; records: Array<{ tableId: number; shard: number; seq: number }> }
  /** Some decision failed: nothing was written. One reason per write, null for those that were fine. */
  | { outcome: 'cancelled'; reasons: Array<string | null> }
  | { outcome: 'tableGone'; tableId: number }
  /** The table's indexes changed since the write's definition was read: nothing was written. */
  | { outcome: 'tableChanged'; tableId: number }
  /**
   * Another call with the same request token is being applied right now (on another node): nothing was
   * written; the caller answers TransactionInProgressException, as DynamoDB does.
   */
  | { outcome: 'tokenInProgress' }
  /** The write at `index` would grow its item collection past its `collectionLimit`: nothing was written. */
  | { outcome: 'collectionTooLarge'; index: number }
  /** The request token was used by an identical request that committed since `notBefore`: nothing written. */
  | { outcome: 'replayed' }
  /** The request token was used by a different request since `notBefore`: nothing written. */
  | { outcome: 'tokenMismatch' };

/**
 * TransactWriteItems' ClientRequestToken, kept with the writes it guards (table transaction_tokens): a
 * write carrying one commits it in the same transaction, and a later write with the same token within
 * the window writes nothing (`replayed` when its fingerprint is the same, `tokenMismatch` when not).
 */
export interface RequestToken {
  token: string;
  /** What the request asked (a digest); two requests are the same when their fingerprints are. */
  fingerprint: string;
  /** A token committed before this instant is forgotten (DynamoDB keeps them 10 minutes). */
  notBefore: number;
}

/** A secondary index entry as read: the index key, the item's primary key, the projected item. */
export interface IndexRow {
  ipk: Buffer;
  isk: Buffer;
  pk: Buffer;
  sk: Buffer;
  item: string;
  size: number;
}

export interface IndexPage {
  rows: IndexRow[];
  truncated: boolean;
}

/** A position in an index: entries are ordered by (ipk, isk, pk, sk). */
export interface IndexPosition {
  ipk: Buffer;
  isk: Buffer;
  pk: Buffer;
  sk: Buffer;
}

export interface KeyBound {
  sk: Buffer;
  inclusive: boolean;
}

export interface ItemPage {
  rows: ItemRow[];
  /** More rows may follow the last one returned (the page stopped at `limit` or `maxBytes`). */
  truncated: boolean;
}

export interface StreamRecordRow {
  shard: number;
  seq: number;
  /** The partition key (encoded): stream triggers keep one key's records in one lane. */
  pk: Buffer;
  createdAt: number;
  eventName: StreamEventName;
  body: string;
  byService: boolean;
}

export interface StreamShardState {
  shard: number;
  /** The lowest retained sequence number, or null when the shard holds no record. */
  firstSeq: number | null;
  /** The highest sequence number ever given (0 before the first record). */
  lastSeq: number;
}

export interface StreamCheckpoint {
  shard: number;
  /** Every record of the shard up to this sequence number is done. */
  seq: number;
  /** The consumer's own state (a tumbling window's), as JSON, or null. */
  state: string | null;
}

/**
 * The lease on one index backfill (table index_backfills): the node running it renews it while it works
 * and saves how far it got; once it expires (the node died or froze), any node takes it over and resumes
 * after `after`. Items before `after` were indexed by committed batches and writes since keep their own
 * entries, so resuming there leaves the index complete. Instants are the callers' clocks (as executions').
 */
export interface BackfillLease {
  tableId: number;
  index: string;
  owner: string | null;
  /** Grows by one at every acquisition: a renewal by a former owner changes nothing. */
  token: number;
  leaseUntil: number;
  /** The last item key a committed batch indexed, or null: resume after it. */
  after: EncodedKey | null;
}

/** An index_backfills row as both backends read it. */
export interface BackfillLeaseRow {
  table_id: number;
  index_name: string;
  owner: string | null;
  token: number;
  lease_until: number;
  after_pk: Buffer | null;
  after_sk: Buffer | null;
}

export function backfillLeaseOf(row: BackfillLeaseRow): BackfillLease {
  return {
    tableId: Number(row.table_id),
    index: row.index_name,
    owner: row.owner,
    token: Number(row.token),
    leaseUntil: Number(row.lease_until),
    after: row.after_pk && row.after_sk ? { pk: row.after_pk, sk: row.after_sk } : null,
  };
}

export interface TableStore {
  tableCreate(p: {
    name: string;
    definition: TableDefinition;
    now: number;
  }): Promise<{ outcome: 'created' | 'exists'; table: StoredTable }>;
  tableGet(p: { name: string }): Promise<StoredTable | undefined>;
  tableGetById(p: { id: number }): Promise<StoredTable | undefined>;
  tableList(p: { prefix?: string }): Promise<StoredTable[]>;
  /**
   * Replaces the definition (the key schema and shard count never change). With `indexesChanged`, the
   * update first waits for item writes in progress, then bumps `indexVersion` and deletes the entries of
   * the indexes named in `dropIndexes`, in the same transaction. With `expected`, a compare-and-set:
   * the update applies only while the stored definition is still exactly that one (the definition the
   * caller computed its change from), so a concurrent update is never overwritten; undefined when the
   * table is gone or its definition changed meanwhile (the caller re-reads and decides again).
   */
  tableUpdate(p: {
    name: string;
    definition: TableDefinition;
    now: number;
    indexesChanged?: boolean;
    dropIndexes?: string[];
    expected?: TableDefinition;
    /**
     * Who runs the backfills this update starts (see BackfillLease): the update keeps one lease row per
     * index left backfilling in the new definition, created with this owner and expiry when missing (free
     * and expired without it), and deletes the rows of indexes no longer backfilling, in its transaction.
     */
    backfillOwner?: { owner: string; leaseUntil: number };
  }): Promise<StoredTable | undefined>;
  /** Deletes the table with its items, stream records and the checkpoints of its consumers. */
  tableDelete(p: { name: string }): Promise<StoredTable | undefined>;

  /**
   * One item by its key. Without the key's blobs (the caller has them): on GetItem's path, reading them
   * back cost two buffers per call, about 4 µs of a 140 µs request on SQLite.
   */
  itemGet(p: { tableId: number; key: EncodedKey }): Promise<StoredItem | undefined>;
  /**
   * Several items read as one snapshot (one transaction or statement), in the order asked; undefined for
   * a key with no item. TransactGetItems and BatchGetItem.
   */
  itemGetMany(p: { keys: Array<{ tableId: number; key: EncodedKey }> }): Promise<Array<ItemRow | undefined>>;
  /** How many items the table holds and their total DynamoDB size (O(items): DescribeTable's figures). */
  itemStats(p: { tableId: number }): Promise<{ count: number; bytes: number }>;
  /**
   * Decides every write against the current items, then writes all of them or none; with a request
   * token, only when the token is not already taken, and the token is taken in the same transaction.
   */
  itemWrite(p: { writes: ItemWrite[]; now: number; requestToken?: RequestToken }): Promise<ItemWriteOutcome>;
  /** One partition's items between the bounds, in sort-key order (descending when not forward). */
  itemQuery(p: {
    tableId: number;
    pk: Buffer;
    lower: KeyBound | null;
    upper: KeyBound | null;
    /** Resume after this sort key (the page's ExclusiveStartKey), in the query's direction. */
    startAfter: Buffer | null;
    forward: boolean;
    limit: number;
    /** The page ends with the row that brings its total size to this many bytes. */
    maxBytes: number;
  }): Promise<ItemPage>;
  /** All items in key order (partition, then sort key). */
  itemScan(p: {
    tableId: number;
    startAfter: EncodedKey | null;
    limit: number;
    maxBytes: number;
  }): Promise<ItemPage>;
  /**
   * One index partition's entries between the bounds on the index sort key, in (isk, pk, sk) order
   * (descending when not forward), after `startAfter`. Reads only the entries returned (plus one).
   */
  indexQuery(p: {
    tableId: number;
    index: string;
    ipk: Buffer;
    lower: KeyBound | null;
    upper: KeyBound | null;
    startAfter: IndexPosition | null;
    forward: boolean;
    limit: number;
    maxBytes: number;
  }): Promise<IndexPage>;
  /**
   * Per index of the table that has entries: how many and their total size in bytes (the projected
   * items' DynamoDB size). O(entries): DescribeTable's IndexSizeBytes and ItemCount.
   */
  indexStats(p: { tableId: number }): Promise<Array<{ index: string; count: number; bytes: number }>>;
  /** Every entry of an index in (ipk, isk, pk, sk) order, after `startAfter`. */
  indexScan(p: {
    tableId: number;
    index: string;
    startAfter: IndexPosition | null;
    limit: number;
    maxBytes: number;
  }): Promise<IndexPage>;
  /**
   * Backfills index entries for up to `limit` items after `after`, in key order, in one transaction:
   * each item is read under a lock (so a concurrent write of it waits, or re-reads it) and `entriesOf`
   * (synchronous, pure) gives its entries, which replace any entries of that item in `index`. Returns
   * the last item's key, or null when no item was left, or the table is gone or no longer has the index
   * (a batch and a table delete or index change meet in one order, so no entry outlives either).
   */
  indexBackfill(p: {
    tableId: number;
    index: string;
    after: EncodedKey | null;
    limit: number;
    entriesOf(item: string): IndexEntry[];
  }): Promise<EncodedKey | null>;
  /** Every index backfill lease (one per index still backfilling): what a node watching for dead owners reads. */
  backfillList(): Promise<BackfillLease[]>;
  /**
   * Takes the lease of an index backfill when it is free, expired at `now`, or already this owner's: the
   * token grows by one and it runs until `leaseUntil`. Creates the row when missing (a backfill from before
   * leases were kept). Returns the lease with the progress saved so far, or undefined when another owner
   * holds it.
   */
  backfillAcquire(p: { tableId: number; index: string; owner: string; now: number; leaseUntil: number }): Promise<BackfillLease | undefined>;
  /**
   * Renews the lease and saves the progress while (owner, token) still hold it; with `release`, frees it
   * instead (expired at once, so any node takes it over). False when the lease was taken over or ended.
   */
  backfillRenew(p: {
    tableId: number;
    index: string;
    owner: string;
    token: number;
    leaseUntil: number;
    after: EncodedKey | null;
    release?: boolean;
  }): Promise<boolean>;
  /** Deletes the lease of a finished backfill, whoever holds it. */
  backfillEnd(p: { tableId: number; index: string }): Promise<void>;
  /** The kept size of an item collection of a table with local indexes (0 when none is kept). */
  itemCollectionBytes(p: { tableId: number; pk: Buffer }): Promise<number>;
  /** Keys of items whose TTL is due, and the next expiry after `now` once none is due. */
  itemExpiredKeys(p: {
    tableId: number;
    now: number;
    limit: number;
  }): Promise<{ keys: EncodedKey[]; nextExpiresAt: number | null }>;

  streamShards(p: { tableId: number }): Promise<StreamShardState[]>;
  streamRead(p: {
    tableId: number;
    shard: number;
    afterSeq: number;
    limit: number;
  }): Promise<StreamRecordRow[]>;
  /** The highest sequence number of the shard's records created before `at` (0 when none). */
  streamSeqBefore(p: { tableId: number; shard: number; at: number }): Promise<number>;
  /** Deletes records created before `createdBefore`; returns the creation time of the oldest kept. */
  streamTrim(p: {
    tableId: number;
    createdBefore: number;
  }): Promise<{ trimmed: number; oldestCreatedAt: number | null }>;

  streamCheckpointList(p: { consumer: string }): Promise<StreamCheckpoint[]>;
  streamCheckpointSave(p: {
    consumer: string;
    tableId: number;
    checkpoints: StreamCheckpoint[];
    now: number;
  }): Promise<void>;
  streamCheckpointDelete(p: { consumer: string }): Promise<void>;
}

/** Wake-up channels: a write publishes on each shard it appended to; the catalog on definition changes. */
export const streamChannel = (tableId: number, shard: number): string => `stream:${tableId}:${shard}`;
export const tableCatalogChannel = 'tables';
/** Published when an index backfill lease is created, freed or ended: watching nodes read the leases again. */
export const indexBackfillChannel = 'tables:backfills';
