/**
 * `schedules:` in the config file: EventBridge-style `rate()`, `cron()` and `at()` expressions that
 * invoke a function or send a message to a queue of the same file. (Batch targets need an item source
 * registered in code, so they are created through the library.)
 */
import { z } from 'zod';
import { scheduleLimits } from '../../schedules/types.js';
import { functionNameKey, queueNameKey, rangedInteger } from '../rules.js';

export const scheduleNameKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: `a schedule name must be 1-${scheduleLimits.nameLength} letters, digits, '-', '_' or '.'` });

/** A target's failure policy (EventBridge Scheduler's RetryPolicy and DeadLetterConfig). */
const onFailureSchema = z.strictObject({
  maximumRetryAttempts: rangedInteger({ min: 0, max: 185, unit: 'retries' }),
  maximumEventAgeSeconds: rangedInteger({ min: 60, max: 86_400, unit: 'seconds' }),
  deadLetterQueue: queueNameKey.optional(),
});

export const scheduleConfigSchema = z.strictObject({
  /** `rate(5 minutes)`, `cron(0 3 * * ? *)`, `at(2026-03-01T09:00:00)`. */
  expression: z.string().min(1).max(256),
  /** IANA time zone for cron() and at(); default UTC. */
  timezone: z.string().optional(),
  target: z.union([
    z.strictObject({ function: functionNameKey, input: z.unknown().optional(), onFailure: onFailureSchema.optional() }),
    z.strictObject({ queue: queueNameKey, body: z.string().optional(), messageGroupId: z.string().optional(), onFailure: onFailureSchema.optional() }),
  ]),
  enabled: z.boolean().optional(),
  catchUpWindowSeconds: rangedInteger({ min: 1, max: scheduleLimits.maxCatchUpWindowSeconds, unit: 'seconds' }).optional(),
  /** ISO 8601: no tick after it (rate() and cron()). */
  endDate: z.string().optional(),
  /** Each tick is delivered within this many minutes after it. */
  flexibleWindowMinutes: rangedInteger({ min: 1, max: scheduleLimits.maxFlexibleWindowMinutes, unit: 'minutes' }).optional(),
  /** Delete the schedule once it has no more ticks. */
  deleteAfterCompletion: z.boolean().optional(),
});

export type ScheduleConfig = z.output<typeof scheduleConfigSchema>;

export const schedulesSchema = z.record(scheduleNameKey, scheduleConfigSchema);
