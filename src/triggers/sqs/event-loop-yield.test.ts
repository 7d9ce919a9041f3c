/**
 * A trigger draining a backlog into a fast in-process handler on the embedded store. Every step of such
 * a drain (the claim, a no-op handler, the acknowledgement) can settle without I/O, so a poller's loop
 * could run as one chain of microtasks: the event loop then never turned until the backlog was empty.
 * Timers (handler timeouts, schedules), HTTP requests and the deletes (flushed at the end of a turn)
 * all waited for the whole drain; handled messages stayed in flight, where a visibility timeout
 * shorter than the drain would redeliver them. Measured before the fix: 20,000 messages, no timer
 * tick and no delete until the last handler call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';

let sluice: Sluice | undefined;
afterEach(async () => {
  await sluice?.close();
  sluice = undefined;
});

describe('a trigger draining a backlog into a no-op handler (SQLite)', () => {
  it('lets the event loop turn: timers fire and deletes are made while the drain goes on', async () => {
    sluice = await Sluice.open({ store: 'sqlite::memory:' });
    const total = 5_000;
    await sluice.queues.create('work', { VisibilityTimeout: 60 });
    for (let i = 0; i < total; i += 10)
      await sluice.queues.sendBatch('work', Array.from({ length: 10 }, (_, k) => ({ id: `e${k}`, body: String(i + k) })));
    let handled = 0;
    await sluice.functions.create({
      name: 'noop',
      handler: async (event: { Records: unknown[] }) => {
        handled += event.Records.length;
      },
    });
    const engine = sluice;
    // Armed before the drain starts: it must fire long before the drain ends.
    const atTimer = new Promise<number>((resolve) => setTimeout(() => resolve(handled), 1));
    await engine.triggers.create({ queue: 'work', functionName: 'noop', batchSize: 1, scalingConfig: { maximumConcurrency: 16 } });
    const handledWhenTimerFired = await atTimer;
    expect(handledWhenTimerFired).toBeLessThan(total / 2);
    // Half-way through, some of what was handled has been deleted: in flight is what is being handled or
    // waits for its delete, a bounded number, not everything handled so far.
    while (handled < total / 2) await new Promise((resolve) => setTimeout(resolve, 1));
    const halfway = await engine.queues.counts('work');
    expect(halfway.visible + halfway.inFlight).toBeLessThan(total - handled + 1_000);
    while (handled < total) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 200 && (await engine.queues.counts('work')).inFlight > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await engine.queues.counts('work')).toMatchObject({ visible: 0, inFlight: 0 });
  });
});
