/** `groups:` in the config file: validated with paths, applied idempotently, pruned only when asked. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../model/clock.js';
import { isSluiceError } from '../../model/errors.js';
import { Sluice } from '../../engine/sluice.js';
import { applyConfig } from '../apply.js';
import { validateConfig } from '../schema.js';
import { triggerInputOf } from './triggers.js';

const base = { queues: { tasks: { visibilityTimeout: 30 } } };

describe('group limits in the config file', () => {
  it('names the path and range of a bad limit', () => {
    let message = '';
    try {
      validateConfig(
        {
          groups: {
            tasks: {
              default: { maxConcurrency: 0 },
              limits: { acme: { rate: { limit: 2, burst: -1 }, speed: 3 } },
            },
          },
        },
        'test',
      );
    } catch (error) {
      if (isSluiceError(error)) message = error.message;
    }
    expect(message).toMatch(/groups\.tasks\.default\.maxConcurrency: must be an integer from 1 to 100000/);
    expect(message).toMatch(/groups\.tasks\.limits\.acme\.rate\.burst/);
    expect(message).toMatch(/groups\.tasks\.limits\.acme: unknown setting\(s\) 'speed'/);
  });

  it('applies defaults and limits, reports what changed, and prunes only when asked', async () => {
    const sluice = await Sluice.open({ store: 'sqlite::memory:', clock: new ManualClock() });
    try {
      const config = validateConfig(
        {
          queues: base.queues,
          groups: {
            tasks: {
              default: { maxConcurrency: 1 },
              limits: { acme: { maxConcurrency: 2, rate: { limit: 2 } } },
            },
          },
        },
        'test',
      );
      const first = await applyConfig({ sluice, config, baseDir: '.', prune: false });
      expect(first.filter((c) => c.kind === 'group limits').map((c) => [c.name, c.action])).toEqual([
        ['tasks (default)', 'created'],
        ['tasks/acme', 'created'],
      ]);
      expect(await sluice.groupLimits.get('tasks', 'acme')).toMatchObject({
        maxConcurrency: 2,
        rate: { limit: 2, intervalSeconds: 1, burst: 2 },
      });
      const again = await applyConfig({ sluice, config, baseDir: '.', prune: false });
      expect(again.filter((c) => c.kind === 'group limits').every((c) => c.action === 'unchanged')).toBe(
        true,
      );

      await sluice.groupLimits.set('tasks', 'extra', { maxConcurrency: 7 });
      const kept = await applyConfig({ sluice, config, baseDir: '.', prune: false });
      expect(kept).toContainEqual({
        kind: 'group limits',
        name: 'tasks/extra',
        action: 'kept (not in config)',
      });
      await applyConfig({ sluice, config, baseDir: '.', prune: true });
      expect(await sluice.groupLimits.get('tasks', 'extra')).toBeUndefined();
    } finally {
      await sluice.close();
    }
  });

  it('gives a trigger its groupBy and can drive limits from a table', async () => {
    expect(triggerInputOf({ queue: 'tasks', function: 'work', groupBy: 'attribute:tenant' }).groupBy).toBe(
      'attribute:tenant',
    );
    const sluice = await Sluice.open({ store: 'sqlite::memory:', clock: new ManualClock() });
    try {
      const config = validateConfig(
        {
          queues: base.queues,
          tables: { tenants: { partitionKey: { name: 'tenant', type: 'S' }, stream: 'NEW_IMAGE' } },
          groups: { tasks: { fromTable: { table: 'tenants' } } },
        },
        'test',
      );
      await applyConfig({ sluice, config: { ...config, groups: {} }, baseDir: '.', prune: false });
      await sluice.tables.putItem({ tableName: 'tenants', item: { tenant: 'acme', maxConcurrency: 3 } });
      const changes = await applyConfig({ sluice, config, baseDir: '.', prune: false });
      expect(changes).toContainEqual({
        kind: 'group limits',
        name: 'tasks <- table tenants',
        action: 'updated',
      });
      expect(await sluice.groupLimits.get('tasks', 'acme')).toMatchObject({ maxConcurrency: 3 });
    } finally {
      await sluice.close();
    }
  });
});
