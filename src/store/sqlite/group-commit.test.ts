import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import { GroupCommit } from './group-commit.js';
import type { SqliteDatabase } from './database.js';
import { createSqliteStore } from './store.js';

const settings = { VisibilityTimeout: 30 } as never;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function createQueue(store: Store, name: string): Promise<number> {
  const created = await store.queueCreate({ name, fifo: false, settings, tags: {}, now: 0, nameReuseDelayMs: 0 });
  if (created.outcome === 'deletedRecently') throw new Error('unexpected');
  return created.queue.id;
}

function send(store: Store, queueId: number, body: string) {
  return store.messageSend({
    queueId,
    fifo: false,
    deduplicationByGroup: false,
    deduplicationWindowMs: 0,
    now: 0,
    messages: [{ messageId: body, body, messageAttributes: null, groupId: null, deduplicationId: null, visibleAt: 0 }],
  });
}

describe('group commit of the SQLite store', () => {
  let dir: string;
  let path: string;
  const opened: Array<{ close(): unknown }> = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-group-commit-'));
    path = join(dir, 'store.db');
  });
  afterEach(async () => {
    for (const handle of opened.splice(0)) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    const store = createSqliteStore({ path });
    opened.push(store);
    return store;
  };
  /** A second connection, as another process would have: it sees only what is committed. */
  const observer = () => {
    const db = new Database(path, { readonly: true });
    opened.push(db);
    const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM messages');
    return () => count.get()!.n;
  };

  it('commits a lone operation at once, and the ones after it in the same turn together, before any settles', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    const committed = observer();
    await nextTurn();
    const alone = send(store, queueId, 'a'); // first of its turn: its own transaction, no wait
    expect(committed()).toBe(1);
    const grouped = ['b', 'c', 'd'].map((body) => send(store, queueId, body));
    expect(committed()).toBe(1); // three more ran; none is committed yet, and nobody was told it was
    const seenWhenSettled = await Promise.all(grouped.map((promise) => promise.then(() => committed())));
    expect(seenWhenSettled).toEqual([4, 4, 4]);
    await alone;
  });

  it('lets a caller making one call at a time go on without waiting for the end of the turn', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    const committed = observer();
    await nextTurn();
    let turnEnded = false;
    setImmediate(() => (turnEnded = true));
    for (const [index, body] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      await send(store, queueId, body);
      expect(committed()).toBe(index + 1); // committed on its own, before the caller goes on
    }
    expect(turnEnded).toBe(false);
  });

  it('groups a write that arrives in a later callback of the turn with the ones after it (concurrent HTTP requests)', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    const committed = observer();
    await nextTurn();
    // Two callbacks of one turn, as two sockets' requests are: each starts after the previous one's
    // result has been delivered, so only the turn tells that they arrived together.
    const seen: number[] = [];
    const settled = await new Promise<Array<Promise<number>>>((resolve) => {
      const calls: Array<Promise<number>> = [];
      setTimeout(() => {
        calls.push(send(store, queueId, 'a').then(() => committed()));
        seen.push(committed()); // the first of the turn: its own transaction, committed at once
      }, 0);
      setTimeout(() => {
        calls.push(send(store, queueId, 'b').then(() => committed()));
        calls.push(send(store, queueId, 'c').then(() => committed()));
        seen.push(committed()); // a later callback: grouped, not committed yet
        resolve(calls);
      }, 0);
    });
    expect(seen).toEqual([1, 1]);
    expect(await Promise.all(settled)).toEqual([1, 3, 3]);
  });

  it('never opens a transaction for reads, and settles a read made inside a group only once it committed', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    const committed = observer();
    await nextTurn();
    await send(store, queueId, 'a');
    const reads = [store.tableGet({ name: 't' }), store.tableGet({ name: 'none' }), store.tableGet({ name: 't' })];
    expect(committed()).toBe(1);
    await Promise.all(reads);
    await nextTurn();
    // A write group is open: a read joins it and its caller hears of it only after the COMMIT.
    void send(store, queueId, 'b');
    const grouped = send(store, queueId, 'c');
    const readInGroup = store.tableGet({ name: 't' }).then(() => committed());
    await grouped;
    expect(await readInGroup).toBe(3);
  });

  it('keeps each operation atomic: one that fails rolls back alone', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    const committed = observer();
    const good = send(store, queueId, 'kept');
    const bad = store.messageSend({
      queueId,
      fifo: false,
      deduplicationByGroup: false,
      deduplicationWindowMs: 0,
      now: 0,
      messages: [
        { messageId: 'x', body: 'first of a failing batch', messageAttributes: null, groupId: null, deduplicationId: null, visibleAt: 0 },
        { messageId: 'y', body: null as unknown as string, messageAttributes: null, groupId: null, deduplicationId: null, visibleAt: 0 },
      ],
    });
    await expect(bad).rejects.toThrow(/NOT NULL/);
    await expect(good).resolves.toEqual([expect.objectContaining({ kind: 'sent' })]);
    expect(committed()).toBe(1);
  });

  it('commits what is pending when the store closes', async () => {
    const store = open();
    const queueId = await createQueue(store, 'q');
    await nextTurn();
    const alone = send(store, queueId, 'first words');
    const pending = send(store, queueId, 'last words'); // grouped: due at the end of the turn
    await store.close();
    await Promise.all([alone, pending]);
    expect(observer()()).toBe(2);
  });

  it('stops grouping when a second store of this process opens the same file, so neither waits on the other', async () => {
    const first = open();
    const queueId = await createQueue(first, 'q');
    await nextTurn();
    const alone = send(first, queueId, 'a');
    const inFlight = send(first, queueId, 'b'); // grouped: holds the write lock until the end of this turn
    const second = open(); // migrates now: it would wait 5 s on the lock, then fail, if the first kept it
    await expect(send(second, queueId, 'c')).resolves.toHaveLength(1);
    await Promise.all([alone, inFlight]);
    expect(observer()()).toBe(3);
  });
});

