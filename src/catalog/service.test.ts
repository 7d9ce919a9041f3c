/**
 * The catalog service on one engine: it reads the catalog once at start and then only when the catalog
 * channel wakes it (an idle engine issues no catalog query), applies what another writer stores, and
 * waits for a mapping's function to be declared.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { createSqliteStore } from '../store/sqlite/store.js';
import type { Store } from '../store/store.js';

/** A store whose catalog reads are counted. */
function counting(store: Store): { store: Store; lists: () => number } {
  let lists = 0;
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'catalogList' && typeof value === 'function') {
        return (...args: unknown[]) => {
          lists++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, lists: () => lists };
}

describe('the catalog service', () => {
  const engines: Sluice[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close({ graceMs: 100 });
  });

  async function engine() {
    const counted = counting(createSqliteStore({ path: ':memory:' }));
    const reported: string[] = [];
    const sluice = await Sluice.open({ store: counted.store, onBackgroundError: (error) => reported.push(String(error)) });
    engines.push(sluice);
    return { sluice, lists: counted.lists, reported };
  }

  it('reads the catalog once at start and never while idle', async () => {
    const { lists } = await engine();
    expect(lists()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lists()).toBe(1);
  });

  it('applies a mapping another node stored when woken, under its UUID, and deletes it when it goes', async () => {
    const { sluice } = await engine();
    await sluice.functions.create({ name: 'work', handler: async () => undefined });
    await sluice.queues.create('jobs');
    const uuid = '0b9f3c1e-7a51-4c1f-9e2d-3f6a7b8c9d0e';
    const definition = { source: 'queue', input: { uuid, queue: 'jobs', functionName: 'work', batchSize: 3 } };
    await sluice.store.catalogPut({ kind: 'event-source-mapping', name: uuid, definition: JSON.stringify(definition), modifiedAt: 1 });
    await expect.poll(() => sluice.triggers.list().map((t) => [t.uuid, t.batchSize])).toEqual([[uuid, 3]]);
    await sluice.store.catalogPut({ kind: 'event-source-mapping', name: uuid, definition: JSON.stringify({ ...definition, input: { ...definition.input, enabled: false } }), modifiedAt: 2 });
    await expect.poll(() => sluice.triggers.get(uuid).state).toBe('Disabled');
    await sluice.store.catalogDelete({ kind: 'event-source-mapping', name: uuid });
    await expect.poll(() => sluice.triggers.list()).toEqual([]);
  });

  it('keeps a mapping whose function is missing waiting quietly, lists it, and runs it once the function is declared', async () => {
    const { sluice, reported } = await engine();
    await sluice.queues.create('jobs');
    const uuid = '1c0a4d2f-8b62-4d20-8f3e-4a7b8c9d0e1f';
    const definition = { source: 'queue', input: { uuid, queue: 'jobs', functionName: 'late' } };
    await sluice.store.catalogPut({ kind: 'event-source-mapping', name: uuid, definition: JSON.stringify(definition), modifiedAt: 1 });
    await expect.poll(() => sluice.catalog.conflicts().map((c) => c.name)).toEqual([uuid]);
    expect(sluice.triggers.list()).toEqual([]);
    expect(sluice.catalog.conflicts()).toEqual([{ kind: 'event-source-mapping', name: uuid, reason: 'FunctionName: the function "late" does not exist' }]);
    // Waiting for a function is a node's normal state before it applies its config: not reported.
    expect(reported).toEqual([]);
    await sluice.functions.create({ name: 'late', handler: async () => undefined });
    await expect.poll(() => sluice.triggers.list().map((t) => t.uuid)).toEqual([uuid]);
    expect(sluice.catalog.conflicts()).toEqual([]);
  });

  it('rotates a shared key once it is older than maxAgeMs, keeping the old one as retired; nodes racing rotate it once', async () => {
    const { sluice } = await engine();
    const first = await sluice.catalog.signingKeys('code-location');
    expect(first.previous).toEqual([]);
    expect((await sluice.catalog.signingKeys('code-location', { maxAgeMs: 3_600_000 })).current.equals(first.current)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rotated = await sluice.catalog.signingKeys('code-location', { maxAgeMs: 1 });
    expect(rotated.current.equals(first.current)).toBe(false);
    expect(rotated.previous.map((retired) => retired.key)).toEqual([first.current]);
    expect((await sluice.catalog.sharedSecret('code-location')).equals(rotated.current)).toBe(true);
    // Two nodes that read the same entry and both find it too old: one rotation, both sign with its key.
    const [entry] = await sluice.store.catalogList({ kind: 'secret' });
    const [a, b] = [await sluice.catalog.rotateSecret('code-location', entry), await sluice.catalog.rotateSecret('code-location', entry)];
    expect(a.current.equals(b.current)).toBe(true);
    expect((await sluice.store.catalogList({ kind: 'secret' }))[0]?.revision).toBe(entry!.revision + 1);
  });
});
