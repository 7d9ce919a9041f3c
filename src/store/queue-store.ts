/**
 * The queue half of the store: one domain operation per method, one transaction each. Decisions (what a
 * receipt handle means, which attribute is valid, when a message is dead-lettered) are made by the
 * caller in TypeScript and passed in as parameters; a backend only does the set work in its own SQL.
 */
import type { QueueSettings } from './queue-settings.js';

export interface StoredQueue {
  id: number;
  name: string;
  fifo: boolean;
  settings: QueueSettings;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  purgedAt: number | null;
}

export interface NewMessage {
  messageId: string;
  body: string;
  /** JSON of the message attributes (binary values base64), or null when there are none. */
  messageAttributes: string | null;
  groupId: string | null;
  deduplicationId: string | null;
  visibleAt: number;
  /** The message's task group on a grouped queue (see limits/group-key.ts); absent on other queues. */
  groupKey?: string | null;
}

export type SendOutcome =
  | { kind: 'sent'; messageId: string; seq: number }
  /** A duplicate inside the deduplication window: accepted, not stored again. */
  | { kind: 'duplicate'; messageId: string; seq: number };

/** A message as a receive hands it out, before the queue layer shapes it for the caller. */
export interface ClaimedMessage {
  seq: number;
  messageId: string;
  body: string;
  messageAttributes: string | null;
  groupId: string | null;
  deduplicationId: string | null;
  sentAt: number;
  firstReceivedAt: number;
  receiveCount: number;
  deadLetterSource: string | null;
  /** A grouped claim took it from a group with a rate limit (see GroupClaimParams.pacedMax). */
  paced?: true;
}

/** A message row as both backends read it, with the store's column names. */
export interface ClaimedRow {
  seq: number;
  message_id: string;
  body: string;
  message_attributes: string | null;
  group_id: string | null;
  dedup_id: string | null;
  sent_at: number;
  first_received_at: number | null;
  receive_count: number;
  dead_letter_source: string | null;
}

/**
 * The one mapper of a claimed message row. A row read after its claim (RETURNING) already counts the
 * claim; one read before it (`claimedAt`: the claim's instant) gets the claim added here.
 */
export function claimedMessageOf(row: ClaimedRow, claimedAt?: number): ClaimedMessage {
  const before = claimedAt !== undefined;
  return {
    seq: row.seq,
    messageId: row.message_id,
    body: row.body,
    messageAttributes: row.message_attributes,
    groupId: row.group_id,
    deduplicationId: row.dedup_id,
    sentAt: row.sent_at,
    firstReceivedAt: row.first_received_at ?? claimedAt ?? row.sent_at,
    receiveCount: before ? row.receive_count + 1 : row.receive_count,
    deadLetterSource: row.dead_letter_source,
  };
}

/** A `move_tasks` row, as both backends read it. */
export interface MoveTaskRow {
  task_handle: string;
  source_queue_id: number;
  source_arn: string;
  destination_arn: string | null;
  max_per_second: number | null;
  status: MoveTask['status'];
  moved: number;
  to_move: number;
  last_seq: number;
  started_at: number;
  failure_reason: string | null;
}

/** The one mapper of a move task row. */
export function moveTaskOf(row: MoveTaskRow): MoveTask {
  return {
    taskHandle: row.task_handle,
    sourceQueueId: row.source_queue_id,
    sourceArn: row.source_arn,
    destinationArn: row.destination_arn,
    maxPerSecond: row.max_per_second,
    status: row.status,
    moved: row.moved,
    toMove: row.to_move,
    lastSeq: row.last_seq,
    startedAt: row.started_at,
    failureReason: row.failure_reason,
  };
}

/** A message as `messagePeek` reads it. */
export interface PeekedMessage {
  seq: number;
  messageId: string;
  body: string;
  messageAttributes: string | null;
  groupId: string | null;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  deadLetterSource: string | null;
}

export interface DeadLetterTarget {
  queueId: number;
  fifo: boolean;
  maxReceiveCount: number;
  /** Recorded on the moved message (DeadLetterQueueSourceArn) so a redrive can send it home. */
  sourceArn: string;
  /** The dead-letter queue groups its messages: a moved message keeps its group key (or joins group ''). */
  grouped?: boolean;
}

export interface ReceiveParams {
  queueId: number;
  fifo: boolean;
  /** Any positive count: SQS's 1-10 is checked by QueueService; a trigger claims up to 10,000 in one call. */
  maxMessages: number;
  now: number;
  visibleAt: number;
  /** Messages sent before this instant have outlived the retention period and are dropped. */
  expiredBefore: number;
  receiptToken: string;
  deadLetter: DeadLetterTarget | null;
}

/** A FIFO receive made with a ReceiveRequestAttemptId, as recorded for its retries. */
export interface ReceiveAttempt {
  receiptToken: string;
  /** The messages the receive handed out, in the order it returned them. */
  seqs: number[];
  /** The visible_at the receive (or its latest retry) gave them: any other value means they were changed. */
  visibleAt: number;
  createdAt: number;
  /** The attempt's messages that still exist, with their current state. */
  messages: Array<ClaimedMessage & { visibleAt: number; receiptToken: string | null }>;
}

export interface ReceiveOutcome {
  messages: ClaimedMessage[];
  deadLettered: number;
  /** When nothing was returned: the earliest instant a message will become visible, if any. */
  nextVisibleAt: number | null;
}

export type DeleteOutcome = 'deleted' | 'staleReceipt' | 'gone';
export type VisibilityOutcome = 'changed' | 'notInflight' | 'staleReceipt' | 'gone' | 'beyondMaximum';

