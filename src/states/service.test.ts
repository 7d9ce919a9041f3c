import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock } from '../model/clock.js';
import { openStore } from '../store/open.js';
import { gate, openTestEngine, type TestEngine } from '../testkit/engine.js';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

describe('state machine executions', () => {
  let t: TestEngine;
  beforeEach(async () => {
    t = await openTestEngine();
  });
  afterEach(async () => {
    await t.close();
  });
  const machines = () => t.sluice.stateMachines;
  async function finished(arn: string) {
    await t.until(async () => (await machines().describeExecution(arn)).status !== 'RUNNING');
    return machines().describeExecution(arn);
  }
  /** The body of the next message of `queue` (a task token, in these tests). */
  async function receiveBody(queue: string): Promise<string> {
    let body = '';
    await t.until(async () => {
      const [message] = await t.sluice.queues.receive(queue);
      if (message) body = message.body;
      return body !== '';
    });
    return body;
  }
  async function types(arn: string) {
    return (await machines().history(arn)).events.map((e) => e.type);
  }

  it('runs a Sluice function by its Lambda ARN and records AWS’s history', async () => {
    await t.sluice.functions.create({ name: 'greet', handler: async (event: { who: string }) => ({ msg: `hello ${event.who}` }) });
    await machines().create({ name: 'm', definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('greet'), ResultPath: '$.r', End: true } } } });
    const { executionArn } = await machines().startExecution('m', { input: { who: 'Ann' } });
    const done = await finished(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ who: 'Ann', r: { msg: 'hello Ann' } }) });
    expect(await types(executionArn)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
    expect(machines().runner.heldCount).toBe(0);
    // includeExecutionData: false leaves the input and output out of every event (GetExecutionHistory).
    const full = (await machines().history(executionArn)).events;
    expect(full[0]).toMatchObject({ executionStartedEventDetails: { input: JSON.stringify({ who: 'Ann' }) } });
    const bare = (await machines().history(executionArn, { includeExecutionData: false })).events;
    expect(bare.map((e) => e.type)).toEqual(full.map((e) => e.type));
    expect(JSON.stringify(bare)).not.toMatch(/"(input|output)":/);
  });

  it('lambda:invoke wraps the result in Payload and passes Parameters.Payload as the event', async () => {
    await t.sluice.functions.create({ name: 'double', handler: async (event: { n: number }) => event.n * 2 });
    await machines().create({
      name: 'm',
      definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: fn('double'), 'Payload.$': '$' }, OutputPath: '$.Payload', End: true } } },
    });
    const { executionArn } = await machines().startExecution('m', { input: { n: 21 } });
    expect((await finished(executionArn)).output).toBe('42');
  });

  it('a function error fails the task with its errorType; Retry and Catch handle it', async () => {
    let calls = 0;
    await t.sluice.functions.create({
      name: 'flaky',
      handler: async () => {
        calls++;
        const error = new Error('not yet');
        error.name = 'NotReady';
        throw error;
      },
    });
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: fn('flaky'), Retry: [{ ErrorEquals: ['NotReady'], IntervalSeconds: 2, MaxAttempts: 2 }], Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Handled' }], End: true },
          Handled: { Type: 'Pass', End: true },
        },
      },
    });
    const { executionArn } = await machines().startExecution('m', { input: {} });
    const done = await finished(executionArn);
    expect(calls).toBe(3);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}').error.Error).toBe('NotReady');
  });

  it('dynamodb:putItem, getItem, updateItem and deleteItem run on Sluice tables in DynamoDB’s shape', async () => {
    await t.sluice.tables.createTable({ name: 'orders', partitionKey: { name: 'id', type: 'S' } });
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'Put',
        States: {
          Put: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:putItem',
            Parameters: { TableName: 'orders', Item: { id: { 'S.$': '$.id' }, total: { N: '10' } }, ConditionExpression: 'attribute_not_exists(id)' },
            ResultPath: null,
            Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'Duplicate' }],
            Next: 'Update',
          },
          Update: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:updateItem',
            Parameters: { TableName: 'orders', Key: { id: { 'S.$': '$.id' } }, UpdateExpression: 'SET #t = #t + :n', ExpressionAttributeNames: { '#t': 'total' }, ExpressionAttributeValues: { ':n': { N: '5' } }, ReturnValues: 'ALL_NEW' },
            ResultSelector: { 'total.$': '$.Attributes.total.N' },
            ResultPath: '$.updated',
            Next: 'Get',
          },
          Get: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:getItem', Parameters: { TableName: 'orders', Key: { id: { 'S.$': '$.id' } } }, ResultPath: '$.read', Next: 'Delete' },
          Delete: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:deleteItem', Parameters: { TableName: 'orders', Key: { id: { 'S.$': '$.id' } }, ReturnValues: 'ALL_OLD' }, ResultSelector: { 'had.$': '$.Attributes.total.N' }, ResultPath: '$.deleted', End: true },
          Duplicate: { Type: 'Pass', End: true },
        },
      },
    });
    const first = await finished((await machines().startExecution('m', { input: { id: 'o1' } })).executionArn);
    expect(first).toMatchObject({ status: 'SUCCEEDED' });
    expect(JSON.parse(first.output ?? '')).toEqual({ id: 'o1', updated: { total: '15' }, read: { Item: { id: { S: 'o1' }, total: { N: '15' } } }, deleted: { had: '15' } });
    expect((await t.sluice.tables.getItem({ tableName: 'orders', key: { id: 'o1' } })).item).toBeUndefined();
    await t.sluice.tables.putItem({ tableName: 'orders', item: { id: 'o2', total: 1 } });
    const again = await finished((await machines().startExecution('m', { input: { id: 'o2' } })).executionArn);
    expect(again).toMatchObject({ status: 'SUCCEEDED' });
    expect(JSON.parse(again.output ?? '').error.Error).toBe('DynamoDB.ConditionalCheckFailedException');
  });

  it('states:startExecution.sync:2 waits for a nested execution; plain start returns its ARN; a failed child fails the task', async () => {
    await t.sluice.functions.create({ name: 'double', handler: async (event: { n: number }) => ({ n: event.n * 2 }) });
    await machines().create({ name: 'child', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, Next: 'T' }, T: { Type: 'Task', Resource: fn('double'), End: true } } } });
    await machines().create({ name: 'broken', definition: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'ChildError', Cause: 'no' } } } });
    await machines().create({
      name: 'parent',
      definition: {
        StartAt: 'Run',
        States: {
          Run: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution.sync:2',
            Parameters: { StateMachineArn: machines().stateMachineArn('child'), Input: { 'n.$': '$.n' } },
            ResultSelector: { 'doubled.$': '$.Output.n', 'status.$': '$.Status' },
            Next: 'Fire',
          },
          Fire: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Parameters: { StateMachineArn: machines().stateMachineArn('child'), Input: { n: 1 } }, ResultPath: '$.fired', Next: 'Broken' },
          Broken: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution.sync',
            Parameters: { StateMachineArn: machines().stateMachineArn('broken') },
            Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Done' }],
            End: true,
          },
          Done: { Type: 'Succeed' },
        },
      },
    });
    const { executionArn } = await machines().startExecution('parent', { input: { n: 21 } });
    await t.until(async () => true);
    expect(machines().runner.heldCount).toBe(0);
    const done = await finished(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '');
    expect(output).toMatchObject({ doubled: 42, status: 'SUCCEEDED', fired: { ExecutionArn: expect.stringContaining(':execution:child:') } });
    expect(output.error.Error).toBe('States.TaskFailed');
    expect(JSON.parse(output.error.Cause)).toMatchObject({ Status: 'FAILED', Error: 'ChildError' });
  });

  it('a nested execution that ends in its first step answers its parent in the transaction that stores it', async () => {
    // Nothing answers the parent after that transaction: a node dying right after it loses no answer.
    t.sluice.store.callbackComplete = async () => {
      throw new Error('no answer may follow the child insert');
    };
    await machines().create({ name: 'quick', definition: { StartAt: 'P', States: { P: { Type: 'Pass', Result: { quick: true }, End: true } } } });
    await machines().create({
      name: 'parent',
      definition: { StartAt: 'Run', States: { Run: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: machines().stateMachineArn('quick') }, OutputPath: '$.Output', End: true } } },
    });
    const { executionArn } = await machines().startExecution('parent');
    expect(await finished(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ quick: true }) });
  });

  it('a Wait state holds no memory and wakes at its due time', async () => {
    await machines().create({ name: 'm', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 30, Next: 'P' }, P: { Type: 'Pass', Result: 'done', End: true } } } });
    const { executionArn } = await machines().startExecution('m');
    await t.until(async () => true);
    expect(machines().runner.heldCount).toBe(0);
    expect((await machines().describeExecution(executionArn)).status).toBe('RUNNING');
    await t.clock.advance(29_000);
    expect((await machines().describeExecution(executionArn)).status).toBe('RUNNING');
    await t.clock.advance(1_000);
    await t.until(async () => (await machines().describeExecution(executionArn)).status === 'SUCCEEDED', { maxMs: 1000 });
  });

  it('sqs:sendMessage.waitForTaskToken sends $$.Task.Token and resumes on SendTaskSuccess', async () => {
    await t.sluice.queues.create('work');
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'Send',
        States: {
          Send: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            Parameters: { QueueUrl: 'http://localhost/000000000000/work', MessageBody: { 'Record.$': '$', 'MyTaskToken.$': '$$.Task.Token' } },
            ResultSelector: { 'Payload.$': '$', 'StatusCode.$': '$.statusCode' },
            ResultPath: '$.recordResult',
            End: true,
          },
        },
      },
    });
    const { executionArn } = await machines().startExecution('m', { input: { id: 7 } });
    let messages: { body: string }[] = [];
    await t.until(async () => (messages = await t.sluice.queues.receive('work')).length > 0);
    expect(machines().runner.heldCount).toBe(0);
    const body = JSON.parse(messages[0]!.body) as { Record: unknown; MyTaskToken: string };
    expect(body.Record).toEqual({ id: 7 });
    await t.sluice.callbacks.sendTaskSuccess(body.MyTaskToken, { statusCode: 200, ok: true });
    const done = await finished(executionArn);
    expect(JSON.parse(done.output ?? '')).toEqual({ id: 7, recordResult: { Payload: { statusCode: 200, ok: true }, StatusCode: 200 } });
    expect(await types(executionArn)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
    await expect(t.sluice.callbacks.sendTaskSuccess(body.MyTaskToken, {})).rejects.toMatchObject({ code: 'TaskTimedOut' });
  });

  it('sqs:sendMessage (request-response) answers with the message id; lambda:invoke.waitForTaskToken and startExecution.waitForTaskToken wait for the token', async () => {
    await t.sluice.queues.create('plain');
    // The function answers the token it is given: asynchronously invoked, its own result is not the task's.
    await t.sluice.functions.create({
      name: 'approver',
      handler: async (event: { token: string; n: number }) => {
        await t.sluice.callbacks.sendTaskSuccess(event.token, { approved: event.n });
        return 'ignored';
      },
    });
    await machines().create({
      name: 'child',
      definition: { StartAt: 'Answer', States: { Answer: { Type: 'Task', Resource: fn('approver'), Parameters: { 'token.$': '$.TaskToken', n: 2 }, End: true } } },
    });
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'Send',
        States: {
          Send: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', Parameters: { QueueUrl: 'plain', 'MessageBody.$': '$' }, ResultPath: '$.sent', Next: 'Invoke' },
          Invoke: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: fn('approver'), Payload: { 'token.$': '$$.Task.Token', n: 1 } },
            ResultPath: '$.invoked',
            Next: 'Nested',
          },
          Nested: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution.waitForTaskToken',
            Parameters: { StateMachineArn: machines().stateMachineArn('child'), Input: { 'TaskToken.$': '$$.Task.Token' } },
            ResultPath: '$.nested',
            End: true,
          },
        },
      },
    });
    const { executionArn } = await machines().startExecution('m', { input: { id: 9 } });
    const done = await finished(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '') as { sent: { MessageId: string; MD5OfMessageBody: string }; invoked: unknown; nested: unknown };
    expect(output.invoked).toEqual({ approved: 1 });
    expect(output.nested).toEqual({ approved: 2 });
    const [message] = await t.sluice.queues.receive('plain');
    expect(message?.body).toBe('{"id":9}');
    expect(output.sent).toMatchObject({ MessageId: message?.messageId, MD5OfMessageBody: createHash('md5').update('{"id":9}').digest('hex') });
    expect(await types(executionArn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('a token task without a heartbeat fails with States.HeartbeatTimeout, which Catch handles', async () => {
    await t.sluice.queues.create('work');
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'Send',
        States: {
          Send: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            HeartbeatSeconds: 10,
            Parameters: { QueueUrl: 'work', 'MessageBody.$': '$$.Task.Token' },
            Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], Next: 'Late' }],
            End: true,
          },
          Late: { Type: 'Pass', Result: 'late', End: true },
        },
      },
    });
    const { executionArn } = await machines().startExecution('m');
    const token = await receiveBody('work');
    await t.clock.advance(8_000);
    await t.sluice.callbacks.sendTaskHeartbeat(token);
    await t.clock.advance(8_000);
    expect((await machines().describeExecution(executionArn)).status).toBe('RUNNING');
    const done = await finished(executionArn);
    expect(done.output).toBe('"late"');
    expect(await types(executionArn)).toContain('TaskTimedOut');
  });

  it('while a node holds an execution (a long task in one branch), a token answered or heartbeated in another branch is seen at once', async () => {
    await t.sluice.queues.create('work');
    const slow = gate<string>();
    await t.sluice.functions.create({ name: 'slow', timeout: 120, handler: () => slow.promise });
    await machines().create({
      name: 'm',
      definition: {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Long', States: { Long: { Type: 'Task', Resource: fn('slow'), End: true } } },
              {
                StartAt: 'Ask',
                States: {
                  Ask: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', HeartbeatSeconds: 10, Parameters: { QueueUrl: 'work', 'MessageBody.$': '$$.Task.Token' }, Next: 'After' },
                  After: { Type: 'Pass', End: true },
                },
              },
            ],
            End: true,
          },
        },
      },
    });
    const { executionArn } = await machines().startExecution('m');
    const token = await receiveBody('work');
    expect(machines().runner.heldCount).toBe(1);
    // Heartbeats keep the token alive past its first 10 s while the node holds the execution.
    for (let i = 0; i < 3; i++) {
      await t.clock.advance(8_000);
      await t.sluice.callbacks.sendTaskHeartbeat(token);
    }
    await t.clock.advance(100);
    expect(await types(executionArn)).not.toContain('TaskTimedOut');
    await t.sluice.callbacks.sendTaskSuccess(token, { answered: true });
    await t.until(async () => (await types(executionArn)).includes('TaskSucceeded'), { maxMs: 1000 });
    expect((await machines().describeExecution(executionArn)).status).toBe('RUNNING');
    slow.open('slow done');
    const done = await finished(executionArn);
    expect(JSON.parse(done.output ?? '')).toEqual(['slow done', { answered: true }]);
  });

  it('an idle node arms no timer and issues no query once its executions have ended', async () => {
    await machines().create({ name: 'm', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, End: true } } } });
    const { executionArn } = await machines().startExecution('m');
    await finished(executionArn);
    await t.clock.advance(10);
    t.counting.reset();
    await t.clock.advance(3_600_000);
    expect(t.counting.total()).toBe(0);
    // The one timer left is the finished executions' retention (90 days away).
    expect(t.clock.pendingTimers).toBeLessThanOrEqual(1);
    expect(machines().runner.heldCount).toBe(0);
  });

  it('a finished execution and its history are purged 90 days after it ended', async () => {
    await machines().create({ name: 'm', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
    const { executionArn } = await machines().startExecution('m');
    await t.clock.advance(89 * 86_400_000);
    expect((await machines().describeExecution(executionArn)).status).toBe('SUCCEEDED');
    await t.clock.advance(2 * 86_400_000);
    await expect(machines().describeExecution(executionArn)).rejects.toMatchObject({ code: 'ExecutionDoesNotExist' });
  });

  it('StartExecution is idempotent by name for the same input; another input is ExecutionAlreadyExists', async () => {
    await machines().create({ name: 'm', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 100, End: true } } } });
    const first = await machines().startExecution('m', { name: 'run-1', input: '{"a":1}' });
    const again = await machines().startExecution('m', { name: 'run-1', input: '{"a":1}' });
    expect(again).toEqual(first);
    await expect(machines().startExecution('m', { name: 'run-1', input: '{"a":2}' })).rejects.toMatchObject({ code: 'ExecutionAlreadyExists' });
    // Once the execution is closed, the same name and input are ExecutionAlreadyExists too (AWS's StartExecution page).
    await machines().stopExecution(first.executionArn);
    await expect(machines().startExecution('m', { name: 'run-1', input: '{"a":1}' })).rejects.toMatchObject({ code: 'ExecutionAlreadyExists' });
  });

  it('StopExecution aborts a running execution', async () => {
    await machines().create({ name: 'm', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 100, End: true } } } });
    const { executionArn } = await machines().startExecution('m');
    await machines().stopExecution(executionArn, { error: 'Manual', cause: 'test' });
    expect(await machines().describeExecution(executionArn)).toMatchObject({ status: 'ABORTED', error: 'Manual', cause: 'test' });
    expect((await types(executionArn)).at(-1)).toBe('ExecutionAborted');
    await t.clock.advance(200_000);
    expect((await machines().describeExecution(executionArn)).status).toBe('ABORTED');
  });

  it('a token of a stopped execution is over: a late answer gets TaskTimedOut', async () => {
    await t.sluice.queues.create('work');
    await machines().create({
      name: 'm',
      definition: { StartAt: 'S', States: { S: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: 'work', 'MessageBody.$': '$$.Task.Token' }, End: true } } },
    });
    const { executionArn } = await machines().startExecution('m');
    const token = await receiveBody('work');
    await machines().stopExecution(executionArn);
    await expect(t.sluice.callbacks.sendTaskSuccess(token, {})).rejects.toMatchObject({ code: 'TaskTimedOut' });
  });

  it('rejects bad input with typed errors and stores nothing', async () => {
    await expect(machines().create({ name: 'bad name', definition: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } } })).rejects.toMatchObject({ code: 'InvalidName', field: 'name' });
    await expect(machines().create({ name: 'm', definition: { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } } })).rejects.toMatchObject({ code: 'InvalidDefinition' });
    await expect(machines().create({ name: 'm', definition: { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } } } })).rejects.toMatchObject({
      code: 'InvalidDefinition',
      message: expect.stringContaining('/States/A/Resource'),
    });
    expect((await machines().list()).stateMachines).toEqual([]);
    await machines().create({ name: 'm', definition: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } } });
    await expect(machines().startExecution('m', { input: '{nope' })).rejects.toMatchObject({ code: 'InvalidExecutionInput' });
    await expect(machines().startExecution('m', { input: JSON.stringify({ big: 'x'.repeat(270_000) }) })).rejects.toMatchObject({ code: 'InvalidExecutionInput' });
    await expect(machines().startExecution('nope')).rejects.toMatchObject({ code: 'StateMachineDoesNotExist' });
    expect((await machines().listExecutions('m')).executions).toEqual([]);
  });
});

