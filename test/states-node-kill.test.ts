/**
 * Node processes (test/fixtures/cluster-node.ts) on one PostgreSQL schema run state machine executions
 * whose tasks fail by plan (retried, caught or fatal); node A, which starts them, is killed with SIGKILL
 * while its tasks are in flight, then node B once it has taken over some of them. Node C, the survivor,
 * must take over their executions once their leases end (executionLeaseMs) and finish every one exactly
 * once:
 * - its status is the one the plan leads to, and its history is exactly the events AWS records for that
 *   path (the state and Lambda events of each attempt), gap-free, with one terminal event;
 * - no transition applied twice (no event with two successors: src/testkit/execution-history.ts);
 * - every task attempt in the history was invoked at least once (the shared log), some of them twice:
 *   the ones A and B were running when they died (at-least-once, as AWS documents).
 * In the chaos config (vitest.chaos.config.ts): it starts processes and waits out a lease.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { historyViolations } from '../src/testkit/execution-history.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, testPostgresUrl } from '../src/testkit/postgres.js';
import { startClusterNode, type RunningNode } from './support/cluster-node-process.js';

const EXECUTIONS = 40;
const LEASE_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const task = (next: object) => ({
  Type: 'Task',
  Resource: 'arn:aws:lambda:us-east-1:000000000000:function:step',
  Parameters: { 'retry.$': '$$.State.RetryCount', 'execution.$': '$$.Execution.Name', 'state.$': '$$.State.Name' },
  ResultPath: null,
  ...next,
});
/**
 * No retrier for Lambda.TooManyRequestsException: a node whose concurrency grant has not arrived yet
 * makes the task wait for it (functions/concurrency.ts `acquire`), so a throttle fails the test.
 */
const definition = {
  StartAt: 'Work',
  States: {
    Work: {
      ...task({ Next: 'Pause' }),
      Parameters: { 'plan.$': '$.work', 'retry.$': '$$.State.RetryCount', 'execution.$': '$$.Execution.Name', 'state.$': '$$.State.Name' },
      Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
      Catch: [{ ErrorEquals: ['Fatal'], ResultPath: '$.error', Next: 'Recover' }],
    },
    Pause: { Type: 'Wait', Seconds: 1, Next: 'Second' },
    Second: {
      ...task({ End: true }),
      Parameters: { 'plan.$': '$.second', 'retry.$': '$$.State.RetryCount', 'execution.$': '$$.Execution.Name', 'state.$': '$$.State.Name' },
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 1 }],
    },
    Recover: { Type: 'Pass', End: true },
  },
};

type Outcome = 'ok' | 'Transient' | 'Fatal' | 'Other';

/** A deterministic mix of plans (each attempt's outcome) for execution i. */
function plans(i: number): { work: Outcome[]; second: Outcome[] } {
  const work: Outcome[][] = [[], ['Transient'], ['Transient', 'Transient', 'Transient'], ['Fatal'], ['Other'], ['Transient', 'Fatal']];
  const second: Outcome[][] = [[], ['Other'], ['Other', 'Other'], []];
  return { work: work[i % work.length]!, second: second[Math.floor(i / work.length) % second.length]! };
}

/**
 * The status and history event types AWS records for a plan, and the task attempts it invokes. An
 * attempt's outcome is `plan[RetryCount]`.
 */
function expected(plan: { work: Outcome[]; second: Outcome[] }): { status: string; types: string[]; attempts: string[] } {
  const types = ['ExecutionStarted'];
  const attempts: string[] = [];
  const runTask = (state: string, outcomes: Outcome[], retries: (o: Outcome) => boolean, maxAttempts: number): Outcome => {
    types.push('TaskStateEntered');
    let counted = 0;
    for (let retry = 0; ; retry++) {
      types.push('LambdaFunctionScheduled', 'LambdaFunctionStarted');
      const outcome = outcomes[retry] ?? 'ok';
      attempts.push(`${state}:${retry}`);
      types.push(outcome === 'ok' ? 'LambdaFunctionSucceeded' : 'LambdaFunctionFailed');
      if (outcome === 'ok' || !retries(outcome) || counted++ === maxAttempts) return outcome;
    }
  };
  const work = runTask('Work', plan.work, (o) => o === 'Transient', 2);
  if (work === 'Fatal') {
    types.push('TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded');
    return { status: 'SUCCEEDED', types, attempts };
  }
  if (work !== 'ok') return { status: 'FAILED', types: [...types, 'ExecutionFailed'], attempts };
  types.push('TaskStateExited', 'WaitStateEntered', 'WaitStateExited');
  const second = runTask('Second', plan.second, () => true, 1);
  if (second !== 'ok') return { status: 'FAILED', types: [...types, 'ExecutionFailed'], attempts };
  return { status: 'SUCCEEDED', types: [...types, 'TaskStateExited', 'ExecutionSucceeded'], attempts };
}

