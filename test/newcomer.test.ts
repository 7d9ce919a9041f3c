/**
 * A newcomer's first hour (issue 18), through the real CLI: `sluice init` prints next steps that run where
 * they are typed; a broken config is printed one problem per line and, when only loading the handlers or
 * parsing a schedule can find the problem, nothing is applied; a redrive that moves nothing says why; a
 * node launched through npm stops when npm is killed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sluiceCommand } from '../src/cli/commands/init.js';
import { Sluice } from '../src/engine/sluice.js';
import { runCli, startNodeProcess } from './support/cli-process.js';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'sluice-newcomer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noCredentials = { SLUICE_ACCESS_KEYS: '', SLUICE_TOKENS: '', SLUICE_STORE: '' };

describe('sluice init', () => {
  it('prints next steps with a command that works from the new folder', async () => {
    // In sluice's own clone, npx runs the clone's bin.
    expect(sluiceCommand(join(repo, 'my-app'))).toBe('npx sluice');
    // In a project that has sluice installed, its bin.
    const project = join(dir, 'project');
    mkdirSync(join(project, 'node_modules/.bin'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{"name":"project"}');
    writeFileSync(join(project, 'node_modules/.bin/sluice'), '');
    expect(sluiceCommand(join(project, 'app'))).toBe('npx sluice');
    // Anywhere else, this CLI by its path.
    expect(sluiceCommand(join(dir, 'loose'))).toBe(`npm --prefix ${repo.replace(/\/$/, '')} run sluice --`);

    const init = await runCli(['init', 'app'], { cwd: project });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('  cd app\n  npx sluice start ');
    expect(init.stdout).toContain('npx sluice queues redrive orders-dlq');
    expect(init.stdout).not.toMatch(/^ {2}sluice /m);
  });
});

describe('a config that cannot work', () => {
  it('is printed one problem per line, and nothing is applied when a schedule or a handler is wrong', async () => {
    copyFileSync(join(repo, 'test/fixtures/handlers.mjs'), join(dir, 'handlers.mjs'));
    const config = join(dir, 'broken.config.yaml');
    writeFileSync(
      config,
      [
        'queues:',
        '  fresh: {}',
        'functions:',
        '  good: { handler: ./handlers.mjs#handler }',
        '  missingExport: { handler: ./handlers.mjs#nope }',
        'schedules:',
        '  nightly: { expression: "cron(0 3 * * * *)", target: { function: good } }',
        '',
      ].join('\n'),
    );
    const store = `sqlite:${join(dir, 'broken.db')}`;
    const started = await runCli(['start', '--port', '0', '--store', store, '--insecure-dev', '--config', config], { cwd: dir, env: noCredentials });
    expect(started.code).toBe(1);
    const lines = started.stderr.split('\n');
    expect(lines).toContain('sluice start failed (ValidationException): Invalid config (nothing was applied):');
    expect(lines.some((line) => line.startsWith('  schedules.nightly.expression: '))).toBe(true);
    expect(lines).toContain('  functions.missingExport.handler: Runtime.HandlerNotFound: ./handlers.mjs#nope is undefined or not exported');
    expect(started.stderr).not.toContain('functions.good');
    // The queue declared before the bad schedule was not created.
    const sluice = await Sluice.open({ store });
    try {
      expect(await sluice.queues.list()).toEqual([]);
    } finally {
      await sluice.close();
    }

    writeFileSync(join(dir, 'schema.config.yaml'), 'queues:\n  orders: { visibilityTimeout: -1, delaySeconds: 9000 }\n');
    const invalid = await runCli(['start', '--port', '0', '--store', 'sqlite::memory:', '--insecure-dev', '--config', join(dir, 'schema.config.yaml')], {
      cwd: dir,
      env: noCredentials,
    });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/\n {2}queues\.orders\.visibilityTimeout: .*\n {2}queues\.orders\.delaySeconds: /);
  });
});

describe('sluice queues redrive', () => {
  it('says why a message was not moved and when it will be movable', async () => {
    const token = 'newcomer-token-0123456789';
    writeFileSync(join(dir, 'redrive.config.yaml'), 'queues:\n  jobs-dlq: {}\n  jobs: { deadLetter: { queue: jobs-dlq, maxReceiveCount: 2 } }\n');
    const node = await startNodeProcess({
      args: ['--port', '0', '--store', 'sqlite::memory:', '--config', join(dir, 'redrive.config.yaml')],
      cwd: dir,
      env: { ...noCredentials, SLUICE_TOKENS: token },
    });
    const cli = (...args: string[]) => runCli(['--endpoint', node.url, '--token', token, ...args], { cwd: dir });
    try {
      expect((await cli('send', 'jobs-dlq', 'dead')).code).toBe(0);
      expect((await cli('receive', 'jobs-dlq')).stdout).toContain('dead'); // now in flight for 30 s
      const redrive = await cli('queues', 'redrive', 'jobs-dlq', '--to', 'jobs');
      expect(redrive.code, redrive.stderr).toBe(0);
      expect(redrive.stdout).toContain('redrive completed: 0 of 1 messages moved');
      expect(redrive.stdout).toContain('1 message was in flight in jobs-dlq (received and not deleted)');
      expect(redrive.stdout).toContain("jobs-dlq's VisibilityTimeout is 30 s");
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  });
});

describe('a node launched through npm', () => {
  it('shuts down when npm is killed instead of running on orphaned', async () => {
    const tsxLoader = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
    const main = join(repo, 'src/cli/main.ts');
    // A stand-in for npm: a shell that starts the node and is then killed, as `kill -TERM <npx pid>` does.
    const launcher = spawn(
      'sh',
      ['-c', `"${process.execPath}" --import ${tsxLoader} ${main} start --port 0 --store sqlite::memory: --insecure-dev & echo "pid $!"; wait`],
      { cwd: dir, env: { ...process.env, ...noCredentials, npm_command: 'exec' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = async (condition: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end && !condition(); ) await new Promise((r) => setTimeout(r, 100));
      return condition();
    };
    expect(await until(() => output.includes('Sluice listening'), 20_000), output).toBe(true);
    const pid = Number(/pid (\d+)/.exec(output)?.[1]);
    launcher.kill('SIGKILL');
    const stopped = await until(() => !alive(pid), 10_000);
    if (!stopped) process.kill(pid, 'SIGKILL');
    expect(stopped, output).toBe(true);
    expect(output).toContain('the npm process that launched this node exited: shutting down');
  });
});
