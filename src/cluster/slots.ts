/**
 * Cluster-wide concurrency: this node's grants of slots, one per scope (a function's reservation, the
 * account's unreserved pool, a trigger's maximum concurrency). The store keeps the grants of live nodes
 * within each limit (store/cluster-store.ts `slotGrant`); this class is the node's side, and the
 * ConcurrencyPool's gate, so taking a slot stays synchronous and costs no query while the grant lasts.
 *
 * - A refused take marks the scope as waiting and asks for more: double the grant (at least one more than
 *   in use), never above the limit. The store grants what the other nodes leave.
 * - A node short of slots announces it on the scope's channel (`cluster:slots:<scope>`); nodes holding
 *   spare slots (granted, not in use) give them back at once and announce that in turn, and the waiter
 *   asks again. A heartbeat also retries while anything waits, should a wake-up be lost.
 * - Spare slots are given back after `slotLingerMs` without use, down to one standing slot per declared
 *   function (so the next call starts without a round trip), and down to none when another node waits.
 * - A scope is *exhausted* when the store says a refusal is final (ClusterStore's SlotGrant.final): every
 *   other live node with slots in the scope was told, at its last write, that someone waits, and had none
 *   spare. A node told so gives back every slot it frees at once, so nothing will come before a release.
 *   A node that hears a wait announced answers it at once: it gives back spare slots or, with none spare
 *   and a row that does not say so yet, writes its grant as it is (an acknowledgement); then it says so
 *   on `slotAckChannel`, and the waiter asks again. So a limit genuinely in use throttles within a few store round trips, while a node
 *   not granted yet, or slots another node holds spare, still mean a wait. Should a notice be lost, a
 *   refusal standing for a whole heartbeat (`settleMs`) counts as exhausted too: by then every node heard
 *   the announcement, gave back its spare slots, and the waiter asked again. A caller that cannot queue (a
 *   state machine's Lambda task) waits for a grant until then, and is throttled as Lambda throttles only
 *   once the scope is exhausted.
 * - A node whose heartbeat is older than a lease timeout minus a heartbeat takes no slot at all: it may
 *   have been declared dead, and its grants handed to others.
 * Store calls are coalesced: one statement carries every scope that changed, one call at a time.
 */
import { performance } from 'node:perf_hooks';
import type { ConcurrencyGate, SlotScope } from '../functions/concurrency.js';
import { clusterChannels, type ClusterStore, type SlotChange } from '../store/cluster-store.js';
import type { Notifier, Unsubscribe } from '../store/notifier.js';

export interface SlotGrantsDeps {
  store: ClusterStore;
  notifier: Notifier;
  nodeId: string;
  lingerMs: number;
  /** How long the store must refuse a waiting scope before it counts as exhausted: a heartbeat. */
  settleMs: number;
  /** How long an invocation started here may run: recorded with each grant (see ClusterStore.slotGrant). */
  holdMs(): number;
  /** Whether this node's last heartbeat is recent enough to trust its grants. */
  current(): boolean;
  /** Grants grew, the node may take slots again, or a scope was found exhausted: waiters should look again. */
  onCapacity(): void;
  onError(error: unknown): void;
}

interface ScopeState {
  key: string;
  limit: number;
  granted: number;
  held: number;
  /** A take was refused for want of a grant and has not succeeded since. */
  waiting: boolean;
  /** This wait was announced to the other nodes. */
  announced: boolean;
  /** A declared function's scope: keep one slot while nobody else waits. */
  standing: boolean;
  primed: boolean;
  /** Give spare slots back at the next sync. */
  trimNow: boolean;
  /** Another node announced a wait and this one has nothing spare: write the grant as it is, to say so. */
  ackNow: boolean;
  /** What this node's row in the store says since its last write: held, granted, told that someone waits. */
  stored: { held: number; granted: number; told: boolean } | undefined;
  othersWaiting: boolean;
  /** When the store first refused a waiting request of this scope, since its last grant or take. */
  refusedSince: number | undefined;
  /** Refused for at least `settleMs`: the limit is in use cluster-wide (see the module comment). */
  exhausted: boolean;
  lastUsedAt: number;
  unsubscribe: Unsubscribe;
  unsubscribeAck: Unsubscribe;
}

export const slotChannel = (scope: string): string => `${clusterChannels.slots}:${scope}`;
/** A node answered a wait announced on slotChannel (it gave back what it could, or had nothing spare). */
export const slotAckChannel = (scope: string): string => `${clusterChannels.slots}:ack:${scope}`;

export class SlotGrants implements ConcurrencyGate {
  private readonly scopes = new Map<string, ScopeState>();
  private syncing: Promise<void> | undefined;
  private again = false;
  private scheduled = false;
  private trimTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private fencedOut = false;
  private announcing = false;
  private generation = 0;
  /** Store calls made, for tests and the idle budget. */
  statements = 0;

