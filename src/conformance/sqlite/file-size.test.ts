/**
 * The SQLite files after a large backlog (issue 19): the database file shrinks once the backlog has
 * drained (incremental vacuum), and the write-ahead log stays bounded while 4 KB bodies pour in.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../../index.js';
import { WAL_LIMIT_BYTES } from '../../store/sqlite/file-size.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-size-'));
  dirs.push(dir);
  return join(dir, 'size.db');
}

const size = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition still false');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('SQLite file sizes', () => {
  it('hands the space of a drained backlog back to the file system, and keeps the WAL bounded', async () => {
    const path = tempFile();
    const sluice = await Sluice.open({ store: `sqlite:${path}` });
    try {
      await sluice.queues.create('backlog');
      const body = 'x'.repeat(4096);
      let maxWal = 0;
      // A reader of another connection pins an old snapshot for the first third: SQLite cannot start the
      // log over past it, so the log grows with every send until the reader lets go.
      const reader = new Database(path, { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM queues').get();
      let pinnedWal = 0;
      // 12,000 messages of 4 KB, in bursts of 20 batches sent together (one group commit each).
      for (let burst = 0; burst < 60; burst++) {
        if (burst === 20) {
          pinnedWal = size(`${path}-wal`);
          reader.exec('COMMIT');
          reader.close();
        }
        await Promise.all(
          Array.from({ length: 20 }, () =>
            sluice.queues.sendBatch('backlog', Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, body }))),
          ),
        );
        if (burst >= 20) maxWal = Math.max(maxWal, size(`${path}-wal`));
      }
      expect(pinnedWal).toBeGreaterThan(WAL_LIMIT_BYTES);
      const full = size(path) + size(`${path}-wal`);
      expect(full).toBeGreaterThan(40 * MiB);

      let drained = 0;
      for (;;) {
        const batches = await Promise.all(
          Array.from({ length: 10 }, () => sluice.queues.receive('backlog', { maxNumberOfMessages: 10, visibilityTimeout: 600 })),
        );
        if (batches.every((b) => b.length === 0)) break;
        await Promise.all(
          batches.filter((messages) => messages.length > 0).map((messages) =>
            sluice.queues.deleteMessageBatch(
              'backlog',
              messages.map((m, i) => ({ id: `d${i}`, receiptHandle: m.receiptHandle })),
            ),
          ),
        );
        drained += batches.flat().length;
        maxWal = Math.max(maxWal, size(`${path}-wal`));
      }
      expect(drained).toBe(12_000);

      // Once the reader let go, the log went back to its limit and stayed there (give or take what one
      // checkpoint interval adds before it is cut again).
      await until(() => size(`${path}-wal`) <= WAL_LIMIT_BYTES);
      // The backlog's pages go back to the file system once it is drained.
      await until(() => size(path) < full / 10);
      console.info(
        `file-size: ${(full / MiB).toFixed(1)} MiB with the backlog, ${(size(path) / MiB).toFixed(2)} MiB drained; ` +
          `WAL ${(pinnedWal / MiB).toFixed(1)} MiB while pinned by a reader, at most ${(maxWal / MiB).toFixed(1)} MiB after, ` +
          `${(size(`${path}-wal`) / MiB).toFixed(1)} MiB at the end`,
      );
    } finally {
      await sluice.close({ graceMs: 0 });
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // INCREMENTAL
    } finally {
      db.close();
    }
  });

  it('converts a file made before incremental vacuum once, when it is opened', async () => {
    const path = tempFile();
    const old = new Database(path);
    old.exec('CREATE TABLE left_over (x INTEGER)');
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0);
    old.close();
    const sluice = await Sluice.open({ store: `sqlite:${path}` });
    await sluice.close({ graceMs: 0 });
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });
});
