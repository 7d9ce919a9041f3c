import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock } from '../model/clock.js';
import { openStore } from '../store/open.js';
import { countingStore } from '../testkit/counting-store.js';
import { FinishedTaskRetention } from './finished-retention.js';

const DAY = 86_400_000;

describe('retention of finished task tokens', () => {
  const engines: Sluice[] = [];
  afterEach(async () => {
    for (const sluice of engines.splice(0)) await sluice.close();
  });
  async function engine(options: { taskTokenRetentionSeconds?: number | null } = {}) {
    const clock = new ManualClock();
    const counting = countingStore(await openStore('sqlite::memory:'));
    const sluice = await Sluice.open({ store: counting.store, clock, ...options });
    engines.push(sluice);
    return { sluice, clock, counting };
  }

  it('keeps a finished task readable for the retention period, then purges it (default: a day)', async () => {
    const { sluice, clock } = await engine();
    const task = await sluice.callbacks.create();
    await sluice.callbacks.sendTaskSuccess(task.token, { ok: true });
    await clock.advance(DAY - 1000);
    await expect(sluice.callbacks.describe(task.token)).resolves.toMatchObject({ status: 'SUCCEEDED' });
    await expect(sluice.callbacks.sendTaskSuccess(task.token, {})).rejects.toMatchObject({ code: 'TaskTimedOut' });
    await clock.advance(1000);
    await expect(sluice.callbacks.describe(task.token)).rejects.toMatchObject({ code: 'TaskDoesNotExist' });
  });

  it('purges timed-out tasks too, and never a task still waiting', async () => {
    const { sluice, clock } = await engine({ taskTokenRetentionSeconds: 60 });
    const timesOut = await sluice.callbacks.create({ timeoutSeconds: 10 });
    const waiting = await sluice.callbacks.create({ timeoutSeconds: 3600 });
    const outcome = timesOut.wait();
    await clock.advance(10_000);
    await expect(outcome).resolves.toMatchObject({ status: 'TIMED_OUT' });
    await clock.advance(60_000);
    await expect(sluice.callbacks.describe(timesOut.token)).rejects.toMatchObject({ code: 'TaskDoesNotExist' });
    await expect(sluice.callbacks.describe(waiting.token)).resolves.toMatchObject({ status: 'WAITING' });
  });

  it('purges a task that finished while a purge was already due, within two retention periods', async () => {
    const { sluice, clock } = await engine({ taskTokenRetentionSeconds: 60 });
    const first = await sluice.callbacks.create();
    await sluice.callbacks.sendTaskSuccess(first.token, 1);
    await clock.advance(30_000);
    const second = await sluice.callbacks.create();
    await sluice.callbacks.sendTaskFailure(second.token, { error: 'E' });
    await clock.advance(30_000); // the first is purged; the second is 30 s old
    await expect(sluice.callbacks.describe(first.token)).rejects.toMatchObject({ code: 'TaskDoesNotExist' });
    await expect(sluice.callbacks.describe(second.token)).resolves.toMatchObject({ status: 'FAILED' });
    await clock.advance(60_000);
    await expect(sluice.callbacks.describe(second.token)).rejects.toMatchObject({ code: 'TaskDoesNotExist' });
  });

  it('costs nothing while no task finishes: no timer, no store call', async () => {
    const { sluice, clock, counting } = await engine();
    await sluice.callbacks.create({ timeoutSeconds: 3600 }); // waiting, nobody answers
    const timers = clock.pendingTimers;
    counting.reset();
    await clock.advance(3 * DAY);
    expect(counting.calls.get('callbackPurge') ?? 0).toBe(0);
    expect(clock.pendingTimers).toBe(timers);
  });

  it('keeps finished tasks with null, and refuses a bad retention naming the option', async () => {
    const { sluice, clock } = await engine({ taskTokenRetentionSeconds: null });
    const task = await sluice.callbacks.create();
    await sluice.callbacks.sendTaskSuccess(task.token, 1);
    await clock.advance(400 * DAY);
    await expect(sluice.callbacks.describe(task.token)).resolves.toMatchObject({ status: 'SUCCEEDED' });
    await expect(Sluice.open({ store: 'sqlite::memory:', taskTokenRetentionSeconds: 0 })).rejects.toThrow(
      /taskTokenRetentionSeconds: 0 is invalid; must be an integer from 1 to 31536000/,
    );
  });
});

describe('FinishedTaskRetention on a clock that caps timers', () => {
  it('waits on when its timer fires before the due instant (Node caps timers at about 24.8 days)', async () => {
    const clock = new ManualClock();
    const capped = { now: () => clock.now(), setTimer: (ms: number, fire: () => void) => clock.setTimer(Math.min(ms, 10 * DAY), fire) };
    const purges: number[] = [];
    const retention = new FinishedTaskRetention({ clock: capped, retentionMs: 90 * DAY, purge: async (before) => purges.push(before), onError: () => undefined });
    retention.noteFinished(clock.now());
    await clock.advance(89 * DAY);
    expect(purges).toEqual([]);
    await clock.advance(2 * DAY);
    expect(purges).toHaveLength(1);
    retention.stop();
  });
});
