/**
 * The account's concurrency, shared as Lambda shares it: a function with reserved concurrency may run up
 * to its reservation and no more; every other function draws from what the reservations leave of the
 * account's pool. A slot is taken before an execution (or, for a trigger, before a poller claims a batch)
 * and given back after. Whoever was refused can ask to hear when a slot it could use is released, so a
 * throttled trigger waits without polling.
 *
 * In a cluster (cluster/slots.ts) the limits hold across nodes: a gate holds this node's grant in each
 * scope (the function's reservation, or the account's unreserved pool, and a trigger's maximum
 * concurrency) and a slot is taken only within both the local rules and the grants. A refusal by the
 * gate asks the store for more; `capacityChanged` wakes the waiters once it arrives. A caller that cannot
 * queue as triggers do (a synchronous invoke, a state machine's Lambda task) waits in `acquire` while the
 * grant may still come, and is throttled only by the local rules or a scope the gate found exhausted.
 */
import { invalidValue } from '../model/errors.js';

/** A cluster-wide limit a slot counts against: `function:<name>`, `account` or `trigger:<queue>><function>`. */
export interface SlotScope {
  key: string;
  limit: number;
}

/** This node's share of cluster-wide limits (cluster/slots.ts). Synchronous: the grants are local state. */
export interface ConcurrencyGate {
  /** Takes one slot in every scope, or none and returns false (and asks the cluster for more). */
  tryTake(scopes: readonly SlotScope[]): boolean;
  give(scopes: readonly SlotScope[]): void;
  /** A function was declared: a node may keep a standing slot so its first call need not wait. */
  prime?(scopes: readonly SlotScope[]): void;
  /**
   * The grants' generation: it changes when the node was declared dead and its grants may have gone to
   * others. A slot taken in one generation is no longer backed by the cluster in the next.
   */
  epoch?(): number;
  /** Whether slots taken in `epoch` are still backed: same generation, and a heartbeat recent enough. */
  trusts?(epoch: number): boolean;
  /** Whether the cluster has refused these scopes long enough that their limits are in use (a throttle). */
  exhausted?(scopes: readonly SlotScope[]): boolean;
}

/** A trigger's own limit (SQS maximumConcurrency), enforced with the function's. */
export interface TriggerScope {
  key: string;
  limit: number | null;
}

interface Member {
  name: string;
  reserved: number | null;
  running: number;
  listeners: Set<() => void>;
  /** Function-scope gate keys of the running executions (the reservation may change while they run). */
  gateKeys: Map<string, number>;
}

export class ConcurrencyPool {
  private readonly members = new Map<string, Member>();
  private reservedTotal = 0;
  private unreservedRunning = 0;
  /** Listeners of functions without a reservation: any release in the shared pool may serve them. */
  private readonly unreservedListeners = new Set<() => void>();
  private gate: ConcurrencyGate | undefined;
  /** Functions that run another's code and so draw that one's slots (a batch worker and its processor). */
  private readonly slotOwners = new Map<string, string>();

  constructor(readonly accountLimit: number) {
    if (!Number.isInteger(accountLimit) || accountLimit < 1) {
      throw invalidValue(
        'accountConcurrency',
        `${JSON.stringify(accountLimit)} is invalid; must be a positive integer`,
      );
    }
  }

  /** Registers or re-reserves a function. Throws when the reservations would exceed the account. */
  setReservation(name: string, reserved: number | null): void {
    const member = this.members.get(name) ?? {
      name,
      reserved: null,
      running: 0,
      listeners: new Set(),
      gateKeys: new Map(),
    };
    const others = this.reservedTotal - (member.reserved ?? 0);
    if (reserved !== null && others + reserved > this.accountLimit) {
      throw invalidValue(
        'ReservedConcurrentExecutions',
        `${reserved} would reserve ${others + reserved} of the account's ${this.accountLimit} concurrent executions; at most ${this.accountLimit - others} are left`,
      );
    }
    if (this.members.has(name) && (member.reserved === null) !== (reserved === null)) {
      // The function moves between the shared pool and its own: its running executions move with it.
      this.unreservedRunning += reserved === null ? member.running : -member.running;
    }
    this.reservedTotal = others + (reserved ?? 0);
    member.reserved = reserved;
    this.members.set(name, member);
    this.gate?.prime?.([this.functionScope(member)]);
    // Any reservation change can open slots for this function or for the shared pool: let waiters retry.
    this.wakeAll(member.listeners);
    this.wakeAll(this.unreservedListeners);
  }

