/**
 * Applies `schedules:`. Schedules are stored, so one is created once and afterwards updated only when
 * its expression, time zone, target, state, catch-up window, end date, flexible window or action after
 * completion differs from the file.
 */
import type { ScheduleTarget } from '../../store/targets.js';
import type { ScheduleInput, ScheduleView } from '../../schedules/types.js';
import type { ScheduleConfig } from './schedules-schema.js';
import { atPath, type ApplyContext, type ConfigSection } from './section.js';

function targetOf(schedule: ScheduleConfig): ScheduleTarget {
  const target = schedule.target;
  const onFailure = target.onFailure
    ? { onFailure: { maximumRetryAttempts: target.onFailure.maximumRetryAttempts, maximumEventAgeSeconds: target.onFailure.maximumEventAgeSeconds, ...(target.onFailure.deadLetterQueue !== undefined ? { deadLetterQueue: target.onFailure.deadLetterQueue } : {}) } }
    : {};
  if ('function' in target) return { kind: 'function', functionName: target.function, ...(target.input !== undefined ? { input: target.input } : {}), ...onFailure };
  return {
    kind: 'queue',
    queue: target.queue,
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.messageGroupId !== undefined ? { messageGroupId: target.messageGroupId } : {}),
    ...onFailure,
  };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A `schedules:` entry as the schedule service takes it (also `sluice apply`'s). */
export function scheduleInputOf(name: string, schedule: ScheduleConfig): ScheduleInput {
  return {
    name,
    expression: schedule.expression,
    timezone: schedule.timezone ?? 'UTC',
    target: targetOf(schedule),
    state: schedule.enabled === false ? 'DISABLED' : 'ENABLED',
    ...(schedule.catchUpWindowSeconds !== undefined ? { catchUpWindowSeconds: schedule.catchUpWindowSeconds } : {}),
    ...(schedule.endDate !== undefined ? { endDate: Date.parse(schedule.endDate) } : {}),
    ...(schedule.flexibleWindowMinutes !== undefined ? { flexibleWindowMinutes: schedule.flexibleWindowMinutes } : {}),
    ...(schedule.deleteAfterCompletion !== undefined ? { deleteAfterCompletion: schedule.deleteAfterCompletion } : {}),
  };
}

/** Whether a stored schedule differs from what a file declares (fields the file leaves out aside). */
export function scheduleDiffers(view: ScheduleView, input: ScheduleInput): boolean {
  return (
    view.expression !== input.expression ||
    view.timezone !== input.timezone ||
    view.state !== input.state ||
    (input.catchUpWindowSeconds !== undefined && view.catchUpWindowSeconds !== input.catchUpWindowSeconds) ||
    (input.endDate !== undefined && view.endDate !== (input.endDate === null ? null : new Date(input.endDate).toISOString())) ||
    (input.flexibleWindowMinutes !== undefined && view.flexibleWindowMinutes !== input.flexibleWindowMinutes) ||
    (input.deleteAfterCompletion !== undefined && view.deleteAfterCompletion !== input.deleteAfterCompletion) ||
    canonical(view.target) !== canonical(input.target)
  );
}

export const schedulesSection: ConfigSection = {
  name: 'schedules',
  async apply(context) {
    const declared = Object.keys(context.config.schedules ?? {});
    // The file's own changes pass; once applied, its schedules are the file's (the API refuses them, naming it).
    context.sluice.catalog.manageSchedules(context.source, []);
    try {
      await applySchedules(context);
    } finally {
      context.sluice.catalog.manageSchedules(context.source, declared);
    }
  },
  async prune(context, options) {
    const declared = context.config.schedules ?? {};
    for (const view of await context.sluice.schedules.list()) {
      if (view.name in declared) continue;
      if (options.delete) await context.sluice.schedules.delete(view.name);
      context.changes.push({ kind: 'schedule', name: view.name, action: options.delete ? 'deleted' : 'kept (not in config)' });
    }
  },
};

async function applySchedules(context: ApplyContext): Promise<void> {
  const schedules = context.sluice.schedules;
  const existing = new Map((await schedules.list()).map((view) => [view.name, view]));
  for (const [name, schedule] of Object.entries(context.config.schedules ?? {})) {
    await atPath(`schedules.${name}`, async () => {
      const input = scheduleInputOf(name, schedule);
      const current = existing.get(name);
      if (!current) {
        await schedules.create(input);
        context.changes.push({ kind: 'schedule', name, action: 'created' });
      } else if (scheduleDiffers(current, input)) {
        const { name: _name, ...changes } = input;
        await schedules.update(name, changes);
        context.changes.push({ kind: 'schedule', name, action: 'updated' });
      } else {
        context.changes.push({ kind: 'schedule', name, action: 'unchanged' });
      }
    });
  }
}
