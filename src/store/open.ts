/**
 * Opens a store from a URL: `sqlite:./sluice.db` (a file), `sqlite::memory:` (a throwaway database),
 * or `postgres://user@host/db` (also `postgresql://`), with optional `?schema=name&poolSize=10`.
 */
import { SluiceError } from '../model/errors.js';
import { createSqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Errors of the store's background work (a lost connection, a failed NOTIFY); default: console.error. */
  onError?: (error: unknown) => void;
}

export type StoreFactory = (url: string, options?: OpenStoreOptions) => Promise<Store>;

const factories = new Map<string, StoreFactory>([
  ['sqlite', async (url) => createSqliteStore({ path: sqlitePathOf(url)! })],
]);

/** The database path of a `sqlite:` URL (':memory:' for a throwaway database); undefined for other stores. */
export function sqlitePathOf(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  return url.slice('sqlite:'.length) || './sluice.db';
}

/** Lets another backend (PostgreSQL) plug in without this module importing its driver eagerly. */
export function registerStoreFactory(scheme: string, factory: StoreFactory): void {
  factories.set(scheme, factory);
}

// Loaded on first use, so embedded (SQLite) users never load the PostgreSQL driver.
registerStoreFactory('postgres', async (url, options) => {
  const { openPostgresStore } = await import('./postgres/store.js');
  return openPostgresStore(url, options);
});

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const scheme = /^([a-z]+):/.exec(url)?.[1];
  const factory = scheme ? factories.get(scheme === 'postgresql' ? 'postgres' : scheme) : undefined;
  if (!factory) {
    throw new SluiceError(
      'InvalidParameterValue',
      `store: '${url}' is not a supported store URL; use sqlite:<path>, sqlite::memory: or postgres://...`,
      { field: 'store' },
    );
  }
  return factory(url, options);
}
