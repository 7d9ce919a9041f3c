/**
 * DynamoDB Streams with the unmodified @aws-sdk/client-dynamodb-streams against a node, on SQLite and
 * PostgreSQL: streams listed and described, iterators of every type, records in DynamoDB JSON with their
 * images, iterator expiry and trimmed records (on a manual clock), a stream trigger fed over the wire,
 * operations the node does not serve, and fuzzed bodies for every operation.
 */
import {
  CreateBackupCommand,
  CreateTableCommand,
  DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDynamoDbRequest } from '../src/api/aws/dynamodb/endpoint.js';
import { ManualClock } from '../src/model/clock.js';
import { startTestNode, TEST_ACCESS_KEY, type SdkError, type TestNode } from './support/in-process-node.js';
import { storeBackends, tableInput } from './support/dynamodb.js';

function clients(node: TestNode) {
  const options = { endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 };
  const ddb = new DynamoDBClient(options);
  return { ddb, doc: DynamoDBDocumentClient.from(ddb), streams: new DynamoDBStreamsClient(options) };
}

async function streamOf(
  ddb: DynamoDBClient,
  name: string,
  viewType: 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY' = 'NEW_AND_OLD_IMAGES',
): Promise<string> {
  const created = await ddb.send(
    new CreateTableCommand(
      tableInput(name, { StreamSpecification: { StreamEnabled: true, StreamViewType: viewType } }),
    ),
  );
  return created.TableDescription!.LatestStreamArn!;
}

/** Every record of every shard, from TRIM_HORIZON, with the shard it came from. */
async function readShards(
  streams: DynamoDBStreamsClient,
  streamArn: string,
): Promise<Array<{ shardId: string; record: _Record }>> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: Array<{ shardId: string; record: _Record }> = [];
  for (const shard of StreamDescription!.Shards!) {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: ShardIterator! }));
    records.push(...page.Records!.map((record) => ({ shardId: shard.ShardId!, record })));
  }
  return records;
}

async function readAll(streams: DynamoDBStreamsClient, streamArn: string): Promise<_Record[]> {
  return (await readShards(streams, streamArn)).map(({ record }) => record);
}

