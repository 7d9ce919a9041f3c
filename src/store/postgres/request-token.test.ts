/**
 * A ClientRequestToken is taken in the writing statement: the same token sent to two nodes at once
 * (two stores, two pools on one schema) applies once; the other finds it taken ('replayed') or, while
 * the first is still being applied, in progress ('tokenInProgress', DynamoDB's
 * TransactionInProgressException), and its retry then finds it taken.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ItemWrite } from '../table-store.js';
import type { PostgresStore } from './store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';

describePostgres('request tokens on PostgreSQL', () => {
  const schema = freshSchemaName();
  let a: PostgresStore;
  let b: PostgresStore;
  beforeAll(async () => {
    a = await openTestStore({ schema, dropSchemaOnClose: false });
    b = await openTestStore({ schema, dropSchemaOnClose: false });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await dropSchema(schema);
  });

  it('applies a token sent to two nodes at once exactly once', async () => {
    const { table } = await a.tableCreate({
      name: 'counter',
      definition: { partitionKey: { name: 'k', type: 'S' }, sortKey: null, stream: null, ttlAttribute: null, shardCount: 1 },
      now: 1,
    });
    const increment = (): ItemWrite => ({
      tableId: table.id,
      key: { pk: Buffer.from('c'), sk: Buffer.alloc(0) },
      shard: null,
      indexVersion: table.indexVersion,
      decide: (current) => {
        const n = current ? (JSON.parse(current) as { n: number }).n : 0;
        return { kind: 'put', item: JSON.stringify({ k: 'c', n: n + 1 }), size: 4, expiresAt: null, record: null };
      },
    });
    for (let round = 0; round < 10; round++) {
      const requestToken = { token: `t${round}`, fingerprint: 'f', notBefore: 0 };
      const outcomes = await Promise.all(
        [a, b].map((store) => store.itemWrite({ writes: [increment()], now: 10, requestToken })),
      );
      // Which of the two the loser sees depends on timing (in progress in practice: both start together).
      const losers = outcomes.map((o) => o.outcome).filter((outcome) => outcome !== 'written');
      expect(losers).toHaveLength(1);
      expect(['replayed', 'tokenInProgress']).toContain(losers[0]);
      const retry = await b.itemWrite({ writes: [increment()], now: 10, requestToken });
      expect(retry.outcome).toBe('replayed');
    }
    const row = await a.itemGet({ tableId: table.id, key: increment().key });
    expect(JSON.parse(row!.item)).toEqual({ k: 'c', n: 10 });
    expect((await b.itemWrite({ writes: [increment()], now: 10, requestToken: { token: 't0', fingerprint: 'g', notBefore: 0 } })).outcome).toBe('tokenMismatch');
  });
});
