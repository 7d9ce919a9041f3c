/**
 * A process paused (SIGSTOP, a frozen VM) past an invocation's deadline wakes with the handler's answer
 * and the timeout timer both ready. Whichever the event loop runs first, the invocation timed out: its
 * result must not count as a success (a trigger would then delete messages already redelivered).
 * Simulated with a clock that jumps forward while its timers never fire.
 */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../model/clock.js';
import { InProcessRunner } from './runner.js';
import { WorkerPool } from './worker-pool.js';

/** A clock whose timers never fire (the process is frozen) and whose time can jump. */
function frozenTimersClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimer: () => () => undefined,
    jump(ms) {
      offset += ms;
    },
  };
}

describe('an invocation whose process was paused past its deadline', () => {
  it('ends in a timeout in process, although the handler answered', async () => {
    const clock = frozenTimersClock();
    const runner = new InProcessRunner({
      name: 'slow',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:slow',
      memorySize: 128,
      timeoutSeconds: 3,
      clock,
      region: 'us-east-1',
      environment: {},
      handler: async () => {
        clock.jump(20_000); // the process slept 20 s inside the handler
        return 'done';
      },
    });
    const execution = await runner.run({ requestId: 'r1', event: {}, timeoutMs: 3_000 });
    expect(execution).toMatchObject({
      ok: false,
      timedOut: true,
      error: { errorMessage: expect.stringContaining('Task timed out after 3.00 seconds') },
    });
  });

  it('still succeeds when the handler answers before its deadline', async () => {
    const clock = frozenTimersClock();
    const runner = new InProcessRunner({
      name: 'quick',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:quick',
      memorySize: 128,
      timeoutSeconds: 3,
      clock,
      region: 'us-east-1',
      environment: {},
      handler: async () => 'done',
    });
    expect(await runner.run({ requestId: 'r2', event: {}, timeoutMs: 3_000 })).toEqual({
      ok: true,
      result: 'done',
    });
  });

  it('ends in a timeout in a worker thread, and the thread is replaced', async () => {
    const clock = frozenTimersClock();
    const pool = new WorkerPool({
      name: 'sleepy',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:sleepy',
      region: 'us-east-1',
      handler: {
        moduleUrl: pathToFileURL(new URL('../../test/fixtures/handlers.ts', import.meta.url).pathname).href,
        exportName: 'sleepy',
        text: './handlers.ts#sleepy',
      },
      memorySize: 128,
      timeoutSeconds: 1,
      environment: {},
      clock,
    });
    try {
      // The first run boots the thread; the second is the one paused past its deadline.
      expect(await pool.run({ requestId: 'warm', event: { ms: 1 }, timeoutMs: 1_000 })).toMatchObject({
        ok: true,
        result: 'awake',
      });
      setTimeout(() => clock.jump(60_000), 50);
      const execution = await pool.run({ requestId: 'late', event: { ms: 200 }, timeoutMs: 1_000 });
      expect(execution).toMatchObject({ ok: false, timedOut: true });
      expect(pool.size).toBe(0);
    } finally {
      await pool.close({ force: true });
    }
  });
});