describe.each(storeBackends)('DynamoDB Streams with the AWS SDK on %s', (_backend, openStore) => {
  let node: TestNode;
  let c: ReturnType<typeof clients>;
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    c = clients(node);
  });
  afterAll(async () => {
    c.ddb.destroy();
    c.streams.destroy();
    await node.close();
  });

  it('lists and describes streams, and reads INSERT, MODIFY and REMOVE records with their images', async () => {
    const arn = await streamOf(c.ddb, 'orders');
    await c.ddb.send(new CreateTableCommand(tableInput('no-stream')));
    const listed = await c.streams.send(new ListStreamsCommand({}));
    expect(listed.Streams).toEqual([
      { StreamArn: arn, TableName: 'orders', StreamLabel: arn.split('/stream/')[1] },
    ]);
    const described = (await c.streams.send(new DescribeStreamCommand({ StreamArn: arn })))
      .StreamDescription!;
    expect(described).toMatchObject({
      StreamArn: arn,
      StreamStatus: 'ENABLED',
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      TableName: 'orders',
    });
    expect(described.Shards).toHaveLength(4);

    await c.doc.send(
      new PutCommand({
        TableName: 'orders',
        Item: { pk: 'o1', sk: 1, state: 'new', bytes: new Uint8Array([7]) },
      }),
    );
    await c.ddb.send(
      new UpdateItemCommand({
        TableName: 'orders',
        Key: { pk: { S: 'o1' }, sk: { N: '1' } },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':s': { S: 'paid' } },
      }),
    );
    await c.doc.send(new DeleteCommand({ TableName: 'orders', Key: { pk: 'o1', sk: 1 } }));
    const records = await readAll(c.streams, arn);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records as [_Record, _Record, _Record];
    expect(insert).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
      awsRegion: 'us-east-1',
    });
    expect(insert.dynamodb).toMatchObject({
      Keys: { pk: { S: 'o1' }, sk: { N: '1' } },
      NewImage: { pk: { S: 'o1' }, state: { S: 'new' }, bytes: { B: new Uint8Array([7]) } },
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(insert.dynamodb?.OldImage).toBeUndefined();
    expect(insert.dynamodb?.ApproximateCreationDateTime).toBeInstanceOf(Date);
    expect(modify.dynamodb).toMatchObject({
      OldImage: { state: { S: 'new' } },
      NewImage: { state: { S: 'paid' } },
    });
    expect(remove.dynamodb).toMatchObject({ OldImage: { state: { S: 'paid' } } });
    expect(remove.dynamodb?.NewImage).toBeUndefined();
    const seqs = records.map((r) => r.dynamodb!.SequenceNumber!);
    expect([...seqs].sort()).toEqual(seqs);
  });

  it('starts iterators at TRIM_HORIZON, LATEST, AT_ and AFTER_SEQUENCE_NUMBER, and continues with NextShardIterator', async () => {
    const arn = await streamOf(c.ddb, 'positions', 'KEYS_ONLY');
    const { StreamDescription } = await c.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    // Find the shard of partition key 'k' by writing once and looking.
    await c.doc.send(new PutCommand({ TableName: 'positions', Item: { pk: 'k', sk: 1 } }));
    let shardId = '';
    for (const shard of StreamDescription!.Shards!) {
      const it = await c.streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      if (
        (await c.streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }))).Records!.length >
        0
      )
        shardId = shard.ShardId!;
    }
    const iterator = async (
      type: 'TRIM_HORIZON' | 'LATEST' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER',
      seq?: string,
    ) =>
      (
        await c.streams.send(
          new GetShardIteratorCommand({
            StreamArn: arn,
            ShardId: shardId,
            ShardIteratorType: type,
            ...(seq ? { SequenceNumber: seq } : {}),
          }),
        )
      ).ShardIterator!;
    const latest = await iterator('LATEST');
    await c.doc.send(new PutCommand({ TableName: 'positions', Item: { pk: 'k', sk: 2 } }));
    await c.doc.send(new PutCommand({ TableName: 'positions', Item: { pk: 'k', sk: 3 } }));
    const sks = (records: _Record[] | undefined) =>
      (records ?? []).map((r) => Number(r.dynamodb!.Keys!.sk!.N));

    const fromLatest = await c.streams.send(new GetRecordsCommand({ ShardIterator: latest, Limit: 1 }));
    expect(sks(fromLatest.Records)).toEqual([2]);
    const next = await c.streams.send(
      new GetRecordsCommand({ ShardIterator: fromLatest.NextShardIterator! }),
    );
    expect(sks(next.Records)).toEqual([3]);
    const idle = await c.streams.send(new GetRecordsCommand({ ShardIterator: next.NextShardIterator! }));
    expect(idle.Records).toEqual([]);
    expect(idle.NextShardIterator).toBeDefined();

    const all = await c.streams.send(
      new GetRecordsCommand({ ShardIterator: await iterator('TRIM_HORIZON') }),
    );
    expect(sks(all.Records)).toEqual([1, 2, 3]);
    const second = all.Records![1]!.dynamodb!.SequenceNumber!;
    expect(
      sks(
        (
          await c.streams.send(
            new GetRecordsCommand({ ShardIterator: await iterator('AT_SEQUENCE_NUMBER', second) }),
          )
        ).Records,
      ),
    ).toEqual([2, 3]);
    expect(
      sks(
        (
          await c.streams.send(
            new GetRecordsCommand({ ShardIterator: await iterator('AFTER_SEQUENCE_NUMBER', second) }),
          )
        ).Records,
      ),
    ).toEqual([3]);
    const beyond = await iterator('AT_SEQUENCE_NUMBER', '9'.repeat(21)).catch((e: SdkError) => e);
    expect((beyond as SdkError).name).toBe('ValidationException');
    const noShard = await c.streams
      .send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: 'shardId-00000000000000000099',
          ShardIteratorType: 'LATEST',
        }),
      )
      .catch((e: SdkError) => e);
    expect((noShard as SdkError).name).toBe('ResourceNotFoundException');
    const garbage = await c.streams
      .send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' }))
      .catch((e: SdkError) => e);
    expect((garbage as SdkError).name).toBe('ValidationException');
  });

  it('returns at most 1 MB of records per GetRecords, and the rest after', async () => {
    const arn = await streamOf(c.ddb, 'large');
    for (let sk = 1; sk <= 4; sk++)
      await c.doc.send(
        new PutCommand({ TableName: 'large', Item: { pk: 'one-shard', sk, blob: 'x'.repeat(350_000) } }),
      );
    const [{ shardId }] = (await readShards(c.streams, arn)).filter(
      ({ record }) => record.dynamodb?.Keys?.sk?.N === '1',
    ) as [{ shardId: string }];
    const { ShardIterator } = await c.streams.send(
      new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const first = await c.streams.send(new GetRecordsCommand({ ShardIterator }));
    expect(first.Records).toHaveLength(2);
    const rest = await c.streams.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    expect(rest.Records?.map((r) => r.dynamodb?.Keys?.sk?.N)).toEqual(['3', '4']);
  });

  it('feeds a stream trigger from PutItem over the wire', async () => {
    await streamOf(c.ddb, 'tasks');
    const seen: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await node.sluice.functions.create({
      name: 'work',
      handler: async (event: DynamoDBStreamEvent) => {
        for (const record of event.Records)
          seen.push(`${record.eventName} ${record.dynamodb?.NewImage?.text?.S}`);
        if (seen.length === 3) done();
      },
    });
    await node.sluice.streamTriggers.create({
      stream: 'tasks',
      functionName: 'work',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
    });
    for (const text of ['a', 'b', 'c'])
      await c.doc.send(
        new PutCommand({ TableName: 'tasks', Item: { pk: 'same-key', sk: text.charCodeAt(0), text } }),
      );
    await finished;
    expect(seen).toEqual(['INSERT a', 'INSERT b', 'INSERT c']);
  });

  it('answers operations the node does not serve with UnknownOperationException', async () => {
    const error = (await c.ddb
      .send(new CreateBackupCommand({ TableName: 'orders', BackupName: 'b' }))
      .catch((e: unknown) => e)) as SdkError;
    expect(error.name).toBe('UnknownOperationException');
    expect(error.message).toMatch(/DynamoDB_20120810\.CreateBackup/);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });
});

