/**
 * Change streams on PostgreSQL: reading a shard from a sequence number, trimming by age, and the
 * checkpoints of stream consumers, each one statement. Records are appended by item writes
 * (item-writes.ts), which keep a shard's sequence numbers in commit order.
 */
import type pg from 'pg';
import type { StreamCheckpoint, StreamRecordRow, StreamShardState, TableStore } from '../table-store.js';
import { NOT_DURABLE, run } from './connection.js';

interface RecordRow {
  shard: number;
  seq: number;
  pk: Buffer;
  created_at: number;
  event_name: StreamRecordRow['eventName'];
  body: string;
  by_service: boolean;
}

const sql = {
  shards: {
    text: `SELECT s.shard, s.last_seq AS "lastSeq",
             (SELECT min(r.seq) FROM stream_records r WHERE r.table_id = s.table_id AND r.shard = s.shard) AS "firstSeq"
           FROM stream_shards s WHERE s.table_id = $1 ORDER BY s.shard`,
  },
  read: {
    name: 'sluice_stream_read',
    text: `SELECT shard, seq, pk, created_at, event_name, body, by_service FROM stream_records
           WHERE table_id = $1 AND shard = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
  },
  seqBefore: {
    text: 'SELECT max(seq) AS seq FROM stream_records WHERE table_id = $1 AND shard = $2 AND created_at < $3',
  },
  // The oldest record kept is read from the same snapshot as the delete, so it skips the deleted ones.
  trim: {
    text: `WITH trimmed AS (DELETE FROM stream_records WHERE table_id = $1 AND created_at < $2 RETURNING 1)
           SELECT (SELECT count(*) FROM trimmed) AS trimmed,
                  (SELECT min(created_at) FROM stream_records WHERE table_id = $1 AND created_at >= $2) AS oldest`,
  },
  checkpoints: {
    name: 'sluice_stream_checkpoints',
    text: 'SELECT shard, seq, state FROM stream_checkpoints WHERE consumer = $1 ORDER BY shard',
  },
  // Checkpoints commit without waiting for the WAL flush: losing one in a server crash only replays
  // records from an earlier checkpoint, which at-least-once delivery allows.
  checkpointSave: {
    name: 'sluice_stream_checkpoint_save',
    text: `INSERT INTO stream_checkpoints (consumer, shard, table_id, seq, state, updated_at)
           SELECT $1, c.shard, $2, c.seq, c.state, $3 FROM unnest($4::integer[], $5::bigint[], $6::text[]) AS c(shard, seq, state)
           WHERE (SELECT ${NOT_DURABLE}) IS NOT NULL
           ON CONFLICT (consumer, shard) DO UPDATE SET table_id = excluded.table_id, seq = excluded.seq,
             state = excluded.state, updated_at = excluded.updated_at`,
  },
  checkpointDelete: { text: 'DELETE FROM stream_checkpoints WHERE consumer = $1' },
};

export function createPostgresStreamStore(
  pool: pg.Pool,
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
  return {
    async streamShards(p) {
      return run<StreamShardState>(pool, sql.shards, [p.tableId]);
    },
    async streamRead(p) {
      const rows = await run<RecordRow>(pool, sql.read, [p.tableId, p.shard, p.afterSeq, p.limit]);
      return rows.map((row) => ({
        shard: row.shard,
        seq: row.seq,
        pk: row.pk,
        createdAt: row.created_at,
        eventName: row.event_name,
        body: row.body,
        byService: row.by_service,
      }));
    },
    async streamSeqBefore(p) {
      const [row] = await run<{ seq: number | null }>(pool, sql.seqBefore, [p.tableId, p.shard, p.at]);
      return row?.seq ?? 0;
    },
    async streamTrim(p) {
      const [row] = await run<{ trimmed: number; oldest: number | null }>(pool, sql.trim, [
        p.tableId,
        p.createdBefore,
      ]);
      return { trimmed: row?.trimmed ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },
    async streamCheckpointList(p) {
      return run<StreamCheckpoint>(pool, sql.checkpoints, [p.consumer]);
    },
    async streamCheckpointSave(p) {
      if (p.checkpoints.length === 0) return;
      await run(pool, sql.checkpointSave, [
        p.consumer,
        p.tableId,
        p.now,
        p.checkpoints.map((c) => c.shard),
        p.checkpoints.map((c) => c.seq),
        p.checkpoints.map((c) => c.state),
      ]);
    },
    async streamCheckpointDelete(p) {
      await run(pool, sql.checkpointDelete, [p.consumer]);
    },
  };
}
