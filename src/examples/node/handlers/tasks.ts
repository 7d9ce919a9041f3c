import type { SQSEvent } from 'aws-lambda';
import { demoLog } from './demo-log.js';

export const processTask = async (event: SQSEvent): Promise<void> => {
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? '?';
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    (demoLog().tasks[group] ??= []).push(record.body);
  }
};