interface LogEntry {
  t: 'S' | 'E';
  node: string;
  execution: string;
  state: string;
  retry: number;
}

const readLog = (path: string): LogEntry[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LogEntry);

describePostgres('state machine executions on node processes, one killed with SIGKILL', () => {
  const schema = freshSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-states-kill-'));
  const log = join(dir, 'log.jsonl');
  const running: RunningNode[] = [];
  const store = `${testPostgresUrl}?schema=${schema}&poolSize=4`;

  beforeAll(async () => {
    await (await openTestStore({ schema, dropSchemaOnClose: false })).close();
  });
  afterAll(async () => {
    for (const node of running) node.child.kill('SIGKILL');
    await Promise.all(running.map((node) => node.exited.catch(() => undefined)));
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the survivor finishes every execution exactly once, with the history of its plan', async () => {
    const started = Date.now();
    const node = (nodeId: string, create?: object) =>
      startClusterNode({ store, nodeId, log, heartbeatMs: 250, leaseMs: 1_000, delayMs: 400, stateMachine: { executionLeaseMs: LEASE_MS, ...(create ? { create } : {}) } });
    // The reader runs no executions: its runner stops before any exists (it has no `step` function).
    const reader = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }), cluster: false });
    await reader.stateMachines.runner.stop(Date.now());
    const [b, c] = await Promise.all([node('b'), node('c')]);
    running.push(b!, c!);
    const executions = Array.from({ length: EXECUTIONS }, (_, i) => ({ name: `x${i}`, input: plans(i) }));
    const a = await node('a', { name: 'kill', definition, executions });
    running.push(a);
    /** Kills a node with SIGKILL once `ready` holds of its log lines and it has a task running (or after 10 s). */
    const killWhile = async (victim: RunningNode, ready: (entries: LogEntry[]) => boolean) => {
      for (const giveUp = Date.now() + 10_000; Date.now() < giveUp;) {
        const entries = readLog(log).filter((e) => e.node === victim.id);
        const open = entries.filter((e) => e.t === 'S').length - entries.filter((e) => e.t === 'E').length;
        if (ready(entries) && open > 0) break;
        await sleep(10);
      }
      victim.child.kill('SIGKILL');
      await victim.exited;
    };
    // A, once it has started a fair share of the attempts; then B, once it has taken over some of A's.
    await killWhile(a, (entries) => entries.length >= EXECUTIONS);
    const killedAt = Date.now();
    const bBefore = readLog(log).filter((e) => e.node === 'b').length;
    await killWhile(b!, (entries) => entries.length >= bBefore + 10);

    try {
      const arns = executions.map((e) => `arn:aws:states:us-east-1:000000000000:execution:kill:${e.name}`);
      const deadline = Date.now() + 40_000;
      for (;;) {
        const statuses = await Promise.all(arns.map(async (arn) => (await reader.stateMachines.describeExecution(arn)).status));
        if (statuses.every((s) => s !== 'RUNNING')) break;
        if (Date.now() > deadline) throw new Error(`still running: ${arns.filter((_, i) => statuses[i] === 'RUNNING').join(', ')}\n${running.map((n) => n.stderr.join('\n')).join('\n')}`);
        await sleep(100);
      }
      const finishedAt = Date.now();
      const entries = readLog(log);
      const invoked = new Map<string, number>();
      for (const e of entries) if (e.t === 'S') invoked.set(`${e.execution}:${e.state}:${e.retry}`, (invoked.get(`${e.execution}:${e.state}:${e.retry}`) ?? 0) + 1);
      let twice = 0;
      for (const [i, execution] of executions.entries()) {
        const description = await reader.stateMachines.describeExecution(arns[i]!);
        const { events } = await reader.stateMachines.history(arns[i]!, { maxResults: 1000 });
        const want = expected(plans(i));
        expect({ name: execution.name, status: description.status }, JSON.stringify(events.slice(-4))).toEqual({ name: execution.name, status: want.status });
        expect(historyViolations(description.status, events)).toEqual([]);
        expect(events.map((e) => e.type)).toEqual(want.types);
        for (const attempt of want.attempts) {
          const count = invoked.get(`${execution.name}:${attempt}`) ?? 0;
          expect(count, `${execution.name} ${attempt}`).toBeGreaterThanOrEqual(1);
          if (count > 1) twice++;
        }
      }
      // The dead nodes' tasks in flight ran again; C, the survivor, finished executions.
      expect(twice).toBeGreaterThan(0);
      expect(entries.some((e) => e.node === 'c' && e.t === 'E')).toBe(true);
      console.log(`[states-node-kill] ${EXECUTIONS} executions; killed A ${killedAt - started} ms in, then B; all finished ${finishedAt - killedAt} ms after A's death; ${twice} attempts ran twice`);
    } finally {
      await reader.close();
    }
  });
});
