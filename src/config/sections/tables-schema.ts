/**
 * `tables:` in the config file: DynamoDB-style tables with their key schema, change stream and TTL
 * attribute. A table's keys cannot change once it exists; its stream and TTL can.
 */
import { z } from 'zod';
import { tableLimits } from '../../tables/definition.js';
import { oneOf, rangedInteger, tableNameKey } from '../rules.js';

const keyAttribute = z.strictObject({ name: z.string().min(1).max(255), type: oneOf(['S', 'N', 'B'] as const) });

/**
 * A secondary index: global (its own partition key) unless `local` (the table's partition key, another
 * sort key); `projection` ALL (default), KEYS_ONLY, or the non-key attributes to include.
 */
const indexConfig = z.strictObject({
  local: z.boolean().optional(),
  partitionKey: keyAttribute.optional(),
  sortKey: keyAttribute.optional(),
  projection: z.union([oneOf(['ALL', 'KEYS_ONLY'] as const), z.array(z.string().min(1).max(255)).min(1).max(100)]).optional(),
});

export type IndexConfig = z.output<typeof indexConfig>;

export const tableConfigSchema = z.strictObject({
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  indexes: z.record(tableNameKey, indexConfig).optional(),
  stream: oneOf(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const).optional(),
  ttlAttribute: z.string().min(1).max(255).optional(),
  streamShardCount: rangedInteger({ min: 1, max: tableLimits.maxShardCount, unit: 'shards' }).optional(),
});

export type TableConfig = z.output<typeof tableConfigSchema>;

export const tablesSchema = z.record(tableNameKey, tableConfigSchema);
