/**
 * DynamoDB's item collection limit, with a small limit so a test reaches it: in a table with local
 * secondary indexes, the items of one partition key plus their local index entries hold at most the
 * limit. A write that would grow a collection past it gets ItemCollectionSizeLimitExceededException
 * (in a transaction: TransactionCanceledException with the reason ItemCollectionSizeLimitExceeded) and
 * writes nothing; writes that shrink a collection, other collections, and tables without local indexes
 * are not limited. The kept sizes are exact, and migration 20 computes them for existing tables. On
 * SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { quoteIdentifier } from '../store/postgres/connection.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, withAdminClient } from '../testkit/postgres.js';
import { itemSize } from './item-size.js';

const LIMIT = 3000;
const note = 'x'.repeat(400);

async function threads(sluice: Sluice, local: boolean): Promise<void> {
  await sluice.tables.createTable({
    name: local ? 'threads' : 'plain',
    partitionKey: { name: 'forum', type: 'S' },
    sortKey: { name: 'subject', type: 'S' },
    ...(local
      ? {
          indexes: [
            { name: 'by-last-post', kind: 'local' as const, partitionKey: { name: 'forum', type: 'S' as const }, sortKey: { name: 'lastPost', type: 'S' as const }, projection: { type: 'ALL' as const } },
          ],
        }
      : {}),
  });
}

async function code(promise: Promise<unknown>): Promise<{ code: string; message: string; reasons?: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: string; message: string; cancellationReasons?: unknown };
    return { code: e.code, message: e.message, ...(e.cancellationReasons ? { reasons: e.cancellationReasons } : {}) };
  }
  throw new Error('expected the write to be refused');
}

/** Puts items into a collection until one is refused; returns how many went in. */
async function fill(sluice: Sluice, table: string, forum: string): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      await sluice.tables.putItem({ tableName: table, item: { forum, subject: `s${i}`, lastPost: `p${i}`, note } });
    } catch (error) {
      expect((error as { code: string }).code).toBe('ItemCollectionSizeLimitExceededException');
      return i;
    }
    if (i > 100) return i;
  }
}

async function collectionBytes(store: Store, tableId: number): Promise<Map<string, number>> {
  // Recomputed from the items: each counts itself and, once more, its entry in the ALL-projected local index.
  const bytes = new Map<string, number>();
  let startAfter = null;
  do {
    const page = await store.itemScan({ tableId, startAfter, limit: 1000, maxBytes: 1 << 30 });
    for (const row of page.rows) bytes.set(row.pk.toString('hex'), (bytes.get(row.pk.toString('hex')) ?? 0) + 2 * row.size);
    startAfter = page.truncated ? page.rows[page.rows.length - 1]! : null;
  } while (startAfter);
  return bytes;
}

