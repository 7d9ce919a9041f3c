/**
 * `sluice groups ...` against a real node over its native API: the commands run in-process (the same
 * program `sluice` builds) with stdout and stderr captured, and once as the real CLI process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitBody } from '../src/cli/commands/groups.js';
import { buildProgram } from '../src/cli/main.js';
import { runCli } from './support/cli-process.js';
import { runCliInProcess } from './support/cli-in-process.js';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let node: TestNode;
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-groups-'));

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('jobs', { VisibilityTimeout: 30 });
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `sluice <args>` in-process against the test node; returns what it printed and its exit status. */
const sluice = (...args: string[]) => runCliInProcess(node.url, ...args);

describe('sluice groups', () => {
  it('sets, shows, lists and deletes limits, as tables and as JSON', async () => {
    const set = await sluice(
      'groups',
      'set',
      'jobs',
      'acme',
      '--max-concurrency',
      '2',
      '--rate',
      '5',
      '--interval',
      '2',
    );
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toMatch(/^GROUP\s+MAX CONCURRENCY\s+RATE\s+MODIFIED\nacme\s+2\s+5\/2s\s/);
    expect((await sluice('groups', 'set-default', 'jobs', '--max-concurrency', '1')).code).toBe(0);
    expect(await node.sluice.groupLimits.getDefault('jobs')).toMatchObject({ maxConcurrency: 1, rate: null });

    const list = await sluice('groups', 'list', 'jobs');
    expect(list.stdout.split('\n').slice(0, 4)).toEqual([
      'queue jobs, grouped by (not grouped: no trigger with groupBy yet)',
      expect.stringMatching(/^GROUP\s+MAX CONCURRENCY\s+RATE\s+MODIFIED$/),
      expect.stringMatching(/^\(default\)\s+1\s+-\s/),
      expect.stringMatching(/^acme\s+2\s+5\/2s\s/),
    ]);
    const json = JSON.parse((await sluice('--json', 'groups', 'list', 'jobs')).stdout);
    expect(json).toMatchObject({
      queue: 'jobs',
      default: { maxConcurrency: 1 },
      groups: [{ group: 'acme', rate: { limit: 5, intervalSeconds: 2, burst: 5 } }],
    });

    const other = await sluice('groups', 'get', 'jobs', 'other');
    expect(other.stdout).toMatch(/entry\s+none \(follows the default\)\nmax concurrency\s+1\nrate\s+-/);
    const acme = JSON.parse((await sluice('groups', 'get', 'jobs', 'acme', '--json')).stdout);
    expect(acme).toMatchObject({ group: 'acme', effective: { maxConcurrency: 2, rate: { limit: 5 } } });

    expect((await sluice('groups', 'delete', 'jobs', 'acme')).stdout).toBe('deleted the entry of acme\n');
    expect((await sluice('groups', 'delete', 'jobs', 'acme')).stdout).toBe('acme had no entry\n');
    expect((await sluice('groups', 'get-default', 'jobs')).stdout).toMatch(/\(default\)\s+1/);
    expect((await sluice('groups', 'delete-default', 'jobs')).stdout).toBe('deleted the default\n');
    expect((await sluice('groups', 'get-default', 'jobs')).stdout).toBe(
      'no default: groups without an entry are not limited\n',
    );
  });

  it('fails with status 1 and one line on stderr: bad options, bad limits, unknown queues', async () => {
    const noLimit = await sluice('groups', 'set', 'jobs', 'acme');
    expect(noLimit).toMatchObject({ code: 1, stdout: '' });
    expect(noLimit.stderr).toContain('give --max-concurrency and/or --rate');
    const badOption = await sluice('groups', 'set', 'jobs', 'acme', '--max-concurrency', '0');
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain('--max-concurrency must be an integer from 1 to 100000');
    const ghost = await sluice('groups', 'set', 'ghost', 'acme', '--rate', '1');
    expect(ghost).toMatchObject({ code: 1 });
    expect(ghost.stderr).toMatch(/^error: QueueDoesNotExist: .*ghost/);
    const empty = await sluice('groups', 'get', 'jobs', '');
    expect(empty.stderr).toContain("the group '' (messages without a key) cannot be named over HTTP");
    expect(await node.sluice.groupLimits.list('jobs')).toEqual([]);
  });

  it('checks limit options before any request', () => {
    expect(limitBody({ maxConcurrency: 3 })).toEqual({ maxConcurrency: 3 });
    expect(limitBody({ rate: 2, interval: 0.5, burst: 4 })).toEqual({
      rate: { limit: 2, intervalSeconds: 0.5, burst: 4 },
    });
    expect(limitBody({ unlimited: true })).toEqual({});
    expect(() => limitBody({ burst: 2 })).toThrow('--interval and --burst need --rate');
    expect(() => limitBody({ maxConcurrency: 1, burst: 2 })).toThrow('--interval and --burst need --rate');
    expect(() => limitBody({ unlimited: true, rate: 1 })).toThrow('--unlimited takes no other limit option');
  });

  it('shows group activity and offers --help on every groups command', async () => {
    const activity = await sluice('groups', 'activity', 'jobs');
    expect(activity.stdout).toContain(
      'all groups: 0 started, 0 claims refused by concurrency, 0 by rate, 0 in flight',
    );
    const groups = buildProgram().commands.find((command) => command.name() === 'groups')!;
    expect(groups.commands.map((command) => command.name())).toEqual([
      'list',
      'get',
      'set',
      'delete',
      'get-default',
      'set-default',
      'delete-default',
      'activity',
    ]);
    for (const command of groups.commands) expect(command.helpInformation()).toContain('--help');
    expect(groups.commands.find((command) => command.name() === 'set')!.helpInformation()).toMatch(
      /--max-concurrency <n>[\s\S]*--rate <n>[\s\S]*--interval <seconds>[\s\S]*--burst <n>/,
    );
  });

  it('works as the real `sluice` process, with the token from the environment', async () => {
    const env = { SLUICE_ENDPOINT: node.url, SLUICE_TOKEN: TEST_TOKEN };
    const result = await runCli(['groups', 'set', 'jobs', 'proc', '--rate', '3', '--json'], {
      cwd: dir,
      env,
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout).limit).toMatchObject({ group: 'proc', rate: { limit: 3 } });
    const refused = await runCli(['groups', 'list', 'jobs'], {
      cwd: dir,
      env: { ...env, SLUICE_TOKEN: 'wrong-token-but-long-enough' },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: AccessDenied/);
  });
});
