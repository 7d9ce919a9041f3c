/**
 * Per-group activity of grouped triggers, for operators: messages started, claims refused by the
 * group's concurrency limit or by its rate, and messages under invocation now. Node-local and in
 * memory, fed by the claims' plans (store/rules/claim-plan.ts reports what it decided for each group it reached).
 *
 * Cost follows activity, never the number of groups defined (docs/design/group-limits.md, "Metrics"):
 * - a group gets an entry only when a claim reaches it, which needs a message of it ready to be served;
 *   100,000 groups with limits and no messages have no entry and cost nothing;
 * - an entry whose last event is older than two windows (default 60 s each) and with nothing under
 *   invocation is forgotten, lazily: when the map has doubled since the last sweep, or at a snapshot;
 *   at most `maxTrackedGroups` entries are kept (the least recently busy go first);
 * - a snapshot lists only groups active in the last window or two (or with messages under invocation),
 *   at most `topGroups` per queue, busiest first: the series a scrape exposes are bounded whatever the
 *   number of groups. Per-queue totals count every group, including those not listed or forgotten.
 */
import type { PlanObserver } from '../store/rules/claim-plan.js';

export interface GroupActivityOptions {
  /** Length of the activity window: a group is listed while it had events in this window or the one before. */
  windowMs?: number;
  /** The most groups a snapshot lists per queue. */
  topGroups?: number;
  /** The most groups tracked per queue; beyond it the least recently busy idle ones are forgotten. */
  maxTrackedGroups?: number;
}

export const groupActivityDefaults = { windowMs: 60_000, topGroups: 50, maxTrackedGroups: 10_000 } as const;

export interface GroupActivityCounts {
  /** Messages of the group claimed by a trigger to be handed to an invocation. */
  started: number;
  /** Claims that reached the group, had messages of it left, and gave no more because of its concurrency limit. */
  throttledByConcurrency: number;
  /** The same, because its rate limit had no whole token (a group blocked by both counts as concurrency). */
  throttledByRate: number;
  /** Messages of the group claimed by a trigger on this node whose batch has not finished. */
  inFlight: number;
}

export interface GroupActivityView extends GroupActivityCounts {
  group: string;
  /** Events (messages started + claims refused) in the current window and the one before. */
  recentEvents: number;
  lastActiveAt: number;
}

export interface QueueGroupActivity {
  queue: string;
  /** Every group of the queue, listed or not (counters since the engine started). */
  totals: GroupActivityCounts;
  /** Groups with an entry now (active recently or under invocation). */
  trackedGroups: number;
  /** The busiest recently active groups, at most `topGroups`. */
  groups: GroupActivityView[];
}

interface Entry extends GroupActivityCounts {
  lastActiveAt: number;
  /** Index of the window of the last event (floor(time / windowMs)); events in it and in the one before. */
  window: number;
  current: number;
  previous: number;
}

interface QueueEntry {
  totals: GroupActivityCounts;
  groups: Map<string, Entry>;
  sweepAt: number;
}

/** Messages a claim handed out per group: given back to `settle` when its batch ends. */
interface Tally {
  queue: QueueEntry;
  groups: Map<Entry, number>;
  /** After this instant the messages are visible again: the batch is over, settled or not. */
  expiresAt: number;
}

const MIN_SWEEP = 1024;

function zero(): GroupActivityCounts {
  return { started: 0, throttledByConcurrency: 0, throttledByRate: 0, inFlight: 0 };
}

export class GroupActivity {
  readonly windowMs: number;
  readonly topGroups: number;
  readonly maxTrackedGroups: number;
  private readonly queues = new Map<string, QueueEntry>();
  private readonly pending = new Map<string, Tally>();
  /** Hears every claim a group's limit refused (the engine logs the first of each minute per group). */
  onThrottle:
    | ((event: { queue: string; group: string; reason: 'concurrency' | 'rate'; at: number }) => void)
    | undefined;

  constructor(options: GroupActivityOptions = {}) {
    this.windowMs = options.windowMs ?? groupActivityDefaults.windowMs;
    this.topGroups = options.topGroups ?? groupActivityDefaults.topGroups;
    this.maxTrackedGroups = options.maxTrackedGroups ?? groupActivityDefaults.maxTrackedGroups;
  }

  /**
   * Runs a trigger's claim of a grouped queue, recording what its plans decided for each group. The
   * messages handed out stay counted in flight until `settle(batchId)` (or until `expiresAt`, when their
   * visibility timeout ends: a batch that never settles cannot inflate the gauge for longer). `run`
   * makes the claim with the observer it is given (GroupClaimParams.onPlan).
   */
  async claim<T>(
    params: { queue: string; batchId: string; expiresAt: number },
    run: (onPlan: PlanObserver) => Promise<T>,
  ): Promise<T> {
    const queue = this.queueEntry(params.queue);
    let tally = this.pending.get(params.batchId);
    return run((plan, now) => {
      for (const update of plan.updates) {
        if (update.taken === 0 && update.refusedBy === null) continue;
        const entry = this.entry(queue, update.groupKey, now);
        if (update.refusedBy !== null)
          this.onThrottle?.({
            queue: params.queue,
            group: update.groupKey,
            reason: update.refusedBy,
            at: now,
          });
        if (update.refusedBy === 'concurrency') {
          entry.throttledByConcurrency++;
          queue.totals.throttledByConcurrency++;
        } else if (update.refusedBy === 'rate') {
          entry.throttledByRate++;
          queue.totals.throttledByRate++;
        }
        if (update.taken > 0) {
          entry.started += update.taken;
          entry.inFlight += update.taken;
          queue.totals.started += update.taken;
          queue.totals.inFlight += update.taken;
          if (!tally) {
            tally = { queue, groups: new Map(), expiresAt: params.expiresAt };
            this.pending.set(params.batchId, tally);
          }
          tally.groups.set(entry, (tally.groups.get(entry) ?? 0) + update.taken);
        }
        this.touch(entry, now, update.taken + (update.refusedBy === null ? 0 : 1));
      }
    });
  }

