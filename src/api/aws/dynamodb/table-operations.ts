/**
 * DynamoDB's table operations on the wire (CreateTable, DescribeTable, ListTables, UpdateTable,
 * DeleteTable, UpdateTimeToLive, DescribeTimeToLive, TagResource, UntagResource, ListTagsOfResource):
 * decoded into the table library's calls, answered in DynamoDB's shapes. No rule lives here that the
 * library does not apply as well; only the wire's own checks (the key schema matching the attribute
 * definitions, billing mode and throughput together) and its shapes.
 */
import { parseArn, type ArnContext } from '../../../model/arn.js';
import type {
  IndexDefinition,
  KeyAttribute,
  KeyType,
  StreamViewType,
  TableCapacity,
} from '../../../store/table-definition.js';
import type { TableService } from '../../../tables/service.js';
import type { TableDescription } from '../../../tables/types.js';
import { invalidParameter } from './attribute-values.js';
import type { WireInput } from './wire-input.js';
import { wireValidation } from './wire-input.js';

export interface DynamoDbContext {
  tables: TableService;
  arn: ArnContext;
}

const viewTypes: readonly StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

/** A table id DynamoDB would show: a UUID, here derived from the store's table id. */
function tableIdOf(id: number): string {
  return `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`;
}

function keySchemaWire(partitionKey: KeyAttribute, sortKey: KeyAttribute | null | undefined): object[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

function indexWire(d: TableDescription, index: IndexDefinition): Record<string, unknown> {
  return {
    IndexName: index.name,
    KeySchema: keySchemaWire(index.partitionKey, index.sortKey),
    Projection: {
      ProjectionType: index.projection.type,
      ...(index.projection.nonKeyAttributes ? { NonKeyAttributes: index.projection.nonKeyAttributes } : {}),
    },
    ...(index.kind === 'global'
      ? index.backfilling
        ? { IndexStatus: 'CREATING', Backfilling: true }
        : { IndexStatus: 'ACTIVE' }
      : {}),
    // Counted from the index's entries when described (DynamoDB refreshes them about every six hours).
    IndexSizeBytes: d.indexCounts?.[index.name]?.sizeBytes ?? 0,
    ItemCount: d.indexCounts?.[index.name]?.itemCount ?? 0,
    IndexArn: `${d.tableArn}/index/${index.name}`,
  };
}

export function tableDescriptionWire(
  d: TableDescription,
  deleting = false,
): Record<string, unknown> {
  // A table stays UPDATING while an index added by UpdateTable is CREATING (clients wait for ACTIVE).
  const status = deleting ? 'DELETING' : d.indexes?.some((index) => index.backfilling) ? 'UPDATING' : 'ACTIVE';
  const keys = d.sortKey ? [d.partitionKey, d.sortKey] : [d.partitionKey];
  const capacity = d.capacity ?? { billingMode: 'PAY_PER_REQUEST' };
  const indexes = d.indexes ?? [];
  const attributes = new Map<string, string>();
  for (const key of [...keys, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])])
    if (key) attributes.set(key.name, key.type);
  const globals = indexes.filter((index) => index.kind === 'global');
  const locals = indexes.filter((index) => index.kind === 'local');
  return {
    AttributeDefinitions: [...attributes].map(([name, type]) => ({
      AttributeName: name,
      AttributeType: type,
    })),
    ...(globals.length > 0 ? { GlobalSecondaryIndexes: globals.map((index) => indexWire(d, index)) } : {}),
    ...(locals.length > 0 ? { LocalSecondaryIndexes: locals.map((index) => indexWire(d, index)) } : {}),
    TableName: d.tableName,
    KeySchema: keySchemaWire(d.partitionKey, d.sortKey),
    TableStatus: status,
    CreationDateTime: d.createdAt / 1000,
    ProvisionedThroughput: {
      NumberOfDecreasesToday: 0,
      ReadCapacityUnits: capacity.readCapacityUnits ?? 0,
      WriteCapacityUnits: capacity.writeCapacityUnits ?? 0,
    },
    // Counted when described (DynamoDB refreshes them about every six hours); 0 in CreateTable's answer.
    TableSizeBytes: d.sizeBytes ?? 0,
    ItemCount: d.itemCount ?? 0,
    TableArn: d.tableArn,
    TableId: tableIdOf(d.tableId),
    BillingModeSummary: { BillingMode: capacity.billingMode },
    ...(d.stream
      ? {
          StreamSpecification: { StreamEnabled: true, StreamViewType: d.stream.viewType },
          LatestStreamLabel: d.stream.streamLabel,
          LatestStreamArn: d.stream.streamArn,
        }
      : {}),
    DeletionProtectionEnabled: false,
  };
}

