import { describe, expect, it } from 'vitest';
import type { ConditionalCheckFailed, TransactionCanceled } from '../../tables/errors.js';
import type { Item } from '../../tables/expressions/index.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function tableConformance(backend: BackendUnderTest): void {
  describe(`tables [${backend.name}]`, () => {
    const t = useEngine(backend);
    const tables = () => t.sluice.tables;

    async function ordersTable(sortType: 'S' | 'N' | 'B' = 'S') {
      return tables().createTable({
        name: 'orders',
        partitionKey: { name: 'customer', type: 'S' },
        sortKey: { name: 'order', type: sortType },
      });
    }

    const sortKeys = async (input: Parameters<ReturnType<typeof tables>['query']>[0]) =>
      (await tables().query(input)).items.map((item) => item.order);

    it('creates a table, describes it and lists it; creating it again with the same definition returns it', async () => {
      const created = await ordersTable();
      expect(created).toMatchObject({
        tableName: 'orders',
        tableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders',
        partitionKey: { name: 'customer', type: 'S' },
        sortKey: { name: 'order', type: 'S' },
      });
      expect(await ordersTable()).toEqual(created);
      expect(await tables().listTables()).toEqual(['orders']);
      await expectSluiceError(
        tables().createTable({ name: 'orders', partitionKey: { name: 'customer', type: 'N' } }),
        'ResourceInUseException',
        /already exists/,
      );
    });

    it("counts a table's items and their size when a description asks for them", async () => {
      await ordersTable();
      expect(await tables().describeTable('orders')).not.toHaveProperty('itemCount');
      expect(await tables().describeTable('orders', { counts: true })).toMatchObject({
        itemCount: 0,
        sizeBytes: 0,
      });
      await tables().putItem({ tableName: 'orders', item: { customer: 'c1', order: 'o1', note: 'abc' } });
      await tables().putItem({ tableName: 'orders', item: { customer: 'c2', order: 'o1' } });
      const described = await tables().describeTable('orders', { counts: true });
      expect(described.itemCount).toBe(2);
      // Attribute names and string values count their UTF-8 bytes: 'customer'+'c1'+'order'+'o1'+'note'+'abc', and the same without the note.
      expect(described.sizeBytes).toBe(8 + 2 + 5 + 2 + 4 + 3 + (8 + 2 + 5 + 2));
    });

    it('reads several items of several tables at once, in the order asked, with their projections', async () => {
      await ordersTable();
      await tables().createTable({ name: 'things', partitionKey: { name: 'id', type: 'N' } });
      await tables().putItem({ tableName: 'orders', item: { customer: 'c1', order: 'o1', note: 'x' } });
      await tables().putItem({ tableName: 'things', item: { id: 7, name: 'seven' } });
      const items = await tables().transactGetItems([
        {
          tableName: 'things',
          key: { id: 7 },
          projectionExpression: '#n',
          expressionAttributeNames: { '#n': 'name' },
        },
        { tableName: 'orders', key: { customer: 'c1', order: 'missing' } },
        { tableName: 'orders', key: { customer: 'c1', order: 'o1' } },
      ]);
      expect(items).toEqual([{ name: 'seven' }, undefined, { customer: 'c1', order: 'o1', note: 'x' }]);
      const batch = await tables().batchGetItem([
        {
          tableName: 'orders',
          keys: [
            { customer: 'c1', order: 'o1' },
            { customer: 'c9', order: 'o1' },
          ],
        },
        { tableName: 'things', keys: [{ id: 7 }] },
      ]);
      expect(batch).toEqual({
        responses: {
          orders: [{ customer: 'c1', order: 'o1', note: 'x' }],
          things: [{ id: 7, name: 'seven' }],
        },
        unprocessedKeys: [],
      });
    });

    it('rejects a key schema with a type other than S, N or B, naming the field', async () => {
      const error = await expectSluiceError(
        tables().createTable({ name: 'bad', partitionKey: { name: 'id', type: 'BOOL' as 'S' } }),
        'ValidationException',
        /must be S, N or B/,
      );
      expect(error.field).toBe('partitionKey.type');
    });

    it('puts and gets items of every value type unchanged', async () => {
      await tables().createTable({ name: 'things', partitionKey: { name: 'id', type: 'S' } });
      const item: Item = {
        id: 'a',
        s: 'text',
        n: -12.5,
        b: new Uint8Array([0, 1, 255]),
        t: true,
        z: null,
        l: [1, 'two', { three: 3 }],
        m: { nested: { deep: [true] } },
        dollar: { $B: 'not a tag' },
        ss: new Set(['x', 'y']),
        ns: new Set([1, 2]),
        bs: new Set([new Uint8Array([7])]),
      };
      await tables().putItem({ tableName: 'things', item });
      const { item: read } = await tables().getItem({ tableName: 'things', key: { id: 'a' } });
      expect(read).toEqual(item);
      expect(await tables().getItem({ tableName: 'things', key: { id: 'missing' } })).toEqual({});
    });

    it('projects a get to the named attributes', async () => {
      await tables().createTable({ name: 'things', partitionKey: { name: 'id', type: 'S' } });
      await tables().putItem({ tableName: 'things', item: { id: 'a', x: 1, y: { z: 2, w: 3 } } });
      const { item } = await tables().getItem({
        tableName: 'things',
        key: { id: 'a' },
        projectionExpression: 'x, #y.z',
        expressionAttributeNames: { '#y': 'y' },
      });
      expect(item).toEqual({ x: 1, y: { z: 2 } });
    });

    it('rejects an item without its key, with a key of the wrong type, or over 400 KB', async () => {
      await ordersTable();
      await expectSluiceError(
        tables().putItem({ tableName: 'orders', item: { customer: 'c' } }),
        'ValidationException',
        /Missing the key order/,
      );
      await expectSluiceError(
        tables().putItem({ tableName: 'orders', item: { customer: 'c', order: 5 } }),
        'ValidationException',
        /Type mismatch for key order expected: S actual: N/,
      );
      await expectSluiceError(
        tables().putItem({
          tableName: 'orders',
          item: { customer: 'c', order: 'o', big: 'x'.repeat(410_000) },
        }),
        'ValidationException',
        /limit is 409600 bytes/,
      );
      await expectSluiceError(
        tables().getItem({ tableName: 'orders', key: { customer: 'c' } }),
        'ValidationException',
        /does not match the schema/,
      );
    });

    it('fails a conditional put with ConditionalCheckFailedException and writes nothing', async () => {
      await ordersTable();
      const put = (status: string) =>
        tables().putItem({
          tableName: 'orders',
          item: { customer: 'c', order: 'o1', status },
          conditionExpression: 'attribute_not_exists(customer)',
          returnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
      await put('new');
      const error = await expectSluiceError(
        put('again'),
        'ConditionalCheckFailedException',
        /conditional request failed/,
      );
      expect((error as ConditionalCheckFailed).item).toEqual({ customer: 'c', order: 'o1', status: 'new' });
      expect(
        (await tables().getItem({ tableName: 'orders', key: { customer: 'c', order: 'o1' } })).item?.status,
      ).toBe('new');
    });

    it('returns the replaced item when a put asks for ALL_OLD', async () => {
      await ordersTable();
      await tables().putItem({ tableName: 'orders', item: { customer: 'c', order: 'o1', v: 1 } });
      const result = await tables().putItem({
        tableName: 'orders',
        item: { customer: 'c', order: 'o1', v: 2 },
        returnValues: 'ALL_OLD',
      });
      expect(result.attributes).toEqual({ customer: 'c', order: 'o1', v: 1 });
    });

    it('updates with SET, REMOVE and ADD, creating a missing item from its key', async () => {
      await ordersTable();
      const key = { customer: 'c', order: 'o1' };
      const created = await tables().updateItem({
        tableName: 'orders',
        key,
        updateExpression: 'SET #s = :s ADD retries :one',
        expressionAttributeNames: { '#s': 'status' },
        expressionAttributeValues: { ':s': 'queued', ':one': 1 },
        returnValues: 'ALL_NEW',
      });
      expect(created.attributes).toEqual({ ...key, status: 'queued', retries: 1 });
      const updated = await tables().updateItem({
        tableName: 'orders',
        key,
        updateExpression: 'REMOVE #s ADD retries :one',
        conditionExpression: 'retries < :max',
        expressionAttributeNames: { '#s': 'status' },
        expressionAttributeValues: { ':one': 1, ':max': 5 },
        returnValues: 'UPDATED_OLD',
      });
      expect(updated.attributes).toEqual({ status: 'queued', retries: 1 });
      expect((await tables().getItem({ tableName: 'orders', key })).item).toEqual({ ...key, retries: 2 });
    });

    it('refuses an update of a key attribute', async () => {
      await ordersTable();
      await expectSluiceError(
        tables().updateItem({
          tableName: 'orders',
          key: { customer: 'c', order: 'o' },
          updateExpression: 'SET #o = :o',
          expressionAttributeNames: { '#o': 'order' },
          expressionAttributeValues: { ':o': 'x' },
        }),
        'ValidationException',
        /part of the key/,
      );
    });

    it('deletes with a condition and returns the old item', async () => {
      await ordersTable();
      const key = { customer: 'c', order: 'o1' };
      await tables().putItem({ tableName: 'orders', item: { ...key, status: 'done' } });
      await expectSluiceError(
        tables().deleteItem({
          tableName: 'orders',
          key,
          conditionExpression: '#s = :s',
          expressionAttributeNames: { '#s': 'status' },
          expressionAttributeValues: { ':s': 'queued' },
        }),
        'ConditionalCheckFailedException',
      );
      const deleted = await tables().deleteItem({ tableName: 'orders', key, returnValues: 'ALL_OLD' });
      expect(deleted.attributes).toEqual({ ...key, status: 'done' });
      expect(await tables().getItem({ tableName: 'orders', key })).toEqual({});
      expect(await tables().deleteItem({ tableName: 'orders', key, returnValues: 'ALL_OLD' })).toEqual({});
    });

    it('expresses the token table of a recursive worker: a heartbeat upsert fails once the token is gone', async () => {
      await tables().createTable({
        name: 'tokens',
        partitionKey: { name: 'queueUrl', type: 'S' },
        sortKey: { name: 'token', type: 'S' },
      });
      const key = { queueUrl: 'https://sqs/q1', token: 't-1' };
      await tables().putItem({ tableName: 'tokens', item: { ...key, loopId: 'loop-a' } });
      const heartbeat = (loopId: string, lastUsed: number) =>
        tables().updateItem({
          tableName: 'tokens',
          key,
          updateExpression: 'SET last_used = :now',
          conditionExpression: 'attribute_exists(#t) AND loopId = :loop',
          expressionAttributeNames: { '#t': 'token' },
          expressionAttributeValues: { ':now': lastUsed, ':loop': loopId },
        });
      await heartbeat('loop-a', 1000);
      expect((await tables().getItem({ tableName: 'tokens', key })).item?.last_used).toBe(1000);
      // A restarted loop took the token over: the overrunning loop's heartbeat fails.
      await expectSluiceError(heartbeat('loop-b', 2000), 'ConditionalCheckFailedException');
      // Scaling down deletes the token: the loop's next heartbeat fails and must not recreate the row.
      await tables().deleteItem({ tableName: 'tokens', key });
      await expectSluiceError(heartbeat('loop-a', 3000), 'ConditionalCheckFailedException');
      expect(await tables().getItem({ tableName: 'tokens', key })).toEqual({});
      // The restart function scans for tokens whose heartbeat is missing or older than a threshold.
      await tables().putItem({
        tableName: 'tokens',
        item: { queueUrl: 'https://sqs/q1', token: 't-2', last_used: 10 },
      });
      await tables().putItem({ tableName: 'tokens', item: { queueUrl: 'https://sqs/q1', token: 't-3' } });
      const stale = await tables().scan({
        tableName: 'tokens',
        filterExpression: 'attribute_not_exists(last_used) OR last_used < :threshold',
        expressionAttributeValues: { ':threshold': 100 },
      });
      expect(stale.items.map((item) => item.token).sort()).toEqual(['t-2', 't-3']);
    });

    it('queries a partition with every sort-key condition, in both directions', async () => {
      await ordersTable();
      for (const order of ['a1', 'a2', 'b1', 'b2', 'c1'])
        await tables().putItem({ tableName: 'orders', item: { customer: 'c', order } });
      await tables().putItem({ tableName: 'orders', item: { customer: 'other', order: 'a1' } });
      const q = (condition: string, values: Item, forward = true) =>
        sortKeys({
          tableName: 'orders',
          keyConditionExpression: `customer = :c${condition}`,
          expressionAttributeValues: { ':c': 'c', ...values },
          scanIndexForward: forward,
        });
      expect(await q('', {})).toEqual(['a1', 'a2', 'b1', 'b2', 'c1']);
      expect(await q('', {}, false)).toEqual(['c1', 'b2', 'b1', 'a2', 'a1']);
      const named = (condition: string, values: Item, forward = true) =>
        sortKeys({
          tableName: 'orders',
          keyConditionExpression: `customer = :c AND ${condition}`,
          expressionAttributeNames: { '#o': 'order' },
          expressionAttributeValues: { ':c': 'c', ...values },
          scanIndexForward: forward,
        });
      expect(await named('#o = :v', { ':v': 'b1' })).toEqual(['b1']);
      expect(await named('#o < :v', { ':v': 'b1' })).toEqual(['a1', 'a2']);
      expect(await named('#o <= :v', { ':v': 'b1' })).toEqual(['a1', 'a2', 'b1']);
      expect(await named('#o > :v', { ':v': 'b1' })).toEqual(['b2', 'c1']);
      expect(await named('#o >= :v', { ':v': 'b1' }, false)).toEqual(['c1', 'b2', 'b1']);
      expect(await named('#o BETWEEN :lo AND :hi', { ':lo': 'a2', ':hi': 'b2' })).toEqual(['a2', 'b1', 'b2']);
      expect(await named('begins_with(#o, :p)', { ':p': 'b' }, false)).toEqual(['b2', 'b1']);
    });

    it('orders numeric sort keys numerically, negatives first', async () => {
      await ordersTable('N');
      for (const order of [10, -3.5, 2, 0, -100, 1e9])
        await tables().putItem({ tableName: 'orders', item: { customer: 'c', order } });
      const all = await sortKeys({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        expressionAttributeValues: { ':c': 'c' },
      });
      expect(all).toEqual([-100, -3.5, 0, 2, 10, 1e9]);
      const between = await sortKeys({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c AND #o BETWEEN :lo AND :hi',
        expressionAttributeNames: { '#o': 'order' },
        expressionAttributeValues: { ':c': 'c', ':lo': -4, ':hi': 2 },
      });
      expect(between).toEqual([-3.5, 0, 2]);
    });

    it('orders binary sort keys by unsigned bytes and matches binary prefixes', async () => {
      await ordersTable('B');
      const bytes = [[0xff], [0x01, 0x02], [0x01], [0x80, 0x00], [0x01, 0xff]].map((b) => new Uint8Array(b));
      for (const order of bytes)
        await tables().putItem({ tableName: 'orders', item: { customer: 'c', order } });
      const all = await sortKeys({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        expressionAttributeValues: { ':c': 'c' },
      });
      expect(all.map((b) => [...(b as Uint8Array)])).toEqual([
        [0x01],
        [0x01, 0x02],
        [0x01, 0xff],
        [0x80, 0x00],
        [0xff],
      ]);
      const prefixed = await sortKeys({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c AND begins_with(#o, :p)',
        expressionAttributeNames: { '#o': 'order' },
        expressionAttributeValues: { ':c': 'c', ':p': new Uint8Array([0x01]) },
      });
      expect(prefixed).toHaveLength(3);
    });

    it('pages a query with limit and lastEvaluatedKey in both directions', async () => {
      await ordersTable();
      const orders = Array.from({ length: 7 }, (_, i) => `o${i}`);
      for (const order of orders)
        await tables().putItem({ tableName: 'orders', item: { customer: 'c', order } });
      for (const forward of [true, false]) {
        const seen: unknown[] = [];
        let start: Item | undefined;
        let pages = 0;
        do {
          const page = await tables().query({
            tableName: 'orders',
            keyConditionExpression: 'customer = :c',
            expressionAttributeValues: { ':c': 'c' },
            scanIndexForward: forward,
            limit: 3,
            ...(start ? { exclusiveStartKey: start } : {}),
          });
          seen.push(...page.items.map((item) => item.order));
          start = page.lastEvaluatedKey;
          pages++;
        } while (start);
        expect(seen).toEqual(forward ? orders : [...orders].reverse());
        expect(pages).toBe(3);
      }
    });

    it('counts a filtered query: limit applies before the filter, as in DynamoDB', async () => {
      await ordersTable();
      for (let i = 0; i < 6; i++)
        await tables().putItem({
          tableName: 'orders',
          item: { customer: 'c', order: `o${i}`, odd: i % 2 === 1 },
        });
      const page = await tables().query({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        filterExpression: 'odd = :t',
        expressionAttributeValues: { ':c': 'c', ':t': true },
        limit: 4,
      });
      expect(page).toMatchObject({
        count: 2,
        scannedCount: 4,
        lastEvaluatedKey: { customer: 'c', order: 'o3' },
      });
    });

    it('scans every item once across pages', async () => {
      await ordersTable();
      const keys: string[] = [];
      for (let i = 0; i < 11; i++) {
        await tables().putItem({ tableName: 'orders', item: { customer: `c${i % 4}`, order: `o${i}` } });
        keys.push(`c${i % 4}/o${i}`);
      }
      const seen: string[] = [];
      let start: Item | undefined;
      do {
        const page = await tables().scan({
          tableName: 'orders',
          limit: 4,
          ...(start ? { exclusiveStartKey: start } : {}),
        });
        seen.push(...page.items.map((item) => `${String(item.customer)}/${String(item.order)}`));
        start = page.lastEvaluatedKey;
      } while (start);
      expect(seen.sort()).toEqual(keys.sort());
    });

    it('batch-writes up to 25 puts and deletes, and refuses 26 or a duplicate key', async () => {
      await ordersTable();
      await tables().putItem({ tableName: 'orders', item: { customer: 'c', order: 'gone' } });
      const puts = Array.from({ length: 24 }, (_, i) => ({
        tableName: 'orders',
        put: { customer: 'c', order: `o${i}` },
      }));
      const result = await tables().batchWriteItem([
        ...puts,
        { tableName: 'orders', delete: { customer: 'c', order: 'gone' } },
      ]);
      expect(result.unprocessedItems).toEqual([]);
      const all = await tables().query({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        expressionAttributeValues: { ':c': 'c' },
      });
      expect(all.count).toBe(24);
      await expectSluiceError(
        tables().batchWriteItem(
          [...puts, ...puts.slice(0, 2)].map((p, i) => ({ ...p, put: { ...p.put, order: `x${i}` } })),
        ),
        'ValidationException',
        /must hold 1 to 25/,
      );
      await expectSluiceError(
        tables().batchWriteItem([puts[0]!, puts[0]!]),
        'ValidationException',
        /duplicates/,
      );
    });

    it('applies a transaction of up to 100 actions all or nothing, reporting a reason per action', async () => {
      await ordersTable();
      await tables().putItem({ tableName: 'orders', item: { customer: 'c', order: 'taken' } });
      const puts = Array.from({ length: 99 }, (_, i) => ({
        put: { tableName: 'orders', item: { customer: 't', order: `o${i}` } },
      }));
      const error = await expectSluiceError(
        tables().transactWriteItems([
          ...puts,
          {
            conditionCheck: {
              tableName: 'orders',
              key: { customer: 'c', order: 'taken' },
              conditionExpression: 'attribute_not_exists(customer)',
              returnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ]),
        'TransactionCanceledException',
      );
      const reasons = (error as TransactionCanceled).cancellationReasons;
      expect(reasons).toHaveLength(100);
      expect(reasons[0]).toEqual({ code: 'None' });
      expect(reasons[99]).toMatchObject({
        code: 'ConditionalCheckFailed',
        item: { customer: 'c', order: 'taken' },
      });
      const none = await tables().query({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        expressionAttributeValues: { ':c': 't' },
      });
      expect(none.count).toBe(0);

      await tables().transactWriteItems([
        ...puts,
        {
          update: {
            tableName: 'orders',
            key: { customer: 'c', order: 'taken' },
            updateExpression: 'SET done = :t',
            expressionAttributeValues: { ':t': true },
          },
        },
      ]);
      const all = await tables().query({
        tableName: 'orders',
        keyConditionExpression: 'customer = :c',
        expressionAttributeValues: { ':c': 't' },
      });
      expect(all.count).toBe(99);
      await expectSluiceError(
        tables().transactWriteItems([...puts, ...puts.slice(0, 2)]),
        'ValidationException',
        /must hold 1 to 100/,
      );
      await expectSluiceError(
        tables().transactWriteItems([puts[0]!, puts[0]!]),
        'ValidationException',
        /multiple operations on one item/,
      );
    });

    it('reports a missing table as ResourceNotFoundException', async () => {
      await expectSluiceError(
        tables().getItem({ tableName: 'nope', key: { id: 'a' } }),
        'ResourceNotFoundException',
        /Table: nope not found/,
      );
      await ordersTable();
      await tables().deleteTable('orders');
      await expectSluiceError(
        tables().putItem({ tableName: 'orders', item: { customer: 'c', order: 'o' } }),
        'ResourceNotFoundException',
      );
    });

    it('deletes an expired item in the background when its TTL passes, and not before', async () => {
      await tables().createTable({
        name: 'sessions',
        partitionKey: { name: 'id', type: 'S' },
        ttlAttribute: 'expiresAt',
      });
      const now = t.clock.now();
      await tables().putItem({ tableName: 'sessions', item: { id: 'short', expiresAt: now / 1000 + 60 } });
      await tables().putItem({ tableName: 'sessions', item: { id: 'long', expiresAt: now / 1000 + 3600 } });
      await tables().putItem({ tableName: 'sessions', item: { id: 'forever', expiresAt: 'not a number' } });
      await t.clock.advance(59_999);
      expect((await tables().getItem({ tableName: 'sessions', key: { id: 'short' } })).item).toBeDefined();
      await t.clock.advance(1);
      expect(await tables().getItem({ tableName: 'sessions', key: { id: 'short' } })).toEqual({});
      expect((await tables().getItem({ tableName: 'sessions', key: { id: 'long' } })).item).toBeDefined();
      await t.clock.advance(3_600_000);
      const left = await tables().scan({ tableName: 'sessions' });
      expect(left.items.map((item) => item.id)).toEqual(['forever']);
    });

    it('keeps an item whose TTL was extended before it came due', async () => {
      await tables().createTable({
        name: 'sessions',
        partitionKey: { name: 'id', type: 'S' },
        ttlAttribute: 'expiresAt',
      });
      const seconds = t.clock.now() / 1000;
      await tables().putItem({ tableName: 'sessions', item: { id: 's', expiresAt: seconds + 10 } });
      await tables().putItem({ tableName: 'sessions', item: { id: 's', expiresAt: seconds + 100 } });
      await t.clock.advance(10_000);
      expect((await tables().getItem({ tableName: 'sessions', key: { id: 's' } })).item).toBeDefined();
      await t.clock.advance(90_000);
      expect(await tables().getItem({ tableName: 'sessions', key: { id: 's' } })).toEqual({});
    });

    it('issues no store queries while idle, even with TTL items waiting to expire', async () => {
      await tables().createTable({
        name: 'sessions',
        partitionKey: { name: 'id', type: 'S' },
        ttlAttribute: 'expiresAt',
      });
      await tables().putItem({
        tableName: 'sessions',
        item: { id: 's', expiresAt: t.clock.now() / 1000 + 3600 },
      });
      t.counter.reset();
      await t.clock.advance(3_599_000);
      expect(Object.fromEntries(t.counter.calls)).toEqual({});
    });
  });
}
