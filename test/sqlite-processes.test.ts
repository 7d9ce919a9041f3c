/**
 * Several processes on one SQLite file (issue 19): messages sent into a node's file by other processes
 * wake its trigger at once (a watch of the write-ahead log, no polling), and every one is processed;
 * senders in two processes and a consumer in a third share the write lock without errors.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { startNodeProcess } from './support/cli-process.js';
import { runCleanups, sqliteStoreUrl, type Cleanups } from './support/shared-stores.js';
import { startStoreProcess } from './support/store-process.js';

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));

describe('several processes on one SQLite file', () => {
  it('processes every message another process sends into a consumer’s file, without waiting for a time-out', async () => {
    const store = sqliteStoreUrl(cleanups);
    const here = await Sluice.open({ store });
    cleanups.push(() => here.close({ graceMs: 0 }));
    // A visibility timeout longer than the test: a message can only be processed by a wake-up.
    await here.queues.create('tasks', { VisibilityTimeout: 600 });
    const consumer = await startStoreProcess('batch-consumer', [store, 'tasks', '10', '0']);
    cleanups.push(() => consumer.stop());
    const sender = await startStoreProcess('sender', [store, 'tasks', '500', 'child-']);
    cleanups.push(() => sender.stop());

    // This process sends at the same time, in bursts (its group commit meets the other writers).
    const ours: string[] = [];
    for (let round = 0; round < 50; round++) {
      const bodies = Array.from({ length: 10 }, (_, i) => `parent-${round * 10 + i}`);
      await Promise.all(bodies.map((body) => here.queues.send('tasks', { body })));
      ours.push(...bodies);
    }
    await sender.waitFor((line) => line === 'sent');

    const expected = new Set([...ours, ...Array.from({ length: 500 }, (_, i) => `child-${i}`)]);
    const seen = new Set<string>();
    await consumer.waitFor(() => {
      for (const line of consumer.lines.splice(0))
        if (line.startsWith('{"batch"')) for (const body of (JSON.parse(line) as { batch: string[] }).batch) seen.add(body);
      return [...expected].every((body) => seen.has(body));
    }, 20_000);
    expect(seen.size).toBe(expected.size);
  });

  it('refuses a second node (sluice start) on the file before applying its config, and lets one start once the first is gone', async () => {
    const store = sqliteStoreUrl(cleanups);
    const base = dirname(store.slice('sqlite:'.length));
    const nodeIn = async (name: string, queue: string) => {
      const cwd = join(base, name);
      mkdirSync(cwd);
      writeFileSync(join(cwd, 'sluice.config.yaml'), `queues:\n  ${queue}: {}\n`);
      return startNodeProcess({ args: ['--port', '0', '--insecure-dev', '--store', store], cwd, env: { SLUICE_STORE: '' } });
    };
    const first = await nodeIn('first', 'from-first');
    cleanups.push(() => void first.child.kill('SIGKILL'));

    await expect(nodeIn('second', 'from-second')).rejects.toThrow(/another node is already running on/);
    const look = await Sluice.open({ store });
    try {
      expect(await look.queues.exists('from-first')).toBe(true);
      expect(await look.queues.exists('from-second')).toBe(false); // its config was never applied
    } finally {
      await look.close({ graceMs: 0 });
    }

    // The lock goes with its process, however it ends.
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await nodeIn('third', 'from-third');
    cleanups.push(() => void third.child.kill('SIGKILL'));
    expect(third.url).toMatch(/^http:/);
  });
});
