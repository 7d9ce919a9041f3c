/**
 * In-process handlers see Lambda's environment variables (functions/invocation-env.ts): `process.env`
 * resolves per invocation, so two functions running at once in one process each read their own name,
 * memory, region, log group and variables, at module load (as Powertools' Logger and cold-start check
 * do) and inside the handler across awaits; a handler's writes stay its function's; the node's own
 * environment is untouched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../src/engine/sluice.js';

// Read the way Powertools' EnvironmentVariablesService does (`process.env[name]?.trim() ?? ''`), at
// module load and inside the handler, around awaits that interleave the two functions.
const MODULE = `
const get = (name) => process.env[name]?.trim() ?? '';
const atLoad = {
  name: get('AWS_LAMBDA_FUNCTION_NAME'),
  service: get('POWERTOOLS_SERVICE_NAME'),
  coldStart: get('AWS_LAMBDA_INITIALIZATION_TYPE') !== 'provisioned-concurrency',
};
export const handler = async (event) => {
  const first = get('AWS_LAMBDA_FUNCTION_NAME');
  await new Promise((resolve) => setTimeout(resolve, event.delay));
  process.env.LAST_SEEN = String(event.n);
  await new Promise((resolve) => setImmediate(resolve));
  return {
    atLoad,
    first,
    name: get('AWS_LAMBDA_FUNCTION_NAME'),
    memory: get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE'),
    version: get('AWS_LAMBDA_FUNCTION_VERSION'),
    init: get('AWS_LAMBDA_INITIALIZATION_TYPE'),
    region: get('AWS_REGION'),
    group: get('AWS_LAMBDA_LOG_GROUP_NAME'),
    service: get('POWERTOOLS_SERVICE_NAME'),
    lastSeen: get('LAST_SEEN'),
    listed: Object.keys(process.env).includes('POWERTOOLS_SERVICE_NAME'),
    spread: { ...process.env }.AWS_LAMBDA_FUNCTION_NAME,
  };
};
`;

interface Seen {
  atLoad: { name: string; service: string; coldStart: boolean };
  first: string;
  name: string;
  memory: string;
  version: string;
  init: string;
  region: string;
  group: string;
  service: string;
  lastSeen: string;
  listed: boolean;
  spread: string;
}

describe('in-process handlers and Lambda’s environment variables', () => {
  let sluice: Sluice;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-env-'));
    sluice = await Sluice.open({ store: 'sqlite::memory:' });
    for (const [name, memorySize] of [['alpha', 256], ['beta', 512]] as const) {
      // One module file per function: an ES module is evaluated once per URL.
      writeFileSync(join(dir, `${name}.mjs`), MODULE);
      await sluice.functions.create({
        name,
        handler: join(dir, `${name}.mjs#handler`),
        execution: 'in-process',
        memorySize,
        environment: { POWERTOOLS_SERVICE_NAME: `${name}-service` },
      });
    }
  });
  afterAll(async () => {
    await sluice.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each of two concurrent functions its own values, at module load and across awaits', async () => {
    const runs = Array.from({ length: 40 }, (_, n) => ({ fn: n % 2 === 0 ? 'alpha' : 'beta', n, delay: (n * 7) % 11 }));
    const results = await Promise.all(runs.map(async (run) => ({ run, seen: (await sluice.functions.invoke(run.fn, run)).payload as Seen })));
    for (const { run, seen } of results) {
      expect(seen).toMatchObject({
        atLoad: { name: run.fn, service: `${run.fn}-service`, coldStart: true },
        first: run.fn,
        name: run.fn,
        memory: run.fn === 'alpha' ? '256' : '512',
        version: '$LATEST',
        init: 'on-demand',
        region: 'us-east-1',
        group: `/aws/lambda/${run.fn}`,
        service: `${run.fn}-service`,
        listed: true,
        spread: run.fn,
      });
      // Its own write, or a later invocation's of the same function: never the other function's.
      expect(runs[Number(seen.lastSeen)]?.fn).toBe(run.fn);
    }
  });

  it('leaves the node’s own environment as it was, outside invocations', () => {
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
    expect(process.env.POWERTOOLS_SERVICE_NAME).toBeUndefined();
    expect(process.env.LAST_SEEN).toBeUndefined();
    expect('LAST_SEEN' in process.env).toBe(false);
    process.env.SLUICE_ENV_TEST = '1';
    expect(process.env.SLUICE_ENV_TEST).toBe('1');
    delete process.env.SLUICE_ENV_TEST;
    expect(process.env.SLUICE_ENV_TEST).toBeUndefined();
  });

  it('gives a handler defined as a value its function’s environment too', async () => {
    await sluice.functions.create({ name: 'valued', handler: async () => process.env.AWS_LAMBDA_FUNCTION_NAME, memorySize: 1024 });
    expect((await sluice.functions.invoke('valued', {})).payload).toBe('valued');
  });
});
