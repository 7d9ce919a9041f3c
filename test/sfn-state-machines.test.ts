/**
 * State machines through the unmodified AWS SDK (@aws-sdk/client-sfn) against a node, on SQLite and
 * PostgreSQL: the catalog, executions, history, errors, and seed 001's callback workflow (an SQS
 * message with a task token, answered by the function its queue triggers).
 */
import {
  ActivityDoesNotExist,
  CreateActivityCommand,
  CreateStateMachineCommand,
  DeleteActivityCommand,
  DescribeActivityCommand,
  GetActivityTaskCommand,
  ListActivitiesCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidDefinition,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/store.js';
import { describePostgres, openTestStore } from '../src/testkit/postgres.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

const role = 'arn:aws:iam::000000000000:role/sfn';
const passMachine = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: { ok: true }, ResultPath: '$.r', End: true } } });

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function suite(backend: string, openStore: () => Promise<Store | undefined>) {
  describe(`Step Functions API over HTTP [${backend}]`, () => {
    let node: TestNode;
    let sfn: SFNClient;
    beforeAll(async () => {
      const store = await openStore();
      node = await startTestNode(store ? { store } : {});
      // StartSyncExecution's model adds the host prefix `sync-`; a local endpoint turns that off.
      sfn = new SFNClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1, disableHostPrefix: true });
    });
    afterAll(async () => {
      sfn.destroy();
      await node.close();
    });

    it('creates, describes, lists, updates, tags and deletes a state machine', async () => {
      const created = await sfn.send(new CreateStateMachineCommand({ name: 'catalog', definition: passMachine, roleArn: role, tags: [{ key: 'team', value: 'a' }] }));
      expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:catalog');
      expect(created.creationDate).toBeInstanceOf(Date);
      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
      expect(described).toMatchObject({ name: 'catalog', status: 'ACTIVE', type: 'STANDARD', definition: passMachine, roleArn: role });
      const listed = await sfn.send(new ListStateMachinesCommand({}));
      expect(listed.stateMachines?.map((m) => m.name)).toContain('catalog');
      const updated = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: created.stateMachineArn, definition: passMachine.replace('true', 'false') }));
      expect(updated.updateDate).toBeInstanceOf(Date);
      await sfn.send(new TagResourceCommand({ resourceArn: created.stateMachineArn, tags: [{ key: 'env', value: 'test' }] }));
      expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: created.stateMachineArn }))).tags).toEqual([
        { key: 'team', value: 'a' },
        { key: 'env', value: 'test' },
      ]);
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    });

    it('reports invalid definitions and names with AWS’s exceptions, and validates definitions', async () => {
      const bad = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });
      const error = await sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: bad, roleArn: role })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidDefinition);
      expect((error as Error).message).toContain('/States/A/Next');
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'bad name', definition: passMachine, roleArn: role }))).rejects.toBeInstanceOf(InvalidName);
      const validated = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: bad }));
      expect(validated.result).toBe('FAIL');
      expect(validated.diagnostics?.[0]).toMatchObject({ severity: 'ERROR', code: 'MISSING_TRANSITION_TARGET', location: '/States/A/Next' });
      expect((await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: passMachine }))).result).toBe('OK');
      // Creating the same machine again answers it; another definition under its name is StateMachineAlreadyExists.
      const first = await sfn.send(new CreateStateMachineCommand({ name: 'twice', definition: passMachine, roleArn: role }));
      const again = await sfn.send(new CreateStateMachineCommand({ name: 'twice', definition: passMachine, roleArn: role }));
      expect(again.stateMachineArn).toBe(first.stateMachineArn);
      const other = JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Pass', End: true } } });
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'twice', definition: other, roleArn: role }))).rejects.toBeInstanceOf(StateMachineAlreadyExists);
      // A bare name is a name to the library, not to the API: AWS answers InvalidArn.
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'twice' }))).rejects.toBeInstanceOf(InvalidArn);
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: 'twice' }))).rejects.toMatchObject({ name: 'InvalidArn', message: "Invalid Arn: 'Invalid ARN prefix: twice'" });
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope' }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: first.stateMachineArn }));
    });

    it('runs executions: start (idempotent by name), describe, list, history, stop', async () => {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({ name: 'runs', definition: JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } }), roleArn: role }),
      );
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'first', input: '{"a":1}' }));
      expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:runs:first');
      const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'first', input: '{"a":1}' }));
      expect(again.executionArn).toBe(started.executionArn);
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'first', input: '{"a":2}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'second' }));
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      expect(described).toMatchObject({ status: 'RUNNING', input: '{"a":1}', name: 'first', stateMachineArn });
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
      expect(page.executions).toHaveLength(1);
      const rest = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1, nextToken: page.nextToken }));
      expect([page.executions?.[0]?.name, rest.executions?.[0]?.name].sort()).toEqual(['first', 'second']);
      await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn, error: 'Stop', cause: 'test' }));
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Stop' });
      expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'ABORTED' }))).executions?.map((e) => e.name)).toEqual(['first']);
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
      expect(history.events?.map((e) => [e.id, e.previousEventId, e.type])).toEqual([
        [1, 0, 'ExecutionStarted'],
        [2, 1, 'WaitStateEntered'],
        [3, 2, 'WaitStateAborted'],
        [4, 3, 'ExecutionAborted'],
      ]);
      expect(history.events?.[0]?.executionStartedEventDetails).toMatchObject({ input: '{"a":1}', roleArn: role });
      expect(history.events?.[0]?.timestamp).toBeInstanceOf(Date);
      const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, reverseOrder: true, maxResults: 2 }));
      expect(reversed.events?.map((e) => e.id)).toEqual([4, 3]);
      const tail = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, reverseOrder: true, maxResults: 3, nextToken: reversed.nextToken }));
      expect(tail.events?.map((e) => e.id)).toEqual([2, 1]);
      expect(tail.nextToken).toBeUndefined();
      expect((await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }))).name).toBe('runs');
      await expect(sfn.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace('stateMachine', 'execution')}:nope` }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    });

    it('StartSyncExecution returns the output, on an EXPRESS machine only', async () => {
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'sync', definition: passMachine, roleArn: role, type: 'EXPRESS' }));
      const done = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn, input: '{"x":1}' }));
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"x":1,"r":{"ok":true}}', input: '{"x":1}' });
      expect(done.executionArn).toContain(':express:sync:');
      expect(done.stopDate).toBeInstanceOf(Date);
      await expect(sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn! }))).rejects.toMatchObject({ name: 'InvalidArn' });
      await expect(sfn.send(new ListExecutionsCommand({ stateMachineArn }))).rejects.toMatchObject({ name: 'StateMachineTypeNotSupported' });
      const standard = await sfn.send(new CreateStateMachineCommand({ name: 'not-sync', definition: passMachine, roleArn: role }));
      await expect(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: standard.stateMachineArn }))).rejects.toMatchObject({ name: 'StateMachineTypeNotSupported' });
    });

    it('RedriveExecution runs a failed execution again from its failed state; DescribeExecution reports it', async () => {
      const definition = JSON.stringify({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Nope', Cause: 'always' } } });
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'redrive', definition, roleArn: role }));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
      const failed = await waitFor(() => sfn.send(new DescribeExecutionCommand({ executionArn })), (d) => d.status !== 'RUNNING');
      expect(failed).toMatchObject({ status: 'FAILED', redriveCount: 0, redriveStatus: 'REDRIVABLE' });
      const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn }));
      expect(redriven.redriveDate).toBeInstanceOf(Date);
      const again = await waitFor(() => sfn.send(new DescribeExecutionCommand({ executionArn })), (d) => d.status !== 'RUNNING');
      expect(again).toMatchObject({ status: 'FAILED', error: 'Nope', redriveCount: 1 });
      expect(again.redriveDate).toBeInstanceOf(Date);
      // The SDK sends a clientToken (its own when none is given): a repeat answers the same redrive.
      const once = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'sdk-token' }));
      const repeat = await sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'sdk-token' }));
      expect(repeat.redriveDate).toEqual(once.redriveDate);
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ redriveCount: 2 });
      const ok = await sfn.send(new CreateStateMachineCommand({ name: 'redrive-ok', definition: passMachine, roleArn: role }));
      const done = await sfn.send(new StartExecutionCommand({ stateMachineArn: ok.stateMachineArn }));
      await waitFor(() => sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn })), (d) => d.status !== 'RUNNING');
      await expect(sfn.send(new RedriveExecutionCommand({ executionArn: done.executionArn }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
      expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn, redriveFilter: 'REDRIVEN' }))).executions?.map((e) => e.executionArn)).toEqual([executionArn]);
      expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn, redriveFilter: 'NOT_REDRIVEN' }))).executions).toEqual([]);
    });

    it('activities: CreateActivity, a Task on its ARN, GetActivityTask and SendTaskSuccess over the SDK', async () => {
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: 'sdk-worker' }));
      expect(activityArn).toBe('arn:aws:states:us-east-1:000000000000:activity:sdk-worker');
      expect((await sfn.send(new DescribeActivityCommand({ activityArn }))).name).toBe('sdk-worker');
      expect((await sfn.send(new ListActivitiesCommand({}))).activities?.map((a) => a.name)).toContain('sdk-worker');
      const definition = JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Task', Resource: activityArn, End: true } } });
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'with-activity', definition, roleArn: role }));
      const polling = sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'w1' }));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"job":1}' }));
      const task = await polling;
      expect(task.input).toBe('{"job":1}');
      await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken!, output: '{"done":true}' }));
      const done = await waitFor(() => sfn.send(new DescribeExecutionCommand({ executionArn })), (d) => d.status !== 'RUNNING');
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"done":true}' });
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      expect(events?.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
      expect(events?.[3]).toMatchObject({ id: 4, previousEventId: 3, activityStartedEventDetails: { workerName: 'w1' } });
      await sfn.send(new DeleteActivityCommand({ activityArn }));
      await expect(sfn.send(new DescribeActivityCommand({ activityArn }))).rejects.toBeInstanceOf(ActivityDoesNotExist);
    });

    it('tags activities as state machines: TagResource, UntagResource, ListTagsForResource on an activity ARN', async () => {
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: 'tagged-worker', tags: [{ key: 'team', value: 'a' }] }));
      await sfn.send(new TagResourceCommand({ resourceArn: activityArn, tags: [{ key: 'env', value: 'prod' }] }));
      await sfn.send(new UntagResourceCommand({ resourceArn: activityArn, tagKeys: ['team'] }));
      expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: activityArn }))).tags).toEqual([{ key: 'env', value: 'prod' }]);
      const missing = `${activityArn!}-gone`;
      await expect(sfn.send(new TagResourceCommand({ resourceArn: missing, tags: [{ key: 'a', value: 'b' }] }))).rejects.toMatchObject({ name: 'ResourceNotFound' });
      await expect(sfn.send(new ListTagsForResourceCommand({ resourceArn: missing }))).rejects.toMatchObject({ name: 'ResourceNotFound' });
    });

    it('records ActivityStarted with the workerName when a worker takes the task, before it answers', async () => {
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: 'started-worker' }));
      const definition = JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 60, End: true } } });
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'activity-started', definition, roleArn: role }));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
      const types = async () => (await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events?.map((e) => e.type) ?? [];
      await waitFor(types, (t) => t.includes('ActivityScheduled'));
      expect(await types()).not.toContain('ActivityStarted');
      const task = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'worker-7' }));
      const history = await waitFor(() => sfn.send(new GetExecutionHistoryCommand({ executionArn })), (h) => h.events?.some((e) => e.type === 'ActivityStarted') === true);
      expect(history.events?.at(-1)).toMatchObject({ type: 'ActivityStarted', previousEventId: 3, activityStartedEventDetails: { workerName: 'worker-7' } });
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
      await sfn.send(new SendTaskFailureCommand({ taskToken: task.taskToken!, error: 'Broke', cause: 'on purpose' }));
      await waitFor(() => sfn.send(new DescribeExecutionCommand({ executionArn })), (d) => d.status !== 'RUNNING');
      expect((await types()).slice(2)).toEqual(['ActivityScheduled', 'ActivityStarted', 'ActivityFailed', 'ExecutionFailed']);
    });

    it('a node closing ends a GetActivityTask long poll at once with no task', async () => {
      const store = await openStore();
      const closing = await startTestNode(store ? { store } : {});
      const client = new SFNClient({ endpoint: closing.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
      try {
        const { activityArn } = await client.send(new CreateActivityCommand({ name: 'closing' }));
        const polling = client.send(new GetActivityTaskCommand({ activityArn }));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = Date.now();
        await closing.close();
        expect((await polling).taskToken).toBeUndefined();
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        client.destroy();
      }
    });

    it('StartSyncExecution works without disableHostPrefix when the `sync-` name resolves to the node (any Host is served)', async () => {
      // The SDK sends StartSyncExecution to `sync-<endpoint host>`. Names under .localhost resolve to the
      // loopback address on systems that follow RFC 6761 (systemd-resolved, nss-myhostname); the agent's
      // lookup stands in for that here, as a hosts-file line would.
      const port = new URL(node.url).port;
      const asked: string[] = [];
      const lookup = ((hostname: string, options: unknown, callback: (error: null, address: string | { address: string; family: number }[], family?: number) => void) => {
        asked.push(hostname);
        if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }) as unknown as http.AgentOptions['lookup'];
      const prefixed = new SFNClient({ endpoint: `http://sluice.localhost:${port}`, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1, requestHandler: { httpAgent: new http.Agent({ lookup }) } });
      try {
        const { stateMachineArn } = await prefixed.send(new CreateStateMachineCommand({ name: 'sync-host', definition: passMachine, roleArn: role, type: 'EXPRESS' }));
        const done = await prefixed.send(new StartSyncExecutionCommand({ stateMachineArn, input: '{"x":2}' }));
        expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"x":2,"r":{"ok":true}}' });
        expect(asked).toContain('sync-sluice.localhost');
      } finally {
        prefixed.destroy();
      }
    });

    it('runs seed 001’s state machine unchanged: an SQS message with a task token, answered by its function', async () => {
      // The state machine the seed's CDK code synthesizes (SqsSendMessage, WAIT_FOR_TASK_TOKEN, inputPath
      // "$", messageBody {Record: $, MyTaskToken: taskToken}, resultSelector, resultPath "$.recordResult").
      const definition = {
        StartAt: 'Record using Queue',
        States: {
          'Record using Queue': {
            Type: 'Task',
            Comment: 'Record message into dynamodb using SQS queue buffered lambda',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            InputPath: '$',
            Parameters: {
              QueueUrl: `${node.url}/000000000000/sfnCommonEventProcessorQueue`,
              MessageBody: { 'Record.$': '$', 'MyTaskToken.$': '$$.Task.Token' },
            },
            ResultSelector: { 'Payload.$': '$', 'StatusCode.$': '$.statusCode' },
            ResultPath: '$.recordResult',
            End: true,
          },
        },
      };
      const sluice = node.sluice;
      await sluice.queues.create('sfnCommonEventProcessorQueueDLQ', { MessageRetentionPeriod: '1209600' });
      await sluice.queues.create('sfnCommonEventProcessorQueue', {
        MessageRetentionPeriod: '432000',
        DelaySeconds: '0',
        VisibilityTimeout: '6000',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:sfnCommonEventProcessorQueueDLQ', maxReceiveCount: 100 }),
      });
      await sluice.tables.createTable({ name: 'messages', partitionKey: { name: 'messageId', type: 'S' }, sortKey: { name: 'createdAt', type: 'N' } });
      // The seed's processor, with the SDK v3 client for Step Functions and Sluice's table for DynamoDB.
      const worker = new SFNClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
      await sluice.functions.create({
        name: 'processor',
        handler: async (event: SQSEvent) => {
          await Promise.all(
            event.Records.map(async (record) => {
              const parsed = JSON.parse(record.body) as { Record: { createdAt: string; messageId: string; event: unknown }; MyTaskToken: string };
              const msg = parsed.Record;
              try {
                if (msg.messageId === 'poison') throw new Error('cannot record');
                await sluice.tables.putItem({ tableName: 'messages', item: { messageId: msg.messageId, createdAt: new Date(msg.createdAt).getTime(), event: JSON.stringify(msg.event) } });
              } catch (err) {
                await worker.send(new SendTaskFailureCommand({ error: 'PutFailed', cause: JSON.stringify({ statusCode: 500, putStatus: { messageId: msg.messageId, ProcessorResult: String(err) } }), taskToken: parsed.MyTaskToken }));
                return;
              }
              await worker.send(
                new SendTaskSuccessCommand({
                  output: JSON.stringify({ statusCode: 200, headers: { 'Content-Type': 'text/json' }, putStatus: { messageId: msg.messageId, ProcessorResult: {} } }),
                  taskToken: parsed.MyTaskToken,
                }),
              );
            }),
          );
        },
      });
      await sluice.triggers.create({ queue: 'sfnCommonEventProcessorQueue', functionName: 'processor', batchSize: 2, maximumBatchingWindowInSeconds: 1 });
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'seed001', definition: JSON.stringify(definition), roleArn: role }));
      const input = { createdAt: '2022-04-18T07:51:06Z', messageId: '538a8436-9987-1f65-478d-815c77f00d0f', event: { message: 'A secret message' } };
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
      const poisoned = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ ...input, messageId: 'poison' }) }));
      const done = await waitFor(
        () => sfn.send(new DescribeExecutionCommand({ executionArn: executionArn! })),
        (d) => d.status !== 'RUNNING',
      );
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output!)).toEqual({
        ...input,
        recordResult: {
          Payload: { statusCode: 200, headers: { 'Content-Type': 'text/json' }, putStatus: { messageId: input.messageId, ProcessorResult: {} } },
          StatusCode: 200,
        },
      });
      expect((await sluice.tables.getItem({ tableName: 'messages', key: { messageId: input.messageId, createdAt: Date.parse(input.createdAt) } })).item).toMatchObject({ event: '{"message":"A secret message"}' });
      const failed = await waitFor(
        () => sfn.send(new DescribeExecutionCommand({ executionArn: poisoned.executionArn! })),
        (d) => d.status !== 'RUNNING',
      );
      expect(failed).toMatchObject({ status: 'FAILED', error: 'PutFailed' });
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: executionArn! }));
      expect(history.events?.map((e: HistoryEvent) => e.type)).toEqual([
        'ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded',
      ]);
      expect(history.events?.[2]?.taskScheduledEventDetails).toMatchObject({ resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken', region: 'us-east-1' });
      worker.destroy();
    });
  });
}

suite('sqlite', async () => undefined);
describePostgres('Step Functions API over HTTP on PostgreSQL', () => {
  suite('postgres', () => openTestStore());
});
