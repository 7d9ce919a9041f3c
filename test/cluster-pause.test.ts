/**
 * A node paused past its lease (SIGSTOP, as a frozen VM or a long GC pause would) and resumed
 * (SIGCONT), in a three-node cluster draining a queue through a trigger whose maximum concurrency is 3,
 * with handlers slower than the lease. While it sleeps it is declared dead and the others take over; when
 * it wakes, its frozen invocation is past its deadline.
 *
 * The log of invocation starts and ends (test/fixtures/cluster-node.ts) must show: every message handled;
 * never more than 3 invocations at once over the whole run, counting one interval per invocation and
 * leaving out only the invocation frozen mid-flight (its handler cannot be stopped in process); and the
 * frozen invocation's message handled again elsewhere, since its late result counts as a timeout.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { createPostgresStore } from '../src/store/postgres/store.js';
import { parsePostgresUrl } from '../src/store/postgres/connection.js';
import { describePostgres, dropSchema, freshSchemaName, testPostgresUrl } from '../src/testkit/postgres.js';
import { startClusterNode, type RunningNode } from './support/cluster-node-process.js';

const MESSAGES = 40;
const MAX_CONCURRENCY = 3;
const TIMING = { heartbeatMs: 250, leaseMs: 1_000 };
const HANDLER_MS = 1_200; // slower than the lease
const TIMEOUT_SECONDS = 2;
const PAUSE_MS = 4_500; // past the lease and the invocation's deadline
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogEntry {
  t: 'S' | 'E';
  node: string;
  inv: string;
  records: string[];
  at: number;
}

function startNode(id: string, store: string, log: string): Promise<RunningNode> {
  return startClusterNode({
    store,
    nodeId: id,
    log,
    ...TIMING,
    standard: {
      queue: 'paused',
      maxConcurrency: MAX_CONCURRENCY,
      timeoutSeconds: TIMEOUT_SECONDS,
      handlerMs: HANDLER_MS,
    },
  });
}

function readLines(path: string): Array<{ t: string } & Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { t: string } & Record<string, unknown>);
}

/** Invocation starts and ends. */
function readLog(path: string): LogEntry[] {
  return readLines(path).filter(
    (entry): entry is typeof entry & LogEntry => entry.t === 'S' || entry.t === 'E',
  );
}

/** Acknowledgements: the receipts' sequence numbers and what the store answered for each. */
function readAcks(path: string): Array<{ node: string; seqs: number[]; outcomes: string[] }> {
  return readLines(path).filter((e) => e.t === 'D') as unknown as Array<{
    node: string;
    seqs: number[];
    outcomes: string[];
  }>;
}

/** Peak of invocations running at once, by start and end times, leaving out the `excluded` ones. */
function peakConcurrency(entries: LogEntry[], excluded: Set<string>): { peak: number; at: string[] } {
  const starts = new Map<string, number>();
  const events: Array<{ at: number; delta: number; inv: string }> = [];
  for (const entry of entries) {
    if (excluded.has(entry.inv)) continue;
    if (entry.t === 'S') starts.set(entry.inv, entry.at);
    else if (starts.has(entry.inv)) {
      events.push({ at: starts.get(entry.inv)!, delta: 1, inv: entry.inv });
      events.push({ at: entry.at, delta: -1, inv: entry.inv });
    }
  }
  // Ends before starts at the same instant: a slot given back and taken again is not an overlap.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let peak = 0;
  const open = new Set<string>();
  let at: string[] = [];
  for (const event of events) {
    running += event.delta;
    if (event.delta > 0) open.add(event.inv);
    else open.delete(event.inv);
    if (running > peak) {
      peak = running;
      at = [...open];
    }
  }
  return { peak, at };
}