describe('shard iterators on a manual clock', () => {
  let node: TestNode;
  let clock: ManualClock;
  let c: ReturnType<typeof clients>;
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    node = await startTestNode({ clock });
    c = clients(node);
  });
  afterAll(async () => {
    c.ddb.destroy();
    c.streams.destroy();
    await node.close();
  });

  it('expire after 15 minutes, and refuse records trimmed after 24 hours', async () => {
    const arn = await streamOf(c.ddb, 'aging');
    await c.doc.send(new PutCommand({ TableName: 'aging', Item: { pk: 'k', sk: 1 } }));
    const [{ shardId, record }] = (await readShards(c.streams, arn)) as [
      { shardId: string; record: _Record },
    ];
    const at = {
      StreamArn: arn,
      ShardId: shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const,
      SequenceNumber: record.dynamodb!.SequenceNumber!,
    };
    const iterator = (await c.streams.send(new GetShardIteratorCommand(at))).ShardIterator!;
    await clock.advance(15 * 60_000 + 1);
    const expired = await c.streams
      .send(new GetRecordsCommand({ ShardIterator: iterator }))
      .catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(ExpiredIteratorException);

    const fresh = (await c.streams.send(new GetShardIteratorCommand(at))).ShardIterator!;
    await clock.advance(24 * 3600_000);
    const trimmedRead = await c.streams
      .send(new GetRecordsCommand({ ShardIterator: fresh }))
      .catch((e: unknown) => e);
    // 24 hours later the iterator has expired as well; DynamoDB checks its age first.
    expect(trimmedRead).toBeInstanceOf(ExpiredIteratorException);
    const trimmed = await c.streams.send(new GetShardIteratorCommand(at)).catch((e: unknown) => e);
    expect(trimmed).toBeInstanceOf(TrimmedDataAccessException);
    const horizon = (
      await c.streams.send(
        new GetShardIteratorCommand({ ...at, ShardIteratorType: 'TRIM_HORIZON', SequenceNumber: undefined }),
      )
    ).ShardIterator!;
    expect((await c.streams.send(new GetRecordsCommand({ ShardIterator: horizon }))).Records).toEqual([]);
  });

  it('refuse, with TrimmedDataAccessException, a GetRecords whose unexpired iterator points at records trimmed since', async () => {
    const arn = await streamOf(c.ddb, 'trimming');
    await c.doc.send(new PutCommand({ TableName: 'trimming', Item: { pk: 'k', sk: 1 } }));
    const [{ shardId, record }] = (await readShards(c.streams, arn)) as [
      { shardId: string; record: _Record },
    ];
    // Five minutes before the record is 24 hours old, an iterator at it is valid.
    await clock.advance(24 * 3600_000 - 5 * 60_000);
    const iterator = (
      await c.streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: record.dynamodb!.SequenceNumber!,
        }),
      )
    ).ShardIterator!;
    // Ten minutes on, the iterator has not expired (15 minutes) but its record was trimmed.
    await clock.advance(10 * 60_000);
    const read = await c.streams.send(new GetRecordsCommand({ ShardIterator: iterator })).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(TrimmedDataAccessException);
  });
});

