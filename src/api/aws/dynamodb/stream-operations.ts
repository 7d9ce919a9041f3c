/**
 * DynamoDB Streams on the wire: ListStreams, DescribeStream, GetShardIterator and GetRecords, over the
 * stream library (streams/service.ts). A shard iterator is an opaque token carrying the stream, the
 * shard, the position (the last sequence number already read) and when it was issued: it expires 15
 * minutes later (ExpiredIteratorException), and a position whose next records were trimmed away (older
 * than 24 hours) is TrimmedDataAccessException, as DynamoDB Streams does.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { Clock } from '../../../model/clock.js';
import { SluiceError } from '../../../model/errors.js';
import type { StreamService } from '../../../streams/service.js';
import { formatSequenceNumber, parseSequenceNumber } from '../../../streams/shards.js';
import type { TableService } from '../../../tables/service.js';
import type { WireInput } from './wire-input.js';
import { wireValidation } from './wire-input.js';

export interface StreamsContext {
  tables: TableService;
  streams: StreamService;
  clock: Clock;
}

/** A shard iterator expires 15 minutes after it was issued. */
export const ITERATOR_LIFETIME_MS = 15 * 60_000;
const ITERATOR_PREFIX = 'sluice-iterator:';
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface IteratorState {
  streamArn: string;
  shardId: string;
  /** The last sequence number already read (0: none). */
  after: number;
  /** TRIM_HORIZON until the first read: starts at the oldest retained record, whatever was trimmed. */
  horizon: boolean;
  issuedAt: number;
}

function encodeIterator(state: IteratorState): string {
  const payload = [state.streamArn, state.shardId, state.after, state.horizon ? 1 : 0, state.issuedAt];
  return ITERATOR_PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url');
}

function invalidIterator(): SluiceError {
  return wireValidation(
    'Invalid ShardIterator: the value is not a shard iterator this node issued',
    'ShardIterator',
  );
}

