/**
 * State machines with two nodes on one database (two stores on one schema): a task token answered on
 * one node resumes an execution another node started, and a Wait state started on a node that dies
 * ends on the other, woken by the notification the first one sent when it released the execution.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sluice } from '../../engine/sluice.js';
import type { PostgresStore } from '../../store/postgres/store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describePostgres('postgres cluster: state machines on two nodes', () => {
  let schema: string;
  let stores: PostgresStore[];
  let nodes: Sluice[];

  beforeEach(async () => {
    schema = freshSchemaName();
    stores = [await openTestStore({ schema }), await openTestStore({ schema })];
    nodes = await Promise.all(stores.map((store) => Sluice.open({ store, cluster: false })));
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.close({ graceMs: 100 })));
    await dropSchema(schema);
  });

  it('resumes an execution started on one node when its token is answered on the other', async () => {
    const [a, b] = nodes as [Sluice, Sluice];
    await a.queues.create('work');
    await a.stateMachines.create({
      name: 'm',
      definition: {
        StartAt: 'Ask',
        States: { Ask: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: 'work', 'MessageBody.$': '$$.Task.Token' }, End: true } },
      },
    });
    const { executionArn } = await a.stateMachines.startExecution('m', { input: { n: 1 } });
    const [message] = await eventually(() => b.queues.receive('work', { waitTimeSeconds: 1 }), (m) => m.length > 0);
    // Once its TaskSubmitted is recorded (just after the send), no node holds the execution.
    expect(await eventually(async () => a.stateMachines.runner.heldCount + b.stateMachines.runner.heldCount, (n) => n === 0)).toBe(0);
    await b.callbacks.sendTaskSuccess(message!.body, { answeredOn: 'b' });
    const done = await eventually(() => a.stateMachines.describeExecution(executionArn), (e) => e.status !== 'RUNNING');
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"answeredOn":"b"}' });
  });

  it('ends a Wait state on the other node when the node that started it is gone', async () => {
    const [a, b] = nodes as [Sluice, Sluice];
    await a.stateMachines.create({ name: 'w', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, Next: 'P' }, P: { Type: 'Pass', Result: 'done', End: true } } } });
    const { executionArn } = await a.stateMachines.startExecution('w');
    await a.stateMachines.runner.stop(Date.now());
    const done = await eventually(() => b.stateMachines.describeExecution(executionArn), (e) => e.status !== 'RUNNING', 8000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '"done"' });
    const { events } = await b.stateMachines.history(executionArn);
    expect(events.filter((e) => e.type === 'ExecutionSucceeded')).toHaveLength(1);
  });
});
