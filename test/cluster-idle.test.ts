/**
 * Idle cost of a cluster: three node processes with 50 queues and 50 triggers each, on a database of
 * their own, idle for 60 s with the default heartbeat (3 s). Two measures: every statement each node
 * process sends (counted in the process, by statement name), and the server's committed transactions
 * for that database (pg_stat_database.xact_commit, read from another database so the reads do not count).
 * Both must come to heartbeats only: one statement per node every 3 s, 20 a minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import { clusterDefaults } from '../src/cluster/settings.js';
import { describePostgres, testPostgresUrl } from '../src/testkit/postgres.js';

const fixture = new URL('./fixtures/cluster-node.ts', import.meta.url).pathname;
const IDLE_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stats {
  statements: Record<string, number>;
  heartbeats: number;
}

function databaseUrl(database: string): string {
  const url = new URL(testPostgresUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function startNode(params: {
  id: string;
  store: string;
  log: string;
}): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const spec = {
    store: params.store,
    nodeId: params.id,
    log: params.log,
    ...clusterDefaults,
    idle: { queues: 50 },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, SLUICE_NODE_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${params.id} did not start`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ready"')) {
        clearTimeout(timer);
        resolve({ child, exited });
      }
    });
  });
}

function ask(child: ChildProcess, type: 'stats' | 'reset'): Promise<Stats> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & Stats) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

async function committed(admin: pg.Client, database: string): Promise<number> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ xact_commit: string }>(
    'SELECT xact_commit FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return Number(rows[0]?.xact_commit ?? 0);
}

/** Scans and row changes per table of the deployment's schema (pg_stat_user_tables shows one database). */
async function tableActivity(probe: pg.Client): Promise<Record<string, number>> {
  await probe.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await probe.query<{ relname: string; n: string }>(
    `SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del AS n
     FROM pg_stat_user_tables WHERE schemaname = 'sluice'`,
  );
  return Object.fromEntries(rows.map((row) => [row.relname, Number(row.n)]));
}

describePostgres('cluster idle cost', () => {
  it(
    'three idle nodes with 50 queues and 50 triggers each issue heartbeats only',
    { timeout: 200_000 },
    async () => {
      const database = `sluice_idle_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: testPostgresUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      const dir = mkdtempSync(join(tmpdir(), 'sluice-idle-'));
      const nodes: Array<{ child: ChildProcess; exited: Promise<number | null> }> = [];
      const store = `${databaseUrl(database)}?schema=sluice`;
      try {
        const setup = await Sluice.open({ store, cluster: false });
        for (let i = 0; i < 50; i++) await setup.queues.create(`idle-${i}`);
        await setup.close();
        for (const id of ['idle-a', 'idle-b', 'idle-c'])
          nodes.push(await startNode({ id, store, log: join(dir, 'log') }));
        // Start-up settles (leases, standing slots, the first heartbeats) and the server's statistics catch up
        // with it: a backend reports its counts up to 10 s after it went idle, or when it closes (the pool
        // closes a connection idle for 30 s). Settled: two 5 s periods with no more than the heartbeats.
        const perFiveSeconds = 3 * Math.ceil(5_000 / clusterDefaults.heartbeatMs);
        for (
          let calm = 0, last = await committed(admin, database), waited = 0;
          calm < 2 && waited < 90_000;
          waited += 5_000
        ) {
          await sleep(5_000);
          const now = await committed(admin, database);
          calm = now - last <= perFiveSeconds ? calm + 1 : 0;
          last = now;
        }
        const probe = new pg.Client({ connectionString: databaseUrl(database) });
        await probe.connect();
        const scansBefore = await tableActivity(probe);
        for (const node of nodes) await ask(node.child, 'reset');
        const commitsBefore = await committed(admin, database);
        await sleep(IDLE_MS);
        const stats = await Promise.all(nodes.map((node) => ask(node.child, 'stats')));
        const commitsAfter = await committed(admin, database);
        const scansAfter = await tableActivity(probe);
        await probe.end();
        const activity = Object.fromEntries(
          Object.entries(scansAfter)
            .map(([table, n]) => [table, n - (scansBefore[table] ?? 0)] as const)
            .filter(([, n]) => n > 0),
        );

        const perMinute = (60_000 / clusterDefaults.heartbeatMs).toFixed(0);
        const transactions = commitsAfter - commitsBefore;
        console.log(
          `[idle] 3 nodes x (50 queues, 50 triggers), ${IDLE_MS / 1000} s idle, heartbeat every ${clusterDefaults.heartbeatMs} ms (budget ${perMinute}/min per node): ` +
            `statements per node ${JSON.stringify(stats.map((s) => s.statements))}; ` +
            `committed transactions in the database (pg_stat_database.xact_commit) ${transactions}, ${(transactions / 3 / (IDLE_MS / 60_000)).toFixed(1)} per node per minute; ` +
            `table scans and row changes (pg_stat_user_tables) ${JSON.stringify(activity)}`,
        );
        for (const s of stats) {
          // Every statement is a heartbeat, one per heartbeat interval (give or take one at each end).
          expect(Object.keys(s.statements)).toEqual(['sluice_cluster_heartbeat']);
          const expected = IDLE_MS / clusterDefaults.heartbeatMs;
          expect(s.statements.sluice_cluster_heartbeat).toBeGreaterThanOrEqual(expected - 2);
          expect(s.statements.sluice_cluster_heartbeat).toBeLessThanOrEqual(expected + 2);
        }
        // The server agrees: no queue table was read or written, only the heartbeat's tables (its node row,
        // and the lease table it checks for leases to take). And the committed transactions are the
        // heartbeats, plus a few of this test's probe session and of the statistics' lag.
        expect(Object.keys(activity).sort()).toEqual(['leases', 'nodes']);
        // The per-process counts above are exact; the server-wide count also sees autovacuum and the
        // statistics' lag, so it only has to stay far below what one poll per trigger would cost
        // (150 triggers polling even once a second would commit 9,000 transactions a minute).
        expect(transactions).toBeLessThanOrEqual(4 * 3 * (IDLE_MS / clusterDefaults.heartbeatMs) + 50);
      } finally {
        for (const node of nodes) node.child.kill('SIGTERM');
        await Promise.all(nodes.map((node) => node.exited));
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