async function limits(sluice: Sluice): Promise<void> {
  await threads(sluice, true);
  await threads(sluice, false);
  const perItem = 2 * itemSize({ forum: 'S3', subject: 's0', lastPost: 'p0', note });
  const fits = await fill(sluice, 'threads', 'S3');
  expect(fits).toBe(Math.floor(LIMIT / perItem));
  const refused = await code(sluice.tables.putItem({ tableName: 'threads', item: { forum: 'S3', subject: 'late', lastPost: 'p', note } }));
  expect(refused).toEqual({
    code: 'ItemCollectionSizeLimitExceededException',
    message: `Item collection size limit exceeded: the total size of an item collection has exceeded the maximum limit of ${LIMIT} bytes`,
  });
  expect((await sluice.tables.getItem({ tableName: 'threads', key: { forum: 'S3', subject: 'late' } })).item).toBeUndefined();
  // Growing an item of the full collection is refused too; shrinking one, and deleting, go through.
  const grow = sluice.tables.updateItem({ tableName: 'threads', key: { forum: 'S3', subject: 's0' }, updateExpression: 'SET more = :m', expressionAttributeValues: { ':m': note } });
  expect((await code(grow)).code).toBe('ItemCollectionSizeLimitExceededException');
  await sluice.tables.updateItem({ tableName: 'threads', key: { forum: 'S3', subject: 's0' }, updateExpression: 'REMOVE note' });
  await sluice.tables.deleteItem({ tableName: 'threads', key: { forum: 'S3', subject: 's1' } });
  await sluice.tables.putItem({ tableName: 'threads', item: { forum: 'S3', subject: 'late', lastPost: 'p', note } });
  // Other collections, and tables without local indexes, are not limited by it.
  expect(await fill(sluice, 'threads', 'EC2')).toBe(fits);
  expect(await fill(sluice, 'plain', 'S3')).toBeGreaterThan(100);
  // In a transaction: cancelled, with the reason at the write that would grow the collection.
  const cancelled = await code(
    sluice.tables.transactWriteItems([
      { put: { tableName: 'threads', item: { forum: 'Lambda', subject: 'a', lastPost: 'p', note } } },
      { put: { tableName: 'threads', item: { forum: 'EC2', subject: 'late', lastPost: 'p', note } } },
    ]),
  );
  expect(cancelled.code).toBe('TransactionCanceledException');
  expect(cancelled.reasons).toEqual([
    { code: 'None' },
    { code: 'ItemCollectionSizeLimitExceeded', message: refused.message },
  ]);
  expect((await sluice.tables.getItem({ tableName: 'threads', key: { forum: 'Lambda', subject: 'a' } })).item).toBeUndefined();
  // ReturnItemCollectionMetrics SIZE: the collection's key and its kept size as a range of whole GB.
  const reported = await sluice.tables.putItem({ tableName: 'threads', item: { forum: 'Lambda', subject: 'b', lastPost: 'p' }, returnItemCollectionMetrics: 'SIZE' });
  expect(reported.itemCollectionMetrics).toEqual({ itemCollectionKey: { forum: 'Lambda' }, sizeEstimateRangeGB: [0, 1] });
  const plain = await sluice.tables.putItem({ tableName: 'plain', item: { forum: 'Lambda', subject: 'b' }, returnItemCollectionMetrics: 'SIZE' });
  expect(plain.itemCollectionMetrics).toBeUndefined();
  // BatchWriteItem: the exception itself, for the whole call; its other writes are not made either.
  const batch = sluice.tables.batchWriteItem([
    { tableName: 'threads', put: { forum: 'Lambda', subject: 'with-late', lastPost: 'p' } },
    { tableName: 'threads', put: { forum: 'EC2', subject: 'late', lastPost: 'p', note } },
  ]);
  expect((await code(batch)).code).toBe('ItemCollectionSizeLimitExceededException');
  expect((await sluice.tables.getItem({ tableName: 'threads', key: { forum: 'Lambda', subject: 'with-late' } })).item).toBeUndefined();
  // BatchWriteItem and TransactWriteItems with SIZE: each collection written, once, under its table's
  // name; none for tables without local indexes, nor for a condition check; nothing unless asked.
  const batched = await sluice.tables.batchWriteItem(
    [
      { tableName: 'threads', put: { forum: 'Lambda', subject: 'c', lastPost: 'p' } },
      { tableName: 'threads', delete: { forum: 'Lambda', subject: 'b' } },
      { tableName: 'threads', put: { forum: 'RDS', subject: 'a', lastPost: 'p' } },
      { tableName: 'plain', put: { forum: 'Lambda', subject: 'c' } },
    ],
    { returnItemCollectionMetrics: 'SIZE' },
  );
  expect(batched).toEqual({
    unprocessedItems: [],
    itemCollectionMetrics: {
      threads: [
        { itemCollectionKey: { forum: 'Lambda' }, sizeEstimateRangeGB: [0, 1] },
        { itemCollectionKey: { forum: 'RDS' }, sizeEstimateRangeGB: [0, 1] },
      ],
    },
  });
  expect(await sluice.tables.batchWriteItem([{ tableName: 'threads', put: { forum: 'RDS', subject: 'b', lastPost: 'p' } }])).toEqual({ unprocessedItems: [] });
  const transacted = await sluice.tables.transactWriteItems(
    [
      { update: { tableName: 'threads', key: { forum: 'SQS', subject: 'a' }, updateExpression: 'SET lastPost = :p', expressionAttributeValues: { ':p': 'p' } } },
      { conditionCheck: { tableName: 'threads', key: { forum: 'RDS', subject: 'a' }, conditionExpression: 'attribute_exists(forum)' } },
      { put: { tableName: 'plain', item: { forum: 'SQS', subject: 'a' } } },
    ],
    { returnItemCollectionMetrics: 'SIZE' },
  );
  expect(transacted).toEqual({ itemCollectionMetrics: { threads: [{ itemCollectionKey: { forum: 'SQS' }, sizeEstimateRangeGB: [0, 1] }] } });
  expect(await sluice.tables.transactWriteItems([{ put: { tableName: 'plain', item: { forum: 'SQS', subject: 'b' } } }], { returnItemCollectionMetrics: 'SIZE' })).toEqual({});
}

