/**
 * `sluice state-machines|executions|tasks ...` against a real node over its native API, in-process (the
 * same program `sluice` builds) with stdout and stderr captured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './support/cli-in-process.js';
import { startTestNode, type TestNode } from './support/in-process-node.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('work');
  await node.sluice.functions.create({
    name: 'charge',
    handler: async (event: { amount: number }) => {
      if (event.amount > 100) {
        const error = new Error('amount over the limit');
        error.name = 'CardDeclined';
        throw error;
      }
      return { charged: event.amount };
    },
  });
  await node.sluice.stateMachines.create({
    name: 'orders',
    definition: {
      StartAt: 'Check',
      States: {
        Check: { Type: 'Choice', Choices: [{ Variable: '$.amount', NumericGreaterThan: 0, Next: 'Charge' }], Default: 'Reject' },
        Charge: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:charge', End: true },
        Reject: { Type: 'Fail', Error: 'Invalid', Cause: 'no amount' },
      },
    },
  });
});
afterAll(async () => {
  await node.close();
});

/** Runs `sluice <args>` in-process against the test node; returns what it printed and its exit status. */
const sluice = (...args: string[]) => runCliInProcess(node.url, ...args);

describe('sluice state-machines and executions', () => {
  it('lists and shows state machines', async () => {
    const list = await sluice('state-machines', 'list');
    expect(list.stdout).toMatch(/NAME\s+TYPE/);
    expect(list.stdout).toContain('orders');
    expect((await sluice('state-machines', 'show', 'orders')).stdout).toContain('"StartAt": "Check"');
  });

  it('starts an execution with --input and --wait, and lists it', async () => {
    const run = await sluice('executions', 'start', 'orders', '--input', '{"amount":5}', '--name', 'ok-1', '--wait');
    expect(run).toMatchObject({ code: 0, stdout: '{"charged":5}\n' });
    const list = await sluice('executions', 'list', 'orders', '--status', 'SUCCEEDED');
    expect(list.stdout).toContain('ok-1');
  });

  it('shows a readable history with the path taken and the failing state’s error', async () => {
    const started = await sluice('--json', 'executions', 'start', 'orders', '{"amount":500}');
    const { executionArn } = JSON.parse(started.stdout) as { executionArn: string };
    await node.sluice.stateMachines.waitForExecution(executionArn);
    const history = await sluice('executions', 'history', executionArn);
    expect(history.stdout).toContain('path: Check → Charge');
    expect(history.stdout).toContain("result: failed in state 'Charge': CardDeclined");
    expect(history.stdout).toMatch(/LambdaFunctionFailed\s+CardDeclined/);
    const shown = await sluice('executions', 'show', executionArn);
    expect(shown.stdout).toMatch(/status\s+FAILED/);
  });

  it('stops a running execution and reports unknown ones', async () => {
    await node.sluice.stateMachines.create({ name: 'slow', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } } });
    const { executionArn } = await node.sluice.stateMachines.startExecution('slow');
    expect((await sluice('executions', 'stop', executionArn, '--error', 'Manual')).code).toBe(0);
    expect((await node.sluice.stateMachines.describeExecution(executionArn)).status).toBe('ABORTED');
    const missing = await sluice('executions', 'show', `${executionArn}x`);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('ExecutionDoesNotExist') });
  });
});

describe('sluice tasks', () => {
  it('issues a task token to a queue and answers it', async () => {
    const created = await sluice('tasks', 'create', '--queue', 'work', '--input', '{"job":1}', '--timeout', '60');
    const token = created.stdout.trim();
    const [message] = await node.sluice.queues.receive('work');
    expect(JSON.parse(message!.body)).toEqual({ job: 1, TaskToken: token });
    expect((await sluice('tasks', 'show', token)).stdout).toMatch(/status\s+WAITING/);
    expect((await sluice('tasks', 'heartbeat', token)).code).toBe(0);
    expect((await sluice('tasks', 'succeed', token, '{"done":true}')).code).toBe(0);
    expect((await sluice('tasks', 'show', token)).stdout).toMatch(/status\s+SUCCEEDED/);
    const late = await sluice('tasks', 'fail', token, '--error', 'Late');
    expect(late).toMatchObject({ code: 1, stderr: expect.stringContaining('TaskTimedOut') });
  });
});
