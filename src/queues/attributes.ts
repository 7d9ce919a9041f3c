/**
 * Queue attributes with SQS's names, defaults and ranges. Callers may pass SQS's wire form (every value
 * a string, policies as JSON text) or typed values; both normalise to `QueueSettings`, which is what the
 * store keeps and what idempotent create compares.
 */
import { parseGroupKeyRule } from '../limits/group-key.js';
import { SluiceError } from '../model/errors.js';
import type { QueueSettings, RedriveAllowPolicy, RedrivePolicy } from '../store/queue-settings.js';

export const MAX_MESSAGE_SIZE_LIMIT = 1_048_576;

/** What a caller may pass: SQS's string form or typed values. */
export type QueueAttributesInput = Partial<{
  VisibilityTimeout: number | string;
  DelaySeconds: number | string;
  MessageRetentionPeriod: number | string;
  MaximumMessageSize: number | string;
  ReceiveMessageWaitTimeSeconds: number | string;
  RedrivePolicy: RedrivePolicy | string | null;
  RedriveAllowPolicy: RedriveAllowPolicy | string | null;
  FifoQueue: boolean | string;
  ContentBasedDeduplication: boolean | string;
  DeduplicationScope: 'queue' | 'messageGroup' | string;
  FifoThroughputLimit: 'perQueue' | 'perMessageGroupId' | string;
  /** The grouping rule of a standard queue (Sluice's extension); null or '' removes it. */
  SluiceGroupKey: string | null;
  /** Accepted and ignored, as a local engine has no KMS or policy engine; kept for SDK compatibility. */
  KmsMasterKeyId: string;
  KmsDataKeyReusePeriodSeconds: number | string;
  SqsManagedSseEnabled: boolean | string;
  Policy: string;
}>;

const IGNORED_ATTRIBUTES = new Set(['KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'Policy']);

interface IntegerRange {
  min: number;
  max: number;
  default: number;
  unit: string;
}

export const integerAttributeRanges = {
  VisibilityTimeout: { min: 0, max: 43_200, default: 30, unit: 'seconds' },
  DelaySeconds: { min: 0, max: 900, default: 0, unit: 'seconds' },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600, unit: 'seconds' },
  MaximumMessageSize: { min: 1_024, max: MAX_MESSAGE_SIZE_LIMIT, default: 262_144, unit: 'bytes' },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0, unit: 'seconds' },
} as const satisfies Record<string, IntegerRange>;

type IntegerAttribute = keyof typeof integerAttributeRanges;

export function defaultQueueSettings(fifo: boolean): QueueSettings {
  return {
    VisibilityTimeout: integerAttributeRanges.VisibilityTimeout.default,
    DelaySeconds: integerAttributeRanges.DelaySeconds.default,
    MessageRetentionPeriod: integerAttributeRanges.MessageRetentionPeriod.default,
    MaximumMessageSize: integerAttributeRanges.MaximumMessageSize.default,
    ReceiveMessageWaitTimeSeconds: integerAttributeRanges.ReceiveMessageWaitTimeSeconds.default,
    RedrivePolicy: null,
    RedriveAllowPolicy: null,
    FifoQueue: fifo,
    ContentBasedDeduplication: false,
    DeduplicationScope: 'queue',
    FifoThroughputLimit: 'perQueue',
  };
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Validates a queue name; returns whether it names a FIFO queue. */
export function validateQueueName(name: unknown): { fifo: boolean } {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SluiceError('InvalidParameterValue', 'QueueName: must be a non-empty string', { field: 'QueueName' });
  }
  const fifo = name.endsWith('.fifo');
  const base = fifo ? name.slice(0, -'.fifo'.length) : name;
  if (name.length > 80 || !QUEUE_NAME.test(base)) {
    throw new SluiceError(
      'InvalidParameterValue',
      `QueueName: '${name.slice(0, 100)}' must be 1-80 characters of letters, digits, '-' and '_' (FIFO queues end in '.fifo', counted in the 80)`,
      { field: 'QueueName' },
    );
  }
  return { fifo };
}

function parseInteger(name: IntegerAttribute, raw: unknown): number {
  const range = integerAttributeRanges[name];
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new SluiceError(
      'InvalidAttributeValue',
      `Attributes.${name}: ${JSON.stringify(raw)} is invalid; must be an integer from ${range.min} to ${range.max} ${range.unit}`,
      { field: `Attributes.${name}` },
    );
  }
  return value;
}

