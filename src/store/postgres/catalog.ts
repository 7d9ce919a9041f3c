/**
 * The catalog on PostgreSQL: each write is one statement whose condition is the revision asked for (an
 * upsert, an insert that does nothing on conflict, or an update at a revision), so two nodes writing one
 * entry at once cannot both win a conditional write. A refused write reads the entry as it is.
 */
import type pg from 'pg';
import { catalogChannel, catalogEntryOf, type CatalogRow, type CatalogStore } from '../catalog-store.js';
import type { Notifier } from '../notifier.js';
import { run } from './connection.js';

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
};

export function createPostgresCatalogStore(pool: pg.Pool, notifier: Notifier): CatalogStore {
  return {
    async catalogPut(p) {
      const values = [p.kind, p.name, p.definition, p.modifiedAt];
      const rows =
        p.ifRevision === undefined
          ? await run<CatalogRow>(pool, sql.upsert, values)
          : p.ifRevision === null
            ? await run<CatalogRow>(pool, sql.insert, values)
            : await run<CatalogRow>(pool, sql.updateAt, [...values, p.ifRevision]);
      const [row] = rows;
      if (row) {
        notifier.publish(catalogChannel);
        return { written: true, entry: toEntry(row) };
      }
      const [current] = await run<CatalogRow>(pool, sql.get, [p.kind, p.name]);
      return { written: false, current: current ? toEntry(current) : null };
    },
    async catalogDelete(p) {
      const rows = await run<{ deleted: number }>(pool, sql.delete, [p.kind, p.name, p.ifRevision ?? null]);
      if (rows.length > 0) notifier.publish(catalogChannel);
      return rows.length > 0;
    },
    async catalogList(p) {
      const rows = p.kind === undefined ? await run<CatalogRow>(pool, sql.listAll, []) : await run<CatalogRow>(pool, sql.listKind, [p.kind]);
      return rows.map(toEntry);
    },
  };
}