  /**
   * From now on `name` takes its slots as `owner` does: a batch worker runs its processor, so the
   * processor's reservation (0 included) bounds the worker as it bounds direct invocations.
   */
  shareSlots(name: string, owner: string): void {
    this.slotOwners.set(name, owner);
  }

  private owner(name: string): string {
    return this.slotOwners.get(name) ?? name;
  }

  remove(name: string): void {
    this.slotOwners.delete(name);
    const member = this.members.get(name);
    if (!member) return;
    this.reservedTotal -= member.reserved ?? 0;
    if (member.reserved === null) this.unreservedRunning -= member.running;
    // Executions still running will not be released through a member that is gone: give their slots back.
    for (const [key, count] of member.gateKeys)
      for (let i = 0; i < count; i++) this.gate?.give([{ key, limit: 0 }]);
    this.members.delete(name);
    this.wakeAll(member.listeners);
    this.wakeAll(this.unreservedListeners);
  }

  /** The most executions the function could ever have at once, whatever else is running. */
  ceiling(name: string): number {
    name = this.owner(name);
    const member = this.members.get(name);
    if (!member) return 0;
    return member.reserved ?? this.accountLimit - this.reservedTotal;
  }

  running(name: string): number {
    name = this.owner(name);
    return this.members.get(name)?.running ?? 0;
  }

  /** Shares the limits with other nodes from now on (cluster mode); see the module comment. */
  setGate(gate: ConcurrencyGate): void {
    this.gate = gate;
    for (const member of this.members.values()) gate.prime?.([this.functionScope(member)]);
  }

  /** The gate's grants grew (or its node can take slots again): every waiter may retry. */
  capacityChanged(): void {
    for (const member of this.members.values()) this.wakeAll(member.listeners);
    this.wakeAll(this.unreservedListeners);
  }

  /** The gate's generation now, for a holder that keeps its slot across many executions (a poller). */
  epoch(): number {
    return this.gate?.epoch?.() ?? 0;
  }

  /**
   * Whether a slot taken in `epoch` may still start executions. A poller holds one slot through many
   * batches; once its node was declared dead (a process paused past its lease wakes up), the cluster has
   * handed that slot to another node, so the poller must give it back and take a new one.
   */
  stillHeld(epoch: number): boolean {
    return this.gate?.trusts?.(epoch) ?? true;
  }

  tryAcquire(name: string, trigger?: TriggerScope): boolean {
    name = this.owner(name);
    const member = this.members.get(name);
    if (!member) return false;
    if (member.reserved !== null) {
      if (member.running >= member.reserved) return false;
    } else {
      if (this.unreservedRunning >= this.accountLimit - this.reservedTotal) return false;
    }
    if (this.gate) {
      const scope = this.functionScope(member);
      if (!this.gate.tryTake(withTrigger(scope, trigger))) return false;
      member.gateKeys.set(scope.key, (member.gateKeys.get(scope.key) ?? 0) + 1);
    }
    if (member.reserved === null) this.unreservedRunning++;
    member.running++;
    return true;
  }

