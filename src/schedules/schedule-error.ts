import { SluiceError } from '../model/errors.js';

/** The input fields a schedule can be wrong in, named as EventBridge Scheduler's CreateSchedule names them. */
export type ScheduleField =
  'ScheduleExpression' | 'ScheduleExpressionTimezone' | 'StartDate' | 'after' | 'count';

/** A `ValidationException` whose message starts with the field at fault, as every Sluice input error does. */
export function invalidSchedule(field: ScheduleField, message: string, cause?: unknown): SluiceError {
  return new SluiceError('ValidationException', `${field}: ${message}`, { field, cause });
}

/** Quotes user text for an error message, cut short so a 256-character expression does not flood the log. */
export function quoted(text: string, max = 40): string {
  return `'${text.length > max ? `${text.slice(0, max)}…` : text}'`;
}
