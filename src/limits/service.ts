/**
 * Group limits, the public face (`sluice.groupLimits`): a concurrency and a rate limit per task group of
 * a queue, and a default for groups without an entry. Limits are store rows, read by every claim inside
 * its transaction, so a change applies at the next claim on every node; groups a change may unblock are
 * re-checked at once (their rows are lowered and the queue's pollers woken). Reads go through a cache
 * that any change, on any node, clears.
 *
 *   await sluice.groupLimits.setDefault('tasks', { maxConcurrency: 1 });
 *   await sluice.groupLimits.set('tasks', 'acme', { maxConcurrency: 2, rate: { limit: 2, intervalSeconds: 1 } });
 */
import type { Clock } from '../model/clock.js';
import { invalidValue } from '../model/errors.js';
import type { QueueService } from '../queues/service.js';
import type { Unsubscribe } from '../store/notifier.js';
import type { StoredGroupLimit } from '../store/group-store.js';
import type { Store } from '../store/store.js';
import type { TableService } from '../tables/service.js';
import { groupActivityOf, type QueueGroupActivity } from './group-activity.js';
import { applyGroupKeyRule } from './grouping.js';
import { startGroupTableSync, type GroupSyncOptions, type GroupTableSync } from './table-sync.js';
import { groupLimitBounds as bounds, type GroupInspectionView, type GroupLimitInput, type GroupLimitView } from './types.js';
import { type GroupLimit } from '../store/group-limit.js';
import { nextTokenAt, unitsAt, wholeTokens } from '../store/rules/token-bucket.js';
import type { Service } from '../model/service.js';

/** Published on every limit change, so each node's cache forgets what it read. */
export const groupLimitsChannel = 'group-limits';

const PAGE_MAX = 1000;

export interface GroupLimitServiceOptions {
  store: Store;
  clock: Clock;
  queues: QueueService;
  /** Tables, for `syncFromTable`. */
  tables: TableService;
  onError: (error: unknown) => void;
}

function positiveInteger(field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidValue(field, `${JSON.stringify(value)} is invalid; must be an integer from 1 to ${max}`);
  }
  return value;
}

/** Validates a caller's limit; `field` prefixes the names in errors ('' for none: `rate.limit`). */
export function parseGroupLimit(input: GroupLimitInput, field = 'limit'): GroupLimit {
  const at = (name: string) => (field === '' ? name : `${field}.${name}`);
  if (typeof input !== 'object' || input === null)
    throw invalidValue(field || 'body', 'must be an object with maxConcurrency and/or rate');
  const unknown = Object.keys(input).filter((key) => key !== 'maxConcurrency' && key !== 'rate');
  if (unknown.length > 0)
    throw invalidValue(
      field || 'body',
      `unknown setting(s) ${unknown.join(', ')}; use maxConcurrency and rate`,
    );
  const maxConcurrency =
    input.maxConcurrency === undefined || input.maxConcurrency === null
      ? null
      : positiveInteger(at('maxConcurrency'), input.maxConcurrency, bounds.maxConcurrency);
  if (input.rate === undefined || input.rate === null) return { maxConcurrency, rate: null };
  const rate = input.rate;
  if (typeof rate !== 'object') throw invalidValue(at('rate'), 'must be { limit, intervalSeconds?, burst? }');
  const limit = positiveInteger(at('rate.limit'), rate.limit, bounds.rateLimit);
  const seconds = rate.intervalSeconds ?? 1;
  const intervalMs = typeof seconds === 'number' ? Math.round(seconds * 1000) : NaN;
  if (!(intervalMs >= bounds.minIntervalMs && intervalMs <= bounds.maxIntervalMs)) {
    throw invalidValue(
      at('rate.intervalSeconds'),
      `${JSON.stringify(seconds)} is invalid; must be from 0.001 to 86400 seconds`,
    );
  }
  const burst = positiveInteger(at('rate.burst'), rate.burst ?? limit, bounds.burst);
  return { maxConcurrency, rate: { limit, intervalMs, burst } };
}

