/**
 * The AWS CLI's `aws lambda` and `aws scheduler` against a node (skipped when this machine has no AWS
 * CLI): invoke with a log tail, a function created from a zip file, event source mappings, reserved
 * concurrency, schedules and their errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAwsCli, runAws } from './support/aws-cli.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { zipOf } from '../src/testkit/zip.js';

let node: TestNode;
let dir: string;
const aws = (service: string, ...args: string[]) => runAws({ url: node.url, credentials: TEST_ACCESS_KEY }, service, ...args);

describe.runIf(hasAwsCli)('the AWS CLI against the Lambda and Scheduler APIs', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-aws-cli-'));
    node = await startTestNode({ codeCacheDir: join(dir, 'code') });
    await node.sluice.functions.create({ name: 'greet', handler: async (event: { name?: string }) => ({ hello: event.name ?? 'nobody' }) });
    await node.sluice.functions.create({ name: 'broken', handler: async () => { throw new RangeError('out of range'); } });
    await node.sluice.queues.create('jobs');
  });
  afterAll(async () => {
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('invokes a function and lists it', async () => {
    const out = join(dir, 'out.json');
    const invoked = await aws('lambda', 'invoke', '--function-name', 'greet', '--payload', '{"name":"ada"}', '--log-type', 'Tail', out);
    expect(invoked.code, invoked.stderr).toBe(0);
    const answer = JSON.parse(invoked.stdout) as { StatusCode: number; ExecutedVersion: string; LogResult: string };
    expect(answer).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(Buffer.from(answer.LogResult, 'base64').toString('utf8')).toMatch(/^START RequestId: /);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ hello: 'ada' });
    const listed = await aws('lambda', 'list-functions');
    expect((JSON.parse(listed.stdout) as { Functions: Array<{ FunctionName: string }> }).Functions.map((f) => f.FunctionName)).toEqual(['broken', 'greet']);
    const missing = await aws('lambda', 'get-function', '--function-name', 'nobody');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });

  it('reports a failed handler with FunctionError Unhandled and its error payload, and answers a DryRun with 204', async () => {
    const out = join(dir, 'failed.json');
    const failed = await aws('lambda', 'invoke', '--function-name', 'broken', out);
    expect(failed.code, failed.stderr).toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of range' });
    const dry = await aws('lambda', 'invoke', '--function-name', 'broken', '--invocation-type', 'DryRun', join(dir, 'dry.json'));
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ StatusCode: 204 });
    expect(node.sluice.functions.metrics('broken').invocations).toBe(1);
  });

  it('creates a function from a zip file, invokes it, updates its code and deletes it', async () => {
    const zip = (text: string) => {
      const path = join(dir, `${text}.zip`);
      writeFileSync(path, zipOf({ 'index.js': `exports.handler = async () => '${text}';` }));
      return `fileb://${path}`;
    };
    const invoke = async () => {
      const out = join(dir, 'zip-out.json');
      expect((await aws('lambda', 'invoke', '--function-name', 'zipped', out)).code).toBe(0);
      return JSON.parse(readFileSync(out, 'utf8')) as unknown;
    };
    const created = await aws('lambda', 'create-function', '--function-name', 'zipped', '--runtime', 'nodejs22.x', '--handler', 'index.handler',
      '--role', 'arn:aws:iam::000000000000:role/r', '--zip-file', zip('first'));
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ FunctionName: 'zipped', Runtime: 'nodejs22.x', Handler: 'index.handler' });
    expect(await invoke()).toBe('first');
    const updated = await aws('lambda', 'update-function-code', '--function-name', 'zipped', '--zip-file', zip('second'));
    expect(updated.code, updated.stderr).toBe(0);
    expect(await invoke()).toBe('second');
    const python = await aws('lambda', 'create-function', '--function-name', 'snake', '--runtime', 'python3.12', '--handler', 'index.handler',
      '--role', 'arn:aws:iam::000000000000:role/r', '--zip-file', zip('third'));
    expect(python.code).not.toBe(0);
    expect(python.stderr).toContain('InvalidParameterValueException');
    expect((await aws('lambda', 'delete-function', '--function-name', 'zipped')).code).toBe(0);
    expect(node.sluice.functions.exists('zipped')).toBe(false);
  });

  it('creates, lists and deletes an event source mapping and sets reserved concurrency', async () => {
    const created = await aws('lambda', 'create-event-source-mapping', '--function-name', 'greet', '--event-source-arn', node.sluice.queues.arnOf('jobs'), '--batch-size', '5');
    expect(created.code, created.stderr).toBe(0);
    const { UUID } = JSON.parse(created.stdout) as { UUID: string };
    const listed = JSON.parse((await aws('lambda', 'list-event-source-mappings', '--function-name', 'greet')).stdout) as { EventSourceMappings: Array<{ UUID: string; BatchSize: number }> };
    expect(listed.EventSourceMappings).toMatchObject([{ UUID, BatchSize: 5 }]);
    const disabled = await aws('lambda', 'update-event-source-mapping', '--uuid', UUID, '--no-enabled', '--batch-size', '7');
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ UUID, State: 'Disabled', BatchSize: 7 });
    expect(JSON.parse((await aws('lambda', 'get-event-source-mapping', '--uuid', UUID)).stdout)).toMatchObject({ State: 'Disabled', BatchSize: 7 });
    const twice = await aws('lambda', 'create-event-source-mapping', '--function-name', 'greet', '--event-source-arn', node.sluice.queues.arnOf('jobs'));
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('ResourceConflictException');
    expect(twice.stderr).toContain(`Please update or delete the existing mapping with UUID ${UUID}`);
    expect((await aws('lambda', 'delete-event-source-mapping', '--uuid', UUID)).code).toBe(0);
    const put = await aws('lambda', 'put-function-concurrency', '--function-name', 'greet', '--reserved-concurrent-executions', '4');
    expect(JSON.parse(put.stdout)).toEqual({ ReservedConcurrentExecutions: 4 });
    expect(node.sluice.functions.get('greet').reservedConcurrency).toBe(4);
  });

  it('creates, reads, lists and deletes a schedule', async () => {
    const target = JSON.stringify({ Arn: node.sluice.functions.arnOf('greet'), RoleArn: 'arn:aws:iam::000000000000:role/s', Input: '{"name":"cron"}' });
    const created = await aws('scheduler', 'create-schedule', '--name', 'hourly', '--schedule-expression', 'rate(1 hour)', '--flexible-time-window', 'Mode=OFF', '--target', target);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ ScheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/hourly' });
    const got = JSON.parse((await aws('scheduler', 'get-schedule', '--name', 'hourly')).stdout) as { ScheduleExpression: string; Target: { Input: string } };
    expect(got).toMatchObject({ ScheduleExpression: 'rate(1 hour)', Target: { Input: '{"name":"cron"}' } });
    const listed = JSON.parse((await aws('scheduler', 'list-schedules')).stdout) as { Schedules: Array<{ Name: string }> };
    expect(listed.Schedules.map((s) => s.Name)).toEqual(['hourly']);
    expect((await aws('scheduler', 'delete-schedule', '--name', 'hourly')).code).toBe(0);
    const gone = await aws('scheduler', 'get-schedule', '--name', 'hourly');
    expect(gone.stderr).toContain('ResourceNotFoundException');
  });

  it('keeps schedules in a schedule group, lists them by group and deletes the group with them', async () => {
    const target = JSON.stringify({ Arn: node.sluice.queues.arnOf('jobs'), RoleArn: 'arn:aws:iam::000000000000:role/s', Input: 'tick' });
    const group = await aws('scheduler', 'create-schedule-group', '--name', 'reports');
    expect(group.code, group.stderr).toBe(0);
    expect(JSON.parse(group.stdout)).toEqual({ ScheduleGroupArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/reports' });
    const created = await aws('scheduler', 'create-schedule', '--name', 'weekly', '--group-name', 'reports', '--schedule-expression', 'rate(7 days)', '--flexible-time-window', 'Mode=OFF', '--target', target);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ ScheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/reports/weekly' });
    const groups = JSON.parse((await aws('scheduler', 'list-schedule-groups')).stdout) as { ScheduleGroups: Array<{ Name: string; State: string }> };
    expect(groups.ScheduleGroups.map((g) => g.Name).sort()).toEqual(['default', 'reports']);
    const inGroup = JSON.parse((await aws('scheduler', 'list-schedules', '--group-name', 'reports')).stdout) as { Schedules: Array<{ Name: string; GroupName: string }> };
    expect(inGroup.Schedules).toMatchObject([{ Name: 'weekly', GroupName: 'reports' }]);
    expect((JSON.parse((await aws('scheduler', 'list-schedules', '--group-name', 'default')).stdout) as { Schedules: unknown[] }).Schedules).toEqual([]);
    expect((await aws('scheduler', 'delete-schedule-group', '--name', 'reports')).code).toBe(0);
    expect((await aws('scheduler', 'get-schedule', '--name', 'weekly', '--group-name', 'reports')).stderr).toContain('ResourceNotFoundException');
    expect(await node.sluice.schedules.list()).toEqual([]);
  });
});
