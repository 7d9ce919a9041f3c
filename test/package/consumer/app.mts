// A consumer's TypeScript app (ESM): handler types come from 'sluice' itself.
import { Sluice, defineConfig, isSluiceError } from 'sluice';
import type { Context, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SluiceConfigInput, TaskOutcome } from 'sluice';

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.filter((record) => record.body === context.functionName).map((record) => ({
    itemIdentifier: record.messageId,
  })),
});

export const onChange = async (event: DynamoDBStreamEvent): Promise<void> => {
  for (const record of event.Records) console.log(record.eventName, record.dynamodb?.NewImage);
};

export const config = {
  queues: { orders: { visibilityTimeout: 30 } },
  functions: { processOrder: { handler: './handlers/process-order.ts#handler', timeout: 10 } },
  triggers: [{ queue: 'orders', function: 'processOrder', batchSize: 10 }],
} satisfies SluiceConfigInput;
export const viaDefine = defineConfig(config);

const sluice = await Sluice.open({ store: 'sqlite::memory:' });
await sluice.functions.create({ name: 'process', handler });
await sluice.functions.create({ name: 'onChange', handler: onChange });
try {
  await sluice.queues.send('orders', { body: '{}', delaySeconds: 5 });
} catch (error) {
  if (isSluiceError(error)) console.log(error.code, error.field);
}
const task = await sluice.callbacks.sendToQueue('orders', { input: { orderId: 7 }, timeoutSeconds: 300 });
const outcome: TaskOutcome = await task.wait();
if (outcome.status === 'SUCCEEDED') console.log(outcome.output, outcome.outputText.length);
// @ts-expect-error: the store is a URL or an opened store
await Sluice.open({ store: 42 });
await sluice.close();
