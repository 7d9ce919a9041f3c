/**
 * One feature's part of applying a config: `apply` creates what is missing and updates what differs,
 * `prune` deletes what the config no longer declares (only when the user asked with --prune; otherwise
 * it reports those resources as kept). Every change is reported, so `sluice start` can say what it did.
 */
import type { Sluice } from '../../engine/sluice.js';
import { SluiceError } from '../../model/errors.js';
import type { SluiceConfig } from '../schema.js';

export type ResourceKind = 'queue' | 'table' | 'function' | 'trigger' | 'stream trigger' | 'schedule' | 'group limits' | 'state machine';

export interface ConfigChange {
  kind: ResourceKind;
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'deleted' | 'kept (not in config)';
}

export interface ApplyContext {
  sluice: Sluice;
  config: SluiceConfig;
  /** Directory relative handler paths start from. */
  baseDir: string;
  changes: ConfigChange[];
}

export interface ConfigSection {
  name: string;
  apply(context: ApplyContext): Promise<void>;
  prune(context: ApplyContext, options: { delete: boolean }): Promise<void>;
}

/** Runs `work` for the resource at `path`, prefixing any failure with that path. */
export async function atPath<T>(path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new SluiceError(error.code, `${path}: ${error.message}`, { field: error.field ? `${path}.${error.field}` : path, cause: error });
    }
    throw error;
  }
}
