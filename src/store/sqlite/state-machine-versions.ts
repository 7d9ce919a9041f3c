/**
 * State machine versions and aliases on SQLite (the StateMachineStore's version and alias calls): each
 * call one synchronous transaction, so a publish reads the current revision, the version already
 * published for it and the next number, and writes, with nothing in between.
 */
import type { StateMachineStore } from '../state-machine-store.js';
import { routesTo, toAlias, toVersion, type AliasRow, type VersionRow } from '../state-machine-rows.js';
import type { SqliteDatabase } from './database.js';

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

export function createSqliteVersionCalls(db: SqliteDatabase): VersionCalls & { deleteVersionsAndAliases(name: string): void } {
  const sql = {
    machine: db.prepare<[string], { revision_id: number; last_version: number }>('SELECT revision_id, last_version FROM state_machines WHERE name = ?'),
    forRevision: db.prepare<[string, number], VersionRow>(`${VERSION} WHERE machine_name = ? AND revision_id = ?`),
    count: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM state_machine_versions WHERE machine_name = ?'),
    bump: db.prepare('UPDATE state_machines SET last_version = ? WHERE name = ?'),
    insertVersion: db.prepare('INSERT INTO state_machine_versions (machine_name, version, revision_id, description, created_at) VALUES (?, ?, ?, ?, ?)'),
    version: db.prepare<[string, number], VersionRow>(`${VERSION} WHERE machine_name = ? AND version = ?`),
    versions: db.prepare<[string, number, number], VersionRow>(`${VERSION} WHERE machine_name = ? AND version < ? ORDER BY version DESC LIMIT ?`),
    deleteVersion: db.prepare('DELETE FROM state_machine_versions WHERE machine_name = ? AND version = ?'),
    routings: db.prepare<[string], { routing: string }>('SELECT routing FROM state_machine_aliases WHERE machine_name = ?'),
    alias: db.prepare<[string, string], AliasRow>(`${ALIAS} WHERE machine_name = ? AND name = ?`),
    aliases: db.prepare<[string, string, number], AliasRow>(`${ALIAS} WHERE machine_name = ? AND name > ? ORDER BY name LIMIT ?`),
    aliasCount: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM state_machine_aliases WHERE machine_name = ?'),
    insertAlias: db.prepare(
      'INSERT INTO state_machine_aliases (machine_name, name, description, routing, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateAlias: db.prepare('UPDATE state_machine_aliases SET description = ?, routing = ?, updated_at = ? WHERE machine_name = ? AND name = ?'),
    deleteAlias: db.prepare('DELETE FROM state_machine_aliases WHERE machine_name = ? AND name = ?'),
    deleteVersions: db.prepare('DELETE FROM state_machine_versions WHERE machine_name = ?'),
    deleteAliases: db.prepare('DELETE FROM state_machine_aliases WHERE machine_name = ?'),
  };
  const versionsExist = (name: string, versions: number[]) => versions.every((v) => sql.version.get(name, v) !== undefined);

  const publish = db.transaction((p: Parameters<StateMachineStore['stateMachineVersionPublish']>[0]) => {
    const machine = sql.machine.get(p.name);
    if (!machine) return { outcome: 'missing' as const };
    const revisionId = Number(machine.revision_id);
    if (p.expectedRevisionId !== undefined && p.expectedRevisionId !== revisionId) return { outcome: 'conflict' as const };
    const existing = sql.forRevision.get(p.name, revisionId);
    if (existing) return { outcome: 'exists' as const, version: toVersion(existing) };
    if (sql.count.get(p.name)!.n >= p.limit) return { outcome: 'quota' as const };
    const version = Number(machine.last_version) + 1;
    sql.bump.run(version, p.name);
    sql.insertVersion.run(p.name, version, revisionId, p.description, p.now);
    return { outcome: 'published' as const, version: { version, revisionId, description: p.description, createdAt: p.now } };
  });
  const deleteVersion = db.transaction((p: { name: string; version: number }) => {
    if (routesTo(sql.routings.all(p.name).map((r) => r.routing), p.version)) return 'aliased' as const;
    return sql.deleteVersion.run(p.name, p.version).changes === 1 ? ('deleted' as const) : ('missing' as const);
  });
  const createAlias = db.transaction((p: Parameters<StateMachineStore['stateMachineAliasCreate']>[0]) => {
    if (!sql.machine.get(p.name)) return { outcome: 'missing' as const };
    const existing = sql.alias.get(p.name, p.alias.name);
    if (existing) return { outcome: 'exists' as const, alias: toAlias(existing) };
    if (!versionsExist(p.name, p.alias.routing.map((r) => r.version))) return { outcome: 'missingVersion' as const };
    if (sql.aliasCount.get(p.name)!.n >= p.limit) return { outcome: 'quota' as const };
    const a = p.alias;
    sql.insertAlias.run(p.name, a.name, a.description, JSON.stringify(a.routing), a.createdAt, a.updatedAt);
    return { outcome: 'created' as const, alias: a };
  });
  const updateAlias = db.transaction((p: Parameters<StateMachineStore['stateMachineAliasUpdate']>[0]) => {
    const row = sql.alias.get(p.name, p.alias);
    if (!row) return { outcome: 'missing' as const };
    if (p.routing && !versionsExist(p.name, p.routing.map((r) => r.version))) return { outcome: 'missingVersion' as const };
    const routing = p.routing ? JSON.stringify(p.routing) : row.routing;
    const description = p.description ?? row.description;
    sql.updateAlias.run(description, routing, p.now, p.name, p.alias);
    return { outcome: 'updated' as const, alias: toAlias({ ...row, description, routing, updated_at: p.now }) };
  });

  return {
    async stateMachineVersionPublish(p) {
      return publish(p);
    },
    async stateMachineVersionGet({ name, version }) {
      const row = sql.version.get(name, version);
      return row ? toVersion(row) : undefined;
    },
    async stateMachineVersionList({ name, before, limit }) {
      return sql.versions.all(name, before ?? Number.MAX_SAFE_INTEGER, limit).map(toVersion);
    },
    async stateMachineVersionDelete(p) {
      return deleteVersion(p);
    },
    async stateMachineAliasCreate(p) {
      return createAlias(p);
    },
    async stateMachineAliasGet({ name, alias }) {
      const row = sql.alias.get(name, alias);
      return row ? toAlias(row) : undefined;
    },
    async stateMachineAliasList({ name, after, limit }) {
      return sql.aliases.all(name, after ?? '', limit).map(toAlias);
    },
    async stateMachineAliasUpdate(p) {
      return updateAlias(p);
    },
    async stateMachineAliasDelete({ name, alias }) {
      return sql.deleteAlias.run(name, alias).changes === 1;
    },
    /** A deleted machine's versions and aliases go with it (called in the delete's transaction). */
    deleteVersionsAndAliases(name) {
      sql.deleteVersions.run(name);
      sql.deleteAliases.run(name);
    },
  };
}
