/**
 * Two engines on one SQLite file, as two nodes would share a database: each has its own store
 * connection, notifier and timer, and only the store's conditional tick claim keeps them from firing
 * a tick twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock, settle } from '../model/clock.js';

const MINUTE = 60_000;

describe('schedules on two engines sharing a SQLite file', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function twoEngines() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-schedules-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock();
    const path = `sqlite:${join(dir, 'shared.db')}`;
    const a = await Sluice.open({ store: path, clock });
    cleanup.push(() => a.close({ graceMs: 100 }));
    await a.queues.create('ticks');
    await a.schedules.create({
      name: 'minutely',
      expression: 'rate(1 minute)',
      target: { queue: 'ticks', body: 'tick' },
    });
    const b = await Sluice.open({ store: path, clock });
    cleanup.push(() => b.close({ graceMs: 100 }));
    const drain = async () => {
      for (const engine of [a, b]) {
        await engine.schedules.idle();
        await engine.outbox.idle();
      }
      await settle();
    };
    const count = async () => (await a.queues.counts('ticks')).visible;
    return { a, b, clock, drain, count };
  }

  it('fires each tick once although both engines wake for it', async () => {
    const { clock, drain, count } = await twoEngines();
    for (let i = 0; i < 30; i++) {
      await clock.advance(MINUTE);
      await drain();
    }
    expect(await count()).toBe(30);
  });

  it('keeps firing on the surviving engine when the other stops', async () => {
    const { a, clock, drain, count } = await twoEngines();
    await clock.advance(3 * MINUTE);
    await drain();
    await a.schedules.stop();
    await a.outbox.stop();
    await clock.advance(3 * MINUTE);
    await drain();
    expect(await count()).toBe(6);
  });
});
