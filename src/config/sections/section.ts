/**
 * One feature's part of applying a config: `apply` creates what is missing and updates what differs,
 * `prune` deletes what the config no longer declares (only when the user asked with --prune; otherwise
 * it reports those resources as kept). Every change is reported, so `sluice start` can say what it did.
 */
import type { Sluice } from '../../engine/sluice.js';
import { SluiceError } from '../../model/errors.js';
import type { SluiceConfig } from '../schema.js';

export type ResourceKind = 'queue' | 'table' | 'function' | 'trigger' | 'stream trigger' | 'schedule' | 'group limits' | 'state machine' | 'state machine version' | 'state machine alias';

export interface ConfigChange {
  kind: ResourceKind;
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'deleted' | 'kept (not in config)' | 'kept (managed by sluice apply)';
}

export interface ApplyContext {
  sluice: Sluice;
  config: SluiceConfig;
  /** Directory relative handler paths start from. */
  baseDir: string;
  changes: ConfigChange[];
  /** The config file, named when the API refuses to change what it declares. */
  source: string;
}

export interface ConfigSection {
  name: string;
  apply(context: ApplyContext): Promise<void>;
  prune(context: ApplyContext, options: { delete: boolean }): Promise<void>;
}

/**
 * The refusal when a config file declares a trigger that the cluster catalog already holds (created
 * through the API): one of them must go, and the message says how.
 */
export function catalogConflict(what: string, uuid: string, source: string): SluiceError {
  return new SluiceError(
    'ResourceConflictException',
    `${what} is also the event source mapping ${uuid} in the cluster catalog (created through the API); ${source} cannot declare it too: delete the mapping (aws lambda delete-event-source-mapping --uuid ${uuid}) or remove it from the file`,
  );
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
