/**
 * Stores that several processes open by URL, for the cross-process tests: a SQLite file in a fresh
 * directory, or a fresh PostgreSQL schema. Each test registers the clean-up with `cleanups`; the caller
 * runs them after the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, freshSchemaName, postgresSkipped, testPostgresUrl } from '../../src/testkit/postgres.js';

export type Cleanups = Array<() => Promise<void> | void>;

export function sqliteStoreUrl(cleanups: Cleanups): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-shared-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'shared.db')}`;
}

export function postgresStoreUrl(cleanups: Cleanups): string {
  const schema = freshSchemaName();
  cleanups.push(() => dropSchema(schema));
  return `${testPostgresUrl}?schema=${schema}`;
}

/** `[name, open a store URL, skipped]` for describe.each. */
export function sharedStores(cleanups: Cleanups): Array<[string, () => string, boolean]> {
  return [
    ['SQLite', () => sqliteStoreUrl(cleanups), false],
    ['PostgreSQL', () => postgresStoreUrl(cleanups), postgresSkipped],
  ];
}

/** Runs the clean-ups in reverse order (what was set up last is torn down first). */
export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
