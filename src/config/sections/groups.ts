/**
 * Applies `groups:`: each queue's default and group limits are set as declared (a limit applies at the
 * next claim, on every node); with `fromTable`, a table sync is started instead and owns the limits.
 * Pruning removes group entries, and defaults, of the declared queues that the file no longer has.
 */
import type { GroupLimitView } from '../../limits/types.js';
import type { GroupLimitConfig } from './groups-schema.js';
import { atPath, type ConfigSection } from './section.js';
import { definedDeep, definedMembers } from '../../model/defined.js';

function same(view: GroupLimitView | undefined, limit: GroupLimitConfig): boolean {
  if (!view) return false;
  const rate = limit.rate;
  return (
    view.maxConcurrency === (limit.maxConcurrency ?? null) &&
    (rate === undefined
      ? view.rate === null
      : view.rate !== null &&
        view.rate.limit === rate.limit &&
        view.rate.intervalSeconds === (rate.intervalSeconds ?? 1) &&
        view.rate.burst === (rate.burst ?? rate.limit))
  );
}

export const groupsSection: ConfigSection = {
  name: 'groups',
  async apply(context) {
    const limits = context.sluice.groupLimits;
    for (const [queue, groups] of Object.entries(context.config.groups ?? {})) {
      await atPath(`groups.${queue}`, async () => {
        if (groups.fromTable) {
          const { table, ...options } = groups.fromTable;
          await limits.syncFromTable(table, definedMembers({ queue, ...options }));
          context.changes.push({
            kind: 'group limits',
            name: `${queue} <- table ${table}`,
            action: 'updated',
          });
          return;
        }
        if (groups.default) {
          const current = await limits.getDefault(queue);
          if (!same(current, groups.default)) await limits.setDefault(queue, definedDeep(groups.default));
          context.changes.push({
            kind: 'group limits',
            name: `${queue} (default)`,
            action: current ? (same(current, groups.default) ? 'unchanged' : 'updated') : 'created',
          });
        }
        for (const [group, limit] of Object.entries(groups.limits ?? {})) {
          const current = await limits.get(queue, group);
          const unchanged = same(current, limit);
          if (!unchanged) await limits.set(queue, group, definedDeep(limit));
          context.changes.push({
            kind: 'group limits',
            name: `${queue}/${group}`,
            action: current ? (unchanged ? 'unchanged' : 'updated') : 'created',
          });
        }
      });
    }
  },
  async prune(context, options) {
    const limits = context.sluice.groupLimits;
    for (const [queue, groups] of Object.entries(context.config.groups ?? {})) {
      if (groups.fromTable) continue;
      const declared = new Set(Object.keys(groups.limits ?? {}));
      const extra: string[] = [];
      for (let after: string | undefined; ;) {
        const page = await limits.list(queue, { ...(after !== undefined ? { after } : {}), limit: 1000 });
        for (const view of page) if (view.group !== null && !declared.has(view.group)) extra.push(view.group);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.group!;
      }
      for (const group of extra) {
        if (options.delete) await limits.delete(queue, group);
        context.changes.push({
          kind: 'group limits',
          name: `${queue}/${group}`,
          action: options.delete ? 'deleted' : 'kept (not in config)',
        });
      }
      if (!groups.default && (await limits.getDefault(queue))) {
        if (options.delete) await limits.deleteDefault(queue);
        context.changes.push({
          kind: 'group limits',
          name: `${queue} (default)`,
          action: options.delete ? 'deleted' : 'kept (not in config)',
        });
      }
    }
  },
};
