/**
 * DynamoDB's item operations on the wire: PutItem, GetItem, UpdateItem, DeleteItem, Query, Scan,
 * BatchWriteItem, BatchGetItem, TransactWriteItems and TransactGetItems, decoded into the table
 * library's calls (values through attribute-values.ts) and answered in DynamoDB's shapes. Conditions,
 * expressions, limits and errors are the library's; the wire adds only its own checks and shapes.
 */
import type { Item } from '../../../tables/expressions/index.js';
import type {
  CollectionMetricsByTable,
  ItemCollectionMetrics,
  ItemOutput,
  BatchGetRequest,
  BatchWriteRequest,
  ConditionInput,
  ExpressionInput,
  GetItemInput,
  PageOutput,
  TransactWriteAction,
} from '../../../tables/types.js';
import { encodeItem } from './attribute-values.js';
import type { DynamoDbContext } from './table-operations.js';
import { WireInput, wireValidation } from './wire-input.js';

const legacyWrite = ['Expected', 'ConditionalOperator'] as const;
const legacyRead = ['AttributesToGet'] as const;

function expressions(input: WireInput): ExpressionInput {
  const names = input.stringMap('ExpressionAttributeNames');
  const values = input.item('ExpressionAttributeValues');
  return {
    ...(names !== undefined ? { expressionAttributeNames: names } : {}),
    ...(values !== undefined ? { expressionAttributeValues: values } : {}),
  };
}

function condition(input: WireInput): ConditionInput {
  input.refuseLegacy(legacyWrite);
  const conditionExpression = input.string('ConditionExpression', { min: 1, max: 4096 });
  const onFailure = input.oneOf('ReturnValuesOnConditionCheckFailure', ['ALL_OLD', 'NONE'] as const);
  return {
    ...expressions(input),
    ...(conditionExpression !== undefined ? { conditionExpression } : {}),
    ...(onFailure !== undefined ? { returnValuesOnConditionCheckFailure: onFailure } : {}),
  };
}

function attributes(item: Item | undefined): object {
  return item ? { Attributes: encodeItem(item) } : {};
}

function putInput(input: WireInput) {
  return {
    tableName: input.tableName(),
    item: input.item('Item', { required: true }),
    ...condition(input),
  };
}

function deleteInput(input: WireInput) {
  return { tableName: input.tableName(), key: input.item('Key', { required: true }), ...condition(input) };
}

function updateInput(input: WireInput) {
  input.refuseLegacy(['AttributeUpdates']);
  const updateExpression = input.string('UpdateExpression', { max: 4096 });
  return {
    tableName: input.tableName(),
    key: input.item('Key', { required: true }),
    ...(updateExpression !== undefined ? { updateExpression } : {}),
    ...condition(input),
  };
}

function getInput(input: WireInput): GetItemInput {
  input.refuseLegacy(legacyRead);
  input.boolean('ConsistentRead'); // every read is consistent
  const projectionExpression = input.string('ProjectionExpression', { max: 4096 });
  const names = input.stringMap('ExpressionAttributeNames');
  return {
    tableName: input.tableName(),
    key: input.item('Key', { required: true }),
    ...(projectionExpression !== undefined ? { projectionExpression } : {}),
    ...(names !== undefined ? { expressionAttributeNames: names } : {}),
  };
}

function pageWire(page: PageOutput, countOnly: boolean): object {
  return {
    ...(countOnly ? {} : { Items: page.items.map(encodeItem) }),
    Count: page.count,
    ScannedCount: page.scannedCount,
    ...(page.lastEvaluatedKey ? { LastEvaluatedKey: encodeItem(page.lastEvaluatedKey) } : {}),
  };
}

/** Select ALL_ATTRIBUTES on an index query asks for whole items (a local index fetches them from the table). */
function allAttributesOf(input: WireInput): { allAttributes?: true } {
  return input.raw('Select') === 'ALL_ATTRIBUTES' && input.has('IndexName') ? { allAttributes: true } : {};
}

