/**
 * CallbackStore on its own: each transition is one named operation with documented outcomes
 * (store/callback-store.ts), and every backend must give the same outcome for the same row and instant.
 */
import { describe, expect, it } from 'vitest';
import type { NewCallback } from '../../store/callback-store.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const created = 1_000_000;
const callback = (id: string, deadlines: Partial<NewCallback> = {}): NewCallback => ({
  id,
  createdAt: created,
  timeoutAt: null,
  heartbeatMs: null,
  context: null,
  ...deadlines,
});
const success = { status: 'SUCCEEDED', output: '{"ok":true}' } as const;

export function callbackStoreConformance(backend: BackendUnderTest): void {
  describe(`callback store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('keeps a created callback WAITING, with its heartbeat interval starting at creation', async () => {
      await t.store.callbackCreate({
        callback: callback('a', { timeoutAt: created + 60_000, heartbeatMs: 5_000 }),
      });
      expect(await t.store.callbackGet({ id: 'a' })).toMatchObject({
        id: 'a',
        status: 'WAITING',
        timeoutAt: created + 60_000,
        heartbeatMs: 5_000,
        heartbeatAt: created + 5_000,
        settledAt: null,
      });
      expect(await t.store.callbackGet({ id: 'unknown' })).toBeUndefined();
    });

    it('completes a WAITING callback once; a second completion finds it finished', async () => {
      await t.store.callbackCreate({ callback: callback('a') });
      const first = await t.store.callbackComplete({ id: 'a', now: created + 10, completion: success });
      expect(first).toMatchObject({
        outcome: 'applied',
        callback: { status: 'SUCCEEDED', output: '{"ok":true}', settledAt: created + 10 },
      });
      const second = await t.store.callbackComplete({
        id: 'a',
        now: created + 20,
        completion: { status: 'FAILED', error: 'E', cause: 'late' },
      });
      expect(second).toMatchObject({ outcome: 'finished', callback: { status: 'SUCCEEDED' } });
      expect(await t.store.callbackComplete({ id: 'missing', now: created, completion: success })).toEqual({
        outcome: 'missing',
      });
    });

    it('times a callback out instead of completing it once its deadline has passed', async () => {
      await t.store.callbackCreate({ callback: callback('a', { timeoutAt: created + 100 }) });
      const late = await t.store.callbackComplete({ id: 'a', now: created + 100, completion: success });
      expect(late).toMatchObject({
        outcome: 'finished',
        callback: { status: 'TIMED_OUT', error: 'States.Timeout' },
      });
    });

    it('restarts the heartbeat interval on a heartbeat, and expires only past a deadline', async () => {
      await t.store.callbackCreate({ callback: callback('a', { heartbeatMs: 1_000 }) });
      expect(await t.store.callbackExpire({ id: 'a', now: created + 999 })).toMatchObject({
        outcome: 'pending',
        callback: { heartbeatAt: created + 1_000 },
      });
      expect(await t.store.callbackHeartbeat({ id: 'a', now: created + 900 })).toMatchObject({
        outcome: 'applied',
        callback: { heartbeatAt: created + 1_900 },
      });
      expect(await t.store.callbackExpire({ id: 'a', now: created + 1_900 })).toMatchObject({
        outcome: 'applied',
        callback: { status: 'TIMED_OUT', error: 'States.HeartbeatTimeout', settledAt: created + 1_900 },
      });
      expect(await t.store.callbackHeartbeat({ id: 'a', now: created + 2_000 })).toMatchObject({
        outcome: 'finished',
      });
    });

    it('purges finished callbacks settled before the cut-off, never waiting ones', async () => {
      for (const id of ['a', 'b', 'c']) await t.store.callbackCreate({ callback: callback(id) });
      await t.store.callbackComplete({ id: 'a', now: created + 10, completion: success });
      await t.store.callbackComplete({ id: 'b', now: created + 50, completion: success });
      expect(await t.store.callbackPurge({ settledBefore: created + 50, limit: 100 })).toBe(1);
      expect(await t.store.callbackGet({ id: 'a' })).toBeUndefined();
      expect(await t.store.callbackGet({ id: 'b' })).toMatchObject({ status: 'SUCCEEDED' });
      expect(await t.store.callbackGet({ id: 'c' })).toMatchObject({ status: 'WAITING' });
    });
  });
}
