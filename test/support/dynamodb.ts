/** Shared inputs of the DynamoDB endpoint tests. */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
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
