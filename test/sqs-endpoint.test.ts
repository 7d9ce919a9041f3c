/**
 * The SQS-compatible endpoint, driven by the real @aws-sdk/client-sqs v3 client, unmodified, against a
 * node served in-process.
 */
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  UntagQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfMessageAttributes } from '../src/queues/md5.js';
import { startTestNode, type SdkError, type TestNode } from './support/in-process-node.js';
import { sqsQuery } from './support/signed-fetch.js';

let node: TestNode;
let sqs: SQSClient;

beforeAll(async () => {
  node = await startTestNode();
  sqs = node.sqs();
});
afterAll(async () => node.close());

async function createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, ...(attributes ? { Attributes: attributes } : {}) }));
  return QueueUrl!;
}

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

describe('queue lifecycle through the SDK', () => {
  it('creates a queue and returns a URL shaped like SQS’s, on the host the client used', async () => {
    const url = await createQueue('lifecycle-a');
    expect(url).toBe(`${node.url}/000000000000/lifecycle-a`);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'lifecycle-a' }));
    expect(QueueUrl).toBe(url);
  });

  it('lists queues by prefix, page by page with MaxResults and NextToken', async () => {
    for (const name of ['page-1', 'page-2', 'page-3', 'page-4', 'page-5']) await createQueue(name);
    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'page-', MaxResults: 2 }));
    expect(first.QueueUrls?.map((url) => url.split('/').pop())).toEqual(['page-1', 'page-2']);
    const second = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'page-', MaxResults: 2, NextToken: first.NextToken }));
    expect(second.QueueUrls?.map((url) => url.split('/').pop())).toEqual(['page-3', 'page-4']);
    const third = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'page-', MaxResults: 2, NextToken: second.NextToken }));
    expect(third.QueueUrls?.map((url) => url.split('/').pop())).toEqual(['page-5']);
    expect(third.NextToken).toBeUndefined();
    const none = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'nothing-' }));
    expect(none.QueueUrls ?? []).toEqual([]);
  });

  it('gets and sets attributes in SQS’s string form', async () => {
    const url = await createQueue('attributes-a', { VisibilityTimeout: '45' });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: '2' } }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '45',
      DelaySeconds: '2',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:attributes-a',
      ApproximateNumberOfMessages: '0',
    });
    const picked = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['DelaySeconds'] }));
    expect(picked.Attributes).toEqual({ DelaySeconds: '2' });
    const error = await failure(sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '99999' } })));
    expect(error.name).toBe('InvalidAttributeValue');
    expect(error.message).toContain('0 to 43200');
  });

  it('fails with QueueNameExists when the name exists with other attributes, and QueueDoesNotExist after a delete', async () => {
    const url = await createQueue('exists-a', { VisibilityTimeout: '10' });
    expect(await createQueue('exists-a', { VisibilityTimeout: '10' })).toBe(url);
    const exists = await failure(createQueue('exists-a', { VisibilityTimeout: '11' }));
    expect(exists.name).toBe('QueueNameExists');
    expect(exists.Code).toBe('QueueAlreadyExists');
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    const missing = await failure(sqs.send(new GetQueueUrlCommand({ QueueName: 'exists-a' })));
    expect(missing.name).toBe('QueueDoesNotExist');
    expect(missing.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(missing.$metadata.httpStatusCode).toBe(400);
  });

  it('purges once per 60 seconds (PurgeQueueInProgress)', async () => {
    const url = await createQueue('purge-a');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const error = await failure(sqs.send(new PurgeQueueCommand({ QueueUrl: url })));
    expect(error.name).toBe('PurgeQueueInProgress');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('tags, untags and lists tags', async () => {
    const url = await createQueue('tags-a');
    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { team: 'orders', env: 'dev' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['env'] }));
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({ team: 'orders' });
  });
});

