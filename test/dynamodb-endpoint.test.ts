/**
 * The DynamoDB endpoint with the unmodified AWS SDK (@aws-sdk/client-dynamodb and the DocumentClient of
 * @aws-sdk/lib-dynamodb) against a node, on SQLite and on PostgreSQL: tables, items with conditions and
 * ReturnValues, queries and scans with paging, batches, transactions, TTL, tags, and DynamoDB's
 * validation errors.
 */
import type {
  DynamoDBClient} from '@aws-sdk/client-dynamodb';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  BatchWriteItemCommand,
  QueryCommand as RawQueryCommand,
  UpdateItemCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  TransactionCanceledException,
  UntagResourceCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { storeBackends, tableInput, useDynamoDbNode } from './support/dynamodb.js';
import { sdkFailure as failure } from './support/sdk-failure.js';
import { signedFetch } from './support/signed-fetch.js';

describe.each(storeBackends)('the DynamoDB endpoint with the AWS SDK on %s', (_backend, openStore) => {
  const sdk = useDynamoDbNode(openStore);
  let ddb: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  beforeAll(() => ({ ddb, doc } = sdk));

  it('creates, describes, lists, updates and deletes tables', async () => {
    const created = await ddb.send(
      new CreateTableCommand(
        tableInput('life-cycle', {
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
        }),
      ),
    );
    expect(created.TableDescription).toMatchObject({
      TableName: 'life-cycle',
      TableStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
      BillingModeSummary: { BillingMode: 'PROVISIONED' },
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      TableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/life-cycle',
    });
    expect(created.TableDescription?.LatestStreamArn).toMatch(/table\/life-cycle\/stream\//);
    expect(created.TableDescription?.CreationDateTime).toBeInstanceOf(Date);
    const again = await failure(ddb.send(new CreateTableCommand(tableInput('life-cycle'))));
    expect(again).toBeInstanceOf(ResourceInUseException);
    expect(again.$metadata.httpStatusCode).toBe(400);

    const off = await ddb.send(
      new UpdateTableCommand({ TableName: 'life-cycle', StreamSpecification: { StreamEnabled: false } }),
    );
    expect(off.TableDescription?.StreamSpecification).toBeUndefined();
    const on = await ddb.send(
      new UpdateTableCommand({
        TableName: 'life-cycle',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect(on.TableDescription).toMatchObject({
      StreamSpecification: { StreamViewType: 'KEYS_ONLY' },
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });

    const first = await ddb.send(new ListTablesCommand({ Limit: 1 }));
    expect(first.TableNames).toEqual(['items']);
    expect(first.LastEvaluatedTableName).toBe('items');
    const second = await ddb.send(
      new ListTablesCommand({ ExclusiveStartTableName: first.LastEvaluatedTableName }),
    );
    expect(second.TableNames).toEqual(['life-cycle']);
    expect(second.LastEvaluatedTableName).toBeUndefined();

    const deleted = await ddb.send(new DeleteTableCommand({ TableName: 'life-cycle' }));
    expect(deleted.TableDescription?.TableStatus).toBe('DELETING');
    const gone = await failure(ddb.send(new DescribeTableCommand({ TableName: 'life-cycle' })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
    expect(gone.message).toBe('Requested resource not found: Table: life-cycle not found');
  });

  it('refuses a key schema that does not match its attribute definitions', async () => {
    const missing = await failure(
      ddb.send(
        new CreateTableCommand({
          ...tableInput('bad-schema'),
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        }),
      ),
    );
    expect(missing.name).toBe('ValidationException');
    expect(missing.message).toMatch(/Some index key attributes are not defined in AttributeDefinitions/);
    const extra = await failure(
      ddb.send(
        new CreateTableCommand({
          ...tableInput('bad-schema'),
          AttributeDefinitions: [
            ...tableInput('x').AttributeDefinitions!,
            { AttributeName: 'unused', AttributeType: 'S' },
          ],
        }),
      ),
    );
    expect(extra.message).toMatch(
      /Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions/,
    );
    const provisioned = await failure(
      ddb.send(new CreateTableCommand({ ...tableInput('bad-schema'), BillingMode: 'PROVISIONED' })),
    );
    expect(provisioned.message).toMatch(/ReadCapacityUnits and WriteCapacityUnits must both be specified/);
  });

  it('puts, gets, updates and deletes items with conditions and ReturnValues (DocumentClient)', async () => {
    await doc.send(
      new PutCommand({
        TableName: 'items',
        Item: { pk: 'p1', sk: 1, tags: new Set(['a', 'b']), n: 1.5, nested: { list: [1, 'x', null, true] } },
      }),
    );
    const got = await doc.send(
      new GetCommand({ TableName: 'items', Key: { pk: 'p1', sk: 1 }, ConsistentRead: true }),
    );
    expect(got.Item).toEqual({
      pk: 'p1',
      sk: 1,
      tags: new Set(['a', 'b']),
      n: 1.5,
      nested: { list: [1, 'x', null, true] },
    });
    const projected = await doc.send(
      new GetCommand({
        TableName: 'items',
        Key: { pk: 'p1', sk: 1 },
        ProjectionExpression: '#n, nested.#l[1]',
        ExpressionAttributeNames: { '#n': 'n', '#l': 'list' },
      }),
    );
    expect(projected.Item).toEqual({ n: 1.5, nested: { list: ['x'] } });

    const updated = await doc.send(
      new UpdateCommand({
        TableName: 'items',
        Key: { pk: 'p1', sk: 1 },
        UpdateExpression: 'SET n = n + :one, fresh = :v REMOVE nested ADD tags :t',
        ConditionExpression: 'attribute_exists(pk) AND n < :limit',
        ExpressionAttributeValues: { ':one': 1, ':v': 'new', ':t': new Set(['c']), ':limit': 10 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(updated.Attributes).toEqual({
      pk: 'p1',
      sk: 1,
      n: 2.5,
      fresh: 'new',
      tags: new Set(['a', 'b', 'c']),
    });

    const refused = await failure(
      doc.send(
        new PutCommand({
          TableName: 'items',
          Item: { pk: 'p1', sk: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect(refused.message).toBe('The conditional request failed');
    expect((refused as unknown as ConditionalCheckFailedException).Item).toMatchObject({
      pk: { S: 'p1' },
      fresh: { S: 'new' },
    });

    // Without an UpdateExpression, UpdateItem creates a missing item from its key and leaves an existing one.
    const keyOnly = await doc.send(
      new UpdateCommand({ TableName: 'items', Key: { pk: 'p2', sk: 1 }, ReturnValues: 'ALL_NEW' }),
    );
    expect(keyOnly.Attributes).toEqual({ pk: 'p2', sk: 1 });
    await doc.send(new DeleteCommand({ TableName: 'items', Key: { pk: 'p2', sk: 1 } }));

    const old = await doc.send(
      new PutCommand({ TableName: 'items', Item: { pk: 'p1', sk: 1, v: 2 }, ReturnValues: 'ALL_OLD' }),
    );
    expect(old.Attributes).toMatchObject({ fresh: 'new' });
    const removed = await doc.send(
      new DeleteCommand({ TableName: 'items', Key: { pk: 'p1', sk: 1 }, ReturnValues: 'ALL_OLD' }),
    );
    expect(removed.Attributes).toEqual({ pk: 'p1', sk: 1, v: 2 });
    expect(
      (await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'p1', sk: 1 } }))).Item,
    ).toBeUndefined();
  });

  it('returns the old item of a failed UpdateItem or DeleteItem condition when asked, and UPDATED_OLD / UPDATED_NEW', async () => {
    await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'rv', sk: 1, n: 1, keep: 'k' } }));
    const update = (ReturnValues: 'UPDATED_OLD' | 'UPDATED_NEW') =>
      doc.send(
        new UpdateCommand({
          TableName: 'items',
          Key: { pk: 'rv', sk: 1 },
          UpdateExpression: 'SET n = n + :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues,
        }),
      );
    expect((await update('UPDATED_OLD')).Attributes).toEqual({ n: 1 });
    expect((await update('UPDATED_NEW')).Attributes).toEqual({ n: 3 });

    const condition = { ConditionExpression: 'n = :zero', ExpressionAttributeValues: { ':zero': 0 } };
    const updateRefused = await failure(
      doc.send(
        new UpdateCommand({
          TableName: 'items',
          Key: { pk: 'rv', sk: 1 },
          UpdateExpression: 'SET keep = :zero',
          ...condition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(updateRefused).toBeInstanceOf(ConditionalCheckFailedException);
    expect((updateRefused as unknown as ConditionalCheckFailedException).Item).toEqual({
      pk: { S: 'rv' },
      sk: { N: '1' },
      n: { N: '3' },
      keep: { S: 'k' },
    });
    const deleteRefused = await failure(
      doc.send(
        new DeleteCommand({
          TableName: 'items',
          Key: { pk: 'rv', sk: 1 },
          ...condition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(deleteRefused).toBeInstanceOf(ConditionalCheckFailedException);
    expect((deleteRefused as unknown as ConditionalCheckFailedException).Item).toMatchObject({ n: { N: '3' } });
    // Not asked (NONE, the default): no item with the failure.
    const silent = await failure(
      doc.send(new DeleteCommand({ TableName: 'items', Key: { pk: 'rv', sk: 1 }, ...condition })),
    );
    expect(silent).toBeInstanceOf(ConditionalCheckFailedException);
    expect((silent as unknown as ConditionalCheckFailedException).Item).toBeUndefined();
    // Neither refusal changed the item.
    expect((await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'rv', sk: 1 } }))).Item).toEqual({
      pk: 'rv',
      sk: 1,
      n: 3,
      keep: 'k',
    });
    await doc.send(new DeleteCommand({ TableName: 'items', Key: { pk: 'rv', sk: 1 } }));
  });

  it('queries a partition in both directions, pages with Limit and LastEvaluatedKey, filters and counts', async () => {
    for (let sk = 1; sk <= 7; sk++)
      await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'q', sk, even: sk % 2 === 0 } }));
    await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'other', sk: 1 } }));
    const base = {
      TableName: 'items',
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':p': 'q', ':lo': 2, ':hi': 6 },
    };
    const forward = await doc.send(new QueryCommand(base));
    expect(forward.Items?.map((item) => item.sk)).toEqual([2, 3, 4, 5, 6]);
    const backward = await doc.send(new QueryCommand({ ...base, ScanIndexForward: false }));
    expect(backward.Items?.map((item) => item.sk)).toEqual([6, 5, 4, 3, 2]);

    const seen: number[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await doc.send(
        new QueryCommand({ ...base, Limit: 2, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      seen.push(...(page.Items ?? []).map((item) => item.sk as number));
      start = page.LastEvaluatedKey;
      pages++;
    } while (start);
    expect(seen).toEqual([2, 3, 4, 5, 6]);
    expect(pages).toBe(3);

    const filtered = await doc.send(
      new QueryCommand({
        ...base,
        FilterExpression: 'even = :t',
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':t': true },
      }),
    );
    expect(filtered).toMatchObject({ Count: 3, ScannedCount: 5 });
    const counted = await doc.send(new QueryCommand({ ...base, Select: 'COUNT' }));
    expect(counted.Items).toBeUndefined();
    expect(counted.Count).toBe(5);
  });

  it('scans in parallel segments that together hold every item once', async () => {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          items: Array.from({ length: 20 }, (_, i) => ({ PutRequest: { Item: { pk: `s-${i}`, sk: 0 } } })),
        },
      }),
    );
    const all = await doc.send(new ScanCommand({ TableName: 'items' }));
    const keys: string[] = [];
    for (let segment = 0; segment < 3; segment++) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: 'items',
            Segment: segment,
            TotalSegments: 3,
            Limit: 4,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        keys.push(...(page.Items ?? []).map((item) => `${item.pk as string}|${item.sk as number}`));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    expect(keys.sort()).toEqual(
      (all.Items ?? []).map((item) => `${item.pk as string}|${item.sk as number}`).sort(),
    );
    const bad = await failure(
      doc.send(new ScanCommand({ TableName: 'items', Segment: 3, TotalSegments: 3 })),
    );
    expect(bad.message).toMatch(
      /Segment parameter is zero-based and must be less than parameter TotalSegments/,
    );
  });

  it('writes and reads in batches', async () => {
    const written = await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          items: [
            { PutRequest: { Item: { pk: 'b', sk: 1, v: 'one' } } },
            { PutRequest: { Item: { pk: 'b', sk: 2, v: 'two' } } },
          ],
        },
      }),
    );
    // Every write is made: nothing is left for the caller to retry.
    expect(written.UnprocessedItems).toEqual({});
    const read = await doc.send(
      new BatchGetCommand({
        RequestItems: {
          items: {
            Keys: [
              { pk: 'b', sk: 1 },
              { pk: 'b', sk: 2 },
              { pk: 'b', sk: 3 },
            ],
            ProjectionExpression: 'v',
          },
        },
      }),
    );
    expect(read.Responses?.items?.map((item) => item.v).sort()).toEqual(['one', 'two']);
    expect(read.UnprocessedKeys).toEqual({});
    await doc.send(
      new BatchWriteCommand({ RequestItems: { items: [{ DeleteRequest: { Key: { pk: 'b', sk: 1 } } }] } }),
    );
    expect(
      (await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'b', sk: 1 } }))).Item,
    ).toBeUndefined();
    const duplicate = await failure(
      doc.send(
        new BatchGetCommand({
          RequestItems: {
            items: {
              Keys: [
                { pk: 'b', sk: 2 },
                { pk: 'b', sk: 2 },
              ],
            },
          },
        }),
      ),
    );
    expect(duplicate.message).toBe('Provided list of item keys contains duplicates');
  });

  it('writes transactions all or nothing, with a cancellation reason per action', async () => {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: 'items', Item: { pk: 't', sk: 1, balance: 10 } } },
          { Put: { TableName: 'items', Item: { pk: 't', sk: 2, balance: 0 } } },
        ],
      }),
    );
    const check = {
      ConditionCheck: {
        TableName: 'items',
        Key: { pk: 't', sk: 1 },
        ConditionExpression: 'balance >= :x',
        ExpressionAttributeValues: { ':x': 20 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
    const update = (sk: number) => ({
      Update: {
        TableName: 'items',
        Key: { pk: 't', sk },
        UpdateExpression: 'SET balance = balance + :x',
        ExpressionAttributeValues: { ':x': 20 },
      },
    });
    // Two actions on one item are refused before anything is decided.
    const sameItem = await failure(doc.send(new TransactWriteCommand({ TransactItems: [update(1), check] })));
    expect(sameItem.message).toBe('Transaction request cannot include multiple operations on one item');
    const refused = await failure(doc.send(new TransactWriteCommand({ TransactItems: [update(2), check] })));
    expect(refused).toBeInstanceOf(TransactionCanceledException);
    const reasons = (refused as unknown as TransactionCanceledException).CancellationReasons;
    expect(reasons?.[0]).toEqual({ Code: 'None' });
    expect(reasons?.[1]).toMatchObject({ Code: 'ConditionalCheckFailed', Item: { balance: { N: '10' } } });
    // A repeat with the same ClientRequestToken succeeds without applying again; other actions are refused.
    const add = { TransactItems: [update(2)], ClientRequestToken: 'transfer-0001' };
    await doc.send(new TransactWriteCommand(add));
    await doc.send(new TransactWriteCommand(add));
    const mismatch = await failure(
      doc.send(new TransactWriteCommand({ ...add, TransactItems: [update(1)] })),
    );
    expect(mismatch.name).toBe('IdempotentParameterMismatchException');
    expect(
      (await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 't', sk: 2 } }))).Item?.balance,
    ).toBe(20);
    // Sent twice at once: a repeat that arrives while the first is applied gets
    // TransactionInProgressException (on PostgreSQL, where the first waits on the database); one that
    // arrives after it committed succeeds without applying (SQLite applies a call within one event).
    const busy = { TransactItems: [update(2)], ClientRequestToken: 'transfer-0002' };
    const both = await Promise.allSettled([doc.send(new TransactWriteCommand(busy)), doc.send(new TransactWriteCommand(busy))]);
    const names = both.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as Error).name)).sort();
    expect(names[1]).toBe('ok');
    expect(['TransactionInProgressException', 'ok']).toContain(names[0]);
    await doc.send(new TransactWriteCommand(busy));
    expect(
      (await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 't', sk: 2 } }))).Item?.balance,
    ).toBe(40);
    await doc.send(
      new UpdateCommand({
        TableName: 'items',
        Key: { pk: 't', sk: 2 },
        UpdateExpression: 'SET balance = :z',
        ExpressionAttributeValues: { ':z': 0 },
      }),
    );

    const read = await doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: 'items', Key: { pk: 't', sk: 1 } } },
          { Get: { TableName: 'items', Key: { pk: 't', sk: 2 } } },
        ],
      }),
    );
    expect(read.Responses?.map((r) => r.Item?.balance)).toEqual([10, 0]);
  });

  it('keeps TTL settings and tags', async () => {
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'items' }))).TimeToLiveDescription,
    ).toEqual({ TimeToLiveStatus: 'DISABLED' });
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
      }),
    );
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'items' }))).TimeToLiveDescription,
    ).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    const twice = await failure(
      ddb.send(
        new UpdateTimeToLiveCommand({
          TableName: 'items',
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
        }),
      ),
    );
    expect(twice.message).toBe('TimeToLive is already enabled');
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { Enabled: false, AttributeName: 'expiresAt' },
      }),
    );

    const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/items';
    await ddb.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [
          { Key: 'team', Value: 'core' },
          { Key: 'env', Value: 'test' },
        ],
      }),
    );
    await ddb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['env'] }));
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([
      { Key: 'team', Value: 'core' },
    ]);
    // A tag key that is not a string of 1 to 128 characters is refused, not skipped: the call removes
    // nothing and says why.
    const untag = (TagKeys: unknown[]) =>
      signedFetch({
        url: sdk.node.url,
        service: 'dynamodb',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.UntagResource' },
        body: JSON.stringify({ ResourceArn: arn, TagKeys }),
      });
    const notString = await untag(['team', 7]);
    expect(notString.status).toBe(400);
    expect(JSON.parse(notString.text)).toMatchObject({ __type: expect.stringMatching(/#SerializationException$/) });
    const empty = await untag(['team', '']);
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text)).toMatchObject({
      __type: expect.stringMatching(/#ValidationException$/),
      message: expect.stringMatching(/Member must have length greater than or equal to 1/),
    });
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([
      { Key: 'team', Value: 'core' },
    ]);
  });

  it('keeps numbers exact to 38 digits: stored, returned, ordered in keys, compared and added as decimals', async () => {
    const wide = '1234567890123456789012345678901234567.8'; // 38 digits: no double holds it
    const n = (N: string) => ({ N });
    const put = (sk: string, extra: Record<string, unknown> = {}) =>
      ddb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'exact' }, sk: n(sk), ...extra } as never }));
    await put('1', { v: n(wide), set: { NS: [wide, '0.1', '12345678901234567890'] } });
    const got = await ddb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'exact' }, sk: n('1') } }));
    expect(got.Item?.v).toEqual(n(wide));
    expect([...(got.Item?.set?.NS ?? [])].sort()).toEqual(['0.1', '12345678901234567890', wide].sort());
    // Sort keys that one double cannot tell apart, and doubles around them, come back in decimal order.
    const keys = [
      '9007199254740993', // 2^53 + 1
      '9007199254740992',
      '9007199254740994',
      '9007199254740992.5',
      '-9007199254740993',
      '-9007199254740992.5',
      '0.30000000000000000000000000000000000001',
      '0.3',
      '0.29999999999999999999999999999999999999',
    ];
    for (const key of keys) await put(key);
    const ordered = await ddb.send(
      new RawQueryCommand({
        TableName: 'items',
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':p': { S: 'exact' }, ':lo': n('-1e20'), ':hi': n('9007199254740993') },
      } as never),
    );
    expect(ordered.Items?.map((item) => item.sk?.N)).toEqual([
      '-9007199254740993',
      '-9007199254740992.5',
      '0.29999999999999999999999999999999999999',
      '0.3',
      '0.30000000000000000000000000000000000001',
      '1',
      '9007199254740992',
      '9007199254740992.5',
      '9007199254740993',
    ]);
    // ADD and SET arithmetic are decimal: 0.1 + 0.2 is 0.3; a 38-digit counter counts by one.
    const update = (expression: string, values: Record<string, unknown>) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: { pk: { S: 'exact' }, sk: n('1') },
          UpdateExpression: expression,
          ExpressionAttributeValues: values as never,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    expect((await update('ADD f :a', { ':a': n('0.1') })).Attributes?.f).toEqual(n('0.1'));
    expect((await update('ADD f :a', { ':a': n('0.2') })).Attributes?.f).toEqual(n('0.3'));
    expect((await update('SET c = :c', { ':c': n('99999999999999999999999999999999999998') })).Attributes?.c).toBeDefined();
    expect((await update('ADD c :one', { ':one': n('1') })).Attributes?.c).toEqual(n('99999999999999999999999999999999999999'));
    expect((await update('SET d = c - :x', { ':x': n('0.5') }).catch((e: Error) => e)) as Error).toHaveProperty(
      'message',
      'Attempting to store more than 38 significant digits in a Number',
    );
    // Conditions compare decimals: the stored wide value is above its nearest double.
    const condition = (expression: string, value: string) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: { pk: { S: 'exact' }, sk: n('1') },
          UpdateExpression: 'SET seen = :t',
          ConditionExpression: expression,
          ExpressionAttributeValues: { ':t': { BOOL: true }, ':v': n(value) } as never,
        }),
      );
    await condition('v > :v', '1234567890123456789012345678901234567.7');
    await expect(condition('v > :v', wide)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await condition('v = :v', '1234567890123456789012345678901234567.80');
    await expect(condition('v = :v', '1234567890123456789012345678901234568')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: { items: [...keys, '1'].map((sk) => ({ DeleteRequest: { Key: { pk: { S: 'exact' }, sk: n(sk) } } })) },
      }),
    );
  });

  it("refuses what DynamoDB refuses, with DynamoDB's messages", async () => {
    const put = (Item: Record<string, unknown>) =>
      failure(ddb.send(new PutItemCommand({ TableName: 'items', Item: Item as never })));
    expect((await put({ pk: { S: '' }, sk: { N: '1' } })).message).toMatch(
      /The AttributeValue for a key attribute cannot contain an empty value. Key: pk/,
    );
    expect(
      (await put({ pk: { S: 'x' }, sk: { N: '1' }, big: { S: 'x'.repeat(400 * 1024) } })).message,
    ).toMatch(/Item size has exceeded the maximum allowed size/);
    expect((await put({ pk: { S: 'x' }, sk: { N: '1'.repeat(39) } })).message).toBe(
      'Attempting to store more than 38 significant digits in a Number',
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: '1e126' } })).message).toMatch(/^Number overflow/);
    expect((await put({ pk: { S: 'x' }, sk: { N: 'abc' } })).message).toBe(
      'The parameter cannot be converted to a numeric value: abc',
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: ' 1' } })).message).toBe(
      'The parameter cannot be converted to a numeric value:  1',
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: '1' }, s: { SS: [] } })).message).toMatch(
      /may not be empty/,
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: '1' }, s: { SS: ['a', 'a'] } })).message).toMatch(
      /contains duplicates/,
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: '1' }, s: { S: 'a', N: '1' } })).message).toMatch(
      /more than one datatypes set/,
    );
    expect((await put({ pk: { S: 'x' }, sk: { N: '1e-131' } })).message).toMatch(/^Number underflow/);
    const missing = await failure(
      ddb.send(new PutItemCommand({ TableName: 'absent-table', Item: { pk: { S: 'x' } } })),
    );
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    for (const error of [missing, await put({ pk: { S: '' }, sk: { N: '1' } })])
      expect(error.$metadata.httpStatusCode).toBe(400);
    expect(
      (
        await doc.send(
          new ScanCommand({
            TableName: 'items',
            FilterExpression: 'pk = :x',
            ExpressionAttributeValues: { ':x': 'x' },
          }),
        )
      ).Count,
    ).toBe(0);
  });
});
