/**
 * Applies `schedules:`. Schedules are stored, so one is created once and afterwards updated only when
 * its expression, time zone, target, state or catch-up window differs from the file.
 */
import type { ScheduleTarget } from '../../store/targets.js';
import type { ScheduleInput, ScheduleView } from '../../schedules/types.js';
import type { ScheduleConfig } from './schedules-schema.js';
import { atPath, type ConfigSection } from './section.js';

function targetOf(schedule: ScheduleConfig): ScheduleTarget {
  const target = schedule.target;
  if ('function' in target) return { kind: 'function', functionName: target.function, ...(target.input !== undefined ? { input: target.input } : {}) };
  return {
    kind: 'queue',
    queue: target.queue,
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.messageGroupId !== undefined ? { messageGroupId: target.messageGroupId } : {}),
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
  };
}

/** Whether a stored schedule differs from what a file declares (fields the file leaves out aside). */
export function scheduleDiffers(view: ScheduleView, input: ScheduleInput): boolean {
  return (
    view.expression !== input.expression ||
    view.timezone !== input.timezone ||
    view.state !== input.state ||
    (input.catchUpWindowSeconds !== undefined && view.catchUpWindowSeconds !== input.catchUpWindowSeconds) ||
    canonical(view.target) !== canonical(input.target)
  );
}

export const schedulesSection: ConfigSection = {
  name: 'schedules',
  async apply(context) {
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
