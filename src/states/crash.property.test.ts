/**
 * Property: executions whose tasks fail or hang at random, on nodes that die at random (their runner
 * stops dead, leaving its leases and tasks in flight; another node claims the executions once the leases
 * end), each end exactly once, with the history AWS would record (src/testkit/execution-history.ts):
 * ids 1..n without gaps, one ExecutionStarted first and one terminal event last matching the status, no
 * event with two successors (no transition applied twice).
 *
 * On SQLite the nodes share one file; on PostgreSQL they are cluster nodes on one schema, hearing each
 * other through LISTEN/NOTIFY. A node process killed with SIGKILL is test/states-node-kill.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { notificationBarrier, quietStore, SteppedClock } from '../conformance/engine/group-limits-property.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { historyViolations } from '../testkit/execution-history.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../testkit/postgres.js';

const definition = {
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky',
      Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['Fatal'], ResultPath: '$.error', Next: 'Recover' }],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 2, Next: 'Both' },
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky', Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1 }], End: true } } },
        { StartAt: 'B', States: { B: { Type: 'Pass', End: true } } },
      ],
      End: true,
    },
    Recover: { Type: 'Pass', End: true },
  },
};

type Outcome = 'ok' | 'Transient' | 'Fatal' | 'Other' | 'hang';

interface Backend {
  /** A store for one more node of run `run` (all of a run's nodes share its data). */
  store(run: number): Promise<Store>;
  /** Cluster settings for a node, or none. */
  cluster(id: string): NonNullable<Parameters<typeof Sluice.open>[0]>['cluster'];
  /** Whether the nodes hear each other's notifications (through the database). */
  notifies: boolean;
  endRun(run: number): void;
}

let claimedElsewhere = 0;

/** One property run: 4 executions, nodes dying at `killSteps` (one second of clock per step). */
async function runOnce(backend: Backend, run: number, outcomes: Outcome[], killSteps: number[]): Promise<void> {
  let call = 0;
  const nodes: Sluice[] = [];
  const dead = new Set<Sluice>();
  const closing: Array<Promise<void>> = [];
  const quiet = new Map<Sluice, () => Promise<void>>();
  const live = () => nodes.filter((n) => !dead.has(n));
  // Time moves one timer at a time, and only once every live node's store calls (and, on PostgreSQL,
  // the notifications between nodes) are done: the nodes see the same instants whatever the backend.
  const clock = new SteppedClock(async () => {
    for (let round = 0; round < 2; round++) {
      for (const node of live()) await quiet.get(node)!();
      if (backend.notifies) await notificationBarrier(live().map((n) => n.store));
    }
  });
  const open = async () => {
    const cluster = backend.cluster(`n${run}-${nodes.length}`);
    const { store, quiesce } = quietStore(await backend.store(run));
    if (nodes.length > 0) {
      // Executions a node other than the first claims (a wake-up, or a dead node's execution resumed).
      const claimDue = store.executionClaimDue.bind(store);
      store.executionClaimDue = async (p) => {
        const rows = await claimDue(p);
        claimedElsewhere += rows.length;
        return rows;
      };
    }
    const node = await Sluice.open({ store, clock, ...(cluster ? { cluster } : {}), onBackgroundError: () => undefined });
    quiet.set(node, quiesce);
    await node.functions.create({
      name: 'flaky',
      handler: async (event: unknown) => {
        const outcome = outcomes[call++ % outcomes.length];
        if (outcome === 'ok') return event;
        // A hung handler runs into the function's timeout (3 s) unless its node dies first.
        if (outcome === 'hang') return new Promise(() => undefined);
        const error = new Error(`outcome ${call}`);
        error.name = outcome as string;
        throw error;
      },
    });
    nodes.push(node);
    return node;
  };
  try {
    const first = await open();
    await first.stateMachines.create({ name: `m${run}`, definition });
    const arns: string[] = [];
    for (let i = 0; i < 4; i++) arns.push((await first.stateMachines.startExecution(`m${run}`, { name: `e${i}`, input: { i } })).executionArn);
    await open();
    for (let step = 0; step < 60; step++) {
      if (killSteps.includes(step)) {
        // Dies: its runner stops where it is (leases held, tasks in flight, nothing released); the rest of
        // the node goes too. A fresh node joins so at least two stay.
        const victim = live()[step % live().length]!;
        dead.add(victim);
        await victim.stateMachines.runner.stop(Date.now());
        closing.push(victim.close({ graceMs: 0 }).catch(() => undefined));
        await open();
      }
      // Nodes on one SQLite file in one process do not hear each other's notifications: poke them.
      for (const node of live()) node.stateMachines.runner.scheduleWake();
      await clock.advance(1_000);
    }
    // Past every lease (60 s) twice, so each execution a dead node held is claimed and finished.
    for (let i = 0; i < 4; i++) {
      for (const node of live()) node.stateMachines.runner.scheduleWake();
      await clock.advance(60_000);
    }
    const reader = live()[0]!;
    for (const arn of arns) {
      const execution = await reader.stateMachines.describeExecution(arn);
      const { events } = await reader.stateMachines.history(arn, { maxResults: 1000 });
      expect(execution.status).not.toBe('RUNNING');
      expect(historyViolations(execution.status, events)).toEqual([]);
      const scheduled = events.filter((e) => e.type === 'LambdaFunctionScheduled').length;
      // Work runs at most 3 times (MaxAttempts 2), A at most 4 (MaxAttempts 3).
      expect(scheduled).toBeLessThanOrEqual(7);
    }
  } finally {
    await Promise.all(closing);
    for (const node of live()) await node.close({ graceMs: 50 }).catch(() => undefined);
    backend.endRun(run);
  }
}

function property(backend: () => Backend, numRuns: number) {
  return async () => {
    let run = 0;
    claimedElsewhere = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'Transient', 'Fatal', 'Other', 'hang'), { minLength: 20, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 3 }),
        (outcomes, killSteps) => runOnce(backend(), run++, outcomes, killSteps),
      ),
      { numRuns },
    );
    // The runs did move executions between nodes.
    expect(claimedElsewhere).toBeGreaterThan(0);
  };
}

describe('executions under failing tasks and dying nodes (SQLite)', () => {
  const dirs = new Map<number, string>();
  const backend: Backend = {
    store: (run) => {
      if (!dirs.has(run)) dirs.set(run, mkdtempSync(join(tmpdir(), 'sluice-states-prop-')));
      return openStore(`sqlite:${join(dirs.get(run)!, 'db.sqlite')}`);
    },
    cluster: () => undefined,
    notifies: false,
    endRun: (run) => rmSync(dirs.get(run)!, { recursive: true, force: true }),
  };
  it('each end exactly once with a well-formed history', property(() => backend, 12), 120_000);
});

describePostgres('executions under failing tasks and dying cluster nodes (PostgreSQL)', () => {
  // One schema for every run (each run its own state machine): creating a schema per run would cost
  // more than the run.
  const schema = freshSchemaName();
  beforeAll(async () => {
    // Creates the schema (no engine runs on it beside the runs' nodes: one on real time would claim their executions).
    await (await openTestStore({ schema, dropSchemaOnClose: false })).close();
  });
  afterAll(() => dropSchema(schema));
  const backend: Backend = {
    store: () => openTestStore({ schema, dropSchemaOnClose: false }),
    cluster: (id) => ({ nodeId: id, heartbeatMs: 100, leaseMs: 400, slotLingerMs: 100 }),
    notifies: true,
    endRun: () => undefined,
  };
  it('each end exactly once with a well-formed history, another node resuming a dead one\'s executions', property(() => backend, 8), 120_000);
});
