/** Shared inputs and set-up of the DynamoDB endpoint tests. */
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './in-process-node.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, postgresSkipped } from '../../src/testkit/postgres.js';

/** The stores a node runs on in these tests: SQLite in memory (undefined: the default) and PostgreSQL. */
export const storeBackends: Array<[string, () => Promise<Store | undefined>]> = [
  ['SQLite', async () => undefined],
  ...(postgresSkipped
    ? []
    : ([['PostgreSQL', () => openTestStore()]] as Array<[string, () => Promise<Store | undefined>]>)),
];

/** A table keyed by pk (S) and sk (N), on demand, with whatever else the test adds. */
export function tableInput(
  name: string,
  extra: Partial<CreateTableCommandInput> = {},
): CreateTableCommandInput {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    ...extra,
  };
}

export interface DynamoDbNode {
  node: TestNode;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/**
 * Call inside a `describe`: a node on the store `openStore` gives, with the SDK's client and
 * DocumentClient on it and a table `items` (tableInput) created, for the describe's tests; closed after
 * them. The returned object is filled in by the describe's first beforeAll.
 */
export function useDynamoDbNode(openStore: () => Promise<Store | undefined>): DynamoDbNode {
  const context = {} as DynamoDbNode;
  beforeAll(async () => {
    const store = await openStore();
    context.node = await startTestNode(store ? { store } : {});
    context.ddb = new DynamoDBClient({
      endpoint: context.node.url,
      region: 'eu-west-1',
      credentials: TEST_ACCESS_KEY,
      maxAttempts: 1,
    });
    context.doc = DynamoDBDocumentClient.from(context.ddb);
    await context.ddb.send(new CreateTableCommand(tableInput('items')));
  });
  afterAll(async () => {
    context.ddb.destroy();
    await context.node.close();
  });
  return context;
}
