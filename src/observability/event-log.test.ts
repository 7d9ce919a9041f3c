import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeLogger } from '../api/logger.js';
import { processBatchItems } from '../batches/items.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestEngine, type TestEngine } from '../testkit/engine.js';
import { logEngineEvents } from './event-log.js';
import { EngineEvents } from './events.js';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function engineWithLog() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const events = new EngineEvents();
  logEngineEvents(events, createNodeLogger({ level: 'debug', destination, format: 'json' }));
  t = await openTestEngine({ events });
  return { sluice: t.sluice, lines, errors: () => lines.filter((line) => line.level === 50) };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for a log line');
    await sleep(10);
  }
}

describe('handler failures in the log', () => {
  it('a throwing handler behind a queue trigger produces exactly one error line with function, trigger, message ids, attempt, error type, message and stack', async () => {
    const { sluice, lines, errors } = await engineWithLog();
    await sluice.queues.create('orders', { VisibilityTimeout: 30 });
    await sluice.functions.create({
      name: 'charge',
      handler: async () => {
        throw new TypeError('card declined');
      },
    });
    const trigger = await sluice.triggers.create({ queue: 'orders', functionName: 'charge' });
    const sent = await sluice.queues.send('orders', { body: '{"id":1}' });
    await until(() => errors().length > 0 && lines.some((line) => String(line.msg).startsWith('retry')));
    await sleep(100);
    expect(errors()).toHaveLength(1);
    const line = errors()[0]!;
    expect(line).toMatchObject({
      function: 'charge',
      via: 'queue-trigger',
      trigger: trigger.uuid,
      queue: 'orders',
      messageIds: [sent.messageId],
      attempt: 1,
      errorType: 'TypeError',
    });
    const err = line.err as { type: string; message: string; stack: string };
    expect(err.type).toBe('TypeError');
    expect(err.message).toBe('card declined');
    expect(err.stack).toContain('card declined');
    expect(err.stack).toMatch(/event-log\.test\.ts/);
    expect(line.msg).toContain('function charge failed');
    const retry = lines.find((l) => String(l.msg).startsWith('retry'))!;
    expect(retry).toMatchObject({ level: 30, function: 'charge', messageIds: [sent.messageId] });
  });

  it('a direct invocation that fails is logged once, naming the caller', async () => {
    const { sluice, errors } = await engineWithLog();
    await sluice.functions.create({
      name: 'direct',
      handler: async () => {
        throw new RangeError('out of range');
      },
    });
    const response = await sluice.functions.invoke('direct', {});
    expect(response.functionError).toBe('Unhandled');
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ function: 'direct', via: 'invoke', errorType: 'RangeError' });
  });

  it('a failing stream trigger handler is logged once with the shard and sequence numbers', async () => {
    const { sluice, errors } = await engineWithLog();
    await sluice.tables.createTable({
      name: 'tasks',
      partitionKey: { name: 'pk', type: 'S' },
      stream: { viewType: 'NEW_IMAGE' },
    });
    await sluice.functions.create({
      name: 'project',
      handler: async () => {
        throw new Error('projection broke');
      },
    });
    const trigger = await sluice.streamTriggers.create({
      stream: 'tasks',
      functionName: 'project',
      startingPosition: 'TRIM_HORIZON',
      maximumRetryAttempts: 0,
    });
    await sluice.tables.putItem({ tableName: 'tasks', item: { pk: 'a' } as never });
    await until(() => errors().length > 0);
    await sleep(100);
    expect(errors()).toHaveLength(1);
    const line = errors()[0]!;
    expect(line).toMatchObject({
      function: 'project',
      via: 'stream-trigger',
      trigger: trigger.uuid,
      table: 'tasks',
      attempt: 1,
      errorType: 'Error',
    });
    expect(line.sequenceNumbers).toHaveLength(1);
    expect(typeof line.shard).toBe('string');
  });

  it('a batch item that fails alone is one error line with the batch, the item and the stack', async () => {
    const { sluice, errors } = await engineWithLog();
    await sluice.functions.create({
      name: 'resize',
      handler: processBatchItems<{ n: number }>(async (item) => {
        if (item.n === 2) throw new RangeError('image 2 is corrupt');
      }),
    });
    const batch = await sluice.batches.create({
      processor: 'resize',
      items: [{ n: 1 }, { n: 2 }, { n: 3 }],
      maxAttempts: 1,
    });
    await sluice.batches.wait(batch.id);
    expect(errors()).toHaveLength(1);
    const line = errors()[0]!;
    expect(line).toMatchObject({
      function: 'resize',
      via: 'batch',
      batch: batch.id,
      item: 1,
      attempt: 1,
      errorType: 'RangeError',
    });
    expect((line.err as { stack: string }).stack).toMatch(/RangeError: image 2 is corrupt\n\s+at /);
  });

  it('moves to a dead-letter queue are info lines', async () => {
    const { sluice, lines } = await engineWithLog();
    await sluice.queues.create('dlq');
    await sluice.queues.create('work', {
      RedrivePolicy: { deadLetterTargetArn: sluice.queues.arnOf('dlq'), maxReceiveCount: 1 },
    });
    await sluice.queues.send('work', { body: 'x' });
    await sluice.queues.receive('work', { visibilityTimeout: 0 });
    await sluice.queues.receive('work', {});
    const line = lines.find((l) => String(l.msg).startsWith('dead-letter'));
    expect(line).toMatchObject({ level: 30, queue: 'work', deadLetterQueue: 'dlq', messages: 1 });
  });
});

describe('info lines', () => {
  function logged() {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const events = new EngineEvents();
    logEngineEvents(events, createNodeLogger({ level: 'info', destination, format: 'json' }));
    return { events, lines };
  }

  it('lease changes are info lines naming the group, the resource and the fencing token', () => {
    const { events, lines } = logged();
    events.emit({
      type: 'lease',
      group: 'stream:orders',
      resource: 'shard-0',
      change: 'acquired',
      token: 7,
      at: 0,
    });
    events.emit({ type: 'lease', group: 'stream:orders', resource: 'shard-0', change: 'lost', at: 1 });
    expect(lines).toMatchObject([
      { level: 30, leaseGroup: 'stream:orders', resource: 'shard-0', change: 'acquired', fencingToken: 7 },
      { level: 30, change: 'lost' },
    ]);
  });

  it('a group refused again and again is logged once a minute, with the count of refusals in between', () => {
    const { events, lines } = logged();
    for (let i = 0; i < 5; i++)
      events.emit({ type: 'group-throttle', queue: 'tasks', group: 'acme', reason: 'rate', at: i * 1000 });
    events.emit({ type: 'group-throttle', queue: 'tasks', group: 'acme', reason: 'rate', at: 61_000 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, queue: 'tasks', group: 'acme', reason: 'rate' });
    expect(lines[1]).toMatchObject({ refusedSinceLastLine: 4 });
  });
});