function parseBoolean(name: string, raw: unknown): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new SluiceError('InvalidAttributeValue', `Attributes.${name}: ${JSON.stringify(raw)} is invalid; must be true or false`, {
    field: `Attributes.${name}`,
  });
}

function parseEnum<T extends string>(name: string, raw: unknown, allowed: readonly T[]): T {
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  throw new SluiceError(
    'InvalidAttributeValue',
    `Attributes.${name}: ${JSON.stringify(raw)} is invalid; must be one of ${allowed.join(', ')}`,
    { field: `Attributes.${name}` },
  );
}

function parseJsonObject(name: string, raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SluiceError('InvalidAttributeValue', `Attributes.${name}: is not valid JSON`, { field: `Attributes.${name}` });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SluiceError('InvalidAttributeValue', `Attributes.${name}: must be a JSON object`, { field: `Attributes.${name}` });
  }
  return value as Record<string, unknown>;
}

function parseRedrivePolicy(raw: unknown): RedrivePolicy | null {
  if (raw === null || raw === '') return null;
  const object = parseJsonObject('RedrivePolicy', raw);
  const arn = object.deadLetterTargetArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) {
    throw new SluiceError('InvalidAttributeValue', 'Attributes.RedrivePolicy.deadLetterTargetArn: must be a queue ARN', {
      field: 'Attributes.RedrivePolicy.deadLetterTargetArn',
    });
  }
  const countRaw = object.maxReceiveCount;
  const count = typeof countRaw === 'string' && /^\d+$/.test(countRaw) ? Number(countRaw) : countRaw;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw new SluiceError(
      'InvalidAttributeValue',
      `Attributes.RedrivePolicy.maxReceiveCount: ${JSON.stringify(countRaw)} is invalid; must be an integer from 1 to 1000`,
      { field: 'Attributes.RedrivePolicy.maxReceiveCount' },
    );
  }
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

function parseRedriveAllowPolicy(raw: unknown): RedriveAllowPolicy | null {
  if (raw === null || raw === '') return null;
  const object = parseJsonObject('RedriveAllowPolicy', raw);
  const permission = parseEnum('RedriveAllowPolicy.redrivePermission', object.redrivePermission, [
    'allowAll',
    'denyAll',
    'byQueue',
  ] as const);
  const arns = object.sourceQueueArns;
  if (permission !== 'byQueue') {
    if (arns !== undefined) {
      throw new SluiceError(
        'InvalidAttributeValue',
        'Attributes.RedriveAllowPolicy.sourceQueueArns: only allowed when redrivePermission is byQueue',
        { field: 'Attributes.RedriveAllowPolicy.sourceQueueArns' },
      );
    }
    return { redrivePermission: permission };
  }
  if (!Array.isArray(arns) || arns.length < 1 || arns.length > 10 || !arns.every((a) => typeof a === 'string')) {
    throw new SluiceError(
      'InvalidAttributeValue',
      'Attributes.RedriveAllowPolicy.sourceQueueArns: byQueue needs 1 to 10 queue ARNs',
      { field: 'Attributes.RedriveAllowPolicy.sourceQueueArns' },
    );
  }
  return { redrivePermission: permission, sourceQueueArns: [...(arns as string[])] };
}

const FIFO_ONLY = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);

/**
 * Applies `input` on top of `base`. `creating` allows FifoQueue (which cannot change afterwards).
 * Throws InvalidAttributeName for unknown names and InvalidAttributeValue for values out of range.
 */
