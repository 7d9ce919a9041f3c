/**
 * `groups:` in the config file: group limits per queue (Sluice's extension, see src/limits/). Keyed by
 * queue name; each queue has an optional default, limits per group, and optionally a table whose items
 * set them live (`fromTable`).
 *
 *   groups:
 *     tasks:
 *       default: { maxConcurrency: 1 }
 *       limits:
 *         acme: { maxConcurrency: 2, rate: { limit: 2, intervalSeconds: 1 } }
 *       fromTable: { table: tenants }
 */
import { z } from 'zod';
import { groupLimitBounds as bounds } from '../../limits/types.js';
import { queueNameKey, rangedInteger, tableNameKey } from '../rules.js';

export const groupLimitConfigSchema = z.strictObject({
  maxConcurrency: rangedInteger({
    min: 1,
    max: bounds.maxConcurrency,
    unit: 'messages in flight',
  }).optional(),
  rate: z
    .strictObject({
      limit: rangedInteger({ min: 1, max: bounds.rateLimit, unit: 'messages' }),
      intervalSeconds: z
        .number({ error: 'must be a number of seconds' })
        .refine((value) => value >= 0.001 && value <= 86_400, {
          error: 'must be from 0.001 to 86400 seconds',
        })
        .optional(),
      burst: rangedInteger({ min: 1, max: bounds.burst, unit: 'messages' }).optional(),
    })
    .optional(),
});

export const queueGroupsConfigSchema = z.strictObject({
  default: groupLimitConfigSchema.optional(),
  limits: z
    .record(
      z
        .string()
        .max(bounds.maxKeyLength, { error: `a group key has at most ${bounds.maxKeyLength} characters` }),
      groupLimitConfigSchema,
    )
    .optional(),
  /** A table whose items set this queue's limits, live through its stream (the table owns them then). */
  fromTable: z
    .strictObject({
      table: tableNameKey,
      groupAttribute: z.string().min(1).optional(),
      defaultGroup: z.string().optional(),
    })
    .optional(),
});

export type GroupLimitConfig = z.output<typeof groupLimitConfigSchema>;
export type QueueGroupsConfig = z.output<typeof queueGroupsConfigSchema>;

export const groupsSchema = z.record(queueNameKey, queueGroupsConfigSchema);
