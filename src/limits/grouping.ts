/**
 * Which queues group their messages, and applying a grouping rule to what a queue already holds.
 *
 * A rule takes effect for sends from the moment it is stored; messages queued before it get their keys
 * here, page by page (sends under the new rule may run meanwhile: a page only writes the keys the rule
 * gives, so racing writers agree). On a cluster, a node whose cached queue definition is still the old
 * one for a few milliseconds may send without keys; `applyGroupKeyRule` run again (it is idempotent,
 * `sluice.groupLimits.rekey(queue)`) assigns them. See docs/design/group-limits.md.
 */
import type { StoredQueue } from '../store/queue-store.js';
import type { Store } from '../store/store.js';
import { groupKeyOf } from './group-key.js';

const PAGE = 1000;

/** A queue whose messages carry group keys and are claimed within group limits. */
export function isGrouped(queue: Pick<StoredQueue, 'fifo' | 'settings'>): boolean {
  return !queue.fifo && typeof queue.settings.SluiceGroupKey === 'string';
}

/** Recomputes the group key of every message of the queue under its current rule (or clears them). */
export async function applyGroupKeyRule(store: Store, queue: StoredQueue, now: number): Promise<number> {
  const rule = queue.settings.SluiceGroupKey;
  if (!isGrouped(queue) || rule === undefined) {
    await store.groupKeysWrite({ queueId: queue.id, keys: null, now });
    return 0;
  }
  let afterSeq = 0;
  let keyed = 0;
  for (;;) {
    const page = await store.groupKeysRead({ queueId: queue.id, afterSeq, limit: PAGE });
    if (page.length === 0) return keyed;
    await store.groupKeysWrite({
      queueId: queue.id,
      keys: page.map((message) => ({ seq: message.seq, groupKey: groupKeyOf(rule, message) })),
      now,
    });
    keyed += page.length;
    afterSeq = page[page.length - 1]!.seq;
  }
}
