/**
 * The config file: every format loads, validation names the path and the allowed range of each bad
 * field, and applying is idempotent (create, update, revert to defaults, prune only when asked).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { loadConfigFile } from '../src/config/load.js';
import { validateConfig, type SluiceConfigInput } from '../src/config/schema.js';
import { Sluice } from '../src/engine/sluice.js';
import { isSluiceError } from '../src/model/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(raw: unknown): string {
  try {
    validateConfig(raw, 'test');
  } catch (error) {
    if (isSluiceError(error, 'ValidationException')) return error.message;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('validating a config', () => {
  it('names the path of each bad field with the allowed range, all at once', () => {
    const message = problems({
      queues: {
        orders: { visibilityTimeout: 50_000, deadLetter: { queue: 'orders-dlq', maxReceiveCount: 0 } },
        'bad name!': {},
        'orders-dlq': { delaySeconds: 'soon' },
      },
      functions: { work: { handler: './work.ts', timeout: 901 } },
      triggers: [{ queue: 'orders', function: 'work', batchSize: 20_000 }],
      node: { taskTokenRetentionSeconds: 0, executionLeaseMs: 500, indexBackfillLeaseMs: 50 },
    });
    expect(message).toContain('node.executionLeaseMs: must be an integer from 1000 to 3600000 ms (got 500)');
    expect(message).toContain('node.indexBackfillLeaseMs: must be an integer from 100 to 3600000 ms (got 50)');
    expect(message).toContain('node.taskTokenRetentionSeconds: must be an integer from 1 to 31536000 seconds (got 0)');
    expect(message).toContain('queues.orders.visibilityTimeout: must be an integer from 0 to 43200 seconds (got 50000)');
    expect(message).toContain('queues.orders.deadLetter.maxReceiveCount: must be an integer from 1 to 1000 receives (got 0)');
    expect(message).toContain("queues.bad name!: a queue name must be 1-80 letters, digits, '-' or '_'");
    expect(message).toContain('queues.orders-dlq.delaySeconds: must be an integer from 0 to 900 seconds (got "soon")');
    expect(message).toContain('functions.work.timeout: must be an integer from 1 to 900 seconds (got 901)');
    expect(message).toContain('triggers[0].batchSize: must be an integer from 1 to 10000 messages (got 20000)');
  });

  it('refuses unknown settings, references to undeclared resources and FIFO settings on standard queues', () => {
    const message = problems({
      queue: {},
      queues: { a: { visibility: 3, deadLetter: { queue: 'nowhere', maxReceiveCount: 3 }, contentBasedDeduplication: true } },
      triggers: [{ queue: 'a', function: 'ghost' }],
      groups: { a: { speed: 1 } },
    });
    expect(message).toContain("(top level): unknown setting(s) 'queue'");
    expect(message).toContain("queues.a: unknown setting(s) 'visibility'");
    expect(message).toContain("queues.a.deadLetter.queue: 'nowhere' is not a queue of this config");
    expect(message).toContain('queues.a.contentBasedDeduplication: only FIFO queues');
    expect(message).toContain("triggers[0].function: 'ghost' is not a function of this config");
    expect(message).toContain("groups.a: unknown setting(s) 'speed'");
  });
});

describe('loading a config file', () => {
  const declared: SluiceConfigInput = { queues: { jobs: { visibilityTimeout: 12 } } };

  it('reads TypeScript (default export or a function returning it), JavaScript, JSON and YAML alike', async () => {
    const files = [
      write('a.config.ts', `import type { SluiceConfigInput } from '${process.cwd()}/src/config/schema.js';\nconst config: SluiceConfigInput = ${JSON.stringify(declared)};\nexport default config;\n`),
      write('b.config.mts', `export default async () => (${JSON.stringify(declared)});\n`),
      write('c.config.mjs', `export default ${JSON.stringify(declared)};\n`),
      write('d.config.json', JSON.stringify(declared)),
      write('e.config.yaml', 'queues:\n  jobs:\n    visibilityTimeout: 12\n'),
    ];
    for (const file of files) {
      const loaded = await loadConfigFile(file);
      expect(loaded.config.queues?.jobs?.visibilityTimeout, file).toBe(12);
      expect(loaded.baseDir).toBe(dir);
    }
  });

  it('says which file failed to parse', async () => {
    const file = write('broken.config.json', '{ "queues": ');
    await expect(loadConfigFile(file)).rejects.toThrow(/broken\.config\.json/);
    const yaml = write('bad.config.yaml', 'queues:\n  jobs:\n    visibilityTimeout: -1\n');
    await expect(loadConfigFile(yaml)).rejects.toThrow('queues.jobs.visibilityTimeout: must be an integer from 0 to 43200');
  });
});

describe('applying a config', () => {
  let sluice: Sluice;
  beforeEach(async () => {
    sluice = await Sluice.open({ store: 'sqlite::memory:' });
  });
  afterEach(async () => sluice.close());

  const apply = (raw: SluiceConfigInput, prune = false) => applyConfig({ sluice, config: validateConfig(raw, 'test'), baseDir: dir, prune });
  const actions = (changes: Awaited<ReturnType<typeof apply>>) => changes.map((change) => `${change.kind} ${change.name} ${change.action}`);

  it('creates dead-letter queues first, then reports everything unchanged when applied again', async () => {
    const config: SluiceConfigInput = {
      queues: {
        orders: { visibilityTimeout: 20, deadLetter: { queue: 'orders-dlq', maxReceiveCount: 3 }, tags: { team: 'shop' } },
        'orders-dlq': { messageRetentionPeriod: 1_209_600 },
        'tasks.fifo': { contentBasedDeduplication: true },
      },
    };
    expect(actions(await apply(config))).toEqual(['queue orders-dlq created', 'queue orders created', 'queue tasks.fifo created']);
    const attributes = await sluice.queues.getAttributes('orders');
    expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: sluice.queues.arnOf('orders-dlq'), maxReceiveCount: 3 });
    expect(await sluice.queues.listTags('orders')).toEqual({ team: 'shop' });
    expect(actions(await apply(config))).toEqual(['queue orders-dlq unchanged', 'queue orders unchanged', 'queue tasks.fifo unchanged']);
  });

  it('updates what changed and reverts what was removed to the default, keeping messages', async () => {
    await apply({ queues: { jobs: { visibilityTimeout: 20, delaySeconds: 5, tags: { a: '1', b: '2' } } } });
    await sluice.queues.send('jobs', { body: 'kept' });
    expect(actions(await apply({ queues: { jobs: { visibilityTimeout: 40, tags: { a: '1' } } } }))).toEqual(['queue jobs updated']);
    const attributes = await sluice.queues.getAttributes('jobs');
    expect(attributes).toMatchObject({ VisibilityTimeout: '40', DelaySeconds: '0' });
    expect(await sluice.queues.listTags('jobs')).toEqual({ a: '1' });
    expect((await sluice.queues.counts('jobs')).delayed + (await sluice.queues.counts('jobs')).visible).toBe(1);
  });

  it('keeps resources that left the config unless prune is asked for', async () => {
    await apply({ queues: { keep: {}, drop: {} } });
    expect(actions(await apply({ queues: { keep: {} } }))).toEqual(['queue keep unchanged', 'queue drop kept (not in config)']);
    expect(await sluice.queues.exists('drop')).toBe(true);
    expect(actions(await apply({ queues: { keep: {} } }, true))).toEqual(['queue keep unchanged', 'queue drop deleted']);
    expect(await sluice.queues.list()).toEqual(['keep']);
  });

  it('creates and updates tables, and refuses to change a table’s keys', async () => {
    const table = { partitionKey: { name: 'pk', type: 'S' as const }, stream: 'NEW_IMAGE' as const };
    expect(actions(await apply({ tables: { tasks: table } }))).toEqual(['table tasks created']);
    expect(actions(await apply({ tables: { tasks: { ...table, stream: 'NEW_AND_OLD_IMAGES', ttlAttribute: 'expiresAt' } } }))).toEqual(['table tasks updated']);
    expect((await sluice.tables.describeTable('tasks')).stream?.viewType).toBe('NEW_AND_OLD_IMAGES');
    await expect(apply({ tables: { tasks: { partitionKey: { name: 'id', type: 'S' } } } })).rejects.toThrow(
      'tables.tasks: partitionKey: cannot change on an existing table',
    );
  });

  it('declares secondary indexes: global ones follow the config, local ones are fixed at creation', async () => {
    const base = { partitionKey: { name: 'pk', type: 'S' as const }, sortKey: { name: 'sk', type: 'N' as const } };
    const byAt = { local: true, sortKey: { name: 'at', type: 'N' as const }, projection: 'KEYS_ONLY' as const };
    const byStatus = { partitionKey: { name: 'status', type: 'S' as const }, projection: ['note'] };
    expect(actions(await apply({ tables: { jobs: { ...base, indexes: { 'by-at': byAt, 'by-status': byStatus } } } }))).toEqual(['table jobs created']);
    expect(actions(await apply({ tables: { jobs: { ...base, indexes: { 'by-at': byAt, 'by-status': byStatus } } } }))).toEqual(['table jobs unchanged']);
    expect(actions(await apply({ tables: { jobs: { ...base, indexes: { 'by-at': byAt, 'by-owner': { partitionKey: { name: 'owner', type: 'S' } } } } } }))).toEqual([
      'table jobs updated',
    ]);
    const indexes = (await sluice.tables.describeTable('jobs')).indexes ?? [];
    expect(indexes.map((index) => `${index.kind} ${index.name} ${index.projection.type}`).sort()).toEqual(['global by-owner ALL', 'local by-at KEYS_ONLY']);
    await sluice.tables.putItem({ tableName: 'jobs', item: { pk: 'a', sk: 1, owner: 'ann' } });
    expect((await sluice.tables.query({ tableName: 'jobs', indexName: 'by-owner', keyConditionExpression: '#o = :o', expressionAttributeNames: { '#o': 'owner' }, expressionAttributeValues: { ':o': 'ann' } })).count).toBe(1);
    await expect(apply({ tables: { jobs: { ...base, indexes: { 'by-owner': { partitionKey: { name: 'owner', type: 'S' } } } } } })).rejects.toThrow(
      'indexes.by-at: a local index cannot be removed from an existing table',
    );
    await expect(apply({ tables: { jobs: { ...base, indexes: { 'by-at': byAt, 'by-owner': { partitionKey: { name: 'owner', type: 'N' } } } } } })).rejects.toThrow(
      'indexes.by-owner: cannot change an existing index',
    );
  });

  it('declares functions by module path relative to the config file and triggers that feed them', async () => {
    write(
      'record-handler.mjs',
      "export const handler = async (event) => { globalThis.__sluiceConfigSeen = (globalThis.__sluiceConfigSeen ?? []).concat(event.Records.map((r) => r.body)); };\n",
    );
    const changes = await apply({
      queues: { inbox: {} },
      functions: { record: { handler: './record-handler.mjs#handler', execution: 'in-process', timeout: 5 } },
      triggers: [{ queue: 'inbox', function: 'record', batchSize: 5 }],
    });
    expect(actions(changes)).toEqual(['queue inbox created', 'function record created', 'trigger inbox -> record created']);
    await sluice.queues.send('inbox', { body: 'hello' });
    for (let i = 0; i < 100 && !(globalThis as { __sluiceConfigSeen?: string[] }).__sluiceConfigSeen; i++) await new Promise((r) => setTimeout(r, 20));
    expect((globalThis as { __sluiceConfigSeen?: string[] }).__sluiceConfigSeen).toEqual(['hello']);
    const again = await apply({
      queues: { inbox: {} },
      functions: { record: { handler: './record-handler.mjs#handler', execution: 'in-process', timeout: 5 } },
      triggers: [{ queue: 'inbox', function: 'record', batchSize: 2, enabled: false }],
    });
    expect(actions(again)).toContain('trigger inbox -> record updated');
    expect(sluice.triggers.list()[0]).toMatchObject({ batchSize: 2, state: 'Disabled' });
  });

  it('declares stream triggers on a table and schedules, updating a schedule only when it changed', async () => {
    write('stream-handler.mjs', "export const handler = async (event) => { globalThis.__sluiceStreamSeen = (globalThis.__sluiceStreamSeen ?? 0) + event.Records.length; };\n");
    const config: SluiceConfigInput = {
      queues: { ticks: {} },
      tables: { jobs: { partitionKey: { name: 'pk', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' } },
      functions: { onChange: { handler: './stream-handler.mjs', execution: 'in-process' } },
      streamTriggers: [{ table: 'jobs', function: 'onChange', batchSize: 10, parallelizationFactor: 2 }],
      schedules: { nightly: { expression: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris', target: { queue: 'ticks', body: 'tick' } } },
    };
    expect(actions(await apply(config))).toEqual([
      'queue ticks created',
      'table jobs created',
      'function onChange created',
      'stream trigger jobs -> onChange created',
      'schedule nightly created',
    ]);
    await sluice.tables.putItem({ tableName: 'jobs', item: { pk: 'a' } } as Parameters<typeof sluice.tables.putItem>[0]);
    for (let i = 0; i < 100 && !(globalThis as { __sluiceStreamSeen?: number }).__sluiceStreamSeen; i++) await new Promise((r) => setTimeout(r, 20));
    expect((globalThis as { __sluiceStreamSeen?: number }).__sluiceStreamSeen).toBe(1);
    const again = actions(await apply(config));
    expect(again).toContain('schedule nightly unchanged');
    expect(again).toContain('stream trigger jobs -> onChange updated');
    const changed = actions(await apply({ ...config, schedules: { nightly: { expression: 'rate(1 hour)', target: { queue: 'ticks' }, enabled: false } } }));
    expect(changed).toContain('schedule nightly updated');
    expect((await sluice.schedules.get('nightly')).state).toBe('DISABLED');
    const bounded = {
      expression: 'rate(1 hour)',
      target: { queue: 'ticks', onFailure: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 600, deadLetterQueue: 'ticks' } },
      enabled: false,
      endDate: '2031-01-01T00:00:00Z',
      flexibleWindowMinutes: 15,
      deleteAfterCompletion: true,
    };
    expect(actions(await apply({ ...config, schedules: { nightly: bounded } }))).toContain('schedule nightly updated');
    expect(await sluice.schedules.get('nightly')).toMatchObject({
      endDate: '2031-01-01T00:00:00.000Z',
      flexibleWindowMinutes: 15,
      deleteAfterCompletion: true,
      target: { onFailure: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 600, deadLetterQueue: 'ticks' } },
    });
    expect(actions(await apply({ ...config, schedules: { nightly: bounded } }))).toContain('schedule nightly unchanged');
    expect(String(problems({ ...config, schedules: { nightly: { ...bounded, flexibleWindowMinutes: 1441 } } }))).toMatch(/flexibleWindowMinutes: must be an integer from 1 to 1440 minutes/);
    expect(problems({ ...config, streamTriggers: [{ table: 'jobs', function: 'ghost' }], tables: { jobs: { partitionKey: { name: 'pk', type: 'S' } } } })).toContain(
      "streamTriggers[0].table: the table 'jobs' has no stream",
    );
  });

  it('reports a service refusal with the resource’s config path', async () => {
    write('slow-handler.mjs', 'export const handler = async () => {};\n');
    const error = await apply({
      queues: { short: { visibilityTimeout: 5 } },
      functions: { slow: { handler: './slow-handler.mjs', timeout: 60 } },
      triggers: [{ queue: 'short', function: 'slow' }],
    }).catch((caught: unknown) => caught);
    expect(isSluiceError(error) && error.message).toMatch(/^triggers\[0\]: /);
  });
});

describe('node.connections', () => {
  it('accepts caps and timeouts in range and hands them to the server in its terms', async () => {
    const { connectionLimitsFromConfig } = await import('../src/api/node.js');
    const config = validateConfig({ node: { connections: { max: 5000, perAddress: 200, requestTimeoutMs: 20_000 } } }, 'test');
    expect(connectionLimitsFromConfig(config.node!.connections!)).toEqual({ maxConnections: 5000, maxConnectionsPerAddress: 200, requestTimeoutMs: 20_000 });
  });

  it('refuses values out of range, naming the setting and the range', () => {
    expect(() => validateConfig({ node: { connections: { perAddress: 0, idleTimeoutMs: 5 } } }, 'test')).toThrow(
      /node\.connections\.perAddress: must be an integer from 1 to 1000000 connections[\s\S]*node\.connections\.idleTimeoutMs: must be an integer from 100/,
    );
    expect(() => validateConfig({ node: { connections: { maxConnections: 1 } } }, 'test')).toThrow(/unknown setting\(s\) 'maxConnections'/);
  });
});
