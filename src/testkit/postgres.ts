/**
 * Test support: every PostgreSQL test runs in a schema of its own on the machine's server, created on
 * open and dropped when the store closes, so runs never see each other's data and leave nothing behind.
 * Used by the PostgreSQL store's own tests, the conformance suite and the cluster tests; not part of dist.
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import pg from 'pg';
import { parsePostgresUrl, quoteIdentifier } from '../store/postgres/connection.js';
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../store/postgres/store.js';

export const testPostgresUrl =
  process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const postgresSkipped = process.env.SLUICE_SKIP_POSTGRES === '1';

/** `describe`, or `describe.skip` with a warning when SLUICE_SKIP_POSTGRES=1 asks to skip PostgreSQL. */
export function describePostgres(name: string, body: () => void): void {
  if (postgresSkipped) {
    console.warn(`[sluice] SLUICE_SKIP_POSTGRES=1: skipping "${name}" (PostgreSQL suites are skipped).`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export const freshSchemaName = (): string => `sluice_test_${randomBytes(6).toString('hex')}`;

/** A store on `schema` (default: a new one, dropped on close). */
export async function openTestStore(
  options: { schema?: string; dropSchemaOnClose?: boolean } & Partial<PostgresStoreOptions> = {},
): Promise<PostgresStore> {
  const { connectionString, poolSize } = parsePostgresUrl(testPostgresUrl);
  const schema = options.schema ?? freshSchemaName();
  return createPostgresStore({
    connectionString,
    poolSize,
    ...options,
    schema,
    dropSchemaOnClose: options.dropSchemaOnClose ?? options.schema === undefined,
  });
}

/** Runs `work` on a connection of its own to the test server (statistics, EXPLAIN, schema settings). */
export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops a schema shared by several test stores, once they are all closed. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: parsePostgresUrl(testPostgresUrl).connectionString });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