  /**
   * Takes a slot, waiting while a refusal may still turn into a grant: this node's own rules allow one
   * more, and the gate has not found the scope exhausted (its grant is on its way, or another node is
   * giving back spare slots). False, at once, when the limit is in use as Lambda counts it (a throttle),
   * or when the caller's deadline aborts first. `deadline` is called only when a wait begins, so a slot
   * free at once (or a single node's throttle) arms no timer.
   */
  async acquire(name: string, deadline: () => AbortSignal): Promise<boolean> {
    let signal: AbortSignal | undefined;
    for (;;) {
      if (this.tryAcquire(name)) return true;
      if (signal?.aborted || !this.grantPending(name)) return false;
      signal ??= deadline();
      if (signal.aborted) return false;
      const waitOn = signal;
      await new Promise<void>((resolve) => {
        const done = () => {
          cancel();
          waitOn.removeEventListener('abort', done);
          resolve();
        };
        const cancel = this.onRelease(name, done);
        waitOn.addEventListener('abort', done);
      });
    }
  }

  /** Whether a refusal of `name` is only the cluster's grant not there yet (see `acquire`). */
  private grantPending(name: string): boolean {
    const member = this.members.get(this.owner(name));
    if (!member || !this.gate) return false;
    const full =
      member.reserved !== null
        ? member.running >= member.reserved
        : this.unreservedRunning >= this.accountLimit - this.reservedTotal;
    return !full && this.gate.exhausted?.([this.functionScope(member)]) !== true;
  }

  release(name: string, trigger?: TriggerScope): void {
    name = this.owner(name);
    const member = this.members.get(name);
    if (!member && trigger && trigger.limit !== null)
      this.gate?.give([{ key: `trigger:${trigger.key}`, limit: 0 }]); // see remove()
    if (!member || member.running === 0) return;
    if (this.gate) {
      // Give back in the scope the slot was taken from, even if the reservation changed since.
      const current = this.functionScope(member);
      const key = member.gateKeys.has(current.key) ? current.key : member.gateKeys.keys().next().value;
      if (key !== undefined) {
        const left = (member.gateKeys.get(key) ?? 1) - 1;
        if (left > 0) member.gateKeys.set(key, left);
        else member.gateKeys.delete(key);
        // The trigger's scope too, whatever its limit now (giving a slot never held is ignored).
        this.gate.give(
          trigger
            ? [
                { key, limit: 0 },
                { key: `trigger:${trigger.key}`, limit: 0 },
              ]
            : [{ key, limit: 0 }],
        );
      }
    }
    member.running--;
    if (member.reserved === null) {
      this.unreservedRunning--;
      this.wakeAll(this.unreservedListeners);
    } else {
      this.wakeAll(member.listeners);
    }
  }

  /** Calls `listener` once, at the next release that could give `name` a slot. Returns a cancel. */
  onRelease(name: string, listener: () => void): () => void {
    name = this.owner(name);
    const member = this.members.get(name);
    if (!member) return () => undefined;
    const set = member.reserved === null ? this.unreservedListeners : member.listeners;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Why a function was refused a slot, in Lambda's words. */
  throttleReason(name: string): string {
    name = this.owner(name);
    const member = this.members.get(name);
    if (member?.reserved === 0)
      return 'ReservedFunctionConcurrentInvocationLimitExceeded: the function has a reserved concurrency of 0';
    if (member && member.reserved !== null) {
      return `ReservedFunctionConcurrentInvocationLimitExceeded: the function's reserved concurrency of ${member.reserved} is in use`;
    }
    return `ConcurrentInvocationLimitExceeded: the ${this.accountLimit - this.reservedTotal} unreserved concurrent executions of the account are in use`;
  }

  private functionScope(member: Member): SlotScope {
    // Function names cannot contain ':', so a function's key never collides with another scope's.
    return member.reserved !== null
      ? { key: `function:${member.name}`, limit: member.reserved }
      : { key: 'account', limit: this.accountLimit - this.reservedTotal };
  }

  private wakeAll(listeners: Set<() => void>): void {
    if (listeners.size === 0) return;
    const called = [...listeners];
    listeners.clear();
    for (const listener of called) listener();
  }
}

function withTrigger(scope: SlotScope, trigger: TriggerScope | undefined): SlotScope[] {
  return trigger && trigger.limit !== null
    ? [scope, { key: `trigger:${trigger.key}`, limit: trigger.limit }]
    : [scope];
}