export interface ReceiptRef {
  seq: number;
  token: string;
}

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
  oldestSentAt: number | null;
}

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MoveTask {
  taskHandle: string;
  sourceQueueId: number;
  sourceArn: string;
  destinationArn: string | null;
  maxPerSecond: number | null;
  status: MoveTaskStatus;
  moved: number;
  toMove: number;
  /** Only messages stored up to this sequence are moved, so the task ends even while sends continue. */
  lastSeq: number;
  startedAt: number;
  failureReason: string | null;
}

export interface MoveDestination {
  queueId: number;
  fifo: boolean;
  /** The destination groups its messages: a moved message keeps its group key (or joins group ''). */
  grouped?: boolean;
}

export interface QueueStore {
  queueCreate(p: {
    name: string;
    fifo: boolean;
    settings: QueueSettings;
    tags: Record<string, string>;
    now: number;
    nameReuseDelayMs: number;
  }): Promise<{ outcome: 'created' | 'exists'; queue: StoredQueue } | { outcome: 'deletedRecently' }>;
  queueGet(p: { name: string }): Promise<StoredQueue | undefined>;
  queueGetById(p: { id: number }): Promise<StoredQueue | undefined>;
  queueList(p: { prefix?: string }): Promise<StoredQueue[]>;
  queueUpdate(p: {
    name: string;
    settings?: QueueSettings;
    tags?: Record<string, string>;
    now: number;
  }): Promise<StoredQueue | undefined>;
  queueDelete(p: { name: string; now: number }): Promise<boolean>;
  queuePurge(p: {
    queueId: number;
    now: number;
    minIntervalMs: number;
  }): Promise<'purged' | 'tooSoon' | 'gone'>;
  queueCounts(p: { queueId: number; now: number; expiredBefore: number }): Promise<QueueCounts>;

  messageSend(p: {
    queueId: number;
    fifo: boolean;
    /** messageGroup scope keys deduplication by group; queue scope by the queue alone. */
    deduplicationByGroup: boolean;
    messages: NewMessage[];
    now: number;
    deduplicationWindowMs: number;
  }): Promise<SendOutcome[] | 'queueGone'>;
  messageReceive(p: ReceiveParams): Promise<ReceiveOutcome>;
  /** `grouped`: the queue groups its messages, and the deletes free their groups' slots (at `now`). */
  messageDelete(p: {
    queueId: number;
    fifo: boolean;
    receipts: ReceiptRef[];
    grouped?: boolean;
    now?: number;
  }): Promise<DeleteOutcome[]>;
  messageChangeVisibility(p: {
    queueId: number;
    fifo: boolean;
    grouped?: boolean;
    now: number;
    changes: Array<ReceiptRef & { visibleAt: number }>;
    /** A message may stay invisible at most this long after its latest receive. */
    maxInvisibleMs: number;
  }): Promise<VisibilityOutcome[]>;
  /** Deletes expired messages and deduplication records; returns when the next one expires. */
  messageExpire(p: {
    queueId: number;
    fifo: boolean;
    expiredBefore: number;
    now: number;
  }): Promise<{ expired: number; oldestSentAt: number | null }>;
  /** Moves up to `limit` visible messages with seq <= lastSeq; a null destination sends each home. */
  messageMove(p: {
    fromQueueId: number;
    fromFifo: boolean;
    lastSeq: number;
    limit: number;
    now: number;
    destination: MoveDestination | null;
    resolveSource: Record<string, MoveDestination>;
  }): Promise<{ moved: number; remaining: number; unresolvedSource?: string | undefined }>;
  messageLastSeq(p: { queueId: number }): Promise<{ lastSeq: number; count: number }>;
  /**
   * Messages in flight (received, not yet visible again, not expired), counted up to `atMost`: the
   * in-flight limit only needs to know whether the count reached it, and the bound caps the work.
   */
  messageInFlightCount(p: {
    queueId: number;
    now: number;
    expiredBefore: number;
    atMost: number;
  }): Promise<number>;
  /**
   * The first `limit` messages of a queue in visibility order, read without changing them (no receive,
   * no count): what an operator browses, a dead-letter queue above all. Expired messages not yet
   * dropped are left out. One index range.
   */
  messagePeek(p: { queueId: number; limit: number; expiredBefore: number }): Promise<PeekedMessage[]>;
  /** The attempt recorded under `attemptId` since `createdAfter`, with its messages as they are now. */
  receiveAttemptGet(p: {
    queueId: number;
    attemptId: string;
    createdAfter: number;
  }): Promise<ReceiveAttempt | undefined>;
  /**
   * Records (or, for a retry, updates) an attempt; forgets the queue's attempts created at or before
   * `forgetBefore`, so the table holds at most the last 5 minutes of attempts.
   */
  receiveAttemptPut(p: {
    queueId: number;
    attemptId: string;
    receiptToken: string;
    seqs: number[];
    visibleAt: number;
    createdAt: number;
    forgetBefore: number;
  }): Promise<void>;

  moveTaskCreate(p: { task: MoveTask }): Promise<'created' | 'alreadyRunning'>;
  moveTaskUpdate(p: {
    taskHandle: string;
    status?: MoveTaskStatus;
    movedIncrement?: number;
    failureReason?: string;
  }): Promise<MoveTask | undefined>;
  moveTaskList(p: { sourceQueueId: number; limit: number }): Promise<MoveTask[]>;
  moveTaskGet(p: { taskHandle: string }): Promise<MoveTask | undefined>;
}
