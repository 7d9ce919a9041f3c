/**
 * Query and scan pages on PostgreSQL end by rows or at 1 MB exactly as on SQLite. PostgreSQL applies the
 * byte bound in SQL (a running sum of sizes) and fetches large pages of small items in two steps, so this
 * compares the two backends page by page on the same items: thousands of small ones, and large ones that
 * end a page after a few rows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import type { Item } from '../../tables/expressions/index.js';
import { createSqliteStore } from '../../store/sqlite/store.js';
import { describePostgres, openTestStore } from '../../testkit/postgres.js';

describePostgres('postgres item pages', () => {
  const engines: Record<'sqlite' | 'postgres', Sluice> = {} as never;

  beforeAll(async () => {
    engines.sqlite = await Sluice.open({ store: createSqliteStore({ path: ':memory:' }) });
    engines.postgres = await Sluice.open({ store: await openTestStore() });
    const items: Item[] = [];
    for (let i = 0; i < 2600; i++) items.push({ pk: 'small', sk: i, v: 'x'.repeat(i % 300) });
    for (let i = 0; i < 40; i++) items.push({ pk: 'large', sk: i, v: 'y'.repeat(60_000 + i * 1000) });
    for (let i = 0; i < 300; i++) items.push({ pk: `p${i % 7}`, sk: i, v: 'z'.repeat(i * 37) });
    for (const sluice of Object.values(engines)) {
      await sluice.tables.createTable({
        name: 'pages',
        partitionKey: { name: 'pk', type: 'S' },
        sortKey: { name: 'sk', type: 'N' },
      });
      for (let i = 0; i < items.length; i += 25) {
        await sluice.tables.batchWriteItem(
          items.slice(i, i + 25).map((put) => ({ tableName: 'pages', put })),
        );
      }
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(engines).map((sluice) => sluice.close()));
  });

  /** Every page's keys and its lastEvaluatedKey, until the last page. */
  async function pages(
    read: (start: Item | undefined) => Promise<{ items: Item[]; lastEvaluatedKey?: Item }>,
  ): Promise<unknown[]> {
    const out: unknown[] = [];
    let start: Item | undefined;
    do {
      const page = await read(start);
      out.push({
        keys: page.items.map((item) => `${String(item.pk)}/${String(item.sk)}`),
        last: page.lastEvaluatedKey,
      });
      start = page.lastEvaluatedKey;
    } while (start && out.length < 1000);
    return out;
  }

  it('pages queries by rows and by bytes as the SQLite store does, in both directions', async () => {
    for (const pk of ['small', 'large', 'p3'])
      for (const forward of [true, false])
        for (const limit of [undefined, 1, 7, 1500]) {
          const [expected, actual] = await Promise.all(
            (['sqlite', 'postgres'] as const).map((name) =>
              pages((start) =>
                engines[name].tables.query({
                  tableName: 'pages',
                  keyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
                  expressionAttributeValues: { ':pk': pk, ':lo': 3, ':hi': 2500 },
                  scanIndexForward: forward,
                  ...(limit ? { limit } : {}),
                  ...(start ? { exclusiveStartKey: start } : {}),
                }),
              ),
            ),
          );
          expect(actual, `${pk} forward=${forward} limit=${limit}`).toEqual(expected);
        }
  });

  it('pages scans by rows and by bytes as the SQLite store does', async () => {
    for (const limit of [undefined, 13, 2000]) {
      const [expected, actual] = await Promise.all(
        (['sqlite', 'postgres'] as const).map((name) =>
          pages((start) =>
            engines[name].tables.scan({
              tableName: 'pages',
              ...(limit ? { limit } : {}),
              ...(start ? { exclusiveStartKey: start } : {}),
            }),
          ),
        ),
      );
      expect(actual, `limit=${limit}`).toEqual(expected);
      expect((expected as Array<{ keys: string[] }>).flatMap((p) => p.keys)).toHaveLength(2940);
    }
  });
});
