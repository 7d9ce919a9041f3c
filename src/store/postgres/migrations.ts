/**
 * Versioned schema changes for the PostgreSQL store, applied in order at open. Each feature appends its
 * own migration; a migration never changes once released. All of them run in one transaction under an
 * advisory lock keyed by the schema, so nodes starting together apply each migration exactly once and a
 * second run is a no-op.
 *
 * Column conventions: instants are epoch milliseconds in bigint (the same numbers the clock gives), key
 * text columns use the "C" collation so ordering and prefix matching are byte-wise, as in SQLite, and
 * the unique indexes serve `LIKE 'prefix%'`.
 */
import type pg from 'pg';
import { clusterMigrationSql, slotHoldMigrationSql, slotVerdictMigrationSql } from './cluster.js';
import { quoteIdentifier } from './connection.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const postgresMigrations: Migration[] = [
  {
    version: 1,
    name: 'queues',
    sql: `
      CREATE TABLE queues (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        fifo boolean NOT NULL,
        settings json NOT NULL,
        tags json NOT NULL DEFAULT '{}',
        created_at bigint NOT NULL,
        modified_at bigint NOT NULL,
        purged_at bigint
      );
      CREATE TABLE queue_tombstones (
        name text COLLATE "C" PRIMARY KEY,
        deleted_at bigint NOT NULL
      );
      -- A sequence of its own (not an identity column) so a send can allocate sequence numbers before it
      -- inserts: the deduplication record needs the number of the message it admits. Numbers are never
      -- reused; FIFO SequenceNumber and receipt handles rely on that.
      CREATE SEQUENCE message_seq AS bigint;
      CREATE TABLE messages (
        seq bigint PRIMARY KEY DEFAULT nextval('message_seq'),
        queue_id bigint NOT NULL,
        message_id text NOT NULL,
        body text NOT NULL,
        message_attributes text,
        group_id text COLLATE "C",
        dedup_id text COLLATE "C",
        sent_at bigint NOT NULL,
        visible_at bigint NOT NULL,
        receive_count integer NOT NULL DEFAULT 0,
        first_received_at bigint,
        received_at bigint,
        receipt_token text,
        dead_letter_source text
      );
      ALTER SEQUENCE message_seq OWNED BY messages.seq;
      -- seq breaks ties so a batch sent together is handed out in the order it was sent.
      CREATE INDEX messages_by_visibility ON messages (queue_id, visible_at, seq);
      CREATE INDEX messages_by_group ON messages (queue_id, group_id, seq) WHERE group_id IS NOT NULL;
      -- A FIFO group stays blocked while any of its received messages is invisible, not only its head (a
      -- head made visible again early must wait for the messages received with it); this finds the
      -- latest such instant of a group in one index probe.
      CREATE INDEX messages_received_by_group ON messages (queue_id, group_id, visible_at)
        WHERE group_id IS NOT NULL AND receive_count > 0;
      -- No index on sent_at: every index costs each claim (a claim changes visible_at, so it is never a
      -- HOT update and writes an entry in every index), and an age index tempts the planner away from
      -- the ordered visibility scan when statistics are stale. Retention sweeps scan the queue, as SQLite.
      -- A queue table churns: vacuum and analyze it after 2% of its rows changed, not the default 20%,
      -- so dead entries at the front of the visibility index stay few and the claim plan stays right.
      ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
      -- One row per FIFO message group with messages: its head (lowest seq) and when that head can be
      -- delivered. A receive locks available rows with SKIP LOCKED, so two nodes never serve one group
      -- at once, and blocked groups and deep backlogs cost nothing.
      CREATE TABLE fifo_groups (
        queue_id bigint NOT NULL,
        group_id text COLLATE "C" NOT NULL,
        head_seq bigint NOT NULL,
        available_at bigint NOT NULL,
        PRIMARY KEY (queue_id, group_id)
      );
      CREATE INDEX fifo_groups_by_availability ON fifo_groups (queue_id, available_at, group_id);
      CREATE TABLE deduplication (
        queue_id bigint NOT NULL,
        scope text COLLATE "C" NOT NULL,
        dedup_id text COLLATE "C" NOT NULL,
        message_id text NOT NULL,
        seq bigint NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (queue_id, scope, dedup_id)
      );
      CREATE INDEX deduplication_by_expiry ON deduplication (queue_id, expires_at);
      CREATE TABLE move_tasks (
        task_handle text COLLATE "C" PRIMARY KEY,
        source_queue_id bigint NOT NULL,
        source_arn text NOT NULL,
        destination_arn text,
        max_per_second integer,
        status text NOT NULL,
        moved bigint NOT NULL DEFAULT 0,
        to_move bigint NOT NULL,
        last_seq bigint NOT NULL,
        started_at bigint NOT NULL,
        failure_reason text
      );
      CREATE INDEX move_tasks_by_source ON move_tasks (source_queue_id, started_at);
      -- At most one unfinished task per source queue, enforced by the database so two nodes racing to
      -- start one cannot both succeed.
      CREATE UNIQUE INDEX move_tasks_one_running ON move_tasks (source_queue_id)
        WHERE status IN ('RUNNING', 'CANCELLING');
    `,
  },
  {
    version: 3,
    name: 'tables and streams',
    sql: `
      CREATE TABLE tables (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        definition text NOT NULL,
        created_at bigint NOT NULL,
        modified_at bigint NOT NULL
      );
      -- pk and sk are order-preserving encodings (tables/keys.ts): bytea compares as unsigned bytes, which
      -- is DynamoDB's key order. A table without a sort key stores an empty sk. A write decides against
      -- the row it read and then changes it only if its xmin (the row version) is still the one it read.
      CREATE TABLE items (
        table_id bigint NOT NULL,
        pk bytea NOT NULL,
        sk bytea NOT NULL,
        item text NOT NULL,
        size integer NOT NULL,
        expires_at bigint,
        PRIMARY KEY (table_id, pk, sk)
      ) WITH (fillfactor = 90);
      CREATE INDEX items_by_expiry ON items (table_id, expires_at) WHERE expires_at IS NOT NULL;
      -- One counter row per shard. A write bumps it in its own statement and holds its lock until it
      -- commits, so within a shard sequence numbers grow by one and become visible in commit order.
      CREATE TABLE stream_shards (
        table_id bigint NOT NULL,
        shard integer NOT NULL,
        last_seq bigint NOT NULL,
        PRIMARY KEY (table_id, shard)
      );
      CREATE TABLE stream_records (
        table_id bigint NOT NULL,
        shard integer NOT NULL,
        seq bigint NOT NULL,
        pk bytea NOT NULL,
        created_at bigint NOT NULL,
        event_name text NOT NULL,
        body text NOT NULL,
        by_service boolean NOT NULL,
        PRIMARY KEY (table_id, shard, seq)
      );
      CREATE INDEX stream_records_by_age ON stream_records (table_id, created_at);
      CREATE TABLE stream_checkpoints (
        consumer text COLLATE "C" NOT NULL,
        shard integer NOT NULL,
        table_id bigint NOT NULL,
        seq bigint NOT NULL,
        state text,
        updated_at bigint NOT NULL,
        PRIMARY KEY (consumer, shard)
      );
      CREATE INDEX stream_checkpoints_by_table ON stream_checkpoints (table_id);
      -- An item write is one statement; when a row it decided on changed meanwhile it calls this, which
      -- aborts the whole statement (every item, record and counter) so the writer can read and decide again.
      CREATE FUNCTION item_write_check(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT ok THEN
          RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
            MESSAGE = 'sluice: an item changed between its read and its write';
        END IF;
        RETURN true;
      END $$;
    `,
  },
  {
    version: 4,
    name: 'task tokens, schedules, batches, outbox',
    sql: `
      -- Task tokens, keyed by the SHA-256 of the token; the rules live in callbacks/deadline.ts. A WAITING
      -- row changes only through a compare-and-set on (status, heartbeat_at), see postgres/callbacks.ts.
      CREATE TABLE callbacks (
        id text COLLATE "C" PRIMARY KEY,
        status text NOT NULL,
        created_at bigint NOT NULL,
        timeout_at bigint,
        heartbeat_ms bigint,
        heartbeat_at bigint,
        deadline_at bigint,
        settled_at bigint,
        output text,
        error text,
        cause text,
        context text
      );
      CREATE INDEX callbacks_by_settled ON callbacks (settled_at) WHERE settled_at IS NOT NULL;
      CREATE TABLE schedules (
        name text COLLATE "C" PRIMARY KEY,
        expression text NOT NULL,
        timezone text NOT NULL,
        target text NOT NULL,
        state text NOT NULL,
        catch_up_window_ms bigint NOT NULL,
        anchor_at bigint NOT NULL,
        next_fire_at bigint,
        last_tick_at bigint,
        last_fired_at bigint,
        created_at bigint NOT NULL,
        modified_at bigint NOT NULL
      );
      CREATE INDEX schedules_by_next_fire ON schedules (next_fire_at) WHERE state = 'ENABLED' AND next_fire_at IS NOT NULL;
      CREATE TABLE batches (
        id text COLLATE "C" PRIMARY KEY,
        processor text COLLATE "C" NOT NULL,
        queue_name text NOT NULL,
        finalizer text,
        items_per_message integer NOT NULL,
        max_attempts integer NOT NULL,
        metadata text,
        status text NOT NULL,
        total bigint NOT NULL DEFAULT 0,
        chunks bigint NOT NULL DEFAULT 0,
        retry_chunks bigint NOT NULL DEFAULT 0,
        succeeded bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        cancelled bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        sealed_at bigint,
        cancelled_at bigint,
        finalized_at bigint
      );
      CREATE INDEX batches_by_creation ON batches (created_at);
      CREATE INDEX batches_unfinished ON batches (processor, created_at) WHERE finalized_at IS NULL;
      -- A chunk (one queue message of items) that is done; absent means not done yet.
      CREATE TABLE batch_chunks (
        batch_id text COLLATE "C" NOT NULL,
        chunk integer NOT NULL,
        items integer NOT NULL,
        failed integer NOT NULL,
        done_at bigint NOT NULL,
        PRIMARY KEY (batch_id, chunk)
      );
      CREATE TABLE batch_failed_items (
        batch_id text COLLATE "C" NOT NULL,
        item_index bigint NOT NULL,
        item text NOT NULL,
        error text NOT NULL,
        attempts integer NOT NULL,
        failed_at bigint NOT NULL,
        PRIMARY KEY (batch_id, item_index)
      );
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key text COLLATE "C" NOT NULL UNIQUE,
        topic text NOT NULL,
        payload text NOT NULL,
        created_at bigint NOT NULL,
        due_at bigint NOT NULL,
        claim_token text,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        delivered_at bigint
      );
      CREATE INDEX outbox_pending ON outbox (due_at, id) WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'group limits',
    sql: `
      -- See the SQLite migration 5 (and store/group-store.ts): a message's task group on a grouped queue,
      -- one row per group with messages saying when it can next be served, limits by queue name.
      ALTER TABLE messages ADD COLUMN group_key text COLLATE "C";
      CREATE INDEX messages_by_group_key ON messages (queue_id, group_key, visible_at, seq) WHERE group_key IS NOT NULL;
      CREATE TABLE queue_groups (
        queue_id bigint NOT NULL,
        group_key text COLLATE "C" NOT NULL,
        next_visible_at bigint NOT NULL,
        slot_at bigint NOT NULL DEFAULT 0,
        token_at bigint NOT NULL DEFAULT 0,
        ready_at bigint NOT NULL,
        turn bigint NOT NULL DEFAULT 0,
        tokens double precision,
        refilled_at bigint NOT NULL DEFAULT 0,
        full_at bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (queue_id, group_key)
      );
      CREATE INDEX queue_groups_by_readiness ON queue_groups (queue_id, ready_at, turn);
      ALTER TABLE queue_groups SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
      -- A served group goes to the back of the line: its turn is the next number.
      CREATE SEQUENCE queue_group_turn AS bigint;
      CREATE TABLE group_limits (
        queue_name text COLLATE "C" NOT NULL,
        is_default boolean NOT NULL,
        group_key text COLLATE "C" NOT NULL,
        max_concurrency integer,
        rate_limit integer,
        rate_interval_ms integer,
        rate_burst integer,
        modified_at bigint NOT NULL,
        PRIMARY KEY (queue_name, is_default, group_key)
      );
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
      -- messages with the same receipt handles (queues/service.ts). seqs in the order the receive returned
      -- them; visible_at is what the receive gave them (another value: they changed since).
      CREATE TABLE receive_attempts (
        queue_id bigint NOT NULL,
        attempt_id text COLLATE "C" NOT NULL,
        receipt_token text NOT NULL,
        seqs bigint[] NOT NULL,
        visible_at bigint NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
      );
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
        name text PRIMARY KEY,
        arn text NOT NULL UNIQUE,
        type text NOT NULL,
        revision_id bigint NOT NULL,
        description text NOT NULL,
        tags text NOT NULL,
        managed_by text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE TABLE state_machine_revisions (
        id bigserial PRIMARY KEY,
        state_machine_arn text NOT NULL,
        definition text NOT NULL,
        role_arn text NOT NULL,
        created_at bigint NOT NULL
      );
      -- wake_at: when a node must next look at the row (the holder's lease end, the next due instant, or
      -- now once a token it waits for is answered); NULL when finished.
      CREATE TABLE executions (
        arn text PRIMARY KEY,
        state_machine_arn text NOT NULL,
        name text NOT NULL,
        revision_id bigint NOT NULL,
        status text NOT NULL,
        input text NOT NULL,
        output text,
        error text,
        cause text,
        state text NOT NULL,
        version bigint NOT NULL,
        last_event_id bigint NOT NULL,
        started_at bigint NOT NULL,
        stopped_at bigint,
        lease_until bigint,
        due_at bigint,
        woken boolean NOT NULL DEFAULT false,
        wake_at bigint
      );
      CREATE UNIQUE INDEX executions_by_name ON executions (state_machine_arn, name);
      CREATE INDEX executions_by_start ON executions (state_machine_arn, started_at, arn);
      CREATE INDEX executions_to_wake ON executions (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX executions_to_purge ON executions (stopped_at) WHERE stopped_at IS NOT NULL;
      CREATE TABLE execution_events (
        execution_arn text NOT NULL,
        id bigint NOT NULL,
        previous_id bigint NOT NULL,
        type text NOT NULL,
        timestamp bigint NOT NULL,
        details text,
        PRIMARY KEY (execution_arn, id)
      );
      -- The task tokens an execution waits for: answering one wakes the execution (callbacks.ts).
      CREATE TABLE execution_callbacks (
        callback_id text PRIMARY KEY,
        execution_arn text NOT NULL
      );
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
        kind text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        definition text NOT NULL,
        revision bigint NOT NULL,
        modified_at bigint NOT NULL,
        PRIMARY KEY (kind, name)
      );
    `,
  },
  {
    version: 12,
    name: 'catalog attachments',
    sql: `
      -- Bytes kept with a catalog entry (store/catalog-store.ts): a function's code package. Written and
      -- deleted in the same transaction as the entry.
      CREATE TABLE catalog_attachments (
        kind text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        sha256 text NOT NULL,
        content bytea NOT NULL,
        PRIMARY KEY (kind, name)
      );
    `,
  },
  {
    version: 13,
    name: 'secondary index rows',
    sql: `
      -- Secondary indexes kept as rows (tables/indexes.ts): one entry per item that carries the index's
      -- key, written in the item's own statement. ipk and isk are the index key, encoded as primary keys
      -- are; item is the projected item. Tables created before this have index_version 0 and their
      -- indexes are backfilled when a node starts (tables/index-backfill.ts).
      ALTER TABLE tables ADD COLUMN index_version integer NOT NULL DEFAULT 0;
      CREATE TABLE index_items (
        table_id bigint NOT NULL,
        index_name text COLLATE "C" NOT NULL,
        ipk bytea NOT NULL,
        isk bytea NOT NULL,
        pk bytea NOT NULL,
        sk bytea NOT NULL,
        item text NOT NULL,
        size integer NOT NULL,
        PRIMARY KEY (table_id, index_name, ipk, isk, pk, sk)
      ) WITH (fillfactor = 90);
    `,
  },
  {
    version: 14,
    name: 'activities and redrives',
    sql: `
      -- Step Functions activities (store/activity-store.ts) and the tasks waiting for a worker, oldest first.
      CREATE TABLE activities (
        name text PRIMARY KEY,
        arn text NOT NULL UNIQUE,
        tags text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE activity_tasks (
        seq bigserial PRIMARY KEY,
        activity_arn text NOT NULL,
        token text NOT NULL,
        input text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX activity_tasks_by_activity ON activity_tasks (activity_arn, seq);
      -- RedriveExecution: how many times an execution was redriven (ListExecutions' redriveFilter).
      ALTER TABLE executions ADD COLUMN redrive_count integer NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 15,
    name: 'transaction request tokens',
    sql: `
      -- TransactWriteItems' ClientRequestToken (store/table-store.ts RequestToken), taken in the writing
      -- statement so a retry on any node within 10 minutes is recognized.
      CREATE TABLE transaction_tokens (
        token text COLLATE "C" PRIMARY KEY,
        fingerprint text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX transaction_tokens_by_age ON transaction_tokens (created_at);
    `,
  },
  {
    version: 16,
    name: 'schedule policy',
    sql: `
      -- EventBridge Scheduler's EndDate, FlexibleTimeWindow and ActionAfterCompletion (SchedulePolicy in
      -- store/schedule-store.ts) as JSON; null for a schedule with none of them.
      ALTER TABLE schedules ADD COLUMN policy text;
    `,
  },
  {
    version: 17,
    name: 'activity starts',
    sql: `
      -- A worker took the activity task of this token (GetActivityTask): when, and the workerName it gave.
      -- The execution records ActivityStarted from them (states/runner.ts).
      ALTER TABLE callbacks ADD COLUMN started_at bigint;
      ALTER TABLE callbacks ADD COLUMN worker_name text;
    `,
  },
  {
    version: 18,
    name: 'fifo message indexes for fifo messages only',
    sql: `
      -- The FIFO indexes held every message with a MessageGroupId, so a grouped standard queue keyed by it
      -- (SQS fair queues, Sluice's groupBy) paid for two indexes it never reads: a claim changes visible_at,
      -- is never a HOT update, and writes an entry in every index. FIFO messages never have a group_key
      -- (grouping is refused on FIFO queues), so the FIFO statements say group_key IS NULL and these hold
      -- exactly their rows.
      DROP INDEX messages_by_group;
      CREATE INDEX messages_by_group ON messages (queue_id, group_id, seq)
        WHERE group_id IS NOT NULL AND group_key IS NULL;
      DROP INDEX messages_received_by_group;
      CREATE INDEX messages_received_by_group ON messages (queue_id, group_id, visible_at)
        WHERE group_id IS NOT NULL AND group_key IS NULL AND receive_count > 0;
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
        table_id bigint NOT NULL,
        index_name text COLLATE "C" NOT NULL,
        owner text,
        token integer NOT NULL,
        lease_until bigint NOT NULL,
        after_pk bytea,
        after_sk bytea,
        PRIMARY KEY (table_id, index_name)
      );
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
        table_id bigint NOT NULL,
        pk bytea NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (table_id, pk)
      );
      INSERT INTO item_collections (table_id, pk, bytes)
      SELECT c.table_id, c.pk, sum(c.size) FROM (
        SELECT table_id, pk, size FROM items
        UNION ALL
        SELECT x.table_id, x.pk, x.size FROM index_items x JOIN tables t ON t.id = x.table_id
        WHERE x.index_name IN (
          SELECT i ->> 'name' FROM jsonb_array_elements(coalesce(t.definition::jsonb -> 'indexes', '[]'::jsonb)) AS i WHERE i ->> 'kind' = 'local'
        )
      ) AS c
      WHERE c.table_id IN (
        SELECT t.id FROM tables t, jsonb_array_elements(coalesce(t.definition::jsonb -> 'indexes', '[]'::jsonb)) AS i WHERE i ->> 'kind' = 'local'
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
      ALTER TABLE state_machines ADD COLUMN last_version integer NOT NULL DEFAULT 0;
      CREATE TABLE state_machine_versions (
        machine_name text NOT NULL,
        version integer NOT NULL,
        revision_id bigint NOT NULL,
        description text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (machine_name, version)
      );
      -- An execution started on a version's or alias's ARN (ListExecutions filters by them).
      ALTER TABLE executions ADD COLUMN version_arn text;
      ALTER TABLE executions ADD COLUMN alias_arn text;
      -- Aliases: a name routing StartExecution to one or two versions by weight (routing: JSON
      -- [{"version": n, "weight": w}]).
      CREATE TABLE state_machine_aliases (
        machine_name text NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        routing text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (machine_name, name)
      );
    `,
  },
  {
    version: 22,
    name: 'final slot refusals',
    sql: slotVerdictMigrationSql,
  },
  {
    version: 24,
    name: 'content-addressed catalog attachments',
    sql: `
      -- An attachment's bytes are kept once per SHA-256 (store/catalog-store.ts): a Lambda version
      -- published from unchanged code shares its zip with $LATEST and the other versions. catalog_attachments
      -- keeps each entry's reference; a blob goes in the transaction that removes its last reference.
      CREATE TABLE catalog_blobs (
        sha256 text COLLATE "C" PRIMARY KEY,
        content bytea NOT NULL
      );
      INSERT INTO catalog_blobs (sha256, content)
        SELECT DISTINCT ON (sha256) sha256, content FROM catalog_attachments ORDER BY sha256;
      ALTER TABLE catalog_attachments DROP COLUMN content;
      CREATE INDEX catalog_attachments_by_sha256 ON catalog_attachments (sha256);
    `,
  },
];

/** Namespace of the migration lock; the second key is derived from the schema name. */
const MIGRATION_LOCK_CLASS = 0x51c3;

/** Creates the schema if needed and applies pending migrations; returns the versions it applied. */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  migrations: Migration[],
): Promise<number[]> {
  const quoted = quoteIdentifier(schema);
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    // Identifiers cannot be placeholders; the schema name is validated and quoted.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${quoted}.schema_migrations`,
    );
    const done = new Set(rows.map((row) => row.version));
    // Migration SQL names tables unqualified; point the search path at the schema for this transaction.
    await client.query(`SELECT set_config('search_path', $1, true)`, [quoted]);
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${quoted}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
        [migration.version, migration.name, Date.now()],
      );
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
