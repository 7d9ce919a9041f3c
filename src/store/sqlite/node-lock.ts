/**
 * One node per SQLite file. Processes that use the file through the library (a producer, a batcher, a
 * CLI command on the store) may be many, but two `sluice start` on one file would apply two configs to it
 * and race on its schedules and finalizers. A node holds an exclusive lock on `<file>.node-lock` for its
 * life: a SQLite transaction that is never committed, so the operating system drops the lock with the
 * process however it ends (even SIGKILL), and a stale lock file blocks nothing.
 */
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { SluiceError } from '../../model/errors.js';

/** Takes the node lock of a database file, or throws ResourceConflictException; returns its release. */
export function lockSqliteNode(path: string): () => void {
  const file = `${resolve(path)}.node-lock`;
  const lock = new Database(file);
  try {
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY')
      throw new SluiceError(
        'ResourceConflictException',
        `store: another node is already running on ${resolve(path)} (it holds ${file}); stop it, or start this one on another file. ` +
          'Other processes may still use the file through the library or the CLI.',
        { field: 'store' },
      );
    throw error;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    lock.close(); // rolls the transaction back and drops the lock
  };
}
