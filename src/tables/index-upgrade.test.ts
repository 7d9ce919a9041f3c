/**
 * Tables created before index entries were kept (migration 12 leaves them at index_version 0, with no
 * entries): a node that starts on such a store backfills every index before serving it. Simulated by
 * taking a current store back to that state (no entries, index_version 0), on SQLite and PostgreSQL.
 * Likewise an index whose background backfill a node left unfinished (it stopped or died) is finished
 * by the next node that starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { openStore } from '../store/open.js';
import type { BackfillLease } from '../store/table-store.js';
import { parsePostgresUrl, quoteIdentifier } from '../store/postgres/connection.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, testPostgresUrl } from '../testkit/postgres.js';

async function fill(sluice: Sluice): Promise<void> {
  await sluice.tables.createTable({
    name: 'tasks',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [{ name: 'by-status', kind: 'global', partitionKey: { name: 'status', type: 'S' }, sortKey: null, projection: { type: 'KEYS_ONLY' } }],
  });
  for (let i = 0; i < 30; i++) await sluice.tables.putItem({ tableName: 'tasks', item: { id: `t${i}`, ...(i % 3 ? { status: `s${i % 2}` } : {}) } });
}

async function openCount(sluice: Sluice): Promise<number> {
  const page = await sluice.tables.query({
    tableName: 'tasks',
    indexName: 'by-status',
    keyConditionExpression: '#s = :s',
    expressionAttributeNames: { '#s': 'status' },
    expressionAttributeValues: { ':s': 's1' },
  });
  return page.count;
}

/**
 * Adds an index and stops the node in the middle of its backfill: the store's batches are held until the
 * table service is stopping, so exactly one batch runs and the index is left CREATING in the store.
 */
async function stopMidBackfill(sluice: Sluice): Promise<void> {
  await sluice.tables.createTable({ name: 'late', partitionKey: { name: 'id', type: 'S' } });
  for (let i = 0; i < 1200; i += 25)
    await sluice.tables.batchWriteItem(
      Array.from({ length: 25 }, (_, k) => ({ tableName: 'late', put: { id: `t${i + k}`, status: 's1' } })),
    );
  const store = sluice.store;
  const original = store.indexBackfill;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  store.indexBackfill = async (p) => {
    await gate;
    return original.call(store, p);
  };
  const added = await sluice.tables.updateTable('late', {
    createIndex: { name: 'by-status', kind: 'global', partitionKey: { name: 'status', type: 'S' }, sortKey: null, projection: { type: 'KEYS_ONLY' } },
  });
  expect(added.indexes?.[0]?.backfilling).toBe(true);
  const stopping = sluice.tables.stop();
  release();
  await stopping;
  store.indexBackfill = original;
  expect((await store.tableGet({ name: 'late' }))?.definition.indexes?.[0]?.backfilling).toBe(true);
  await sluice.close();
}

async function lateCount(sluice: Sluice): Promise<{ count: number; backfilling: boolean }> {
  const page = await sluice.tables.query({
    tableName: 'late',
    indexName: 'by-status',
    keyConditionExpression: '#s = :s',
    expressionAttributeNames: { '#s': 'status' },
    expressionAttributeValues: { ':s': 's1' },
  });
  const table = await sluice.tables.describeTable('late');
  return { count: page.count, backfilling: table.indexes?.[0]?.backfilling ?? false };
}

const TO_VERSION_0 = 'DELETE FROM index_items; UPDATE tables SET index_version = 0;';

describe('index backfill of tables from before index entries (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-index-upgrade-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('backfills every index when a node starts', async () => {
    const path = join(dir, 'store.db');
    const first = await Sluice.open({ store: `sqlite:${path}` });
    await fill(first);
    const expected = await openCount(first);
    expect(expected).toBe(10);
    await first.close();
    const db = new Database(path);
    db.exec(TO_VERSION_0);
    db.close();
    const second = await Sluice.open({ store: `sqlite:${path}` });
    expect(await openCount(second)).toBe(expected);
    expect((await second.tables.require('tasks')).indexVersion).toBeGreaterThan(0);
    await second.close();
  });

  it('backfills them under the backfill lease, as an added index is, so another node could take it over', async () => {
    const path = join(dir, 'leased.db');
    const first = await Sluice.open({ store: `sqlite:${path}` });
    await fill(first);
    await first.close();
    const db = new Database(path);
    db.exec(TO_VERSION_0);
    db.close();
    const store = await openStore(`sqlite:${path}`);
    const original = store.indexBackfill;
    const leasesDuringFill: BackfillLease[][] = [];
    store.indexBackfill = async (p) => {
      leasesDuringFill.push(await store.backfillList());
      return original.call(store, p);
    };
    const second = await Sluice.open({ store });
    expect(await openCount(second)).toBe(10);
    expect(leasesDuringFill[0]).toEqual([
      expect.objectContaining({ index: 'by-status', owner: expect.any(String), leaseUntil: expect.any(Number) }),
    ]);
    expect(await store.backfillList()).toEqual([]); // ended with the backfill
    await second.close();
  });

  it('finishes, when a node starts, an index backfill a stopped node left CREATING', async () => {
    const path = join(dir, 'late.db');
    await stopMidBackfill(await Sluice.open({ store: `sqlite:${path}` }));
    const second = await Sluice.open({ store: `sqlite:${path}` });
    expect(await lateCount(second)).toEqual({ count: 1200, backfilling: false });
    await second.close();
  });
});

describePostgres('index backfill of tables from before index entries (PostgreSQL)', () => {
  const schema = freshSchemaName();
  afterAll(async () => dropSchema(schema));

  it('backfills every index when a node starts', async () => {
    const first = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }) });
    await fill(first);
    const expected = await openCount(first);
    await first.close();
    const admin = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
    await admin.connect();
    await admin.query(`SET search_path TO ${quoteIdentifier(schema)}; ${TO_VERSION_0}`);
    await admin.end();
    const second = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }) });
    expect(await openCount(second)).toBe(expected);
    await second.close();
  });

  it('finishes, when a node starts, an index backfill a stopped node left CREATING', async () => {
    const late = freshSchemaName();
    try {
      await stopMidBackfill(await Sluice.open({ store: await openTestStore({ schema: late, dropSchemaOnClose: false }) }));
      const second = await Sluice.open({ store: await openTestStore({ schema: late, dropSchemaOnClose: false }) });
      expect(await lateCount(second)).toEqual({ count: 1200, backfilling: false });
      await second.close();
    } finally {
      await dropSchema(late);
    }
  });
});
