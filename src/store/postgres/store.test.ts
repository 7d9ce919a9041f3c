import { expect, it, vi } from 'vitest';
import { SluiceError } from '../../model/errors.js';
import { openStore } from '../open.js';
import { parsePostgresUrl } from './connection.js';
import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  openTestStore,
  testPostgresUrl,
} from '../../testkit/postgres.js';

it('reads schema and pool size from the store URL and passes the rest to the driver', () => {
  expect(parsePostgresUrl('postgresql://u@db:5433/app?schema=tenant_1&poolSize=4&sslmode=disable')).toEqual({
    connectionString: 'postgres://u@db:5433/app?sslmode=disable',
    schema: 'tenant_1',
    poolSize: 4,
  });
  expect(parsePostgresUrl('postgres://u@db/app')).toMatchObject({ schema: 'sluice', poolSize: 10 });
  for (const bad of [
    'postgres://db/app?schema=Bad-Name',
    'postgres://db/app?schema=1x',
    'postgres://db/app?poolSize=0',
  ]) {
    expect(() => parsePostgresUrl(bad)).toThrow(SluiceError);
  }
});

describePostgres('postgres store', () => {
  it('opens from a postgres:// or postgresql:// URL through the store registry', async () => {
    const schema = freshSchemaName();
    try {
      for (const scheme of ['postgres', 'postgresql']) {
        const url = `${testPostgresUrl.replace(/^postgres(ql)?:/, `${scheme}:`)}${testPostgresUrl.includes('?') ? '&' : '?'}schema=${schema}`;
        const store = await openStore(url);
        expect(store.kind).toBe('postgres');
        await store.close();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it('sends, receives and deletes a batch of ten in one statement each', async () => {
    const store = await openTestStore();
    try {
      const created = await store.queueCreate({
        name: 'q',
        fifo: false,
        settings: {} as never,
        tags: {},
        now: 1,
        nameReuseDelayMs: 0,
      });
      if (created.outcome === 'deletedRecently') throw new Error('unexpected');
      const queueId = created.queue.id;
      expect(typeof queueId).toBe('number');
      const spy = vi.spyOn(store.pool, 'query');
      // Round trips of the operation itself; wake-up NOTIFYs go out separately, coalesced per turn.
      const statements = () =>
        spy.mock.calls.filter(([config]) => !JSON.stringify(config).includes('pg_notify')).length;
      const messages = Array.from({ length: 10 }, (_, i) => ({
        messageId: `id-${i}`,
        body: `b${i}`,
        messageAttributes: null,
        groupId: null,
        deduplicationId: null,
        visibleAt: 1,
      }));
      const sent = await store.messageSend({
        queueId,
        fifo: false,
        deduplicationByGroup: false,
        messages,
        now: 1,
        deduplicationWindowMs: 0,
      });
      expect(statements()).toBe(1);
      expect(sent).toHaveLength(10);
      const seqs = (sent as Array<{ seq: number }>).map((s) => s.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y)); // entry order is sequence order
      spy.mockClear();
      const received = await store.messageReceive({
        queueId,
        fifo: false,
        maxMessages: 10,
        now: 2,
        visibleAt: 1000,
        expiredBefore: 0,
        receiptToken: 't',
        deadLetter: null,
      });
      expect(statements()).toBe(1);
      expect(received.messages.map((m) => m.body)).toEqual(messages.map((m) => m.body));
      spy.mockClear();
      const deleted = await store.messageDelete({
        queueId,
        fifo: false,
        receipts: received.messages.map((m) => ({ seq: m.seq, token: 't' })),
      });
      expect(statements()).toBe(1);
      expect(deleted).toEqual(Array(10).fill('deleted'));
      spy.mockRestore();
    } finally {
      await store.close();
    }
  });
});