  constructor(private readonly deps: SlotGrantsDeps) {}

  tryTake(scopes: readonly SlotScope[]): boolean {
    if (this.stopped) return false;
    if (!this.deps.current()) {
      this.fencedOut = true;
      return false;
    }
    let ok = true;
    for (const scope of scopes) {
      const state = this.state(scope);
      if (state.held >= state.granted) {
        ok = false;
        state.waiting = true;
        this.schedule();
      }
    }
    if (!ok) return false;
    const now = performance.now();
    for (const scope of scopes) {
      const state = this.scopes.get(scope.key)!;
      state.held++;
      state.waiting = false;
      state.announced = false;
      state.refusedSince = undefined;
      state.exhausted = false;
      state.lastUsedAt = now;
    }
    return true;
  }

  exhausted(scopes: readonly SlotScope[]): boolean {
    return scopes.some((scope) => this.scopes.get(scope.key)?.exhausted === true);
  }

  epoch(): number {
    return this.generation;
  }

  trusts(epoch: number): boolean {
    return !this.stopped && epoch === this.generation && this.deps.current();
  }

  give(scopes: readonly SlotScope[]): void {
    const now = performance.now();
    for (const scope of scopes) {
      const state = this.scopes.get(scope.key);
      if (!state) continue;
      state.held = Math.max(0, state.held - 1);
      state.lastUsedAt = now;
      if (state.othersWaiting) {
        state.trimNow = true;
        this.schedule();
      }
    }
    this.armTrim();
  }

  prime(scopes: readonly SlotScope[]): void {
    for (const scope of scopes) {
      const state = this.state(scope);
      state.standing = true;
      if (state.granted === 0 && !state.primed) this.schedule();
    }
  }

  /** After each heartbeat: retry waits (a wake-up may have been lost) and lift a self-fence. */
  onHeartbeat(released: readonly string[]): void {
    if (this.fencedOut && this.deps.current()) {
      this.fencedOut = false;
      this.deps.onCapacity();
    }
    let waiting = false;
    for (const state of this.scopes.values()) {
      if (!state.waiting) continue;
      waiting = true;
      state.announced = false; // still short a heartbeat later: say so again, should the first word be lost
    }
    if (released.length > 0 || waiting) this.schedule();
  }

  /**
   * The node was declared dead and joined again. The store kept its grants while its hold lasted, or
   * freed them: take nothing new until a sync says which, and claim back what is still in use.
   */
  reset(): void {
    this.generation++;
    for (const state of this.scopes.values()) {
      state.granted = 0;
      state.primed = false;
    }
    this.schedule();
  }

  /** This node's view, for tests and diagnostics. */
  view(): Record<string, { granted: number; held: number; waiting: boolean }> {
    return Object.fromEntries(
      [...this.scopes.values()].map((s) => [s.key, { granted: s.granted, held: s.held, waiting: s.waiting }]),
    );
  }

  /** Stops asking; the store forgets the grants when the node leaves. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.trimTimer);
    for (const state of this.scopes.values()) {
      state.unsubscribe();
      state.unsubscribeAck();
    }
    while (this.syncing) await this.syncing;
  }

  private state(scope: SlotScope): ScopeState {
    let state = this.scopes.get(scope.key);
    if (!state) {
      const key = scope.key;
      state = {
        key,
        limit: scope.limit,
        granted: 0,
        held: 0,
        waiting: false,
        announced: false,
        standing: false,
        primed: false,
        trimNow: false,
        ackNow: false,
        stored: undefined,
        othersWaiting: false,
        refusedSince: undefined,
        exhausted: false,
        lastUsedAt: 0,
        unsubscribe: this.deps.notifier.subscribe(slotChannel(key), () => this.onNotice(key)),
        unsubscribeAck: this.deps.notifier.subscribe(slotAckChannel(key), () => this.onAck(key)),
      };
      this.scopes.set(key, state);
    }
    state.limit = scope.limit;
    return state;
  }

  /** Another node announced a wait, or slots it gave back. */
  private onNotice(key: string): void {
    const state = this.scopes.get(key);
    if (!state || this.announcing || this.stopped) return;
    // Someone may be waiting: spare slots go back now, slots in use as soon as they are given back. With
    // none spare, the grant is written as it is, so the waiter learns at once that nothing will come.
    state.othersWaiting = true;
    if (state.granted > state.held) state.trimNow = true;
    else if (state.granted > 0 && !state.waiting && !this.settled(state)) state.ackNow = true;
    if (state.trimNow || state.ackNow || state.waiting) this.schedule();
  }

  /** The store's row already says all this node's slots are in use and that it knows someone waits. */
  private settled(state: ScopeState): boolean {
    const stored = state.stored;
    return stored !== undefined && stored.told && stored.granted === state.granted && stored.held === state.held && state.held >= state.granted;
  }

