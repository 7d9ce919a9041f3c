import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { StreamViewType } from '../../store/table-definition.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function streamConformance(backend: BackendUnderTest): void {
  describe(`table streams [${backend.name}]`, () => {
    const t = useEngine(backend);
    const tables = () => t.sluice.tables;
    const streams = () => t.sluice.streams;

    async function jobsTable(viewType: StreamViewType = 'NEW_AND_OLD_IMAGES', shardCount = 4) {
      return tables().createTable({
        name: 'jobs',
        partitionKey: { name: 'pk', type: 'S' },
        sortKey: { name: 'sk', type: 'S' },
        stream: { viewType },
        streamShardCount: shardCount,
      });
    }

    /** Every record of the stream, shard by shard. */
    async function allRecords(table = 'jobs'): Promise<DynamoDBRecord[]> {
      const description = await streams().describeStream(table);
      const records: DynamoDBRecord[] = [];
      for (const shard of description.shards) {
        records.push(
          ...(await streams().getRecords({ streamArn: description.streamArn, shardId: shard.shardId }))
            .records,
        );
      }
      return records;
    }

    it('records INSERT, MODIFY and REMOVE with the images of NEW_AND_OLD_IMAGES in DynamoDB Streams shape', async () => {
      const table = await jobsTable();
      const key = { pk: 'a', sk: '1' };
      await tables().putItem({ tableName: 'jobs', item: { ...key, v: 1 } });
      await tables().updateItem({
        tableName: 'jobs',
        key,
        updateExpression: 'SET v = :v',
        expressionAttributeValues: { ':v': 2 },
      });
      await tables().deleteItem({ tableName: 'jobs', key });
      const records = await allRecords();
      expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
      const [insert, modify, remove] = records as [DynamoDBRecord, DynamoDBRecord, DynamoDBRecord];
      expect(insert).toMatchObject({
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: table.stream!.streamArn,
        dynamodb: {
          ApproximateCreationDateTime: t.clock.now() / 1000,
          Keys: { pk: { S: 'a' }, sk: { S: '1' } },
          NewImage: { pk: { S: 'a' }, sk: { S: '1' }, v: { N: '1' } },
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      });
      expect(insert.dynamodb!.OldImage).toBeUndefined();
      expect(insert.eventID).toMatch(/^[0-9a-f]{32}$/);
      expect(insert.dynamodb!.SequenceNumber).toMatch(/^\d{21}$/);
      expect(insert.dynamodb!.SizeBytes).toBeGreaterThan(0);
      expect(modify.dynamodb).toMatchObject({ OldImage: { v: { N: '1' } }, NewImage: { v: { N: '2' } } });
      expect(remove.dynamodb).toMatchObject({ OldImage: { v: { N: '2' } } });
      expect(remove.dynamodb!.NewImage).toBeUndefined();
      expect(remove.userIdentity).toBeUndefined();
      expect(table.stream!.streamArn).toMatch(
        /^arn:aws:dynamodb:us-east-1:000000000000:table\/jobs\/stream\/2026-01-01T00:00:00\.000$/,
      );
    });

    it('carries only the images the view type asks for', async () => {
      const expected: Record<StreamViewType, [boolean, boolean]> = {
        KEYS_ONLY: [false, false],
        NEW_IMAGE: [true, false],
        OLD_IMAGE: [false, true],
        NEW_AND_OLD_IMAGES: [true, true],
      };
      for (const [viewType, [hasNew, hasOld]] of Object.entries(expected)) {
        const name = `t-${viewType.toLowerCase()}`;
        await tables().createTable({
          name,
          partitionKey: { name: 'id', type: 'S' },
          stream: { viewType: viewType as StreamViewType },
        });
        await tables().putItem({ tableName: name, item: { id: 'x', v: 1 } });
        await tables().putItem({ tableName: name, item: { id: 'x', v: 2 } });
        const modify = (await allRecords(name))[1]!;
        expect(modify.dynamodb!.Keys).toEqual({ id: { S: 'x' } });
        expect(modify.dynamodb!.NewImage !== undefined, `${viewType} NewImage`).toBe(hasNew);
        expect(modify.dynamodb!.OldImage !== undefined, `${viewType} OldImage`).toBe(hasOld);
      }
    });

    it('shows binary values and sets as AttributeValue JSON, binary in base64', async () => {
      await jobsTable('NEW_IMAGE');
      await tables().putItem({
        tableName: 'jobs',
        item: { pk: 'a', sk: '1', b: new Uint8Array([1, 2, 3]), ns: new Set([1, 2]), m: { l: [null, true] } },
      });
      const [record] = await allRecords();
      expect(record!.dynamodb!.NewImage).toMatchObject({
        b: { B: 'AQID' },
        ns: { NS: ['1', '2'] },
        m: { M: { l: { L: [{ NULL: true }, { BOOL: true }] } } },
      });
    });

    it('keeps every record of a partition key in one shard, with sequence numbers growing by one', async () => {
      await jobsTable('KEYS_ONLY', 4);
      for (let i = 0; i < 20; i++)
        await tables().putItem({
          tableName: 'jobs',
          item: { pk: `k${i % 5}`, sk: String(i).padStart(3, '0') },
        });
      const description = await streams().describeStream('jobs');
      expect(description.shards).toHaveLength(4);
      const shardOfKey = new Map<string, string>();
      for (const shard of description.shards) {
        const { records } = await streams().getRecords({
          streamArn: description.streamArn,
          shardId: shard.shardId,
        });
        const seqs = records.map((r) => Number(r.dynamodb!.SequenceNumber));
        expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
        const sortKeys = new Map<string, string[]>();
        for (const record of records) {
          const pk = record.dynamodb!.Keys!.pk!.S!;
          expect(shardOfKey.get(pk) ?? shard.shardId).toBe(shard.shardId);
          shardOfKey.set(pk, shard.shardId);
          sortKeys.set(pk, [...(sortKeys.get(pk) ?? []), record.dynamodb!.Keys!.sk!.S!]);
        }
        for (const keys of sortKeys.values()) expect(keys).toEqual([...keys].sort());
      }
      expect(shardOfKey.size).toBe(5);
    });

    it('reads a shard after a sequence number, with a limit', async () => {
      await jobsTable('KEYS_ONLY', 1);
      for (let i = 0; i < 5; i++)
        await tables().putItem({ tableName: 'jobs', item: { pk: 'a', sk: String(i) } });
      const { streamArn, shards } = await streams().describeStream('jobs');
      const shardId = shards[0]!.shardId;
      const first = await streams().getRecords({ streamArn, shardId, limit: 2 });
      const rest = await streams().getRecords({
        streamArn,
        shardId,
        afterSequenceNumber: first.records[1]!.dynamodb!.SequenceNumber!,
      });
      expect([...first.records, ...rest.records].map((r) => r.dynamodb!.Keys!.sk!.S)).toEqual([
        '0',
        '1',
        '2',
        '3',
        '4',
      ]);
    });

    it('writes no record for a failed condition, a write that changes nothing, or a delete of a missing item', async () => {
      await jobsTable();
      await tables().putItem({ tableName: 'jobs', item: { pk: 'a', sk: '1', v: 1 } });
      await tables().putItem({ tableName: 'jobs', item: { pk: 'a', sk: '1', v: 1 } });
      await tables().deleteItem({ tableName: 'jobs', key: { pk: 'a', sk: 'missing' } });
      await tables()
        .putItem({
          tableName: 'jobs',
          item: { pk: 'a', sk: '1', v: 2 },
          conditionExpression: 'attribute_not_exists(pk)',
        })
        .catch(() => undefined);
      expect((await allRecords()).map((r) => r.eventName)).toEqual(['INSERT']);
    });

    it('writes the records of a transaction together, or none when it is cancelled', async () => {
      await jobsTable('KEYS_ONLY');
      const put = (sk: string) => ({ put: { tableName: 'jobs', item: { pk: 'a', sk } } });
      await tables().transactWriteItems([put('1'), put('2')]);
      await tables()
        .transactWriteItems([
          put('3'),
          {
            put: {
              tableName: 'jobs',
              item: { pk: 'a', sk: '1' },
              conditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ])
        .catch(() => undefined);
      expect((await allRecords()).map((r) => r.dynamodb!.Keys!.sk!.S)).toEqual(['1', '2']);
    });

    it('marks a TTL deletion as done by the DynamoDB service', async () => {
      await tables().createTable({
        name: 'jobs',
        partitionKey: { name: 'pk', type: 'S' },
        stream: { viewType: 'OLD_IMAGE' },
        ttlAttribute: 'ttl',
      });
      await tables().putItem({ tableName: 'jobs', item: { pk: 'a', ttl: t.clock.now() / 1000 + 5 } });
      await t.clock.advance(5_000);
      const remove = (await allRecords()).find((r) => r.eventName === 'REMOVE');
      expect(remove).toMatchObject({
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        dynamodb: { OldImage: { pk: { S: 'a' } } },
      });
    });

    it('trims records once they are 24 hours old', async () => {
      await jobsTable('KEYS_ONLY');
      await tables().putItem({ tableName: 'jobs', item: { pk: 'a', sk: 'old' } });
      await t.clock.advance(12 * 3600_000);
      await tables().putItem({ tableName: 'jobs', item: { pk: 'a', sk: 'new' } });
      await t.clock.advance(12 * 3600_000);
      expect(await allRecords()).toHaveLength(2);
      await t.clock.advance(1);
      expect((await allRecords()).map((r) => r.dynamodb!.Keys!.sk!.S)).toEqual(['new']);
      await t.clock.advance(12 * 3600_000);
      expect(await allRecords()).toEqual([]);
    });

    it('has no stream for a table created without one, until the stream is enabled', async () => {
      await tables().createTable({ name: 'plain', partitionKey: { name: 'id', type: 'S' } });
      await tables().putItem({ tableName: 'plain', item: { id: 'before' } });
      await expectSluiceError(streams().describeStream('plain'), 'ResourceNotFoundException');
      const updated = await tables().updateTable('plain', { stream: { viewType: 'KEYS_ONLY' } });
      await tables().putItem({ tableName: 'plain', item: { id: 'after' } });
      expect((await allRecords('plain')).map((r) => r.dynamodb!.Keys!.id!.S)).toEqual(['after']);
      await expectSluiceError(
        streams().describeStream(updated.tableArn + '/stream/2000-01-01T00:00:00.000'),
        'ResourceNotFoundException',
      );
    });
  });
}
