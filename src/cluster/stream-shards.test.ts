/**
 * Stream triggers in a cluster: engines on one store each declare the same stream trigger, and the
 * shards' leases decide which engine reads which shard. Run on PostgreSQL (nodes on one schema) and on
 * SQLite (engines sharing one file with `cluster: true`), in one process so a handler sees every node.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import type { Store } from '../store/store.js';
import { createSqliteStore } from '../store/sqlite/store.js';
import {
  dropSchema,
  freshSchemaName,
  openTestStore,
  postgresSkipped,
} from '../testkit/postgres.js';

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
        const sluice = await Sluice.open({ store: await shared.open(), cluster: { nodeId: id, ...timing } });
        nodes.set(id, sluice);
        cleanups.push(async () => {
          if (nodes.get(id) === sluice) await sluice.close({ graceMs: 1000 });
        });
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
  });
}
