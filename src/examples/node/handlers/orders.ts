/** Lambda-compatible: the same handler runs behind an SQS event source mapping on AWS. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { demoLog } from './demo-log.js';

export const processOrder = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const order = JSON.parse(record.body) as { id: number; poison?: boolean };
    if (order.poison) {
      demoLog().failedOrders.push(`${order.id}#${record.attributes.ApproximateReceiveCount}`);
      // Only this message returns to the queue; the rest of the batch is done.
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    demoLog().orders.push(String(order.id));
  }
  return { batchItemFailures };
};
