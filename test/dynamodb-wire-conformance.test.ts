/**
 * The same table operations through the library (`sluice.tables`) and through the wire (the DocumentClient
 * against the node's DynamoDB endpoint) leave the same items and the same stream records, on SQLite and
 * PostgreSQL: the protocol adds no semantics of its own.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableService } from '../src/tables/service.js';
import { storeBackends, tableInput } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

/** One step, written once for each side; a step may fail (a condition), the same way on both. */
interface Step {
  library(tables: TableService, table: string): Promise<unknown>;
  wire(doc: DynamoDBDocumentClient, table: string): Promise<unknown>;
}

const steps: Step[] = [
  {
    library: (t, table) =>
      t.putItem({
        tableName: table,
        item: { pk: 'a', sk: 1, tags: new Set(['x']), n: 1, bin: new Uint8Array([1, 2]) },
      }),
    wire: (d, table) =>
      d.send(
        new PutCommand({
          TableName: table,
          Item: { pk: 'a', sk: 1, tags: new Set(['x']), n: 1, bin: new Uint8Array([1, 2]) },
        }),
      ),
  },
  {
    library: (t, table) =>
      t.putItem({
        tableName: table,
        item: { pk: 'a', sk: 1 },
        conditionExpression: 'attribute_not_exists(pk)',
      }),
    wire: (d, table) =>
      d.send(
        new PutCommand({
          TableName: table,
          Item: { pk: 'a', sk: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
  },
  {
    library: (t, table) =>
      t.updateItem({
        tableName: table,
        key: { pk: 'a', sk: 1 },
        updateExpression: 'SET n = n + :one ADD tags :t',
        expressionAttributeValues: { ':one': 1, ':t': new Set(['y']) },
      }),
    wire: (d, table) =>
      d.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'a', sk: 1 },
          UpdateExpression: 'SET n = n + :one ADD tags :t',
          ExpressionAttributeValues: { ':one': 1, ':t': new Set(['y']) },
        }),
      ),
  },
  {
    library: (t, table) =>
      t.batchWriteItem([
        { tableName: table, put: { pk: 'b', sk: 1, s: 'one' } },
        { tableName: table, put: { pk: 'c', sk: 2, m: { deep: [1, null, true] } } },
      ]),
    wire: (d, table) =>
      d.send(
        new BatchWriteCommand({
          RequestItems: {
            [table]: [
              { PutRequest: { Item: { pk: 'b', sk: 1, s: 'one' } } },
              { PutRequest: { Item: { pk: 'c', sk: 2, m: { deep: [1, null, true] } } } },
            ],
          },
        }),
      ),
  },
  {
    library: (t, table) =>
      t.transactWriteItems([
        { delete: { tableName: table, key: { pk: 'b', sk: 1 } } },
        {
          update: {
            tableName: table,
            key: { pk: 'c', sk: 2 },
            updateExpression: 'REMOVE m SET z = :z',
            expressionAttributeValues: { ':z': 'zed' },
          },
        },
      ]),
    wire: (d, table) =>
      d.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: table, Key: { pk: 'b', sk: 1 } } },
            {
              Update: {
                TableName: table,
                Key: { pk: 'c', sk: 2 },
                UpdateExpression: 'REMOVE m SET z = :z',
                ExpressionAttributeValues: { ':z': 'zed' },
              },
            },
          ],
        }),
      ),
  },
  {
    library: (t, table) =>
      t.deleteItem({
        tableName: table,
        key: { pk: 'a', sk: 1 },
        conditionExpression: 'n = :two',
        expressionAttributeValues: { ':two': 2 },
      }),
    wire: (d, table) =>
      d.send(
        new DeleteCommand({
          TableName: table,
          Key: { pk: 'a', sk: 1 },
          ConditionExpression: 'n = :two',
          ExpressionAttributeValues: { ':two': 2 },
        }),
      ),
  },
];

describe.each(storeBackends)(
  'library and wire give the same items and stream records on %s',
  (_backend, openStore) => {
    let node: TestNode;
    let ddb: DynamoDBClient;
    beforeAll(async () => {
      const store = await openStore();
      node = await startTestNode(store ? { store } : {});
      ddb = new DynamoDBClient({
        endpoint: node.url,
        region: 'us-east-1',
        credentials: TEST_ACCESS_KEY,
        maxAttempts: 1,
      });
    });
    afterAll(async () => {
      ddb.destroy();
      await node.close();
    });

    it('after puts, a failed condition, updates, a batch, a transaction and a conditional delete', async () => {
      const stream = {
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
      };
      await ddb.send(new CreateTableCommand(tableInput('by-library', stream)));
      await ddb.send(new CreateTableCommand(tableInput('by-wire', stream)));
      const doc = DynamoDBDocumentClient.from(ddb);
      const outcomes: Array<[string, string]> = [];
      for (const step of steps) {
        const library = await step.library(node.sluice.tables, 'by-library').then(
          () => 'ok',
          (e: Error) => e.name,
        );
        const wire = await step.wire(doc, 'by-wire').then(
          () => 'ok',
          (e: Error) => e.name,
        );
        outcomes.push([library, wire]);
      }
      expect(outcomes.map(([library]) => library)).toEqual([
        'ok',
        'ConditionalCheckFailedException',
        'ok',
        'ok',
        'ok',
        'ok',
      ]);
      expect(outcomes.map(([, wire]) => wire)).toEqual(outcomes.map(([library]) => library));

      const items = async (table: string) => (await node.sluice.tables.scan({ tableName: table })).items;
      expect(await items('by-wire')).toEqual(await items('by-library'));
      expect(await items('by-wire')).toHaveLength(1);

      const records = async (table: string) => {
        const { shards } = await node.sluice.streams.describeStream(table);
        const all = [];
        for (const { shardId } of shards) {
          const { records: read } = await node.sluice.streams.getRecords({ streamArn: table, shardId });
          all.push(
            ...read.map(({ eventName, dynamodb }) => ({
              shardId,
              eventName,
              ...dynamodb,
              ApproximateCreationDateTime: undefined,
            })),
          );
        }
        return all;
      };
      const byLibrary = await records('by-library');
      expect(byLibrary.map((r) => r.eventName).sort()).toEqual([
        'INSERT',
        'INSERT',
        'INSERT',
        'MODIFY',
        'MODIFY',
        'REMOVE',
        'REMOVE',
      ]);
      expect(await records('by-wire')).toEqual(byLibrary);
    });
  },
);
