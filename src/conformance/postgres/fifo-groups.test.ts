/**
 * FIFO group rules that the shared property test found and the conformance suite does not yet pin down
 * deterministically; kept here as regressions for the PostgreSQL store.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import { ManualClock } from '../../model/clock.js';
import { describePostgres, openTestStore } from '../../testkit/postgres.js';

describePostgres('postgres FIFO groups', () => {
  let sluice: Sluice;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    sluice = await Sluice.open({ store: await openTestStore(), clock });
  });
  afterEach(async () => {
    await sluice.close();
  });

  it('keeps a group blocked while a message received with its head is in flight, even when the head is made visible', async () => {
    const q = sluice.queues;
    await q.create('jobs.fifo', { ContentBasedDeduplication: true });
    await q.send('jobs.fifo', { body: 'first', messageGroupId: 'g' });
    await q.send('jobs.fifo', { body: 'second', messageGroupId: 'g' });
    const [first, second] = await q.receive('jobs.fifo', { maxNumberOfMessages: 2, visibilityTimeout: 5 });
    expect([first?.body, second?.body]).toEqual(['first', 'second']);
    await q.changeMessageVisibility('jobs.fifo', first!.receiptHandle, 0);
    expect(await q.receive('jobs.fifo')).toEqual([]);
    await clock.advance(5_000);
    expect((await q.receive('jobs.fifo', { maxNumberOfMessages: 10 })).map((m) => m.body)).toEqual([
      'first',
      'second',
    ]);
  });
});
