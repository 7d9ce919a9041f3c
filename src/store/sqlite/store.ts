import { resolve } from 'node:path';
import { InProcessNotifier } from '../notifier.js';
import type { Store } from '../store.js';
import { createSqliteBatchStore } from './batches.js';
import { createSqliteCallbackStore } from './callbacks.js';
import { createSqliteCatalogStore } from './catalog.js';
import { createSqliteClusterStore } from './cluster.js';
import { GroupCommit } from './group-commit.js';
import { openSqliteDatabase, type SqliteDatabase, type SqliteOpenOptions } from './database.js';
import { createSqliteGroupHooks, createSqliteGroupStore } from './groups.js';
import { sqliteMigrations } from './migrations.js';
import { FileSizeKeeper } from './file-size.js';
import { OtherProcessWatch } from './other-processes.js';
import { createSqliteOutboxStore } from './outbox.js';
import { createSqliteFifoGroups } from './fifo-groups.js';
import { createSqliteQueueStore, sqliteQueueRowWrites } from './queues.js';
import { createSqliteScheduleStore } from './schedules.js';
import { createSqliteActivityStore } from './activities.js';
import { createSqliteStateMachineStore } from './state-machines.js';
import { createSqliteStreamStore } from './streams.js';
import { createSqliteTableStore } from './tables.js';

/**
 * The embedded store: one SQLite file (or memory). Wake-ups are delivered in-process; commits of other
 * processes on the same file are noticed through a watch of its write-ahead log (other-processes.ts).
 */
export function createSqliteStore(options: SqliteOpenOptions): Store {
  // Registered before the file is opened: another store of this process on the same file must stop
  // holding its transaction open across turns before this one migrates (see joinSharedFiles).
  const groupCommit = new GroupCommit();
  const leaveSharedFiles = joinSharedFiles(options.path, groupCommit);
  let db: SqliteDatabase;
  try {
    db = openSqliteDatabase(options, sqliteMigrations);
  } catch (error) {
    leaveSharedFiles();
    throw error;
  }
  groupCommit.attach(db);
  const notifier = new InProcessNotifier();
  const onFile = options.path !== ':memory:' && options.path !== '';
  const fileSize = onFile
    ? new FileSizeKeeper(db, options.path, (error) => process.emitWarning(`sluice: ${options.path}: ${String(error)}`))
    : undefined;
  const otherProcesses = !onFile
    ? undefined
    : new OtherProcessWatch({
          db,
          path: options.path,
          onForeignCommit: () => {
            groupCommit.noteOtherProcess();
            notifier.publishAll();
          },
          onError: (error) =>
            process.emitWarning(`sluice: commits of other processes to ${options.path} will not wake this one: ${String(error)}`),
        });
  const groupHooks = createSqliteGroupHooks(db);
  const fifoGroups = createSqliteFifoGroups(db);
  let closed = false;
  const operations = {
    ...createSqliteQueueStore(db, notifier, groupHooks, fifoGroups),
    ...createSqliteGroupStore(db, notifier, groupHooks),
    ...createSqliteCallbackStore(db, notifier),
    ...createSqliteScheduleStore(db, notifier),
    ...createSqliteStateMachineStore(db, notifier),
    ...createSqliteActivityStore(db, notifier),
    ...createSqliteBatchStore(db, notifier),
    ...createSqliteOutboxStore(db),
    ...createSqliteTableStore(db, notifier),
    ...createSqliteStreamStore(db),
    ...createSqliteClusterStore(db, notifier),
    ...createSqliteCatalogStore(db, notifier, sqliteQueueRowWrites(db, groupHooks, fifoGroups).writeAll),
  };
  return {
    kind: 'sqlite',
    notifier,
    ...withGroupCommit(operations, groupCommit, () => fileSize?.noteActivity()),
    async close() {
      if (closed) return;
      closed = true;
      otherProcesses?.close();
      fileSize?.close();
      groupCommit.flush();
      leaveSharedFiles();
      db.close();
    },
  };
}

/** The group commits of the stores of this process, per database file. */
const storesByFile = new Map<string, Set<GroupCommit>>();

/**
 * Two stores of one process on the same file (several engines sharing a file, as tests of the cluster
 * layer do) must not group their commits (see GroupCommit.setEnabled); one store alone on its file does.
 */
function joinSharedFiles(path: string, groupCommit: GroupCommit): () => void {
  if (path === ':memory:' || path === '') return () => {};
  const file = resolve(path);
  let stores = storesByFile.get(file);
  if (!stores) storesByFile.set(file, (stores = new Set()));
  stores.add(groupCommit);
  for (const store of stores) store.setEnabled(stores.size === 1);
  return () => {
    stores.delete(groupCommit);
    if (stores.size === 0) storesByFile.delete(file);
    else for (const store of stores) store.setEnabled(stores.size === 1);
  };
}

/**
 * Operations that only read (a single SELECT or a few): they never open a group of their own (see
 * group-commit.ts). Leaving one out only costs it a transaction under load; listing a write here would let
 * it run outside a group, so only plain reads belong.
 */
const READ_ONLY_OPERATIONS: ReadonlySet<string> = new Set([
  'itemGet',
  'itemGetMany',
  'itemQuery',
  'itemScan',
  'indexQuery',
  'indexScan',
  'tableGet',
  'tableGetById',
  'streamRead',
  'streamShards',
]);

/** Every operation of the store runs through the group commit (see group-commit.ts), and is noted as activity. */
function withGroupCommit<T extends object>(operations: T, groupCommit: GroupCommit, onOperation: () => void): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(operations)) {
    const readOnly = READ_ONLY_OPERATIONS.has(name);
    wrapped[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            onOperation();
            return groupCommit.run(() => (value as (...a: unknown[]) => Promise<unknown>)(...args), readOnly);
          }
        : value;
  }
  return wrapped as T;
}