  /** The batch claimed under `batchId` has finished: its messages are no longer under invocation. */
  settle(batchId: string): void {
    const tally = this.pending.get(batchId);
    if (!tally) return;
    this.pending.delete(batchId);
    for (const [entry, count] of tally.groups) {
      entry.inFlight -= count;
      tally.queue.totals.inFlight -= count;
    }
  }

  /** Activity of one queue's groups, or of every queue that had some. */
  snapshot(now: number, queue?: string): QueueGroupActivity[] {
    for (const [batchId, tally] of this.pending) if (tally.expiresAt <= now) this.settle(batchId);
    const names =
      queue === undefined ? [...this.queues.keys()].sort() : this.queues.has(queue) ? [queue] : [];
    return names.map((name) => this.queueSnapshot(name, this.queues.get(name)!, now));
  }

  private queueSnapshot(name: string, queue: QueueEntry, now: number): QueueGroupActivity {
    this.sweep(queue, now);
    const listed: GroupActivityView[] = [];
    for (const [group, entry] of queue.groups) {
      const recentEvents = this.recent(entry, now);
      if (recentEvents === 0 && entry.inFlight === 0) continue;
      listed.push({
        group,
        started: entry.started,
        throttledByConcurrency: entry.throttledByConcurrency,
        throttledByRate: entry.throttledByRate,
        inFlight: entry.inFlight,
        recentEvents,
        lastActiveAt: entry.lastActiveAt,
      });
    }
    listed.sort(
      (a, b) =>
        b.recentEvents - a.recentEvents ||
        b.inFlight - a.inFlight ||
        (a.group < b.group ? -1 : a.group > b.group ? 1 : 0),
    );
    return {
      queue: name,
      totals: { ...queue.totals },
      trackedGroups: queue.groups.size,
      groups: listed.slice(0, this.topGroups),
    };
  }

  private queueEntry(name: string): QueueEntry {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { totals: zero(), groups: new Map(), sweepAt: Math.min(MIN_SWEEP, this.maxTrackedGroups) };
      this.queues.set(name, queue);
    }
    return queue;
  }

  private entry(queue: QueueEntry, group: string, now: number): Entry {
    let entry = queue.groups.get(group);
    if (!entry) {
      if (queue.groups.size >= queue.sweepAt) this.sweep(queue, now);
      entry = { ...zero(), lastActiveAt: now, window: this.windowOf(now), current: 0, previous: 0 };
      queue.groups.set(group, entry);
    }
    return entry;
  }

  private windowOf(time: number): number {
    return Math.floor(time / this.windowMs);
  }

  private touch(entry: Entry, now: number, events: number): void {
    const window = this.windowOf(now);
    if (window !== entry.window) {
      entry.previous = window === entry.window + 1 ? entry.current : 0;
      entry.current = 0;
      entry.window = window;
    }
    entry.current += events;
    if (now > entry.lastActiveAt) entry.lastActiveAt = now;
  }

  /** Events in the window of `now` and the one before. */
  private recent(entry: Entry, now: number): number {
    const window = this.windowOf(now);
    if (entry.window === window) return entry.current + entry.previous;
    return entry.window === window - 1 ? entry.current : 0;
  }

  /**
   * Forgets entries quiet for two windows; beyond the cap, the least recently busy ones with nothing
   * under invocation too, down to 90% of it, so that the next sweep is a tenth of the cap away (or the
   * size doubled): amortized O(1) per new entry.
   */
  private sweep(queue: QueueEntry, now: number): void {
    const cap = this.maxTrackedGroups;
    const evictable: Array<[string, Entry]> = [];
    for (const [group, entry] of queue.groups) {
      if (entry.inFlight > 0) continue;
      if (this.recent(entry, now) === 0) queue.groups.delete(group);
      else evictable.push([group, entry]);
    }
    const excess = queue.groups.size - Math.floor(cap * 0.9);
    if (queue.groups.size > cap && excess > 0) {
      evictable.sort((a, b) => a[1].lastActiveAt - b[1].lastActiveAt);
      for (const [group] of evictable.slice(0, excess)) queue.groups.delete(group);
    }
    const size = queue.groups.size;
    queue.sweepAt = Math.max(Math.min(MIN_SWEEP, cap), Math.min(size * 2, cap), size + Math.ceil(cap / 10));
  }
}

const byStore = new WeakMap<object, GroupActivity>();

/**
 * The activity tracker of one engine, found by its store: the trigger side records claims into it, and
 * `sluice.groupLimits.activity()` reads it, without either holding the other.
 */
export function groupActivityOf(store: object): GroupActivity {
  let activity = byStore.get(store);
  if (!activity) {
    activity = new GroupActivity();
    byStore.set(store, activity);
  }
  return activity;
}
