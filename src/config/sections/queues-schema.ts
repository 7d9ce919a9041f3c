/**
 * `queues:` in the config file: each queue by name, with SQS's attributes under friendly names. Ranges
 * come from the queue feature, so the config accepts exactly what the service accepts.
 */
import { z } from 'zod';
import { integerAttributeRanges as ranges } from '../../queues/attributes.js';
import { oneOf, queueNameKey, rangedInteger, stringMap } from '../rules.js';

const seconds = (range: { min: number; max: number; unit: string }) => rangedInteger(range).optional();

export const queueConfigSchema = z.strictObject({
  visibilityTimeout: seconds(ranges.VisibilityTimeout),
  delaySeconds: seconds(ranges.DelaySeconds),
  messageRetentionPeriod: seconds(ranges.MessageRetentionPeriod),
  maximumMessageSize: seconds(ranges.MaximumMessageSize),
  receiveMessageWaitTimeSeconds: seconds(ranges.ReceiveMessageWaitTimeSeconds),
  /** Move a message to this queue (declared in the same config) once it was received maxReceiveCount times. */
  deadLetter: z
    .strictObject({
      queue: queueNameKey,
      maxReceiveCount: rangedInteger({ min: 1, max: 1000, unit: 'receives' }),
    })
    .optional(),
  /** Which queues may use this one as their dead-letter queue (default: any). */
  redriveAllow: z
    .union([oneOf(['allowAll', 'denyAll'] as const), z.strictObject({ byQueue: z.array(queueNameKey).min(1).max(10) })])
    .optional(),
  contentBasedDeduplication: z.boolean().optional(),
  deduplicationScope: oneOf(['queue', 'messageGroup'] as const).optional(),
  fifoThroughputLimit: oneOf(['perQueue', 'perMessageGroupId'] as const).optional(),
  /** The queue's tags; when given, exactly these (others are removed). */
  tags: stringMap.optional(),
});

export type QueueConfig = z.output<typeof queueConfigSchema>;

export const queuesSchema = z.record(queueNameKey, queueConfigSchema);