function toView(stored: StoredGroupLimit): GroupLimitView {
  const rate = stored.limit.rate;
  return {
    queue: stored.queueName,
    group: stored.groupKey,
    maxConcurrency: stored.limit.maxConcurrency,
    rate: rate ? { limit: rate.limit, intervalSeconds: rate.intervalMs / 1000, burst: rate.burst } : null,
    modifiedAt: stored.modifiedAt,
  };
}

function checkGroup(group: unknown): string {
  if (typeof group !== 'string' || group.length > bounds.maxKeyLength) {
    throw invalidValue(
      'group',
      `must be a string of at most ${bounds.maxKeyLength} characters ('' is the group of messages without a key)`,
    );
  }
  return group;
}

function checkQueueName(queue: unknown): string {
  if (typeof queue !== 'string' || queue.length === 0) throw invalidValue('queue', 'give the queue by name');
  return queue;
}

export class GroupLimitService implements Service {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly queues: QueueService;
  private readonly tables: TableService;
  private readonly onError: (error: unknown) => void;
  private readonly cache = new Map<string, GroupLimitView | null>();
  private readonly unsubscribe: Unsubscribe;
  private readonly stoppers = new Set<() => Promise<void> | void>();
  private readonly syncs = new Map<string, GroupTableSync>();

  constructor(options: GroupLimitServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.queues = options.queues;
    this.tables = options.tables;
    this.onError = options.onError;
    this.unsubscribe = this.store.notifier.subscribe(groupLimitsChannel, () => this.cache.clear());
  }

  /** Sets a group's limits (replacing the default for that group). */
  async set(queue: string, group: string, input: GroupLimitInput): Promise<GroupLimitView> {
    return this.put(checkQueueName(queue), checkGroup(group), parseGroupLimit(input));
  }

  /** Sets the limits of every group of the queue that has no entry of its own. */
  async setDefault(queue: string, input: GroupLimitInput): Promise<GroupLimitView> {
    return this.put(checkQueueName(queue), null, parseGroupLimit(input));
  }

  /** A group's own entry (undefined when it has none and follows the default). */
  async get(queue: string, group: string): Promise<GroupLimitView | undefined> {
    return this.read(checkQueueName(queue), checkGroup(group));
  }

  async getDefault(queue: string): Promise<GroupLimitView | undefined> {
    return this.read(checkQueueName(queue), null);
  }

  /** The limits a group runs under: its own entry, else the default, else none. */
  async effective(queue: string, group: string): Promise<Pick<GroupLimitView, 'maxConcurrency' | 'rate'>> {
    const own = (await this.get(queue, group)) ?? (await this.getDefault(queue));
    return { maxConcurrency: own?.maxConcurrency ?? null, rate: own?.rate ?? null };
  }

  /** Removes a group's entry: the group follows the default again. Returns whether there was one. */
  async delete(queue: string, group: string): Promise<boolean> {
    return this.remove(checkQueueName(queue), checkGroup(group));
  }

  async deleteDefault(queue: string): Promise<boolean> {
    return this.remove(checkQueueName(queue), null);
  }

  /** Group entries of a queue in key order, a page at a time (`after`: the last group of the previous page). */
  async list(queue: string, options: { after?: string; limit?: number } = {}): Promise<GroupLimitView[]> {
    const limit = options.limit ?? 100;
    positiveInteger('limit', limit, PAGE_MAX);
    const rows = await this.store.groupLimitList({
      queueName: checkQueueName(queue),
      after: options.after ?? null,
      limit,
    });
    return rows.map(toView);
  }

