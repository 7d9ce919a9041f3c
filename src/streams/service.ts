/**
 * Change streams, read directly (DynamoDB Streams' DescribeStream and GetRecords) and resolved for
 * stream triggers. A table's stream is named by its ARN (`.../table/NAME/stream/LABEL`); records are
 * read per shard after a sequence number.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { ArnContext } from '../model/arn.js';
import { parseArn } from '../model/arn.js';
import { SluiceError } from '../model/errors.js';
import type { Store } from '../store/store.js';
import type { StoredTable, StreamRecordRow } from '../store/table-store.js';
import type { StreamViewType } from '../store/table-definition.js';
import type { TableService } from '../tables/service.js';
import { shapeRecord } from './record.js';
import { formatSequenceNumber, parseSequenceNumber, shardFromId, shardIdOf } from './shards.js';

export interface StreamServiceOptions {
  store: Store;
  tables: TableService;
  arn: ArnContext;
}

export interface StreamDescription {
  streamArn: string;
  streamLabel: string;
  tableName: string;
  viewType: StreamViewType;
  shards: Array<{
    shardId: string;
    sequenceNumberRange: { startingSequenceNumber?: string; endingSequenceNumber?: string };
  }>;
}

/** A table with its stream, as a trigger or a reader needs it. */
export interface ResolvedStream {
  table: StoredTable;
  streamArn: string;
}

const maxRecordsPerRead = 1000;

export class StreamService {
  private readonly store: Store;
  private readonly tables: TableService;
  private readonly arnContext: ArnContext;

  constructor(options: StreamServiceOptions) {
    this.store = options.store;
    this.tables = options.tables;
    this.arnContext = options.arn;
  }

  /** Accepts a stream ARN or a table name; fails when the table has no stream (or another one now). */
  async resolve(streamArnOrTable: string): Promise<ResolvedStream> {
    const parsed = parseArn(streamArnOrTable);
    let tableName = streamArnOrTable;
    let label: string | undefined;
    if (parsed) {
      const match = /^table\/([^/]+)\/stream\/(.+)$/.exec(parsed.resource);
      if (parsed.service !== 'dynamodb' || !match) {
        throw new SluiceError(
          'ValidationException',
          `StreamArn: '${streamArnOrTable}' is not a DynamoDB stream ARN`,
          { field: 'StreamArn' },
        );
      }
      tableName = match[1] as string;
      label = match[2];
    }
    const table = await this.tables.require(tableName);
    const streamArn = this.tables.streamArnOf(table);
    if (!streamArn || (label !== undefined && label !== table.definition.stream?.label)) {
      throw new SluiceError(
        'ResourceNotFoundException',
        `Requested resource not found: Stream: ${streamArnOrTable} not found`,
        {
          field: 'StreamArn',
        },
      );
    }
    return { table, streamArn };
  }

  async describeStream(streamArnOrTable: string): Promise<StreamDescription> {
    const { table, streamArn } = await this.resolve(streamArnOrTable);
    const shards = await this.store.streamShards({ tableId: table.id });
    return {
      streamArn,
      streamLabel: table.definition.stream!.label,
      tableName: table.name,
      viewType: table.definition.stream!.viewType,
      shards: shards.map((shard) => ({
        shardId: shardIdOf(shard.shard),
        sequenceNumberRange:
          shard.firstSeq === null ? {} : { startingSequenceNumber: formatSequenceNumber(shard.firstSeq) },
      })),
    };
  }

  /**
   * Where a shard stands: its lowest retained sequence number (null when it holds none) and the highest
   * ever given (0 before the first record). A reader compares them with its position to tell records
   * trimmed away (below the first retained) from records not written yet.
   */
  async shardPosition(streamArnOrTable: string, shardId: string): Promise<{ firstSeq: number | null; lastSeq: number }> {
    const { table } = await this.resolve(streamArnOrTable);
    const shard = shardFromId(shardId, table.definition.shardCount);
    const state = (await this.store.streamShards({ tableId: table.id })).find((s) => s.shard === shard);
    return { firstSeq: state?.firstSeq ?? null, lastSeq: state?.lastSeq ?? 0 };
  }

  /** Records of one shard after a sequence number (from the oldest retained when none), in order. */
  async getRecords(input: {
    streamArn: string;
    shardId: string;
    afterSequenceNumber?: string;
    limit?: number;
  }): Promise<{ records: DynamoDBRecord[] }> {
    const resolved = await this.resolve(input.streamArn);
    const shard = shardFromId(input.shardId, resolved.table.definition.shardCount);
    const afterSeq =
      input.afterSequenceNumber === undefined ? 0 : parseSequenceNumber(input.afterSequenceNumber);
    if (afterSeq === undefined) {
      throw new SluiceError(
        'ValidationException',
        `SequenceNumber: '${input.afterSequenceNumber}' is not a sequence number`,
        {
          field: 'SequenceNumber',
        },
      );
    }
    const limit = input.limit ?? maxRecordsPerRead;
    if (!Number.isInteger(limit) || limit < 1 || limit > maxRecordsPerRead) {
      throw new SluiceError(
        'ValidationException',
        `Limit: ${limit} is invalid; must be an integer from 1 to ${maxRecordsPerRead}`,
        {
          field: 'Limit',
        },
      );
    }
    const rows = await this.store.streamRead({ tableId: resolved.table.id, shard, afterSeq, limit });
    return { records: rows.map((row) => this.shape(resolved, row)) };
  }

  shape(resolved: ResolvedStream, row: StreamRecordRow): DynamoDBRecord {
    return shapeRecord(row, {
      tableId: resolved.table.id,
      streamArn: resolved.streamArn,
      region: this.arnContext.region,
    });
  }
}