function attributeTypesOf(input: WireInput): Map<string, KeyType> {
  const definitions = input.objects('AttributeDefinitions', { required: true, min: 1 })!;
  const types = new Map<string, KeyType>();
  for (const definition of definitions) {
    const name = definition.string('AttributeName', { required: true, min: 1, max: 255 });
    const type =
      definition.oneOf('AttributeType', ['S', 'N', 'B'] as const) ?? definition.required('AttributeType');
    if (types.has(name))
      throw invalidParameter(
        `Duplicate AttributeName in AttributeDefinitions: ${name}`,
        'AttributeDefinitions',
      );
    types.set(name, type);
  }
  return types;
}

/** A KeySchema (of the table or of an index) against the attribute definitions. */
function keySchemaOf(
  owner: WireInput,
  types: Map<string, KeyType>,
  used: Set<string>,
): { partitionKey: KeyAttribute; sortKey: KeyAttribute | null } {
  const schema = owner.objects('KeySchema', { required: true, min: 1, max: 2 })!;
  const elements = schema.map((element) => ({
    name: element.string('AttributeName', { required: true, min: 1, max: 255 }),
    keyType: element.oneOf('KeyType', ['HASH', 'RANGE'] as const) ?? element.required('KeyType'),
  }));
  const [first, second] = elements as [(typeof elements)[0], (typeof elements)[0] | undefined];
  if (first.keyType !== 'HASH')
    throw invalidParameter(
      'Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
      'KeySchema',
    );
  if (second && second.keyType !== 'RANGE')
    throw invalidParameter(
      'Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key',
      'KeySchema',
    );
  if (second && second.name === first.name)
    throw invalidParameter(
      'Both the Hash Key and the Range Key element in the KeySchema have the same name',
      'KeySchema',
    );
  const missing = elements.filter((element) => !types.has(element.name)).map((element) => element.name);
  if (missing.length > 0) {
    throw invalidParameter(
      `Some index key attributes are not defined in AttributeDefinitions. Keys: [${missing.join(', ')}], AttributeDefinitions: [${[...types.keys()].join(', ')}]`,
      'AttributeDefinitions',
    );
  }
  for (const element of elements) used.add(element.name);
  const partitionKey = { name: first.name, type: types.get(first.name)! };
  return { partitionKey, sortKey: second ? { name: second.name, type: types.get(second.name)! } : null };
}

function projectionOf(index: WireInput): IndexDefinition['projection'] {
  const projection = index.object('Projection', { required: true })!;
  const type =
    projection.oneOf('ProjectionType', ['ALL', 'KEYS_ONLY', 'INCLUDE'] as const) ??
    projection.required('ProjectionType');
  const nonKey = projection.list('NonKeyAttributes', { max: 100 });
  if (nonKey && !nonKey.every((name) => typeof name === 'string'))
    throw invalidParameter('NonKeyAttributes must be attribute names', 'Projection');
  return type === 'INCLUDE'
    ? { type, nonKeyAttributes: (nonKey ?? []) as string[] }
    : { type, ...(nonKey ? { nonKeyAttributes: nonKey as string[] } : {}) };
}

function indexOf(
  index: WireInput,
  kind: 'global' | 'local',
  types: Map<string, KeyType>,
  used: Set<string>,
): IndexDefinition {
  return {
    name: index.tableName('IndexName'),
    kind,
    ...keySchemaOf(index, types, used),
    projection: projectionOf(index),
  };
}

function schemaOf(input: WireInput): {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: IndexDefinition[];
} {
  const types = attributeTypesOf(input);
  const used = new Set<string>();
  const { partitionKey, sortKey } = keySchemaOf(input, types, used);
  const indexes = [
    ...(input.objects('GlobalSecondaryIndexes', { max: 20 }) ?? []).map((index) =>
      indexOf(index, 'global', types, used),
    ),
    ...(input.objects('LocalSecondaryIndexes', { max: 5 }) ?? []).map((index) =>
      indexOf(index, 'local', types, used),
    ),
  ];
  if (used.size !== types.size) {
    throw invalidParameter(
      'Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
      'AttributeDefinitions',
    );
  }
  return { partitionKey, ...(sortKey ? { sortKey } : {}), indexes };
}

