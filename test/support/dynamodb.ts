/** Shared inputs of the DynamoDB endpoint tests. */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** A table keyed by pk (S) and sk (N), on demand, with whatever else the test adds. */
export function tableInput(name: string, extra: Partial<CreateTableCommandInput> = {}): CreateTableCommandInput {
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