  /** Another node answered a wait: a waiter here asks again (the store may now give a final answer). */
  private onAck(key: string): void {
    const state = this.scopes.get(key);
    if (!state || this.announcing || this.stopped) return;
    if (state.waiting) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.sync()
      .catch((error: unknown) => this.deps.onError(error))
      .finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** What this node should hold in a scope now; undefined when nothing needs to change. */
  private wantOf(state: ScopeState): number | undefined {
    // After a rejoin: invocations still running hold slots the grant no longer shows.
    if (state.held > state.granted && !state.waiting) return state.held;
    if (state.waiting) {
      const want = Math.min(state.limit, Math.max(state.held + 1, state.granted * 2));
      return want > state.granted ? want : undefined;
    }
    if (state.trimNow) {
      const floor = state.standing && !state.othersWaiting ? 1 : 0;
      const want = Math.max(state.held, Math.min(state.granted, floor));
      return want < state.granted ? want : undefined;
    }
    if (state.standing && !state.primed && state.granted === 0 && state.limit > 0) return 1;
    if (state.ackNow) return state.granted;
    return undefined;
  }

  private async sync(): Promise<void> {
    const changes: SlotChange[] = [];
    const before = new Map<string, number>();
    for (const state of this.scopes.values()) {
      const want = this.wantOf(state);
      state.trimNow = false;
      state.ackNow = false;
      if (want === undefined) continue;
      if (state.standing && !state.waiting) state.primed = true;
      before.set(state.key, state.granted);
      // A shrink takes effect here at once (no take can use what is being given back); a growth only
      // when the store has granted it.
      if (want < state.granted) state.granted = want;
      changes.push({ scope: state.key, limit: state.limit, want, waiting: state.waiting, held: state.held });
    }
    if (changes.length === 0) return;
    this.statements++;
    const askedAt = performance.now();
    const grants = await this.deps.store.slotGrant({
      nodeId: this.deps.nodeId,
      holdMs: this.deps.holdMs(),
      changes,
    });
    let grew = false;
    let verdict = false;
    for (const grant of grants) {
      const state = this.scopes.get(grant.scope);
      const change = changes.find((c) => c.scope === grant.scope);
      if (!state || !change) continue;
      const previous = before.get(grant.scope) ?? 0;
      state.granted = grant.granted;
      state.othersWaiting = grant.othersWaiting;
      state.stored = { held: change.held, granted: grant.granted, told: grant.othersWaiting };
      if (grant.granted > previous) grew = true;
      if (change.waiting) verdict = this.judge(state, grant.granted > state.held, grant.final, askedAt) || verdict;
      if (change.waiting && grant.granted < change.want && !state.announced) {
        state.announced = true;
        this.announce(grant.scope);
      }
      if (!change.waiting && grant.granted < previous && grant.othersWaiting) this.announce(grant.scope);
      else if (!change.waiting && grant.othersWaiting) this.announce(grant.scope, slotAckChannel);
      if (grant.othersWaiting && state.granted > state.held) {
        state.trimNow = true;
        this.again = true;
      }
    }
    if (grew || verdict) this.deps.onCapacity();
    this.armTrim();
  }

  /**
   * Records what the store answered a waiting scope: room for one more clears the refusal; a final
   * refusal, or one standing for `settleMs`, marks the scope exhausted. True when the scope just became
   * exhausted.
   */
  private judge(state: ScopeState, room: boolean, final: boolean, askedAt: number): boolean {
    if (room) {
      state.refusedSince = undefined;
      state.exhausted = false;
      return false;
    }
    state.refusedSince ??= askedAt;
    if (state.exhausted) return false;
    if (!final && askedAt - state.refusedSince < this.deps.settleMs) return false;
    state.exhausted = true;
    return true;
  }

  private announce(scope: string, channel: (scope: string) => string = slotChannel): void {
    this.announcing = true;
    try {
      this.deps.notifier.publish(channel(scope));
    } finally {
      this.announcing = false;
    }
  }

  /** Gives back slots unused for `lingerMs`, one timer for every scope, armed only while some are spare. */
  private armTrim(): void {
    if (this.trimTimer || this.stopped) return;
    const spare = (s: ScopeState) => s.granted > Math.max(s.held, s.standing ? 1 : 0);
    if (![...this.scopes.values()].some(spare)) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      const now = performance.now();
      let due = false;
      for (const state of this.scopes.values()) {
        if (spare(state) && now - state.lastUsedAt >= this.deps.lingerMs) {
          state.trimNow = true;
          due = true;
        }
      }
      if (due) this.schedule();
      else this.armTrim();
    }, this.deps.lingerMs);
    this.trimTimer.unref();
  }
}
