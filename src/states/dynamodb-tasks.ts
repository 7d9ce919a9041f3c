/**
 * `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem` on Sluice tables: Parameters and
 * results in DynamoDB's API shape (AttributeValue JSON: `{"S": "x"}`), as Step Functions passes them to
 * DynamoDB; a refusal fails the task as `DynamoDB.<Exception>` (ConditionalCheckFailedException, ...).
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { SluiceError } from '../model/errors.js';
import type { Item } from '../tables/expressions/index.js';
import type { TableService } from '../tables/service.js';
import { isObject, type Json, type JsonObject } from './json.js';

export type DynamoDbAction = 'putItem' | 'getItem' | 'updateItem' | 'deleteItem';

const marshallOptions = { removeUndefinedValues: true, allowImpreciseNumbers: true } as const;

/** Thrown for a refusal: the task fails with this error name. */
export class DynamoDbTaskError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(causeText);
  }
}

function item(value: Json | undefined, field: string): Item {
  if (!isObject(value)) throw new DynamoDbTaskError('States.Runtime', `dynamodb: Parameters.${field} must be an object of AttributeValues`);
  return unmarshall(value as unknown as Parameters<typeof unmarshall>[0]) as Item;
}

function values(value: Json | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  return item(value, 'ExpressionAttributeValues');
}

function text(input: JsonObject, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new DynamoDbTaskError('States.Runtime', `dynamodb: Parameters.${field} must be a string`);
  return value;
}

function wire(result: Item | undefined): Json {
  return marshall(result ?? {}, marshallOptions) as unknown as Json;
}

export async function runDynamoDbTask(tables: TableService, action: DynamoDbAction, input: Json): Promise<Json> {
  if (!isObject(input)) throw new DynamoDbTaskError('States.Runtime', 'dynamodb: Parameters must be an object');
  const tableName = text(input, 'TableName');
  if (!tableName) throw new DynamoDbTaskError('States.Runtime', 'dynamodb: Parameters.TableName is required');
  const names = isObject(input.ExpressionAttributeNames) ? (input.ExpressionAttributeNames as Record<string, string>) : undefined;
  const expressions = {
    ...(names ? { expressionAttributeNames: names } : {}),
    ...(input.ExpressionAttributeValues !== undefined ? { expressionAttributeValues: values(input.ExpressionAttributeValues) as never } : {}),
    ...(text(input, 'ConditionExpression') ? { conditionExpression: text(input, 'ConditionExpression') as string } : {}),
  };
  const returnValues = text(input, 'ReturnValues');
  try {
    switch (action) {
      case 'getItem': {
        const projection = text(input, 'ProjectionExpression');
        const result = await tables.getItem({ tableName, key: item(input.Key, 'Key'), ...(projection ? { projectionExpression: projection } : {}), ...(names ? { expressionAttributeNames: names } : {}) });
        return result.item ? { Item: wire(result.item) } : {};
      }
      case 'putItem': {
        const result = await tables.putItem({ tableName, item: item(input.Item, 'Item'), ...expressions, ...(returnValues ? { returnValues: returnValues as 'NONE' | 'ALL_OLD' } : {}) });
        return result.attributes ? { Attributes: wire(result.attributes) } : {};
      }
      case 'deleteItem': {
        const result = await tables.deleteItem({ tableName, key: item(input.Key, 'Key'), ...expressions, ...(returnValues ? { returnValues: returnValues as 'NONE' | 'ALL_OLD' } : {}) });
        return result.attributes ? { Attributes: wire(result.attributes) } : {};
      }
      case 'updateItem': {
        const updateExpression = text(input, 'UpdateExpression');
        if (!updateExpression) throw new DynamoDbTaskError('States.Runtime', 'dynamodb: Parameters.UpdateExpression is required');
        const result = await tables.updateItem({ tableName, key: item(input.Key, 'Key'), updateExpression, ...expressions, ...(returnValues ? { returnValues: returnValues as 'NONE' } : {}) });
        return result.attributes ? { Attributes: wire(result.attributes) } : {};
      }
    }
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new DynamoDbTaskError(`DynamoDB.${error.code}`, error.message);
    }
    throw error;
  }
}
