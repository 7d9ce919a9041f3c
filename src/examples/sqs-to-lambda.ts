/**
 * The "SQS > trigger > Lambda" experiment (seeds/000), run on Sluice: a producer enqueues 100 tasks at
 * once and a trigger invokes a function with them. Three questions, as in the experiment:
 *   A. concurrency: are many invocations started at once? (batch 1, then batches with a window)
 *   B. order: on a FIFO queue, is each group handled in order while groups run in parallel?
 *   C. retry: is a failed task retried, and does a task that always fails end in the dead-letter queue?
 * Run with `npm run example:sqs`. Durations are scaled down (the experiment's handlers took ~1.2 s).
 */
import type { SQSEvent } from 'aws-lambda';
import { Sluice } from '../engine/sluice.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const label = (i: number) => String(i).padStart(3, '0');

/** Waits until a queue is empty (nothing visible, in flight or delayed). */
async function drained(sluice: Sluice, queue: string): Promise<void> {
  for (;;) {
    const counts = await sluice.queues.counts(queue);
    if (counts.visible + counts.inFlight + counts.delayed === 0) return;
    await pause(50);
  }
}

/** Sends `bodies` all at once, ten per batch, as the experiment's threaded producer does. */
async function produce(
  sluice: Sluice,
  queue: string,
  bodies: Array<{ body: string; group?: string }>,
): Promise<void> {
  const batches: Array<Promise<unknown>> = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const entries = bodies.slice(i, i + 10).map((entry, k) => ({
      id: `e${k}`,
      body: entry.body,
      ...(entry.group ? { messageGroupId: entry.group, messageDeduplicationId: entry.body } : {}),
    }));
    batches.push(sluice.queues.sendBatch(queue, entries));
  }
  await Promise.all(batches);
}

async function concurrency(sluice: Sluice, batching: { batchSize: number; window: number }): Promise<void> {
  const name = `parallel-${batching.batchSize}`;
  await sluice.queues.create(name);
  const handled: string[] = [];
  await sluice.functions.create({
    name,
    handler: async (event: SQSEvent) => {
      await pause(150 + Math.random() * 250);
      for (const record of event.Records) handled.push(record.body);
    },
  });
  const trigger = await sluice.triggers.create({
    queue: name,
    functionName: name,
    batchSize: batching.batchSize,
    maximumBatchingWindowInSeconds: batching.window,
  });
  const started = Date.now();
  await produce(
    sluice,
    name,
    Array.from({ length: 100 }, (_, i) => ({ body: label(i + 1) })),
  );
  await drained(sluice, name);
  const fn = sluice.functions.metrics(name);
  console.log(`  batch size ${batching.batchSize}, window ${batching.window} s:`);
  console.log(`    ${handled.length} tasks handled in ${Date.now() - started} ms`);
  console.log(
    `    invocations ${fn.invocations}, peak concurrent executions ${fn.peakConcurrentExecutions}, errors ${fn.errors}`,
  );
  console.log(
    `    duration p50 ${fn.durationP50Ms.toFixed(0)} ms, p99 ${fn.durationP99Ms.toFixed(0)} ms; trigger lag max ${sluice.triggers.metrics(trigger.uuid).maxLagMs} ms`,
  );
  console.log(`    first handled: ${handled.slice(0, 8).join(' ')} ...`);
}

async function order(sluice: Sluice): Promise<void> {
  await sluice.queues.create('ordered.fifo', { FifoQueue: true });
  const seen = new Map<string, string[]>();
  await sluice.functions.create({
    name: 'ordered',
    handler: async (event: SQSEvent) => {
      await pause(20 + Math.random() * 60);
      for (const record of event.Records) {
        const group = record.attributes.MessageGroupId!;
        seen.set(group, [...(seen.get(group) ?? []), record.body]);
      }
    },
  });
  await sluice.triggers.create({ queue: 'ordered.fifo', functionName: 'ordered', batchSize: 1 });
  // 40 tasks with a group each, then groups of 5, 10, 15 and 30 tasks.
  const tasks: Array<{ body: string; group: string }> = [];
  let n = 0;
  for (let i = 0; i < 40; i++) tasks.push({ body: label(++n), group: `solo-${i}` });
  for (const size of [5, 10, 15, 30])
    for (let i = 0; i < size; i++) tasks.push({ body: label(++n), group: `group-of-${size}` });
  await produce(sluice, 'ordered.fifo', tasks);
  await drained(sluice, 'ordered.fifo');
  const fn = sluice.functions.metrics('ordered');
  console.log(
    `  ${fn.invocations} invocations, peak concurrent executions ${fn.peakConcurrentExecutions}, errors ${fn.errors}`,
  );
  for (const size of [5, 10, 15, 30]) {
    const bodies = seen.get(`group-of-${size}`) ?? [];
    const inOrder = bodies.every((body, i) => i === 0 || body > bodies[i - 1]!);
    console.log(
      `  group of ${size}: ${inOrder ? 'in FIFO order' : 'OUT OF ORDER'} (${bodies[0]} ... ${bodies.at(-1)})`,
    );
  }
}

async function retry(sluice: Sluice): Promise<void> {
  await sluice.queues.create('retry-dlq');
  await sluice.queues.create('retry', {
    VisibilityTimeout: 1,
    RedrivePolicy: { deadLetterTargetArn: sluice.queues.arnOf('retry-dlq'), maxReceiveCount: 4 },
  });
  const attempts = new Map<string, number>();
  await sluice.functions.create({
    name: 'retry',
    timeout: 1,
    handler: async (event: SQSEvent) => {
      for (const record of event.Records) {
        const attempt = Number(record.attributes.ApproximateReceiveCount);
        attempts.set(record.body, attempt);
        // "001" fails on its first three attempts (as the experiment's S3 markers did); "666" always fails.
        if (record.body === '666' || (record.body === '001' && attempt < 4))
          throw new Error(`task ${record.body} failed on attempt ${attempt}`);
      }
    },
  });
  await sluice.triggers.create({ queue: 'retry', functionName: 'retry', batchSize: 1 });
  await produce(sluice, 'retry', [{ body: '001' }, { body: '666' }]);
  await drained(sluice, 'retry');
  const fn = sluice.functions.metrics('retry');
  console.log(`  invocations ${fn.invocations}, errors ${fn.errors}`);
  console.log(`  task 001 succeeded on attempt ${attempts.get('001')}`);
  const dead = await sluice.queues.receive('retry-dlq', { maxNumberOfMessages: 10 });
  console.log(`  dead-letter queue: ${dead.length} message(s)`);
  for (const message of dead) {
    console.log(
      `    body ${message.body}, receive count ${message.attributes.ApproximateReceiveCount} (with this receive), from ${message.attributes.DeadLetterQueueSourceArn}`,
    );
  }
}

async function main(): Promise<void> {
  const sluice = await Sluice.open({ store: 'sqlite::memory:' });
  try {
    console.log('A. CONCURRENCY: 100 tasks enqueued at once');
    await concurrency(sluice, { batchSize: 1, window: 0 });
    await concurrency(sluice, { batchSize: 100, window: 1 });
    console.log('B. (FIFO) ORDER: 40 single tasks and groups of 5, 10, 15, 30');
    await order(sluice);
    console.log('C. RETRY: a task failing three times, a task failing always');
    await retry(sluice);
  } finally {
    await sluice.close();
  }
}

await main();
