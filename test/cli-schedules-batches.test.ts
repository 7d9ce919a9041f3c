/**
 * Schedules and batches from outside a node: the native /v1/schedules and /v1/batches routes, and the
 * `sluice schedules` and `sluice batches` commands over them (tables and --json).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatchItems } from '../src/batches/items.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let node: TestNode;
let dir: string;
let failOdd = true;
beforeAll(async () => {
  node = await startTestNode();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-batches-'));
  await node.sluice.functions.create({ name: 'report', handler: async () => undefined });
  await node.sluice.functions.create({
    name: 'picky',
    handler: processBatchItems<number>((item) => {
      if (failOdd && item % 2 === 1) throw new Error(`odd ${item}`);
    }),
  });
  await node.sluice.queues.create('ticks');
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

const sluice = (...args: string[]) => sluiceInProcess(node, ...args);

describe('schedules over the native API and the CLI', () => {
  it('creates a schedule idempotently, shows its next fire times, updates and deletes it', async () => {
    const created = await sluice('schedules', 'create', 'nightly', 'cron(0 2 * * ? *)', '--function', 'report', '--input', '{"kind":"nightly"}', '--timezone', 'Europe/Paris');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^nightly: next fire \d{4}-\d\d-\d\dT01:00:00\.000Z\n$/);
    expect((await sluice('schedules', 'create', 'nightly', 'cron(0 2 * * ? *)', '--function', 'report', '--input', '{"kind":"nightly"}', '--timezone', 'Europe/Paris')).code).toBe(0);
    const conflict = await sluice('schedules', 'create', 'nightly', 'cron(0 3 * * ? *)', '--function', 'report');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('ResourceConflictException');

    const list = await sluice('schedules', 'list');
    expect(list.stdout).toMatch(/nightly\s+cron\(0 2 \* \* \? \*\)\s+Europe\/Paris\s+function report\s+ENABLED/);
    const shown = await sluice('--json', 'schedules', 'show', 'nightly', '--next', '3');
    expect(JSON.parse(shown.stdout).nextFireTimes).toHaveLength(3);

    const updated = await sluice('--json', 'schedules', 'update', 'nightly', '--queue', 'ticks', '--body', 'go', '--disabled');
    expect(JSON.parse(updated.stdout).schedule).toMatchObject({ state: 'DISABLED', target: { kind: 'queue', queue: 'ticks', body: 'go' }, nextFireTime: null });
    expect((await sluice('schedules', 'delete', 'nightly')).stdout).toBe('deleted nightly\n');
    expect(await node.native('/v1/schedules/nightly')).toMatchObject({ status: 404 });
  });

  it('takes an EndDate, a flexible window, deletion after completion and a failure policy over the native API', async () => {
    const body = {
      name: 'bounded',
      expression: 'rate(1 hour)',
      target: { queue: 'ticks', onFailure: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 600, deadLetterQueue: 'ticks-dlq' } },
      startDate: '2031-01-01T00:00:00Z',
      endDate: '2031-02-01T00:00:00Z',
      flexibleWindowMinutes: 10,
      deleteAfterCompletion: true,
    };
    const created = await node.native('/v1/schedules', { body });
    expect(created.body.schedule).toMatchObject({
      startDate: '2031-01-01T00:00:00.000Z',
      endDate: '2031-02-01T00:00:00.000Z',
      flexibleWindowMinutes: 10,
      deleteAfterCompletion: true,
      nextFireTime: '2031-01-01T00:00:00.000Z',
      target: { onFailure: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 600, deadLetterQueue: 'ticks-dlq' } },
    });
    const cleared = await node.native('/v1/schedules/bounded', { method: 'PATCH', body: { endDate: null } });
    expect(cleared.body.schedule).toMatchObject({ endDate: null, flexibleWindowMinutes: 10 });
    expect((await node.native('/v1/schedules/bounded', { method: 'DELETE' })).status).toBe(204);
  });

  it('refuses a bad schedule in the native API with the field named, storing nothing', async () => {
    const refused = await node.native('/v1/schedules', { body: { name: 'bad', expression: 'rate(0 minutes)', target: { function: 'report' } } });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'ValidationException' } } });
    expect((await node.native('/v1/schedules', { body: { name: 'bad', expression: 'rate(1 minute)', target: { function: 'report' }, extra: 1 } })).status).toBe(400);
    expect((await node.native('/v1/schedules')).body.schedules).toEqual([]);
  });
});

describe('batches over the native API and the CLI', () => {
  it('creates a batch from a file of JSON lines, follows it, lists and retries its failed items', async () => {
    const file = join(dir, 'items.jsonl');
    writeFileSync(file, [0, 1, 2, 3, 4, 5, 6].map((n) => JSON.stringify(n)).join('\n'));
    const created = await sluice('batches', 'create', 'picky', '--file', file, '--id', 'b1', '--items-per-message', '3', '--follow', '--interval', '50');
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('b1: COMPLETED, 4 succeeded, 3 failed, 0 cancelled of 7');

    const failed = await sluice('--json', 'batches', 'failed', 'b1');
    expect(JSON.parse(failed.stdout).items.map((i: { index: number; error: string }) => [i.index, i.error])).toEqual([
      [1, 'Error: odd 1'],
      [3, 'Error: odd 3'],
      [5, 'Error: odd 5'],
    ]);
    expect((await sluice('batches', 'list')).stdout).toMatch(/b1\s+picky\s+COMPLETED\s+7\s+4\s+3/);

    failOdd = false;
    expect((await sluice('batches', 'retry', 'b1')).stdout).toBe('retried 3 item(s) of b1\n');
    const followed = await sluice('batches', 'follow', 'b1', '--interval', '50');
    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain('7 succeeded, 0 failed');
    failOdd = true;
  });

  it('creates a batch from a JSON array and cancels it', async () => {
    const file = join(dir, 'items.json');
    writeFileSync(file, JSON.stringify([2, 4]));
    await node.sluice.functions.update('picky', { reservedConcurrency: 0 });
    const created = await sluice('--json', 'batches', 'create', 'picky', '--file', file, '--id', 'b2');
    expect(JSON.parse(created.stdout).batch).toMatchObject({ id: 'b2', total: 2 });
    const cancelled = await sluice('batches', 'cancel', 'b2');
    expect(cancelled.stdout).toMatch(/^cancelled b2: CANCELLED/);
    await node.sluice.functions.update('picky', { reservedConcurrency: null });
  });

  it('creates a batch from JSON lines on stdin (--file -), in the sluice process as a shell runs it', async () => {
    const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--endpoint', node.url, '--token', TEST_TOKEN, '--json', 'batches', 'create', 'picky', '--file', '-', '--id', 'from-stdin'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end('10\n12\n\n14\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout).batch).toMatchObject({ id: 'from-stdin', processor: 'picky', total: 3 });
    expect(await node.sluice.batches.wait('from-stdin')).toMatchObject({ status: 'COMPLETED', succeeded: 3, failed: 0 });
  }, 30_000);

  it('draws a progress bar while it follows a batch when stderr is a terminal', async () => {
    const file = join(dir, 'slow.jsonl');
    writeFileSync(file, [20, 22, 24, 26].map((n) => JSON.stringify(n)).join('\n'));
    await node.sluice.functions.update('picky', { reservedConcurrency: 0 });
    // Released once the bar has been drawn at least once, so the test sees a frame with nothing done.
    const release = setTimeout(() => void node.sluice.functions.update('picky', { reservedConcurrency: null }), 300);
    const wasTTY = process.stderr.isTTY;
    process.stderr.isTTY = true;
    try {
      const created = await sluice('batches', 'create', 'picky', '--file', file, '--id', 'b-bar', '--items-per-message', '1', '--follow', '--interval', '50');
      expect(created.code).toBe(0);
      expect(created.stderr).toMatch(/\rb-bar \[\.{30}\] 0\/4 \(\d+\/s\)/);
      expect(created.stderr.endsWith('\r\u001b[Kb-bar: COMPLETED, 4 succeeded, 0 failed, 0 cancelled of 4\n')).toBe(true);
    } finally {
      process.stderr.isTTY = wasTTY;
      clearTimeout(release);
      await node.sluice.functions.update('picky', { reservedConcurrency: null });
    }
  });

  it('refuses a batch for a missing processor, a missing file and a line that is not JSON', async () => {
    expect(await node.native('/v1/batches', { body: { processor: 'nobody', items: [1] } })).toMatchObject({ status: 404 });
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '1\n{nope\n');
    const refused = await sluice('batches', 'create', 'picky', '--file', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2');
    expect((await sluice('batches', 'create', 'picky', '--file', join(dir, 'absent.jsonl'))).code).toBe(1);
  });
});

describe('callback tasks over the native API and the CLI', () => {
  it('creates a task, shows it, answers it and reads its outcome', async () => {
    const token = (await sluice('tasks', 'create', '--timeout', '60', '--context', '{"order":"o-1"}')).stdout.trim();
    expect(token.length).toBeGreaterThan(20);
    const shown = await sluice('--json', 'tasks', 'show', token);
    expect(JSON.parse(shown.stdout).task).toMatchObject({ status: 'WAITING', context: { order: 'o-1' } });
    const waiting = await sluice('tasks', 'wait', token, '--seconds', '1');
    expect(waiting).toMatchObject({ code: 2, stdout: 'still waiting\n' });
    expect((await sluice('tasks', 'heartbeat', token)).code).toBe(0);
    const answered = sluice('tasks', 'succeed', token, '{"approved":true}');
    expect((await answered).code).toBe(0);
    const outcome = await sluice('--json', 'tasks', 'wait', token);
    expect(JSON.parse(outcome.stdout).outcome).toMatchObject({ status: 'SUCCEEDED', output: { approved: true } });
    const again = await sluice('tasks', 'fail', token, '--error', 'Late');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('TaskTimedOut');
  });

  it('refuses an unknown token', async () => {
    expect((await node.native('/v1/tasks/not-a-token')).status).toBe(400);
  });
});
