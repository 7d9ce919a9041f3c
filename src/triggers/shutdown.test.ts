import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { gate, openTestEngine } from '../testkit/engine.js';

describe('stopping the engine', () => {
  it('stops claiming and lets a batch under way finish and acknowledge within the grace period', async () => {
    const t = await openTestEngine();
    await t.sluice.queues.create('orders');
    const release = gate();
    const handled: string[] = [];
    await t.sluice.functions.create({
      name: 'work',
      handler: async (event: SQSEvent) => {
        await release.promise;
        handled.push(...event.Records.map((r) => r.body));
      },
    });
    await t.sluice.triggers.create({ queue: 'orders', functionName: 'work', batchSize: 1 });
    await t.sluice.queues.send('orders', { body: 'in hand' });
    await t.clock.advance(0);
    const closing = t.sluice.close({ graceMs: 5_000 });
    await t.sluice.queues.send('orders', { body: 'too late' }).catch(() => undefined);
    setTimeout(() => release.open(), 20);
    await closing;
    expect(handled).toEqual(['in hand']);
  });

  it('abandons a batch that outlives the grace period without touching the closed store', async () => {
    const errors: unknown[] = [];
    const sluice = await Sluice.open({
      store: 'sqlite::memory:',
      onBackgroundError: (error) => errors.push(error),
    });
    await sluice.queues.create('orders');
    const release = gate();
    await sluice.functions.create({ name: 'stuck', timeout: 30, handler: () => release.promise });
    await sluice.triggers.create({ queue: 'orders', functionName: 'stuck' });
    await sluice.queues.send('orders', { body: 'never acknowledged' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();
    await sluice.close({ graceMs: 100 });
    expect(Date.now() - started).toBeLessThan(2_000);
    release.open();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toEqual([]);
  });
});
