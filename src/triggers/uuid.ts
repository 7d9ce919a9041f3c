/** A new trigger's UUID: the one given (by the catalog, so every node shares it), checked, or a new one. */
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../model/errors.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function triggerUuid(given: unknown, existing: ReadonlyMap<string, unknown>): string {
  if (given === undefined) return randomUUID();
  if (typeof given !== 'string' || !UUID_PATTERN.test(given)) {
    throw new SluiceError('InvalidParameterValue', `UUID: ${JSON.stringify(given)?.slice(0, 60)} is not a lowercase UUID`, { field: 'UUID' });
  }
  if (existing.has(given)) throw new SluiceError('ResourceConflictException', `UUID: a trigger ${given} already exists`, { field: 'UUID' });
  return given;
}
