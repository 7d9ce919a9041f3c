/**
 * Secondary indexes through the DynamoDB endpoint with the unmodified AWS SDK, on SQLite and PostgreSQL:
 * global and local indexes queried and scanned, their projections and validation, and a global index
 * added (backfilled in the background) and removed.
 */
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { storeBackends, tableInput, useDynamoDbNode } from './support/dynamodb.js';
import { sdkFailure as failure } from './support/sdk-failure.js';

describe.each(storeBackends)('secondary indexes through the DynamoDB endpoint on %s', (_backend, openStore) => {
  const sdk = useDynamoDbNode(openStore);
  let ddb: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  beforeAll(() => ({ ddb, doc } = sdk));

  it('queries and scans global and local secondary indexes, and adds and removes a global one', async () => {
    await ddb.send(
      new CreateTableCommand(
        tableInput('indexed', {
          AttributeDefinitions: [
            ...tableInput('x').AttributeDefinitions!,
            { AttributeName: 'status', AttributeType: 'S' },
            { AttributeName: 'at', AttributeType: 'N' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'by-status',
              KeySchema: [
                { AttributeName: 'status', KeyType: 'HASH' },
                { AttributeName: 'at', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['note'] },
            },
          ],
          LocalSecondaryIndexes: [
            {
              IndexName: 'by-at',
              KeySchema: [
                { AttributeName: 'pk', KeyType: 'HASH' },
                { AttributeName: 'at', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
        }),
      ),
    );
    const described = (await ddb.send(new DescribeTableCommand({ TableName: 'indexed' }))).Table!;
    expect(described.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'by-status',
      IndexStatus: 'ACTIVE',
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['note'] },
    });
    expect(described.LocalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'by-at',
      KeySchema: [{ AttributeName: 'pk' }, { AttributeName: 'at' }],
    });
    for (const item of [
      { pk: 'u1', sk: 1, status: 'open', at: 30, note: 'a', extra: 'x' },
      { pk: 'u1', sk: 2, status: 'done', at: 10 },
      { pk: 'u2', sk: 1, status: 'open', at: 20, note: 'b' },
      { pk: 'u3', sk: 1 },
    ])
      await doc.send(new PutCommand({ TableName: 'indexed', Item: item }));

    expect((await ddb.send(new DescribeTableCommand({ TableName: 'indexed' }))).Table).toMatchObject({
      ItemCount: 4,
    });
    // A table with a local index reports its item collection when asked (the whole GB range it falls in).
    const metrics = await doc.send(
      new PutCommand({ TableName: 'indexed', Item: { pk: 'u3', sk: 2 }, ReturnItemCollectionMetrics: 'SIZE' }),
    );
    expect(metrics.ItemCollectionMetrics).toEqual({ ItemCollectionKey: { pk: 'u3' }, SizeEstimateRangeGB: [0, 1] });
    await doc.send(new DeleteCommand({ TableName: 'indexed', Key: { pk: 'u3', sk: 2 } }));
    // BatchWriteItem and TransactWriteItems: a list per table, one entry per collection written.
    const batch = await doc.send(
      new BatchWriteCommand({
        RequestItems: { indexed: [{ PutRequest: { Item: { pk: 'u4', sk: 1 } } }] },
        ReturnItemCollectionMetrics: 'SIZE',
      }),
    );
    expect(batch.ItemCollectionMetrics).toEqual({ indexed: [{ ItemCollectionKey: { pk: 'u4' }, SizeEstimateRangeGB: [0, 1] }] });
    const transaction = await doc.send(
      new TransactWriteCommand({
        TransactItems: [{ Delete: { TableName: 'indexed', Key: { pk: 'u4', sk: 1 } } }],
        ReturnItemCollectionMetrics: 'SIZE',
      }),
    );
    expect(transaction.ItemCollectionMetrics).toEqual({ indexed: [{ ItemCollectionKey: { pk: 'u4' }, SizeEstimateRangeGB: [0, 1] }] });
    expect((await doc.send(new TransactWriteCommand({ TransactItems: [{ Delete: { TableName: 'indexed', Key: { pk: 'u4', sk: 1 } } }] }))).ItemCollectionMetrics).toBeUndefined();
    const open = {
      TableName: 'indexed',
      IndexName: 'by-status',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'open' },
    };
    expect((await doc.send(new QueryCommand(open))).Items).toEqual([
      { pk: 'u2', sk: 1, status: 'open', at: 20, note: 'b' },
      { pk: 'u1', sk: 1, status: 'open', at: 30, note: 'a' },
    ]);
    const first = await doc.send(new QueryCommand({ ...open, ScanIndexForward: false, Limit: 1 }));
    expect(first.Items?.map((item) => item.pk)).toEqual(['u1']);
    expect(first.LastEvaluatedKey).toEqual({ pk: 'u1', sk: 1, status: 'open', at: 30 });
    const second = await doc.send(
      new QueryCommand({
        ...open,
        ScanIndexForward: false,
        Limit: 1,
        ExclusiveStartKey: first.LastEvaluatedKey,
      }),
    );
    expect(second.Items?.map((item) => item.pk)).toEqual(['u2']);
    const local = await doc.send(
      new QueryCommand({
        TableName: 'indexed',
        IndexName: 'by-at',
        KeyConditionExpression: 'pk = :p AND #a > :a',
        ExpressionAttributeNames: { '#a': 'at' },
        ExpressionAttributeValues: { ':p': 'u1', ':a': 5 },
      }),
    );
    expect(local.Items).toEqual([
      { pk: 'u1', sk: 2, at: 10 },
      { pk: 'u1', sk: 1, at: 30 },
    ]);
    const whole = await doc.send(
      new QueryCommand({
        TableName: 'indexed',
        IndexName: 'by-at',
        Select: 'ALL_ATTRIBUTES',
        KeyConditionExpression: 'pk = :p AND #a > :a',
        ExpressionAttributeNames: { '#a': 'at' },
        ExpressionAttributeValues: { ':p': 'u1', ':a': 20 },
      }),
    );
    expect(whole.Items).toEqual([{ pk: 'u1', sk: 1, status: 'open', at: 30, note: 'a', extra: 'x' }]);
    const notAll = await failure(doc.send(new QueryCommand({ ...open, Select: 'ALL_ATTRIBUTES' })));
    expect(notAll.message).toMatch(
      /Select type ALL_ATTRIBUTES is not supported for global secondary index by-status/,
    );
    expect(
      (await doc.send(new ScanCommand({ TableName: 'indexed', IndexName: 'by-status', Select: 'COUNT' })))
        .Count,
    ).toBe(3);

    const mismatch = await failure(
      doc.send(new PutCommand({ TableName: 'indexed', Item: { pk: 'u4', sk: 1, status: 5 } })),
    );
    expect(mismatch.message).toMatch(
      /Type mismatch for Index Key status Expected: S Actual: N IndexName: by-status/,
    );
    const consistent = await failure(doc.send(new QueryCommand({ ...open, ConsistentRead: true })));
    expect(consistent.message).toBe('Consistent reads are not supported on global secondary indexes');

    const adding = await ddb.send(
      new UpdateTableCommand({
        TableName: 'indexed',
        AttributeDefinitions: [{ AttributeName: 'note', AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: 'by-note',
              KeySchema: [{ AttributeName: 'note', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          },
        ],
      }),
    );
    // Answered at once, as DynamoDB does: the table UPDATING, the index CREATING while it backfills.
    expect(adding.TableDescription?.TableStatus).toBe('UPDATING');
    expect(adding.TableDescription?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'by-note')).toMatchObject({
      IndexStatus: 'CREATING',
      Backfilling: true,
    });
    // What a client does next: wait for the table to be ACTIVE again.
    for (;;) {
      const table = (await ddb.send(new DescribeTableCommand({ TableName: 'indexed' }))).Table;
      if (table?.TableStatus === 'ACTIVE') {
        const index = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'by-note');
        expect(index?.IndexStatus).toBe('ACTIVE');
        // ItemCount and IndexSizeBytes counted from the index's entries.
        const scanned = await doc.send(new ScanCommand({ TableName: 'indexed', IndexName: 'by-note', Select: 'COUNT' }));
        expect(scanned.Count).toBeGreaterThan(0);
        expect(index?.ItemCount).toBe(scanned.Count);
        expect(index?.IndexSizeBytes).toBeGreaterThan(0);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const byNote = await doc.send(
      new QueryCommand({
        TableName: 'indexed',
        IndexName: 'by-note',
        KeyConditionExpression: 'note = :n',
        ExpressionAttributeValues: { ':n': 'a' },
      }),
    );
    expect(byNote.Items).toEqual([{ pk: 'u1', sk: 1, note: 'a' }]);
    await ddb.send(
      new UpdateTableCommand({
        TableName: 'indexed',
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'by-note' } }],
      }),
    );
    const gone = await failure(
      doc.send(
        new QueryCommand({
          TableName: 'indexed',
          IndexName: 'by-note',
          KeyConditionExpression: 'note = :n',
          ExpressionAttributeValues: { ':n': 'a' },
        }),
      ),
    );
    expect(gone.message).toBe('The table does not have the specified index: by-note');
  });
});