function capacityOf(input: WireInput, current?: TableCapacity): TableCapacity | undefined {
  const mode = input.oneOf('BillingMode', ['PROVISIONED', 'PAY_PER_REQUEST'] as const);
  const throughput = input.object('ProvisionedThroughput');
  if (mode === undefined && throughput === undefined) return undefined;
  const billingMode = mode ?? (throughput ? 'PROVISIONED' : (current?.billingMode ?? 'PAY_PER_REQUEST'));
  if (billingMode === 'PAY_PER_REQUEST') {
    if (throughput)
      throw invalidParameter(
        'Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
        'ProvisionedThroughput',
      );
    return { billingMode };
  }
  const read = throughput?.integer('ReadCapacityUnits', { min: 1 }) ?? current?.readCapacityUnits;
  const write = throughput?.integer('WriteCapacityUnits', { min: 1 }) ?? current?.writeCapacityUnits;
  if (read === undefined || write === undefined) {
    throw invalidParameter(
      'ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
      'ProvisionedThroughput',
    );
  }
  return { billingMode, readCapacityUnits: read, writeCapacityUnits: write };
}

function streamOf(input: WireInput): { viewType: StreamViewType } | null | undefined {
  const spec = input.object('StreamSpecification');
  if (!spec) return undefined;
  const enabled = spec.boolean('StreamEnabled') ?? spec.required('StreamEnabled');
  const viewType = spec.oneOf('StreamViewType', viewTypes);
  if (!enabled) {
    if (viewType !== undefined)
      throw wireValidation(
        'One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false',
        'StreamSpecification',
      );
    return null;
  }
  if (viewType === undefined)
    throw wireValidation(
      'One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true',
      'StreamSpecification',
    );
  return { viewType };
}

