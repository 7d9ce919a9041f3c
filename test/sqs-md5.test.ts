/**
 * The MD5 digests SQS returns and SDKs verify, as the queue service computes them (src/queues/md5.ts):
 * AWS's published vectors, the byte layout written out, and the checks @aws-sdk/client-sqs makes.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StoredMessageAttributes } from '../src/queues/message-attributes.js';
import { md5OfBody as md5OfMessageBody, md5OfMessageAttributes } from '../src/queues/md5.js';

/** SQS's wire form of an attribute, turned into the stored form the queue service digests. */
interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array | string;
}
function stored(attributes: Record<string, MessageAttributeValue>): StoredMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      value.BinaryValue !== undefined
        ? { dataType: value.DataType, binaryValue: typeof value.BinaryValue === 'string' ? value.BinaryValue : Buffer.from(value.BinaryValue).toString('base64') }
        : { dataType: value.DataType, stringValue: value.StringValue ?? '' },
    ]),
  );
}
const digestOf = (attributes: Record<string, MessageAttributeValue>) => md5OfMessageAttributes(stored(attributes));

describe('md5OfMessageBody', () => {
  it('is the hex MD5 of the UTF-8 body', () => {
    expect(md5OfMessageBody('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5OfMessageBody('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(md5OfMessageBody('héllo 🌊')).toBe('da4f81c59d7286429e74be101fd9bbd0'); // 2- and 4-byte UTF-8
    expect(md5OfMessageBody('é')).toBe(
      createHash('md5')
        .update(Buffer.from([0xc3, 0xa9]))
        .digest('hex'),
    );
  });
});

describe('md5OfMessageAttributes (src/queues/md5.ts)', () => {
  it('is undefined for a message without attributes, as SQS leaves the digest out', () => {
    expect(md5OfMessageAttributes(null)).toBeUndefined();
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });

  it("matches the digests of AWS's published samples", () => {
    expect(
      digestOf({
        test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' },
        test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' },
      }),
    ).toBe('d53f3b558fe951154770f25cb63dbba9');
    expect(
      digestOf({
        test_attribute_name: { DataType: 'Binary', BinaryValue: Buffer.from('test_attribute_value') },
      }),
    ).toBe('23f6bd27ea87aab7dfeadcc9aebee495');
    expect(digestOf({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe(
      'cd28f3b68aeee4b2eac9c66f2f694b58',
    );
    expect(
      digestOf({
        ordinal: { DataType: 'Number', StringValue: '1' },
        category: { DataType: 'String', StringValue: 'test' },
      }),
    ).toBe('d21ae90c49061e927f57df5f5d72be1f');
  });

  it('hashes this literal byte layout for a Number and a custom Binary attribute', () => {
    const layout = Buffer.concat([
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('a'),
      Buffer.from([0, 0, 0, 10]),
      Buffer.from('Binary.png'),
      Buffer.from([2]),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from([0, 255, 7]),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('b'),
      Buffer.from([0, 0, 0, 12]),
      Buffer.from('Number.float'),
      Buffer.from([1]),
      Buffer.from([0, 0, 0, 4]),
      Buffer.from('3.25'),
    ]);
    expect(
      digestOf({
        b: { DataType: 'Number.float', StringValue: '3.25' },
        a: { DataType: 'Binary.png', BinaryValue: 'AP8H' },
      }),
    ).toBe(createHash('md5').update(layout).digest('hex'));
  });

  const attributeName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
  const attribute: fc.Arbitrary<MessageAttributeValue> = fc.oneof(
    fc.record({
      DataType: fc.constantFrom('String', 'Number', 'String.json', 'Number.int'),
      StringValue: fc.string({ unit: 'binary', maxLength: 40 }),
    }),
    fc.record({
      DataType: fc.constantFrom('Binary', 'Binary.gif'),
      BinaryValue: fc.uint8Array({ maxLength: 40 }),
    }),
  );

  /** SQS's algorithm written out separately: one buffer assembled with explicit offsets. */
  function reference(attributes: Record<string, MessageAttributeValue>): string {
    const parts: Buffer[] = [];
    for (const name of Object.keys(attributes).sort()) {
      const { DataType, StringValue, BinaryValue } = attributes[name]!;
      const binary = DataType.startsWith('Binary');
      const value = binary ? Buffer.from(BinaryValue as Uint8Array) : Buffer.from(StringValue ?? '', 'utf8');
      for (const field of [Buffer.from(name), Buffer.from(DataType)]) {
        const frame = Buffer.alloc(4 + field.length);
        frame.writeUInt32BE(field.length, 0);
        field.copy(frame, 4);
        parts.push(frame);
      }
      const tail = Buffer.alloc(5 + value.length);
      tail.writeUInt8(binary ? 2 : 1, 0);
      tail.writeUInt32BE(value.length, 1);
      value.copy(tail, 5);
      parts.push(tail);
    }
    return createHash('md5').update(Buffer.concat(parts)).digest('hex');
  }

  it('agrees with the written-out algorithm on random attributes, whatever the insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(attributeName, attribute, { minKeys: 1, maxKeys: 10 }), (attributes) => {
        const reversed = Object.fromEntries(Object.entries(attributes).reverse());
        expect(digestOf(attributes)).toBe(reference(attributes));
        expect(digestOf(reversed)).toBe(reference(attributes));
      }),
      { numRuns: 300 },
    );
  });

  it('gives base64 text and raw bytes of a binary value the same digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const raw = digestOf({ x: { DataType: 'Binary', BinaryValue: bytes } });
        const text = digestOf({
          x: { DataType: 'Binary', BinaryValue: Buffer.from(bytes).toString('base64') },
        });
        expect(text).toBe(raw);
      }),
    );
  });
});

