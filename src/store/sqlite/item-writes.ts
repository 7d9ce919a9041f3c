/**
 * Item writes on SQLite: one transaction decides every write of a call (a failed condition anywhere
 * leaves everything untouched), then writes the items, their index entries and their stream records,
 * and takes the call's ClientRequestToken, if any.
 */
import type { Notifier } from '../notifier.js';
import {
  streamChannel,
  type ItemDecision,
  type ItemWrite,
  type ItemWriteOutcome,
  type TableStore,
} from '../table-store.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteIndexItems } from './index-items.js';
import { collectionChanges, exceedsLimit } from '../rules/item-collections.js';

/** Thrown inside the transaction to roll it back: the write at `index` grows a collection past its limit. */
class CollectionTooLarge extends Error {
  constructor(readonly index: number) {
    super('item collection size limit exceeded');
  }
}

export function createSqliteItemWrites(
  db: SqliteDatabase,
  notifier: Notifier,
  indexItems: SqliteIndexItems,
): Pick<TableStore, 'itemWrite'> {
  const sql = {
    // A write's read: its table's index version (no row: the table is gone) and the item, in one statement.
    writeRead: db.prepare<[Buffer, Buffer, number], { index_version: number; item: string | null }>(
      `SELECT t.index_version, i.item FROM tables t
       LEFT JOIN items i ON i.table_id = t.id AND i.pk = ? AND i.sk = ?
       WHERE t.id = ?`,
    ),
    itemUpsert: db.prepare(
      `INSERT INTO items (table_id, pk, sk, item, size, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (table_id, pk, sk) DO UPDATE SET item = excluded.item, size = excluded.size, expires_at = excluded.expires_at`,
    ),
    itemDelete: db.prepare('DELETE FROM items WHERE table_id = ? AND pk = ? AND sk = ?'),
    nextSeq: db.prepare<[number, number], { last_seq: number }>(
      'UPDATE stream_shards SET last_seq = last_seq + 1 WHERE table_id = ? AND shard = ? RETURNING last_seq',
    ),
    tokenGet: db.prepare<[string, number], { fingerprint: string }>(
      'SELECT fingerprint FROM transaction_tokens WHERE token = ? AND created_at >= ?',
    ),
    tokenPut: db.prepare(
      `INSERT INTO transaction_tokens (token, fingerprint, created_at) VALUES (?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at`,
    ),
    tokensForget: db.prepare('DELETE FROM transaction_tokens WHERE created_at < ?'),
    collectionAdd: db.prepare<[number, Buffer, number], { bytes: number }>(
      `INSERT INTO item_collections (table_id, pk, bytes) VALUES (?, ?, ?)
       ON CONFLICT (table_id, pk) DO UPDATE SET bytes = bytes + excluded.bytes RETURNING bytes`,
    ),
    recordInsert: db.prepare(
      `INSERT INTO stream_records (table_id, shard, seq, pk, created_at, event_name, body, by_service)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };

  const write = db.transaction((p: Parameters<TableStore['itemWrite']>[0]): ItemWriteOutcome => {
    const token = p.requestToken;
    if (token) {
      const taken = sql.tokenGet.get(token.token, token.notBefore);
      if (taken) return { outcome: taken.fingerprint === token.fingerprint ? 'replayed' : 'tokenMismatch' };
    }
    // Decide every write first: a failed condition anywhere must leave everything untouched.
    const decisions: ItemDecision[] = [];
    const reasons: Array<string | null> = [];
    for (const w of p.writes) {
      const read = sql.writeRead.get(w.key.pk, w.key.sk, w.tableId);
      if (!read) return { outcome: 'tableGone', tableId: w.tableId };
      if (read.index_version !== w.indexVersion) return { outcome: 'tableChanged', tableId: w.tableId };
      const decision = w.decide(read.item ?? undefined);
      decisions.push(decision);
      reasons.push(decision.kind === 'fail' ? decision.reason : null);
    }
    if (reasons.some((reason) => reason !== null)) return { outcome: 'cancelled', reasons };
    for (const change of collectionChanges(p.writes, decisions)) {
      const { bytes } = sql.collectionAdd.get(change.tableId, change.pk, change.delta)!;
      if (exceedsLimit(change, bytes)) throw new CollectionTooLarge(change.index);
    }
    const records: Array<{ tableId: number; shard: number; seq: number }> = [];
    p.writes.forEach((w: ItemWrite, index) => {
      const decision = decisions[index] as ItemDecision;
      if (decision.kind === 'put')
        sql.itemUpsert.run(w.tableId, w.key.pk, w.key.sk, decision.item, decision.size, decision.expiresAt);
      else if (decision.kind === 'delete') sql.itemDelete.run(w.tableId, w.key.pk, w.key.sk);
      if (decision.kind === 'put' || decision.kind === 'delete') indexItems.apply(w.tableId, w.key, decision.index);
      if ((decision.kind === 'put' || decision.kind === 'delete') && decision.record && w.shard !== null) {
        const seq = sql.nextSeq.get(w.tableId, w.shard)!.last_seq;
        const r = decision.record;
        sql.recordInsert.run(
          w.tableId,
          w.shard,
          seq,
          w.key.pk,
          p.now,
          r.eventName,
          r.body,
          r.byService ? 1 : 0,
        );
        records.push({ tableId: w.tableId, shard: w.shard, seq });
      }
    });
    if (token) {
      sql.tokensForget.run(token.notBefore);
      sql.tokenPut.run(token.token, token.fingerprint, p.now);
    }
    return { outcome: 'written', records };
  });

  return {
    async itemWrite(p) {
      let outcome: ItemWriteOutcome;
      try {
        outcome = write(p);
      } catch (error) {
        if (!(error instanceof CollectionTooLarge)) throw error;
        return { outcome: 'collectionTooLarge', index: error.index };
      }
      if (outcome.outcome === 'written' && outcome.records.length > 0) {
        const channels = new Set(outcome.records.map((r) => streamChannel(r.tableId, r.shard)));
        for (const channel of channels) notifier.publish(channel);
      }
      return outcome;
    },
  };
}
