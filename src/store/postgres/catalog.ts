/**
 * The catalog on PostgreSQL: each write is one statement whose condition is the revision asked for (an
 * upsert, an insert that does nothing on conflict, or an update at a revision), so two nodes writing one
 * entry at once cannot both win a conditional write. A refused write reads the entry as it is. A write
 * or delete that carries an attachment (store/catalog-store.ts) runs in a transaction that touches the
 * entry first, then the attachment: two writers of one entry queue on the entry's row lock, so the
 * attachment left is the last writer's.
 *
 * Attachments are references to bytes kept once per SHA-256 (catalog_blobs, migration 24). A writer
 * attaching bytes first upserts their blob with DO UPDATE, which locks the blob's row (or inserts it);
 * a transaction that removed a reference then locks the blob's row (FOR UPDATE) and only after that, in
 * a statement of its own (a snapshot that sees whatever committed before it got the lock), deletes the
 * blob if nothing references it. So an attacher that locked first has committed its reference before
 * the check, and one that comes second waits, then finds the blob gone and inserts it again with the
 * bytes it carries: a blob is never removed under a reference. Blobs are released in digest order at
 * the end of the transaction, so two releasing transactions lock them in one order.
 */
import type pg from 'pg';
import { catalogChannel, catalogEntryOf, hasQueueWrites, hasScheduleWrites, hasTableWrites, hasBackfillWrites, type CatalogPutInput, type CatalogPutOutcome, type CatalogRow, type CatalogStore } from '../catalog-store.js';
import { queueCatalogChannel, queueChannel } from '../notifier.js';
import { writeQueuesIn } from './queues.js';
import { writeTablesIn } from './tables.js';
import { indexBackfillChannel, tableCatalogChannel } from '../table-store.js';
import { scheduleCatalogChannel } from '../schedule-store.js';
import { writeSchedulesIn } from './schedules.js';
import type { Notifier } from '../notifier.js';
import { run, transaction, type Statement } from './connection.js';

const toEntry = catalogEntryOf;

const COLUMNS = 'kind, name, definition, revision, modified_at';

const sql = {
  get: { name: 'sluice_catalog_get', text: `SELECT ${COLUMNS} FROM catalog_entries WHERE kind = $1 AND name = $2` },
  upsert: {
    name: 'sluice_catalog_upsert',
    text: `INSERT INTO catalog_entries (kind, name, definition, revision, modified_at) VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (kind, name) DO UPDATE
             SET definition = EXCLUDED.definition, revision = catalog_entries.revision + 1, modified_at = EXCLUDED.modified_at
           RETURNING ${COLUMNS}`,
  },
  insert: {
    name: 'sluice_catalog_insert',
    text: `INSERT INTO catalog_entries (kind, name, definition, revision, modified_at) VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (kind, name) DO NOTHING RETURNING ${COLUMNS}`,
  },
  updateAt: {
    name: 'sluice_catalog_update_at',
    text: `UPDATE catalog_entries SET definition = $3, revision = revision + 1, modified_at = $4
           WHERE kind = $1 AND name = $2 AND revision = $5 RETURNING ${COLUMNS}`,
  },
  delete: {
    name: 'sluice_catalog_delete',
    text: `DELETE FROM catalog_entries WHERE kind = $1 AND name = $2 AND ($3::bigint IS NULL OR revision = $3) RETURNING 1 AS deleted`,
  },
  listAll: { name: 'sluice_catalog_list_all', text: `SELECT ${COLUMNS} FROM catalog_entries ORDER BY kind, name` },
  listKind: { name: 'sluice_catalog_list_kind', text: `SELECT ${COLUMNS} FROM catalog_entries WHERE kind = $1 ORDER BY name` },
  // The previous reference, under the entry's row lock the entry's write took.
  referenceOf: { name: 'sluice_catalog_reference_of', text: 'SELECT sha256 FROM catalog_attachments WHERE kind = $1 AND name = $2' },
  // Inserts the bytes, or locks the row of those already kept (DO UPDATE locks; DO NOTHING would not).
  putBlob: {
    name: 'sluice_catalog_put_blob',
    text: `INSERT INTO catalog_blobs (sha256, content) VALUES ($1, $2)
           ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256`,
  },
  putReference: {
    name: 'sluice_catalog_put_reference',
    text: `INSERT INTO catalog_attachments (kind, name, sha256) VALUES ($1, $2, $3)
           ON CONFLICT (kind, name) DO UPDATE SET sha256 = EXCLUDED.sha256`,
  },
  lockBlob: { name: 'sluice_catalog_lock_blob', text: 'SELECT 1 FROM catalog_blobs WHERE sha256 = $1 FOR UPDATE' },
  // Bytes attached by digest alone: kept, and kept until this transaction ends (a remover's FOR UPDATE waits).
  shareBlob: { name: 'sluice_catalog_share_blob', text: 'SELECT 1 FROM catalog_blobs WHERE sha256 = $1 FOR SHARE' },
  dropBlobIfUnused: {
    name: 'sluice_catalog_drop_blob',
    text: 'DELETE FROM catalog_blobs WHERE sha256 = $1 AND NOT EXISTS (SELECT 1 FROM catalog_attachments WHERE sha256 = $1)',
  },
  getAttachment: {
    name: 'sluice_catalog_get_attachment',
    text: 'SELECT a.sha256, b.content FROM catalog_attachments a JOIN catalog_blobs b ON b.sha256 = a.sha256 WHERE a.kind = $1 AND a.name = $2',
  },
  deleteAttachment: { name: 'sluice_catalog_delete_attachment', text: 'DELETE FROM catalog_attachments WHERE kind = $1 AND name = $2 RETURNING sha256' },
  stats: {
    name: 'sluice_catalog_attachment_stats',
    text: `SELECT (SELECT count(*) FROM catalog_attachments)::int AS references,
                  count(*)::int AS blobs, coalesce(sum(octet_length(content)), 0)::bigint AS bytes FROM catalog_blobs`,
  },
};

