/**
 * Exact numbers through the library (tables/expressions/numbers.ts): a NumberValue is kept and returned
 * as given, orders among doubles in a secondary index's keys, travels in stream images as its decimal
 * text, and must be given in its one form.
 */
import { describe, expect, it } from 'vitest';
import { NumberValue } from '../../tables/expressions/index.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function tableNumberConformance(backend: BackendUnderTest): void {
  describe(`table numbers [${backend.name}]`, () => {
    const t = useEngine(backend);
    const tables = () => t.sluice.tables;

    it('keeps NumberValues exactly, orders them among doubles in index keys, and streams their decimal text', async () => {
      const table = await tables().createTable({
        name: 'ledger',
        partitionKey: { name: 'id', type: 'S' },
        stream: { viewType: 'NEW_IMAGE' },
        streamShardCount: 1,
        indexes: [
          { name: 'by-amount', kind: 'global', partitionKey: { name: 'book', type: 'S' }, sortKey: { name: 'amount', type: 'N' }, projection: { type: 'KEYS_ONLY' } },
        ],
      });
      const amounts = [new NumberValue('9007199254740993'), 9007199254740992, new NumberValue('9007199254740992.5'), 1, new NumberValue('-0.10000000000000000000000000000000000001')];
      for (const [i, amount] of amounts.entries())
        await tables().putItem({ tableName: 'ledger', item: { id: `e${i}`, book: 'b', amount } });
      expect((await tables().getItem({ tableName: 'ledger', key: { id: 'e0' } })).item?.amount).toEqual(new NumberValue('9007199254740993'));
      const page = await tables().query({
        tableName: 'ledger',
        indexName: 'by-amount',
        keyConditionExpression: 'book = :b AND amount > :min',
        expressionAttributeValues: { ':b': 'b', ':min': -1 },
      });
      expect(page.items.map((item) => item.id)).toEqual(['e4', 'e3', 'e1', 'e2', 'e0']);
      const stream = await t.sluice.streams.describeStream('ledger');
      const { records } = await t.sluice.streams.getRecords({ streamArn: stream.streamArn, shardId: stream.shards[0]!.shardId });
      expect(records[0]?.dynamodb?.NewImage?.amount).toEqual({ N: '9007199254740993' });
      expect(table.tableName).toBe('ledger');
      // A NumberValue a double holds exactly must be given as that double (one form per number).
      await expectSluiceError(
        tables().putItem({ tableName: 'ledger', item: { id: 'x', n: new NumberValue('1.5') } }),
        'ValidationException',
        /NumberValue 1.5 is exactly the number 1.5/,
      );
      // Nor as a key: 1.5 and NumberValue('1.5') must not be two keys.
      await tables().createTable({ name: 'by-number', partitionKey: { name: 'n', type: 'N' } });
      await tables().putItem({ tableName: 'by-number', item: { n: 1.5 } });
      await expectSluiceError(
        tables().getItem({ tableName: 'by-number', key: { n: new NumberValue('1.50') } }),
        'ValidationException',
        /not in its one form: give it as the number 1.5/,
      );
      await expectSluiceError(
        tables().putItem({ tableName: 'ledger', item: { id: 'x', n: new NumberValue('1'.repeat(39)) } }),
        'ValidationException',
        /more than 38 significant digits/,
      );
    });
  });
}
