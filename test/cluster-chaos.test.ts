/**
 * Chaos on a cluster: three node processes (test/fixtures/cluster-node.ts) on one PostgreSQL schema
 * work through 20,000 FIFO messages in 100 groups and 20,000 writes to a stream table with 100 keys,
 * while one node is killed with SIGKILL at a random moment (and a fresh node joins), or while the
 * PostgreSQL server restarts (a server created for the test, so the suites running beside it are not
 * disturbed). Every invocation logs its start and end, with its node, to one file; the
 * log must show every message and record handled at least once, each group's and key's items started
 * only after their predecessor ended, and never more invocations at once than the limits allow.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { parsePostgresUrl } from '../src/store/postgres/connection.js';
import { createPostgresStore } from '../src/store/postgres/store.js';
import { describePostgres, dropSchema, freshSchemaName, testPostgresUrl } from '../src/testkit/postgres.js';
import { startClusterNode, type RunningNode } from './support/cluster-node-process.js';

const GROUPS = 100;
const PER_GROUP = 200;
const KEYS = 100;
const PER_KEY = 200;
const LIMITS = { fifoReserved: 10, fifoTrigger: 6, streamReserved: 4 };
const TIMING = { heartbeatMs: 250, leaseMs: 1_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogEntry {
  t: 'S' | 'E' | 'K' | 'exit';
  node: string;
  fn?: string;
  inv?: string;
  records?: string[];
}

function startNode(params: { id: string; url: string; schema: string; log: string }): Promise<RunningNode> {
  return startClusterNode({
    store: `${params.url}?schema=${params.schema}&poolSize=6`,
    nodeId: params.id,
    log: params.log,
    ...TIMING,
    delayMs: 2,
    fifo: {
      queue: 'chaos.fifo',
      reserved: LIMITS.fifoReserved,
      maxConcurrency: LIMITS.fifoTrigger,
      batchSize: 10,
    },
    stream: { table: 'chaos', reserved: LIMITS.streamReserved, parallelization: 2, batchSize: 50 },
  });
}

/** Retries a producer call through a database restart. FIFO sends carry deduplication ids, so a retried send is stored once. */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt > 200) throw error;
      await sleep(100);
    }
  }
}

/**
 * Sends the FIFO messages (10 senders, each 10 groups in batches of 10) and writes the stream items (4
 * writers, each 25 keys in batches of 25); each group's and key's items go in order.
 */
async function produce(producer: Sluice): Promise<void> {
  const sendGroups = async (first: number) => {
    for (let n = 0; n < PER_GROUP; n++) {
      const entries = Array.from({ length: 10 }, (_, i) => ({
        id: `e${i}`,
        body: `g${first + i}:${n}`,
        messageGroupId: `g${first + i}`,
        messageDeduplicationId: `g${first + i}:${n}`,
      }));
      await retrying(() => producer.queues.sendBatch('chaos.fifo', entries));
    }
  };
  const writeKeys = async (first: number) => {
    for (let n = 0; n < PER_KEY; n++) {
      const requests = Array.from({ length: 25 }, (_, i) => ({
        tableName: 'chaos',
        put: { pk: `k${first + i}`, n } as never,
      }));
      await retrying(() => producer.tables.batchWriteItem(requests));
    }
  };
  await Promise.all([
    ...Array.from({ length: GROUPS / 10 }, (_, i) => sendGroups(i * 10)),
    ...Array.from({ length: KEYS / 25 }, (_, i) => writeKeys(i * 25)),
  ]);
}

function readLog(path: string): LogEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LogEntry);
}

function handled(entries: LogEntry[]): { fifo: number; stream: number } {
  const fifo = new Set<string>();
  const stream = new Set<string>();
  for (const entry of entries) {
    if (entry.t !== 'E') continue;
    for (const record of entry.records!) (entry.fn === 'fifoWorker' ? fifo : stream).add(record);
  }
  return { fifo: fifo.size, stream: stream.size };
}

interface Verdict {
  missing: string[];
  orderViolations: string[];
  peak: Record<string, number>;
  redelivered: number;
  invocationsByNode: Record<string, number>;
}