/** Digests whose last reference a transaction may have removed; checked at its end (`releaseBlobs`). */
type Released = Set<string>;

/** Deletes each released blob nothing references any more, after taking its row lock (see above). */
async function releaseBlobs(query: Query, released: Released): Promise<void> {
  for (const sha256 of [...released].sort()) {
    await query(sql.lockBlob, [sha256]);
    await query(sql.dropBlobIfUnused, [sha256]);
  }
}

/**
 * Points the entry at the bytes, kept once per digest (given by digest alone, they must be kept, or the
 * batch fails naming them); the bytes it pointed at are released.
 */
async function attach(query: Query, p: { kind: string; name: string; attachment: NonNullable<CatalogPutInput['attachment']> }, released: Released): Promise<void> {
  const [previous] = await query<{ sha256: string }>(sql.referenceOf, [p.kind, p.name]);
  if (p.attachment.content) await query(sql.putBlob, [p.attachment.sha256, p.attachment.content]);
  else if ((await query(sql.shareBlob, [p.attachment.sha256])).length === 0) throw new ConditionFailed({ kind: 'attachment', name: p.attachment.sha256 });
  await query(sql.putReference, [p.kind, p.name, p.attachment.sha256]);
  released.delete(p.attachment.sha256);
  if (previous && previous.sha256 !== p.attachment.sha256) released.add(previous.sha256);
}

async function detach(query: Query, kind: string, name: string, released: Released): Promise<void> {
  for (const row of await query<{ sha256: string }>(sql.deleteAttachment, [kind, name])) released.add(row.sha256);
}

/** Thrown inside a batch's transaction to roll it back when a condition fails. */
class ConditionFailed extends Error {
  constructor(readonly failed: { kind: string; name: string }) {
    super('condition failed');
  }
}

type Query = <R extends pg.QueryResultRow>(statement: Statement, values: unknown[]) => Promise<R[]>;

/** The entry's write (the statement its `ifRevision` calls for), then the attachment's when it was written. */
async function putWith(query: Query, p: CatalogPutInput, released: Released = new Set()): Promise<CatalogPutOutcome> {
  const values = [p.kind, p.name, p.definition, p.modifiedAt];
  const rows =
    p.ifRevision === undefined
      ? await query<CatalogRow>(sql.upsert, values)
      : p.ifRevision === null
        ? await query<CatalogRow>(sql.insert, values)
        : await query<CatalogRow>(sql.updateAt, [...values, p.ifRevision]);
  const [row] = rows;
  if (row) {
    if (p.attachment) await attach(query, { kind: p.kind, name: p.name, attachment: p.attachment }, released);
    return { written: true, entry: toEntry(row) };
  }
  const [current] = await query<CatalogRow>(sql.get, [p.kind, p.name]);
  return { written: false, current: current ? toEntry(current) : null };
}

