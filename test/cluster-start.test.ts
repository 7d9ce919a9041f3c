/**
 * `sluice start` on a PostgreSQL store is a cluster node: two of them, started as real processes with
 * one config file, register, split a stream trigger's shards, and on SIGTERM hand their shards over and
 * leave (status stopped, no lease held, no slot granted).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../src/index.js';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  openTestStore,
  testPostgresUrl,
} from '../src/testkit/postgres.js';
import { startNodeProcess, type NodeProcess } from './support/cli-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePostgres('sluice start on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-start-'));
  const schema = freshSchemaName();
  const nodes: NodeProcess[] = [];
  let observer: Sluice;

  beforeAll(async () => {
    writeFileSync(join(dir, 'handlers.mjs'), 'export const handler = async () => undefined;\n');
    writeFileSync(
      join(dir, 'sluice.config.yaml'),
      [
        'tables:',
        '  events: { partitionKey: { name: pk, type: S }, stream: NEW_IMAGE, streamShardCount: 4 }',
        'functions:',
        '  work: { handler: ./handlers.mjs#handler, reservedConcurrency: 2 }',
        'streamTriggers:',
        '  - { table: events, function: work, startingPosition: TRIM_HORIZON }',
        '',
      ].join('\n'),
    );
    const env = {
      SLUICE_STORE: `${testPostgresUrl}?schema=${schema}`,
      SLUICE_HEARTBEAT_MS: '200',
      SLUICE_LEASE_MS: '800',
    };
    for (const id of ['start-a', 'start-b']) {
      nodes.push(
        await startNodeProcess({
          args: ['--port', '0', '--insecure-dev'],
          cwd: dir,
          env: { ...env, SLUICE_NODE_ID: id },
        }),
      );
    }
    observer = await Sluice.open({ store: await openTestStore({ schema, dropSchemaOnClose: false }) });
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await observer?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  const owners = async () => {
    const { streamArn } = await observer.streams.resolve('events');
    const leases = await observer.store.leaseList({ group: `${streamArn}#work` });
    return leases.map((lease) => lease.owner);
  };

  it('registers both nodes and gives each half of the shards', async () => {
    for (let i = 0; i < 100; i++) {
      const held = await owners();
      if (
        held.filter((o) => o === 'start-a').length === 2 &&
        held.filter((o) => o === 'start-b').length === 2
      )
        break;
      await sleep(100);
    }
    expect((await owners()).sort()).toEqual(['start-a', 'start-a', 'start-b', 'start-b']);
    const live = (await observer.store.nodeList()).filter((n) => n.status === 'alive').map((n) => n.id);
    expect(live).toEqual(['start-a', 'start-b']);
  });

  it('on SIGTERM hands its shards to the other node at once and leaves', async () => {
    const [a] = nodes;
    const stoppedAt = Date.now();
    a!.child.kill('SIGTERM');
    expect(await a!.exited).toBe(0);
    for (let i = 0; i < 100 && (await owners()).some((o) => o !== 'start-b'); i++) await sleep(50);
    expect(await owners()).toEqual(['start-b', 'start-b', 'start-b', 'start-b']);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect((await observer.store.nodeList()).find((n) => n.id === 'start-a')?.status).toBe('stopped');
    expect(
      (await observer.store.slotList({ scope: 'function:work' })).map((row) => row.nodeId),
    ).not.toContain('start-a');
  });
});