async function keptSizes(store: Store): Promise<{ kept: Map<string, number>; actual: Map<string, number> }> {
  const table = (await store.tableGet({ name: 'threads' }))!;
  const actual = await collectionBytes(store, table.id);
  const kept = new Map<string, number>();
  for (const pk of actual.keys()) kept.set(pk, await store.itemCollectionBytes({ tableId: table.id, pk: Buffer.from(pk, 'hex') }));
  return { kept, actual };
}

describe('item collection size limit (SQLite)', () => {
  it('refuses writes that grow a collection of a table with local indexes past the limit, and keeps exact sizes', async () => {
    const store = await openStore('sqlite::memory:');
    const sluice = await Sluice.open({ store, itemCollectionLimitBytes: LIMIT });
    await limits(sluice);
    const { kept, actual } = await keptSizes(store);
    expect(kept).toEqual(actual);
    await sluice.close();
  });
});

/** Takes a store back to before migration 20 (no kept sizes), so that opening it runs the migration again. */
const BEFORE_20 = 'DROP TABLE item_collections; DELETE FROM schema_migrations WHERE version = 20;';

describe('item collection sizes of existing tables (migration 20, SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-collections-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are computed from the items and local index entries when the migration runs', async () => {
    const path = join(dir, 'store.db');
    const first = await Sluice.open({ store: `sqlite:${path}`, itemCollectionLimitBytes: LIMIT });
    await limits(first);
    await first.close();
    const db = new Database(path);
    db.exec(BEFORE_20);
    db.close();
    const store = await openStore(`sqlite:${path}`);
    const { kept, actual } = await keptSizes(store);
    expect(kept.size).toBe(5); // S3, EC2, Lambda, RDS, SQS
    expect(kept).toEqual(actual);
    await store.close();
  });
});

describePostgres('item collection size limit (PostgreSQL)', () => {
  const schema = freshSchemaName();
  afterAll(async () => dropSchema(schema));

  it('refuses writes that grow a collection of a table with local indexes past the limit, and keeps exact sizes', async () => {
    const store = await openTestStore({ schema, dropSchemaOnClose: false });
    const sluice = await Sluice.open({ store, itemCollectionLimitBytes: LIMIT });
    await limits(sluice);
    const { kept, actual } = await keptSizes(store);
    expect(kept).toEqual(actual);
    await sluice.close();
  });

  it('computes the sizes of existing tables when migration 20 runs', async () => {
    await withAdminClient(async (client) => client.query(`SET search_path TO ${quoteIdentifier(schema)}; ${BEFORE_20}`));
    const store = await openTestStore({ schema, dropSchemaOnClose: false });
    const { kept, actual } = await keptSizes(store);
    expect(kept.size).toBe(5); // S3, EC2, Lambda, RDS, SQS
    expect(kept).toEqual(actual);
    await store.close();
  });
});
