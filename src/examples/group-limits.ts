/**
 * The task-group experiment of seed 003, on Sluice: tasks of many groups share one queue and one pool
 * of workers, yet each group must run at its own limit. The seed's trouble: with a plain queue and 4
 * consumers, a run of C tasks puts 3 C's in flight at once and breaks C's limit; its answer was one
 * queue and one Lambda per group. Here one queue with `groupBy` and one limit per group does it:
 *
 *   A: 2 per second, B: 1 per second, C: 2 per second; each task takes 1 s; 4 workers
 *
 * Each worker takes a batch (one claim: at most each group's free slots and tokens) and runs its tasks
 * side by side. Every group runs at its limit with zero violations; then the same with 1,000 groups.
 * Run with `npm run example:groups`.
 */
import type { SQSEvent } from 'aws-lambda';
import { Sluice } from '../engine/sluice.js';
import type { Clock } from '../model/clock.js';

export interface GroupSpec {
  name: string;
  /** Tasks per second, also the most tasks at once (a task takes one second). */
  perSecond: number;
}

export interface GroupResult {
  group: string;
  limit: number;
  tasks: number;
  /** Tasks per second from the group's first start to its last end. */
  throughput: number;
  peakConcurrent: number;
  concurrencyViolations: number;
  rateViolations: number;
}

export interface GroupRunReport {
  seconds: number;
  groups: GroupResult[];
  violations: number;
}

interface Run {
  group: string;
  start: number;
  end: number;
}

/**
 * Sends `tasksPerSecond * seconds` tasks per group, runs them through a grouped trigger and checks each
 * group's starts against its limit. `sleep` waits on the engine's clock (a test drives a manual one).
 */
export async function runGroupLimits(params: {
  sluice: Sluice;
  clock: Clock;
  groups: GroupSpec[];
  seconds: number;
  workers?: number;
  taskMs?: number;
  queue?: string;
}): Promise<GroupRunReport> {
  const { sluice, clock, groups } = params;
  const queue = params.queue ?? 'tasks';
  const taskMs = params.taskMs ?? 1000;
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  const runs: Run[] = [];
  await sluice.queues.create(queue, { VisibilityTimeout: 30 });
  for (const group of groups) {
    await sluice.groupLimits.set(queue, group.name, {
      maxConcurrency: group.perSecond,
      rate: { limit: group.perSecond, intervalSeconds: 1, burst: group.perSecond },
    });
  }
  const fn = `${queue}-worker`;
  await sluice.functions.create({
    name: fn,
    timeout: 10,
    reservedConcurrency: params.workers ?? 4,
    // A worker runs the tasks of its batch side by side, each taking `taskMs`.
    handler: async (event: SQSEvent) => {
      await Promise.all(
        event.Records.map(async (record) => {
          const start = clock.now();
          await sleep(taskMs);
          runs.push({ group: record.attributes.MessageGroupId ?? '', start, end: clock.now() });
        }),
      );
    },
  });
  const total = groups.reduce((sum, g) => sum + g.perSecond * params.seconds, 0);
  // The seed's queue: the groups' tasks interleaved, deep groups in long runs.
  const entries: Array<{ id: string; body: string; messageGroupId: string }> = [];
  for (const group of groups) {
    for (let i = 0; i < group.perSecond * params.seconds; i++)
      entries.push({ id: `e${entries.length % 10}`, body: `${group.name}-${i}`, messageGroupId: group.name });
  }
  for (let i = 0; i < entries.length; i += 10)
    await sluice.queues.sendBatch(
      queue,
      entries.slice(i, i + 10).map((e, k) => ({ ...e, id: `e${k}` })),
    );
  const started = clock.now();
  await sluice.triggers.create({ queue, functionName: fn, batchSize: 1000, groupBy: 'MessageGroupId' });
  while (runs.length < total) await sleep(100);
  const seconds = (clock.now() - started) / 1000;
  const results = groups.map((group) =>
    judge(
      group,
      runs.filter((r) => r.group === group.name),
    ),
  );
  return {
    seconds,
    groups: results,
    violations: results.reduce((sum, r) => sum + r.concurrencyViolations + r.rateViolations, 0),
  };
}

function judge(group: GroupSpec, runs: Run[]): GroupResult {
  const starts = runs.map((r) => r.start).sort((a, b) => a - b);
  let peak = 0;
  let concurrencyViolations = 0;
  for (const run of runs) {
    const running = runs.filter((other) => other.start <= run.start && other.end > run.start).length;
    peak = Math.max(peak, running);
    if (running > group.perSecond) concurrencyViolations++;
  }
  // Starts in any window [s_i, s_j] may be at most burst + rate * width.
  let rateViolations = 0;
  for (let i = 0; i < starts.length; i++) {
    for (let j = i; j < starts.length; j++) {
      if ((j - i + 1) * 1000 > group.perSecond * 1000 + group.perSecond * (starts[j]! - starts[i]!))
        rateViolations++;
    }
  }
  const span = runs.length === 0 ? 0 : (Math.max(...runs.map((r) => r.end)) - starts[0]!) / 1000;
  return {
    group: group.name,
    limit: group.perSecond,
    tasks: runs.length,
    throughput: span === 0 ? 0 : Math.round((runs.length / span) * 100) / 100,
    peakConcurrent: peak,
    concurrencyViolations,
    rateViolations,
  };
}

/** The seed's three groups, and 1,000 groups with limits of 1 to 3 per second. */
export const seedGroups: GroupSpec[] = [
  { name: 'A', perSecond: 2 },
  { name: 'B', perSecond: 1 },
  { name: 'C', perSecond: 2 },
];

export const thousandGroups: GroupSpec[] = Array.from({ length: 1000 }, (_, i) => ({
  name: `site-${String(i).padStart(4, '0')}`,
  perSecond: 1 + (i % 3),
}));

async function main(): Promise<void> {
  for (const [label, groups, seconds] of [
    ['3 groups (seed 003)', seedGroups, 10],
    ['1,000 groups', thousandGroups, 4],
  ] as const) {
    const sluice = await Sluice.open({ store: 'sqlite::memory:' });
    try {
      const report = await runGroupLimits({ sluice, clock: sluice.clock, groups, seconds });
      const shown = report.groups.length > 6 ? report.groups.slice(0, 6) : report.groups;
      console.log(
        `\n${label}: ${report.groups.reduce((s, g) => s + g.tasks, 0)} tasks in ${report.seconds.toFixed(1)} s, ${report.violations} violations`,
      );
      console.table(shown);
      if (report.groups.length > shown.length) {
        const ratio = report.groups.map((g) => g.throughput / g.limit);
        console.log(
          `... and ${report.groups.length - shown.length} more; throughput / limit from ${Math.min(...ratio).toFixed(2)} to ${Math.max(...ratio).toFixed(2)}`,
        );
      }
    } finally {
      await sluice.close();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
