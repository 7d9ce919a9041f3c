/**
 * The config file's schema: one section per feature (queues, tables, functions, triggers), plus the
 * node's own settings and credentials. Validation reports every problem at once, each named by its
 * path (`queues.orders.visibilityTimeout`) with the allowed range, and checks that names refer to
 * resources the same file declares.
 *
 * To add a feature: write sections/<feature>-schema.ts and sections/<feature>.ts (its apply step), add
 * the schema below and the step to apply.ts.
 */
import { z } from 'zod';
import { SluiceError } from '../model/errors.js';
import { functionsSchema } from './sections/functions-schema.js';
import { groupsSchema } from './sections/groups-schema.js';
import { queuesSchema } from './sections/queues-schema.js';
import { schedulesSchema } from './sections/schedules-schema.js';
import { stateMachinesSchema } from './sections/state-machines-schema.js';
import { streamTriggersSchema } from './sections/stream-triggers-schema.js';
import { tablesSchema } from './sections/tables-schema.js';
import { triggersSchema } from './sections/triggers-schema.js';
import { rangedInteger } from './rules.js';

export const nodeSettingsSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: rangedInteger({ min: 0, max: 65_535, unit: '(0 picks a free port)' }).optional(),
  /** Base of queue URLs when clients reach the node through a proxy (`https://sqs.example.com`). */
  publicUrl: z.url().optional(),
  maxRequestBytes: rangedInteger({ min: 64 * 1024, max: 64 * 1024 * 1024, unit: 'bytes' }).optional(),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, { error: 'a region such as us-east-1' }).optional(),
  accountId: z.string().regex(/^\d{12}$/, { error: 'an account id is 12 digits' }).optional(),
  /** Connection caps and timeouts against clients that hold sockets (see src/api/connections.ts). */
  connections: z
    .strictObject({
      max: rangedInteger({ min: 1, max: 1_000_000, unit: 'connections' }).optional(),
      perAddress: rangedInteger({ min: 1, max: 1_000_000, unit: 'connections' }).optional(),
      headersTimeoutMs: rangedInteger({ min: 100, max: 600_000, unit: 'ms' }).optional(),
      requestTimeoutMs: rangedInteger({ min: 100, max: 3_600_000, unit: 'ms' }).optional(),
      idleTimeoutMs: rangedInteger({ min: 100, max: 3_600_000, unit: 'ms' }).optional(),
    })
    .optional(),
  /** GET /metrics (Prometheus text): `token` (default) asks for a bearer token, `none` does not, `off` serves none. */
  metrics: z.strictObject({ auth: z.enum(['token', 'none', 'off']).optional() }).optional(),
  /** The web console at /console (default on; behind the bearer tokens). */
  console: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  /** How long a finished task token stays readable before it is purged; null keeps them. */
  taskTokenRetentionSeconds: rangedInteger({ min: 1, max: 31_536_000, unit: 'seconds' }).nullable().optional(),
  /** How long a finished state machine execution and its history stay readable (default 90 days); null keeps them. */
  executionRetentionSeconds: rangedInteger({ min: 1, max: 31_536_000, unit: 'seconds' }).nullable().optional(),
  /** How long a node holds an execution with a task in flight before another node may resume it (default 60,000). */
  executionLeaseMs: rangedInteger({ min: 1_000, max: 3_600_000, unit: 'ms' }).optional(),
  /** How long a node holds a secondary index backfill before another node may take it over (default 30,000). */
  indexBackfillLeaseMs: rangedInteger({ min: 100, max: 3_600_000, unit: 'ms' }).optional(),
  /**
   * The item collection limit of tables with local secondary indexes (default DynamoDB's 10 GB): a smaller
   * one lets an application's tests reach ItemCollectionSizeLimitExceededException through the wire.
   */
  itemCollectionLimitBytes: rangedInteger({ min: 1, max: 10 * 2 ** 30, unit: 'bytes' }).optional(),
  /** The age at which the key signing GetFunction's Code.Location URLs is rotated (default 30 days). */
  codeLocationKeyMaxAgeDays: rangedInteger({ min: 1, max: 3650, unit: 'days' }).optional(),
});

export const authSchema = z.strictObject({
  accessKeys: z.array(z.strictObject({ accessKeyId: z.string(), secretAccessKey: z.string() })).optional(),
  tokens: z.array(z.string()).optional(),
});

