/**
 * The clustered store: many nodes share one PostgreSQL database (one schema per deployment). Each store
 * holds a connection pool for its operations and one listening connection for wake-ups; opening one
 * applies pending migrations under an advisory lock, so nodes may start together.
 */
import type pg from 'pg';
import { SluiceError } from '../../model/errors.js';
import type { Store } from '../store.js';
import {
  clientConfig,
  createPool,
  parsePostgresUrl,
  quoteIdentifier,
  type PostgresOptions,
} from './connection.js';
import { createPostgresClusterStore } from './cluster.js';
import { migrate, postgresMigrations } from './migrations.js';
import { createPostgresGroups } from './groups.js';
import { createPostgresMessages } from './messages.js';
import { createPostgresMoveTasks } from './move-tasks.js';
import { createPostgresBatchStore } from './batches.js';
import { createPostgresCallbackStore } from './callbacks.js';
import { createPostgresCatalogStore } from './catalog.js';
import { createPostgresItemWrites } from './item-writes.js';
import { createPostgresIndexItems } from './index-items.js';
import { createPostgresIndexBackfills } from './index-backfills.js';
import { PostgresNotifier } from './notifier.js';
import { createPostgresOutboxStore } from './outbox.js';
import { createPostgresQueueCatalog } from './queues.js';
import { createPostgresReceive } from './receive.js';
import { createPostgresReceiveAttempts } from './receive-attempts.js';
import { createPostgresScheduleStore } from './schedules.js';
import { createPostgresActivityStore } from './activities.js';
import { createPostgresStateMachineStore } from './state-machines.js';
import { createPostgresStreamStore } from './streams.js';
import { createPostgresTableStore } from './tables.js';

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  readonly notifier: PostgresNotifier;
  readonly schema: string;
  /** The pool, for tests and diagnostics; operations go through the store's methods. */
  readonly pool: pg.Pool;
}

export interface PostgresStoreOptions extends PostgresOptions {
  /** Errors of background work (a lost listening connection, a failed NOTIFY); default: console.error. */
  onError?: (error: unknown) => void;
}

export async function openPostgresStore(
  url: string,
  options: { onError?: (error: unknown) => void } = {},
): Promise<PostgresStore> {
  return createPostgresStore({
    ...parsePostgresUrl(url),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const onError = options.onError ?? ((error: unknown) => console.error('[sluice] postgres store:', error));
  const pool = createPool(options, onError);
  // A server that shuts down (a restart, a failover) sends every backend a FATAL message. A client checked
  // out between two statements of a transaction has no query to fail with it, so pg emits 'error' on the
  // client itself, which would crash the process without a listener. The client is unusable afterwards:
  // its next statement fails, so the operation fails (its caller retries) and the pool drops the client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  let notifier: PostgresNotifier | undefined;
  try {
    const client = await pool.connect();
    try {
      await migrate(client, options.schema, postgresMigrations);
    } finally {
      client.release();
    }
    notifier = new PostgresNotifier({
      clientConfig: clientConfig(options),
      pool,
      schema: options.schema,
      onError,
    });
    await notifier.start();
  } catch (error) {
    await notifier?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  return assemble(pool, notifier, options);
}

function assemble(pool: pg.Pool, notifier: PostgresNotifier, options: PostgresStoreOptions): PostgresStore {
  const messages = createPostgresMessages(pool, notifier);
  const { groupedSend, groupedDelete, groupedChangeVisibility, ...groups } = createPostgresGroups(
    pool,
    notifier,
  );
  const operations = {
    ...createPostgresQueueCatalog(pool, notifier),
    ...messages,
    // A grouped queue's writes also keep its group rows fresh (store/postgres/groups.ts).
    messageSend: (p: Parameters<typeof messages.messageSend>[0]) =>
      p.messages.some((m) => m.groupKey != null) ? groupedSend(p) : messages.messageSend(p),
    messageDelete: (p: Parameters<typeof messages.messageDelete>[0]) =>
      p.grouped ? groupedDelete(p) : messages.messageDelete(p),
    messageChangeVisibility: (p: Parameters<typeof messages.messageChangeVisibility>[0]) =>
      p.grouped ? groupedChangeVisibility(p) : messages.messageChangeVisibility(p),
    ...groups,
    messageReceive: createPostgresReceive(pool, notifier),
    ...createPostgresReceiveAttempts(pool),
    ...createPostgresMoveTasks(pool, notifier),
    ...createPostgresClusterStore(pool, notifier),
    ...createPostgresTableStore(pool, notifier),
    ...createPostgresItemWrites(pool, notifier),
    ...createPostgresIndexItems(pool),
    ...createPostgresIndexBackfills(pool, notifier),
    ...createPostgresStreamStore(pool),
    ...createPostgresCallbackStore(pool, notifier),
    ...createPostgresScheduleStore(pool, notifier),
    ...createPostgresStateMachineStore(pool, notifier),
    ...createPostgresActivityStore(pool, notifier),
    ...createPostgresBatchStore(pool, notifier),
    ...createPostgresOutboxStore(pool),
    ...createPostgresCatalogStore(pool, notifier),
  };
  // Close waits for operations in flight (a retention sweep fired by a timer, say) before it drops the
  // schema or ends the pool, and refuses new ones.
  const inFlight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  const tracked = Object.fromEntries(
    Object.entries(operations).map(([name, operation]) => [
      name,
      (params: never) => {
        if (closing)
          return Promise.reject(
            new SluiceError('ServiceUnavailable', `store: the store is closed; ${name} was refused`),
          );
        const promise = (operation as (p: never) => Promise<unknown>)(params);
        inFlight.add(promise);
        const forget = () => inFlight.delete(promise);
        promise.then(forget, forget);
        return promise;
      },
    ]),
  ) as typeof operations;

  async function close(): Promise<void> {
    await Promise.allSettled([...inFlight]);
    await notifier.close();
    if (options.dropSchemaOnClose) {
      await pool
        .query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(options.schema)} CASCADE`)
        .catch(options.onError ?? (() => undefined));
    }
    await pool.end();
  }

  return {
    kind: 'postgres',
    notifier,
    schema: options.schema,
    pool,
    ...tracked,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