describePostgres('a node paused past its lease', () => {
  it(
    'wakes to find its invocation timed out, starts nothing until it has slots again, and the limit holds',
    { timeout: 120_000 },
    async () => {
      const schema = freshSchemaName();
      const dir = mkdtempSync(join(tmpdir(), 'sluice-pause-'));
      const log = join(dir, 'invocations.log');
      appendFileSync(log, '');
      const store = `${testPostgresUrl}?schema=${schema}&poolSize=4`;
      const nodes: RunningNode[] = [];
      let producer: Sluice | undefined;
      try {
        producer = await Sluice.open({
          store: await createPostgresStore({ ...parsePostgresUrl(testPostgresUrl), schema, poolSize: 4 }),
        });
        // Shorter than the pause: the frozen invocation's message is redelivered while its node sleeps.
        await producer.queues.create('paused', { VisibilityTimeout: 3 });
        for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(id, store, log));
        for (let i = 0; i < MESSAGES; i += 10)
          await producer.queues.sendBatch(
            'paused',
            Array.from({ length: 10 }, (_, k) => ({ id: `e${k}`, body: `m${i + k}` })),
          );

        // Pause a node in the middle of an invocation.
        let victim: RunningNode | undefined;
        let frozen: string[] = [];
        const deadline = Date.now() + 20_000;
        while (!victim) {
          if (Date.now() > deadline) throw new Error('no node was ever mid-invocation');
          await sleep(100 + Math.random() * 200);
          const entries = readLog(log);
          const ended = new Set(entries.filter((e) => e.t === 'E').map((e) => e.inv));
          const open = entries.filter((e) => e.t === 'S' && !ended.has(e.inv) && Date.now() - e.at < 600);
          if (open.length === 0) continue;
          victim = nodes.find((n) => n.id === open[0]!.node)!;
          victim.child.kill('SIGSTOP');
          // What the victim had open when it stopped (read after the stop: nothing more can start).
          const after = readLog(log);
          const endedAfter = new Set(after.filter((e) => e.t === 'E').map((e) => e.inv));
          frozen = after
            .filter((e) => e.t === 'S' && e.node === victim!.id && !endedAfter.has(e.inv))
            .map((e) => e.inv);
        }
        const pausedAt = Date.now();
        await sleep(PAUSE_MS);
        victim.child.kill('SIGCONT');
        const resumedAt = Date.now();

        const handled = () =>
          new Set(
            readLog(log)
              .filter((e) => e.t === 'E')
              .flatMap((e) => e.records),
          );
        const waitUntil = Date.now() + 60_000;
        while (handled().size < MESSAGES) {
          if (Date.now() > waitUntil)
            throw new Error(
              `${handled().size} of ${MESSAGES} handled\n${nodes.flatMap((n) => n.stderr).join('\n')}`,
            );
          await sleep(200);
        }
        // Let the late result of the frozen invocation and any redelivery play out.
        await sleep(TIMEOUT_SECONDS * 1000);
        for (const node of nodes) node.child.kill('SIGTERM');
        expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0, 0]);

        const entries = readLog(log);
        const { peak, at } = peakConcurrency(entries, new Set(frozen));
        const frozenRecords = entries
          .filter((e) => e.t === 'S' && frozen.includes(e.inv))
          .flatMap((e) => e.records);
        const startsOf = (record: string) =>
          entries.filter((e) => e.t === 'S' && e.records.includes(record)).length;
        const victimAfterResume = entries.filter(
          (e) => e.t === 'S' && e.node === victim!.id && e.at >= resumedAt,
        );
        console.log(
          `[pause] ${victim.id} paused ${((resumedAt - pausedAt) / 1000).toFixed(1)} s with ${frozen.length} invocation(s) in flight; ` +
            `peak concurrency ${peak} (limit ${MAX_CONCURRENCY}); invocations on ${victim.id} after the resume: ${victimAfterResume.length}`,
        );
        if (process.env.PAUSE_DEBUG) {
          const t0 = entries[0]!.at;
          for (const e of entries) console.log(`${e.at - t0} ${e.t} ${e.inv} ${e.records.join(',')}`);
          console.log('paused', pausedAt - t0, 'resumed', resumedAt - t0, 'frozen', frozen);
        }
        expect(frozen.length).toBeGreaterThan(0);
        expect(peak, `peak reached by ${at.join(', ')}`).toBeLessThanOrEqual(MAX_CONCURRENCY);
        // The frozen invocation ended past its deadline: a timeout, so its message ran again elsewhere.
        for (const record of frozenRecords) expect(startsOf(record), record).toBeGreaterThanOrEqual(2);
        expect(await producer.queues.counts('paused')).toMatchObject({ visible: 0, inFlight: 0 });
        // No acknowledgement with a receipt the node had lost: its late result was a timeout, not a success.
        const acks = readAcks(log);
        expect(acks.length).toBeGreaterThan(0);
        expect(acks.filter((a) => a.outcomes.some((o) => o !== 'deleted'))).toEqual([]);
      } finally {
        for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
        await Promise.all(nodes.map((n) => n.exited));
        await producer?.close().catch(() => undefined);
        await dropSchema(schema).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