describe('messages through the SDK', () => {
  it('sends and receives with the digests the SDK verifies, and attribute digests as SQS computes them', async () => {
    const url = await createQueue('messages-a');
    const attributes = {
      kind: { DataType: 'String', StringValue: 'order' },
      'order.id': { DataType: 'Number', StringValue: '42' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
    };
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'héllo ✓', MessageAttributes: attributes }));
    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({
        kind: { dataType: 'String', stringValue: 'order' },
        'order.id': { dataType: 'Number', stringValue: '42' },
        blob: { dataType: 'Binary', binaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    const [message] = Messages!;
    expect(message!.Body).toBe('héllo ✓');
    expect(message!.MessageId).toBe(sent.MessageId);
    expect(message!.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(message!.MessageAttributes?.blob?.BinaryValue).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(message!.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: '000000000000' });
    expect(Number(message!.Attributes?.SentTimestamp)).toBeGreaterThan(0);
  });

  it('returns only the attributes asked for: exact names, a prefix with .*, or none', async () => {
    const url = await createQueue('filters-a');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'x',
        MessageAttributes: {
          'order.id': { DataType: 'String', StringValue: '1' },
          'order.kind': { DataType: 'String', StringValue: 'a' },
          other: { DataType: 'String', StringValue: 'b' },
        },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['order.*'], MessageSystemAttributeNames: ['SentTimestamp'], VisibilityTimeout: 0 }),
    );
    expect(Object.keys(Messages![0]!.MessageAttributes!).sort()).toEqual(['order.id', 'order.kind']);
    expect(Object.keys(Messages![0]!.Attributes!)).toEqual(['SentTimestamp']);
    expect(Messages![0]!.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ 'order.id': { dataType: 'String', stringValue: '1' }, 'order.kind': { dataType: 'String', stringValue: 'a' } }),
    );
    const bare = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(bare.Messages![0]!.MessageAttributes).toBeUndefined();
    expect(bare.Messages![0]!.Attributes).toBeUndefined();
    expect(bare.Messages![0]!.MD5OfMessageAttributes).toBeUndefined();
  });

  it('sends a batch with per-entry results, and deletes and changes visibility in batches', async () => {
    const url = await createQueue('batch-a');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
          { Id: 'bad', MessageBody: 'three', DelaySeconds: 901 },
        ],
      }),
    );
    expect(sent.Successful?.map((entry) => entry.Id)).toEqual(['a', 'b']);
    expect(sent.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'InvalidParameterValue', SenderFault: true })]);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(Messages).toHaveLength(2);
    const changed = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'x', ReceiptHandle: Messages![0]!.ReceiptHandle!, VisibilityTimeout: 60 },
          { Id: 'y', ReceiptHandle: 'not-a-handle', VisibilityTimeout: 60 },
        ],
      }),
    );
    expect(changed.Successful).toEqual([{ Id: 'x' }]);
    expect(changed.Failed?.[0]).toMatchObject({ Id: 'y', Code: 'ReceiptHandleIsInvalid' });
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages!.map((message, index) => ({ Id: `d${index}`, ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
    expect(deleted.Successful).toHaveLength(2);
    const counts = await node.sluice.queues.counts('batch-a');
    expect(counts.visible + counts.inFlight).toBe(0);
  });

  it('refuses malformed batches as a whole with SQS’s codes', async () => {
    const url = await createQueue('batch-b');
    const empty = await failure(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })));
    expect(empty.name).toBe('EmptyBatchRequest');
    const tooMany = await failure(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })) })),
    );
    expect(tooMany.name).toBe('TooManyEntriesInBatchRequest');
    const twins = await failure(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }] })),
    );
    expect(twins.name).toBe('BatchEntryIdsNotDistinct');
    expect((await node.sluice.queues.counts('batch-b')).visible).toBe(0);
  });

  it('changes the visibility of one message and deletes it by receipt handle', async () => {
    const url = await createQueue('visibility-a');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    const handle = Messages![0]!.ReceiptHandle!;
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(again.Messages?.[0]?.Attributes).toBeUndefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again.Messages![0]!.ReceiptHandle! }));
    const invalid = await failure(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })));
    expect(invalid.name).toBe('ReceiptHandleIsInvalid');
  });

  it('long-polls: a waiting receive returns as soon as a message is sent', async () => {
    const url = await createQueue('long-poll-a');
    const started = Date.now();
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    setTimeout(() => void sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' })), 150);
    const { Messages } = await waiting;
    expect(Messages?.[0]?.Body).toBe('late');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('serves FIFO queues: group ids, deduplication and sequence numbers', async () => {
    const url = await createQueue('orders.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    const first = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a', MessageGroupId: 'g1' }));
    const duplicate = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a', MessageGroupId: 'g1' }));
    expect(first.SequenceNumber).toMatch(/^\d+$/);
    expect(duplicate.MessageId).toBe(first.MessageId);
    const missingGroup = await failure(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'b' })));
    expect(missingGroup.name).toBe('MissingParameter');
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    expect(Messages).toHaveLength(1);
    expect(Messages![0]!.Attributes).toMatchObject({ MessageGroupId: 'g1', SequenceNumber: first.SequenceNumber });
  });

  it('returns the same messages and receipt handles to a FIFO receive retried with its ReceiveRequestAttemptId', async () => {
    const url = await createQueue('attempts.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a', MessageGroupId: 'g1' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'b', MessageGroupId: 'g2' }));
    const receive = (attempt: string) =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, ReceiveRequestAttemptId: attempt }));
    const first = await receive('attempt-1');
    const retry = await receive('attempt-1');
    expect(retry.Messages).toEqual(first.Messages);
    const other = await receive('attempt-2');
    expect(other.Messages?.[0]?.MessageId).not.toBe(first.Messages?.[0]?.MessageId);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.Messages![0]!.ReceiptHandle! }));
    const stale = await failure(receive('attempt-1'));
    expect(stale).toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    expect(stale.message).toMatch(/^ReceiveRequestAttemptId: "attempt-1" is not valid anymore/);
    const invalid = await failure(receive('has space'));
    expect(invalid.name).toBe('InvalidParameterValue');
    expect(invalid.message).toMatch(/ReceiveRequestAttemptId: "has space" is invalid/);
  });

  it('fails a receive with OverLimit once 20,000 messages of a FIFO queue are in flight, in both protocols', async () => {
    const url = await createQueue('crowded.fifo', { FifoQueue: 'true' });
    const queues = node.sluice.queues;
    for (let batch = 0; batch < 2_000; batch++) {
      await queues.sendBatch(
        'crowded.fifo',
        Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, body: 'x', messageGroupId: `g${batch}-${i}`, messageDeduplicationId: `${batch}-${i}` })),
      );
    }
    for (let i = 0; i < 2_000; i++) expect(await queues.receive('crowded.fifo', { maxNumberOfMessages: 10 })).toHaveLength(10);
    await queues.send('crowded.fifo', { body: 'one more', messageGroupId: 'last', messageDeduplicationId: 'last' });
    const error = await failure(sqs.send(new ReceiveMessageCommand({ QueueUrl: url })));
    expect(error).toMatchObject({ name: 'OverLimit', Code: 'OverLimit', $metadata: { httpStatusCode: 403 } });
    expect(error.message).toMatch(/too many messages have been received without being deleted.*20000 messages in flight/);
    const query = await sqsQuery(node.url, { Action: 'ReceiveMessage', QueueUrl: url });
    expect(query.status).toBe(403);
    expect(query.text).toContain('<Error><Type>Sender</Type><Code>OverLimit</Code>');
  });
});

describe('dead-letter queues and redrive through the SDK', () => {
  it('lists dead-letter source queues and moves messages back with a move task', async () => {
    const dlqUrl = await createQueue('redrive-dlq');
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:redrive-dlq';
    const sourceUrl = await createQueue('redrive-source', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
    });
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
    expect(sources.queueUrls).toEqual([sourceUrl]);
    await sqs.send(new SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: 'poison' }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl }));
    // The second receive would exceed maxReceiveCount: the message moves to the DLQ instead.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl }))).Messages).toBeUndefined();
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    expect(TaskHandle).toBeTruthy();
    for (let i = 0; i < 50; i++) {
      const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      if (Results?.[0]?.Status === 'COMPLETED') {
        expect(Results[0]).toMatchObject({ SourceArn: dlqArn, ApproximateNumberOfMessagesMoved: 1 });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl }));
    expect(back.Messages?.[0]?.Body).toBe('poison');
    const cancel = await failure(sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: TaskHandle! })));
    expect(cancel.name).toBe('UnsupportedOperation');
  });
});
