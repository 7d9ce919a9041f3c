/**
 * Waiting on a store row from any node without polling: `check` reads the row and either settles the
 * wait (returns a value) or keeps it (returns undefined). It runs once at once, again at every notice on
 * the row's channel (never two at once: a notice during a check runs one more), and again at the instant
 * `check` arms with `wakeAt` (a deadline). An error from `check` rejects; an abort rejects with its reason.
 */
import type { Clock } from '../model/clock.js';
import type { Notifier } from '../store/notifier.js';

export interface ChannelWait<T> {
  notifier: Notifier;
  channel: string;
  clock: Clock;
  signal?: AbortSignal | undefined;
  check(wakeAt: (at: number | null) => void): Promise<T | undefined>;
}

export function waitOnChannel<T>(wait: ChannelWait<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cancelTimer: (() => void) | undefined;
    let checking = false;
    let again = false;
    let done = false;
    const finish = (settle: () => void) => {
      done = true;
      cancelTimer?.();
      unsubscribe();
      wait.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const wakeAt = (at: number | null) => {
      cancelTimer?.();
      cancelTimer = at === null ? undefined : wait.clock.setTimer(at - wait.clock.now(), () => void check());
    };
    const check = async (): Promise<void> => {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const value = await wait.check(wakeAt);
          if (value !== undefined) return finish(() => resolve(value));
        } while (again && !done);
      } catch (error) {
        finish(() => reject(error));
      } finally {
        checking = false;
      }
    };
    const onAbort = () => finish(() => reject(wait.signal?.reason ?? new Error('aborted')));
    const unsubscribe = wait.notifier.subscribe(wait.channel, () => void check());
    if (wait.signal?.aborted) return onAbort();
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    void check();
  });
}
