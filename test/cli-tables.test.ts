/**
 * Tables from outside a node without the AWS SDK: the native API's /v1/tables routes, the `sluice tables`
 * commands over them (as tables and with --json), and the AWS CLI's `aws dynamodb` / `aws
 * dynamodbstreams` against the DynamoDB endpoint on SQLite and PostgreSQL (when this machine has the AWS CLI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAwsCli, runAws } from './support/aws-cli.js';
import { storeBackends } from './support/dynamodb.js';
import { sluiceInProcess } from './support/cli-in-process.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.tables.createTable({
    name: 'tasks',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'N' },
    stream: { viewType: 'NEW_IMAGE' },
  });
});
afterAll(() => node.close());

const sluice = (...args: string[]) => sluiceInProcess(node, ...args);

describe('the native tables API', () => {
  it('puts, gets, queries and scans items, binary values and sets as tags', async () => {
    const put = await node.native('/v1/tables/tasks/items', {
      body: { item: { pk: 'a', sk: 1, tags: { $SS: ['x', 'y'] }, raw: { $B: 'AQI=' } } },
    });
    expect(put.status).toBe(200);
    const got = await node.native('/v1/tables/tasks/get', { body: { key: { pk: 'a', sk: 1 } } });
    expect(got.body.item).toEqual({ pk: 'a', sk: 1, tags: { $SS: ['x', 'y'] }, raw: { $B: 'AQI=' } });
    const refused = await node.native('/v1/tables/tasks/items', {
      body: { item: { pk: 'a', sk: 1 }, conditionExpression: 'attribute_not_exists(pk)' },
    });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { code: 'ConditionalCheckFailedException' } },
    });
    const query = await node.native('/v1/tables/tasks/query', {
      body: { keyConditionExpression: 'pk = :p', expressionAttributeValues: { ':p': 'a' } },
    });
    expect(query.body).toMatchObject({ count: 1, scannedCount: 1, items: [{ pk: 'a' }] });
    await node.native('/v1/tables/tasks/items', { body: { item: { pk: 'b', sk: 1 } } });
    expect((await node.native('/v1/tables/tasks/scan', { body: { limit: 1 } })).body).toMatchObject({
      count: 1,
      lastEvaluatedKey: { pk: 'a', sk: 1 },
    });
    expect(
      (await node.native('/v1/tables')).body.tables.map((t: { tableName: string }) => t.tableName),
    ).toEqual(['tasks']);
    expect(await node.native('/v1/tables/missing')).toMatchObject({
      status: 404,
      body: { error: { code: 'ResourceNotFoundException' } },
    });
    expect(
      await node.native('/v1/tables/tasks/get', { body: { key: { pk: 'a', sk: 1 }, bogus: 1 } }),
    ).toMatchObject({ status: 400 });
  });
});

describe('sluice tables', () => {
  it('lists, describes, puts, gets, queries and scans, as tables and as JSON', async () => {
    const listed = await sluice('tables', 'list');
    expect(listed.stdout).toMatch(/NAME\s+PARTITION KEY\s+SORT KEY\s+STREAM/);
    expect(listed.stdout).toMatch(/tasks\s+pk \(S\)\s+sk \(N\)\s+NEW_IMAGE/);
    expect((await sluice('tables', 'describe', 'tasks', '--json')).stdout).toContain(
      '"tableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/tasks"',
    );
    for (const sk of [1, 2, 3])
      expect(
        (
          await sluice(
            'tables',
            'put',
            'tasks',
            JSON.stringify({ pk: 'cli', sk, state: sk === 2 ? 'done' : 'open' }),
          )
        ).code,
      ).toBe(0);
    const conflict = await sluice(
      'tables',
      'put',
      'tasks',
      '{"pk": "cli", "sk": 1}',
      '--condition',
      'attribute_not_exists(pk)',
    );
    expect(conflict).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('ConditionalCheckFailedException'),
    });
    expect((await sluice('tables', 'get', 'tasks', '{"pk": "cli", "sk": 2}')).stdout).toMatch(/state\s+done/);
    expect((await sluice('tables', 'get', 'tasks', '{"pk": "cli", "sk": 9}')).code).toBe(1);
    const query = await sluice(
      'tables',
      'query',
      'tasks',
      'pk = :p',
      '--values',
      '{":p": "cli", ":s": "open"}',
      '--filter',
      '#s = :s',
      '--names',
      '{"#s": "state"}',
      '--desc',
      '--json',
    );
    expect(
      (JSON.parse(query.stdout) as { items: Array<{ sk: number }> }).items.map((item) => item.sk),
    ).toEqual([3, 1]);
    const page = await sluice('tables', 'scan', 'tasks', '--limit', '2');
    expect(page.stdout).toMatch(/^PK\s+SK/m);
    expect(page.stdout).toContain("more: --start '");
  });
});

// The AWS CLI against a node of its own on each store (the proof asks for SQLite and PostgreSQL).
describe.runIf(hasAwsCli).each(storeBackends)('the AWS CLI on %s', (_backend, openStore) => {
  let cliNode: TestNode;
  beforeAll(async () => {
    const store = await openStore();
    cliNode = await startTestNode(store ? { store } : {});
  });
  afterAll(() => cliNode.close());
  const aws = (service: string, ...args: string[]) =>
    runAws({ url: cliNode.url, credentials: TEST_ACCESS_KEY }, service, ...args);

  it('creates a table, writes and reads items, and reads the stream', { timeout: 60_000 }, async () => {
    const created = await aws(
      'dynamodb',
      'create-table',
      '--table-name',
      'cli-table',
      '--attribute-definitions',
      'AttributeName=pk,AttributeType=S',
      '--key-schema',
      'AttributeName=pk,KeyType=HASH',
      '--billing-mode',
      'PAY_PER_REQUEST',
      '--stream-specification',
      'StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES',
    );
    expect(created.code, created.stderr).toBe(0);
    const arn = (JSON.parse(created.stdout) as { TableDescription: { LatestStreamArn: string } })
      .TableDescription.LatestStreamArn;
    expect(
      (
        await aws(
          'dynamodb',
          'put-item',
          '--table-name',
          'cli-table',
          '--item',
          '{"pk": {"S": "k"}, "n": {"N": "42"}}',
        )
      ).code,
    ).toBe(0);
    const got = await aws('dynamodb', 'get-item', '--table-name', 'cli-table', '--key', '{"pk": {"S": "k"}}');
    expect(JSON.parse(got.stdout)).toEqual({ Item: { pk: { S: 'k' }, n: { N: '42' } } });
    const failed = await aws(
      'dynamodb',
      'put-item',
      '--table-name',
      'cli-table',
      '--item',
      '{"pk": {"S": "k"}}',
      '--condition-expression',
      'attribute_not_exists(pk)',
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('ConditionalCheckFailedException');
    const scanned = await aws('dynamodb', 'scan', '--table-name', 'cli-table', '--select', 'COUNT');
    expect(JSON.parse(scanned.stdout)).toMatchObject({ Count: 1, ScannedCount: 1 });
    const described = await aws('dynamodbstreams', 'describe-stream', '--stream-arn', arn);
    expect(described.code, described.stderr).toBe(0);
    const shards = (
      JSON.parse(described.stdout) as { StreamDescription: { Shards: Array<{ ShardId: string }> } }
    ).StreamDescription.Shards;
    const events: string[] = [];
    for (const { ShardId } of shards) {
      const iterator = JSON.parse(
        (
          await aws(
            'dynamodbstreams',
            'get-shard-iterator',
            '--stream-arn',
            arn,
            '--shard-id',
            ShardId,
            '--shard-iterator-type',
            'TRIM_HORIZON',
          )
        ).stdout,
      ) as { ShardIterator: string };
      const records = JSON.parse(
        (await aws('dynamodbstreams', 'get-records', '--shard-iterator', iterator.ShardIterator)).stdout,
      ) as { Records: Array<{ eventName: string }> };
      events.push(...records.Records.map((r) => r.eventName));
    }
    expect(events).toEqual(['INSERT']);
    const unknown = await aws('dynamodb', 'list-backups');
    expect(unknown.stderr).toContain('UnknownOperationException');
  });
});
