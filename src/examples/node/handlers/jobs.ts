import type { DynamoDBStreamEvent } from 'aws-lambda';
import { demoLog } from './demo-log.js';

export const onJobChange = async (event: DynamoDBStreamEvent): Promise<void> => {
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    const key = image?.pk?.S ?? '?';
    (demoLog().jobs[key] ??= []).push(Number(image?.step?.N));
  }
};