export function createPostgresCatalogStore(pool: pg.Pool, notifier: Notifier): CatalogStore {
  const onPool: Query = (statement, values) => run(pool, statement, values);
  const inTransaction = <T>(work: (query: Query, client: pg.PoolClient) => Promise<T>) =>
    transaction(pool, (client) => work(async (statement, values) => (await client.query({ ...statement, values })).rows, client));
  return {
    async catalogWrite(p) {
      // The queues it deletes (read inside the transaction): their long polls and triggers are woken after
      // the commit, as by DeleteQueue.
      let deletedQueueIds: number[] = [];
      const failedAt = await inTransaction(async (query, client) => {
        const deletes = p.queues?.deletes ?? [];
        if (deletes.length > 0) {
          const rows = await query<{ id: number | string }>({ text: 'SELECT id FROM queues WHERE name = ANY($1::text[])' }, [deletes]);
          deletedQueueIds = rows.map((row) => Number(row.id));
        }
        const released: Released = new Set();
        for (const op of p.puts) {
          if (!(await putWith(query, op, released)).written) throw new ConditionFailed({ kind: op.kind, name: op.name });
        }
        for (const op of p.deletes) {
          const rows = await query(sql.delete, [op.kind, op.name, op.ifRevision ?? null]);
          if (rows.length === 0) throw new ConditionFailed({ kind: op.kind, name: op.name });
          await detach(query, op.kind, op.name, released);
        }
        await releaseBlobs(query, released);
        const schedule = p.schedules ? await writeSchedulesIn(client, p.schedules) : undefined;
        if (schedule !== undefined) throw new ConditionFailed({ kind: 'schedule', name: schedule });
        const queue = p.queues ? await writeQueuesIn(client, p.queues) : undefined;
        if (queue !== undefined) throw new ConditionFailed({ kind: 'queue', name: queue });
        const table = p.tables ? await writeTablesIn(client, p.tables) : undefined;
        if (table !== undefined) throw new ConditionFailed({ kind: 'table', name: table });
        return undefined;
      }).catch((error: unknown) => {
        if (error instanceof ConditionFailed) return error.failed;
        throw error;
      });
      if (failedAt) return { written: false, failed: failedAt };
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
      // Without an attachment the entry's write is one statement; with one, both go in one transaction.
      const outcome = p.attachment
        ? await inTransaction(async (query) => {
            const released: Released = new Set();
            const written = await putWith(query, p, released);
            await releaseBlobs(query, released);
            return written;
          })
        : await putWith(onPool, p);
      if (outcome.written) notifier.publish(catalogChannel);
      return outcome;
    },
    async catalogDelete(p) {
      const deleted = await inTransaction(async (query) => {
        const rows = await query<{ deleted: number }>(sql.delete, [p.kind, p.name, p.ifRevision ?? null]);
        if (rows.length === 0) return false;
        const released: Released = new Set();
        await detach(query, p.kind, p.name, released);
        await releaseBlobs(query, released);
        return true;
      });
      if (deleted) notifier.publish(catalogChannel);
      return deleted;
    },
    async catalogList(p) {
      const rows = p.kind === undefined ? await run<CatalogRow>(pool, sql.listAll, []) : await run<CatalogRow>(pool, sql.listKind, [p.kind]);
      return rows.map(toEntry);
    },
    async catalogAttachment(p) {
      const [row] = await run<{ sha256: string; content: Buffer }>(pool, sql.getAttachment, [p.kind, p.name]);
      return row ? { sha256: row.sha256, content: row.content } : undefined;
    },
    async catalogAttachmentStats() {
      const [row] = await run<{ references: number; blobs: number; bytes: string }>(pool, sql.stats, []);
      return { references: row!.references, blobs: row!.blobs, bytes: Number(row!.bytes) };
    },
  };
}
