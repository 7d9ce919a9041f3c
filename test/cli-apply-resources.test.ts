/**
 * `sluice apply` beyond mappings and schedules, on SQLite and PostgreSQL: a function's timeout, memory,
 * environment and code (its handler module path, resolved against the file's directory) stored in the
 * catalog and applied by the node (which defines the function when it declares none of that name); the
 * plan shows each changed field with its old and new value; --prune removes what the file applied.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { startTestNode, type TestNode } from './support/in-process-node.js';

const fixture = fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url));

interface ApplyOutput {
  functions: Array<{ action: string; function: string; changes?: Record<string, { from?: unknown; to: unknown }> }>;
  queues?: Array<{ action: string; queue: string; changes?: Record<string, { from?: unknown; to: unknown }> }>;
}

describe.each(storeBackends)('sluice apply of functions (%s)', (_backend, openStore) => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  const run = async (...flags: string[]): Promise<ApplyOutput> => {
    const out = await sluice('--json', 'apply', '--config', file, ...flags);
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as ApplyOutput;
  };

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-fn-'));
    copyFileSync(fixture, join(dir, 'handlers.mjs'));
    file = join(dir, 'sluice.config.yaml');
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defines a function from its handler, updates its timeout, memory and environment with the diff shown, then prunes it', async () => {
    writeFileSync(file, 'functions:\n  report:\n    handler: ./handlers.mjs#environment\n    timeout: 10\n    environment: { OWN_SETTING: one }\n');
    const created = await run();
    expect(created.functions).toEqual([
      {
        action: 'create',
        function: 'report',
        reservedConcurrency: null,
        changes: { reservedConcurrency: { to: null }, timeout: { to: 10 }, environment: { to: { OWN_SETTING: 'one' } }, handler: { to: `${join(dir, 'handlers.mjs')}#environment` } },
      },
    ]);
    const defined = node.sluice.functions.get('report');
    expect([defined.timeout, defined.memorySize, defined.environment]).toEqual([10, 128, { OWN_SETTING: 'one' }]);
    expect((await node.sluice.functions.invoke('report', {})).payload).toMatchObject({ OWN_SETTING: 'one', AWS_LAMBDA_FUNCTION_NAME: 'report' });
    expect((await run()).functions.map((step) => step.action)).toEqual(['unchanged']);

    writeFileSync(file, 'functions:\n  report:\n    handler: ./handlers.mjs#environment\n    timeout: 30\n    memorySize: 512\n    environment: { OWN_SETTING: two }\n');
    const planned = await sluice('apply', '--config', file, '--dry-run');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/update\s+function report\s+reserved concurrency none; timeout: 10 -> 30, memorySize: 512, environment: \{"OWN_SETTING":"one"\} -> \{"OWN_SETTING":"two"\}/);
    expect(node.sluice.functions.get('report').timeout).toBe(10);
    const updated = await run();
    expect(updated.functions[0]?.changes).toEqual({ timeout: { from: 10, to: 30 }, memorySize: { to: 512 }, environment: { from: { OWN_SETTING: 'one' }, to: { OWN_SETTING: 'two' } } });
    expect(node.sluice.functions.get('report')).toMatchObject({ timeout: 30, memorySize: 512 });
    expect((await node.sluice.functions.invoke('report', {})).payload).toMatchObject({ OWN_SETTING: 'two', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' });

    writeFileSync(file, 'functions: {}\n');
    expect((await run()).functions).toEqual([{ action: 'keep', function: 'report' }]);
    expect(node.sluice.functions.exists('report')).toBe(true);
    expect((await run('--prune')).functions).toEqual([{ action: 'delete', function: 'report' }]);
    expect(node.sluice.functions.exists('report')).toBe(false);
    expect(await node.sluice.store.catalogList({ kind: 'function' })).toEqual([]);
  });

  it('refuses a bad setting or a missing handler module, naming the path, and stores nothing', async () => {
    writeFileSync(file, 'functions:\n  broken:\n    handler: ./missing.mjs#handler\n');
    const missing = await sluice('apply', '--config', file);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('functions.broken');
    expect(missing.stderr).toContain('missing.mjs');
    // The CLI's schema checks the file's own ranges; the node checks what reaches it over the API.
    const refused = await node.native('/v1/apply', { body: { source: file, functions: { broken: { handler: './handlers.mjs#echo', timeout: 901 } } } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('functions.broken');
    expect(await node.sluice.store.catalogList({ kind: 'function' })).toEqual([]);
    expect(node.sluice.functions.exists('broken')).toBe(false);
  });
});