describe('GroupCommit', () => {
  it('still runs a caller alone after an operation that threw before returning its promise', async () => {
    const statements: string[] = [];
    const db = { inTransaction: false, exec: (sql: string) => void statements.push(sql) } as unknown as SqliteDatabase;
    const groupCommit = new GroupCommit();
    groupCommit.attach(db);
    const throwsAtOnce = (): Promise<number> => {
      throw new Error('bad arguments');
    };
    await expect(groupCommit.run(throwsAtOnce)).rejects.toThrow('bad arguments');
    await expect(groupCommit.run(async () => 'next')).resolves.toBe('next');
    expect(statements).toEqual([]); // the next call ran on its own: no group was opened for it
  });


  it('runs reads on their own even in a burst: a transaction that writes nothing buys nothing', async () => {
    const statements: string[] = [];
    const db = { inTransaction: false, exec: (sql: string) => void statements.push(sql) } as unknown as SqliteDatabase;
    const groupCommit = new GroupCommit();
    groupCommit.attach(db);
    const reads = [1, 2, 3].map((n) => groupCommit.run(async () => n, true));
    await expect(Promise.all(reads)).resolves.toEqual([1, 2, 3]);
    expect(statements).toEqual([]);
    // Writes in the same burst still group.
    await Promise.all([groupCommit.run(async () => 'w1'), groupCommit.run(async () => 'w2')]);
    expect(statements).toEqual(['BEGIN IMMEDIATE', 'COMMIT']);
  });

  it('rejects every operation of a group whose COMMIT fails, and rolls the group back', async () => {
    const statements: string[] = [];
    let inTransaction = false;
    const db = {
      get inTransaction() {
        return inTransaction;
      },
      exec(sql: string) {
        statements.push(sql);
        if (sql.startsWith('BEGIN')) inTransaction = true;
        else if (sql === 'COMMIT') throw new Error('disk I/O error');
        else if (sql === 'ROLLBACK') inTransaction = false;
      },
    } as unknown as SqliteDatabase;
    const groupCommit = new GroupCommit();
    groupCommit.attach(db);
    const results = await Promise.allSettled([
      groupCommit.run(async () => 'alone'), // the first of the turn runs in its own transaction
      groupCommit.run(async () => 'grouped'),
      groupCommit.run(async () => 'grouped too'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(statements).toEqual(['BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK']);
  });
});
