/**
 * This node in the registry: it registers, then heartbeats every `heartbeatMs` until it leaves. A
 * heartbeat is one statement (store/cluster-store.ts) whose outcome the leases and the slots act on.
 *
 * A node that learns it was declared dead (it could not heartbeat for a lease timeout, so others may
 * have taken its leases) drops its leases and registers again, keeping the slots the store kept for it
 * (they count invocations it still runs, see `holdMs`). A node that cannot
 * reach the store keeps its work but stops taking slots once its last heartbeat is older than a lease
 * timeout minus one heartbeat (`current`), the earliest another node could reap it. The heartbeat timer
 * keeps the process alive until the engine is closed.
 */
import { performance } from 'node:perf_hooks';
import type { ClusterStore, HeartbeatOutcome } from '../store/cluster-store.js';
import type { ClusterSettings } from './settings.js';

export interface MembershipDeps {
  store: ClusterStore;
  settings: ClusterSettings;
  /** The lease groups this node serves (sent with each heartbeat). */
  groups(): string[];
  /**
   * How long an invocation this node starts may run (its functions' longest timeout). Sent with each
   * heartbeat: should the node fall silent, its slots stay counted that long after it is declared dead,
   * since a paused process wakes with its invocations still running.
   */
  holdMs(): number;
  /** The node had been declared dead: drop every lease and grant before it registers again. */
  onDeclaredDead(): void;
  onHeartbeat(outcome: HeartbeatOutcome): void;
  onError(error: unknown): void;
}

export class NodeMembership {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private soon = false;
  private stopped = true;
  private lastOkSentAt = Number.NEGATIVE_INFINITY;
  private failing = false;
  private liveNodes: string[] = [];
  /** Heartbeat statements sent, for the idle budget. */
  heartbeats = 0;

  constructor(private readonly deps: MembershipDeps) {}

  get nodeId(): string {
    return this.deps.settings.nodeId;
  }

  /** Live nodes at the last heartbeat, sorted; this node among them. */
  get nodes(): readonly string[] {
    return this.liveNodes;
  }

  /** The last heartbeat is recent enough that nobody can have declared this node dead. */
  current(): boolean {
    const { leaseMs, heartbeatMs } = this.deps.settings;
    return performance.now() - this.lastOkSentAt < leaseMs - heartbeatMs;
  }

  async join(): Promise<void> {
    const sentAt = performance.now();
    await this.deps.store.nodeRegister({ nodeId: this.nodeId });
    this.lastOkSentAt = sentAt;
    this.liveNodes = [this.nodeId];
    this.stopped = false;
    await this.beat();
    this.arm();
  }

  /** Heartbeat now rather than at the next tick (a node joined: shares change). */
  beatSoon(): void {
    if (this.stopped) return;
    if (this.beating) {
      this.soon = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.tick();
  }

  /** Stops heartbeating (the node keeps its row until `leave`). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.beating) await this.beating;
  }

  async leave(): Promise<void> {
    await this.stop();
    await this.deps.store.nodeLeave({ nodeId: this.nodeId });
  }

  private arm(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, this.deps.settings.heartbeatMs);
    // Not unref'd: a node is a member until it is closed, and keeps its process alive through a database
    // outage (when no connection is left to do so) to come back when the database does.
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.beating) return;
    await this.beat();
    if (this.soon) {
      this.soon = false;
      return this.tick();
    }
    this.arm();
  }

  private beat(): Promise<void> {
    const run = async () => {
      const { store, settings } = this.deps;
      try {
        let sentAt = performance.now();
        this.heartbeats++;
        const heartbeat = {
          nodeId: this.nodeId,
          leaseMs: settings.leaseMs,
          nodeTimeoutMs: settings.leaseMs,
          holdMs: this.deps.holdMs(),
          groups: this.deps.groups(),
        };
        let outcome = await store.nodeHeartbeat(heartbeat);
        if (!outcome.alive && !this.stopped) {
          this.deps.onDeclaredDead();
          sentAt = performance.now();
          // The same process: the slots kept for it still count the invocations it runs.
          await store.nodeRegister({ nodeId: this.nodeId, rejoin: true });
          this.heartbeats++;
          outcome = await store.nodeHeartbeat({ ...heartbeat, groups: this.deps.groups() });
        }
        this.lastOkSentAt = sentAt;
        this.failing = false;
        this.liveNodes = outcome.nodes;
        this.deps.onHeartbeat(outcome);
      } catch (error) {
        // Report the first failure of a run of them (a database restart fails every heartbeat for a while).
        if (!this.failing) this.deps.onError(error);
        this.failing = true;
      }
    };
    this.beating = run().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }
}
