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
    expect((await node.sluice.schedules.get('soon')).target).toEqual({ kind: 'queue', queue: 'ticks', body: 'tick!' });
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

  it('refuses bad input with ValidationException and stores nothing', async () => {
    const cases: Array<[Partial<CreateScheduleCommandInput>, RegExp]> = [
      [{ ScheduleExpression: 'rate(0 minutes)' }, /rate|expression/i],
      [{ ScheduleExpressionTimezone: 'Mars/Olympus' }, /time ?zone/i],
      [{ Target: { Arn: 'arn:aws:sns:us-east-1:000000000000:topic', RoleArn: ROLE } }, /not a Lambda function or an SQS queue/],
      [{ Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:report', RoleArn: ROLE, Input: '{nope' } }, /Input must be valid JSON/],
      [{ EndDate: new Date(Date.UTC(2030, 0, 1)) }, /EndDate is not supported/],
      [{ ActionAfterCompletion: 'DELETE' }, /ActionAfterCompletion DELETE is not supported/],
      [{ FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, /MaximumWindowInMinutes/],
      [{ Target: { Arn: functionArn, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 1 } } }, /Target.RetryPolicy is not supported/],
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
