import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';

const here = new URL('.', import.meta.url).pathname;

describe('crash safety of the embedded store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged send when the process is killed with SIGKILL mid-flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
    dirs.push(dir);
    const path = join(dir, 'crash.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/crash-sender.ts'), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged: string[] = [];
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}`))));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        acknowledged.push(...lines);
        // Kill at an arbitrary point well into the run, while sends are in flight.
        if (acknowledged.length >= 3000 && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(acknowledged.length).toBeGreaterThanOrEqual(3000);

    const sluice = await Sluice.open({ store: `sqlite:${path}` });
    try {
      const stored = new Set<string>();
      for (;;) {
        const batch = await sluice.queues.receive('crash', { maxNumberOfMessages: 10, visibilityTimeout: 600 });
        if (batch.length === 0) break;
        for (const message of batch) stored.add(message.messageId);
      }
      const missing = acknowledged.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
    } finally {
      await sluice.close();
    }
  });
});
