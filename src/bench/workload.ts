/**
 * One Sluice workload in a process of its own, the way the peers' scripts run theirs (../shared/peers),
 * so that a comparison starts each system cold and alike. Prints one JSON line.
 *
 *   node --import tsx src/bench/workload.ts <drain|groups|latency> --store sqlite|postgres [--n 20000] [--warm]
 *   node .bench-build/bench/workload.js ...   (compiled by `npm run bench`, which runs it that way)
 *
 * - drain: n no-op messages sent in batches into a fresh store, then drained by a trigger into a no-op
 *   function, batch size 1, maximum concurrency 16 (the peers' W1);
 * - groups: n messages over 1,000 groups, each group limited to 1 in flight, batch size 1 (W5);
 * - latency: idle trigger, one send every 20 ms, send call -> handler start, 300 samples (W2).
 * With --warm, drain and groups then drain a second backlog in the same store (its caches and tables warm)
 * and report it too, as warmDrainPerSec and so on.
 */
import type { SQSEvent } from 'aws-lambda';
import { freshEngine, nowMs, type BenchOptions } from './harness.js';
import { percentile, round } from './stats.js';

type Mode = 'drain' | 'groups' | 'latency';

interface Args {
  mode: Mode;
  options: BenchOptions;
  n: number;
  /** drain and groups: drain a second backlog in the same store too (warmPerSec and so on). */
  warm: boolean;
}

function parse(argv: string[]): Args {
  const [mode, ...rest] = argv;
  if (mode !== 'drain' && mode !== 'groups' && mode !== 'latency')
    throw new Error(`workload: the first argument must be drain, groups or latency, not ${String(mode)}`);
  let store: BenchOptions['store'] = 'sqlite';
  let n = 20_000;
  let warm = false;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag === '--warm') {
      warm = true;
      i--;
    } else if (flag === '--store' && (value === 'sqlite' || value === 'postgres')) store = value;
    else if (flag === '--n' && Number.isInteger(Number(value)) && Number(value) > 0) n = Number(value);
    else throw new Error(`workload: unknown or invalid argument ${String(flag)} ${String(value)}`);
  }
  const postgresUrl = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  return { mode, n, warm, options: { store, postgresUrl, quick: false, runs: 1 } };
}

const body = JSON.stringify({ i: 0 });

async function drainOrGroups(args: Args): Promise<Record<string, number>> {
  const engine = await freshEngine(args.options);
  try {
    const { sluice } = engine;
    const grouped = args.mode === 'groups';
    await sluice.queues.create('work', {
      VisibilityTimeout: 60,
      ...(grouped ? { SluiceGroupKey: 'MessageGroupId' } : {}),
    });
    if (grouped) await sluice.groupLimits.setDefault('work', { maxConcurrency: 1 });
    let handled = 0;
    let target = args.n;
    let done: () => void = () => undefined;
    await sluice.functions.create({
      name: 'noop',
      handler: async (event: SQSEvent) => {
        handled += event.Records.length;
        if (handled >= target) done();
      },
    });
    let trigger: string | undefined;
    /** Sends n messages while no trigger runs, then drains them: the first time into a fresh store. */
    const drainRound = async () => {
      const sendStart = nowMs();
      const pending: Array<Promise<unknown>> = [];
      for (let i = 0; i < args.n; i += 10) {
        const entries = Array.from({ length: Math.min(10, args.n - i) }, (_, k) => ({
          id: `e${k}`,
          body,
          ...(grouped ? { messageGroupId: `g${(i + k) % 1000}` } : {}),
        }));
        pending.push(sluice.queues.sendBatch('work', entries));
        if (pending.length >= 16) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const enqueuePerSec = args.n / ((nowMs() - sendStart) / 1000);
      target = handled + args.n;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const start = nowMs();
      const cpuStart = process.cpuUsage();
      if (trigger === undefined) {
        trigger = (
          await sluice.triggers.create({
            queue: 'work',
            functionName: 'noop',
            batchSize: 1,
            ...(grouped ? { groupBy: 'MessageGroupId' } : {}),
            scalingConfig: { maximumConcurrency: 16 },
          })
        ).uuid;
      } else await sluice.triggers.update(trigger, { enabled: true });
      await finished;
      const drainSeconds = (nowMs() - start) / 1000;
      // The peers count handler calls, as drainPerSec does; a drain is over once every message is deleted.
      while ((await sluice.queues.counts('work')).inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 1));
      const emptySeconds = (nowMs() - start) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      await sluice.triggers.update(trigger, { enabled: false });
      return {
        enqueuePerSec: round(enqueuePerSec, 0),
        drainPerSec: round(args.n / drainSeconds, 0),
        /** Until the queue is empty: every message handled and deleted. */
        emptiedPerSec: round(args.n / emptySeconds, 0),
        // CPU of this process per message drained and deleted (all threads): steadier than msg/s on a shared machine.
        cpuUsPerMessage: round((cpu.user + cpu.system) / args.n, 1),
      };
    };
    const fresh = await drainRound();
    if (!args.warm) return fresh;
    // The same store again: its tables have held and drained a backlog (a warm cache, analyzed or not).
    const warm = await drainRound();
    return Object.fromEntries([...Object.entries(fresh), ...Object.entries(warm).map(([k, v]) => [`warm${k[0]!.toUpperCase()}${k.slice(1)}`, v])]);
  } finally {
    await engine.dispose();
  }
}

async function latency(args: Args): Promise<Record<string, number>> {
  const engine = await freshEngine(args.options);
  try {
    const { sluice } = engine;
    await sluice.queues.create('work');
    const sentAt = new Map<string, number>();
    const samples: number[] = [];
    await sluice.functions.create({
      name: 'stamp',
      handler: async (event: SQSEvent) => {
        const started = nowMs();
        for (const record of event.Records) samples.push(started - sentAt.get(record.body)!);
      },
    });
    await sluice.triggers.create({ queue: 'work', functionName: 'stamp', batchSize: 1, scalingConfig: { maximumConcurrency: 4 } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let i = 0; i < 300; i++) {
      const id = `m${i}`;
      sentAt.set(id, nowMs());
      await sluice.queues.send('work', { body: id });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    return {
      n: samples.length,
      p50: round(percentile(samples, 50), 2),
      p95: round(percentile(samples, 95), 2),
      p99: round(percentile(samples, 99), 2),
    };
  } finally {
    await engine.dispose();
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const figures = args.mode === 'latency' ? await latency(args) : await drainOrGroups(args);
  console.log(JSON.stringify({ system: `sluice-${args.options.store}`, mode: args.mode, n: args.n, ...figures }));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
