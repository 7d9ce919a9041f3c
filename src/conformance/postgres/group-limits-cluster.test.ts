/**
 * Group limits hold cluster-wide: two engines on one schema, each with its own trigger on the shared
 * queue, claim concurrently (FOR UPDATE SKIP LOCKED on the group rows) and together never exceed a
 * group's concurrency or rate.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { groupScenario, runGroupScenario } from '../engine/group-limits-property.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';

describePostgres('group limits on a cluster', () => {
  it('two nodes sharing a queue never exceed a group limit together, and starve no group (property)', async () => {
    await fc.assert(
      fc.asyncProperty(groupScenario, async (scenario) => {
        const schema = freshSchemaName();
        try {
          await runGroupScenario(
            [() => openTestStore({ schema }), () => openTestStore({ schema })],
            scenario,
          );
        } finally {
          await dropSchema(schema);
        }
      }),
      { numRuns: 10 },
    );
  }, 300_000);

  it('a limit set on one node applies to the claims of the other', async () => {
    const schema = freshSchemaName();
    const [a, b] = [await openTestStore({ schema }), await openTestStore({ schema })];
    try {
      const { Sluice } = await import('../../engine/sluice.js');
      const { ManualClock } = await import('../../model/clock.js');
      const clock = new ManualClock();
      const one = await Sluice.open({ store: a, clock });
      const two = await Sluice.open({ store: b, clock });
      await one.queues.create('shared', { SluiceGroupKey: 'MessageGroupId' });
      for (let i = 0; i < 5; i++) await one.queues.send('shared', { body: 'x', messageGroupId: 'acme' });
      await one.groupLimits.set('shared', 'acme', { maxConcurrency: 2 });
      expect(await two.queues.receive('shared', { maxNumberOfMessages: 10 })).toHaveLength(2);
      expect(await one.queues.receive('shared', { maxNumberOfMessages: 10 })).toHaveLength(0);
      await two.groupLimits.set('shared', 'acme', { maxConcurrency: 3 });
      expect(await one.queues.receive('shared', { maxNumberOfMessages: 10 })).toHaveLength(1);
      await one.close();
      await two.close();
    } finally {
      await dropSchema(schema);
    }
  });
});
