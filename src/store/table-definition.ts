/**
 * A table's definition as the store keeps it (its key schema, stream and TTL attribute) and a primary
 * key in the byte encoding the store compares (tables/keys.ts encodes it; tables/definition.ts
 * validates a definition). Plain data.
 */
export type KeyType = 'S' | 'N' | 'B';
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface TableStream {
  viewType: StreamViewType;
  /** StreamLabel: the ISO instant the stream was enabled, as DynamoDB names it in the stream ARN. */
  label: string;
}

/** DynamoDB's billing mode and provisioned throughput, kept as declared (nothing is enforced). */
export interface TableCapacity {
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
}

/**
 * A secondary index: its key schema and the attributes it projects. `local` indexes share the table's
 * partition key; `global` ones have their own.
 */
export interface IndexDefinition {
  name: string;
  kind: 'global' | 'local';
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute | null;
  projection: { type: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; nonKeyAttributes?: string[] };
  /** A global index added to a table whose existing items are still being indexed; reads are refused. */
  backfilling?: boolean;
}

export interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute | null;
  stream: TableStream | null;
  ttlAttribute: string | null;
  shardCount: number;
  /** Absent on tables created before these were kept: PAY_PER_REQUEST, no tags. */
  capacity?: TableCapacity;
  tags?: Record<string, string>;
  /** Secondary indexes; absent when none. */
  indexes?: IndexDefinition[];
}

/** A primary key encoded so that unsigned byte order is DynamoDB's key order (see tables/keys.ts). */
export interface EncodedKey {
  pk: Buffer;
  sk: Buffer;
}

/** The names of the definition's indexes still backfilling (each has a lease row, see BackfillLease). */
export function backfillingIndexes(definition: TableDefinition): string[] {
  return (definition.indexes ?? []).filter((index) => index.backfilling).map((index) => index.name);
}

/** Whether a stored definition (its JSON text) still declares the index: a backfill batch checks it. */
export function hasIndex(definitionText: string, index: string): boolean {
  const definition = JSON.parse(definitionText) as TableDefinition;
  return definition.indexes?.some((candidate) => candidate.name === index) ?? false;
}
