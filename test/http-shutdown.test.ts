/**
 * Closing the HTTP API: long polls under way return at once with what they have (nothing), requests
 * under way finish, and the node stops accepting connections.
 */
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { startTestNode } from './support/in-process-node.js';

describe('closing the HTTP API', () => {
  it('ends long polls empty, lets the queue keep its messages, and stops accepting requests', async () => {
    const node = await startTestNode();
    const sqs = node.sqs();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'closing' }));
    const started = Date.now();
    const sdkPoll = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    const nativePoll = node.native('/v1/queues/closing/messages/receive', { body: { waitTimeSeconds: 20 } });
    // Give both requests time to reach their wait even on a loaded 2-core machine.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await node.api.close();
    expect((await sdkPoll).Messages).toBeUndefined();
    expect((await nativePoll).body).toEqual({ messages: [] });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
    // Nothing was claimed by the aborted polls: a message sent now is immediately receivable.
    await node.sluice.queues.send('closing', { body: 'kept' });
    expect((await node.sluice.queues.receive('closing'))[0]?.body).toBe('kept');
    await node.close();
  });
});
