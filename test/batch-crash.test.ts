/**
 * Exactly-once finalization through crashes: a worker process killed with SIGKILL in the middle of a
 * batch, and the two crash windows of the finalizer outbox (after the completion commit, and after a
 * delivery was claimed but not acknowledged), each followed by a restart on the same SQLite file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processBatchItems } from '../src/batches/items.js';
import type { BatchSummary } from '../src/store/rules/batch-finalizer.js';
import { ManualClock, settle } from '../src/model/clock.js';
import { Sluice } from '../src/index.js';

const here = new URL('.', import.meta.url).pathname;

describe('batch completion through crashes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-batch-crash-'));
    dirs.push(dir);
    return join(dir, 'batch.db');
  }

  /** Advances a manual clock until `condition` holds. */
  async function until(clock: ManualClock, sluice: Sluice, condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 20_000; i++) {
      await settle();
      await sluice.outbox.idle();
      if (await condition()) return;
      await clock.advance(100);
    }
    throw new Error('condition still false');
  }

  async function drainSummaries(sluice: Sluice, queue: string): Promise<BatchSummary[]> {
    const out: BatchSummary[] = [];
    for (;;) {
      const got = await sluice.queues.receive(queue, { maxNumberOfMessages: 10, visibilityTimeout: 3600 });
      if (got.length === 0) return out;
      out.push(...got.map((m) => JSON.parse(m.body) as BatchSummary));
    }
  }

  it('completes a batch whose worker process was killed mid-batch, and fires the finalizer once', async () => {
    const path = tempDb();
    const total = 3000;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'fixtures/batch-worker.ts'), path, String(total)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const processedByChild = new Set<number>();
    let sealed = false;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}`)),
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === 'sealed') sealed = true;
          else processedByChild.add(Number(line));
        }
        // Kill once every item is enqueued and about a third is processed: chunks are in flight.
        if (sealed && processedByChild.size >= 1000 && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(processedByChild.size).toBeGreaterThanOrEqual(1000);
    expect(processedByChild.size).toBeLessThan(total);

    // Restart: chunks the dead worker held come back when their visibility timeout (30 s) ends.
    const clock = new ManualClock(Date.now());
    const sluice = await Sluice.open({ store: `sqlite:${path}`, clock });
    try {
      const processedAfter = new Set<number>();
      await sluice.functions.create({
        name: 'crunch',
        handler: processBatchItems<number>((item) => void processedAfter.add(item)),
      });
      await until(
        clock,
        sluice,
        async () => (await sluice.batches.get('crash-batch')).status === 'COMPLETED',
      );
      await until(
        clock,
        sluice,
        async () => (await sluice.batches.get('crash-batch')).finalizer.deliveredAt !== null,
      );
      const view = await sluice.batches.get('crash-batch');
      expect(view).toMatchObject({ total, succeeded: total, failed: 0, inFlight: 0 });
      for (let i = 0; i < total; i++) expect(processedByChild.has(i) || processedAfter.has(i)).toBe(true);
      await clock.advance(600_000);
      await settle();
      const summaries = await drainSummaries(sluice, 'batch-done');
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({
        batchId: 'crash-batch',
        status: 'COMPLETED',
        total,
        succeeded: total,
      });
    } finally {
      await sluice.close({ graceMs: 500 });
    }
  });

  it('delivers the finalizer after a restart when the process stopped between the completion commit and the delivery', async () => {
    const path = tempDb();
    const clock = new ManualClock();
    const first = await Sluice.open({ store: `sqlite:${path}`, clock });
    await first.queues.create('done');
    await first.functions.create({ name: 'p', handler: processBatchItems(() => undefined) });
    await first.outbox.stop(); // the "crash": nothing delivers after the commit
    await first.batches.create({ id: 'b', processor: 'p', items: [1, 2, 3], finalizer: { queue: 'done' } });
    await until(clock, first, async () => (await first.batches.get('b')).status === 'COMPLETED');
    expect(await drainSummaries(first, 'done')).toEqual([]);
    await first.close({ graceMs: 100 });

    const second = await Sluice.open({ store: `sqlite:${path}`, clock });
    try {
      await until(clock, second, async () => (await second.batches.get('b')).finalizer.deliveredAt !== null);
      expect(await drainSummaries(second, 'done')).toHaveLength(1);
    } finally {
      await second.close({ graceMs: 100 });
    }
  });

  it('redelivers a finalizer claimed by a node that died, once its lease ends, and only then', async () => {
    const path = tempDb();
    const clock = new ManualClock();
    const first = await Sluice.open({ store: `sqlite:${path}`, clock });
    await first.queues.create('done');
    await first.functions.create({ name: 'p', handler: processBatchItems(() => undefined) });
    await first.outbox.stop();
    await first.batches.create({ id: 'b', processor: 'p', items: [1], finalizer: { queue: 'done' } });
    await until(clock, first, async () => (await first.batches.get('b')).status === 'COMPLETED');
    // The dying node claims the delivery (a 5-minute lease) and never acknowledges it.
    const claimed = await first.store.outboxClaim!({
      now: clock.now(),
      leaseMs: 300_000,
      claimToken: 'dead-node',
      limit: 10,
    });
    expect(claimed.map((e) => e.key)).toEqual(['batch:b']);
    await first.close({ graceMs: 100 });

    const second = await Sluice.open({ store: `sqlite:${path}`, clock });
    try {
      await settle();
      await second.outbox.idle();
      expect(await drainSummaries(second, 'done')).toEqual([]); // still leased to the dead node
      await clock.advance(300_000);
      await until(clock, second, async () => (await second.batches.get('b')).finalizer.deliveredAt !== null);
      expect(await drainSummaries(second, 'done')).toHaveLength(1);
    } finally {
      await second.close({ graceMs: 100 });
    }
  });
});
