/**
 * Wake-ups. A write that makes work available publishes on a channel (`queue:<id>`, later `stream:<id>`);
 * whoever waits on that channel re-checks the store. Nobody polls: an idle system hears nothing and
 * therefore queries nothing. SQLite uses this in-process implementation; PostgreSQL relays the same
 * channels through LISTEN/NOTIFY so every node hears every write.
 */
export type Unsubscribe = () => void;

export interface Notifier {
  publish(channel: string): void;
  subscribe(channel: string, listener: () => void): Unsubscribe;
}

export class InProcessNotifier implements Notifier {
  private readonly listeners = new Map<string, Set<() => void>>();

  publish(channel: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    // Copy first: a listener commonly unsubscribes itself while being called.
    for (const listener of [...set]) listener();
  }

  subscribe(channel: string, listener: () => void): Unsubscribe {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(channel);
    };
  }

  /**
   * Fires every channel that has a listener: for a write made elsewhere whose channels are not known
   * (another process's commit to a shared SQLite file). Each waiter re-checks the store once.
   */
  publishAll(): void {
    for (const channel of [...this.listeners.keys()]) this.publish(channel);
  }

  /** Number of channels with at least one listener (used by idle-cost tests). */
  get channelCount(): number {
    return this.listeners.size;
  }
}

export const queueChannel = (queueId: number): string => `queue:${queueId}`;
export const queueCatalogChannel = 'queues';
