/**
 * The catalog on PostgreSQL: each write is one statement whose condition is the revision asked for (an
 * upsert, an insert that does nothing on conflict, or an update at a revision), so two nodes writing one
 * entry at once cannot both win a conditional write. A refused write reads the entry as it is. A write
 * or delete that carries an attachment (store/catalog-store.ts) runs in a transaction that touches the
 * entry first, then the attachment: two writers of one entry queue on the entry's row lock, so the
 * attachment left is the last writer's.
 */
import type pg from 'pg';
import { catalogChannel, catalogEntryOf, hasQueueWrites, hasScheduleWrites, hasTableWrites, hasBackfillWrites, type CatalogPutOutcome, type CatalogRow, type CatalogStore } from '../catalog-store.js';
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
  putAttachment: {
    name: 'sluice_catalog_put_attachment',
    text: `INSERT INTO catalog_attachments (kind, name, sha256, content) VALUES ($1, $2, $3, $4)
           ON CONFLICT (kind, name) DO UPDATE SET sha256 = EXCLUDED.sha256, content = EXCLUDED.content`,
  },
  getAttachment: { name: 'sluice_catalog_get_attachment', text: 'SELECT sha256, content FROM catalog_attachments WHERE kind = $1 AND name = $2' },
  deleteAttachment: { name: 'sluice_catalog_delete_attachment', text: 'DELETE FROM catalog_attachments WHERE kind = $1 AND name = $2' },
};

/** Thrown inside a batch's transaction to roll it back when a condition fails. */
class ConditionFailed extends Error {
  constructor(readonly failed: { kind: string; name: string }) {
    super('condition failed');
  }
}

type Query = <R extends pg.QueryResultRow>(statement: Statement, values: unknown[]) => Promise<R[]>;

/** The entry's write (the statement its `ifRevision` calls for), then the attachment's when it was written. */
async function putWith(query: Query, p: Parameters<CatalogStore['catalogPut']>[0]): Promise<CatalogPutOutcome> {
  const values = [p.kind, p.name, p.definition, p.modifiedAt];
  const rows =
    p.ifRevision === undefined
      ? await query<CatalogRow>(sql.upsert, values)
      : p.ifRevision === null
        ? await query<CatalogRow>(sql.insert, values)
        : await query<CatalogRow>(sql.updateAt, [...values, p.ifRevision]);
  const [row] = rows;
  if (row) {
    if (p.attachment) await query(sql.putAttachment, [p.kind, p.name, p.attachment.sha256, p.attachment.content]);
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
        for (const op of p.puts) {
          if (!(await putWith(query, op)).written) throw new ConditionFailed({ kind: op.kind, name: op.name });
        }
        for (const op of p.deletes) {
          const rows = await query(sql.delete, [op.kind, op.name, op.ifRevision ?? null]);
          if (rows.length === 0) throw new ConditionFailed({ kind: op.kind, name: op.name });
          await query(sql.deleteAttachment, [op.kind, op.name]);
        }
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
      const outcome = p.attachment ? await inTransaction((query) => putWith(query, p)) : await putWith(onPool, p);
      if (outcome.written) notifier.publish(catalogChannel);
      return outcome;
    },
    async catalogDelete(p) {
      const deleted = await inTransaction(async (query) => {
        const rows = await query<{ deleted: number }>(sql.delete, [p.kind, p.name, p.ifRevision ?? null]);
        if (rows.length > 0) await query(sql.deleteAttachment, [p.kind, p.name]);
        return rows.length > 0;
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
  };
}
