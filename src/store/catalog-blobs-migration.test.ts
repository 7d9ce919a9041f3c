/**
 * Migration 24 on both backends: attachments stored before it (a copy of the zip per entry) become
 * references to bytes kept once per SHA-256, none lost.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate as migrateSqlite } from './sqlite/database.js';
import { sqliteMigrations } from './sqlite/migrations.js';
import { migrate as migratePostgres, postgresMigrations } from './postgres/migrations.js';
import { parsePostgresUrl } from './postgres/connection.js';
import { describePostgres, dropSchema, freshSchemaName, testPostgresUrl } from '../testkit/postgres.js';

const before = <M extends { version: number }>(migrations: M[]) => migrations.filter((migration) => migration.version < 24);
const rows = [
  ['function', 'f', 'a'.repeat(64), Buffer.from('zip one')],
  ['function-version', 'f:1', 'a'.repeat(64), Buffer.from('zip one')],
  ['function-version', 'f:2', 'b'.repeat(64), Buffer.from('zip two')],
] as const;
const expected = {
  references: [
    ['function', 'f', 'a'.repeat(64)],
    ['function-version', 'f:1', 'a'.repeat(64)],
    ['function-version', 'f:2', 'b'.repeat(64)],
  ],
  blobs: [
    ['a'.repeat(64), 'zip one'],
    ['b'.repeat(64), 'zip two'],
  ],
};

describe('migration 24 (SQLite)', () => {
  it('moves each distinct zip to catalog_blobs and keeps every reference', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, before(sqliteMigrations));
    const insert = db.prepare('INSERT INTO catalog_attachments (kind, name, sha256, content) VALUES (?, ?, ?, ?)');
    for (const row of rows) insert.run(...row);
    migrateSqlite(db, sqliteMigrations);
    expect(db.prepare('SELECT kind, name, sha256 FROM catalog_attachments ORDER BY kind, name').raw().all()).toEqual(expected.references);
    expect(db.prepare('SELECT sha256, CAST(content AS TEXT) FROM catalog_blobs ORDER BY sha256').raw().all()).toEqual(expected.blobs);
    db.close();
  });
});

describePostgres('migration 24 (PostgreSQL)', () => {
  it('moves each distinct zip to catalog_blobs and keeps every reference', async () => {
    const schema = freshSchemaName();
    const client = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
    await client.connect();
    try {
      await migratePostgres(client, schema, before(postgresMigrations));
      for (const row of rows) await client.query(`INSERT INTO "${schema}".catalog_attachments (kind, name, sha256, content) VALUES ($1, $2, $3, $4)`, [...row]);
      expect(await migratePostgres(client, schema, postgresMigrations)).toContain(24);
      const references = await client.query({ text: `SELECT kind, name, sha256 FROM "${schema}".catalog_attachments ORDER BY kind, name`, rowMode: 'array' });
      expect(references.rows).toEqual(expected.references);
      const blobs = await client.query({ text: `SELECT sha256, convert_from(content, 'UTF8') FROM "${schema}".catalog_blobs ORDER BY sha256`, rowMode: 'array' });
      expect(blobs.rows).toEqual(expected.blobs);
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });
});
