/**
 * Change streams on SQLite: reading a shard from a sequence number, trimming by age, and the
 * checkpoints of stream consumers. Records are appended by the item writes (tables.ts).
 */
import type { StreamCheckpoint, StreamRecordRow, StreamShardState, TableStore } from '../table-store.js';
import type { SqliteDatabase } from './database.js';

interface RecordRow {
  shard: number;
  seq: number;
  pk: Buffer;
  created_at: number;
  event_name: StreamRecordRow['eventName'];
  body: string;
  by_service: number;
}

export function createSqliteStreamStore(
  db: SqliteDatabase,
): Pick<
  TableStore,
  | 'streamShards'
  | 'streamRead'
  | 'streamSeqBefore'
  | 'streamTrim'
  | 'streamCheckpointList'
  | 'streamCheckpointSave'
  | 'streamCheckpointDelete'
> {
  const sql = {
    shards: db.prepare<[number], StreamShardState>(
      `SELECT s.shard AS shard, s.last_seq AS lastSeq,
         (SELECT MIN(r.seq) FROM stream_records r WHERE r.table_id = s.table_id AND r.shard = s.shard) AS firstSeq
       FROM stream_shards s WHERE s.table_id = ? ORDER BY s.shard`,
    ),
    read: db.prepare<[number, number, number, number], RecordRow>(
      `SELECT shard, seq, pk, created_at, event_name, body, by_service FROM stream_records
       WHERE table_id = ? AND shard = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    seqBefore: db.prepare<[number, number, number], { seq: number | null }>(
      'SELECT MAX(seq) AS seq FROM stream_records WHERE table_id = ? AND shard = ? AND created_at < ?',
    ),
    trim: db.prepare('DELETE FROM stream_records WHERE table_id = ? AND created_at < ?'),
    oldest: db.prepare<[number], { oldest: number | null }>(
      'SELECT MIN(created_at) AS oldest FROM stream_records WHERE table_id = ?',
    ),
    checkpoints: db.prepare<[string], StreamCheckpoint>(
      'SELECT shard, seq, state FROM stream_checkpoints WHERE consumer = ? ORDER BY shard',
    ),
    checkpointUpsert: db.prepare(
      `INSERT INTO stream_checkpoints (consumer, shard, table_id, seq, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (consumer, shard) DO UPDATE SET table_id = excluded.table_id, seq = excluded.seq,
         state = excluded.state, updated_at = excluded.updated_at`,
    ),
    checkpointDelete: db.prepare('DELETE FROM stream_checkpoints WHERE consumer = ?'),
  };

  const trim = db.transaction((p: { tableId: number; createdBefore: number }) => {
    const trimmed = sql.trim.run(p.tableId, p.createdBefore).changes;
    return { trimmed, oldestCreatedAt: sql.oldest.get(p.tableId)?.oldest ?? null };
  });

  const save = db.transaction((p: Parameters<TableStore['streamCheckpointSave']>[0]) => {
    for (const c of p.checkpoints)
      sql.checkpointUpsert.run(p.consumer, c.shard, p.tableId, c.seq, c.state, p.now);
  });

  return {
    async streamShards(p) {
      return sql.shards.all(p.tableId);
    },
    async streamRead(p) {
      return sql.read.all(p.tableId, p.shard, p.afterSeq, p.limit).map((row) => ({
        shard: row.shard,
        seq: row.seq,
        pk: row.pk,
        createdAt: row.created_at,
        eventName: row.event_name,
        body: row.body,
        byService: row.by_service === 1,
      }));
    },
    async streamSeqBefore(p) {
      return sql.seqBefore.get(p.tableId, p.shard, p.at)?.seq ?? 0;
    },
    async streamTrim(p) {
      return trim(p);
    },
    async streamCheckpointList(p) {
      return sql.checkpoints.all(p.consumer);
    },
    async streamCheckpointSave(p) {
      save(p);
    },
    async streamCheckpointDelete(p) {
      sql.checkpointDelete.run(p.consumer);
    },
  };
}
