/** A table drives group limits live through its stream, as the seed's configuration table does. */
import { describe, expect, it } from 'vitest';
import { settle } from '../model/clock.js';
import { openTestEngine } from '../testkit/engine.js';

describe('group limits from a table', () => {
  it('loads every item, then follows puts, updates and deletes through the stream', async () => {
    const t = await openTestEngine();
    const { sluice } = t;
    try {
      await sluice.queues.create('tasks', { SluiceGroupKey: 'MessageGroupId' });
      await sluice.tables.createTable({
        name: 'tenants',
        partitionKey: { name: 'tenant', type: 'S' },
        stream: { viewType: 'KEYS_ONLY' },
      });
      await sluice.tables.putItem({ tableName: 'tenants', item: { tenant: 'acme', maxConcurrency: 2 } });
      await sluice.tables.putItem({ tableName: 'tenants', item: { tenant: '*', maxConcurrency: 1 } });
      await sluice.groupLimits.set('tasks', 'stale', { maxConcurrency: 9 }); // not in the table: removed
      const sync = await sluice.groupLimits.syncFromTable('tenants', { queue: 'tasks' });
      await sync.caughtUp();
      expect(await sluice.groupLimits.get('tasks', 'acme')).toMatchObject({ maxConcurrency: 2, rate: null });
      expect(await sluice.groupLimits.getDefault('tasks')).toMatchObject({ maxConcurrency: 1 });
      expect(await sluice.groupLimits.get('tasks', 'stale')).toBeUndefined();

      await sluice.tables.putItem({
        tableName: 'tenants',
        item: { tenant: 'globex', rateLimit: 5, rateIntervalSeconds: 2, rateBurst: 1 },
      });
      await sluice.tables.updateItem({
        tableName: 'tenants',
        key: { tenant: 'acme' },
        updateExpression: 'SET maxConcurrency = :c',
        expressionAttributeValues: { ':c': 4 },
      });
      await sluice.tables.deleteItem({ tableName: 'tenants', key: { tenant: '*' } });
      await settle();
      await sync.caughtUp();
      expect(await sluice.groupLimits.get('tasks', 'globex')).toMatchObject({
        maxConcurrency: null,
        rate: { limit: 5, intervalSeconds: 2, burst: 1 },
      });
      expect(await sluice.groupLimits.get('tasks', 'acme')).toMatchObject({ maxConcurrency: 4 });
      expect(await sluice.groupLimits.getDefault('tasks')).toBeUndefined();

      // The limit from the table governs the queue at once.
      for (let i = 0; i < 6; i++) await sluice.queues.send('tasks', { body: 'x', messageGroupId: 'acme' });
      expect(await sluice.queues.receive('tasks', { maxNumberOfMessages: 10 })).toHaveLength(4);
      await sync.stop();
      await sluice.tables.deleteItem({ tableName: 'tenants', key: { tenant: 'acme' } });
      await settle();
      expect(await sluice.groupLimits.get('tasks', 'acme')).toMatchObject({ maxConcurrency: 4 }); // stopped: no longer followed
    } finally {
      await t.close();
    }
  });

  it('skips an invalid item and reports it, and refuses a table without a stream', async () => {
    const errors: unknown[] = [];
    const t = await openTestEngine({ onBackgroundError: (error) => errors.push(error) });
    try {
      await t.sluice.tables.createTable({ name: 'plain', partitionKey: { name: 'g', type: 'S' } });
      await expect(t.sluice.groupLimits.syncFromTable('plain', { queue: 'tasks' })).rejects.toThrow(
        /has no stream/,
      );
      await t.sluice.tables.createTable({
        name: 'limits',
        partitionKey: { name: 'g', type: 'S' },
        stream: { viewType: 'NEW_IMAGE' },
      });
      await t.sluice.tables.putItem({ tableName: 'limits', item: { g: 'bad', maxConcurrency: 'lots' } });
      await t.sluice.tables.putItem({ tableName: 'limits', item: { g: 'good', maxConcurrency: 3 } });
      const sync = await t.sluice.groupLimits.syncFromTable('limits', { queue: 'tasks' });
      await sync.caughtUp();
      expect(errors.map(String).join()).toMatch(/maxConcurrency/);
      expect(await t.sluice.groupLimits.get('tasks', 'good')).toMatchObject({ maxConcurrency: 3 });
      expect(await t.sluice.groupLimits.get('tasks', 'bad')).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
