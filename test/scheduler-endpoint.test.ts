/**
 * The EventBridge Scheduler API with the unmodified @aws-sdk/client-scheduler against a node, on SQLite
 * and PostgreSQL: schedules with Lambda and SQS targets mapped onto Sluice schedules (and firing),
 * schedule groups, listing with filters and pages, and Scheduler's errors; refused input stores nothing.
 */
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig } from '../src/config/schema.js';
import { storeBackends } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure as failure } from './support/sdk-failure.js';

const ROLE = 'arn:aws:iam::000000000000:role/scheduler';

describe.each(storeBackends)('the EventBridge Scheduler API with the AWS SDK on %s', (_backend, openStore) => {
  let node: TestNode;
  let scheduler: SchedulerClient;
  const events: unknown[] = [];
  let functionArn: string;
  let queueArn: string;
  const input = (extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
    Name: 'nightly',
    ScheduleExpression: 'cron(0 2 * * ? *)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: functionArn, RoleArn: ROLE, Input: '{"job":"report"}' },
    ...extra,
  });
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    scheduler = new SchedulerClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    await node.sluice.functions.create({ name: 'report', handler: async (event: unknown) => void events.push(event) });
    await node.sluice.queues.create('ticks');
    await node.sluice.queues.create('dead');
    functionArn = node.sluice.functions.arnOf('report');
    queueArn = node.sluice.queues.arnOf('ticks');
  });
  afterAll(async () => {
    scheduler.destroy();
    await node.close();
  });

  it('creates a schedule with a Lambda target as a Sluice schedule, and reads it back as given', async () => {
    const created = await scheduler.send(new CreateScheduleCommand(input({ Description: 'the nightly report', ScheduleExpressionTimezone: 'Europe/Paris' })));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly');
    const sluice = await node.sluice.schedules.get('nightly');
    expect(sluice).toMatchObject({ expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Paris', target: { kind: 'function', functionName: 'report', input: { job: 'report' } }, state: 'ENABLED' });
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'nightly' }));
    expect(got).toMatchObject({
      Name: 'nightly',
      GroupName: 'default',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      Description: 'the nightly report',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'NONE',
      Target: { Arn: functionArn, RoleArn: ROLE, Input: '{"job":"report"}' },
    });
    expect(got.CreationDate).toBeInstanceOf(Date);
    const again = await failure(scheduler.send(new CreateScheduleCommand(input())));
    expect(again.name).toBe('ConflictException');
    expect(again.$metadata.httpStatusCode).toBe(409);
  });

  it('maps an SQS target onto a queue target with its Input as the body', async () => {
    await scheduler.send(new CreateScheduleCommand(input({ Name: 'soon', ScheduleExpression: 'rate(1 minute)', Target: { Arn: queueArn, RoleArn: ROLE, Input: 'tick!' } })));
    expect((await node.sluice.schedules.get('soon')).target).toEqual({
      kind: 'queue',
      queue: 'ticks',
      body: 'tick!',
      onFailure: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 }, // Scheduler's default RetryPolicy
    });
    await scheduler.send(new DeleteScheduleCommand({ Name: 'soon' }));
  });

  it('updates a schedule as a whole and disables it', async () => {
    await scheduler.send(
      new UpdateScheduleCommand({ ...input(), ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 } }),
    );
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'nightly' }));
    expect(got).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED', ScheduleExpressionTimezone: 'UTC', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 } });
    expect(got.Description).toBeUndefined();
    expect((await node.sluice.schedules.get('nightly')).state).toBe('DISABLED');
    const missing = await failure(scheduler.send(new UpdateScheduleCommand(input({ Name: 'nobody' }))));
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('keeps schedules in groups, lists them by group, prefix and state in pages, and deletes a group with its schedules', async () => {
    const group = await scheduler.send(new CreateScheduleGroupCommand({ Name: 'reports' }));
    expect(group.ScheduleGroupArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule-group/reports');
    expect((await scheduler.send(new GetScheduleGroupCommand({ Name: 'reports' }))).State).toBe('ACTIVE');
    expect((await failure(scheduler.send(new CreateScheduleGroupCommand({ Name: 'reports' })))).name).toBe('ConflictException');
    for (const name of ['a', 'b', 'c']) await scheduler.send(new CreateScheduleCommand(input({ Name: name, GroupName: 'reports' })));
    expect((await node.sluice.schedules.get('reports.a')).expression).toBe('cron(0 2 * * ? *)');
    expect((await scheduler.send(new GetScheduleCommand({ Name: 'a', GroupName: 'reports' }))).Arn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/reports/a');
    expect((await failure(scheduler.send(new GetScheduleCommand({ Name: 'a' })))).name).toBe('ResourceNotFoundException');

    const inGroup = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports', MaxResults: 2 }));
    expect(inGroup.Schedules?.map((s) => s.Name)).toEqual(['a', 'b']);
    const rest = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports', NextToken: inGroup.NextToken }));
    expect(rest.Schedules?.map((s) => s.Name)).toEqual(['c']);
    expect(rest.NextToken).toBeUndefined();
    const disabled = await scheduler.send(new ListSchedulesCommand({ State: 'DISABLED' }));
    expect(disabled.Schedules?.map((s) => `${s.GroupName}/${s.Name}`)).toEqual(['default/nightly']);
    expect((await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'night' }))).Schedules?.[0]).toMatchObject({ Name: 'nightly', Target: { Arn: functionArn } });
    const groups = await scheduler.send(new ListScheduleGroupsCommand({}));
    expect(groups.ScheduleGroups?.map((g) => g.Name)).toEqual(['default', 'reports']);

    await scheduler.send(new DeleteScheduleGroupCommand({ Name: 'reports' }));
    expect((await node.sluice.schedules.list()).map((s) => s.name)).toEqual(['nightly']);
    expect((await failure(scheduler.send(new GetScheduleGroupCommand({ Name: 'reports' })))).name).toBe('ResourceNotFoundException');
    expect((await failure(scheduler.send(new CreateScheduleCommand(input({ Name: 'x', GroupName: 'reports' }))))).name).toBe('ResourceNotFoundException');
  });

  it("keeps StartDate, EndDate, ActionAfterCompletion, RetryPolicy and DeadLetterConfig, with Scheduler's default RetryPolicy", async () => {
    const start = new Date(Date.UTC(2031, 0, 1));
    const end = new Date(Date.UTC(2031, 6, 1));
    const dlqArn = node.sluice.queues.arnOf('dead');
    await scheduler.send(
      new CreateScheduleCommand(
        input({
          Name: 'bounded',
          StartDate: start,
          EndDate: end,
          ActionAfterCompletion: 'DELETE',
          FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 },
          Target: { Arn: functionArn, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 }, DeadLetterConfig: { Arn: dlqArn } },
        }),
      ),
    );
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'bounded' }));
    expect(got).toMatchObject({
      StartDate: start,
      EndDate: end,
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 },
      Target: { RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 }, DeadLetterConfig: { Arn: dlqArn } },
    });
    const sluice = await node.sluice.schedules.get('bounded');
    expect(sluice).toMatchObject({ startDate: start.toISOString(), endDate: end.toISOString(), flexibleWindowMinutes: 30, deleteAfterCompletion: true, nextFireTime: '2031-01-01T02:00:00.000Z' });
    expect(sluice.target).toMatchObject({ onFailure: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 600, deadLetterQueue: 'dead' } });

    // UpdateSchedule replaces the definition: EndDate, the window and the policies left out are cleared or defaulted.
    await scheduler.send(new UpdateScheduleCommand(input({ Name: 'bounded' })));
    const updated = await scheduler.send(new GetScheduleCommand({ Name: 'bounded' }));
    expect(updated.EndDate).toBeUndefined();
    expect(updated).toMatchObject({ ActionAfterCompletion: 'NONE', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 } } });
    expect(updated.Target?.DeadLetterConfig).toBeUndefined();
    const afterUpdate = await node.sluice.schedules.get('bounded');
    expect(afterUpdate.endDate).toBeNull();
    expect(Date.parse(afterUpdate.nextFireTime!)).toBeLessThan(start.getTime()); // the former StartDate no longer holds it back
    expect(updated.StartDate).toBeUndefined();
    await scheduler.send(new DeleteScheduleCommand({ Name: 'bounded' }));
  });

  it('retries a failing target by its RetryPolicy, dead-letters the event, then deletes the completed one-time schedule', async () => {
    await scheduler.send(new CreateScheduleGroupCommand({ Name: 'nightly-jobs' }));
    let calls = 0;
    await node.sluice.functions.create({
      name: 'flaky',
      handler: async () => {
        calls++;
        throw new Error('flaky is down');
      },
    });
    const at = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000).toISOString().slice(0, 19);
    await scheduler.send(
      new CreateScheduleCommand(
        input({
          Name: 'once',
          GroupName: 'nightly-jobs',
          ScheduleExpression: `at(${at})`,
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: node.sluice.functions.arnOf('flaky'), RoleArn: ROLE, Input: '{"n":1}', RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 60 }, DeadLetterConfig: { Arn: node.sluice.queues.arnOf('dead') } },
        }),
      ),
    );
    const deadline = Date.now() + 15_000;
    let dead: Awaited<ReturnType<typeof node.sluice.queues.receive>> = [];
    while (dead.length === 0 && Date.now() < deadline) dead = await node.sluice.queues.receive('dead', { waitTimeSeconds: 1 });
    expect(calls).toBe(2);
    expect(dead[0]?.body).toBe('{"n":1}');
    expect(dead[0]?.messageAttributes.EXHAUSTED_RETRY_CONDITION?.stringValue).toBe('MaximumRetryAttempts');
    expect(dead[0]?.messageAttributes.ERROR_MESSAGE?.stringValue).toMatch(/flaky is down/);
    // SCHEDULE_ARN names the schedule's own group, not `default`.
    expect(dead[0]?.messageAttributes.SCHEDULE_ARN?.stringValue).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/nightly-jobs/once');
    expect(dead[0]?.messageAttributes.EXECUTION_ID?.stringValue).toMatch(/^[0-9a-f-]{36}$/);
    // The schedule goes once its last invocation has its outcome: right after the dead-letter message is sent.
    const gone = Date.now() + 5_000;
    while ((await node.sluice.schedules.list()).some((view) => view.name === 'nightly-jobs.once') && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await failure(scheduler.send(new GetScheduleCommand({ Name: 'once', GroupName: 'nightly-jobs' })))).name).toBe('ResourceNotFoundException');
  }, 20_000);

  it('refuses bad input with ValidationException and stores nothing', async () => {
    const cases: Array<[Partial<CreateScheduleCommandInput>, RegExp]> = [
      [{ ScheduleExpression: 'rate(0 minutes)' }, /rate|expression/i],
      [{ ScheduleExpressionTimezone: 'Mars/Olympus' }, /time ?zone/i],
      [{ Target: { Arn: 'arn:aws:sns:us-east-1:000000000000:topic', RoleArn: ROLE } }, /not a Lambda function or an SQS queue/],
      [{ Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:report', RoleArn: ROLE, Input: '{nope' } }, /Input must be valid JSON/],
      [{ EndDate: new Date(Date.UTC(2020, 0, 1)) }, /EndDate you specify must be in the future/],
      [{ StartDate: new Date(Date.UTC(2031, 0, 1)), EndDate: new Date(Date.UTC(2030, 0, 1)) }, /EndDate you specify must be after the StartDate/],
      [{ ActionAfterCompletion: 'LATER' as never }, /at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: \[NONE, DELETE\]/],
      [{ FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, /MaximumWindowInMinutes/],
      [{ FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } }, /MaximumWindowInMinutes/],
      [{ Target: { Arn: functionArn, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 186 } } }, /Value '186' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185/],
      [{ Target: { Arn: functionArn, RoleArn: ROLE, RetryPolicy: { MaximumEventAgeInSeconds: 59 } } }, /Value '59' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60/],
      [{ Target: { Arn: functionArn, RoleArn: ROLE, DeadLetterConfig: { Arn: 'arn:aws:sns:us-east-1:000000000000:topic' } } }, /at 'target.deadLetterConfig.arn' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [{ Target: { Arn: functionArn, RoleArn: ROLE, DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:000000000000:dlq' } } }, /not an SQS queue of this node/],
      [{ KmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }, /KmsKeyArn is not supported/],
      [{ Name: 'bad name' }, /at 'name' failed to satisfy constraint/],
    ];
    for (const [extra, message] of cases) {
      const refused = await failure(scheduler.send(new CreateScheduleCommand(input({ Name: 'refused', ...extra }))));
      expect(refused.name, JSON.stringify(extra)).toBe('ValidationException');
      expect(refused.$metadata.httpStatusCode).toBe(400);
      expect(refused.message, JSON.stringify(extra)).toMatch(message);
    }
    expect((await node.sluice.schedules.list()).map((s) => s.name)).toEqual(['nightly']);
    expect((await node.sluice.store.catalogList({ kind: 'scheduler-schedule' })).map((e) => e.name)).toEqual(['nightly']);
  });

  it('deletes a schedule', async () => {
    await scheduler.send(new DeleteScheduleCommand({ Name: 'nightly' }));
    expect(await node.sluice.schedules.list()).toEqual([]);
    expect((await failure(scheduler.send(new DeleteScheduleCommand({ Name: 'nightly' })))).name).toBe('ResourceNotFoundException');
  });
});

describe.each(storeBackends)('schedules a node’s config file declares, through the Scheduler and native APIs on %s', (_backend, openStore) => {
  let node: TestNode;
  let scheduler: SchedulerClient;
  const FILE = '/etc/sluice/node-a.yaml';
  const declaring = (expression: string) =>
    validateConfig({ queues: { ticks: {} }, schedules: { nightly: { expression, target: { queue: 'ticks', body: 'tick' } } } }, 'test');
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    scheduler = new SchedulerClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    await applyConfig({ sluice: node.sluice, config: declaring('rate(5 minutes)'), baseDir: '.', prune: false, source: FILE });
  });
  afterAll(async () => {
    scheduler.destroy();
    await node.close();
  });

  it('refuses to change or delete them through any API, naming the file, and leaves them as the file says', async () => {
    const target = { Arn: node.sluice.queues.arnOf('ticks'), RoleArn: ROLE, Input: 'other' };
    const updated = await failure(
      scheduler.send(new UpdateScheduleCommand({ Name: 'nightly', ScheduleExpression: 'rate(9 minutes)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: target })),
    );
    expect(updated.name).toBe('ConflictException');
    expect(updated.$metadata.httpStatusCode).toBe(409);
    expect(updated.message).toBe(`The schedule nightly is declared by the config file ${FILE}; change it there and restart the node`);
    const deleted = await failure(scheduler.send(new DeleteScheduleCommand({ Name: 'nightly' })));
    expect(deleted.name).toBe('ConflictException');
    expect(deleted.message).toContain(FILE);
    const patched = await node.native('/v1/schedules/nightly', { method: 'PATCH', body: { expression: 'rate(7 minutes)' } });
    expect(patched.status).toBe(409);
    expect(JSON.stringify(patched.body)).toContain(FILE);
    const removed = await node.native('/v1/schedules/nightly', { method: 'DELETE' });
    expect(removed.status).toBe(409);
    await expect(node.sluice.schedules.delete('nightly')).rejects.toThrow(FILE);
    expect(await node.sluice.schedules.get('nightly')).toMatchObject({ expression: 'rate(5 minutes)', target: { kind: 'queue', queue: 'ticks', body: 'tick' } });
    expect(await node.sluice.store.catalogList({ kind: 'scheduler-schedule' })).toEqual([]);
  });

  it('still takes the file’s own changes, and frees a schedule the file no longer declares', async () => {
    await applyConfig({ sluice: node.sluice, config: declaring('rate(6 minutes)'), baseDir: '.', prune: false, source: FILE });
    expect((await node.sluice.schedules.get('nightly')).expression).toBe('rate(6 minutes)');
    await applyConfig({ sluice: node.sluice, config: validateConfig({ queues: { ticks: {} } }, 'test'), baseDir: '.', prune: false, source: FILE });
    await scheduler.send(new DeleteScheduleCommand({ Name: 'nightly' }));
    expect(await node.sluice.schedules.list()).toEqual([]);
  });
});