describe('an execution held by a node that dies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-states-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is resumed by another node after the lease ends, which runs the task again', async () => {
    const clock = new ManualClock();
    const path = join(dir, 'db.sqlite');
    const onBackgroundError = (error: unknown) => {
      throw error;
    };
    const a = await Sluice.open({ store: await openStore(`sqlite:${path}`), clock, onBackgroundError });
    const b = await Sluice.open({ store: await openStore(`sqlite:${path}`), clock, onBackgroundError });
    const hang = gate<string>();
    let bCalls = 0;
    await a.functions.create({ name: 'work', handler: () => hang.promise });
    await b.functions.create({
      name: 'work',
      handler: async () => {
        bCalls++;
        return 'from b';
      },
    });
    await a.stateMachines.create({ name: 'm', definition: { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('work'), End: true } } } });
    const { executionArn } = await a.stateMachines.startExecution('m');
    await clock.advance(10);
    expect(a.stateMachines.runner.heldCount).toBe(1);
    // Node A stops working (as if it died): its lease is left in the store.
    await a.stateMachines.runner.stop(Date.now());
    await clock.advance(61_000);
    b.stateMachines.runner.scheduleWake();
    await clock.advance(1_000);
    const done = await b.stateMachines.describeExecution(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '"from b"' });
    expect(bCalls).toBe(1);
    hang.open('from a, too late');
    await clock.advance(10);
    expect((await b.stateMachines.describeExecution(executionArn)).output).toBe('"from b"');
    const history = (await b.stateMachines.history(executionArn)).events.map((e) => e.type);
    expect(history.filter((type) => type === 'ExecutionSucceeded')).toHaveLength(1);
    await a.close({ graceMs: 100 });
    await b.close({ graceMs: 100 });
  });
});
