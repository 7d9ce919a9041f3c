/**
 * State machine benchmarks (issue 14): state transitions per second (executions of five Lambda tasks in
 * a row, 32 at a time; every task completion is one store transaction), StartExecution → first task
 * invocation (one at a time, p50/p99), and the resident memory of executions waiting for task tokens
 * (100,000 against 1,000; 10,000 against 1,000 with --quick), which should be flat: a waiting execution
 * is a row, not an object.
 */
import { freshEngine, nowMs, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

const task = (next?: string) => ({ Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:echo', ...(next ? { Next: next } : { End: true }) });
const fiveTasks = { StartAt: 'T1', States: { T1: task('T2'), T2: task('T3'), T3: task('T4'), T4: task('T5'), T5: task() } };

const transitions: Scenario = {
  name: 'state machine transitions',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      await sluice.functions.create({ name: 'echo', handler: async (event: unknown) => event });
      await sluice.stateMachines.create({ name: 'five', definition: fiveTasks });
      const executions = options.quick ? 200 : 1000;
      const concurrency = 32;
      let next = 0;
      const start = nowMs();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < executions) {
            next++;
            const { executionArn } = await sluice.stateMachines.startExecution('five', { input: { n: next } });
            const done = await sluice.stateMachines.waitForExecution(executionArn);
            if (done.status !== 'SUCCEEDED') throw new Error(`bench: ${done.status}`);
          }
        }),
      );
      const seconds = (nowMs() - start) / 1000;
      return [
        {
          name: `${executions} executions of 5 Lambda tasks, 32 at a time (5 state transitions each)`,
          value: round((executions * 5) / seconds, 0),
          unit: 'transitions/s',
          aim: options.store === 'sqlite' ? '>= 5,000' : '>= 1,000',
        },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

const firstTask: Scenario = {
  name: 'state machine start to first task',
  async run(options) {
    const engine = await freshEngine(options);
    try {
      const { sluice } = engine;
      let invoked = 0;
      await sluice.functions.create({
        name: 'echo',
        handler: async (event: unknown) => {
          invoked = nowMs();
          return event;
        },
      });
      await sluice.stateMachines.create({ name: 'one', definition: { StartAt: 'T', States: { T: task() } } });
      const samples: number[] = [];
      const runs = options.quick ? 100 : 500;
      for (let i = 0; i < runs; i++) {
        const start = nowMs();
        const { executionArn } = await sluice.stateMachines.startExecution('one', { input: { i } });
        await sluice.stateMachines.waitForExecution(executionArn);
        if (i >= 10) samples.push(invoked - start);
      }
      return [
        { name: 'StartExecution → first task invocation, p50', value: round(percentile(samples, 50), 2), unit: 'ms', aim: options.store === 'sqlite' ? '<= 2' : '' },
        { name: 'StartExecution → first task invocation, p99', value: round(percentile(samples, 99), 2), unit: 'ms' },
      ];
    } finally {
      await engine.dispose();
    }
  },
};

async function waitingRss(options: BenchOptions, count: number): Promise<{ rssMb: number; heapMb: number; startsPerSecond: number }> {
  const engine = await freshEngine(options);
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    const { sluice } = engine;
    await sluice.queues.create('work');
    await sluice.stateMachines.create({
      name: 'wait',
      definition: {
        StartAt: 'Send',
        States: {
          Send: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: 'work', 'MessageBody.$': '$$.Task.Token' }, End: true },
        },
      },
    });
    const start = nowMs();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          next++;
          await sluice.stateMachines.startExecution('wait');
        }
      }),
    );
    const seconds = (nowMs() - start) / 1000;
    // Let the sends land and the executions be released.
    for (let i = 0; i < 200 && sluice.stateMachines.runner.heldCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    if (sluice.stateMachines.runner.heldCount > 0) throw new Error(`bench: ${sluice.stateMachines.runner.heldCount} executions still held`);
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc?.();
    const memory = process.memoryUsage();
    return { rssMb: memory.rss / 1024 / 1024, heapMb: memory.heapUsed / 1024 / 1024, startsPerSecond: count / seconds };
  } finally {
    await engine.dispose();
  }
}

const waiting: Scenario = {
  name: 'state machine executions waiting for tokens',
  async run(options) {
    const large = options.quick ? 10_000 : 100_000;
    const small = await waitingRss(options, 1000);
    const big = await waitingRss(options, large);
    const figures: Figure[] = [
      { name: 'RSS with 1,000 executions waiting for a token', value: round(small.rssMb, 1), unit: 'MB' },
      { name: `RSS with ${large.toLocaleString('en')} executions waiting for a token`, value: round(big.rssMb, 1), unit: 'MB', aim: 'within 10% of 1,000' },
      { name: `heap used with ${large.toLocaleString('en')} waiting (1,000: ${round(small.heapMb, 1)} MB)`, value: round(big.heapMb, 1), unit: 'MB' },
      { name: 'StartExecution (sends the task to a queue), 16 at a time', value: round(big.startsPerSecond, 0), unit: 'executions/s' },
    ];
    return figures;
  },
};

export const stateMachineScenarios: Scenario[] = [transitions, firstTask, waiting];
