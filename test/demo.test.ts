/**
 * `npm run demo` (the README's first command) walks through every pattern of its example config
 * against a real node and stops cleanly with --once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  it('shows each seed pattern working through the AWS SDK and exits 0 with --once', async () => {
    const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
    const demo = fileURLToPath(new URL('../src/examples/node-demo.ts', import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', tsx, demo, '--once'], { cwd: dir, timeout: 50_000 }, (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      ),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('processOrder handled 19 orders');
    expect(stdout).toContain('it moved to orders-dlq: {"id":7,"poison":true}');
    expect(stdout).toMatch(/group a: a1 a2 a3 a4 a5/);
    expect(stdout).toMatch(/job-x: steps 1 2 3 4 5/);
    expect(stdout).toContain('"status":"SUCCEEDED"');
    expect(stdout).toContain('hourly-report: rate(1 hour)');
  }, 60_000);
});
