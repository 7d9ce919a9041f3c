/**
 * State machine versions and aliases on PostgreSQL, the same calls as SQLite's file of this name. Every
 * call that writes first locks the machine's row (`FOR UPDATE`), so two publishes of one machine, or a
 * version's delete and an alias routing to it, are serialized: numbers are never given twice, and no
 * alias is left routing to a deleted version.
 */
import type pg from 'pg';
import type { StateMachineStore } from '../state-machine-store.js';
import { routesTo, toAlias, toVersion, type AliasRow, type VersionRow } from '../state-machine-rows.js';
import { transaction } from './connection.js';

type VersionCalls = Pick<
  StateMachineStore,
  | 'stateMachineVersionPublish'
  | 'stateMachineVersionGet'
  | 'stateMachineVersionList'
  | 'stateMachineVersionDelete'
  | 'stateMachineAliasCreate'
  | 'stateMachineAliasGet'
  | 'stateMachineAliasList'
  | 'stateMachineAliasUpdate'
  | 'stateMachineAliasDelete'
>;

const VERSION = 'SELECT version, revision_id, description, created_at FROM state_machine_versions';
const ALIAS = 'SELECT name, description, routing, created_at, updated_at FROM state_machine_aliases';

const lockMachine = async (client: pg.ClientBase, name: string) =>
  (await client.query<{ revision_id: string; last_version: number }>('SELECT revision_id, last_version FROM state_machines WHERE name = $1 FOR UPDATE', [name])).rows[0];

async function versionsExist(client: pg.ClientBase, name: string, versions: number[]): Promise<boolean> {
  const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM state_machine_versions WHERE machine_name = $1 AND version = ANY($2::int[])', [name, versions]);
  return Number(rows[0]!.n) === new Set(versions).size;
}

export function createPostgresVersionCalls(pool: pg.Pool): VersionCalls {
  return {
    async stateMachineVersionPublish(p) {
      return transaction(pool, async (client) => {
        const machine = await lockMachine(client, p.name);
        if (!machine) return { outcome: 'missing' as const };
        const revisionId = Number(machine.revision_id);
        if (p.expectedRevisionId !== undefined && p.expectedRevisionId !== revisionId) return { outcome: 'conflict' as const };
        const existing = (await client.query<VersionRow>(`${VERSION} WHERE machine_name = $1 AND revision_id = $2`, [p.name, revisionId])).rows[0];
        if (existing) return { outcome: 'exists' as const, version: toVersion(existing) };
        const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM state_machine_versions WHERE machine_name = $1', [p.name]);
        if (Number(rows[0]!.n) >= p.limit) return { outcome: 'quota' as const };
        const version = Number(machine.last_version) + 1;
        await client.query('UPDATE state_machines SET last_version = $1 WHERE name = $2', [version, p.name]);
        await client.query(
          'INSERT INTO state_machine_versions (machine_name, version, revision_id, description, created_at) VALUES ($1, $2, $3, $4, $5)',
          [p.name, version, revisionId, p.description, p.now],
        );
        return { outcome: 'published' as const, version: { version, revisionId, description: p.description, createdAt: p.now } };
      });
    },
    async stateMachineVersionGet({ name, version }) {
      const row = (await pool.query<VersionRow>(`${VERSION} WHERE machine_name = $1 AND version = $2`, [name, version])).rows[0];
      return row ? toVersion(row) : undefined;
    },
    async stateMachineVersionList({ name, before, limit }) {
      const { rows } = await pool.query<VersionRow>(`${VERSION} WHERE machine_name = $1 AND version < $2 ORDER BY version DESC LIMIT $3`, [
        name,
        before ?? 2_147_483_647,
        limit,
      ]);
      return rows.map(toVersion);
    },
    async stateMachineVersionDelete({ name, version }) {
      return transaction(pool, async (client) => {
        await lockMachine(client, name);
        const { rows } = await client.query<{ routing: string }>('SELECT routing FROM state_machine_aliases WHERE machine_name = $1', [name]);
        if (routesTo(rows.map((r) => r.routing), version)) return 'aliased' as const;
        const deleted = await client.query('DELETE FROM state_machine_versions WHERE machine_name = $1 AND version = $2', [name, version]);
        return deleted.rowCount === 1 ? ('deleted' as const) : ('missing' as const);
      });
    },
    async stateMachineAliasCreate(p) {
      return transaction(pool, async (client) => {
        if (!(await lockMachine(client, p.name))) return { outcome: 'missing' as const };
        const existing = (await client.query<AliasRow>(`${ALIAS} WHERE machine_name = $1 AND name = $2`, [p.name, p.alias.name])).rows[0];
        if (existing) return { outcome: 'exists' as const, alias: toAlias(existing) };
        if (!(await versionsExist(client, p.name, p.alias.routing.map((r) => r.version)))) return { outcome: 'missingVersion' as const };
        const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM state_machine_aliases WHERE machine_name = $1', [p.name]);
        if (Number(rows[0]!.n) >= p.limit) return { outcome: 'quota' as const };
        const a = p.alias;
        await client.query(
          'INSERT INTO state_machine_aliases (machine_name, name, description, routing, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [p.name, a.name, a.description, JSON.stringify(a.routing), a.createdAt, a.updatedAt],
        );
        return { outcome: 'created' as const, alias: a };
      });
    },
    async stateMachineAliasGet({ name, alias }) {
      const row = (await pool.query<AliasRow>(`${ALIAS} WHERE machine_name = $1 AND name = $2`, [name, alias])).rows[0];
      return row ? toAlias(row) : undefined;
    },
    async stateMachineAliasList({ name, after, limit }) {
      const { rows } = await pool.query<AliasRow>(`${ALIAS} WHERE machine_name = $1 AND name > $2 ORDER BY name LIMIT $3`, [name, after ?? '', limit]);
      return rows.map(toAlias);
    },
    async stateMachineAliasUpdate(p) {
      return transaction(pool, async (client) => {
        await lockMachine(client, p.name);
        const row = (await client.query<AliasRow>(`${ALIAS} WHERE machine_name = $1 AND name = $2`, [p.name, p.alias])).rows[0];
        if (!row) return { outcome: 'missing' as const };
        if (p.routing && !(await versionsExist(client, p.name, p.routing.map((r) => r.version)))) return { outcome: 'missingVersion' as const };
        const routing = p.routing ? JSON.stringify(p.routing) : row.routing;
        const description = p.description ?? row.description;
        await client.query('UPDATE state_machine_aliases SET description = $1, routing = $2, updated_at = $3 WHERE machine_name = $4 AND name = $5', [
          description,
          routing,
          p.now,
          p.name,
          p.alias,
        ]);
        return { outcome: 'updated' as const, alias: toAlias({ ...row, description, routing, updated_at: p.now }) };
      });
    },
    async stateMachineAliasDelete({ name, alias }) {
      return ((await pool.query('DELETE FROM state_machine_aliases WHERE machine_name = $1 AND name = $2', [name, alias])).rowCount ?? 0) === 1;
    },
  };
}
