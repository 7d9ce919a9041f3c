/**
 * Letting the event loop turn from a loop that may never wait for I/O.
 *
 * On the embedded store a claim, a fast handler and an acknowledgement can each settle without I/O, so
 * a loop of them runs as one chain of microtasks and the event loop never turns: timers, sockets and
 * the work deferred to the end of a turn (acknowledgements, group commits) wait for the loop to end.
 * Measured: a 20,000-message drain into a no-op handler, no timer tick and no delete until its end.
 *
 * Such a loop asks its `TurnBudget` each round. While the event loop keeps turning (a loop that waits
 * for I/O: PostgreSQL) it never waits. Once the loop has run `budgetMs` without a turn it waits for the
 * next one. Not every round: the work deferred to the end of a turn is batched, and a turn per round
 * split a PostgreSQL drain's deletes into eight times as many statements (a third more CPU per message).
 */
import { performance } from 'node:perf_hooks';

let next: Promise<void> | undefined;
let turns = 0;
let watching = false;

/** Changes once the event loop has reached its check phase (setImmediate) since the last call. */
export function currentTurn(): number {
  if (!watching) {
    watching = true;
    setImmediate(() => {
      watching = false;
      turns++;
    });
  }
  return turns;
}

/** The start of the event loop's next turn, shared by every caller of this turn (one setImmediate). */
export function nextTurn(): Promise<void> {
  next ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      next = undefined;
      resolve();
    }),
  );
  return next;
}

export class TurnBudget {
  private turn = currentTurn();
  private since = performance.now();

  constructor(private readonly budgetMs: number) {}

  /** Undefined while within the budget; else the next turn, to be awaited. */
  due(): Promise<void> | undefined {
    const turn = currentTurn();
    const now = performance.now();
    if (turn !== this.turn) {
      this.turn = turn;
      this.since = now;
      return undefined;
    }
    if (now - this.since < this.budgetMs) return undefined;
    return nextTurn().then(() => {
      this.turn = currentTurn();
      this.since = performance.now();
    });
  }
}
