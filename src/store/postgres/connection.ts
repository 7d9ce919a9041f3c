/**
 * Connections to PostgreSQL: the store URL, the pool, and the one way every operation runs SQL (`run`
 * for a single statement, `transaction` for several). Both retry on deadlock and serialization
 * failures, which PostgreSQL reports only under contention and which a fresh attempt resolves; the
 * retried work is always a whole transaction that was rolled back, so nothing happens twice.
 */
import pg from 'pg';
import { SluiceError } from '../../model/errors.js';

export interface PostgresOptions {
  /** The libpq-style connection string without Sluice's own parameters. */
  connectionString: string;
  /** Every table lives in this schema, so several deployments (or test runs) can share a database. */
  schema: string;
  poolSize: number;
  /** Throwaway stores (tests) drop their schema when they close. */
  dropSchemaOnClose?: boolean;
}

export const DEFAULT_SCHEMA = 'sluice';
/** Two cores: ten connections keep both busy while some wait on the network, without thrashing. */
export const DEFAULT_POOL_SIZE = 10;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function validateSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new SluiceError(
      'InvalidParameterValue',
      `store: schema '${schema}' is invalid; use 1-63 lower-case letters, digits and underscores, not starting with a digit`,
      { field: 'store' },
    );
  }
  return schema;
}

export const quoteIdentifier = (name: string): string => `"${validateSchemaName(name)}"`;

/** Reads `postgres://user@host:port/db?schema=name&poolSize=10`; other parameters go to the driver. */
export function parsePostgresUrl(url: string): PostgresOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SluiceError('InvalidParameterValue', `store: '${url}' is not a valid postgres:// URL`, {
      field: 'store',
    });
  }
  const schema = validateSchemaName(parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA);
  const poolText = parsed.searchParams.get('poolSize');
  const poolSize = poolText === null ? DEFAULT_POOL_SIZE : Number(poolText);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new SluiceError(
      'InvalidParameterValue',
      `store: poolSize ${JSON.stringify(poolText)} is invalid; must be an integer from 1 to 1000`,
      {
        field: 'store',
      },
    );
  }
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('poolSize');
  parsed.protocol = 'postgres:';
  return { connectionString: parsed.toString(), schema, poolSize };
}

/** bigint columns (ids, sequence numbers, epoch milliseconds, counts) arrive as JS numbers. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`bigint ${text} is outside the safe integer range`);
  return value;
}

const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Every statement of the store is shaped for an index: a claim is an ordered scan that stops after the
 * rows it takes. On a table that was never analyzed (a backlog bulk-loaded into a fresh database, before
 * autovacuum gets to it) the planner guesses a handful of matching rows and prefers a bitmap scan of the
 * whole range plus a sort: measured on 200,000 queued messages, 215 ms and every row read per claim,
 * against 0.08 ms and 16 rows for the index scan. No statement of ours wants a bitmap scan, so it is off
 * for our connections, and claim costs do not depend on statistics (docs/design/claim-path.md).
 */
export const PLANNER_SETTINGS = '-c enable_bitmapscan=off';

/**
 * The condition of a statement that finds messages by sequence number (the primary key) and checks
 * they belong to queue $1. `queue_id + 0` is not indexable on purpose: written plainly, a planner
 * without statistics read every message of the queue through the visibility index and tested each one
 * against the list of sequence numbers (a grouped claim of 616 messages on a 20,000-message queue:
 * 575 ms), instead of fetching the listed rows by primary key.
 */
export const BY_SEQ_IN_QUEUE = 'queue_id + 0 = $1';

/** Settings shared by the pool and the listening connection: our schema first on the search path. */
export function clientConfig(options: PostgresOptions): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    types,
    // Unqualified names resolve to our schema; set at connect time so it costs no round trip.
    options: `-c search_path=${validateSchemaName(options.schema)} ${PLANNER_SETTINGS}`,
    application_name: 'sluice',
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  };
}

export function createPool(options: PostgresOptions, onError: (error: unknown) => void): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize, idleTimeoutMillis: 30_000 });
  // An idle client whose connection dies emits here; the pool discards it and opens another on demand.
  pool.on('error', onError);
  return pool;
}

export type Queryable = pg.Pool | pg.PoolClient;

/** A statement: `name` prepares it once per connection, for statements on the hot path. */
export interface Statement {
  name?: string;
  text: string;
}

/**
 * Named parameters for a statement with many of them: the text refers to each as `at('name')` (pg's `$n`,
 * numbered in the order of `names`), and `values` lays out an object holding them as pg's array, so
 * a call site names every value instead of counting to twenty.
 */
export function namedParameters<const N extends readonly string[]>(names: N) {
  const position = new Map<string, number>(names.map((name, i) => [name, i + 1]));
  return {
    at(name: N[number]): string {
      return `$${position.get(name)!}`;
    },
    values(object: Record<N[number], unknown>): unknown[] {
      return names.map((name: N[number]) => object[name]);
    },
  };
}

export async function query<R extends pg.QueryResultRow>(
  db: Queryable,
  statement: Statement,
  values: unknown[],
): Promise<R[]> {
  const result = await db.query<R>({ ...statement, values });
  return result.rows;
}

const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const MAX_ATTEMPTS = 5;

function isRetryable(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && RETRYABLE.has((error as { code?: string }).code ?? '')
  );
}

async function backoff(attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
}

/** One statement in its own implicit transaction. */
export async function run<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  statement: Statement,
  values: unknown[],
): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query<R>(pool, statement, values);
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Claims and acknowledgements (receive, delete, visibility changes, expiry) commit without waiting for
 * the WAL flush, which is most of their cost (an fsync, 2-3 ms on this machine, per commit). That is
 * safe under at-least-once: losing such a commit in a server crash only puts messages back the way they
 * were (a claim undone means a redelivery, a delete undone means a redelivery), and it stays atomic and
 * ordered (any later durable commit, such as a send, flushes it too). Sends and catalog changes keep
 * synchronous commits: an acknowledged send is never lost. `NOT_DURABLE` goes inside a single
 * statement (an implicit transaction) as an expression evaluated once.
 */
export const NOT_DURABLE = `set_config('synchronous_commit', 'off', true)`;

export interface TransactionOptions {
  /** false for claims and acknowledgements (see NOT_DURABLE); default true. */
  durable?: boolean;
}

/** Several statements in one transaction (READ COMMITTED: each statement sees what committed before it). */
export async function transaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  // One round trip either way: a parameterless multi-statement query opens the block and sets it.
  const begin = options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN';
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true; // the connection itself failed: do not hand it out again
      });
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
    } finally {
      client.release(broken);
    }
    await backoff(attempt);
  }
}