function decodeIterator(text: string): IteratorState {
  if (!text.startsWith(ITERATOR_PREFIX)) throw invalidIterator();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(text.slice(ITERATOR_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalidIterator();
  }
  if (!Array.isArray(payload) || payload.length !== 5) throw invalidIterator();
  const [streamArn, shardId, after, horizon, issuedAt] = payload as unknown[];
  if (
    typeof streamArn !== 'string' ||
    typeof shardId !== 'string' ||
    !Number.isSafeInteger(after) ||
    (after as number) < 0 ||
    (horizon !== 0 && horizon !== 1) ||
    !Number.isSafeInteger(issuedAt)
  ) {
    throw invalidIterator();
  }
  return { streamArn, shardId, after: after as number, horizon: horizon === 1, issuedAt: issuedAt as number };
}

function trimmed(message: string): SluiceError {
  return new SluiceError('TrimmedDataAccessException', message);
}

/** A stream record in the Streams API's shape: Lambda's record less eventSourceARN, userIdentity capitalised. */
function recordWire(record: DynamoDBRecord): object {
  const { eventSourceARN: _arn, userIdentity, ...rest } = record;
  const identity = userIdentity as { type?: string; principalId?: string } | undefined;
  return identity
    ? { ...rest, userIdentity: { PrincipalId: identity.principalId, Type: identity.type } }
    : rest;
}

async function listStreams(input: WireInput, context: StreamsContext): Promise<object> {
  const tableName = input.has('TableName') ? input.tableName() : undefined;
  const limit = input.integer('Limit', { min: 1, max: 100 }) ?? 100;
  const start = input.string('ExclusiveStartStreamArn', { min: 37, max: 1024 });
  const names = tableName !== undefined ? [tableName] : (await context.tables.listTables()).sort();
  const streams: Array<{ StreamArn: string; TableName: string; StreamLabel: string }> = [];
  for (const name of names) {
    const { stream } = await context.tables.describeTable(name);
    if (stream)
      streams.push({ StreamArn: stream.streamArn, TableName: name, StreamLabel: stream.streamLabel });
  }
  const after = start === undefined ? streams : streams.filter((s) => s.StreamArn > start);
  const page = after.slice(0, limit);
  return {
    Streams: page,
    ...(after.length > limit ? { LastEvaluatedStreamArn: page[page.length - 1]!.StreamArn } : {}),
  };
}

async function describeStream(input: WireInput, context: StreamsContext): Promise<object> {
  const streamArn = input.string('StreamArn', { required: true, min: 37, max: 1024 });
  const limit = input.integer('Limit', { min: 1, max: 100 }) ?? 100;
  const start = input.string('ExclusiveStartShardId', { min: 28, max: 65 });
  const description = await context.streams.describeStream(streamArn);
  const table = await context.tables.describeTable(description.tableName);
  const keys = table.sortKey ? [table.partitionKey, table.sortKey] : [table.partitionKey];
  const shards = [];
  for (const shard of description.shards) {
    if (start !== undefined && shard.shardId <= start) continue;
    const position = await context.streams.shardPosition(streamArn, shard.shardId);
    shards.push({
      ShardId: shard.shardId,
      SequenceNumberRange: {
        StartingSequenceNumber: formatSequenceNumber(position.firstSeq ?? position.lastSeq + 1),
      },
    });
  }
  const page = shards.slice(0, limit);
  return {
    StreamDescription: {
      StreamArn: description.streamArn,
      StreamLabel: description.streamLabel,
      StreamStatus: 'ENABLED',
      StreamViewType: description.viewType,
      CreationRequestDateTime: Date.parse(`${description.streamLabel}Z`) / 1000,
      TableName: description.tableName,
      KeySchema: keys.map((key, i) => ({ AttributeName: key.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      Shards: page,
      ...(shards.length > limit ? { LastEvaluatedShardId: page[page.length - 1]!.ShardId } : {}),
    },
  };
}

function sequenceNumberOf(input: WireInput): number {
  const text = input.string('SequenceNumber', { min: 21, max: 40 });
  if (text === undefined) {
    throw wireValidation(
      'SequenceNumber: must be given when ShardIteratorType is AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER',
      'SequenceNumber',
    );
  }
  const seq = parseSequenceNumber(text);
  if (seq === undefined || seq < 1)
    throw wireValidation(`Invalid SequenceNumber: ${text.slice(0, 40)}`, 'SequenceNumber');
  return seq;
}

/** The shard's position; a shard the stream does not have is ResourceNotFoundException, as in DynamoDB Streams. */
async function shardPositionOf(context: StreamsContext, streamArn: string, shardId: string) {
  try {
    return await context.streams.shardPosition(streamArn, shardId);
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'InvalidParameterValue' && error.field === 'ShardId') {
      throw new SluiceError(
        'ResourceNotFoundException',
        `Requested resource not found: Shard does not exist: ${shardId}`,
        { field: 'ShardId' },
      );
    }
    throw error;
  }
}

async function getShardIterator(input: WireInput, context: StreamsContext): Promise<object> {
  const streamArn = input.string('StreamArn', { required: true, min: 37, max: 1024 });
  const shardId = input.string('ShardId', { required: true, min: 28, max: 65 });
  const type =
    input.oneOf('ShardIteratorType', [
      'TRIM_HORIZON',
      'LATEST',
      'AT_SEQUENCE_NUMBER',
      'AFTER_SEQUENCE_NUMBER',
    ] as const) ?? input.required('ShardIteratorType');
  const position = await shardPositionOf(context, streamArn, shardId);
  const oldest = position.firstSeq ?? position.lastSeq + 1;
  let after: number;
  if (type === 'TRIM_HORIZON') after = oldest - 1;
  else if (type === 'LATEST') after = position.lastSeq;
  else {
    const seq = sequenceNumberOf(input);
    if (seq > position.lastSeq) {
      throw wireValidation(
        `Invalid SequenceNumber: ${formatSequenceNumber(seq)} is beyond the last record of shard ${shardId}`,
        'SequenceNumber',
      );
    }
    if (seq < oldest) {
      throw trimmed(
        `Attempted to access a trimmed record: sequence number ${formatSequenceNumber(seq)} of shard ${shardId} is older than the oldest retained (${formatSequenceNumber(oldest)}); records are kept 24 hours`,
      );
    }
    after = type === 'AT_SEQUENCE_NUMBER' ? seq - 1 : seq;
  }
  const issuedAt = context.clock.now();
  return {
    ShardIterator: encodeIterator({ streamArn, shardId, after, horizon: type === 'TRIM_HORIZON', issuedAt }),
  };
}

async function getRecords(input: WireInput, context: StreamsContext): Promise<object> {
  const iterator = decodeIterator(input.string('ShardIterator', { required: true, min: 1, max: 2048 }));
  const limit = input.integer('Limit', { min: 1, max: 1000 }) ?? 1000;
  const now = context.clock.now();
  if (now - iterator.issuedAt > ITERATOR_LIFETIME_MS) {
    throw new SluiceError(
      'ExpiredIteratorException',
      `Iterator expired. The iterator was created at time ${new Date(iterator.issuedAt).toISOString()} while right now it is ${new Date(now).toISOString()} which is further in the future than the tolerated delay of ${ITERATOR_LIFETIME_MS} milliseconds.`,
    );
  }
  if (!iterator.horizon) {
    const position = await context.streams.shardPosition(iterator.streamArn, iterator.shardId);
    const oldest = position.firstSeq ?? position.lastSeq + 1;
    if (iterator.after + 1 < oldest) {
      throw trimmed(
        `Attempted to access a trimmed record: the iterator's next record (${formatSequenceNumber(iterator.after + 1)}) of shard ${iterator.shardId} was trimmed; the oldest retained is ${formatSequenceNumber(oldest)}`,
      );
    }
  }
  const { records } = await context.streams.getRecords({
    streamArn: iterator.streamArn,
    shardId: iterator.shardId,
    afterSequenceNumber: formatSequenceNumber(iterator.after),
    limit,
  });
  // A response carries at most 1,000 records or 1 MB of them; the next iterator resumes after the last one sent.
  const sent: object[] = [];
  let bytes = 0;
  let last: string | undefined;
  for (const record of records) {
    const wire = recordWire(record);
    bytes += JSON.stringify(wire).length;
    if (sent.length > 0 && bytes > MAX_RESPONSE_BYTES) break;
    sent.push(wire);
    last = record.dynamodb?.SequenceNumber;
  }
  const after = last === undefined ? iterator.after : Number(last);
  return {
    Records: sent,
    NextShardIterator: encodeIterator({
      streamArn: iterator.streamArn,
      shardId: iterator.shardId,
      after,
      horizon: iterator.horizon && last === undefined,
      issuedAt: now,
    }),
  };
}

export const streamOperations = {
  ListStreams: listStreams,
  DescribeStream: describeStream,
  GetShardIterator: getShardIterator,
  GetRecords: getRecords,
} satisfies Record<string, (input: WireInput, context: StreamsContext) => Promise<object>>;
