/**
 * A write whose statement had to wait for a table's index change (UpdateTable adding or removing an
 * index, which locks the table row FOR UPDATE) finds the new index_version when its lock is granted and
 * is refused as `tableChanged`, instead of committing without the new index's entry (item-writes.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import type { ItemWrite } from '../table-store.js';
import { parsePostgresUrl, quoteIdentifier } from './connection.js';
import type { PostgresStore } from './store.js';
import { describePostgres, freshSchemaName, openTestStore, testPostgresUrl } from '../../testkit/postgres.js';

describePostgres('index_version on PostgreSQL', () => {
  let store: PostgresStore;
  const schema = freshSchemaName();
  beforeAll(async () => {
    store = await openTestStore({ schema });
  });
  afterAll(async () => store.close());

  it('refuses a write that waited for an index change to commit', async () => {
    const { table } = await store.tableCreate({
      name: 't',
      definition: { partitionKey: { name: 'k', type: 'S' }, sortKey: null, stream: null, ttlAttribute: null, shardCount: 1 },
      now: 1,
    });
    expect(table.indexVersion).toBe(1);
    const write = (pk: string): ItemWrite => ({
      tableId: table.id,
      key: { pk: Buffer.from(pk), sk: Buffer.alloc(0) },
      shard: null,
      indexVersion: 1,
      decide: () => ({ kind: 'put', item: '{"k":{"S":"a"}}', size: 2, expiresAt: null, record: null }),
    });
    const admin = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(`SELECT id FROM ${quoteIdentifier(schema)}.tables WHERE id = $1 FOR UPDATE`, [table.id]);
      await admin.query(`UPDATE ${quoteIdentifier(schema)}.tables SET index_version = 2 WHERE id = $1`, [table.id]);
      // Reads version 1 (the change is not committed), then waits for the table row's lock.
      const pending = store.itemWrite({ writes: [write('a')], now: 1 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await admin.query('COMMIT');
      expect(await pending).toEqual({ outcome: 'tableChanged', tableId: table.id });
      expect(await store.itemGet({ tableId: table.id, key: write('a').key })).toBeUndefined();
    } finally {
      await admin.end();
    }
  });
});
