/**
 * The one service life cycle (src/model/service.ts, docs/design/service-lifecycle.md), held for every
 * service the engine lists, on both backends: stop is safe before start, idempotent, and bounded by the
 * deadline it is given. A service added to the list is checked here without a test of its own.
 */
import { describe, expect, it } from 'vitest';
import { Sluice, type SluiceOptions } from './sluice.js';
import type { Service } from '../model/service.js';
import { createSqliteStore } from '../store/sqlite/store.js';
import type { Store } from '../store/store.js';
import { describePostgres, openTestStore } from '../testkit/postgres.js';

/** The engine's constructor is private (Sluice.open starts what it builds); the contract needs it unstarted. */
const unstarted = (store: Store, options: SluiceOptions = {}): Sluice =>
  new (Sluice as unknown as new (store: Store, options: SluiceOptions) => Sluice)(store, options);
const servicesOf = (sluice: Sluice): Service[] => (sluice as unknown as { services: Service[] }).services;
const nameOf = (service: Service): string => service.constructor.name;

function serviceContract(backend: string, open: () => Promise<Store>, options: SluiceOptions = {}): void {
  describe(`every service's life cycle [${backend}]`, () => {
    it('lists every service the engine holds', async () => {
      const store = await open();
      try {
        const names = servicesOf(unstarted(store, options)).map(nameOf);
        expect(names).toEqual(
          expect.arrayContaining([
            'QueueService',
            'TableService',
            'GroupLimitService',
            'FunctionService',
            'OutboxRelay',
            'StateMachineService',
            'StreamTriggerService',
            'CatalogService',
            'TriggerService',
            'BatchService',
            'ScheduleService',
            'CallbackService',
          ]),
        );
        if (options.cluster) expect(names[0]).toBe('Cluster');
        expect(new Set(names).size).toBe(names.length);
      } finally {
        await store.close();
      }
    });

    it('stops every service before it started, twice, at once', async () => {
      const store = await open();
      try {
        for (const service of [...servicesOf(unstarted(store, options))].reverse()) {
          const began = Date.now();
          await expect(service.stop(Date.now()), nameOf(service)).resolves.toBeUndefined();
          await expect(service.stop(Date.now()), nameOf(service)).resolves.toBeUndefined();
          expect(Date.now() - began, nameOf(service)).toBeLessThan(1_000);
        }
      } finally {
        await store.close();
      }
    });

    it('stops every started service twice within a past deadline, then the engine closes', async () => {
      const sluice = await Sluice.open({ ...options, store: await open() });
      for (const service of [...servicesOf(sluice)].reverse()) {
        const began = Date.now();
        await expect(service.stop(Date.now() - 1), nameOf(service)).resolves.toBeUndefined();
        await expect(service.stop(Date.now() - 1), nameOf(service)).resolves.toBeUndefined();
        expect(Date.now() - began, nameOf(service)).toBeLessThan(1_000);
      }
      await sluice.close();
      await sluice.close();
    });
  });
}

serviceContract('sqlite', async () => createSqliteStore({ path: ':memory:' }));
describePostgres('postgres', () => {
  serviceContract('postgres, clustered', () => openTestStore(), { cluster: true });
});
