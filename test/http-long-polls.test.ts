/**
 * Many concurrent long polls share the node's shutdown signal (and the engine's own): none of them may
 * make Node warn about a listener leak (MaxListenersExceededWarning), and each removes its listeners.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './support/in-process-node.js';
import { sqsJson } from './support/signed-fetch.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('polls');
});
afterAll(async () => node.close());

it('runs 40 concurrent long polls without a MaxListenersExceededWarning', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const polls = Array.from({ length: 40 }, () => sqsJson(node.url, 'ReceiveMessage', { QueueUrl: '/000000000000/polls', WaitTimeSeconds: 1 }));
    const native = Array.from({ length: 20 }, () => node.native('/v1/queues/polls/messages/receive', { body: { waitTimeSeconds: 1 } }));
    const responses = await Promise.all(polls);
    await Promise.all(native);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);
  } finally {
    process.off('warning', onWarning);
  }
});
