/**
 * Index backfill leases on SQLite (table index_backfills, migration 19; see BackfillLease in
 * table-store.ts). The table update keeps the rows in step with the definition (`sync`, inside its
 * transaction); the backfill worker takes, renews, frees and ends them.
 */
import type { TableDefinition } from '../table-definition.js';
import { backfillLeaseOf, indexBackfillChannel, type BackfillLeaseRow, type TableStore } from '../table-store.js';
import { backfillingIndexes } from '../table-definition.js';
import type { Notifier } from '../notifier.js';
import type { SqliteDatabase } from './database.js';

export function createSqliteIndexBackfills(db: SqliteDatabase, notifier: Notifier) {
  const sql = {
    list: db.prepare<[], BackfillLeaseRow>('SELECT * FROM index_backfills ORDER BY table_id, index_name'),
    ofTable: db.prepare<[number], { index_name: string }>('SELECT index_name FROM index_backfills WHERE table_id = ?'),
    insert: db.prepare(
      `INSERT INTO index_backfills (table_id, index_name, owner, token, lease_until) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (table_id, index_name) DO NOTHING`,
    ),
    delete: db.prepare('DELETE FROM index_backfills WHERE table_id = ? AND index_name = ?'),
    deleteTable: db.prepare('DELETE FROM index_backfills WHERE table_id = ?'),
    acquire: db.prepare<[number, string, string, number, number], BackfillLeaseRow>(
      `INSERT INTO index_backfills (table_id, index_name, owner, token, lease_until) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (table_id, index_name) DO UPDATE SET owner = excluded.owner, token = token + 1, lease_until = excluded.lease_until
       WHERE owner IS NULL OR owner = excluded.owner OR lease_until <= ?
       RETURNING *`,
    ),
    renew: db.prepare(
      `UPDATE index_backfills SET lease_until = ?, owner = ?, after_pk = coalesce(?, after_pk), after_sk = coalesce(?, after_sk)
       WHERE table_id = ? AND index_name = ? AND owner = ? AND token = ?`,
    ),
  };

  /**
   * Inside a table update: a row for each index left backfilling (created with `owner` when missing), none
   * for the others. True when a row was created or deleted.
   */
  function sync(tableId: number, definition: TableDefinition, owner: { owner: string; leaseUntil: number } | undefined): boolean {
    const wanted = new Set(backfillingIndexes(definition));
    let changed = false;
    for (const row of sql.ofTable.all(tableId)) {
      if (!wanted.has(row.index_name)) changed = sql.delete.run(tableId, row.index_name).changes > 0 || changed;
    }
    for (const index of wanted) {
      changed = sql.insert.run(tableId, index, owner?.owner ?? null, owner?.leaseUntil ?? 0).changes > 0 || changed;
    }
    return changed;
  }

  return {
    sync,
    dropTable: (tableId: number) => sql.deleteTable.run(tableId).changes > 0,
    store: {
      async backfillList() {
        return sql.list.all().map(backfillLeaseOf);
      },
      async backfillAcquire(p) {
        const row = sql.acquire.get(p.tableId, p.index, p.owner, p.leaseUntil, p.now);
        return row ? backfillLeaseOf(row) : undefined;
      },
      async backfillRenew(p) {
        const renewed =
          sql.renew.run(
            p.release ? 0 : p.leaseUntil,
            p.release ? null : p.owner,
            p.after?.pk ?? null,
            p.after?.sk ?? null,
            p.tableId,
            p.index,
            p.owner,
            p.token,
          ).changes > 0;
        if (renewed && p.release) notifier.publish(indexBackfillChannel);
        return renewed;
      },
      async backfillEnd(p) {
        if (sql.delete.run(p.tableId, p.index).changes > 0) notifier.publish(indexBackfillChannel);
      },
    } satisfies Pick<TableStore, 'backfillList' | 'backfillAcquire' | 'backfillRenew' | 'backfillEnd'>,
  };
}
