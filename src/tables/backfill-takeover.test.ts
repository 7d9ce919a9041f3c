/**
 * An index backfill whose node froze or died mid-way is finished by a node that is running, not only by
 * the next one to start: the backfill's lease expires and the watching node takes it over, woken by a
 * timer armed for that expiry (it reads nothing while no backfill exists). Node A is frozen after its
 * first batch: every store call it makes from then on hangs (as a SIGSTOPped process's), so it neither
 * renews nor frees the lease. Node B, on the same SQLite store or on its own PostgreSQL store on the same
 * schema, finishes the index. Thawed, A finds its lease taken (its renewal writes nothing) and stops.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../testkit/postgres.js';

const LEASE_MS = 400;
const ITEMS = 1500;

/** A view of a store whose calls hang once frozen, until thawed; `close` does nothing when `shared`. */
function freezable(store: Store, options: { shared: boolean }) {
  let frozen = false;
  let thaw!: () => void;
  const thawed = new Promise<void>((resolve) => (thaw = resolve));
  /** Calls that completed, by method. */
  const calls = new Map<string, number>();
  const view = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'close' && options.shared) return async () => undefined;
      return async (...args: unknown[]) => {
        if (frozen) await thawed;
        const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        // The first batch commits; from then on the node is frozen.
        if (property === 'indexBackfill') frozen = true;
        return result;
      };
    },
  });
  return { view, calls, thaw: () => thaw() };
}

/** Counts the lease reads a node makes (it should make them only when told of a change, or at an expiry). */
function counting(store: Store, options: { shared: boolean }) {
  const reads = { backfillList: 0 };
  const view = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'close' && options.shared) return async () => undefined;
      if (property === 'backfillList') reads.backfillList++;
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { view, reads };
}

async function fill(sluice: Sluice): Promise<void> {
  await sluice.tables.createTable({ name: 'late', partitionKey: { name: 'id', type: 'S' } });
  for (let i = 0; i < ITEMS; i += 25)
    await sluice.tables.batchWriteItem(
      Array.from({ length: 25 }, (_, k) => ({ tableName: 'late', put: { id: `t${i + k}`, status: (i + k) % 3 ? 'open' : 'done' } })),
    );
}

const byStatus = {
  name: 'by-status',
  kind: 'global' as const,
  partitionKey: { name: 'status', type: 'S' as const },
  sortKey: null,
  projection: { type: 'KEYS_ONLY' as const },
};

async function openCount(sluice: Sluice): Promise<number> {
  let count = 0;
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await sluice.tables.query({
      tableName: 'late',
      indexName: 'by-status',
      keyConditionExpression: '#s = :s',
      expressionAttributeNames: { '#s': 'status' },
      expressionAttributeValues: { ':s': 'open' },
      ...(exclusiveStartKey ? { exclusiveStartKey } : {}),
    } as Parameters<Sluice['tables']['query']>[0]);
    count += page.count;
    exclusiveStartKey = page.lastEvaluatedKey as Record<string, unknown> | undefined;
  } while (exclusiveStartKey);
  return count;
}