export const configSchema = z
  .strictObject({
    /** Store URL; `--store` and SLUICE_STORE take precedence. */
    store: z.string().min(1).optional(),
    node: nodeSettingsSchema.optional(),
    auth: authSchema.optional(),
    queues: queuesSchema.optional(),
    tables: tablesSchema.optional(),
    functions: functionsSchema.optional(),
    triggers: triggersSchema.optional(),
    streamTriggers: streamTriggersSchema.optional(),
    schedules: schedulesSchema.optional(),
    groups: groupsSchema.optional(),
    stateMachines: stateMachinesSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const queues = new Set(Object.keys(config.queues ?? {}));
    const functions = new Set(Object.keys(config.functions ?? {}));
    const tables = new Set(Object.keys(config.tables ?? {}));
    const missing = (path: PropertyKey[], kind: string, name: string) =>
      ctx.addIssue({ code: 'custom', path, message: `'${name}' is not a ${kind} of this config` });
    for (const [name, queue] of Object.entries(config.queues ?? {})) {
      if (queue.deadLetter && !queues.has(queue.deadLetter.queue)) missing(['queues', name, 'deadLetter', 'queue'], 'queue', queue.deadLetter.queue);
      if (queue.deadLetter?.queue === name) ctx.addIssue({ code: 'custom', path: ['queues', name, 'deadLetter', 'queue'], message: 'a queue cannot be its own dead-letter queue' });
      if (!name.endsWith('.fifo')) {
        for (const key of ['contentBasedDeduplication', 'deduplicationScope', 'fifoThroughputLimit'] as const) {
          if (queue[key] !== undefined) ctx.addIssue({ code: 'custom', path: ['queues', name, key], message: 'only FIFO queues (names ending in .fifo) have this setting' });
        }
      }
    }
    for (const [name, fn] of Object.entries(config.functions ?? {})) {
      for (const outcome of ['onSuccess', 'onFailure'] as const) {
        const target = fn.async?.[outcome];
        if (target && 'queue' in target && !queues.has(target.queue)) missing(['functions', name, 'async', outcome, 'queue'], 'queue', target.queue);
        if (target && 'function' in target && !functions.has(target.function)) missing(['functions', name, 'async', outcome, 'function'], 'function', target.function);
      }
    }
    (config.streamTriggers ?? []).forEach((trigger, index) => {
      if (!tables.has(trigger.table)) missing(['streamTriggers', index, 'table'], 'table', trigger.table);
      else if (!config.tables?.[trigger.table]?.stream) {
        ctx.addIssue({ code: 'custom', path: ['streamTriggers', index, 'table'], message: `the table '${trigger.table}' has no stream; give it one (stream: NEW_AND_OLD_IMAGES, ...)` });
      }
      if (!functions.has(trigger.function)) missing(['streamTriggers', index, 'function'], 'function', trigger.function);
      const target = trigger.onFailure;
      if (target && 'queue' in target && !queues.has(target.queue)) missing(['streamTriggers', index, 'onFailure', 'queue'], 'queue', target.queue);
      if (target && 'function' in target && !functions.has(target.function)) missing(['streamTriggers', index, 'onFailure', 'function'], 'function', target.function);
    });
    for (const [name, schedule] of Object.entries(config.schedules ?? {})) {
      const target = schedule.target;
      if ('function' in target && !functions.has(target.function)) missing(['schedules', name, 'target', 'function'], 'function', target.function);
      if ('queue' in target && !queues.has(target.queue)) missing(['schedules', name, 'target', 'queue'], 'queue', target.queue);
    }
    const pairs = new Set<string>();
    (config.triggers ?? []).forEach((trigger, index) => {
      if (!queues.has(trigger.queue)) missing(['triggers', index, 'queue'], 'queue', trigger.queue);
      if (!functions.has(trigger.function)) missing(['triggers', index, 'function'], 'function', trigger.function);
      const pair = `${trigger.queue} -> ${trigger.function}`;
      if (pairs.has(pair)) ctx.addIssue({ code: 'custom', path: ['triggers', index], message: `a second trigger from ${pair}` });
      pairs.add(pair);
    });
  });

/** What a config file may contain (before defaults), for `defineConfig` in sluice.config.ts. */
export type SluiceConfigInput = z.input<typeof configSchema>;
export type SluiceConfig = z.output<typeof configSchema>;

/** Types a config file's contents: `export default defineConfig({ queues: { ... } })`. */
export function defineConfig(config: SluiceConfigInput): SluiceConfigInput {
  return config;
}

function issueText(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('').replace(/^\./, '');
  let message = issue.message;
  if (issue.code === 'invalid_key') message = `${issue.issues[0]?.message ?? message}`;
  if (issue.code === 'unrecognized_keys') message = `unknown setting(s) ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
  return `${path || '(top level)'}: ${message}`;
}

/** Validates a config; throws one SluiceError listing every problem, each with its path. */
export function validateConfig(raw: unknown, source: string): SluiceConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map(issueText);
  const first = result.error.issues[0]?.path.map(String).join('.');
  throw new SluiceError('ValidationException', `Invalid config ${source}:\n  ${lines.join('\n  ')}`, first ? { field: first } : {});
}