/** Reads the log as the specification: at least once, in order per group and key, within the limits. */
function judge(entries: LogEntry[]): Verdict {
  const done = new Set<string>();
  const seen = new Set<string>();
  const orderViolations: string[] = [];
  const running = new Map<string, number>();
  const peak: Record<string, number> = {};
  const open = new Map<string, LogEntry>(); // inv -> start entry
  const invocationsByNode: Record<string, number> = {};
  let redelivered = 0;
  for (const entry of entries) {
    if (entry.t === 'K') {
      // The killed node's open invocations ended with it.
      for (const [inv, start] of open) {
        if (start.node !== entry.node) continue;
        open.delete(inv);
        running.set(start.fn!, running.get(start.fn!)! - 1);
      }
      continue;
    }
    if (entry.t === 'S') {
      invocationsByNode[entry.node] = (invocationsByNode[entry.node] ?? 0) + 1;
      open.set(entry.inv!, entry);
      const now = (running.get(entry.fn!) ?? 0) + 1;
      running.set(entry.fn!, now);
      peak[entry.fn!] = Math.max(peak[entry.fn!] ?? 0, now);
      const inBatch = new Set<string>();
      for (const record of entry.records!) {
        const [item, n] = record.split(':') as [string, string];
        const previous = `${item}:${Number(n) - 1}`;
        if (Number(n) > 0 && !done.has(previous) && !inBatch.has(previous)) {
          orderViolations.push(`${entry.fn} ${record} started on ${entry.node} before ${previous} ended`);
        }
        if (seen.has(record)) redelivered++;
        seen.add(record);
        inBatch.add(record);
      }
    } else if (entry.t === 'E') {
      open.delete(entry.inv!);
      running.set(entry.fn!, running.get(entry.fn!)! - 1);
      for (const record of entry.records!) done.add(record);
    }
  }
  const missing: string[] = [];
  for (let g = 0; g < GROUPS; g++)
    for (let n = 0; n < PER_GROUP; n++) if (!done.has(`g${g}:${n}`)) missing.push(`g${g}:${n}`);
  for (let k = 0; k < KEYS; k++)
    for (let n = 0; n < PER_KEY; n++) if (!done.has(`k${k}:${n}`)) missing.push(`k${k}:${n}`);
  return { missing, orderViolations, peak, redelivered, invocationsByNode };
}

/**
 * A PostgreSQL server of the test's own (Debian's pg_createcluster, trust authentication) for the restart
 * variant: restarting the machine's shared server would break every other suite running meanwhile.
 */
interface PrivateServer {
  url: string;
  restart(): void;
  drop(): void;
}

function privateServer(): PrivateServer {
  const version = execFileSync('pg_lsclusters', ['--no-header']).toString().trim().split(/\s+/)[0] ?? '15';
  const name = `sluice_chaos_${process.pid}`;
  // Ports below the kernel's ephemeral range (32768 and up), so no outgoing connection holds ours; a port
  // some other server listens on fails the start, and another is tried after dropping the half-made cluster.
  for (let attempt = 1; ; attempt++) {
    const port = String(20_000 + Math.floor(Math.random() * 12_000));
    try {
      execFileSync('pg_createcluster', ['--start', version, name, '-p', port, '--', '--auth=trust'], {
        stdio: 'ignore',
      });
    } catch (error) {
      try {
        execFileSync('pg_dropcluster', ['--stop', version, name], { stdio: 'ignore' });
      } catch {
        // nothing was created
      }
      if (attempt >= 5) throw error;
      continue;
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      restart: () => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'restart']),
      drop: () => execFileSync('pg_dropcluster', ['--stop', version, name], { stdio: 'ignore' }),
    };
  }
}

async function openStore(url: string, schema: string, poolSize = 10) {
  // Connection errors during the restart are expected here; every caller retries.
  return createPostgresStore({ ...parsePostgresUrl(url), schema, poolSize, onError: () => undefined });
}

type Disruption = 'kill' | 'restart';

