/**
 * An index backfill whose node is killed (SIGKILL) mid-way is finished by another node that is running,
 * on one PostgreSQL schema (test/fixtures/cluster-node.ts): node B starts first and watches; node A adds
 * a global index to a table of 30,000 items and is killed once its backfill has saved progress. B takes
 * the lease over when it expires (not at a start: B started before), resuming after the saved key;
 * the index ends ACTIVE with exactly the entries of the items that have the attribute, and no lease
 * is left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, testPostgresUrl } from '../src/testkit/postgres.js';
import { startClusterNode, type RunningNode } from './support/cluster-node-process.js';

const ITEMS = 30_000;
const LEASE_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePostgres('index backfill of a node killed mid-way (PostgreSQL, node processes)', () => {
  const schema = freshSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-backfill-kill-'));
  const running: RunningNode[] = [];
  afterAll(async () => {
    for (const node of running) node.child.kill('SIGKILL');
    await Promise.all(running.map((node) => node.exited));
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it("is finished by a running node once the killed node's lease expired", async () => {
    const store = await openTestStore({ schema, dropSchemaOnClose: false });
    const sluice = await Sluice.open({ store, cluster: false });
    await sluice.tables.createTable({ name: 'tasks', partitionKey: { name: 'id', type: 'S' } });
    for (let i = 0; i < ITEMS; i += 25)
      await sluice.tables.batchWriteItem(
        Array.from({ length: 25 }, (_, k) => ({ tableName: 'tasks', put: { id: `t${String(i + k).padStart(6, '0')}`, ...((i + k) % 4 ? { status: 'open' } : {}) } })),
      );
    const url = `${testPostgresUrl}?schema=${schema}&poolSize=4`;
    const common = { store: url, log: join(dir, 'log'), heartbeatMs: 300, leaseMs: 2_000 };
    running.push(await startClusterNode({ ...common, nodeId: 'b', backfill: { leaseMs: LEASE_MS } }));
    const a = await startClusterNode({ ...common, nodeId: 'a', backfill: { leaseMs: LEASE_MS, add: { table: 'tasks', index: 'by-status', attribute: 'status' } } });
    running.push(a);
    // Killed once it has saved progress (a renewal carries the last key indexed).
    let saved: Buffer | undefined;
    for (let waited = 0; !saved; waited += 20) {
      if (waited > 30_000) throw new Error('node a saved no progress');
      const [lease] = await store.backfillList();
      saved = lease?.owner !== null && lease?.after ? lease.after.pk : undefined;
      await sleep(20);
    }
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const [left] = await store.backfillList();
    expect(left?.after).not.toBeNull();

    let took = 0;
    for (;;) {
      const table = await store.tableGet({ name: 'tasks' });
      if (table && !table.definition.indexes?.[0]?.backfilling) break;
      took = Date.now() - killedAt;
      if (took > 30_000) throw new Error('the backfill was not taken over');
      await sleep(50);
    }
    const stats = await store.indexStats({ tableId: (await store.tableGet({ name: 'tasks' }))!.id });
    expect(stats).toEqual([expect.objectContaining({ index: 'by-status', count: ITEMS - ITEMS / 4 })]);
    expect(await store.backfillList()).toEqual([]);
    console.log(`[backfill-kill] node a killed after saving progress at ${saved.toString()}; node b finished ${took} ms later (lease ${LEASE_MS} ms)`);
    await sluice.close();
  });
});
