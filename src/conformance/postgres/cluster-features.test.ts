/**
 * Tables, streams, schedules, batches and task tokens with several nodes on one database: two stores on
 * one schema stand for two Sluice nodes. These are the guarantees the conformance suite cannot show with
 * one store: stream order under writers on different nodes, conditional writes that race across nodes,
 * a schedule tick and a batch finalizer claimed once, and a task token's wake-up crossing nodes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import type { ChunkAck } from '../../store/batch-store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';
import type { PostgresStore } from '../../store/postgres/store.js';

describePostgres('postgres cluster: tables, streams, schedules, batches and task tokens on two nodes', () => {
  let schema: string;
  let stores: PostgresStore[];
  let nodes: Sluice[];

  beforeEach(async () => {
    schema = freshSchemaName();
    stores = [await openTestStore({ schema }), await openTestStore({ schema })];
    nodes = await Promise.all(stores.map((store) => Sluice.open({ store })));
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await dropSchema(schema);
  });

  const node = (index: number) => nodes[index % nodes.length]!;
  const store = (index: number) => stores[index % stores.length]! as PostgresStore;

  it('numbers the records of one shard without gaps and in commit order under concurrent writers on two nodes', async () => {
    const table = await node(0).tables.createTable({
      name: 'events',
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'N' },
      stream: { viewType: 'KEYS_ONLY' },
      streamShardCount: 1,
    });
    const writers = 8;
    const perWriter = 60;
    let writing = true;
    // A reader tails the shard on each node: a committed record below one it already saw would be a gap.
    const tail = async (index: number) => {
      let last = 0;
      const gaps: string[] = [];
      for (;;) {
        const done = !writing;
        const rows = await store(index).streamRead({
          tableId: table.tableId,
          shard: 0,
          afterSeq: last,
          limit: 7,
        });
        for (const row of rows) {
          if (row.seq !== last + 1) gaps.push(`after ${last} came ${row.seq}`);
          last = row.seq;
        }
        if (done && rows.length === 0) return { last, gaps };
      }
    };
    const readers = [tail(0), tail(1)];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          await node(w).tables.putItem({ tableName: 'events', item: { pk: `w${w}`, sk: i } });
        }
      }),
    );
    writing = false;
    for (const result of await Promise.all(readers)) {
      expect(result.gaps).toEqual([]);
      expect(result.last).toBe(writers * perWriter);
    }
    // Each writer's records are in its own order, since its writes were sequential.
    const all = await store(0).streamRead({ tableId: table.tableId, shard: 0, afterSeq: 0, limit: 10_000 });
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i + 1));
    const perKey = new Map<string, number[]>();
    for (const record of all) {
      const keys = JSON.parse(record.body) as { Keys: { pk: { S: string }; sk: { N: string } } };
      const list = perKey.get(keys.Keys.pk.S) ?? [];
      list.push(Number(keys.Keys.sk.N));
      perKey.set(keys.Keys.pk.S, list);
    }
    for (const list of perKey.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
  });

  it('lets exactly one of two nodes create an item under attribute_not_exists, and loses no increment', async () => {
    await node(0).tables.createTable({ name: 'locks', partitionKey: { name: 'id', type: 'S' } });
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.allSettled(
        [0, 1, 2, 3].map((n) =>
          node(n).tables.putItem({
            tableName: 'locks',
            item: { id: `lock-${round}`, owner: n },
            conditionExpression: 'attribute_not_exists(id)',
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    }
    await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        for (let i = 0; i < 20; i++) {
          await node(n).tables.updateItem({
            tableName: 'locks',
            key: { id: 'counter' },
            updateExpression: 'ADD n :one',
            expressionAttributeValues: { ':one': 1 },
          });
        }
      }),
    );
    expect((await node(1).tables.getItem({ tableName: 'locks', key: { id: 'counter' } })).item).toEqual({
      id: 'counter',
      n: 200,
    });
  });

  it('leaves no item or stream record behind when a table is deleted while two nodes write to it', async () => {
    const table = await node(0).tables.createTable({
      name: 'doomed',
      partitionKey: { name: 'pk', type: 'S' },
      stream: { viewType: 'KEYS_ONLY' },
    });
    let written = 0;
    const writer = async (n: number) => {
      for (let i = 0; ; i++) {
        try {
          await node(n).tables.putItem({ tableName: 'doomed', item: { pk: `n${n}-${i}` } });
          written++;
        } catch {
          return; // the table is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (written < 100) await new Promise((resolve) => setTimeout(resolve, 5));
    await node(1).tables.deleteTable('doomed');
    await Promise.all(writers);
    const count = async (sqlTable: string) =>
      (
        await store(0).pool.query<{ n: number }>(
          `SELECT count(*) AS n FROM ${sqlTable} WHERE table_id = $1`,
          [table.tableId],
        )
      ).rows[0]?.n;
    expect(await count('items')).toBe(0);
    expect(await count('stream_records')).toBe(0);
    expect(await count('stream_shards')).toBe(0);
  });

  it('claims each schedule tick on one of two racing nodes, with one outbox delivery', async () => {
    // Tomorrow: the nodes' own schedule services (on the system clock) leave these ticks alone.
    const now = Date.now() + 86_400_000;
    const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
    for (const name of names) {
      await store(0).scheduleCreate({
        schedule: {
          name,
          expression: 'rate(1 minute)',
          timezone: 'UTC',
          target: { kind: 'queue', queue: 'ticks' },
          state: 'ENABLED',
          catchUpWindowMs: 60_000,
          anchorAt: now,
          nextFireAt: now + 60_000,
          policy: null,
          lastTickAt: null,
          lastFiredAt: null,
          createdAt: now,
          modifiedAt: now,
        },
      });
    }
    const claims = await Promise.all(
      names.flatMap((name) =>
        [0, 1, 2, 3].map(async (n) => ({
          name,
          claimed: await store(n).scheduleClaimTick({
            name,
            tick: now + 60_000,
            nextFireAt: now + 120_000,
            delivery: { key: `schedule:${name}:${now + 60_000}`, topic: 'schedule', payload: `{"by":${n}}` },
            now: now + 60_000,
          }),
        })),
      ),
    );
    for (const name of names) {
      expect(claims.filter((c) => c.name === name && c.claimed)).toHaveLength(1);
      expect(await store(1).outboxGet({ key: `schedule:${name}:${now + 60_000}` })).toBeDefined();
      expect((await store(1).scheduleGet({ name }))?.nextFireAt).toBe(now + 120_000);
    }
    const [row] = (await store(0).pool.query<{ n: number }>('SELECT count(*) AS n FROM outbox')).rows;
    expect(row?.n).toBe(names.length);
  });

  it('finalizes a batch once when two nodes ack its last chunks at the same time', async () => {
    const batchCount = 25;
    const chunks = 6;
    const now = Date.UTC(2026, 0, 1);
    const ids = Array.from({ length: batchCount }, (_, i) => `b${i}`);
    for (const id of ids) {
      await store(0).batchCreate({
        batch: {
          id,
          processor: 'p',
          queueName: 'q',
          finalizer: null,
          itemsPerMessage: 10,
          maxAttempts: 3,
          metadata: null,
          createdAt: now,
        },
      });
      await store(0).batchEnqueued({ id, items: chunks * 10, chunks });
      await store(0).batchSeal({ id, total: chunks * 10, chunks, now });
    }
    const ack = (batchId: string, chunk: number): ChunkAck => ({
      batchId,
      chunk,
      items: 10,
      failures: chunk === 0 ? [{ index: 0, item: '0', error: 'boom' }] : [],
    });
    // Every chunk is acked by both nodes, each in its own order, so the last chunk races on both.
    const acker = async (n: number) => {
      const finalized: string[] = [];
      const order = Array.from({ length: chunks }, (_, c) => (n === 0 ? c : chunks - 1 - c));
      for (const chunk of order) {
        const result = await store(n).batchAckChunks({ acks: ids.map((id) => ack(id, chunk)), now });
        finalized.push(...result.finalized);
      }
      return finalized;
    };
    const [first, second] = await Promise.all([acker(0), acker(1)]);
    const finalized = [...first!, ...second!].sort();
    expect(finalized).toEqual([...ids].sort());
    for (const id of ids) {
      expect(await store(1).batchGet({ id })).toMatchObject({
        status: 'COMPLETED',
        succeeded: chunks * 10 - 1,
        failed: 1,
      });
      const entry = await store(1).outboxGet({ key: `batch:${id}` });
      expect(JSON.parse(entry!.payload)).toMatchObject({
        summary: { batchId: id, succeeded: chunks * 10 - 1, failed: 1 },
      });
    }
    const [row] = (await store(0).pool.query<{ n: number }>('SELECT count(*) AS n FROM outbox')).rows;
    expect(row?.n).toBe(batchCount);
  });

  it('wakes a task-token waiter on one node when another node completes the token', async () => {
    const task = await node(0).callbacks.create({ timeoutSeconds: 3600 });
    const waited = node(1).callbacks.wait(task.token);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the waiter has read WAITING and sleeps
    await node(0).callbacks.sendTaskSuccess(task.token, { ok: true });
    await expect(waited).resolves.toMatchObject({ status: 'SUCCEEDED' });
  });
});