async function chaosRun(disruption: Disruption): Promise<void> {
  const server = disruption === 'restart' ? privateServer() : undefined;
  const url = server?.url ?? testPostgresUrl;
  const schema = freshSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-'));
  const log = join(dir, 'invocations.log');
  appendFileSync(log, '');
  const nodes = new Map<string, RunningNode>();
  let setup: Sluice | undefined;
  let producer: Sluice | undefined;
  try {
    setup = await Sluice.open({ store: await openStore(url, schema) });
    await setup.queues.create('chaos.fifo', { VisibilityTimeout: 3 });
    await setup.tables.createTable({
      name: 'chaos',
      partitionKey: { name: 'pk', type: 'S' },
      stream: { viewType: 'NEW_IMAGE' },
      streamShardCount: 8,
    });
    await setup.close();
    for (const id of ['n1', 'n2', 'n3']) nodes.set(id, await startNode({ id, url, schema, log }));
    producer = await Sluice.open({ store: await openStore(url, schema, 16) });
    const started = Date.now();
    const producing = produce(producer);
    const disruptAt = 1_500 + Math.random() * 3_000;
    await sleep(disruptAt);
    const before = handled(readLog(log));
    let takeoverMs: number | null = null;
    let outageMs = 0;
    let victimId: string | undefined;
    if (disruption === 'kill') {
      const victim = [...nodes.values()][Math.floor(Math.random() * nodes.size)]!;
      victimId = victim.id;
      const leasesBefore = await producer.store.leaseList({ group: await streamGroup(producer) });
      const held = leasesBefore.filter((lease) => lease.owner === victim.id).map((lease) => lease.resource);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      appendFileSync(log, `${JSON.stringify({ t: 'K', node: victim.id })}\n`);
      nodes.delete(victim.id);
      // Its shards go to the others once its leases expire.
      for (;;) {
        const leases = await producer.store.leaseList({ group: await streamGroup(producer) });
        if (
          held.every((resource) =>
            leases.some((l) => l.resource === resource && l.owner !== null && l.owner !== victim.id),
          )
        )
          break;
        if (Date.now() - killedAt > 10_000) throw new Error("the killed node's leases were not taken over");
        await sleep(20);
      }
      takeoverMs = Date.now() - killedAt;
      await sleep(500);
      nodes.set('n4', await startNode({ id: 'n4', url, schema, log })); // a node joins: shares shrink again
    } else {
      const restartAt = Date.now();
      server!.restart();
      outageMs = Date.now() - restartAt;
    }
    await producing;
    const sentAt = Date.now();
    const producedIn = sentAt - started;
    for (;;) {
      const progress = handled(readLog(log));
      if (progress.fifo === GROUPS * PER_GROUP && progress.stream === KEYS * PER_KEY) break;
      if (Date.now() - sentAt > 60_000)
        throw new Error(
          `not everything was handled: ${JSON.stringify(progress)}\n${[...nodes.values()].flatMap((n) => n.stderr.slice(0, 20)).join('\n')}`,
        );
      await sleep(250);
    }
    const finishedAt = Date.now();

    // A graceful stop of every node: each exits 0, leaving no lease held and no slot granted.
    for (const node of nodes.values()) node.child.kill('SIGTERM');
    const codes = await Promise.all([...nodes.values()].map((node) => node.exited));
    expect(codes.every((code) => code === 0)).toBe(true);
    const leases = await producer.store.leaseList({ group: await streamGroup(producer) });
    expect(leases.filter((lease) => lease.owner !== null)).toEqual([]);
    for (const scope of ['function:fifoWorker', 'function:streamWorker', 'trigger:chaos.fifo>fifoWorker']) {
      expect(await producer.store.slotList({ scope })).toEqual([]);
    }
    // Only the killed node was declared dead: a server restart longer than a lease timeout kills nobody.
    const statuses = Object.fromEntries((await producer.store.nodeList()).map((n) => [n.id, n.status]));
    for (const [id, status] of Object.entries(statuses))
      expect(status).toBe(id === victimId ? 'dead' : 'stopped');

    const verdict = judge(readLog(log));
    console.log(
      `[chaos ${disruption}] ${GROUPS * PER_GROUP} FIFO messages + ${KEYS * PER_KEY} stream records in ${((finishedAt - started) / 1000).toFixed(1)} s (produced in ${(producedIn / 1000).toFixed(1)} s); ` +
        `disrupted at ${(disruptAt / 1000).toFixed(1)} s with ${before.fifo + before.stream} items done; ` +
        (takeoverMs !== null
          ? `killed node's shards taken over after ${takeoverMs} ms (lease ${TIMING.leaseMs} ms); `
          : `server restart took ${outageMs} ms; `) +
        `redelivered ${verdict.redelivered}; peak concurrency ${JSON.stringify(verdict.peak)}; invocations per node ${JSON.stringify(verdict.invocationsByNode)}`,
    );
    expect(verdict.missing).toEqual([]);
    expect(verdict.orderViolations.slice(0, 10)).toEqual([]);
    expect(verdict.peak.fifoWorker).toBeLessThanOrEqual(Math.min(LIMITS.fifoReserved, LIMITS.fifoTrigger));
    expect(verdict.peak.streamWorker).toBeLessThanOrEqual(LIMITS.streamReserved);
    expect(Object.keys(verdict.invocationsByNode).length).toBeGreaterThan(1);
    if (takeoverMs !== null) expect(takeoverMs).toBeLessThan(2 * TIMING.leaseMs);
  } finally {
    for (const node of nodes.values()) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await Promise.all([...nodes.values()].map((node) => node.exited));
    await producer?.close().catch(() => undefined);
    await setup?.close().catch(() => undefined);
    if (server) server.drop();
    else await retrying(() => dropSchema(schema));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function streamGroup(sluice: Sluice): Promise<string> {
  const { streamArn } = await sluice.streams.resolve('chaos');
  return `${streamArn}#streamWorker`;
}

describePostgres('cluster chaos', () => {
  it(
    'loses nothing, keeps order and limits when a node is killed with SIGKILL mid-run',
    { timeout: 120_000 },
    async () => {
      await chaosRun('kill');
    },
  );

  it(
    'loses nothing, keeps order and limits when PostgreSQL restarts mid-run (a server of its own)',
    { timeout: 120_000 },
    async () => {
      await chaosRun('restart');
    },
  );
});
