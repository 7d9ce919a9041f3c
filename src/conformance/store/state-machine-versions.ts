/**
 * StateMachineStore's versions and aliases on their own: a publish is idempotent per revision and
 * refused for a stale revision or past the quota; numbers are never given twice, even to concurrent
 * publishes or after the highest is deleted; an alias routes only to existing versions, and a version an
 * alias routes to cannot be deleted; a deleted machine takes its versions and aliases.
 */
import { describe, expect, it } from 'vitest';
import type { BackendUnderTest } from '../backend.js';
import { useStore } from './harness.js';

const t0 = 1_000_000;

export function stateMachineVersionConformance(backend: BackendUnderTest): void {
  describe(`state machine versions and aliases [${backend.name}]`, () => {
    const t = useStore(backend);
    const create = (name: string, definition = '{"v":1}') =>
      t.store.stateMachineCreate({
        machine: {
          name,
          arn: `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`,
          type: 'STANDARD',
          definition,
          roleArn: 'arn:aws:iam::000000000000:role/r',
          description: '',
          tags: {},
          managedBy: null,
          now: t0,
        },
      });
    const publish = (name: string, over: { expectedRevisionId?: number; limit?: number } = {}) =>
      t.store.stateMachineVersionPublish({ name, description: '', limit: over.limit ?? 1000, now: t0, ...(over.expectedRevisionId !== undefined ? { expectedRevisionId: over.expectedRevisionId } : {}) });
    const alias = (name: string, routing: { version: number; weight: number }[]) => ({ name, description: '', routing, createdAt: t0, updatedAt: t0 });

    it('publishes once per revision, checks the expected revision and the quota, and never reuses a number', async () => {
      const { machine } = await create('m');
      expect(await publish('m')).toMatchObject({ outcome: 'published', version: { version: 1, revisionId: machine.revisionId } });
      expect(await publish('m')).toMatchObject({ outcome: 'exists', version: { version: 1 } });
      const updated = await t.store.stateMachineUpdate({ name: 'm', definition: '{"v":2}', now: t0 + 1 });
      expect(await publish('m', { expectedRevisionId: machine.revisionId })).toEqual({ outcome: 'conflict' });
      expect(await publish('m', { limit: 1 })).toEqual({ outcome: 'quota' });
      expect(await publish('m', { expectedRevisionId: updated!.revisionId })).toMatchObject({ outcome: 'published', version: { version: 2 } });
      expect(await t.store.stateMachineVersionDelete({ name: 'm', version: 2 })).toBe('deleted');
      expect(await t.store.stateMachineVersionDelete({ name: 'm', version: 2 })).toBe('missing');
      await t.store.stateMachineUpdate({ name: 'm', definition: '{"v":3}', now: t0 + 2 });
      expect(await publish('m')).toMatchObject({ outcome: 'published', version: { version: 3 } });
      expect((await t.store.stateMachineVersionList({ name: 'm', limit: 10 })).map((v) => v.version)).toEqual([3, 1]);
      expect((await t.store.stateMachineVersionList({ name: 'm', before: 3, limit: 10 })).map((v) => v.version)).toEqual([1]);
      expect(await publish('none')).toEqual({ outcome: 'missing' });
    });

    it('gives concurrent publishes of new revisions distinct numbers, and of one revision the same version', async () => {
      await create('c');
      const same = await Promise.all(Array.from({ length: 8 }, () => publish('c')));
      expect(new Set(same.map((r) => ('version' in r ? r.version.version : r.outcome)))).toEqual(new Set([1]));
      const numbers: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          await t.store.stateMachineUpdate({ name: 'c', definition: `{"v":${i + 10}}`, now: t0 + i });
          const result = await publish('c');
          if ('version' in result) numbers.push(result.version.version);
        }),
      );
      // Each number once: a publish that saw a revision already published got that version back.
      const versions = (await t.store.stateMachineVersionList({ name: 'c', limit: 100 })).map((v) => v.version);
      expect(new Set(versions).size).toBe(versions.length);
      expect(Math.max(...versions)).toBe(versions.length);
      expect(new Set(numbers).size).toBeLessThanOrEqual(versions.length);
    });

    it('routes aliases to existing versions only; an aliased version stays until the alias lets go', async () => {
      await create('a');
      await publish('a');
      await t.store.stateMachineUpdate({ name: 'a', definition: '{"v":2}', now: t0 + 1 });
      await publish('a');
      expect(await t.store.stateMachineAliasCreate({ name: 'a', alias: alias('live', [{ version: 9, weight: 100 }]), limit: 100 })).toEqual({ outcome: 'missingVersion' });
      expect(await t.store.stateMachineAliasCreate({ name: 'none', alias: alias('live', [{ version: 1, weight: 100 }]), limit: 100 })).toEqual({ outcome: 'missing' });
      expect(await t.store.stateMachineAliasCreate({ name: 'a', alias: alias('live', [{ version: 1, weight: 100 }]), limit: 100 })).toMatchObject({ outcome: 'created' });
      expect(await t.store.stateMachineAliasCreate({ name: 'a', alias: alias('live', [{ version: 2, weight: 100 }]), limit: 100 })).toMatchObject({
        outcome: 'exists',
        alias: { routing: [{ version: 1, weight: 100 }] },
      });
      expect(await t.store.stateMachineAliasCreate({ name: 'a', alias: alias('other', [{ version: 2, weight: 100 }]), limit: 1 })).toEqual({ outcome: 'quota' });
      expect(await t.store.stateMachineVersionDelete({ name: 'a', version: 1 })).toBe('aliased');
      const updated = await t.store.stateMachineAliasUpdate({ name: 'a', alias: 'live', routing: [{ version: 1, weight: 30 }, { version: 2, weight: 70 }], now: t0 + 5 });
      expect(updated).toMatchObject({ outcome: 'updated', alias: { routing: [{ version: 1, weight: 30 }, { version: 2, weight: 70 }], updatedAt: t0 + 5, createdAt: t0 } });
      expect(await t.store.stateMachineAliasGet({ name: 'a', alias: 'live' })).toMatchObject({ routing: [{ version: 1, weight: 30 }, { version: 2, weight: 70 }] });
      expect(await t.store.stateMachineAliasUpdate({ name: 'a', alias: 'live', routing: [{ version: 7, weight: 100 }], now: t0 })).toEqual({ outcome: 'missingVersion' });
      expect(await t.store.stateMachineAliasUpdate({ name: 'a', alias: 'gone', description: 'x', now: t0 })).toEqual({ outcome: 'missing' });
      await t.store.stateMachineAliasUpdate({ name: 'a', alias: 'live', routing: [{ version: 2, weight: 100 }], now: t0 + 6 });
      expect(await t.store.stateMachineVersionDelete({ name: 'a', version: 1 })).toBe('deleted');
      expect((await t.store.stateMachineAliasList({ name: 'a', limit: 10 })).map((x) => x.name)).toEqual(['live']);
      expect(await t.store.stateMachineAliasDelete({ name: 'a', alias: 'live' })).toBe(true);
      expect(await t.store.stateMachineAliasDelete({ name: 'a', alias: 'live' })).toBe(false);
    });

    it('deletes a machine with its versions and aliases', async () => {
      await create('d');
      await publish('d');
      await t.store.stateMachineAliasCreate({ name: 'd', alias: alias('live', [{ version: 1, weight: 100 }]), limit: 100 });
      expect(await t.store.stateMachineDelete({ name: 'd' })).toBe(true);
      expect(await t.store.stateMachineVersionList({ name: 'd', limit: 10 })).toEqual([]);
      expect(await t.store.stateMachineAliasList({ name: 'd', limit: 10 })).toEqual([]);
      expect(await t.store.stateMachineDelete({ name: 'd' })).toBe(false);
    });
  });
}
