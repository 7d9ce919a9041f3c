/**
 * The native API's contract for /v1/tables (see docs/http-api.md). Items travel as JSON; binary values
 * and sets, which JSON cannot carry, as the table store's tags: `{"$B": base64}`, `{"$SS": [...]}`,
 * `{"$NS": [...]}`, `{"$BS": [base64...]}` (tables/item-codec.ts), in both directions.
 */
import { z } from 'zod';

const jsonMap = z.record(z.string(), z.unknown());
const expressions = {
  expressionAttributeNames: z.record(z.string(), z.string()).optional(),
  expressionAttributeValues: jsonMap.optional(),
};

export const tableRequests = {
  put: z.strictObject({ item: jsonMap, conditionExpression: z.string().optional(), ...expressions }),
  get: z.strictObject({
    key: jsonMap,
    projectionExpression: z.string().optional(),
    expressionAttributeNames: expressions.expressionAttributeNames,
  }),
  query: z.strictObject({
    keyConditionExpression: z.string(),
    filterExpression: z.string().optional(),
    projectionExpression: z.string().optional(),
    scanIndexForward: z.boolean().optional(),
    limit: z.number().int().min(1).optional(),
    exclusiveStartKey: jsonMap.optional(),
    ...expressions,
  }),
  scan: z.strictObject({
    filterExpression: z.string().optional(),
    projectionExpression: z.string().optional(),
    limit: z.number().int().min(1).optional(),
    exclusiveStartKey: jsonMap.optional(),
    segment: z.number().int().optional(),
    totalSegments: z.number().int().optional(),
    ...expressions,
  }),
} as const;

const keyAttribute = z.object({ name: z.string(), type: z.enum(['S', 'N', 'B']) });

export const tableView = z.object({
  tableName: z.string(),
  tableArn: z.string(),
  tableId: z.number(),
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  ttlAttribute: z.string().optional(),
  stream: z
    .object({ viewType: z.string(), streamArn: z.string(), streamLabel: z.string(), shardCount: z.number() })
    .optional(),
  createdAt: z.number(),
  capacity: z
    .object({
      billingMode: z.string(),
      readCapacityUnits: z.number().optional(),
      writeCapacityUnits: z.number().optional(),
    })
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

export const pageView = z.object({
  items: z.array(jsonMap),
  count: z.number(),
  scannedCount: z.number(),
  lastEvaluatedKey: jsonMap.optional(),
});
