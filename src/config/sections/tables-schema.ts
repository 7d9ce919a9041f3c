/**
 * `tables:` in the config file: DynamoDB-style tables with their key schema, change stream and TTL
 * attribute. A table's keys cannot change once it exists; its stream and TTL can.
 */
import { z } from 'zod';
import { tableLimits } from '../../tables/definition.js';
import { oneOf, rangedInteger, tableNameKey } from '../rules.js';

const keyAttribute = z.strictObject({ name: z.string().min(1).max(255), type: oneOf(['S', 'N', 'B'] as const) });

export const tableConfigSchema = z.strictObject({
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  stream: oneOf(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const).optional(),
  ttlAttribute: z.string().min(1).max(255).optional(),
  streamShardCount: rangedInteger({ min: 1, max: tableLimits.maxShardCount, unit: 'shards' }).optional(),
});

export type TableConfig = z.output<typeof tableConfigSchema>;

export const tablesSchema = z.record(tableNameKey, tableConfigSchema);
