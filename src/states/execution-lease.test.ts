/**
 * `executionLeaseMs`: how long a node holds an execution with a task in flight before another node may
 * resume it. A node that dies holding one delays it by that much, not by the 60 s default.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeLogger } from '../api/logger.js';
import { startNode } from '../api/node.js';
import { Sluice } from '../engine/sluice.js';
import { ManualClock } from '../model/clock.js';
import { openStore } from '../store/open.js';

describe('executionLeaseMs', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('refuses a value out of range, naming the option and the limits', async () => {
    for (const value of [999, 3_600_001, 1.5])
      await expect(Sluice.open({ store: 'sqlite::memory:', executionLeaseMs: value })).rejects.toMatchObject({
        code: 'InvalidParameterValue',
        message: expect.stringMatching(/^executionLeaseMs: .* must be an integer from 1000 to 3600000$/),
      });
  });

  it('a node takes it from its config file (node.executionLeaseMs)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sluice-exec-lease-config-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    writeFileSync(join(cwd, 'sluice.config.json'), JSON.stringify({ node: { executionLeaseMs: 2_500 } }));
    const logger = createNodeLogger({ level: 'error', destination: new Writable({ write: (_chunk, _encoding, done) => done() }), format: 'json' });
    const node = await startNode({ store: 'sqlite::memory:', cwd, port: 0, insecureDev: true, prune: false, env: {}, logger });
    cleanups.push(() => node.close());
    expect(node.sluice.stateMachines.runner.leaseMs).toBe(2_500);
  });

  it("another node resumes a dead node's execution once that lease ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-exec-lease-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock();
    const calls: string[] = [];
    const open = async (id: string, hang: boolean) => {
      const node = await Sluice.open({ store: await openStore(`sqlite:${join(dir, 'db.sqlite')}`), clock, executionLeaseMs: 5_000 });
      cleanups.push(() => node.close({ graceMs: 0 }));
      await node.functions.create({ name: 'work', timeout: 600, handler: async () => (calls.push(id), hang ? new Promise(() => undefined) : 'done') });
      return node;
    };
    const dying = await open('dying', true);
    await dying.stateMachines.create({ name: 'm', definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:work', End: true } } } });
    const { executionArn } = await dying.stateMachines.startExecution('m', { name: 'e' });
    await clock.advance(0);
    await dying.stateMachines.runner.stop(Date.now()); // dies with the task in flight and the lease held
    const survivor = await open('survivor', false);
    await clock.advance(4_000);
    survivor.stateMachines.runner.scheduleWake();
    await clock.advance(900);
    expect(calls).toEqual(['dying']);
    survivor.stateMachines.runner.scheduleWake();
    await clock.advance(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await clock.advance(0);
    expect(calls).toEqual(['dying', 'survivor']);
    expect((await survivor.stateMachines.describeExecution(executionArn)).status).toBe('SUCCEEDED');
  });
});
