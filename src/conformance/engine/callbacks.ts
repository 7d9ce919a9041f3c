import { describe, expect, it } from 'vitest';
import type { TaskOutcome } from '../../callbacks/types.js';
import { settle } from '../../model/clock.js';
import { expectSluiceError, useEngine, type BackendUnderTest } from './harness.js';

/** Starts a wait and reports whether it has finished, without awaiting it. */
function watch(promise: Promise<TaskOutcome>) {
  const state = { done: false, outcome: undefined as TaskOutcome | undefined, error: undefined as unknown };
  promise.then(
    (outcome) => Object.assign(state, { done: true, outcome }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

export function callbackConformance(backend: BackendUnderTest): void {
  describe(`task tokens [${backend.name}]`, () => {
    const t = useEngine(backend);
    const callbacks = () => t.sluice.callbacks;

    it('hands a queue worker the token in the body and in the TaskToken attribute, and wakes the sender on success', async () => {
      await t.sluice.queues.create('work');
      const task = await callbacks().sendToQueue('work', { input: { orderId: 7 }, timeoutSeconds: 60 });
      const waiting = watch(task.wait());
      await settle();
      expect(waiting.done).toBe(false);

      const [message] = await t.sluice.queues.receive('work');
      const body = JSON.parse(message!.body) as { orderId: number; TaskToken: string };
      expect(body).toEqual({ orderId: 7, TaskToken: task.token });
      expect(message!.messageAttributes.TaskToken?.stringValue).toBe(task.token);

      await callbacks().sendTaskSuccess(body.TaskToken, JSON.stringify({ shipped: true }));
      await settle();
      expect(waiting.outcome).toEqual({
        status: 'SUCCEEDED',
        output: { shipped: true },
        outputText: '{"shipped":true}',
      });
    });

    it('puts the token in the body field the sender names', async () => {
      await t.sluice.queues.create('work');
      const task = await callbacks().sendToQueue('work', { input: { n: 1 }, tokenField: 'MyTaskToken' });
      const [message] = await t.sluice.queues.receive('work');
      expect(JSON.parse(message!.body)).toEqual({ n: 1, MyTaskToken: task.token });
    });

    it('reports a failure with its error and cause', async () => {
      const task = await callbacks().create({ timeoutSeconds: 60 });
      const waiting = watch(task.wait());
      await callbacks().sendTaskFailure(task.token, { error: 'PaymentDeclined', cause: 'card expired' });
      await settle();
      expect(waiting.outcome).toEqual({ status: 'FAILED', error: 'PaymentDeclined', cause: 'card expired' });
    });

    it('times out after TimeoutSeconds with States.Timeout, and a later answer fails with TaskTimedOut', async () => {
      const task = await callbacks().create({ timeoutSeconds: 30 });
      const waiting = watch(task.wait());
      await t.clock.advance(29_999);
      expect(waiting.done).toBe(false);
      await t.clock.advance(1);
      expect(waiting.outcome).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      await expectSluiceError(callbacks().sendTaskSuccess(task.token, '{}'), 'TaskTimedOut', /timed out/);
      await expectSluiceError(callbacks().sendTaskHeartbeat(task.token), 'TaskTimedOut');
    });

    it('times out with States.HeartbeatTimeout when a heartbeat interval passes in silence', async () => {
      const task = await callbacks().create({ timeoutSeconds: 300, heartbeatSeconds: 10 });
      const waiting = watch(task.wait());
      await t.clock.advance(9_000);
      await callbacks().sendTaskHeartbeat(task.token);
      await t.clock.advance(9_000);
      expect(waiting.done).toBe(false); // 18 s in, but the heartbeat at 9 s moved the deadline to 19 s
      await callbacks().sendTaskHeartbeat(task.token);
      await t.clock.advance(9_999);
      expect(waiting.done).toBe(false);
      await t.clock.advance(1);
      expect(waiting.outcome).toMatchObject({ status: 'TIMED_OUT', error: 'States.HeartbeatTimeout' });
    });

    it('heartbeats do not extend the total timeout', async () => {
      const task = await callbacks().create({ timeoutSeconds: 20, heartbeatSeconds: 8 });
      const waiting = watch(task.wait());
      for (let i = 0; i < 3; i++) {
        await t.clock.advance(7_000);
        if (!waiting.done) await callbacks().sendTaskHeartbeat(task.token);
      }
      expect(waiting.outcome).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    });

    it('times out a token nobody waits for when it is next used', async () => {
      const task = await callbacks().create({ timeoutSeconds: 5 });
      await t.clock.advance(5_000);
      await expectSluiceError(callbacks().sendTaskSuccess(task.token, '{}'), 'TaskTimedOut');
      expect((await callbacks().describe(task.token)).status).toBe('TIMED_OUT');
      expect(await task.wait()).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    });

    it('refuses every call on a finished token with TaskTimedOut, as Step Functions', async () => {
      const task = await callbacks().create({ timeoutSeconds: 60 });
      await callbacks().sendTaskSuccess(task.token, '"done"');
      await expectSluiceError(
        callbacks().sendTaskSuccess(task.token, '"again"'),
        'TaskTimedOut',
        /already succeeded/,
      );
      await expectSluiceError(callbacks().sendTaskFailure(task.token, { error: 'Late' }), 'TaskTimedOut');
      await expectSluiceError(callbacks().sendTaskHeartbeat(task.token), 'TaskTimedOut');
      expect(await task.wait()).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
    });

    it('lets exactly one of racing answers win', async () => {
      const task = await callbacks().create({ timeoutSeconds: 60 });
      const results = await Promise.allSettled([
        callbacks().sendTaskSuccess(task.token, '1'),
        callbacks().sendTaskFailure(task.token, { error: 'E' }),
        callbacks().sendTaskSuccess(task.token, '2'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('TaskTimedOut');
    });

    it('tells a malformed token (InvalidToken) from an unknown one (TaskDoesNotExist)', async () => {
      await expectSluiceError(callbacks().sendTaskSuccess('not-a-token', '{}'), 'InvalidToken', /taskToken/);
      await expectSluiceError(callbacks().sendTaskHeartbeat(''), 'InvalidToken');
      const unknown = `SLT1${'A'.repeat(43)}`;
      await expectSluiceError(callbacks().sendTaskSuccess(unknown, '{}'), 'TaskDoesNotExist');
      await expectSluiceError(callbacks().wait(unknown), 'TaskDoesNotExist');
    });

    it('rejects output that is not JSON (InvalidOutput) and an over-long error or cause', async () => {
      const task = await callbacks().create();
      await expectSluiceError(
        callbacks().sendTaskSuccess(task.token, '{"unterminated'),
        'InvalidOutput',
        /output/,
      );
      await expectSluiceError(
        callbacks().sendTaskFailure(task.token, { error: 'e'.repeat(257) }),
        'ValidationException',
        /error: 257 characters.*256/,
      );
      await expectSluiceError(
        callbacks().sendTaskFailure(task.token, { cause: 'c'.repeat(32_769) }),
        'ValidationException',
        /cause/,
      );
      expect((await callbacks().describe(task.token)).status).toBe('WAITING');
    });

    it('validates TimeoutSeconds and HeartbeatSeconds', async () => {
      await expectSluiceError(
        callbacks().create({ timeoutSeconds: 0 }),
        'InvalidParameterValue',
        /timeoutSeconds/,
      );
      await expectSluiceError(
        callbacks().create({ timeoutSeconds: 10, heartbeatSeconds: 10 }),
        'InvalidParameterValue',
        /heartbeatSeconds.*1 to 9/,
      );
    });

    it('keeps only a hash of the token in the store', async () => {
      const task = await callbacks().create({ context: { job: 1 } });
      const view = await callbacks().describe(task.token);
      expect(view).toMatchObject({ status: 'WAITING', context: { job: 1 } });
      const stored = await t.sluice.store.callbackGet({ id: task.token });
      expect(stored).toBeUndefined();
    });

    it('hands a function the token in its event; the function answers', async () => {
      await t.sluice.functions.create({
        name: 'worker',
        handler: async (event: { amount: number; TaskToken: string }) => {
          await t.sluice.callbacks.sendTaskSuccess(
            event.TaskToken,
            JSON.stringify({ doubled: event.amount * 2 }),
          );
        },
      });
      const task = await callbacks().sendToFunction('worker', { input: { amount: 21 }, timeoutSeconds: 60 });
      const waiting = watch(task.wait());
      await t.clock.advance(10);
      expect(waiting.outcome).toMatchObject({ status: 'SUCCEEDED', output: { doubled: 42 } });
    });

    it('fails the task at once when its message cannot be sent', async () => {
      await expectSluiceError(callbacks().sendToQueue('missing', { input: {} }), 'QueueDoesNotExist');
    });

    it('queries nothing while a sender waits for a far deadline', async () => {
      const task = await callbacks().create({ timeoutSeconds: 3_600 });
      const waiting = watch(task.wait());
      await settle();
      t.counter.reset();
      await t.clock.advance(1_800_000);
      expect(Object.fromEntries(t.counter.calls)).toEqual({});
      expect(waiting.done).toBe(false);
      await callbacks().sendTaskSuccess(task.token, '{}');
      await settle();
      expect(waiting.outcome?.status).toBe('SUCCEEDED');
      // The waiter's deadline timer is gone; the one left purges the finished task after its retention.
      expect(t.clock.pendingTimers).toBe(1);
    });

    it('ends a wait when its signal aborts, leaving the task waiting', async () => {
      const task = await callbacks().create();
      const controller = new AbortController();
      const waiting = watch(task.wait({ signal: controller.signal }));
      await settle();
      controller.abort(new Error('gave up'));
      await settle();
      expect((waiting.error as Error).message).toBe('gave up');
      expect((await callbacks().describe(task.token)).status).toBe('WAITING');
    });
  });
}