describe('md5OfMessageBody against the checksum checks of @aws-sdk/client-sqs', () => {
  // The SDK (middleware-sdk-sqs) verifies MD5OfMessageBody on SendMessage and SendMessageBatch and MD5OfBody
  // on ReceiveMessage. It does not verify MD5OfMessageAttributes, so attribute digests are covered above.
  let corrupt = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const md5 = (body: string): string => (corrupt ? md5OfMessageBody(`${body}!`) : md5OfMessageBody(body));
      let output: unknown;
      switch (req.headers['x-amz-target']) {
        case 'AmazonSQS.SendMessage':
          output = { MessageId: 'm-1', MD5OfMessageBody: md5(input.MessageBody as string) };
          break;
        case 'AmazonSQS.SendMessageBatch':
          output = {
            Successful: (input.Entries as { Id: string; MessageBody: string }[]).map((entry) => ({
              Id: entry.Id,
              MessageId: `m-${entry.Id}`,
              MD5OfMessageBody: md5(entry.MessageBody),
            })),
            Failed: [],
          };
          break;
        default: {
          const body = String(input.QueueUrl).split('#')[1] ?? '';
          output = {
            Messages: [{ MessageId: 'm-1', ReceiptHandle: 'r-1', Body: body, MD5OfBody: md5(body) }],
          };
        }
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(output));
    });
  });
  let client: SQSClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new SQSClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const QUEUE = 'http://127.0.0.1/000000000000/jobs';
  const body = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 });

  it('satisfies the SDK on SendMessage, SendMessageBatch and ReceiveMessage for random bodies', async () => {
    corrupt = false;
    await fc.assert(
      fc.asyncProperty(body, fc.array(body, { minLength: 1, maxLength: 10 }), async (single, batch) => {
        await client.send(new SendMessageCommand({ QueueUrl: QUEUE, MessageBody: single }));
        await client.send(
          new SendMessageBatchCommand({
            QueueUrl: QUEUE,
            Entries: batch.map((MessageBody, i) => ({ Id: `e${i}`, MessageBody })),
          }),
        );
        const received = await client.send(new ReceiveMessageCommand({ QueueUrl: `${QUEUE}#${single}` }));
        expect(received.Messages?.[0]?.Body).toBe(single);
      }),
      { numRuns: 40 },
    );
  });

  it('is checked: a wrong digest makes the SDK call fail', async () => {
    corrupt = true;
    await expect(client.send(new SendMessageCommand({ QueueUrl: QUEUE, MessageBody: 'x' }))).rejects.toThrow(
      'InvalidChecksumError',
    );
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: `${QUEUE}#x` }))).rejects.toThrow(
      'Invalid MD5 checksum',
    );
    corrupt = false;
  });
});