async function waitUntilActive(sluice: Sluice, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const table = await sluice.tables.describeTable('late');
    if (table.indexes?.[0] && !table.indexes[0].backfilling) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error('the index is still backfilling');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function takeOver(storeA: Store, storeB: Store, shared: boolean): Promise<void> {
  const errors: unknown[] = [];
  const onBackgroundError = (error: unknown) => errors.push(error);
  const watched = counting(storeB, { shared: false });
  const b = await Sluice.open({ store: watched.view, indexBackfillLeaseMs: LEASE_MS, onBackgroundError });
  const a0 = freezable(storeA, { shared });
  const a = await Sluice.open({ store: a0.view, indexBackfillLeaseMs: LEASE_MS, onBackgroundError });
  await fill(b);
  // Idle: B read the leases once when it started, and nothing since.
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
  expect(watched.reads.backfillList).toBe(1);

  const added = await a.tables.updateTable('late', { createIndex: byStatus });
  expect(added.indexes?.[0]?.backfilling).toBe(true);
  // A is frozen after one batch of 500; B takes the lease over once it expires and finishes the index.
  const tookMs = await waitUntilActive(b, 10 * LEASE_MS);
  expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS / 2);
  expect(a0.calls.get('indexBackfill')).toBe(1);
  expect(await openCount(b)).toBe(ITEMS - Math.ceil(ITEMS / 3));
  expect(await storeB.backfillList()).toEqual([]);
  // A few reads while the backfill ran (at the change, at the expiry, at the end), not a poll.
  expect(watched.reads.backfillList).toBeLessThanOrEqual(6);

  // Thawed, A's renewal finds the lease gone: it stops without writing, and the index stays complete.
  a0.thaw();
  await a.tables.indexBackfillsSettled();
  expect(await openCount(a)).toBe(ITEMS - Math.ceil(ITEMS / 3));
  await a.close();
  await b.close();
  expect(errors).toEqual([]);
}

/**
 * A node that stops gracefully mid-backfill frees the lease with its progress; the running node hears it
 * at once (the store's notifier, LISTEN/NOTIFY on PostgreSQL) and finishes well before the lease would
 * have expired.
 */
async function handOver(storeA: Store, storeB: Store, shared: boolean): Promise<void> {
  const leaseMs = 20_000;
  const b = await Sluice.open({ store: storeB, indexBackfillLeaseMs: leaseMs });
  const aStore = shared ? new Proxy(storeA, { get: (t, p, r) => (p === 'close' ? async () => undefined : (Reflect.get(t, p, r) as unknown)) }) : storeA;
  const a = await Sluice.open({ store: aStore, indexBackfillLeaseMs: leaseMs });
  await fill(b);
  // A's batches wait until it is stopping: exactly one runs, then it frees the lease.
  const original = storeA.indexBackfill;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = async (p: Parameters<Store['indexBackfill']>[0]) => {
    await gate;
    return original.call(storeA, p);
  };
  (a.store as { indexBackfill: Store['indexBackfill'] }).indexBackfill = held;
  try {
    await a.tables.updateTable('late', { createIndex: byStatus });
    const stopping = a.close();
    release();
    await stopping;
  } finally {
    (a.store as { indexBackfill: Store['indexBackfill'] }).indexBackfill = original;
  }
  const tookMs = await waitUntilActive(b, leaseMs / 2);
  expect(tookMs).toBeLessThan(leaseMs / 2);
  expect(await openCount(b)).toBe(ITEMS - Math.ceil(ITEMS / 3));
  await b.close();
}

describe('index backfill takeover (SQLite)', () => {
  it('a running node finishes the backfill of a node that froze mid-way, after its lease expired', async () => {
    const store = await openStore('sqlite::memory:');
    await takeOver(store, store, true);
  });

  it('a running node finishes at once the backfill of a node that stopped gracefully (the lease freed)', async () => {
    const store = await openStore('sqlite::memory:');
    await handOver(store, store, true);
  });
});

describePostgres('index backfill takeover (PostgreSQL)', () => {
  const schema = freshSchemaName();
  afterAll(async () => dropSchema(schema));

  it('a node on another store finishes the backfill of a node that froze mid-way, after its lease expired', async () => {
    const storeA = await openTestStore({ schema, dropSchemaOnClose: false });
    const storeB = await openTestStore({ schema, dropSchemaOnClose: false });
    await takeOver(storeA, storeB, false);
  });

  it('a node on another store finishes at once the backfill of a node that stopped gracefully (the lease freed)', async () => {
    const handOverSchema = freshSchemaName();
    try {
      const storeA = await openTestStore({ schema: handOverSchema, dropSchemaOnClose: false });
      const storeB = await openTestStore({ schema: handOverSchema, dropSchemaOnClose: false });
      await handOver(storeA, storeB, false);
    } finally {
      await dropSchema(handOverSchema);
    }
  });
});