describe.each(storeBackends)('fuzzed DynamoDB and DynamoDB Streams bodies on %s', (_backend, openStore) => {
  let node: TestNode;
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    const c = clients(node);
    await streamOf(c.ddb, 'fuzz');
    await c.doc.send(new PutCommand({ TableName: 'fuzz', Item: { pk: 'seed', sk: 1 } }));
    c.ddb.destroy();
    c.streams.destroy();
  });
  afterAll(() => node.close());

  const dynamoDbTargets = [
    'CreateTable',
    'DescribeTable',
    'ListTables',
    'UpdateTable',
    'DeleteTable',
    'PutItem',
    'GetItem',
    'UpdateItem',
    'DeleteItem',
    'Query',
    'Scan',
    'BatchWriteItem',
    'BatchGetItem',
    'TransactWriteItems',
    'TransactGetItems',
    'UpdateTimeToLive',
    'DescribeTimeToLive',
    'TagResource',
    'UntagResource',
    'ListTagsOfResource',
    'Nope',
  ].map((op) => `DynamoDB_20120810.${op}`);
  const streamTargets = ['ListStreams', 'DescribeStream', 'GetShardIterator', 'GetRecords', 'Nope'].map(
    (op) => `DynamoDBStreams_20120810.${op}`,
  );
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(
        'fuzz',
        'seed',
        '',
        'x'.repeat(300),
        'pk',
        'sk',
        'S',
        'N',
        'HASH',
        'ALL_OLD',
        'COUNT',
        'TRIM_HORIZON',
        '1',
        'a = :v',
        'SET a = :v',
        '#n',
        ':v',
        null,
        true,
        0,
        -1,
        1.5,
        1e308,
      ),
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(
        fc.constantFrom('S', 'N', 'B', 'M', 'L', 'SS', 'pk', 'sk', ':v', '#n', 'Item', 'Key', 'TableName'),
        tie('value'),
        { maxKeys: 3 },
      ),
    ),
  })).value;
  const body = fc.dictionary(
    fc.constantFrom(
      'TableName',
      'Item',
      'Key',
      'KeySchema',
      'AttributeDefinitions',
      'ConditionExpression',
      'UpdateExpression',
      'KeyConditionExpression',
      'FilterExpression',
      'ProjectionExpression',
      'ExpressionAttributeNames',
      'ExpressionAttributeValues',
      'ReturnValues',
      'Limit',
      'ExclusiveStartKey',
      'Select',
      'Segment',
      'TotalSegments',
      'RequestItems',
      'TransactItems',
      'StreamArn',
      'ShardId',
      'ShardIteratorType',
      'SequenceNumber',
      'ShardIterator',
      'ResourceArn',
      'Tags',
      'TagKeys',
      'TimeToLiveSpecification',
      'StreamSpecification',
      'BillingMode',
    ),
    value,
    { maxKeys: 6 },
  );

  it('answers every generated body with a 4xx in DynamoDB shape (or a success), never a 5xx', async () => {
    const context = {
      tables: node.sluice.tables,
      streams: node.sluice.streams,
      arn: node.sluice.arn,
      clock: node.sluice.clock,
    };
    const statuses = new Map<string, number>();
    const snapshot = async () => {
      const tables = await node.sluice.tables.listTables();
      // A stream record is a write too: each shard's last sequence number moves with any record.
      const streamPositions = async (name: string) => {
        const described = await node.sluice.streams.describeStream(name).catch(() => undefined);
        if (!described) return null;
        return Promise.all(described.shards.map((s) => node.sluice.streams.shardPosition(name, s.shardId)));
      };
      const pages = await Promise.all(
        tables.map(async (name) => [
          await node.sluice.tables.describeTable(name),
          (await node.sluice.tables.scan({ tableName: name })).items,
          await streamPositions(name),
        ]),
      );
      return JSON.stringify(pages, (_key, value: unknown) =>
        value instanceof Set ? [...(value as Set<unknown>)] : value,
      );
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...dynamoDbTargets, ...streamTargets),
        fc.oneof(
          body.map((b) => JSON.stringify(b)),
          fc.string({ maxLength: 40 }),
        ),
        async (target, text) => {
          const before = await snapshot();
          const response = await handleDynamoDbRequest(context, target, Buffer.from(text));
          expect(response.status, `${target} ${text} → ${response.body}`).toBeLessThan(500);
          if (response.status < 400) return;
          statuses.set(
            JSON.parse(response.body).__type,
            (statuses.get(JSON.parse(response.body).__type) ?? 0) + 1,
          );
          expect(JSON.parse(response.body)).toMatchObject({
            __type: expect.stringMatching(/#\w+$/),
            message: expect.any(String),
          });
          // A refused request wrote nothing: no table, item, setting or stream record.
          expect(await snapshot()).toEqual(before);
        },
      ),
      { numRuns: 2000 },
    );
    // The generated bodies get past the envelope into the operations' own checks.
    expect([...statuses.keys()].join(' ')).toMatch(/ValidationException.*|SerializationException/);
    expect(statuses.size).toBeGreaterThanOrEqual(3);
  });
});