export function applyQueueAttributes(base: QueueSettings, input: QueueAttributesInput, creating: boolean): QueueSettings {
  const next: QueueSettings = { ...base };
  for (const [name, raw] of Object.entries(input ?? {})) {
    if (raw === undefined || IGNORED_ATTRIBUTES.has(name)) continue;
    if (FIFO_ONLY.has(name) && !base.FifoQueue) {
      throw new SluiceError('InvalidAttributeName', `Attributes.${name}: only FIFO queues have this attribute`, {
        field: `Attributes.${name}`,
      });
    }
    switch (name) {
      case 'VisibilityTimeout':
      case 'DelaySeconds':
      case 'MessageRetentionPeriod':
      case 'MaximumMessageSize':
      case 'ReceiveMessageWaitTimeSeconds':
        next[name] = parseInteger(name, raw);
        break;
      case 'RedrivePolicy':
        next.RedrivePolicy = parseRedrivePolicy(raw);
        break;
      case 'RedriveAllowPolicy':
        next.RedriveAllowPolicy = parseRedriveAllowPolicy(raw);
        break;
      case 'FifoQueue': {
        const fifo = parseBoolean(name, raw);
        if (fifo !== base.FifoQueue) {
          throw new SluiceError(
            'InvalidAttributeValue',
            creating
              ? `Attributes.FifoQueue: ${fifo} does not match the queue name (FIFO queue names end in '.fifo')`
              : 'Attributes.FifoQueue: cannot be changed after the queue is created',
            { field: 'Attributes.FifoQueue' },
          );
        }
        break;
      }
      case 'ContentBasedDeduplication':
        next.ContentBasedDeduplication = parseBoolean(name, raw);
        break;
      case 'DeduplicationScope':
        next.DeduplicationScope = parseEnum(name, raw, ['queue', 'messageGroup'] as const);
        break;
      case 'FifoThroughputLimit':
        next.FifoThroughputLimit = parseEnum(name, raw, ['perQueue', 'perMessageGroupId'] as const);
        break;
      case 'SluiceGroupKey':
        if (base.FifoQueue) {
          throw new SluiceError('InvalidAttributeName', 'Attributes.SluiceGroupKey: only standard queues group their messages for group limits (a FIFO queue already serves one message group at a time)', {
            field: 'Attributes.SluiceGroupKey',
          });
        }
        if (raw === null || raw === '') delete next.SluiceGroupKey;
        else {
          parseGroupKeyRule(raw, 'Attributes.SluiceGroupKey');
          next.SluiceGroupKey = raw as string;
        }
        break;
      default:
        throw new SluiceError('InvalidAttributeName', `Attributes.${name}: unknown queue attribute`, {
          field: `Attributes.${name}`,
        });
    }
  }
  if (next.FifoThroughputLimit === 'perMessageGroupId' && next.DeduplicationScope !== 'messageGroup') {
    throw new SluiceError(
      'InvalidAttributeValue',
      'Attributes.FifoThroughputLimit: perMessageGroupId requires DeduplicationScope messageGroup',
      { field: 'Attributes.FifoThroughputLimit' },
    );
  }
  return next;
}

/**
 * Whether two settings are the same for an idempotent create. The grouping rule is left out: triggers
 * set it at run time (`groupBy`), and re-declaring the queue with SQS's attributes must not conflict.
 */
export function sameSettings(a: QueueSettings, b: QueueSettings): boolean {
  const { SluiceGroupKey: _a, ...left } = a;
  const { SluiceGroupKey: _b, ...right } = b;
  return JSON.stringify(canonical(left)) === JSON.stringify(canonical(right));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The settable attributes in SQS's wire form (every value a string). */
export function settingsToWire(settings: QueueSettings): Record<string, string> {
  const wire: Record<string, string> = {
    VisibilityTimeout: String(settings.VisibilityTimeout),
    DelaySeconds: String(settings.DelaySeconds),
    MessageRetentionPeriod: String(settings.MessageRetentionPeriod),
    MaximumMessageSize: String(settings.MaximumMessageSize),
    ReceiveMessageWaitTimeSeconds: String(settings.ReceiveMessageWaitTimeSeconds),
    SqsManagedSseEnabled: 'false',
  };
  if (settings.RedrivePolicy) wire.RedrivePolicy = JSON.stringify(settings.RedrivePolicy);
  if (settings.RedriveAllowPolicy) wire.RedriveAllowPolicy = JSON.stringify(settings.RedriveAllowPolicy);
  if (settings.SluiceGroupKey) wire.SluiceGroupKey = settings.SluiceGroupKey;
  if (settings.FifoQueue) {
    wire.FifoQueue = 'true';
    wire.ContentBasedDeduplication = String(settings.ContentBasedDeduplication);
    wire.DeduplicationScope = settings.DeduplicationScope;
    wire.FifoThroughputLimit = settings.FifoThroughputLimit;
  }
  return wire;
}
