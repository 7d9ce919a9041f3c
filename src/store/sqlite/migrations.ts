/**
 * Versioned schema changes for the SQLite store, applied in order at open. Each feature appends its own
 * migration; a migration never changes once released.
 */
import { clusterMigrationSql, slotHoldMigrationSql } from './cluster.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: Migration[] = [
  {
    version: 1,
    name: 'queues',
    sql: `
      CREATE TABLE queues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        fifo INTEGER NOT NULL,
        settings TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL,
        purged_at INTEGER
      );
      CREATE TABLE queue_tombstones (
        name TEXT PRIMARY KEY,
        deleted_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- seq is AUTOINCREMENT so a sequence number is never reused: FIFO SequenceNumber and receipt
      -- handles rely on it.
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        message_attributes TEXT,
        group_id TEXT,
        dedup_id TEXT,
        sent_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_received_at INTEGER,
        received_at INTEGER,
        receipt_token TEXT,
        dead_letter_source TEXT
      );
      CREATE INDEX messages_by_visibility ON messages (queue_id, visible_at);
      CREATE INDEX messages_by_group ON messages (queue_id, group_id, seq) WHERE group_id IS NOT NULL;
      -- One row per FIFO message group with messages: its head (lowest seq) and when that head can be
      -- delivered. A receive reads only available groups, so blocked groups and deep backlogs cost nothing.
      CREATE TABLE fifo_groups (
        queue_id INTEGER NOT NULL,
        group_id TEXT NOT NULL,
        head_seq INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        PRIMARY KEY (queue_id, group_id)
      ) WITHOUT ROWID;
      CREATE INDEX fifo_groups_by_availability ON fifo_groups (queue_id, available_at);
      CREATE TABLE deduplication (
        queue_id INTEGER NOT NULL,
        scope TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (queue_id, scope, dedup_id)
      ) WITHOUT ROWID;
      CREATE TABLE move_tasks (
        task_handle TEXT PRIMARY KEY,
        source_queue_id INTEGER NOT NULL,
        source_arn TEXT NOT NULL,
        destination_arn TEXT,
        max_per_second INTEGER,
        status TEXT NOT NULL,
        moved INTEGER NOT NULL DEFAULT 0,
        to_move INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        failure_reason TEXT
      ) WITHOUT ROWID;
      CREATE INDEX move_tasks_by_source ON move_tasks (source_queue_id, started_at);
    `,
  },
  {
    version: 3,
    name: 'tables and streams',
    sql: `
      CREATE TABLE tables (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
      -- pk and sk are order-preserving encodings (tables/keys.ts): memcmp order is DynamoDB's key order.
      -- A table without a sort key stores an empty sk.
      CREATE TABLE items (
        table_id INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item TEXT NOT NULL,
        size INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (table_id, pk, sk)
      ) WITHOUT ROWID;
      CREATE INDEX items_by_expiry ON items (table_id, expires_at) WHERE expires_at IS NOT NULL;
      -- One counter per shard: sequence numbers grow by one within a shard, in commit order.
      CREATE TABLE stream_shards (
        table_id INTEGER NOT NULL,
        shard INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (table_id, shard)
      ) WITHOUT ROWID;
      CREATE TABLE stream_records (
        table_id INTEGER NOT NULL,
        shard INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        pk BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        event_name TEXT NOT NULL,
        body TEXT NOT NULL,
        by_service INTEGER NOT NULL,
        PRIMARY KEY (table_id, shard, seq)
      ) WITHOUT ROWID;
      CREATE INDEX stream_records_by_age ON stream_records (table_id, created_at);
      CREATE TABLE stream_checkpoints (
        consumer TEXT NOT NULL,
        shard INTEGER NOT NULL,
        table_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (consumer, shard)
      ) WITHOUT ROWID;
      CREATE INDEX stream_checkpoints_by_table ON stream_checkpoints (table_id);
    `,
  },
  {
    version: 4,
    name: 'task tokens, schedules, batches, outbox',
    sql: `
      -- Task tokens, keyed by the SHA-256 of the token. deadline_at = the earlier of timeout_at and
      -- heartbeat_at, kept for inspection queries; the rules live in callbacks/deadline.ts.
      CREATE TABLE callbacks (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        timeout_at INTEGER,
        heartbeat_ms INTEGER,
        heartbeat_at INTEGER,
        deadline_at INTEGER,
        settled_at INTEGER,
        output TEXT,
        error TEXT,
        cause TEXT,
        context TEXT
      ) WITHOUT ROWID;
      CREATE INDEX callbacks_by_settled ON callbacks (settled_at) WHERE settled_at IS NOT NULL;
      CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        expression TEXT NOT NULL,
        timezone TEXT NOT NULL,
        target TEXT NOT NULL,
        state TEXT NOT NULL,
        catch_up_window_ms INTEGER NOT NULL,
        anchor_at INTEGER NOT NULL,
        next_fire_at INTEGER,
        last_tick_at INTEGER,
        last_fired_at INTEGER,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX schedules_by_next_fire ON schedules (next_fire_at) WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL;
      CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        processor TEXT NOT NULL,
        queue_name TEXT NOT NULL,
        finalizer TEXT,
        items_per_message INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        metadata TEXT,
        status TEXT NOT NULL,
        total INTEGER NOT NULL DEFAULT 0,
        chunks INTEGER NOT NULL DEFAULT 0,
        retry_chunks INTEGER NOT NULL DEFAULT 0,
        succeeded INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        cancelled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        sealed_at INTEGER,
        cancelled_at INTEGER,
        finalized_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX batches_by_creation ON batches (created_at);
      CREATE INDEX batches_unfinished ON batches (processor, created_at) WHERE finalized_at IS NULL;
      -- A chunk (one queue message of items) that is done; absent means not done yet.
      CREATE TABLE batch_chunks (
        batch_id TEXT NOT NULL,
        chunk INTEGER NOT NULL,
        items INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        done_at INTEGER NOT NULL,
        PRIMARY KEY (batch_id, chunk)
      ) WITHOUT ROWID;
      CREATE TABLE batch_failed_items (
        batch_id TEXT NOT NULL,
        item_index INTEGER NOT NULL,
        item TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        failed_at INTEGER NOT NULL,
        PRIMARY KEY (batch_id, item_index)
      ) WITHOUT ROWID;
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        claim_token TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at INTEGER
      );
      CREATE INDEX outbox_pending ON outbox (due_at) WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'group limits',
    sql: `
      -- The task group of a message on a grouped queue (limits/group-key.ts); NULL on other queues, which
      -- stay out of the partial index and pay nothing for it. Ordered by visibility within a group: the
      -- oldest visible message, the in-flight count and the next expiry are each one index range.
      ALTER TABLE messages ADD COLUMN group_key TEXT;
      CREATE INDEX messages_by_group_key ON messages (queue_id, group_key, visible_at) WHERE group_key IS NOT NULL;
      -- One row per group with messages (and per recently emptied group whose token bucket is refilling).
      -- ready_at = max(next_visible_at, slot_at, token_at) is a lower bound of when the group can next be
      -- served; a claim reads only groups whose ready_at has come, in line order (ready_at, turn), so idle
      -- and blocked groups cost nothing. Exact checks happen in the claim (limits/claim-plan.ts).
      CREATE TABLE queue_groups (
        queue_id INTEGER NOT NULL,
        group_key TEXT NOT NULL,
        next_visible_at INTEGER NOT NULL,
        slot_at INTEGER NOT NULL DEFAULT 0,
        token_at INTEGER NOT NULL DEFAULT 0,
        ready_at INTEGER NOT NULL,
        turn INTEGER NOT NULL DEFAULT 0,
        tokens REAL,
        refilled_at INTEGER NOT NULL DEFAULT 0,
        full_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (queue_id, group_key)
      ) WITHOUT ROWID;
      CREATE INDEX queue_groups_by_readiness ON queue_groups (queue_id, ready_at, turn);
      -- Limits by queue name (they outlive a queue deleted and created again); group_key '' with
      -- is_default = 1 is the queue's default, for groups without an entry of their own.
      CREATE TABLE group_limits (
        queue_name TEXT NOT NULL,
        is_default INTEGER NOT NULL,
        group_key TEXT NOT NULL,
        max_concurrency INTEGER,
        rate_limit INTEGER,
        rate_interval_ms INTEGER,
        rate_burst INTEGER,
        modified_at INTEGER NOT NULL,
        PRIMARY KEY (queue_name, is_default, group_key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'cluster',
    // Nodes, fenced leases and concurrency slots: the SQL lives beside the operations in cluster.ts and,
    // like every migration here, never changes once released.
    sql: clusterMigrationSql,
  },
  {
    version: 7,
    name: 'receive request attempts',
    sql: `
      -- FIFO receives made with a ReceiveRequestAttemptId, kept 5 minutes so a retry returns the same
      -- messages with the same receipt handles (queues/service.ts). seqs is a JSON array in the order the
      -- receive returned them; visible_at is what the receive gave them (another value: they changed).
      CREATE TABLE receive_attempts (
        queue_id INTEGER NOT NULL,
        attempt_id TEXT NOT NULL,
        receipt_token TEXT NOT NULL,
        seqs TEXT NOT NULL,
        visible_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
      ) WITHOUT ROWID;
      CREATE INDEX receive_attempts_by_age ON receive_attempts (queue_id, created_at);
    `,
  },
  {
    version: 8,
    name: 'state machines',
    sql: `
      -- Step Functions (store/state-machine-store.ts). A definition change adds a revision; executions
      -- keep the revision they started with.
      CREATE TABLE state_machines (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        revision_id INTEGER NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        managed_by TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE state_machine_revisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        state_machine_arn TEXT NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      -- wake_at: when a node must next look at the row (the holder's lease end, the next due instant, or
      -- now once a token it waits for is answered); NULL when finished.
      CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        state_machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        revision_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        last_event_id INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        lease_until INTEGER,
        due_at INTEGER,
        woken INTEGER NOT NULL DEFAULT 0,
        wake_at INTEGER
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX executions_by_name ON executions (state_machine_arn, name);
      CREATE INDEX executions_by_start ON executions (state_machine_arn, started_at, arn);
      CREATE INDEX executions_to_wake ON executions (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX executions_to_purge ON executions (stopped_at) WHERE stopped_at IS NOT NULL;
      CREATE TABLE execution_events (
        execution_arn TEXT NOT NULL,
        id INTEGER NOT NULL,
        previous_id INTEGER NOT NULL,
        type TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        details TEXT,
        PRIMARY KEY (execution_arn, id)
      ) WITHOUT ROWID;
      -- The task tokens an execution waits for: answering one wakes the execution (callbacks.ts).
      CREATE TABLE execution_callbacks (
        callback_id TEXT PRIMARY KEY,
        execution_arn TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    // 9 was set aside for the DynamoDB work, which needed no migration; versions need not be contiguous.
    version: 10,
    name: 'slot holds',
    sql: slotHoldMigrationSql,
  },
  {
    version: 11,
    name: 'catalog',
    sql: `
      -- The cluster-wide catalog (store/catalog-store.ts): definitions created through the API, one JSON
      -- document per kind and name, with a revision that grows at every write.
      CREATE TABLE catalog_entries (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        revision INTEGER NOT NULL,
        modified_at INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 12,
    name: 'catalog attachments',
    sql: `
      -- Bytes kept with a catalog entry (store/catalog-store.ts): a function's code package. Written and
      -- deleted in the same transaction as the entry.
      CREATE TABLE catalog_attachments (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (kind, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 13,
    name: 'secondary index rows',
    sql: `
      -- Secondary indexes kept as rows (tables/indexes.ts): one entry per item that carries the index's
      -- key, written in the item's own transaction. ipk and isk are the index key, encoded as primary keys
      -- are; item is the projected item. Tables created before this have index_version 0 and their
      -- indexes are backfilled when a node starts (tables/index-backfill.ts).
      ALTER TABLE tables ADD COLUMN index_version INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE index_items (
        table_id INTEGER NOT NULL,
        index_name TEXT NOT NULL,
        ipk BLOB NOT NULL,
        isk BLOB NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (table_id, index_name, ipk, isk, pk, sk)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 14,
    name: 'activities and redrives',
    sql: `
      -- Step Functions activities (store/activity-store.ts) and the tasks waiting for a worker, oldest first.
      CREATE TABLE activities (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE activity_tasks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        activity_arn TEXT NOT NULL,
        token TEXT NOT NULL,
        input TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX activity_tasks_by_activity ON activity_tasks (activity_arn, seq);
      -- RedriveExecution: how many times an execution was redriven (ListExecutions' redriveFilter).
      ALTER TABLE executions ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 15,
    name: 'transaction request tokens',
    sql: `
      -- TransactWriteItems' ClientRequestToken (store/table-store.ts RequestToken), taken in the writing
      -- transaction so a retry on any node within 10 minutes is recognized.
      CREATE TABLE transaction_tokens (
        token TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX transaction_tokens_by_age ON transaction_tokens (created_at);
    `,
  },
  {
    version: 16,
    name: 'schedule policy',
    sql: `
      -- EventBridge Scheduler's EndDate, FlexibleTimeWindow and ActionAfterCompletion (SchedulePolicy in
      -- store/schedule-store.ts) as JSON; null for a schedule with none of them.
      ALTER TABLE schedules ADD COLUMN policy TEXT;
    `,
  },
  {
    version: 17,
    name: 'activity starts',
    sql: `
      -- A worker took the activity task of this token (GetActivityTask): when, and the workerName it gave.
      -- The execution records ActivityStarted from them (states/runner.ts).
      ALTER TABLE callbacks ADD COLUMN started_at INTEGER;
      ALTER TABLE callbacks ADD COLUMN worker_name TEXT;
    `,
  },
  {
    version: 18,
    name: 'fifo message index for fifo messages only',
    sql: `
      -- As on PostgreSQL: a grouped standard queue keyed by MessageGroupId paid for the FIFO index on
      -- every send and delete. FIFO messages never have a group_key, and the FIFO statements say so.
      DROP INDEX messages_by_group;
      CREATE INDEX messages_by_group ON messages (queue_id, group_id, seq)
        WHERE group_id IS NOT NULL AND group_key IS NULL;
    `,
  },
  {
    version: 19,
    name: 'index backfill leases',
    sql: `
      -- One row per secondary index still backfilling (store/table-store.ts BackfillLease): the node
      -- running the backfill renews lease_until and saves its progress (the last item key indexed); a
      -- node takes over a lease that expired and resumes after that key.
      CREATE TABLE index_backfills (
        table_id INTEGER NOT NULL,
        index_name TEXT NOT NULL,
        owner TEXT,
        token INTEGER NOT NULL,
        lease_until INTEGER NOT NULL,
        after_pk BLOB,
        after_sk BLOB,
        PRIMARY KEY (table_id, index_name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 20,
    name: 'item collection sizes',
    sql: `
      -- The size of each item collection of a table with local secondary indexes (the items of one
      -- partition key plus their local index entries), kept by item writes in their transaction, so the
      -- 10 GB item collection limit is checked in O(1) (store/table-store.ts ItemWrite.collectionLimit).
      CREATE TABLE item_collections (
        table_id INTEGER NOT NULL,
        pk BLOB NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (table_id, pk)
      ) WITHOUT ROWID;
      INSERT INTO item_collections (table_id, pk, bytes)
      SELECT c.table_id, c.pk, sum(c.size) FROM (
        SELECT table_id, pk, size FROM items
        UNION ALL
        SELECT x.table_id, x.pk, x.size FROM index_items x JOIN tables t ON t.id = x.table_id
        WHERE x.index_name IN (
          SELECT json_extract(value, '$.name') FROM json_each(t.definition, '$.indexes') WHERE json_extract(value, '$.kind') = 'local'
        )
      ) AS c
      WHERE c.table_id IN (
        SELECT t.id FROM tables t, json_each(t.definition, '$.indexes') WHERE json_extract(value, '$.kind') = 'local'
      )
      GROUP BY c.table_id, c.pk;
    `,
  },
  {
    version: 21,
    name: 'state machine versions and aliases',
    sql: `
      -- Versions: numbered snapshots of a revision (PublishStateMachineVersion). Numbers are never reused,
      -- so the machine keeps the last one given (a deleted highest version is not given again).
      ALTER TABLE state_machines ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE state_machine_versions (
        machine_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        revision_id INTEGER NOT NULL,
        description TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (machine_name, version)
      );
      -- An execution started on a version's or alias's ARN (ListExecutions filters by them).
      ALTER TABLE executions ADD COLUMN version_arn TEXT;
      ALTER TABLE executions ADD COLUMN alias_arn TEXT;
      -- Aliases: a name routing StartExecution to one or two versions by weight (routing: JSON
      -- [{"version": n, "weight": w}]).
      CREATE TABLE state_machine_aliases (
        machine_name TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        routing TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (machine_name, name)
      );
    `,
  },
  {
    version: 22,
    name: 'final slot refusals',
    sql: `
      -- What a node held when it last wrote its grant, and whether it was then told another node waits:
      -- a refusal is final once every other live node with slots was told so, with none spare
      -- (store/postgres/cluster.ts, slotVerdictMigrationSql; cluster/slots.ts).
      ALTER TABLE concurrency_slots ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE concurrency_slots ADD COLUMN told_waiting INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 24,
    name: 'content-addressed catalog attachments',
    sql: `
      -- An attachment's bytes are kept once per SHA-256 (store/catalog-store.ts): a Lambda version
      -- published from unchanged code shares its zip with $LATEST and the other versions. catalog_attachments
      -- keeps each entry's reference; a blob goes in the transaction that removes its last reference.
      -- A rowid table: its rows are large, which WITHOUT ROWID suits badly.
      CREATE TABLE catalog_blobs (
        sha256 TEXT PRIMARY KEY,
        content BLOB NOT NULL
      );
      INSERT OR IGNORE INTO catalog_blobs (sha256, content) SELECT sha256, content FROM catalog_attachments;
      ALTER TABLE catalog_attachments DROP COLUMN content;
      CREATE INDEX catalog_attachments_by_sha256 ON catalog_attachments (sha256);
    `,
  },
];
