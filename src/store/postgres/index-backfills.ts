/**
 * Index backfill leases on PostgreSQL (table index_backfills, migration 19; see BackfillLease in
 * table-store.ts), the same operations as SQLite's. The table update keeps the rows in step with the
 * definition (`syncBackfills`, inside its transaction); the backfill worker takes, renews, frees and ends
 * them. Two nodes taking the same expired lease meet on its row: the upsert's condition is re-checked on
 * the row as the first one left it, so one of them gets it.
 */
import type pg from 'pg';
import type { TableDefinition } from '../table-definition.js';
import { backfillLeaseOf, indexBackfillChannel, type BackfillLeaseRow, type TableStore } from '../table-store.js';
import { backfillingIndexes } from '../table-definition.js';
import type { Notifier } from '../notifier.js';
import { query, run } from './connection.js';

const sql = {
  list: { name: 'sluice_backfill_list', text: 'SELECT * FROM index_backfills ORDER BY table_id, index_name' },
  deleteOthers: {
    text: 'DELETE FROM index_backfills WHERE table_id = $1 AND NOT (index_name = ANY($2::text[])) RETURNING index_name',
  },
  insertMissing: {
    text: `INSERT INTO index_backfills (table_id, index_name, owner, token, lease_until)
           SELECT $1, name, $3, 0, $4 FROM unnest($2::text[]) AS name
           ON CONFLICT (table_id, index_name) DO NOTHING RETURNING index_name`,
  },
  acquire: {
    name: 'sluice_backfill_acquire',
    text: `INSERT INTO index_backfills (table_id, index_name, owner, token, lease_until) VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (table_id, index_name) DO UPDATE
             SET owner = excluded.owner, token = index_backfills.token + 1, lease_until = excluded.lease_until
             WHERE index_backfills.owner IS NULL OR index_backfills.owner = excluded.owner OR index_backfills.lease_until <= $5
           RETURNING *`,
  },
  renew: {
    name: 'sluice_backfill_renew',
    text: `UPDATE index_backfills
           SET lease_until = $1, owner = $2, after_pk = coalesce($3, after_pk), after_sk = coalesce($4, after_sk)
           WHERE table_id = $5 AND index_name = $6 AND owner = $7 AND token = $8`,
  },
  end: { name: 'sluice_backfill_end', text: 'DELETE FROM index_backfills WHERE table_id = $1 AND index_name = $2' },
};

/**
 * Inside a table update: a row for each index left backfilling (created with `owner` when missing), none
 * for the others. True when a row was created or deleted.
 */
export async function syncBackfills(
  client: pg.PoolClient,
  tableId: number,
  definition: TableDefinition,
  owner: { owner: string; leaseUntil: number } | undefined,
): Promise<boolean> {
  const wanted = backfillingIndexes(definition);
  const deleted = await query(client, sql.deleteOthers, [tableId, wanted]);
  const inserted = wanted.length > 0 ? await query(client, sql.insertMissing, [tableId, wanted, owner?.owner ?? null, owner?.leaseUntil ?? 0]) : [];
  return deleted.length + inserted.length > 0;
}

export const dropTableBackfills = 'DELETE FROM index_backfills WHERE table_id = $1';

export function createPostgresIndexBackfills(
  pool: pg.Pool,
  notifier: Notifier,
): Pick<TableStore, 'backfillList' | 'backfillAcquire' | 'backfillRenew' | 'backfillEnd'> {
  return {
    async backfillList() {
      return (await run<BackfillLeaseRow>(pool, sql.list, [])).map(backfillLeaseOf);
    },
    async backfillAcquire(p) {
      const [row] = await run<BackfillLeaseRow>(pool, sql.acquire, [p.tableId, p.index, p.owner, p.leaseUntil, p.now]);
      return row ? backfillLeaseOf(row) : undefined;
    },
    async backfillRenew(p) {
      const result = await pool.query({
        ...sql.renew,
        values: [
          p.release ? 0 : p.leaseUntil,
          p.release ? null : p.owner,
          p.after?.pk ?? null,
          p.after?.sk ?? null,
          p.tableId,
          p.index,
          p.owner,
          p.token,
        ],
      });
      const renewed = (result.rowCount ?? 0) > 0;
      if (renewed && p.release) notifier.publish(indexBackfillChannel);
      return renewed;
    },
    async backfillEnd(p) {
      const result = await pool.query({ ...sql.end, values: [p.tableId, p.index] });
      if ((result.rowCount ?? 0) > 0) notifier.publish(indexBackfillChannel);
    },
  };
}
