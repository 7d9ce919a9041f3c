/**
 * The catalog's entry kinds and the small rules the catalog service and `sluice apply` share about
 * entries (catalog-apply.ts, service.ts).
 */
import { SluiceError } from '../model/errors.js';
import type { CatalogEntry } from '../store/catalog-store.js';
import { FUNCTION_ENTRY_KIND } from './catalog-functions.js';
import { FUNCTION_SETTING_FIELDS, type DeclaredFunction, type MappingDefinition } from './apply-plan.js';

/** Catalog kinds: an event source mapping is named by its UUID, a function's settings by the function. */
export const MAPPING_KIND = 'event-source-mapping';
/** Secrets every node shares (sharedSecret). */
export const SECRET_KIND = 'secret';
export const FUNCTION_KIND = FUNCTION_ENTRY_KIND;
/** The mark of a schedule `sluice apply` wrote, named by the schedule: `{managedBy}` (the schedule is in the schedule store). */
export const APPLIED_SCHEDULE_KIND = 'applied-schedule';
/** What the EventBridge Scheduler API keeps beside a schedule (group, role, raw input), named by the schedule. */
export const SCHEDULER_SCHEDULE_KIND = 'scheduler-schedule';

/** An entry's key in the maps of entries a node keeps: `kind/name`. */
export const catalogKey = (kind: string, name: string) => `${kind}/${name}`;

/** The settings `sluice apply` declares of a function besides its reserved concurrency, those present only. */
export function appliedFunctionFields(source: Partial<Record<(typeof FUNCTION_SETTING_FIELDS)[number], unknown>>): Omit<DeclaredFunction, 'name' | 'reservedConcurrency'> {
  const picked: Record<string, unknown> = {};
  for (const field of FUNCTION_SETTING_FIELDS) if (source[field] !== undefined) picked[field] = source[field];
  return picked as Omit<DeclaredFunction, 'name' | 'reservedConcurrency'>;
}

/** A mapping `sluice apply` stored from a file changes only through that file. */
export function refuseApplied(entry: CatalogEntry | undefined, uuid: string, appliedFrom: string | undefined): void {
  const managedBy = entry ? (JSON.parse(entry.definition) as MappingDefinition).managedBy : undefined;
  if (managedBy === undefined || managedBy === appliedFrom) return;
  throw new SluiceError('ResourceConflictException', `The event source mapping ${uuid} is managed by the config file ${managedBy} (sluice apply); change it there and apply again`, { field: 'UUID' });
}
