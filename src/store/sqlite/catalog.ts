/**
 * The catalog on SQLite: each write reads the entry and decides inside one synchronous transaction. An
 * attachment is a reference (catalog_attachments) to bytes kept once per SHA-256 (catalog_blobs,
 * migration 24); the transaction that drops a blob's last reference drops the blob. Transactions on one
 * database run one at a time, so a reference written and the last one removed never interleave.
 */
import { catalogChannel, catalogEntryOf, hasQueueWrites, hasScheduleWrites, hasTableWrites, hasBackfillWrites, type CatalogPutInput, type CatalogQueueWrites, type CatalogRow, type CatalogStore } from '../catalog-store.js';
import { queueCatalogChannel, queueChannel } from '../notifier.js';
import { indexBackfillChannel, tableCatalogChannel } from '../table-store.js';
import { sqliteTableRowWrites } from './tables.js';
import { scheduleCatalogChannel } from '../schedule-store.js';
import { sqliteScheduleWriter } from './schedules.js';
import type { Notifier } from '../notifier.js';
import type { SqliteDatabase } from './database.js';

const toEntry = catalogEntryOf;

/** `writeQueues`: the queue store's row writes (queues.ts `sqliteQueueRowWrites`), run inside a batch. */
export function createSqliteCatalogStore(db: SqliteDatabase, notifier: Notifier, writeQueues: (writes: CatalogQueueWrites) => string | undefined): CatalogStore {
  const sql = {
    get: db.prepare<[string, string], CatalogRow>('SELECT * FROM catalog_entries WHERE kind = ? AND name = ?'),
    upsert: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO catalog_entries (kind, name, definition, revision, modified_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET definition = excluded.definition, revision = excluded.revision, modified_at = excluded.modified_at`,
    ),
    delete: db.prepare<[string, string]>('DELETE FROM catalog_entries WHERE kind = ? AND name = ?'),
    listAll: db.prepare<[], CatalogRow>('SELECT * FROM catalog_entries ORDER BY kind, name'),
    queueId: db.prepare<[string], { id: number }>('SELECT id FROM queues WHERE name = ?'),
    listKind: db.prepare<[string], CatalogRow>('SELECT * FROM catalog_entries WHERE kind = ? ORDER BY name'),
    referenceOf: db.prepare<[string, string], { sha256: string }>('SELECT sha256 FROM catalog_attachments WHERE kind = ? AND name = ?'),
    putReference: db.prepare<[string, string, string]>(
      `INSERT INTO catalog_attachments (kind, name, sha256) VALUES (?, ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET sha256 = excluded.sha256`,
    ),
    putBlob: db.prepare<[string, Buffer]>('INSERT INTO catalog_blobs (sha256, content) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING'),
    blobKept: db.prepare<[string], { kept: number }>('SELECT 1 AS kept FROM catalog_blobs WHERE sha256 = ?'),
    dropBlobIfUnused: db.prepare<[string, string]>('DELETE FROM catalog_blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM catalog_attachments WHERE sha256 = ?)'),
    getAttachment: db.prepare<[string, string], { sha256: string; content: Buffer }>(
      'SELECT a.sha256, b.content FROM catalog_attachments a JOIN catalog_blobs b ON b.sha256 = a.sha256 WHERE a.kind = ? AND a.name = ?',
    ),
    deleteAttachment: db.prepare<[string, string], { sha256: string }>('DELETE FROM catalog_attachments WHERE kind = ? AND name = ? RETURNING sha256'),
    blobStats: db.prepare<[], { blobs: number; bytes: number | null }>('SELECT count(*) AS blobs, sum(length(content)) AS bytes FROM catalog_blobs'),
    referenceCount: db.prepare<[], { references: number }>('SELECT count(*) AS "references" FROM catalog_attachments'),
  };

  /**
   * Points the entry at the bytes (stored once per digest; given by digest alone, they must be kept:
   * false when not); the bytes it pointed at go when now unused.
   */
  function attach(kind: string, name: string, attachment: NonNullable<CatalogPutInput['attachment']>): boolean {
    const previous = sql.referenceOf.get(kind, name)?.sha256;
    if (attachment.content) sql.putBlob.run(attachment.sha256, attachment.content);
    else if (!sql.blobKept.get(attachment.sha256)) return false;
    sql.putReference.run(kind, name, attachment.sha256);
    if (previous !== undefined && previous !== attachment.sha256) sql.dropBlobIfUnused.run(previous, previous);
    return true;
  }

  function detach(kind: string, name: string): void {
    const removed = sql.deleteAttachment.get(kind, name)?.sha256;
    if (removed !== undefined) sql.dropBlobIfUnused.run(removed, removed);
  }

  const put = db.transaction((p: CatalogPutInput) => {
    const current = sql.get.get(p.kind, p.name);
    const expected = p.ifRevision === undefined ? (current?.revision ?? null) : p.ifRevision;
    if ((current?.revision ?? null) !== expected) return { written: false as const, current: current ? toEntry(current) : null };
    const revision = (current?.revision ?? 0) + 1;
    sql.upsert.run(p.kind, p.name, p.definition, revision, p.modifiedAt);
    if (p.attachment && !attach(p.kind, p.name, p.attachment)) throw new ConditionFailed({ kind: 'attachment', name: p.attachment.sha256 });
    return { written: true as const, entry: { kind: p.kind, name: p.name, definition: p.definition, revision, modifiedAt: p.modifiedAt } };
  });

  const remove = db.transaction((p: Parameters<CatalogStore['catalogDelete']>[0]) => {
    const current = sql.get.get(p.kind, p.name);
    if (!current || (p.ifRevision !== undefined && current.revision !== p.ifRevision)) return false;
    sql.delete.run(p.kind, p.name);
    detach(p.kind, p.name);
    return true;
  });

  /** Thrown inside a batch's transaction to roll it back when a condition fails. */
  class ConditionFailed extends Error {
    constructor(readonly failed: { kind: string; name: string }) {
      super('condition failed');
    }
  }
  const writeSchedules = sqliteScheduleWriter(db);
  const writeTables = sqliteTableRowWrites(db, notifier);
  const writeBatch = db.transaction((p: Parameters<CatalogStore['catalogWrite']>[0]) => {
    for (const op of p.puts) if (!put(op).written) throw new ConditionFailed({ kind: op.kind, name: op.name });
    for (const op of p.deletes) if (!remove(op)) throw new ConditionFailed({ kind: op.kind, name: op.name });
    const schedule = p.schedules ? writeSchedules(p.schedules) : undefined;
    if (schedule !== undefined) throw new ConditionFailed({ kind: 'schedule', name: schedule });
    const queue = p.queues ? writeQueues(p.queues) : undefined;
    if (queue !== undefined) throw new ConditionFailed({ kind: 'queue', name: queue });
    const table = p.tables ? writeTables(p.tables) : undefined;
    if (table !== undefined) throw new ConditionFailed({ kind: 'table', name: table });
  });

  return {
    async catalogWrite(p) {
      // The queues it deletes: their long polls and triggers are woken, as by DeleteQueue.
      const deletedQueueIds = (p.queues?.deletes ?? []).flatMap((name) => sql.queueId.get(name)?.id ?? []);
      try {
        writeBatch(p);
      } catch (error) {
        if (error instanceof ConditionFailed) return { written: false, failed: error.failed };
        throw error;
      }
      if (p.puts.length + p.deletes.length > 0) notifier.publish(catalogChannel);
      if (hasScheduleWrites(p.schedules)) notifier.publish(scheduleCatalogChannel);
      if (hasQueueWrites(p.queues)) notifier.publish(queueCatalogChannel);
      for (const id of deletedQueueIds) notifier.publish(queueChannel(id));
      if (hasTableWrites(p.tables)) notifier.publish(tableCatalogChannel);
      // An index added or removed, or a table deleted, may have created or ended a backfill lease.
      if (hasBackfillWrites(p.tables)) notifier.publish(indexBackfillChannel);
      return { written: true };
    },
    async catalogPut(p) {
      const outcome = put(p);
      if (outcome.written) notifier.publish(catalogChannel);
      return outcome;
    },
    async catalogDelete(p) {
      const deleted = remove(p);
      if (deleted) notifier.publish(catalogChannel);
      return deleted;
    },
    async catalogList(p) {
      return (p.kind === undefined ? sql.listAll.all() : sql.listKind.all(p.kind)).map(toEntry);
    },
    async catalogAttachment(p) {
      const row = sql.getAttachment.get(p.kind, p.name);
      return row ? { sha256: row.sha256, content: Buffer.from(row.content) } : undefined;
    },
    async catalogAttachmentStats() {
      const { blobs, bytes } = sql.blobStats.get()!;
      return { references: sql.referenceCount.get()!.references, blobs, bytes: bytes ?? 0 };
    },
  };
}
