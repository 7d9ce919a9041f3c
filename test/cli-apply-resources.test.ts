/**
 * `sluice apply` beyond mappings and schedules, on SQLite and PostgreSQL: a function's timeout, memory,
 * environment and code (its handler module path, resolved against the file's directory) stored in the
 * catalog and applied by the node (which defines the function when it declares none of that name); the
 * plan shows each changed field with its old and new value; --prune removes what the file applied.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { applyConfig } from '../src/config/apply.js';
import { loadConfigFile } from '../src/config/load.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { startTestNode, type TestNode } from './support/in-process-node.js';

const fixture = fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url));

interface ApplyOutput {
  functions: Array<{ action: string; function: string; changes?: Record<string, { from?: unknown; to: unknown }> }>;
  queues?: Array<{ action: string; queue: string; changes?: Record<string, { from?: unknown; to: unknown }> }>;
}

describe.each(storeBackends)('sluice apply of functions (%s)', (_backend, openStore) => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  const run = async (...flags: string[]): Promise<ApplyOutput> => {
    const out = await sluice('--json', 'apply', '--config', file, ...flags);
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as ApplyOutput;
  };

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-fn-'));
    copyFileSync(fixture, join(dir, 'handlers.mjs'));
    file = join(dir, 'sluice.config.yaml');
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defines a function from its handler, updates its timeout, memory and environment with the diff shown, then prunes it', async () => {
    writeFileSync(file, 'functions:\n  report:\n    handler: ./handlers.mjs#environment\n    timeout: 10\n    environment: { OWN_SETTING: one }\n');
    const created = await run();
    expect(created.functions).toEqual([
      {
        action: 'create',
        function: 'report',
        reservedConcurrency: null,
        changes: { reservedConcurrency: { to: null }, timeout: { to: 10 }, environment: { to: { OWN_SETTING: 'one' } }, handler: { to: `${join(dir, 'handlers.mjs')}#environment` } },
      },
    ]);
    const defined = node.sluice.functions.get('report');
    expect([defined.timeout, defined.memorySize, defined.environment]).toEqual([10, 128, { OWN_SETTING: 'one' }]);
    expect((await node.sluice.functions.invoke('report', {})).payload).toMatchObject({ OWN_SETTING: 'one', AWS_LAMBDA_FUNCTION_NAME: 'report' });
    expect((await run()).functions.map((step) => step.action)).toEqual(['unchanged']);

    writeFileSync(file, 'functions:\n  report:\n    handler: ./handlers.mjs#environment\n    timeout: 30\n    memorySize: 512\n    environment: { OWN_SETTING: two }\n');
    const planned = await sluice('apply', '--config', file, '--dry-run');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/update\s+function report\s+reserved concurrency none; timeout: 10 -> 30, memorySize: 512, environment: \{"OWN_SETTING":"one"\} -> \{"OWN_SETTING":"two"\}/);
    expect(node.sluice.functions.get('report').timeout).toBe(10);
    const updated = await run();
    expect(updated.functions[0]?.changes).toEqual({ timeout: { from: 10, to: 30 }, memorySize: { to: 512 }, environment: { from: { OWN_SETTING: 'one' }, to: { OWN_SETTING: 'two' } } });
    expect(node.sluice.functions.get('report')).toMatchObject({ timeout: 30, memorySize: 512 });
    expect((await node.sluice.functions.invoke('report', {})).payload).toMatchObject({ OWN_SETTING: 'two', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' });

    writeFileSync(file, 'functions: {}\n');
    expect((await run()).functions).toEqual([{ action: 'keep', function: 'report' }]);
    expect(node.sluice.functions.exists('report')).toBe(true);
    expect((await run('--prune')).functions).toEqual([{ action: 'delete', function: 'report' }]);
    expect(node.sluice.functions.exists('report')).toBe(false);
    expect(await node.sluice.store.catalogList({ kind: 'function' })).toEqual([]);
  });

  it('refuses a bad setting or a missing handler module, naming the path, and stores nothing', async () => {
    writeFileSync(file, 'functions:\n  broken:\n    handler: ./missing.mjs#handler\n');
    const missing = await sluice('apply', '--config', file);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('functions.broken');
    expect(missing.stderr).toContain('missing.mjs');
    // The CLI's schema checks the file's own ranges; the node checks what reaches it over the API.
    const refused = await node.native('/v1/apply', { body: { source: file, functions: { broken: { handler: './handlers.mjs#echo', timeout: 901 } } } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('functions.broken');
    expect(await node.sluice.store.catalogList({ kind: 'function' })).toEqual([]);
    expect(node.sluice.functions.exists('broken')).toBe(false);
  });
});

describe.each(storeBackends)('sluice apply of queues (%s)', (_backend, openStore) => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  const run = async (...flags: string[]): Promise<ApplyOutput> => {
    const out = await sluice('--json', 'apply', '--config', file, ...flags);
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as ApplyOutput;
  };
  const steps = (output: ApplyOutput) => (output.queues ?? []).map((step) => `${step.action} ${step.queue}`);
  const config = (jobs: string, extra = '') =>
    `queues:\n  jobs: ${jobs}\n  jobs-dlq: {}\n${extra}functions:\n  worker:\n    handler: ./handlers.mjs#echo\ntriggers:\n  - { queue: jobs, function: worker, batchSize: 5 }\n`;

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-queues-'));
    copyFileSync(fixture, join(dir, 'handlers.mjs'));
    file = join(dir, 'sluice.config.yaml');
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates queues with their dead-letter queue, a function and its trigger in one apply; updates with the diff shown; keeps, then prunes', async () => {
    writeFileSync(file, config('{ visibilityTimeout: 60, deadLetter: { queue: jobs-dlq, maxReceiveCount: 3 }, tags: { team: a } }', '  extra: {}\n'));
    const created = await run();
    expect(steps(created)).toEqual(['create jobs', 'create jobs-dlq', 'create extra']);
    expect(created.queues?.[0]?.changes).toMatchObject({ VisibilityTimeout: { to: 60 }, RedrivePolicy: { to: { maxReceiveCount: 3 } }, tags: { to: { team: 'a' } } });
    expect(await node.sluice.queues.getAttributes('jobs', ['VisibilityTimeout', 'RedrivePolicy'])).toMatchObject({ VisibilityTimeout: '60', RedrivePolicy: expect.stringContaining('jobs-dlq') });
    expect(await node.sluice.queues.listTags('jobs')).toEqual({ team: 'a' });
    expect(node.sluice.triggers.list({ queue: 'jobs' })).toHaveLength(1);
    expect(steps(await run())).toEqual(['unchanged jobs', 'unchanged jobs-dlq', 'unchanged extra']);

    writeFileSync(file, config('{ visibilityTimeout: 90, deadLetter: { queue: jobs-dlq, maxReceiveCount: 3 }, tags: { team: b } }'));
    const planned = await sluice('apply', '--config', file, '--dry-run');
    expect(planned.stdout).toMatch(/update\s+queue jobs\s+VisibilityTimeout: 60 -> 90, tags: \{"team":"a"\} -> \{"team":"b"\}/);
    expect(planned.stdout).toMatch(/keep\s+queue extra/);
    expect((await node.sluice.queues.getAttributes('jobs', ['VisibilityTimeout'])).VisibilityTimeout).toBe('60');
    expect(steps(await run())).toEqual(['update jobs', 'unchanged jobs-dlq', 'keep extra']);
    expect((await node.sluice.queues.getAttributes('jobs', ['VisibilityTimeout'])).VisibilityTimeout).toBe('90');
    expect(await node.sluice.queues.listTags('jobs')).toEqual({ team: 'b' });

    await node.sluice.queues.send('extra', { body: 'left behind' });
    expect(steps(await run('--prune'))).toEqual(['unchanged jobs', 'unchanged jobs-dlq', 'delete extra']);
    expect(await node.sluice.queues.list()).toEqual(['jobs', 'jobs-dlq']);
    expect((await node.sluice.store.catalogList({ kind: 'applied-queue' })).map((entry) => entry.name)).toEqual(['jobs', 'jobs-dlq']);
  });

  it('refuses changes to an applied queue through the SQS API and the library, naming the file', async () => {
    const sqs = node.sqs();
    const { SetQueueAttributesCommand, DeleteQueueCommand } = await import('@aws-sdk/client-sqs');
    const queueUrl = `${node.url}/000000000000/jobs`;
    const refused = await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: '5' } })).catch((error: Error) => error);
    expect(String((refused as Error).message)).toContain(file);
    await expect(sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }))).rejects.toThrow(file);
    await expect(node.sluice.queues.tag('jobs', { x: 'y' })).rejects.toThrow(file);
    expect((await node.sluice.queues.getAttributes('jobs', ['VisibilityTimeout'])).VisibilityTimeout).toBe('90');
  });

  it('refuses a queue it did not create and a bad attribute, applying nothing of the file', async () => {
    await node.sluice.queues.create('manual');
    writeFileSync(file, config('{ visibilityTimeout: 90, deadLetter: { queue: jobs-dlq, maxReceiveCount: 3 }, tags: { team: b } }', '  manual: {}\n  fresh: {}\n'));
    const taken = await sluice('apply', '--config', file);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('queues.manual');
    expect(taken.stderr).toContain('was not created by sluice apply');
    expect(await node.sluice.queues.exists('fresh')).toBe(false);

    const bad = await node.native('/v1/apply', { body: { source: file, queues: { fresh: {}, 'jobs.fifo': { deadLetter: { queue: 'jobs-dlq', maxReceiveCount: 3 } } } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('queues.jobs.fifo.deadLetter');
    expect(await node.sluice.queues.exists('fresh')).toBe(false);
  });
});

describe.each(storeBackends)('sluice apply of tables (%s)', (_backend, openStore) => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  const run = async (...flags: string[]) => {
    const out = await sluice('--json', 'apply', '--config', file, ...flags);
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout) as { tables: Array<{ action: string; table: string; changes?: Record<string, { from?: unknown; to: unknown }> }> }).tables;
  };
  const steps = (tables: Awaited<ReturnType<typeof run>>) => tables.map((step) => `${step.action} ${step.table}`);
  const tasks = (extra: string) => `  tasks:\n    partitionKey: { name: pk, type: S }\n    indexes: { byOwner: { partitionKey: { name: owner, type: S } } }\n${extra}`;

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-tables-'));
    copyFileSync(fixture, join(dir, 'handlers.mjs'));
    file = join(dir, 'sluice.config.yaml');
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates tables with their indexes, changes a stream and TTL with the diff shown, keeps, prunes, and refuses a fixed part', async () => {
    writeFileSync(file, `tables:\n${tasks('    stream: NEW_IMAGE\n')}  scratch:\n    partitionKey: { name: id, type: S }\n`);
    const created = await run();
    expect(steps(created)).toEqual(['create tasks', 'create scratch']);
    expect(created[0]?.changes).toMatchObject({ partitionKey: { to: { name: 'pk', type: 'S' } }, stream: { to: 'NEW_IMAGE' }, indexes: { to: [expect.objectContaining({ name: 'byOwner' })] } });
    expect((await node.sluice.tables.describeTable('tasks')).stream?.viewType).toBe('NEW_IMAGE');
    await node.sluice.tables.putItem({ tableName: 'tasks', item: { pk: 't-1', owner: 'ann' } });
    expect((await node.sluice.tables.query({ tableName: 'tasks', indexName: 'byOwner', keyConditionExpression: '#o = :o', expressionAttributeNames: { '#o': 'owner' }, expressionAttributeValues: { ':o': 'ann' } })).items).toHaveLength(1);
    expect(steps(await run())).toEqual(['unchanged tasks', 'unchanged scratch']);

    writeFileSync(file, `tables:\n${tasks('    stream: NEW_AND_OLD_IMAGES\n    ttlAttribute: expiresAt\n')}`);
    const planned = await sluice('apply', '--config', file, '--dry-run');
    expect(planned.stdout).toMatch(/update\s+table tasks\s+stream: "NEW_IMAGE" -> "NEW_AND_OLD_IMAGES", ttlAttribute: null -> "expiresAt"/);
    expect(planned.stdout).toMatch(/keep\s+table scratch/);
    expect(steps(await run())).toEqual(['update tasks', 'keep scratch']);
    expect(await node.sluice.tables.describeTable('tasks')).toMatchObject({ stream: { viewType: 'NEW_AND_OLD_IMAGES' }, ttlAttribute: 'expiresAt' });
    expect(steps(await run('--prune'))).toEqual(['unchanged tasks', 'delete scratch']);
    expect(await node.sluice.tables.listTables()).toEqual(['tasks']);

    // Changed only through the file; its keys and its indexes' key schemas and projections not at all.
    await expect(node.sluice.tables.updateTable('tasks', { ttlAttribute: null })).rejects.toThrow(file);
    await expect(node.sluice.tables.deleteTable('tasks')).rejects.toThrow(file);
    const fresh = '  fresh:\n    partitionKey: { name: id, type: S }\n';
    writeFileSync(file, `tables:\n  tasks:\n    partitionKey: { name: pk, type: S }\n    indexes: { byOwner: { partitionKey: { name: owner, type: S }, projection: KEYS_ONLY } }\n${fresh}`);
    const refused = await sluice('apply', '--config', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("tables.tasks.indexes.byOwner: cannot change an existing index's key schema or projection");
    writeFileSync(file, `tables:\n  tasks:\n    partitionKey: { name: id, type: S }\n    indexes: { byOwner: { partitionKey: { name: owner, type: S } } }\n${fresh}`);
    const rekeyed = await sluice('apply', '--config', file);
    expect(rekeyed.code).toBe(1);
    expect(rekeyed.stderr).toContain('tables.tasks.partitionKey: cannot change on an existing table');
    expect(await node.sluice.tables.listTables()).toEqual(['tasks']);
  });

  it('adds a global index (CREATING, backfilled by the node, then ACTIVE), removes one, one creation at a time', async () => {
    const orders = (indexes: string) => `tables:\n  orders:\n    partitionKey: { name: id, type: S }\n${indexes ? `    indexes: { ${indexes} }\n` : ''}`;
    const byStatus = 'byStatus: { partitionKey: { name: status, type: S } }';
    const byCustomer = 'byCustomer: { partitionKey: { name: customer, type: S }, projection: KEYS_ONLY }';
    const byDay = 'byDay: { partitionKey: { name: day, type: S } }';
    const queryIndex = (indexName: string, attribute: string, value: string) =>
      node.sluice.tables.query({ tableName: 'orders', indexName, keyConditionExpression: '#a = :v', expressionAttributeNames: { '#a': attribute }, expressionAttributeValues: { ':v': value } });
    const active = async (indexName: string) => {
      for (let i = 0; i < 250; i++) {
        const index = (await node.sluice.tables.describeTable('orders')).indexes?.find((candidate) => candidate.name === indexName);
        if (index && !index.backfilling) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${indexName} never became ACTIVE`);
    };
    const shared = file;
    // A file of its own: the previous test's file still manages its tables.
    file = join(dir, 'orders.yaml');
    onTestFinished(() => {
      file = shared;
    });
    writeFileSync(file, orders(''));
    expect(steps(await run())).toEqual(['create orders']);
    for (let i = 0; i < 30; i++) await node.sluice.tables.putItem({ tableName: 'orders', item: { id: `o-${i}`, status: i % 3 === 0 ? 'open' : 'done', customer: `c-${i % 5}` } });

    writeFileSync(file, orders(byStatus));
    const planned = await sluice('apply', '--config', file, '--dry-run');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/update\s+table orders\s+\+ index byStatus/);
    expect((await node.sluice.tables.describeTable('orders')).indexes).toBeUndefined();
    const added = await run();
    expect(added).toEqual([{ action: 'update', table: 'orders', indexes: { add: ['byStatus'] } }]);
    // The store's lease row is free: this node's backfill watcher takes it and fills the index from the items.
    await active('byStatus');
    expect((await queryIndex('byStatus', 'status', 'open')).items).toHaveLength(10);
    await node.sluice.tables.putItem({ tableName: 'orders', item: { id: 'o-new', status: 'open', customer: 'c-9' } });
    expect((await queryIndex('byStatus', 'status', 'open')).items).toHaveLength(11);
    expect(steps(await run())).toEqual(['unchanged orders']);

    // Two creations at once: DynamoDB's limit, named; nothing applied.
    writeFileSync(file, orders(`${byStatus}, ${byCustomer}, ${byDay}`));
    const two = await sluice('apply', '--config', file);
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('tables.orders.indexes: Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table');
    expect((await node.sluice.tables.describeTable('orders')).indexes?.map((index) => index.name)).toEqual(['byStatus']);

    // One removed and one added in the same apply.
    writeFileSync(file, orders(byCustomer));
    const swapped = await sluice('apply', '--config', file, '--dry-run');
    expect(swapped.stdout).toMatch(/update\s+table orders\s+\+ index byCustomer, - index byStatus/);
    expect(await run()).toEqual([{ action: 'update', table: 'orders', indexes: { add: ['byCustomer'], remove: ['byStatus'] } }]);
    await active('byCustomer');
    expect((await queryIndex('byCustomer', 'customer', 'c-1')).items).toHaveLength(6);
    await expect(queryIndex('byStatus', 'status', 'open')).rejects.toThrow(/byStatus/);
    expect(await node.sluice.store.backfillList()).toEqual([]);
    const { id: ordersId } = (await node.sluice.store.tableGet({ name: 'orders' }))!;
    expect((await node.sluice.store.indexStats({ tableId: ordersId })).map((row) => row.index)).toEqual(['byCustomer']);

    writeFileSync(file, orders(''));
    expect(await run()).toEqual([{ action: 'update', table: 'orders', indexes: { remove: ['byCustomer'] } }]);
    expect((await node.sluice.tables.describeTable('orders')).indexes).toBeUndefined();
    // The removed indexes' entries went with them.
    const { id } = (await node.sluice.store.tableGet({ name: 'orders' }))!;
    expect(await node.sluice.store.indexStats({ tableId: id })).toEqual([]);
  });

  it('creates a table, a function from its handler and a stream trigger between them in one apply', async () => {
    writeFileSync(
      file,
      `tables:\n  events:\n    partitionKey: { name: pk, type: S }\n    stream: NEW_IMAGE\n` +
        `functions:\n  onEvent:\n    handler: ./handlers.mjs#echo\n` +
        `streamTriggers:\n  - { table: events, function: onEvent, batchSize: 10 }\n`,
    );
    const out = await sluice('--json', 'apply', '--config', file);
    expect(out.code, out.stderr).toBe(0);
    expect(node.sluice.functions.exists('onEvent')).toBe(true);
    expect(node.sluice.streamTriggers.list().map((view) => [view.eventSourceArn.split('/')[1], view.functionName])).toEqual([['events', 'onEvent']]);
  });
});

describe.each(storeBackends)('sluice apply --adopt (%s)', (_backend, openStore) => {
  let node: TestNode;
  let dir: string;
  let file: string;
  const sluice = (...args: string[]) => sluiceInProcess(node, ...args);
  interface AdoptOutput {
    queues: Array<{ action: string; queue: string }>;
    tables: Array<{ action: string; table: string }>;
    schedules: Array<{ action: string; schedule: string; changed?: boolean }>;
  }
  const run = async (...flags: string[]) => {
    const out = await sluice('--json', 'apply', '--config', file, ...flags);
    expect(out.code, out.stderr).toBe(0);
    const parsed = JSON.parse(out.stdout) as AdoptOutput;
    return [...parsed.queues.map((s) => `${s.action} queue ${s.queue}`), ...parsed.tables.map((s) => `${s.action} table ${s.table}`), ...parsed.schedules.map((s) => `${s.action} schedule ${s.schedule}`)];
  };
  const declared = {
    queues: 'queues:\n  legacy: { visibilityTimeout: 45 }\n',
    tables: 'tables:\n  ledger:\n    partitionKey: { name: pk, type: S }\n    stream: NEW_IMAGE\n',
    schedules: 'schedules:\n  tick: { expression: "rate(10 minutes)", target: { queue: legacy } }\n',
  };

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-adopt-'));
    file = join(dir, 'sluice.config.yaml');
    // What a node's config (sluice start) or a program made: no file manages these.
    await node.sluice.queues.create('legacy', { VisibilityTimeout: 30 }, { tags: { team: 'a' } });
    await node.sluice.tables.createTable({ name: 'ledger', partitionKey: { name: 'pk', type: 'S' } });
    await node.sluice.schedules.create({ name: 'tick', expression: 'rate(5 minutes)', target: { kind: 'queue', queue: 'legacy' } });
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses existing resources without --adopt, naming the option, and changes nothing', async () => {
    for (const [section, text] of Object.entries(declared)) {
      // A schedule's target queue must be in the file; schedules are planned before queues.
      writeFileSync(file, section === 'schedules' ? declared.queues + text : text);
      const refused = await sluice('apply', '--config', file);
      expect(refused.code, section).toBe(1);
      expect(refused.stderr).toContain(`${section}.`);
      expect(refused.stderr).toContain('sluice apply --adopt');
    }
    expect((await node.sluice.queues.getAttributes('legacy', ['VisibilityTimeout'])).VisibilityTimeout).toBe('30');
    expect((await node.sluice.tables.describeTable('ledger')).stream).toBeUndefined();
    expect((await node.sluice.schedules.get('tick')).expression).toBe('rate(5 minutes)');
  });

  it('plans "adopt" with the diff, then takes the queue, table and schedule over: updated to the file, changed only through it', async () => {
    writeFileSync(file, declared.queues + declared.tables + declared.schedules);
    const planned = await sluice('apply', '--config', file, '--adopt', '--dry-run');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/adopt\s+queue legacy\s+VisibilityTimeout: 30 -> 45/);
    expect(planned.stdout).toMatch(/adopt\s+table ledger\s+stream: null -> "NEW_IMAGE"/);
    expect(planned.stdout).toMatch(/adopt\s+schedule tick\s+updated to the file/);
    expect((await node.sluice.queues.getAttributes('legacy', ['VisibilityTimeout'])).VisibilityTimeout).toBe('30');
    expect(await node.sluice.store.catalogList({ kind: 'applied-queue' })).toEqual([]);

    expect(await run('--adopt')).toEqual(['adopt queue legacy', 'adopt table ledger', 'adopt schedule tick']);
    expect((await node.sluice.queues.getAttributes('legacy', ['VisibilityTimeout'])).VisibilityTimeout).toBe('45');
    // The file gives no tags: the queue keeps its own.
    expect(await node.sluice.queues.listTags('legacy')).toEqual({ team: 'a' });
    expect((await node.sluice.tables.describeTable('ledger')).stream?.viewType).toBe('NEW_IMAGE');
    expect((await node.sluice.schedules.get('tick')).expression).toBe('rate(10 minutes)');
    for (const kind of ['applied-queue', 'applied-table', 'applied-schedule']) {
      expect((await node.sluice.store.catalogList({ kind })).map((entry) => [entry.name, JSON.parse(entry.definition)]), kind).toHaveLength(1);
    }
    // Now the file's, as if it had created them: the APIs refuse changes naming it, and a plain apply finds nothing to do.
    await expect(node.sluice.queues.setAttributes('legacy', { VisibilityTimeout: 5 })).rejects.toThrow(file);
    await expect(node.sluice.tables.deleteTable('ledger')).rejects.toThrow(file);
    await expect(node.sluice.schedules.delete('tick')).rejects.toThrow(file);
    expect(await run()).toEqual(['unchanged queue legacy', 'unchanged table ledger', 'unchanged schedule tick']);
    // The same file given to a node at start (sluice start --config) applies cleanly: nothing to change, nothing refused.
    const { config, path } = await loadConfigFile(file);
    const changes = await applyConfig({ sluice: node.sluice, config, baseDir: dir, prune: false, source: path });
    expect(changes.map((change) => `${change.kind} ${change.name} ${change.action}`)).toEqual(['queue legacy unchanged', 'table ledger unchanged', 'schedule tick unchanged']);
    // A node config that differs from the file is refused at start, naming the file that manages the queue.
    const differing = { ...config, queues: { legacy: { visibilityTimeout: 50 } } };
    await expect(applyConfig({ sluice: node.sluice, config: differing, baseDir: dir, prune: false, source: join(dir, 'node.yaml') })).rejects.toThrow(file);
    expect((await node.sluice.queues.getAttributes('legacy', ['VisibilityTimeout'])).VisibilityTimeout).toBe('45');
  });

  it("does not adopt another file's resources nor a table whose keys differ", async () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, declared.queues);
    const taken = await sluice('apply', '--config', other, '--adopt');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`is managed by the config file ${file}`);

    await node.sluice.tables.createTable({ name: 'keyed', partitionKey: { name: 'id', type: 'S' } });
    writeFileSync(other, 'tables:\n  keyed:\n    partitionKey: { name: pk, type: S }\n');
    const keyed = await sluice('apply', '--config', other, '--adopt');
    expect(keyed.code).toBe(1);
    expect(keyed.stderr).toContain('tables.keyed.partitionKey');
    expect((await node.sluice.store.catalogList({ kind: 'applied-table' })).map((entry) => entry.name)).toEqual(['ledger']);
  });

  it('adopts a table whose global indexes differ from the file: the plan shows them, the apply adds and removes them', async () => {
    await node.sluice.tables.createTable({
      name: 'indexed',
      partitionKey: { name: 'id', type: 'S' },
      indexes: [{ name: 'byOld', kind: 'global', partitionKey: { name: 'old', type: 'S' }, sortKey: null, projection: { type: 'ALL' } }],
    });
    await node.sluice.tables.putItem({ tableName: 'indexed', item: { id: 'i-1', owner: 'ann', old: 'x' } });
    const own = join(dir, 'indexed.yaml');
    writeFileSync(own, 'tables:\n  indexed:\n    partitionKey: { name: id, type: S }\n    indexes: { byOwner: { partitionKey: { name: owner, type: S } } }\n');
    const planned = await sluice('apply', '--config', own, '--adopt', '--dry-run');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/adopt\s+table indexed\s+\+ index byOwner, - index byOld/);
    const adopted = await sluice('apply', '--config', own, '--adopt');
    expect(adopted.code, adopted.stderr).toBe(0);
    await expect
      .poll(async () => (await node.sluice.tables.describeTable('indexed')).indexes?.map((index) => `${index.name}${index.backfilling ? ' CREATING' : ''}`), { timeout: 5000, interval: 20 })
      .toEqual(['byOwner']);
    const found = await node.sluice.tables.query({ tableName: 'indexed', indexName: 'byOwner', keyConditionExpression: '#o = :o', expressionAttributeNames: { '#o': 'owner' }, expressionAttributeValues: { ':o': 'ann' } });
    expect(found.items).toHaveLength(1);
  });
});
