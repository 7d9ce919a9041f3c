import pg from 'pg';
import { expect, it } from 'vitest';
import { parsePostgresUrl } from './connection.js';
import { migrate, postgresMigrations } from './migrations.js';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  openTestStore,
  testPostgresUrl,
} from '../../testkit/postgres.js';

describePostgres('postgres migrations', () => {
  it('apply once when three nodes start together on a fresh schema', async () => {
    const schema = freshSchemaName();
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openTestStore({ schema })));
      const [versions] = await Promise.all([
        stores[0]!.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'),
      ]);
      expect(versions.rows.map((row) => row.version)).toEqual(postgresMigrations.map((m) => m.version));
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await dropSchema(schema);
    }
  });

  it('are a no-op the second time', async () => {
    const store = await openTestStore();
    const client = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
    await client.connect();
    try {
      expect(await migrate(client, store.schema, postgresMigrations)).toEqual([]);
    } finally {
      await client.end();
      await store.close();
    }
  });

  it('drop a throwaway schema when its store closes', async () => {
    const store = await openTestStore();
    const schema = store.schema;
    await store.close();
    const client = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