function tagsOf(list: WireInput[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list) {
    const key = tag.string('Key', { required: true, min: 1, max: 128 });
    Object.defineProperty(tags, key, {
      value: tag.string('Value', { required: true, max: 256 }),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return tags;
}

/** The table an ARN names (`arn:aws:dynamodb:region:account:table/NAME`). */
function tableOfArn(arn: string): string {
  const parsed = parseArn(arn);
  const match = parsed && parsed.service === 'dynamodb' ? /^table\/([^/]+)$/.exec(parsed.resource) : null;
  if (!match)
    throw wireValidation(
      `Invalid TableArn: Invalid ResourceArn provided as input ${arn.slice(0, 200)}`,
      'ResourceArn',
    );
  return match[1]!;
}

async function createTable(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = input.tableName();
  const { indexes, ...keys } = schemaOf(input);
  const capacity = capacityOf(input);
  if (!capacity)
    throw invalidParameter(
      'BillingMode is PROVISIONED (the default) but ProvisionedThroughput was not given: set ProvisionedThroughput or BillingMode PAY_PER_REQUEST',
      'ProvisionedThroughput',
    );
  const stream = streamOf(input);
  const tags = input.objects('Tags', { max: 50 });
  const description = await context.tables.createTable(
    {
      name,
      ...keys,
      ...(stream ? { stream } : {}),
      capacity,
      ...(tags ? { tags: tagsOf(tags) } : {}),
      ...(indexes.length > 0 ? { indexes } : {}),
    },
    { ifExists: 'fail' },
  );
  return { TableDescription: tableDescriptionWire(description) };
}

/** GlobalSecondaryIndexUpdates: one Create or Delete per call, as DynamoDB allows; Update is accepted (capacity only). */
function indexUpdateOf(
  input: WireInput,
  current: TableDescription,
): { createIndex?: IndexDefinition; deleteIndex?: string } {
  const updates = input.objects('GlobalSecondaryIndexUpdates') ?? [];
  const changes = updates.filter((update) => update.has('Create') || update.has('Delete'));
  if (changes.length > 1)
    throw wireValidation(
      'One or more parameter values were invalid: Only 1 online index can be created or deleted simultaneously per table',
      'GlobalSecondaryIndexUpdates',
    );
  const [change] = changes;
  if (!change) return {};
  if (change.has('Delete')) return { deleteIndex: change.object('Delete')!.tableName('IndexName') };
  const types = attributeTypesOf(input);
  for (const key of [
    current.partitionKey,
    current.sortKey,
    ...(current.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
  ]) {
    if (key && !types.has(key.name)) types.set(key.name, key.type);
  }
  return { createIndex: indexOf(change.object('Create')!, 'global', types, new Set()) };
}

async function updateTable(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = input.tableName();
  if ((input.list('ReplicaUpdates') ?? []).length > 0)
    throw wireValidation('ReplicaUpdates: Sluice serves no global tables', 'ReplicaUpdates');
  const current = await context.tables.describeTable(name);
  const indexChange = indexUpdateOf(input, current);
  const capacity = capacityOf(input, current.capacity ?? { billingMode: 'PAY_PER_REQUEST' });
  const stream = streamOf(input);
  if (stream && current.stream)
    throw wireValidation(`Table already has an enabled stream: TableName: ${name}`, 'StreamSpecification');
  if (stream === null && !current.stream)
    throw wireValidation(
      `Table does not have a stream to disable: TableName: ${name}`,
      'StreamSpecification',
    );
  const updated = await context.tables.updateTable(name, {
    ...(stream !== undefined ? { stream } : {}),
    ...(capacity ? { capacity } : {}),
    ...indexChange,
  });
  return { TableDescription: tableDescriptionWire(updated) };
}

async function listTables(input: WireInput, context: DynamoDbContext): Promise<object> {
  const start = input.string('ExclusiveStartTableName', { min: 3, max: 255 });
  const limit = input.integer('Limit', { min: 1, max: 100 }) ?? 100;
  const names = (await context.tables.listTables()).sort();
  const after = start === undefined ? names : names.filter((n) => n > start);
  const page = after.slice(0, limit);
  return {
    TableNames: page,
    ...(after.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}),
  };
}

async function updateTimeToLive(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = input.tableName();
  const spec = input.object('TimeToLiveSpecification', { required: true })!;
  const enabled = spec.boolean('Enabled') ?? spec.required('Enabled');
  const attribute = spec.string('AttributeName', { required: true, min: 1, max: 255 });
  const current = await context.tables.describeTable(name);
  if (enabled && current.ttlAttribute !== undefined)
    throw wireValidation('TimeToLive is already enabled', 'TimeToLiveSpecification');
  if (!enabled && current.ttlAttribute === undefined)
    throw wireValidation('TimeToLive is already disabled', 'TimeToLiveSpecification');
  if (!enabled && current.ttlAttribute !== attribute) {
    throw wireValidation(
      `The AttributeName ${attribute} does not match the TimeToLive attribute ${current.ttlAttribute}`,
      'TimeToLiveSpecification.AttributeName',
    );
  }
  await context.tables.updateTable(name, { ttlAttribute: enabled ? attribute : null });
  return { TimeToLiveSpecification: { Enabled: enabled, AttributeName: attribute } };
}

async function describeTimeToLive(input: WireInput, context: DynamoDbContext): Promise<object> {
  const { ttlAttribute } = await context.tables.describeTable(input.tableName());
  return {
    TimeToLiveDescription:
      ttlAttribute === undefined
        ? { TimeToLiveStatus: 'DISABLED' }
        : { TimeToLiveStatus: 'ENABLED', AttributeName: ttlAttribute },
  };
}

async function tagResource(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = tableOfArn(input.string('ResourceArn', { required: true, min: 1, max: 1283 }));
  const added = tagsOf(input.objects('Tags', { required: true, min: 1 })!);
  const current = await context.tables.describeTable(name);
  await context.tables.updateTable(name, { tags: { ...current.tags, ...added } });
  return {};
}

async function untagResource(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = tableOfArn(input.string('ResourceArn', { required: true, min: 1, max: 1283 }));
  // Each key is a string of 1 to 128 characters, as in DynamoDB's model; another JSON type was once
  // skipped silently, so the call succeeded without removing what it named.
  const keys = input.strings('TagKeys', { required: true, min: 1, each: { min: 1, max: 128 } })!;
  const current = await context.tables.describeTable(name);
  const tags = { ...current.tags };
  for (const key of keys) delete tags[key];
  await context.tables.updateTable(name, { tags });
  return {};
}

async function listTagsOfResource(input: WireInput, context: DynamoDbContext): Promise<object> {
  const name = tableOfArn(input.string('ResourceArn', { required: true, min: 1, max: 1283 }));
  const { tags = {} } = await context.tables.describeTable(name);
  return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
}

export const tableOperations = {
  CreateTable: createTable,
  DescribeTable: async (input: WireInput, context: DynamoDbContext) => ({
    Table: tableDescriptionWire(await context.tables.describeTable(input.tableName(), { counts: true })),
  }),
  ListTables: listTables,
  UpdateTable: updateTable,
  DeleteTable: async (input: WireInput, context: DynamoDbContext) => ({
    TableDescription: tableDescriptionWire(await context.tables.deleteTable(input.tableName()), true),
  }),
  UpdateTimeToLive: updateTimeToLive,
  DescribeTimeToLive: describeTimeToLive,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsOfResource: listTagsOfResource,
} satisfies Record<string, (input: WireInput, context: DynamoDbContext) => Promise<object>>;
