/**
 * CatalogStore on its own (store/catalog-store.ts): revisions, conditional writes and deletes, listing,
 * and the wake-up every write publishes; the same outcomes on every backend.
 */
import { describe, expect, it } from 'vitest';
import { catalogChannel } from '../../store/catalog-store.js';
import { scheduleCatalogChannel, type StoredSchedule } from '../../store/schedule-store.js';
import { queueCatalogChannel, queueChannel } from '../../store/notifier.js';
import { settingsOf } from './queue-fixtures.js';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const entry = (name: string, definition: object, modifiedAt = 1_000) => ({ kind: 'mapping', name, definition: JSON.stringify(definition), modifiedAt });

export function catalogStoreConformance(backend: BackendUnderTest): void {
  describe(`catalog store [${backend.name}]`, () => {
    const t = useStore(backend);

    it('writes an entry at revision 1 and each later write one revision higher', async () => {
      const first = await t.store.catalogPut(entry('a', { batchSize: 1 }));
      expect(first).toEqual({ written: true, entry: { kind: 'mapping', name: 'a', definition: '{"batchSize":1}', revision: 1, modifiedAt: 1_000 } });
      const second = await t.store.catalogPut(entry('a', { batchSize: 2 }, 2_000));
      expect(second).toMatchObject({ written: true, entry: { revision: 2, definition: '{"batchSize":2}', modifiedAt: 2_000 } });
      expect(await t.store.catalogList({})).toEqual([{ kind: 'mapping', name: 'a', definition: '{"batchSize":2}', revision: 2, modifiedAt: 2_000 }]);
    });

    it('creates only an absent entry when asked to (ifRevision null), returning the one there', async () => {
      await t.store.catalogPut(entry('a', { v: 1 }));
      const refused = await t.store.catalogPut({ ...entry('a', { v: 2 }), ifRevision: null });
      expect(refused).toEqual({ written: false, current: expect.objectContaining({ revision: 1, definition: '{"v":1}' }) });
      expect(await t.store.catalogPut({ ...entry('b', { v: 1 }), ifRevision: null })).toMatchObject({ written: true, entry: { revision: 1 } });
    });

    it('updates at a revision only while the entry is at that revision', async () => {
      await t.store.catalogPut(entry('a', { v: 1 }));
      expect(await t.store.catalogPut({ ...entry('a', { v: 2 }), ifRevision: 1 })).toMatchObject({ written: true, entry: { revision: 2 } });
      const stale = await t.store.catalogPut({ ...entry('a', { v: 3 }), ifRevision: 1 });
      expect(stale).toEqual({ written: false, current: expect.objectContaining({ revision: 2, definition: '{"v":2}' }) });
      expect(await t.store.catalogPut({ ...entry('missing', { v: 1 }), ifRevision: 1 })).toEqual({ written: false, current: null });
    });

    it('lets one of two racing conditional writes win', async () => {
      await t.store.catalogPut(entry('a', { v: 1 }));
      const outcomes = await Promise.all([1, 2].map((v) => t.store.catalogPut({ ...entry('a', { v }), ifRevision: 1 })));
      expect(outcomes.filter((outcome) => outcome.written)).toHaveLength(1);
    });

    it('deletes an entry, at a revision when given', async () => {
      await t.store.catalogPut(entry('a', { v: 1 }));
      expect(await t.store.catalogDelete({ kind: 'mapping', name: 'a', ifRevision: 2 })).toBe(false);
      expect(await t.store.catalogDelete({ kind: 'mapping', name: 'a', ifRevision: 1 })).toBe(true);
      expect(await t.store.catalogDelete({ kind: 'mapping', name: 'a' })).toBe(false);
      expect(await t.store.catalogList({})).toEqual([]);
    });

    it('lists by kind, then name', async () => {
      await t.store.catalogPut({ ...entry('b', {}), kind: 'mapping' });
      await t.store.catalogPut({ ...entry('a', {}), kind: 'mapping' });
      await t.store.catalogPut({ ...entry('f', {}), kind: 'function' });
      expect((await t.store.catalogList({})).map((e) => `${e.kind}/${e.name}`)).toEqual(['function/f', 'mapping/a', 'mapping/b']);
      expect((await t.store.catalogList({ kind: 'mapping' })).map((e) => e.name)).toEqual(['a', 'b']);
    });

    it('keeps an attachment with its entry: written with it, kept by a write without one, replaced, deleted with it', async () => {
      const zip = (text: string) => ({ sha256: text.padEnd(64, '0'), content: Buffer.from(text) });
      await t.store.catalogPut({ ...entry('f', { v: 1 }), kind: 'function', attachment: zip('one') });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'f' })).toEqual(zip('one'));
      await t.store.catalogPut({ ...entry('f', { v: 2 }), kind: 'function' });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'f' })).toEqual(zip('one'));
      await t.store.catalogPut({ ...entry('f', { v: 3 }), kind: 'function', attachment: zip('two') });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'f' })).toEqual(zip('two'));
      expect(await t.store.catalogAttachment({ kind: 'mapping', name: 'f' })).toBeUndefined();
      expect(await t.store.catalogDelete({ kind: 'function', name: 'f' })).toBe(true);
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'f' })).toBeUndefined();
    });

    it('keeps the bytes of attachments once per digest, shared by entries, and removes them with their last reference', async () => {
      const zip = (text: string) => ({ sha256: Buffer.from(text).toString('hex').padEnd(64, '0'), content: Buffer.from(text) });
      const stats = () => t.store.catalogAttachmentStats();
      await t.store.catalogPut({ ...entry('f', { v: 1 }), kind: 'function', attachment: zip('one') });
      // PublishVersion of unchanged code: the version's entry attaches the same bytes.
      await t.store.catalogWrite({ puts: [{ ...entry('f:1', {}), kind: 'function-version', ifRevision: null, attachment: zip('one') }], deletes: [] });
      await t.store.catalogPut({ ...entry('f:2', {}), kind: 'function-version', attachment: zip('one') });
      await t.store.catalogPut({ ...entry('g', {}), kind: 'function', attachment: zip('other') });
      expect(await stats()).toEqual({ references: 4, blobs: 2, bytes: 'one'.length + 'other'.length });
      // New code for f: its old bytes stay for the versions.
      await t.store.catalogPut({ ...entry('f', { v: 2 }), kind: 'function', attachment: zip('two') });
      expect(await stats()).toEqual({ references: 4, blobs: 3, bytes: 'one'.length + 'two'.length + 'other'.length });
      expect(await t.store.catalogDelete({ kind: 'function-version', name: 'f:1' })).toBe(true);
      expect(await t.store.catalogAttachment({ kind: 'function-version', name: 'f:2' })).toEqual(zip('one'));
      expect((await stats()).blobs).toBe(3);
      // The last version of the old code goes in a batch: so do its bytes.
      expect(await t.store.catalogWrite({ puts: [], deletes: [{ kind: 'function-version', name: 'f:2' }] })).toEqual({ written: true });
      expect(await stats()).toEqual({ references: 2, blobs: 2, bytes: 'two'.length + 'other'.length });
      // A refused batch removes nothing.
      expect(await t.store.catalogWrite({ puts: [{ ...entry('h', {}), ifRevision: 9 }], deletes: [{ kind: 'function', name: 'g' }] })).toMatchObject({ written: false });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'g' })).toEqual(zip('other'));
      // g takes f's code, then both go.
      await t.store.catalogPut({ ...entry('g', {}), kind: 'function', attachment: zip('two') });
      expect(await stats()).toEqual({ references: 2, blobs: 1, bytes: 'two'.length });
      await t.store.catalogDelete({ kind: 'function', name: 'f' });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'g' })).toEqual(zip('two'));
      await t.store.catalogDelete({ kind: 'function', name: 'g' });
      expect(await stats()).toEqual({ references: 0, blobs: 0, bytes: 0 });
    });

    it('attaches bytes the store keeps by their digest alone, in a batch; fails the batch, naming them, when they are not kept', async () => {
      const zip = { sha256: 'e'.repeat(64), content: Buffer.from('kept zip') };
      await t.store.catalogPut({ ...entry('f', {}), kind: 'function', attachment: zip });
      const byDigest = { ...entry('f:1', {}), kind: 'function-version', ifRevision: null, attachment: { sha256: zip.sha256 } };
      expect(await t.store.catalogWrite({ puts: [byDigest], deletes: [] })).toEqual({ written: true });
      expect(await t.store.catalogAttachment({ kind: 'function-version', name: 'f:1' })).toEqual(zip);
      expect(await t.store.catalogAttachmentStats()).toEqual({ references: 2, blobs: 1, bytes: zip.content.length });
      const missing = { ...entry('f:2', {}), kind: 'function-version', ifRevision: null, attachment: { sha256: 'f'.repeat(64) } };
      expect(await t.store.catalogWrite({ puts: [{ ...entry('f', { lastVersion: 2 }), kind: 'function' }, missing], deletes: [] })).toEqual({ written: false, failed: { kind: 'attachment', name: 'f'.repeat(64) } });
      expect((await t.store.catalogList({ kind: 'function-version' })).map((e) => e.name)).toEqual(['f:1']);
      expect((await t.store.catalogList({ kind: 'function' }))[0]?.definition).toBe('{}');
    });

    it('never removes bytes an entry attaches while their last other reference is removed at the same time', async () => {
      // A version published from the function's code while the function (its last other user) is deleted.
      for (let round = 0; round < 40; round++) {
        const zip = { sha256: round.toString(16).padStart(64, '0'), content: Buffer.alloc(64 * 1024, round) };
        await t.store.catalogPut({ ...entry(`f${round}`, {}), kind: 'function', attachment: zip });
        await Promise.all([
          t.store.catalogWrite({ puts: [{ ...entry(`f${round}:1`, {}), kind: 'function-version', ifRevision: null, attachment: zip }], deletes: [] }),
          t.store.catalogDelete({ kind: 'function', name: `f${round}` }),
        ]);
        // Compared with equals: a deep equality of 64 KB costs vitest about half a second.
        expect((await t.store.catalogAttachment({ kind: 'function-version', name: `f${round}:1` }))?.content.equals(zip.content), `round ${round}`).toBe(true);
        await t.store.catalogDelete({ kind: 'function-version', name: `f${round}:1` });
        // The same race with the version attaching the bytes by digest alone: it is written with them, or
        // refused naming them (they were gone first); never written without them.
        await t.store.catalogPut({ ...entry(`g${round}`, {}), kind: 'function', attachment: zip });
        const [published] = await Promise.all([
          t.store.catalogWrite({ puts: [{ ...entry(`g${round}:1`, {}), kind: 'function-version', ifRevision: null, attachment: { sha256: zip.sha256 } }], deletes: [] }),
          t.store.catalogDelete({ kind: 'function', name: `g${round}` }),
        ]);
        const kept = await t.store.catalogAttachment({ kind: 'function-version', name: `g${round}:1` });
        if (published.written) expect(kept?.content.equals(zip.content), `round ${round} by digest`).toBe(true);
        else expect([published.failed, kept, await t.store.catalogList({ kind: 'function-version' })]).toEqual([{ kind: 'attachment', name: zip.sha256 }, undefined, []]);
        if (published.written) await t.store.catalogDelete({ kind: 'function-version', name: `g${round}:1` });
      }
      expect(await t.store.catalogAttachmentStats()).toEqual({ references: 0, blobs: 0, bytes: 0 });
    });

    it('stores no attachment with a refused write', async () => {
      await t.store.catalogPut({ ...entry('f', { v: 1 }), kind: 'function', attachment: { sha256: 'a'.repeat(64), content: Buffer.from([1, 2, 3]) } });
      const refused = await t.store.catalogPut({ ...entry('f', { v: 2 }), kind: 'function', ifRevision: null, attachment: { sha256: 'b'.repeat(64), content: Buffer.from([4]) } });
      expect(refused.written).toBe(false);
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'f' })).toEqual({ sha256: 'a'.repeat(64), content: Buffer.from([1, 2, 3]) });
      expect(await t.store.catalogPut({ ...entry('g', {}), kind: 'function', ifRevision: 4, attachment: { sha256: 'c'.repeat(64), content: Buffer.from([5]) } })).toEqual({ written: false, current: null });
      expect(await t.store.catalogAttachment({ kind: 'function', name: 'g' })).toBeUndefined();
    });

    it('writes a batch of writes and deletes all at once, or nothing when one condition fails', async () => {
      await t.store.catalogPut(entry('a', { v: 1 }));
      await t.store.catalogPut(entry('b', { v: 1 }));
      let heard = 0;
      const unsubscribe = t.store.notifier.subscribe(catalogChannel, () => heard++);
      const refused = await t.store.catalogWrite({
        puts: [{ ...entry('a', { v: 2 }), ifRevision: 1 }, { ...entry('c', { v: 1 }), ifRevision: null }],
        deletes: [{ kind: 'mapping', name: 'b', ifRevision: 7 }],
      });
      expect(refused).toEqual({ written: false, failed: { kind: 'mapping', name: 'b' } });
      expect((await t.store.catalogList({})).map((e) => [e.name, e.definition])).toEqual([['a', '{"v":1}'], ['b', '{"v":1}']]);
      const stale = await t.store.catalogWrite({ puts: [{ ...entry('c', { v: 1 }), ifRevision: null }, { ...entry('a', { v: 2 }), ifRevision: 3 }], deletes: [] });
      expect(stale).toEqual({ written: false, failed: { kind: 'mapping', name: 'a' } });
      expect((await t.store.catalogList({})).map((e) => e.name)).toEqual(['a', 'b']);
      expect(heard).toBe(0);

      const done = await t.store.catalogWrite({
        puts: [{ ...entry('a', { v: 2 }), ifRevision: 1 }, { ...entry('c', { v: 1 }), ifRevision: null }],
        deletes: [{ kind: 'mapping', name: 'b', ifRevision: 1 }],
      });
      expect(done).toEqual({ written: true });
      expect((await t.store.catalogList({})).map((e) => [e.name, e.definition, e.revision])).toEqual([['a', '{"v":2}', 2], ['c', '{"v":1}', 1]]);
      unsubscribe();
      expect(heard).toBe(1);
    });

    it('writes an attachment in a batch with its entry, and none when another condition of the batch fails', async () => {
      const zip = { sha256: 'd'.repeat(64), content: Buffer.from('zip') };
      await t.store.catalogPut({ ...entry('f', { lastVersion: 0 }), kind: 'function' });
      const refused = await t.store.catalogWrite({
        puts: [
          { ...entry('f:1', { v: 1 }), kind: 'function-version', ifRevision: null, attachment: zip },
          { ...entry('f', { lastVersion: 1 }), kind: 'function', ifRevision: 5 },
        ],
        deletes: [],
      });
      expect(refused).toEqual({ written: false, failed: { kind: 'function', name: 'f' } });
      expect(await t.store.catalogAttachment({ kind: 'function-version', name: 'f:1' })).toBeUndefined();
      const done = await t.store.catalogWrite({
        puts: [
          { ...entry('f', { lastVersion: 1 }), kind: 'function', ifRevision: 1 },
          { ...entry('f:1', { v: 1 }), kind: 'function-version', ifRevision: null, attachment: zip },
        ],
        deletes: [],
      });
      expect(done).toEqual({ written: true });
      expect(await t.store.catalogAttachment({ kind: 'function-version', name: 'f:1' })).toEqual(zip);
    });

    it('writes schedules in the same batch: all or nothing, each under its condition', async () => {
      const row = (name: string, expression = 'rate(1 hour)'): StoredSchedule => ({
        name,
        expression,
        timezone: 'UTC',
        target: { kind: 'queue', queue: 'jobs' },
        state: 'ENABLED',
        catchUpWindowMs: 60_000,
        anchorAt: 0,
        nextFireAt: 3_600_000,
        policy: null,
        lastTickAt: null,
        lastFiredAt: null,
        createdAt: 0,
        modifiedAt: 0,
      });
      await t.store.scheduleCreate({ schedule: row('existing') });
      let heard = 0;
      const unsubscribe = t.store.notifier.subscribe(scheduleCatalogChannel, () => heard++);
      const marker = { ...entry('fresh', { managedBy: 'file' }), kind: 'applied-schedule', ifRevision: null };
      const refused = await t.store.catalogWrite({ puts: [marker], deletes: [], schedules: { creates: [row('fresh'), row('existing')], updates: [], deletes: [] } });
      expect(refused).toEqual({ written: false, failed: { kind: 'schedule', name: 'existing' } });
      expect(await t.store.scheduleGet({ name: 'fresh' })).toBeUndefined();
      expect(await t.store.catalogList({ kind: 'applied-schedule' })).toEqual([]);
      const missing = await t.store.catalogWrite({ puts: [], deletes: [], schedules: { creates: [], updates: [], deletes: ['nowhere'] } });
      expect(missing).toEqual({ written: false, failed: { kind: 'schedule', name: 'nowhere' } });
      expect(heard).toBe(0);

      const update = { name: 'existing', expression: 'rate(2 hours)', timezone: 'UTC', target: { kind: 'queue' as const, queue: 'jobs' }, state: 'ENABLED' as const, catchUpWindowMs: 60_000, anchorAt: 0, nextFireAt: 7_200_000, policy: { endAt: 9_000_000 }, now: 5 };
      expect(await t.store.catalogWrite({ puts: [marker], deletes: [], schedules: { creates: [row('fresh')], updates: [update], deletes: [] } })).toEqual({ written: true });
      expect(await t.store.scheduleGet({ name: 'fresh' })).toMatchObject({ expression: 'rate(1 hour)' });
      expect((await t.store.scheduleGet({ name: 'existing' }))?.policy).toEqual({ endAt: 9_000_000 });
      expect(await t.store.scheduleGet({ name: 'existing' })).toMatchObject({ expression: 'rate(2 hours)', nextFireAt: 7_200_000, modifiedAt: 5 });
      expect((await t.store.catalogList({ kind: 'applied-schedule' })).map((e) => e.name)).toEqual(['fresh']);
      expect(await t.store.catalogWrite({ puts: [], deletes: [], schedules: { creates: [], updates: [], deletes: ['fresh'] } })).toEqual({ written: true });
      expect(await t.store.scheduleGet({ name: 'fresh' })).toBeUndefined();
      unsubscribe();
      expect(heard).toBe(2);
    });

    it('writes queues in the same batch: all or nothing, each under its condition, with SQS\'s name-reuse delay', async () => {
      const settings = settingsOf();
      const common = { now: 10_000, nameReuseDelayMs: 60_000 };
      await t.store.queueCreate({ name: 'existing', fifo: false, settings, tags: {}, now: 0, nameReuseDelayMs: 60_000 });
      let heard = 0;
      const unsubscribe = t.store.notifier.subscribe(queueCatalogChannel, () => heard++);
      const marker = { ...entry('fresh', { managedBy: 'file' }), kind: 'applied-queue', ifRevision: null };
      const fresh = { name: 'fresh', fifo: false, settings, tags: { team: 'a' } };
      const refused = await t.store.catalogWrite({ puts: [marker], deletes: [], queues: { creates: [fresh, { ...fresh, name: 'existing' }], updates: [], deletes: [], ...common } });
      expect(refused).toEqual({ written: false, failed: { kind: 'queue', name: 'existing' } });
      expect(await t.store.queueGet({ name: 'fresh' })).toBeUndefined();
      expect(await t.store.catalogList({ kind: 'applied-queue' })).toEqual([]);
      expect(await t.store.catalogWrite({ puts: [], deletes: [], queues: { creates: [], updates: [{ ...fresh, name: 'nowhere' }], deletes: [], ...common } })).toEqual({
        written: false,
        failed: { kind: 'queue', name: 'nowhere' },
      });
      expect(heard).toBe(0);

      const changed = { name: 'existing', settings: { ...settings, VisibilityTimeout: 99 }, tags: { v: '2' } };
      expect(await t.store.catalogWrite({ puts: [marker], deletes: [], queues: { creates: [fresh], updates: [changed], deletes: [], ...common } })).toEqual({ written: true });
      expect(await t.store.queueGet({ name: 'fresh' })).toMatchObject({ tags: { team: 'a' }, createdAt: 10_000 });
      expect(await t.store.queueGet({ name: 'existing' })).toMatchObject({ settings: { VisibilityTimeout: 99 }, tags: { v: '2' }, modifiedAt: 10_000 });
      // A deleted queue's own channel is woken too (its long polls and triggers), as by DeleteQueue.
      const freshId = (await t.store.queueGet({ name: 'fresh' }))!.id;
      let woken = 0;
      const unsubscribeQueue = t.store.notifier.subscribe(queueChannel(freshId), () => woken++);
      expect(await t.store.catalogWrite({ puts: [], deletes: [], queues: { creates: [], updates: [], deletes: ['fresh'], ...common } })).toEqual({ written: true });
      expect(await t.store.queueGet({ name: 'fresh' })).toBeUndefined();
      unsubscribeQueue();
      expect(woken).toBe(1);
      // A name deleted less than the reuse delay ago cannot be created again, as CreateQueue's QueueDeletedRecently.
      expect(await t.store.catalogWrite({ puts: [], deletes: [], queues: { creates: [fresh], updates: [], deletes: [], now: 20_000, nameReuseDelayMs: 60_000 } })).toEqual({
        written: false,
        failed: { kind: 'queue', name: 'fresh' },
      });
      unsubscribe();
      expect(heard).toBe(2);
    });

    it('writes tables in the same batch: all or nothing, an update only at the definition read', async () => {
      const definition = { partitionKey: { name: 'pk', type: 'S' as const }, sortKey: null, stream: null, ttlAttribute: null, shardCount: 2 };
      await t.store.tableCreate({ name: 'existing', definition, now: 0 });
      const marker = { ...entry('fresh', { managedBy: 'file' }), kind: 'applied-table', ifRevision: null };
      const refused = await t.store.catalogWrite({ puts: [marker], deletes: [], tables: { creates: [{ name: 'fresh', definition }, { name: 'existing', definition }], updates: [], deletes: [], now: 5 } });
      expect(refused).toEqual({ written: false, failed: { kind: 'table', name: 'existing' } });
      expect(await t.store.tableGet({ name: 'fresh' })).toBeUndefined();
      expect(await t.store.catalogList({ kind: 'applied-table' })).toEqual([]);
      const withTtl = { ...definition, ttlAttribute: 'exp' };
      const stale = { name: 'existing', definition: withTtl, expected: { ...definition, ttlAttribute: 'other' } };
      expect(await t.store.catalogWrite({ puts: [], deletes: [], tables: { creates: [], updates: [stale], deletes: [], now: 5 } })).toEqual({ written: false, failed: { kind: 'table', name: 'existing' } });

      const update = { name: 'existing', definition: withTtl, expected: definition };
      expect(await t.store.catalogWrite({ puts: [marker], deletes: [], tables: { creates: [{ name: 'fresh', definition }], updates: [update], deletes: [], now: 5 } })).toEqual({ written: true });
      expect((await t.store.tableGet({ name: 'existing' }))?.definition.ttlAttribute).toBe('exp');
      expect((await t.store.tableGet({ name: 'fresh' }))?.definition.shardCount).toBe(2);
      expect(await t.store.catalogWrite({ puts: [], deletes: [], tables: { creates: [], updates: [], deletes: ['fresh'], now: 7 } })).toEqual({ written: true });
      expect(await t.store.tableGet({ name: 'fresh' })).toBeUndefined();
    });

    it('publishes on the catalog channel at every write and delete, not on a refused one', async () => {
      let heard = 0;
      const unsubscribe = t.store.notifier.subscribe(catalogChannel, () => heard++);
      await t.store.catalogPut(entry('a', {}));
      await t.store.catalogPut({ ...entry('a', {}), ifRevision: 5 });
      await t.store.catalogDelete({ kind: 'mapping', name: 'a' });
      await t.store.catalogDelete({ kind: 'mapping', name: 'a' });
      unsubscribe();
      expect(heard).toBe(2);
    });
  });
}
