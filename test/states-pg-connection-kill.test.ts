/**
 * The database connection lost mid-step: while executions run, the node's PostgreSQL connections (its
 * pool's backends and its LISTEN connection) are ended again and again with pg_terminate_backend, as a
 * failover or a network cut ends them; the server itself keeps running. A step whose transaction was cut
 * is rolled back, or committed with its answer lost; either way the runner forgets the execution and
 * resumes it from the store once its lease ends. Every execution must still end exactly once, with the
 * history AWS records for its path (src/testkit/execution-history.ts), each task attempt invoked at least
 * once (some twice: at-least-once, as AWS documents).
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import type { PostgresStore } from '../src/store/postgres/store.js';
import { historyViolations } from '../src/testkit/execution-history.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore, withAdminClient } from '../src/testkit/postgres.js';

const EXECUTIONS = 12;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const task = (next: object) => ({
  Type: 'Task',
  Resource: 'arn:aws:lambda:us-east-1:000000000000:function:step',
  Parameters: { 'execution.$': '$$.Execution.Name', 'state.$': '$$.State.Name', 'retry.$': '$$.State.RetryCount' },
  ResultPath: null,
  ...next,
});
const definition = {
  StartAt: 'One',
  States: {
    One: task({ Next: 'Two' }),
    Two: task({ Next: 'Between', Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2 }] }),
    Between: { Type: 'Pass', Result: 'between', ResultPath: '$.note', Next: 'Three' },
    Three: task({ End: true }),
  },
};
/** The events AWS records: `Two` fails its first attempt (Flaky) and succeeds on its retry. */
const taskEvents = (attempts: number) => [
  'TaskStateEntered',
  ...Array.from({ length: attempts }, (_, i) => ['LambdaFunctionScheduled', 'LambdaFunctionStarted', i < attempts - 1 ? 'LambdaFunctionFailed' : 'LambdaFunctionSucceeded']).flat(),
  'TaskStateExited',
];
const expectedTypes = ['ExecutionStarted', ...taskEvents(1), ...taskEvents(2), 'PassStateEntered', 'PassStateExited', ...taskEvents(1), 'ExecutionSucceeded'];

describePostgres('state machine executions while the node loses its PostgreSQL connections', () => {
  const schema = freshSchemaName();
  let sluice: Sluice;
  let store: PostgresStore;
  const invoked = new Map<string, number>();
  /** Idle pool connections that died (the store's), and operations that failed (the engine's: a step, a claim...). */
  const storeErrors: unknown[] = [];
  const engineErrors: unknown[] = [];

  beforeAll(async () => {
    store = await openTestStore({ schema, dropSchemaOnClose: false, poolSize: 4, onError: (error) => storeErrors.push(error) });
    sluice = await Sluice.open({ store, cluster: false, executionLeaseMs: 1_000, onBackgroundError: (error) => engineErrors.push(error) });
    await sluice.functions.create({
      name: 'step',
      handler: async (event: { execution: string; state: string; retry: number }) => {
        const key = `${event.execution}:${event.state}:${event.retry}`;
        invoked.set(key, (invoked.get(key) ?? 0) + 1);
        await sleep(5 + Math.random() * 30);
        if (event.state === 'Two' && event.retry === 0) {
          const error = new Error('first attempt fails');
          error.name = 'Flaky';
          throw error;
        }
        return {};
      },
    });
    await sluice.stateMachines.create({ name: 'cut', definition });
  });
  afterAll(async () => {
    await sluice.close({ graceMs: 1_000 });
    await dropSchema(schema);
  });

  it('ends every execution exactly once with its history, however often the connections are cut', async () => {
    /** The pool's backends (pg-pool keeps its clients in `_clients`) and the LISTEN connection's. */
    const backends = () => [
      ...(store.pool as unknown as { _clients: pg.Client[] })._clients.map((client) => (client as unknown as { processID: number | null }).processID),
      (store.notifier as unknown as { listenerPid?: number }).listenerPid,
    ].filter((pid): pid is number => typeof pid === 'number');

    const arns: string[] = [];
    for (let i = 0; i < EXECUTIONS; i++) arns.push((await sluice.stateMachines.startExecution('cut', { name: `x${i}` })).executionArn);
    const started = Date.now();
    let cuts = 0;
    let ended = 0;
    // Cut every connection of the node every 40-120 ms for 3 s, from a connection of our own.
    await withAdminClient(async (admin) => {
      while (Date.now() - started < 3_000) {
        const pids = backends();
        if (pids.length > 0) {
          const { rows } = await admin.query<{ ended: boolean }>("SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name = 'sluice'", [pids]);
          ended += rows.filter((row) => row.ended).length;
          cuts++;
        }
        await sleep(40 + Math.random() * 80);
      }
    });
    const cutFor = Date.now() - started;

    const deadline = Date.now() + 30_000;
    for (;;) {
      const statuses = await Promise.all(arns.map(async (arn) => (await sluice.stateMachines.describeExecution(arn)).status));
      if (statuses.every((status) => status !== 'RUNNING')) break;
      if (Date.now() > deadline) throw new Error(`still running: ${arns.filter((_, i) => statuses[i] === 'RUNNING').join(', ')}`);
      await sleep(100);
    }
    const finishedAfter = Date.now() - started;

    let twice = 0;
    for (const [i, arn] of arns.entries()) {
      const description = await sluice.stateMachines.describeExecution(arn);
      const { events } = await sluice.stateMachines.history(arn, { maxResults: 1000 });
      expect({ execution: i, status: description.status }, JSON.stringify(events.slice(-4))).toEqual({ execution: i, status: 'SUCCEEDED' });
      expect(historyViolations(description.status, events)).toEqual([]);
      expect(events.map((e) => e.type)).toEqual(expectedTypes);
      for (const attempt of ['One:0', 'Two:0', 'Two:1', 'Three:0']) {
        const count = invoked.get(`x${i}:${attempt}`) ?? 0;
        expect(count, `x${i} ${attempt}`).toBeGreaterThanOrEqual(1);
        if (count > 1) twice++;
      }
    }
    // The cuts did hit the node mid-operation: connections were ended, and engine operations failed.
    expect(ended).toBeGreaterThan(0);
    expect(engineErrors.length).toBeGreaterThan(0);
    console.log(
      `[states-pg-connection-kill] ${EXECUTIONS} executions; ${cuts} cuts ending ${ended} backends over ${cutFor} ms; all finished ${finishedAfter} ms after the first start; ${twice} attempts ran twice; ${engineErrors.length} engine operations and ${storeErrors.length} idle connections failed`,
    );
  }, 60_000);
});