/** Select: ALL_ATTRIBUTES (default), ALL_PROJECTED_ATTRIBUTES (an index), SPECIFIC_ATTRIBUTES (with a projection) or COUNT. */
function selectOf(input: WireInput): boolean {
  const select = input.oneOf('Select', [
    'ALL_ATTRIBUTES',
    'ALL_PROJECTED_ATTRIBUTES',
    'SPECIFIC_ATTRIBUTES',
    'COUNT',
  ] as const);
  const projected = input.has('ProjectionExpression');
  if (select === 'ALL_PROJECTED_ATTRIBUTES' && !input.has('IndexName'))
    throw wireValidation(
      'One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries',
      'Select',
    );
  if (projected && select !== undefined && select !== 'SPECIFIC_ATTRIBUTES')
    throw wireValidation(
      `One or more parameter values were invalid: Cannot specify the ProjectionExpression when choosing to get ${select}`,
      'Select',
    );
  if (select === 'SPECIFIC_ATTRIBUTES' && !projected)
    throw wireValidation(
      'One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression (Sluice serves no AttributesToGet)',
      'Select',
    );
  return select === 'COUNT';
}

function readCommon(input: WireInput) {
  input.refuseLegacy(['AttributesToGet', 'ConditionalOperator']);
  const indexName = input.has('IndexName') ? input.tableName('IndexName') : undefined;
  const consistent = input.boolean('ConsistentRead');
  const filterExpression = input.string('FilterExpression', { max: 4096 });
  const projectionExpression = input.string('ProjectionExpression', { max: 4096 });
  const limit = input.integer('Limit', { min: 1 });
  const exclusiveStartKey = input.item('ExclusiveStartKey');
  return {
    tableName: input.tableName(),
    ...(indexName !== undefined ? { indexName } : {}),
    ...expressions(input),
    ...(filterExpression !== undefined ? { filterExpression } : {}),
    ...(projectionExpression !== undefined ? { projectionExpression } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(exclusiveStartKey !== undefined ? { exclusiveStartKey } : {}),
    consistent: consistent === true,
  };
}

/** DynamoDB refuses strongly consistent reads of a global index. */
async function checkConsistentRead(
  read: { tableName: string; indexName?: string; consistent: boolean },
  context: DynamoDbContext,
): Promise<void> {
  if (!read.consistent || read.indexName === undefined) return;
  const { indexes = [] } = await context.tables.describeTable(read.tableName);
  if (indexes.find((index) => index.name === read.indexName)?.kind === 'global') {
    throw wireValidation('Consistent reads are not supported on global secondary indexes', 'ConsistentRead');
  }
}

async function query(input: WireInput, context: DynamoDbContext): Promise<object> {
  input.refuseLegacy(['KeyConditions', 'QueryFilter']);
  const countOnly = selectOf(input);
  const keyConditionExpression = input.string('KeyConditionExpression', { max: 4096 });
  if (keyConditionExpression === undefined)
    throw wireValidation(
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
      'KeyConditionExpression',
    );
  const scanIndexForward = input.boolean('ScanIndexForward');
  const { consistent: _consistent, ...read } = readCommon(input);
  await checkConsistentRead({ ...read, consistent: _consistent }, context);
  const page = await context.tables.query({
    ...read,
    ...allAttributesOf(input),
    keyConditionExpression,
    ...(scanIndexForward !== undefined ? { scanIndexForward } : {}),
  });
  return pageWire(page, countOnly);
}

async function scan(input: WireInput, context: DynamoDbContext): Promise<object> {
  input.refuseLegacy(['ScanFilter']);
  const countOnly = selectOf(input);
  const segment = input.integer('Segment', { min: 0, max: 999_999 });
  const totalSegments = input.integer('TotalSegments', { min: 1, max: 1_000_000 });
  const { consistent: _consistent, ...read } = readCommon(input);
  await checkConsistentRead({ ...read, consistent: _consistent }, context);
  const page = await context.tables.scan({
    ...read,
    ...(segment !== undefined ? { segment } : {}),
    ...(totalSegments !== undefined ? { totalSegments } : {}),
  });
  return pageWire(page, countOnly);
}

async function batchWriteItem(input: WireInput, context: DynamoDbContext): Promise<object> {
  const tables = input.object('RequestItems', { required: true })!;
  const requests: BatchWriteRequest[] = [];
  for (const tableName of Object.keys(tables.body)) {
    new WireInput({ TableName: tableName }, 'RequestItems').tableName();
    for (const entry of tables.objects(tableName, { required: true, min: 1, max: 25 })!) {
      const put = entry.object('PutRequest');
      const del = entry.object('DeleteRequest');
      if ((put === undefined) === (del === undefined))
        throw wireValidation(
          `${entry.path('')}: a WriteRequest holds exactly one of PutRequest and DeleteRequest`,
          'RequestItems',
        );
      requests.push(
        put
          ? { tableName, put: put.item('Item', { required: true }) }
          : { tableName, delete: del!.item('Key', { required: true }) },
      );
    }
  }
  if (requests.length === 0)
    throw wireValidation(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
      'RequestItems',
    );
  if (requests.length > 25)
    throw wireValidation(
      `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to 25 (${requests.length} requests)`,
      'RequestItems',
    );
  const output = await context.tables.batchWriteItem(requests, collectionMetricsInput(input));
  return { UnprocessedItems: {}, ...collectionMetricsByTable(output.itemCollectionMetrics) };
}

async function batchGetItem(input: WireInput, context: DynamoDbContext): Promise<object> {
  const tables = input.object('RequestItems', { required: true })!;
  const requests: BatchGetRequest[] = [];
  for (const tableName of Object.keys(tables.body)) {
    new WireInput({ TableName: tableName }, 'RequestItems').tableName();
    const request = tables.object(tableName, { required: true })!;
    request.refuseLegacy(legacyRead);
    request.boolean('ConsistentRead');
    const keys = request.list('Keys', { required: true, min: 1, max: 100 })!;
    const projectionExpression = request.string('ProjectionExpression', { max: 4096 });
    const names = request.stringMap('ExpressionAttributeNames');
    requests.push({
      tableName,
      keys: keys.map((_key, i) =>
        new WireInput({ Key: keys[i] }, `RequestItems.${tableName}.Keys[${i}]`).item('Key', {
          required: true,
        }),
      ),
      ...(projectionExpression !== undefined ? { projectionExpression } : {}),
      ...(names !== undefined ? { expressionAttributeNames: names } : {}),
    });
  }
  if (requests.length === 0)
    throw wireValidation(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
      'RequestItems',
    );
  const output = await context.tables.batchGetItem(requests);
  const responses: Record<string, object[]> = {};
  for (const [table, items] of Object.entries(output.responses)) responses[table] = items.map(encodeItem);
  const unprocessed: Record<string, object> = {};
  for (const left of output.unprocessedKeys) {
    unprocessed[left.tableName] = {
      Keys: left.keys.map(encodeItem),
      ...(left.projectionExpression !== undefined ? { ProjectionExpression: left.projectionExpression } : {}),
      ...(left.expressionAttributeNames !== undefined
        ? { ExpressionAttributeNames: left.expressionAttributeNames }
        : {}),
    };
  }
  return { Responses: responses, UnprocessedKeys: unprocessed };
}

function transactAction(entry: WireInput): TransactWriteAction {
  const kinds = ['Put', 'Update', 'Delete', 'ConditionCheck'].filter((kind) => entry.has(kind));
  if (kinds.length !== 1)
    throw wireValidation(
      'TransactItems can only contain one of Check, Put, Update or Delete',
      'TransactItems',
    );
  const kind = kinds[0]!;
  const body = entry.object(kind, { required: true })!;
  switch (kind) {
    case 'Put':
      return { put: putInput(body) };
    case 'Update':
      return { update: updateInput(body) };
    case 'Delete':
      return { delete: deleteInput(body) };
    default: {
      const { conditionExpression, ...rest } = deleteInput(body);
      if (conditionExpression === undefined) body.required('ConditionExpression');
      return { conditionCheck: { ...rest, conditionExpression: conditionExpression! } };
    }
  }
}

async function transactWriteItems(input: WireInput, context: DynamoDbContext): Promise<object> {
  const entries = input.objects('TransactItems', { required: true, min: 1, max: 100 })!;
  const clientRequestToken = input.string('ClientRequestToken', { min: 1, max: 36 });
  const output = await context.tables.transactWriteItems(entries.map(transactAction), {
    ...(clientRequestToken !== undefined ? { clientRequestToken } : {}),
    ...collectionMetricsInput(input),
  });
  return collectionMetricsByTable(output.itemCollectionMetrics);
}

async function transactGetItems(input: WireInput, context: DynamoDbContext): Promise<object> {
  const entries = input.objects('TransactItems', { required: true, min: 1, max: 100 })!;
  const gets = entries.map((entry) => getInput(entry.object('Get', { required: true })!));
  const items = await context.tables.transactGetItems(gets);
  return { Responses: items.map((item) => (item ? { Item: encodeItem(item) } : {})) };
}

/** ReturnItemCollectionMetrics: NONE (the default) or SIZE. */
function collectionMetricsInput(input: WireInput): { returnItemCollectionMetrics?: 'NONE' | 'SIZE' } {
  const metrics = input.oneOf('ReturnItemCollectionMetrics', ['NONE', 'SIZE'] as const);
  return metrics ? { returnItemCollectionMetrics: metrics } : {};
}

function collectionMetricsWire(metrics: ItemCollectionMetrics): object {
  return { ItemCollectionKey: encodeItem(metrics.itemCollectionKey), SizeEstimateRangeGB: metrics.sizeEstimateRangeGB };
}

/** The response with ItemCollectionMetrics when the write reported them. */
function withCollectionMetrics(response: object, output: ItemOutput): object {
  const metrics = output.itemCollectionMetrics;
  if (!metrics) return response;
  return { ...response, ItemCollectionMetrics: collectionMetricsWire(metrics) };
}

/** BatchWriteItem's and TransactWriteItems' ItemCollectionMetrics: a list per table name, when any. */
function collectionMetricsByTable(byTable: CollectionMetricsByTable | undefined): object {
  if (!byTable) return {};
  return {
    ItemCollectionMetrics: Object.fromEntries(
      Object.entries(byTable).map(([tableName, list]) => [tableName, list.map(collectionMetricsWire)]),
    ),
  };
}

export const itemOperations = {
  PutItem: async (input: WireInput, context: DynamoDbContext) => {
    const returnValues = input.oneOf('ReturnValues', ['NONE', 'ALL_OLD'] as const);
    const output = await context.tables.putItem({
      ...putInput(input),
      ...(returnValues ? { returnValues } : {}),
      ...collectionMetricsInput(input),
    });
    return withCollectionMetrics(attributes(output.attributes), output);
  },
  GetItem: async (input: WireInput, context: DynamoDbContext) => {
    const { item } = await context.tables.getItem(getInput(input));
    return item ? { Item: encodeItem(item) } : {};
  },
  UpdateItem: async (input: WireInput, context: DynamoDbContext) => {
    const returnValues = input.oneOf('ReturnValues', [
      'NONE',
      'ALL_OLD',
      'UPDATED_OLD',
      'ALL_NEW',
      'UPDATED_NEW',
    ] as const);
    const output = await context.tables.updateItem({
      ...updateInput(input),
      ...(returnValues ? { returnValues } : {}),
      ...collectionMetricsInput(input),
    });
    return withCollectionMetrics(attributes(output.attributes), output);
  },
  DeleteItem: async (input: WireInput, context: DynamoDbContext) => {
    const returnValues = input.oneOf('ReturnValues', ['NONE', 'ALL_OLD'] as const);
    const output = await context.tables.deleteItem({
      ...deleteInput(input),
      ...(returnValues ? { returnValues } : {}),
      ...collectionMetricsInput(input),
    });
    return withCollectionMetrics(attributes(output.attributes), output);
  },
  Query: query,
  Scan: scan,
  BatchWriteItem: batchWriteItem,
  BatchGetItem: batchGetItem,
  TransactWriteItems: transactWriteItems,
  TransactGetItems: transactGetItems,
} satisfies Record<string, (input: WireInput, context: DynamoDbContext) => Promise<object>>;
