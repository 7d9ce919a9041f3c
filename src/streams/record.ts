/**
 * Stream records in DynamoDB Streams' shape (`DynamoDBRecord` of @types/aws-lambda).
 *
 * A write drafts the record's `dynamodb` part once, in its transaction, with the images its view type
 * asks for converted to AttributeValue JSON (binary as base64, as Lambda delivers it). Reading adds what
 * depends on where the record ended up: its sequence number, an eventID derived from table, shard and
 * sequence number (stable across redeliveries), and the stream's ARN and region.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { StreamEventName, StreamRecordDraft, StreamRecordRow } from '../store/table-store.js';
import type { StreamViewType } from '../store/table-definition.js';
import type { Item } from '../tables/expressions/index.js';
import { itemSize } from '../tables/item-size.js';
import { formatSequenceNumber } from './shards.js';

export const serviceIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

const marshallOptions = { removeUndefinedValues: true, allowImpreciseNumbers: true } as const;

/** Binary values leave as base64, which is how AttributeValue JSON carries them. */
function wireReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array
    ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
    : value;
}

export interface RecordChange {
  viewType: StreamViewType;
  eventName: StreamEventName;
  keys: Item;
  oldItem: Item | undefined;
  newItem: Item | undefined;
  now: number;
  byService: boolean;
}

export function draftRecord(change: RecordChange): StreamRecordDraft {
  const withNew =
    change.newItem && (change.viewType === 'NEW_IMAGE' || change.viewType === 'NEW_AND_OLD_IMAGES');
  const withOld =
    change.oldItem && (change.viewType === 'OLD_IMAGE' || change.viewType === 'NEW_AND_OLD_IMAGES');
  let size = itemSize(change.keys);
  if (withNew) size += itemSize(change.newItem!);
  if (withOld) size += itemSize(change.oldItem!);
  const dynamodb = {
    ApproximateCreationDateTime: Math.floor(change.now / 1000),
    Keys: marshall(change.keys, marshallOptions),
    ...(withNew ? { NewImage: marshall(change.newItem!, marshallOptions) } : {}),
    ...(withOld ? { OldImage: marshall(change.oldItem!, marshallOptions) } : {}),
    SizeBytes: size,
    StreamViewType: change.viewType,
  };
  return {
    eventName: change.eventName,
    body: JSON.stringify(dynamodb, wireReplacer),
    byService: change.byService,
  };
}

export interface StreamAddress {
  tableId: number;
  streamArn: string;
  region: string;
}

/** 32 hex digits, unique per table, shard and sequence number, like DynamoDB's eventIDs. */
export function eventIdOf(tableId: number, shard: number, seq: number): string {
  return (
    tableId.toString(16).padStart(8, '0') +
    shard.toString(16).padStart(4, '0') +
    seq.toString(16).padStart(20, '0')
  );
}

export function shapeRecord(row: StreamRecordRow, address: StreamAddress): DynamoDBRecord {
  const dynamodb = JSON.parse(row.body) as NonNullable<DynamoDBRecord['dynamodb']>;
  dynamodb.SequenceNumber = formatSequenceNumber(row.seq);
  const record: DynamoDBRecord = {
    eventID: eventIdOf(address.tableId, row.shard, row.seq),
    eventName: row.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: address.region,
    dynamodb,
    eventSourceARN: address.streamArn,
  };
  if (row.byService) record.userIdentity = { ...serviceIdentity };
  return record;
}
