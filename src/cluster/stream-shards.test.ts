/**
 * Stream triggers in a cluster: engines on one store each declare the same stream trigger, and the
 * shards' leases decide which engine reads which shard. Run on PostgreSQL (nodes on one schema) and on
 * SQLite (engines sharing one file with `cluster: true`), in one process so a handler sees every node.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { SluiceContext } from '../functions/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import type { Store } from '../store/store.js';
import { createSqliteStore } from '../store/sqlite/store.js';
import { dropSchema, freshSchemaName, openTestStore, postgresSkipped } from '../testkit/postgres.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timing = { heartbeatMs: 100, leaseMs: 400, slotLingerMs: 100 };

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(20);
  }
}

interface Backend {
  name: string;
  /** A store on the shared database, and a cleanup once every node closed. */
  shared(): { open(): Promise<Store>; cleanup(): Promise<void> };
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    shared() {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-shards-'));
      return {
        open: async () => createSqliteStore({ path: join(dir, 'shared.db') }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  ...(postgresSkipped
    ? []
    : [
        {
          name: 'postgres',
          shared() {
            const schema = freshSchemaName();
            return { open: () => openTestStore({ schema }), cleanup: () => dropSchema(schema) };
          },
        },
      ]),
];

for (const backend of backends) {
  describe(`stream shards leased across engines (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const step of cleanups.splice(0).reverse()) await step();
    });

    /** A node on the shared store, closed after the test unless the test closed it already. */
    async function joinNode(
      shared: { open(): Promise<Store> },
      nodes: Map<string, Sluice>,
      id: string,
    ): Promise<Sluice> {
      const sluice = await Sluice.open({ store: await shared.open(), cluster: { nodeId: id, ...timing } });
      nodes.set(id, sluice);
      cleanups.push(async () => {
        if (nodes.get(id) === sluice) await sluice.close({ graceMs: 1000 });
      });
      return sluice;
    }

    it('serves each shard on one node at a time, hands shards over as nodes come and go, and loses nothing', async () => {
      const shared = backend.shared();
      cleanups.push(shared.cleanup);
      const keys = 40;
      const perKey = 30;
      const handled = new Map<string, number[]>(); // key -> values in the order they were handled
      const busyShards = new Map<string, string>(); // shard -> node handling it now
      let overlap = 0;
      const nodes = new Map<string, Sluice>();

      async function startNode(id: string): Promise<Sluice> {
        const sluice = await joinNode(shared, nodes, id);
        if (nodes.size === 1) {
          await sluice.tables.createTable({
            name: 'events',
            partitionKey: { name: 'pk', type: 'S' },
            stream: { viewType: 'NEW_IMAGE' },
            streamShardCount: 8,
          });
        }
        await sluice.functions.create({
          name: 'work',
          handler: async (event: DynamoDBStreamEvent) => {
            const shard = event.Records[0]!.eventID!.split(':')[0]!;
            if (busyShards.has(shard) && busyShards.get(shard) !== id) overlap++;
            busyShards.set(shard, id);
            await sleep(2);
            for (const record of event.Records) {
              const image = record.dynamodb!.NewImage!;
              const key = image.pk!.S!;
              handled.set(key, [...(handled.get(key) ?? []), Number(image.n!.N)]);
            }
            busyShards.delete(shard);
          },
        });
        await sluice.streamTriggers.create({
          stream: 'events',
          functionName: 'work',
          startingPosition: 'TRIM_HORIZON',
          batchSize: 5,
        });
        return sluice;
      }

      const writer = await startNode('a');
      await startNode('b');
      await startNode('c');
      const group = `${writer.streamTriggers.list()[0]!.eventSourceArn}#work`;

      for (let n = 0; n < perKey; n++) {
        await Promise.all(
          Array.from({ length: keys }, (_, k) =>
            writer.tables.putItem({ tableName: 'events', item: { pk: `k${k}`, n } as never }),
          ),
        );
        if (n === 10) {
          await nodes.get('c')!.close({ graceMs: 1000 }); // graceful: c's shards move at once
          nodes.delete('c');
        }
        if (n === 20) await startNode('d'); // shares shrink again
      }
      const done = () =>
        [...Array(keys).keys()].every((k) => (handled.get(`k${k}`) ?? []).includes(perKey - 1));
      await until(done);

      for (let k = 0; k < keys; k++) {
        const values = handled.get(`k${k}`)!;
        // At least once, in order: each value appears, and a value is never handled before its predecessor.
        expect(new Set(values).size).toBe(perKey);
        const firsts = [...new Set(values)];
        expect(firsts).toEqual([...Array(perKey).keys()]);
      }
      expect(overlap).toBe(0);
      // Every live node serves some shards (8 shards, 3 live nodes: 3/3/2).
      const owners = async () => {
        const count = new Map<string, number>();
        for (const lease of await writer.store.leaseList({ group }))
          if (lease.owner) count.set(lease.owner, (count.get(lease.owner) ?? 0) + 1);
        return [...count]
          .sort()
          .map(([owner, n]) => `${owner}:${n}`)
          .join(' ');
      };
      const deadline = Date.now() + 5_000;
      let seen = await owners();
      while (seen.split(' ').length !== 3 && Date.now() < deadline) {
        await sleep(50);
        seen = await owners();
      }
      expect(seen.replace(/:\d/g, '')).toBe('a b d');
      expect(
        seen
          .split(' ')
          .map((entry) => Number(entry.split(':')[1]))
          .sort(),
      ).toEqual([2, 3, 3]);
    });

    // A handler that loses its shard and wakes up late (a paused process) must not overwrite what the new
    // holder wrote: the lease token in its context rises with each takeover, and a conditional write on it
    // refuses the older copy's.
    it('gives stream handlers a fencing token that rises with each takeover and guards their writes', async () => {
      const shared = backend.shared();
      cleanups.push(shared.cleanup);
      const seen: Array<{ node: string; token: number | undefined }> = [];
      const nodes = new Map<string, Sluice>();
      async function startNode(id: string): Promise<Sluice> {
        const sluice = await joinNode(shared, nodes, id);
        if (nodes.size === 1) {
          await sluice.tables.createTable({
            name: 'fenced',
            partitionKey: { name: 'pk', type: 'S' },
            stream: { viewType: 'NEW_IMAGE' },
            streamShardCount: 1,
          });
          await sluice.tables.createTable({ name: 'totals', partitionKey: { name: 'pk', type: 'S' } });
        }
        await sluice.functions.create({
          name: 'fencedWork',
          handler: async (event: DynamoDBStreamEvent, context: SluiceContext) => {
            seen.push({ node: id, token: context.fencingToken });
            for (const record of event.Records) {
              await guardedWrite(sluice, record.dynamodb!.NewImage!.n!.N!, context.fencingToken!);
            }
          },
        });
        await sluice.streamTriggers.create({
          stream: 'fenced',
          functionName: 'fencedWork',
          startingPosition: 'TRIM_HORIZON',
        });
        return sluice;
      }
      const guardedWrite = (sluice: Sluice, value: string, token: number) =>
        sluice.tables.putItem({
          tableName: 'totals',
          item: { pk: 'total', value, fence: token } as never,
          conditionExpression: 'attribute_not_exists(fence) OR fence <= :token',
          expressionAttributeValues: { ':token': token } as never,
        });

      const a = await startNode('a');
      await a.tables.putItem({ tableName: 'fenced', item: { pk: 'k', n: 1 } as never });
      await until(() => seen.length >= 1);
      const first = seen[0]!;
      expect(first).toMatchObject({ node: 'a' });
      expect(first.token).toBeGreaterThan(0);

      // a falls silent (as a paused process does); b takes the shard over with a higher token.
      const b = await startNode('b');
      await a.cluster!.membership.stop();
      const group = `${b.streamTriggers.list()[0]!.eventSourceArn}#fencedWork`;
      const deadline = Date.now() + 20_000;
      while (!(await b.store.leaseList({ group })).every((lease) => lease.owner === 'b')) {
        if (Date.now() > deadline) throw new Error('b never took the shard over');
        await sleep(50);
      }
      await b.tables.putItem({ tableName: 'fenced', item: { pk: 'k', n: 2 } as never });
      await until(() => seen.some((s) => s.node === 'b'));
      const taken = seen.find((s) => s.node === 'b')!;
      expect(taken.token).toBeGreaterThan(first.token!);

      // a wakes up and finishes its old invocation late: the write carrying its old token is refused.
      const late = await guardedWrite(a, 'late', first.token!).then(
        () => 'written',
        (error: unknown) => (error as { code?: string }).code,
      );
      expect(late).toBe('ConditionalCheckFailedException');
      expect(
        (await b.tables.getItem({ tableName: 'totals', key: { pk: 'total' } as never })).item,
      ).toMatchObject({ value: '2' });
    });
  });
}
