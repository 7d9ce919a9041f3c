/**
 * HTTP benchmarks (issue 6): send and receive+delete throughput through the SQS-compatible endpoint,
 * driven by the real @aws-sdk/client-sqs v3 client with SigV4 signing and verification on every
 * request. Client and node share one process (and its event loop), so the figures are a floor for a
 * node serving clients on other machines.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { buildAuthSettings } from '../api/auth/credentials.js';
import { buildHttpApi } from '../api/server.js';
import { elapsedSeconds, freshEngine, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { round } from './stats.js';

const body = JSON.stringify({ orderId: 12345, customer: 'c-42', items: [{ sku: 'a', qty: 2 }] });
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret-key' };

/** Runs `work` `total` times with `concurrency` calls in flight; returns calls per second. */
async function rate(total: number, concurrency: number, work: (index: number) => Promise<number>): Promise<number> {
  let next = 0;
  let units = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        // Not `units += await ...`: that reads `units` before awaiting and loses the other workers' counts.
        const done = await work(next++);
        units += done;
      }
    }),
  );
  return units / elapsedSeconds(start);
}

async function withNode<T>(options: BenchOptions, run: (sqs: SQSClient, queueUrl: string) => Promise<T>): Promise<T> {
  const engine = await freshEngine(options);
  const auth = buildAuthSettings({ env: {}, configAccessKeys: [credentials], insecureDev: false });
  const api = await buildHttpApi({ sluice: engine.sluice, auth, logger: false });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const sqs = new SQSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench' }));
    return await run(sqs, QueueUrl!);
  } finally {
    sqs.destroy();
    await api.close();
    await engine.dispose();
  }
}

const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: body }));

const httpSend: Scenario = {
  name: 'http send (SQS endpoint, SDK v3)',
  async run(options) {
    return withNode(options, async (sqs, QueueUrl): Promise<Figure[]> => {
      const singles = options.quick ? 1_000 : 10_000;
      const sequential = await rate(singles / 4, 1, async () => {
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        return 1;
      });
      const concurrent = await rate(singles, 16, async () => {
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        return 1;
      });
      const batched = await rate(singles / 2, 8, async () => {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
        return result.Successful?.length ?? 0;
      });
      return [
        { name: 'SendMessage, one at a time', value: round(sequential, 0), unit: 'msg/s' },
        { name: 'SendMessage, 16 in flight', value: round(concurrent, 0), unit: 'msg/s' },
        { name: 'SendMessageBatch of 10, 8 in flight', value: round(batched, 0), unit: 'msg/s' },
      ];
    });
  },
};

const httpReceive: Scenario = {
  name: 'http receive+delete (SQS endpoint, SDK v3)',
  async run(options) {
    return withNode(options, async (sqs, QueueUrl): Promise<Figure[]> => {
      const total = options.quick ? 10_000 : 100_000;
      await rate(total / 10, 8, async () => {
        await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
        return 10;
      });
      let drained = 0;
      let empty = false;
      const start = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          while (!empty) {
            const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
            if (Messages.length === 0) {
              empty = true;
              return;
            }
            await sqs.send(
              new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: `w${worker}-${i}`, ReceiptHandle: m.ReceiptHandle! })) }),
            );
            drained += Messages.length;
          }
        }),
      );
      const received = drained / elapsedSeconds(start);
      return [{ name: 'ReceiveMessage (10) + DeleteMessageBatch, 4 in flight', value: round(received, 0), unit: 'msg/s' }];
    });
  },
};

export const httpScenarios: Scenario[] = [httpSend, httpReceive];
