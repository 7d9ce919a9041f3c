/**
 * TransactWriteItems' ClientRequestToken kept in the store (tables/request-tokens.ts): a repeat within 10
 * minutes is recognized by another service on the same store (another node, or this one restarted),
 * applies nothing, and a different request with the token is refused; after 10 minutes the token is
 * forgotten; a cancelled transaction takes no token.
 */
import { describe, expect, it } from 'vitest';
import { TableService } from '../../tables/service.js';
import type { TransactWriteAction } from '../../tables/types.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

export function tableRequestTokenConformance(backend: BackendUnderTest): void {
  describe(`table request tokens [${backend.name}]`, () => {
    const t = useEngine(backend);

    it('answers TransactionInProgressException to a repeat made while the first call with the token is being applied', async () => {
      const tables = t.sluice.tables;
      await tables.createTable({ name: 'accounts', partitionKey: { name: 'id', type: 'S' } });
      const add: TransactWriteAction[] = [
        { update: { tableName: 'accounts', key: { id: 'a' }, updateExpression: 'ADD balance :x', expressionAttributeValues: { ':x': 5 } } },
      ];
      const [first, repeat] = await Promise.allSettled([
        tables.transactWriteItems(add, { clientRequestToken: 'tok-busy' }),
        tables.transactWriteItems(add, { clientRequestToken: 'tok-busy' }),
      ]);
      expect(first.status).toBe('fulfilled');
      expect(repeat.status).toBe('rejected');
      const reason = (repeat as PromiseRejectedResult).reason as { code: string; message: string };
      expect(reason.code).toBe('TransactionInProgressException');
      expect(reason.message).toBe('The transaction with the given request token is already in progress.');
      // Retried once the first is done: succeeds, applying nothing again.
      await tables.transactWriteItems(add, { clientRequestToken: 'tok-busy' });
      expect((await tables.getItem({ tableName: 'accounts', key: { id: 'a' } })).item?.balance).toBe(5);
    });

    it('recognizes a repeated token from another service on the store, refuses a different request, forgets it after 10 minutes', async () => {
      const first = t.sluice.tables;
      await first.createTable({ name: 'accounts', partitionKey: { name: 'id', type: 'S' } });
      await first.putItem({ tableName: 'accounts', item: { id: 'a', balance: 0 } });
      // Another node: a service of its own, with no memory shared with the first.
      const second = new TableService({ store: t.sluice.store, clock: t.clock, arn: t.sluice.arn });
      const add = (amount: number): TransactWriteAction[] => [
        { update: { tableName: 'accounts', key: { id: 'a' }, updateExpression: 'ADD balance :x', expressionAttributeValues: { ':x': amount } } },
      ];
      const balance = async () => (await first.getItem({ tableName: 'accounts', key: { id: 'a' } })).item?.balance;

      await first.transactWriteItems(add(5), { clientRequestToken: 'tok-1' });
      await second.transactWriteItems(add(5), { clientRequestToken: 'tok-1' });
      expect(await balance()).toBe(5);
      await expectSluiceError(
        second.transactWriteItems(add(7), { clientRequestToken: 'tok-1' }),
        'IdempotentParameterMismatchException',
        /same client token as a previous, but non-identical request/,
      );
      expect(await balance()).toBe(5);

      // A cancelled transaction takes no token: its retry applies.
      const guarded: TransactWriteAction[] = [
        { update: { tableName: 'accounts', key: { id: 'a' }, updateExpression: 'ADD balance :x', conditionExpression: 'balance >= :min', expressionAttributeValues: { ':x': 1, ':min': 6 } } },
      ];
      await expectSluiceError(first.transactWriteItems(guarded, { clientRequestToken: 'tok-2' }), 'TransactionCanceledException');
      await first.putItem({ tableName: 'accounts', item: { id: 'a', balance: 6 } });
      await second.transactWriteItems(guarded, { clientRequestToken: 'tok-2' });
      expect(await balance()).toBe(7);

      // A condition check alone writes no item, yet takes its token.
      const check: TransactWriteAction[] = [{ conditionCheck: { tableName: 'accounts', key: { id: 'a' }, conditionExpression: 'attribute_exists(id)' } }];
      await first.transactWriteItems(check, { clientRequestToken: 'tok-3' });
      await expectSluiceError(second.transactWriteItems(add(1), { clientRequestToken: 'tok-3' }), 'IdempotentParameterMismatchException');

      // Ten minutes later the token is forgotten: the same request applies again.
      await t.clock.advance(10 * 60_000 + 1);
      await second.transactWriteItems(add(5), { clientRequestToken: 'tok-1' });
      expect(await balance()).toBe(12);
      await second.stop();
    });
  });
}
