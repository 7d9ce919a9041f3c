/**
 * `sluice apply`: a config file's triggers and functions' settings stored in the cluster catalog through
 * a node (plan, dry run, apply, unchanged on a second run, update, keep or prune what the file no longer
 * declares), all or nothing, managed by the file: the Lambda API refuses to change them, naming it.
 */
import { LambdaClient, PutFunctionConcurrencyCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluiceInProcess } from './support/cli-in-process.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure } from './support/sdk-failure.js';

const handler = `${fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url))}#echo`;

describe('sluice apply', () => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  const write = (triggers: string) =>
    writeFileSync(file, `queues:\n  jobs: {}\n  other: {}\nfunctions:\n  consume:\n    handler: ${JSON.stringify(handler)}\ntriggers:\n${triggers}`);
  const catalogMappings = async () =>
    (await node.sluice.store.catalogList({ kind: 'event-source-mapping' })).map((e) => JSON.parse(e.definition) as { input: { queue: string; batchSize?: number }; managedBy?: string });

  beforeAll(async () => {
    node = await startTestNode();
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-'));
    file = join(dir, 'sluice.config.yaml');
    await node.sluice.functions.create({ name: 'consume', handler: async () => undefined });
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans, applies, leaves an unchanged file alone, updates, keeps and prunes', async () => {
    write('  - { queue: jobs, function: consume, batchSize: 5 }\n  - { queue: other, function: consume }\n');
    const dry = await sluice('apply', '--config', file, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/create\s+jobs -> consume\s+\(new\)/);
    expect(dry.stdout).toMatch(/create\s+function consume\s+reserved concurrency none/);
    expect(dry.stdout).toMatch(/create\s+queue jobs/);
    expect(dry.stdout).toContain('5 change(s) planned (--dry-run: nothing applied)');
    expect(await node.sluice.queues.list()).toEqual([]);
    expect(await catalogMappings()).toEqual([]);

    const applied = await sluice('--json', 'apply', '--config', file);
    expect(JSON.parse(applied.stdout).plan.map((s: { action: string }) => s.action)).toEqual(['create', 'create']);
    expect((await catalogMappings()).map((m) => [m.input.queue, m.managedBy])).toEqual(expect.arrayContaining([['jobs', file], ['other', file]]));
    expect(node.sluice.triggers.list({ queue: 'jobs' })[0]?.batchSize).toBe(5);

    const lambda = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    const refused = await sdkFailure(lambda.send(new UpdateEventSourceMappingCommand({ UUID: node.sluice.triggers.list({ queue: 'jobs' })[0]!.uuid, Enabled: false })));
    lambda.destroy();
    expect(refused.name).toBe('ResourceConflictException');
    expect(refused.message).toContain(file);

    const again = await sluice('--json', 'apply', '--config', file);
    expect(JSON.parse(again.stdout).plan.map((s: { action: string }) => s.action)).toEqual(['unchanged', 'unchanged']);

    write('  - { queue: jobs, function: consume, batchSize: 7 }\n');
    const kept = await sluice('--json', 'apply', '--config', file);
    expect(JSON.parse(kept.stdout).plan.map((s: { action: string; mapping: string }) => `${s.action} ${s.mapping}`)).toEqual(['update jobs -> consume', 'keep other -> consume']);
    expect(node.sluice.triggers.list({ queue: 'jobs' })[0]?.batchSize).toBe(7);
    expect(node.sluice.triggers.list({ queue: 'other' })).toHaveLength(1);

    const pruned = await sluice('--json', 'apply', '--config', file, '--prune');
    expect(JSON.parse(pruned.stdout).plan.map((s: { action: string }) => s.action)).toEqual(['unchanged', 'delete']);
    expect(node.sluice.triggers.list({ queue: 'other' })).toEqual([]);
    expect((await catalogMappings()).map((m) => m.input.queue)).toEqual(['jobs']);
  });

  it('applies functions’ settings on every node, managed by the file; the Lambda API refuses to change them', async () => {
    const withConcurrency = (reserved: number) =>
      writeFileSync(file, `queues:\n  jobs: {}\nfunctions:\n  consume:\n    handler: ${JSON.stringify(handler)}\n    reservedConcurrency: ${reserved}\ntriggers:\n  - { queue: jobs, function: consume, batchSize: 7 }\n`);
    withConcurrency(4);
    const applied = await sluice('--json', 'apply', '--config', file);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).functions).toEqual([{ action: 'update', function: 'consume', reservedConcurrency: 4, changes: { reservedConcurrency: { from: null, to: 4 } } }]);
    expect(node.sluice.functions.get('consume').reservedConcurrency).toBe(4);
    const lambda = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    const refused = await sdkFailure(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'consume', ReservedConcurrentExecutions: 9 })));
    lambda.destroy();
    expect(refused.name).toBe('ResourceConflictException');
    expect(refused.message).toContain(file);
    expect(node.sluice.functions.get('consume').reservedConcurrency).toBe(4);
    expect(JSON.parse((await sluice('--json', 'apply', '--config', file)).stdout).functions.map((s: { action: string }) => s.action)).toEqual(['unchanged']);
  });

  it('applies a file atomically: a bad function setting stores none of its new mappings', async () => {
    writeFileSync(
      file,
      `queues:\n  jobs: {}\n  third: {}\nfunctions:\n  consume:\n    handler: ${JSON.stringify(handler)}\n    reservedConcurrency: 5000\ntriggers:\n  - { queue: jobs, function: consume, batchSize: 7 }\n  - { queue: third, function: consume }\n`,
    );
    const refused = await sluice('apply', '--config', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('reservedConcurrency');
    expect((await catalogMappings()).map((m) => m.input.queue)).toEqual(['jobs']);
    expect(node.sluice.triggers.list({ queue: 'third' })).toEqual([]);
    expect(await node.sluice.queues.exists('third')).toBe(false);
    expect(node.sluice.functions.get('consume').reservedConcurrency).toBe(4);
  });

  it('applies schedules in the same transaction: create, unchanged, update, prune; refuses one it did not create', async () => {
    const withSchedules = (schedules: string, extraTrigger = '') =>
      writeFileSync(
        file,
        `queues:\n  jobs: {}\n  fourth: {}\nfunctions:\n  consume:\n    handler: ${JSON.stringify(handler)}\n    reservedConcurrency: 4\n` +
          `triggers:\n  - { queue: jobs, function: consume, batchSize: 7 }\n${extraTrigger}schedules:\n${schedules}`,
      );
    const run = async (...flags: string[]) => {
      const out = await sluice('--json', 'apply', '--config', file, ...flags);
      expect(out.code, out.stderr).toBe(0);
      return (JSON.parse(out.stdout) as { schedules: Array<{ action: string; schedule: string }> }).schedules.map((s) => `${s.action} ${s.schedule}`);
    };
    withSchedules('  hourly: { expression: "rate(1 hour)", target: { queue: jobs } }\n  nightly: { expression: "cron(0 2 * * ? *)", target: { queue: jobs } }\n');
    expect(await run()).toEqual(['create hourly', 'create nightly']);
    expect((await node.sluice.schedules.get('hourly')).expression).toBe('rate(1 hour)');
    expect(await run()).toEqual(['unchanged hourly', 'unchanged nightly']);

    withSchedules('  hourly: { expression: "rate(2 hours)", target: { queue: jobs } }\n');
    expect(await run()).toEqual(['update hourly', 'keep nightly']);
    expect((await node.sluice.schedules.get('hourly')).expression).toBe('rate(2 hours)');
    expect(await run('--prune')).toEqual(['unchanged hourly', 'delete nightly']);
    expect((await node.sluice.schedules.list()).map((view) => view.name)).toEqual(['hourly']);
    // Changed only through the file: the native API (and so the CLI and the Scheduler API) refuses, naming it.
    const patched = await node.native('/v1/schedules/hourly', { method: 'PATCH', body: { expression: 'rate(3 hours)' } });
    expect(patched.status).toBe(409);
    expect(JSON.stringify(patched.body)).toContain(file);
    await expect(node.sluice.schedules.delete('hourly')).rejects.toThrow(file);

    // All or nothing: a bad schedule stores neither it nor the file's new mapping.
    withSchedules('  hourly: { expression: "rate(2 hours)", target: { queue: jobs } }\n  broken: { expression: "rate(0 hours)", target: { queue: jobs } }\n', '  - { queue: fourth, function: consume }\n');
    const refused = await sluice('apply', '--config', file);
    expect(refused.code).toBe(1);
    expect(node.sluice.triggers.list({ queue: 'fourth' })).toEqual([]);
    expect((await catalogMappings()).map((m) => m.input.queue)).toEqual(['jobs']);
    expect((await node.sluice.schedules.list()).map((view) => view.name)).toEqual(['hourly']);

    // A schedule made otherwise (a node's config, the Scheduler API) is not taken over.
    await node.sluice.schedules.create({ name: 'manual', expression: 'rate(5 minutes)', target: { kind: 'queue', queue: 'jobs' } });
    withSchedules('  manual: { expression: "rate(1 hour)", target: { queue: jobs } }\n');
    const taken = await sluice('apply', '--config', file);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('was not created by sluice apply');
    expect((await node.sluice.schedules.get('manual')).expression).toBe('rate(5 minutes)');
    expect((await node.sluice.schedules.list()).map((view) => view.name)).toEqual(['hourly', 'manual']);
  });

  it('refuses a file whose trigger is invalid, applying nothing', async () => {
    write('  - { queue: jobs, function: consume, batchSize: 7 }\n  - { queue: other, function: consume, batchSize: 99999 }\n');
    const refused = await sluice('apply', '--config', file);
    expect(refused.code).toBe(1);
    expect(node.sluice.triggers.list({ queue: 'other' })).toEqual([]);
  });
});