  /**
   * Why a group runs or waits now, from the store (every node's view): its messages waiting, in flight
   * (holding its concurrency slots) and delayed, the age of its oldest waiting message, the rate tokens
   * left in its bucket, and its limits. Reads the group's messages: for an operator's question, not a loop.
   */
  async inspect(queue: string, group: string): Promise<GroupInspectionView> {
    const stored = await this.queues.definition(checkQueueName(queue));
    const now = this.clock.now();
    const [inspection, effective] = await Promise.all([
      this.store.groupInspect({ queueId: stored.id, groupKey: checkGroup(group), now }),
      this.effective(queue, group),
    ]);
    const rate = effective.rate
      ? { limit: effective.rate.limit, intervalMs: effective.rate.intervalSeconds * 1000, burst: effective.rate.burst }
      : null;
    const units = rate && inspection.row ? unitsAt(rate, { tokens: inspection.row.tokens, refilledAt: inspection.row.refilledAt }, now) : null;
    return {
      queue: stored.name,
      group,
      limits: effective,
      waiting: inspection.waiting,
      inFlight: inspection.inFlight,
      delayed: inspection.delayed,
      oldestWaitSeconds: inspection.oldestWaitingSentAt === null ? null : Math.max(0, Math.floor((now - inspection.oldestWaitingSentAt) / 1000)),
      rateTokens: rate ? (units === null ? rate.burst : wholeTokens(rate, units)) : null,
      nextTokenAt: rate && units !== null && wholeTokens(rate, units) === 0 ? nextTokenAt(rate, units, now) : null,
    };
  }

  /**
   * What grouped triggers did per group on this node (group-activity.ts): per queue, totals over every
   * group and the busiest groups active in the last minute or two (at most 50 per queue): messages
   * started, claims refused by concurrency and by rate, messages under invocation. Groups without
   * recent activity are not listed and cost nothing.
   */
  activity(queue?: string): QueueGroupActivity[] {
    return groupActivityOf(this.store).snapshot(this.clock.now(), queue);
  }

  /**
   * Applies the queue's grouping rule to every message it holds again: for messages sent by a node that
   * had not yet seen a new rule (see limits/grouping.ts). Returns the number of messages keyed.
   */
  async rekey(queue: string): Promise<number> {
    const stored = await this.queues.definition(checkQueueName(queue));
    return applyGroupKeyRule(this.store, stored, this.clock.now());
  }

  /**
   * Keeps the queue's group limits equal to a table's items, live through its stream (see
   * limits/table-sync.ts): one item per group (`maxConcurrency`, `rateLimit`, `rateIntervalSeconds`,
   * `rateBurst`), the item of group '*' the default. Resolves once the table is loaded. A queue has at
   * most one sync: a new one replaces the previous.
   */
  async syncFromTable(tableName: string, options: GroupSyncOptions): Promise<GroupTableSync> {
    const queue = checkQueueName(options?.queue);
    await this.syncs.get(queue)?.stop();
    const sync = await startGroupTableSync({
      tableName,
      options,
      store: this.store,
      tables: this.tables,
      limits: this,
      onError: this.onError,
    });
    this.syncs.set(queue, sync);
    return sync;
  }

  /** Registers work to stop with the engine (table syncs). */
  onStop(stop: () => Promise<void> | void): () => void {
    this.stoppers.add(stop);
    return () => this.stoppers.delete(stop);
  }

  /** Nothing to arm: table syncs start when they are created. */
  async start(): Promise<void> {}

  /** Stops following limit changes and stops every table sync. */
  async stop(): Promise<void> {
    this.unsubscribe();
    for (const stop of [...this.stoppers]) await stop();
    this.stoppers.clear();
  }

  private async put(queueName: string, groupKey: string | null, limit: GroupLimit): Promise<GroupLimitView> {
    const now = this.clock.now();
    await this.store.groupLimitPut({ queueName, groupKey, limit, now });
    this.changed();
    return toView({ queueName, groupKey, limit, modifiedAt: now });
  }

  private async remove(queueName: string, groupKey: string | null): Promise<boolean> {
    const removed = await this.store.groupLimitPut({
      queueName,
      groupKey,
      limit: null,
      now: this.clock.now(),
    });
    this.changed();
    return removed;
  }

  private changed(): void {
    this.cache.clear();
    this.store.notifier.publish(groupLimitsChannel);
  }

  private async read(queueName: string, groupKey: string | null): Promise<GroupLimitView | undefined> {
    const key = `${queueName}\u0000${groupKey === null ? '\u0001' : groupKey}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? undefined;
    const stored = await this.store.groupLimitGet({ queueName, groupKey });
    const view = stored ? toView(stored) : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, view);
    return view ?? undefined;
  }
}
