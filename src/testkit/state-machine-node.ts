/**
 * Test support: a node on a manual clock for state machine tests, and a way to run an execution to its
 * end by stepping that clock (PostgreSQL answers asynchronously, so the end is polled between steps).
 */
import { afterEach } from 'vitest';
import { Sluice } from '../engine/sluice.js';
import { ManualClock, settle } from '../model/clock.js';
import type { Store } from '../store/store.js';

const throwing = (error: unknown) => {
  throw error;
};

export interface StateMachineNode {
  clock: ManualClock;
  sluice: Sluice;
  machines: Sluice['stateMachines'];
  /** Steps the clock until the execution has ended, and returns it as described then. */
  ended(arn: string): ReturnType<Sluice['stateMachines']['describeExecution']>;
}

/** Call inside a `describe`: `open()` gives a fresh node on a fresh store, closed after each test. */
export function useStateMachineNode(openBackend: () => Promise<Store>): { open(): Promise<StateMachineNode> } {
  let sluice: Sluice | undefined;
  afterEach(async () => {
    await sluice?.close({ graceMs: 100 });
    sluice = undefined;
  });
  return {
    async open() {
      const clock = new ManualClock();
      const node = await Sluice.open({ store: await openBackend(), clock, onBackgroundError: throwing });
      sluice = node;
      const machines = node.stateMachines;
      const ended = async (arn: string) => {
        for (let i = 0; i < 400; i++) {
          const view = await machines.describeExecution(arn);
          if (view.status !== 'RUNNING') return view;
          await clock.advance(100);
          await settle();
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        throw new Error('still running');
      };
      return { clock, sluice: node, machines, ended };
    },
  };
}
