/**
 * Queues with SQS's semantics: the public face of the queue feature. Validation and decisions live
 * here and in the modules beside it; the store does the set work in one transaction per call.
 */
import { groupKeyOf } from '../limits/group-key.js';
import { applyGroupKeyRule, isGrouped } from '../limits/grouping.js';
import type { ArnContext } from '../model/arn.js';
import { parseArn, queueArn } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import { queueCatalogChannel, type Unsubscribe } from '../store/notifier.js';
import type { ReceiptRef, StoredQueue } from '../store/queue-store.js';
import type { EngineEvents } from '../observability/events.js';
import type { Store } from '../store/store.js';
import {
  applyQueueAttributes,
  defaultQueueSettings,
  sameSettings,
  settingsToWire,
  validateQueueName,
  MAX_MESSAGE_SIZE_LIMIT,
  type QueueAttributesInput,
} from './attributes.js';
import { entryFailure, validateBatchEntries } from './batch.js';
import { MoveTaskRunner } from './move-tasks.js';
import { decodeReceiptHandle } from './receipt-handle.js';
import { MAX_VISIBILITY_SECONDS, MessageClaims } from './claims.js';
import { QueueReceiver, type InFlightLimits } from './receiver.js';
export type { InFlightLimits } from './receiver.js';
import { integerInRange } from './integer-in-range.js';
import { RetentionSweeper } from './retention.js';
import { formatSequenceNumber, prepareMessage, type PreparedMessage } from './send.js';
import { validateTags } from './tags.js';
import type {
  BatchResult,
  MessageMoveTaskView,
  PeekedMessageView,
  QueueCountsView,
  QueueDescription,
  ReceiveMessageOptions,
  ReceivedMessage,
  SendMessageInput,
  SendMessageResult,
} from './types.js';
import type { Service } from '../model/service.js';

export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
export const PURGE_INTERVAL_MS = 60 * 1000;
export const NAME_REUSE_DELAY_MS = 60 * 1000;
export { MAX_VISIBILITY_SECONDS } from './claims.js';
/** The longest QueueNamePrefix SQS accepts (the length of a queue name). */
export const MAX_QUEUE_NAME_PREFIX = 80;

export { RECEIVE_ATTEMPT_WINDOW_MS } from './receiver.js';
/** SQS's in-flight limits: a receive fails with OverLimit once a queue has this many messages in flight. */
export const DEFAULT_IN_FLIGHT_LIMITS: InFlightLimits = { standard: 120_000, fifo: 20_000 };


export interface QueueServiceOptions {
  store: Store;
  clock: Clock;
  arn: ArnContext;
  onBackgroundError?: (error: unknown) => void;
  /** Overrides SQS's in-flight limits (120,000 standard, 20,000 FIFO), e.g. a small limit in a test. */
  inFlightLimits?: Partial<InFlightLimits>;
  /** Hears moves to a dead-letter queue (the engine's event channel). */
  events?: EngineEvents | undefined;
}

export class QueueService implements Service {
  private readonly store: Store;
  private readonly clock: Clock;
  /** The one claim path (claims.ts), which triggers use too. */
  readonly claims: MessageClaims;
  private readonly arnContext: ArnContext;
  private readonly cache = new Map<string, StoredQueue>();
  private readonly events: EngineEvents | undefined;
  private readonly unsubscribeCatalog: Unsubscribe;
  private readonly retention: RetentionSweeper;
  private readonly moves: MoveTaskRunner;
  private readonly receiver: QueueReceiver;
  /** Refuses a change to a queue someone else manages (the engine sets it: `sluice apply`'s queues). */
  private guard: ((name: string) => Promise<void>) | undefined;

  constructor(options: QueueServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.arnContext = options.arn;
    this.events = options.events;
    this.claims = new MessageClaims({
      store: this.store,
      clock: this.clock,
      lookup: (name) => this.lookup(name),
      arnOf: (name) => this.arnOf(name),
      events: options.events,
    });
    const limits = { ...DEFAULT_IN_FLIGHT_LIMITS, ...options.inFlightLimits };
    this.receiver = new QueueReceiver({
      store: this.store,
      clock: this.clock,
      claims: this.claims,
      senderId: this.arnContext.accountId,
      inFlightLimits: {
        standard: integerInRange('inFlightLimits.standard', limits.standard, 1, Number.MAX_SAFE_INTEGER, 'messages'),
        fifo: integerInRange('inFlightLimits.fifo', limits.fifo, 1, Number.MAX_SAFE_INTEGER, 'messages'),
      },
    });
    const onError =
      options.onBackgroundError ?? ((error) => console.error('[sluice] queue background task failed', error));
    // Another caller (or node) changed the catalog: forget cached definitions, they are re-read on use.
    this.unsubscribeCatalog = this.store.notifier.subscribe(queueCatalogChannel, () => this.cache.clear());
    this.retention = new RetentionSweeper(
      this.store,
      this.clock,
      (id) => this.store.queueGetById({ id }),
      onError,
    );
    // A redriven message keeps its sent time, so a destination may now hold a message that expires
    // sooner than any it had: sweep it, which re-arms its retention timer for the oldest message.
    this.moves = new MoveTaskRunner(
      this.store,
      this.clock,
      () => this.queuesByArn(),
      onError,
      (queueId) => this.retention.sweep(queueId).then(() => undefined),
    );
  }

  /** Sweeps expired messages of every queue once and arms the retention timers. */
  async start(): Promise<void> {
    for (const queue of await this.store.queueList({})) await this.retention.sweep(queue.id);
  }

  /** Stops following the catalog and the retention and move-task timers. */
  async stop(): Promise<void> {
    this.unsubscribeCatalog();
    this.retention.stop();
    this.moves.stop();
  }

  arnOf(name: string): string {
    return queueArn(this.arnContext, name);
  }

  // ---------------------------------------------------------------- queue lifecycle

  /** Sets the check that changes of attributes or tags, and deletes, pass first (catalog/service.ts `refuseAppliedQueue`). */
  guardChanges(guard: (name: string) => Promise<void>): void {
    this.guard = guard;
  }

  async create(
    name: string,
    attributes: QueueAttributesInput = {},
    options: { tags?: Record<string, string> } = {},
  ): Promise<QueueDescription> {
    const { fifo } = validateQueueName(name);
    const settings = applyQueueAttributes(defaultQueueSettings(fifo), attributes, true);
    const tags = validateTags(options.tags ?? {}, 'tags');
    if (settings.RedrivePolicy)
      await this.checkRedrivePolicy(name, fifo, settings.RedrivePolicy.deadLetterTargetArn);
    const result = await this.store.queueCreate({
      name,
      fifo,
      settings,
      tags,
      now: this.clock.now(),
      nameReuseDelayMs: NAME_REUSE_DELAY_MS,
    });
    if (result.outcome === 'deletedRecently') {
      throw new SluiceError(
        'QueueDeletedRecently',
        `QueueName: '${name}' was deleted less than 60 seconds ago; wait before creating it again`,
        {
          field: 'QueueName',
        },
      );
    }
    if (result.outcome === 'exists' && !sameSettings(result.queue.settings, settings)) {
      throw new SluiceError(
        'QueueNameExists',
        `QueueName: '${name}' already exists with different attributes`,
        {
          field: 'QueueName',
        },
      );
    }
    this.cache.set(name, result.queue);
    return this.describe(result.queue);
  }

  async get(name: string): Promise<QueueDescription> {
    return this.describe(await this.require(name));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.lookup(name)) !== undefined;
  }

  async list(prefix?: string): Promise<string[]> {
    // SQS caps the prefix at a queue name's 80 characters; a longer one could match nothing, and an
    // unbounded one reaches the store's pattern matching (SQLite refuses LIKE patterns over 50,000 bytes).
    if (prefix !== undefined && prefix.length > MAX_QUEUE_NAME_PREFIX) {
      throw new SluiceError(
        'InvalidParameterValue',
        `QueueNamePrefix: is ${prefix.length} characters long; at most ${MAX_QUEUE_NAME_PREFIX} are allowed`,
        { field: 'QueueNamePrefix' },
      );
    }
    return (await this.store.queueList({ prefix: prefix ?? '' })).map((queue) => queue.name);
  }

  async delete(name: string): Promise<void> {
    const queue = await this.require(name);
    await this.guard?.(name);
    await this.store.queueDelete({ name, now: this.clock.now() });
    this.cache.delete(name);
    this.retention.forget(queue.id);
    this.receiver.forget(queue.id);
  }

  async purge(name: string): Promise<void> {
    const queue = await this.require(name);
    const outcome = await this.store.queuePurge({
      queueId: queue.id,
      now: this.clock.now(),
      minIntervalMs: PURGE_INTERVAL_MS,
    });
    if (outcome === 'gone') throw this.missing(name);
    if (outcome === 'tooSoon') {
      throw new SluiceError(
        'PurgeQueueInProgress',
        `QueueName: '${name}' was purged less than 60 seconds ago; only one purge per 60 seconds is allowed`,
        {
          field: 'QueueName',
        },
      );
    }
  }

  /** Attributes in SQS's wire form, including the approximate counts and timestamps. */
  async getAttributes(name: string, names: string[] = ['All']): Promise<Record<string, string>> {
    const queue = await this.require(name);
    const counts = await this.counts(name);
    const all: Record<string, string> = {
      ...settingsToWire(queue.settings),
      QueueArn: this.arnOf(queue.name),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
    };
    if (names.includes('All')) return all;
    const picked: Record<string, string> = {};
    for (const attribute of names) {
      if (!Object.hasOwn(all, attribute) && !knownReadOnlyAttribute(attribute)) {
        throw new SluiceError(
          'InvalidAttributeName',
          `AttributeNames: '${attribute}' is not a queue attribute`,
          {
            field: 'AttributeNames',
          },
        );
      }
      const value = all[attribute];
      if (value !== undefined) picked[attribute] = value;
    }
    return picked;
  }

  async setAttributes(name: string, attributes: QueueAttributesInput): Promise<void> {
    const queue = await this.require(name);
    await this.guard?.(name);
    const settings = applyQueueAttributes(queue.settings, attributes, false);
    if (
      settings.RedrivePolicy &&
      settings.RedrivePolicy.deadLetterTargetArn !== queue.settings.RedrivePolicy?.deadLetterTargetArn
    ) {
      await this.checkRedrivePolicy(name, queue.fifo, settings.RedrivePolicy.deadLetterTargetArn);
    }
    const updated = await this.store.queueUpdate({ name, settings, now: this.clock.now() });
    if (!updated) throw this.missing(name);
    this.cache.set(name, updated);
    if (settings.MessageRetentionPeriod !== queue.settings.MessageRetentionPeriod)
      await this.retention.sweep(queue.id);
    // A new grouping rule keys what is already queued (limits/grouping.ts).
    if (settings.SluiceGroupKey !== queue.settings.SluiceGroupKey)
      await applyGroupKeyRule(this.store, updated, this.clock.now());
  }

  /**
   * The first `limit` (1-100, default 10) messages of a queue in visibility order, read without
   * receiving them: no receive count grows, no visibility changes (an operator browsing a dead-letter
   * queue). Sluice's extension; SQS has no such call.
   */
  async peek(name: string, options: { limit?: number } = {}): Promise<PeekedMessageView[]> {
    const limit = options.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new SluiceError('InvalidParameterValue', `limit: ${JSON.stringify(limit)} is invalid; must be an integer from 1 to 100`, { field: 'limit' });
    const queue = await this.require(name);
    const now = this.clock.now();
    const rows = await this.store.messagePeek({ queueId: queue.id, limit, expiredBefore: now - queue.settings.MessageRetentionPeriod * 1000 });
    return rows.map((row) => ({
      messageId: row.messageId,
      body: row.body,
      messageAttributes: row.messageAttributes ? (JSON.parse(row.messageAttributes) as PeekedMessageView['messageAttributes']) : {},
      ...(row.groupId !== null ? { messageGroupId: row.groupId } : {}),
      sentTimestamp: row.sentAt,
      receiveCount: row.receiveCount,
      state: row.visibleAt <= now ? 'visible' : row.receiveCount > 0 ? 'inFlight' : 'delayed',
      ...(row.deadLetterSource !== null ? { deadLetterSourceArn: row.deadLetterSource } : {}),
    }));
  }

  async counts(name: string): Promise<QueueCountsView> {
    const queue = await this.require(name);
    const now = this.clock.now();
    const counts = await this.store.queueCounts({
      queueId: queue.id,
      now,
      expiredBefore: now - queue.settings.MessageRetentionPeriod * 1000,
    });
    return {
      visible: counts.visible,
      inFlight: counts.inFlight,
      delayed: counts.delayed,
      oldestAgeSeconds:
        counts.oldestSentAt === null ? 0 : Math.max(0, Math.floor((now - counts.oldestSentAt) / 1000)),
    };
  }

  async listDeadLetterSourceQueues(name: string): Promise<string[]> {
    const dlq = await this.require(name);
    const arn = this.arnOf(dlq.name);
    return (await this.store.queueList({}))
      .filter((queue) => queue.settings.RedrivePolicy?.deadLetterTargetArn === arn)
      .map((queue) => queue.name);
  }

  async tag(name: string, tags: Record<string, string>): Promise<void> {
    const queue = await this.require(name);
    await this.guard?.(name);
    const merged = validateTags({ ...queue.tags, ...validateTags(tags, 'Tags') }, 'Tags');
    const updated = await this.store.queueUpdate({ name, tags: merged, now: this.clock.now() });
    if (updated) this.cache.set(name, updated);
  }

  async untag(name: string, keys: string[]): Promise<void> {
    const queue = await this.require(name);
    await this.guard?.(name);
    const tags = { ...queue.tags };
    for (const key of keys) delete tags[key];
    const updated = await this.store.queueUpdate({ name, tags, now: this.clock.now() });
    if (updated) this.cache.set(name, updated);
  }

  async listTags(name: string): Promise<Record<string, string>> {
    return { ...(await this.require(name)).tags };
  }

  // ---------------------------------------------------------------- messages

  async send(name: string, input: SendMessageInput): Promise<SendMessageResult> {
    const queue = await this.require(name);
    const now = this.clock.now();
    const prepared = prepareMessage(queue, input, now);
    const [outcome] = await this.storeSend(queue, [prepared], now);
    return this.sendResult(queue, prepared, outcome!);
  }

  async sendBatch(
    name: string,
    entries: Array<SendMessageInput & { id: string }>,
  ): Promise<BatchResult<SendMessageResult>> {
    validateBatchEntries(entries, 'Entries');
    const queue = await this.require(name);
    const now = this.clock.now();
    const result: BatchResult<SendMessageResult> = { successful: [], failed: [] };
    const accepted: Array<{ id: string; prepared: PreparedMessage }> = [];
    let totalSize = 0;
    entries.forEach((entry, index) => {
      try {
        const prepared = prepareMessage(queue, entry, now, `Entries[${index}].`);
        totalSize += prepared.size;
        accepted.push({ id: entry.id, prepared });
      } catch (error) {
        result.failed.push(entryFailure(entry.id, error));
      }
    });
    if (totalSize > MAX_MESSAGE_SIZE_LIMIT) {
      throw new SluiceError(
        'BatchRequestTooLong',
        `Entries: the batch is ${totalSize} bytes; all entries together may hold at most ${MAX_MESSAGE_SIZE_LIMIT} bytes`,
        {
          field: 'Entries',
        },
      );
    }
    if (accepted.length > 0) {
      const outcomes = await this.storeSend(
        queue,
        accepted.map((a) => a.prepared),
        now,
      );
      accepted.forEach(({ id, prepared }, index) => {
        result.successful.push({ id, ...this.sendResult(queue, prepared, outcomes[index]!) });
      });
    }
    return result;
  }

  async receive(name: string, options: ReceiveMessageOptions = {}): Promise<ReceivedMessage[]> {
    return this.receiver.receive(await this.require(name), options);
  }

  /** Deletes a received message. A stale handle (the message was received again since) succeeds without deleting, as in SQS. */
  async deleteMessage(name: string, receiptHandle: string): Promise<void> {
    const queue = await this.require(name);
    const receipt = decodeReceiptHandle(receiptHandle, queue.id);
    await this.claims.acknowledge(queue, [receipt]);
  }

  async deleteMessageBatch(
    name: string,
    entries: Array<{ id: string; receiptHandle: string }>,
  ): Promise<BatchResult<Record<never, never>>> {
    validateBatchEntries(entries, 'Entries');
    const queue = await this.require(name);
    const result: BatchResult<Record<never, never>> = { successful: [], failed: [] };
    const valid: Array<{ id: string; receipt: ReceiptRef }> = [];
    entries.forEach((entry, index) => {
      try {
        valid.push({
          id: entry.id,
          receipt: decodeReceiptHandle(entry.receiptHandle, queue.id, `Entries[${index}].ReceiptHandle`),
        });
      } catch (error) {
        result.failed.push(entryFailure(entry.id, error));
      }
    });
    if (valid.length > 0) {
      await this.claims.acknowledge(
        queue,
        valid.map((v) => v.receipt),
      );
      for (const { id } of valid) result.successful.push({ id });
    }
    return result;
  }

  async changeMessageVisibility(
    name: string,
    receiptHandle: string,
    visibilityTimeout: number,
  ): Promise<void> {
    const result = await this.changeMessageVisibilityBatch(
      name,
      [{ id: 'single', receiptHandle, visibilityTimeout }],
      true,
    );
    const failure = result.failed[0];
    if (failure)
      throw new SluiceError(failure.code as SluiceError['code'], failure.message.replace('Entries[0].', ''));
  }

  async changeMessageVisibilityBatch(
    name: string,
    entries: Array<{ id: string; receiptHandle: string; visibilityTimeout: number }>,
    single = false,
  ): Promise<BatchResult<Record<never, never>>> {
    if (!single) validateBatchEntries(entries, 'Entries');
    const queue = await this.require(name);
    const now = this.clock.now();
    const result: BatchResult<Record<never, never>> = { successful: [], failed: [] };
    const valid: Array<{ id: string; index: number; change: ReceiptRef & { visibleAt: number } }> = [];
    entries.forEach((entry, index) => {
      const at = single ? '' : `Entries[${index}].`;
      try {
        const receipt = decodeReceiptHandle(entry.receiptHandle, queue.id, `${at}ReceiptHandle`);
        const seconds = integerInRange(
          `${at}VisibilityTimeout`,
          entry.visibilityTimeout,
          0,
          MAX_VISIBILITY_SECONDS,
          'seconds',
        );
        valid.push({ id: entry.id, index, change: { ...receipt, visibleAt: now + seconds * 1000 } });
      } catch (error) {
        result.failed.push(entryFailure(entry.id, error));
      }
    });
    if (valid.length === 0) return result;
    const outcomes = await this.claims.changeVisibility(
      queue,
      valid.map((v) => v.change),
    );
    valid.forEach(({ id, index }, i) => {
      const at = single ? '' : `Entries[${index}].`;
      switch (outcomes[i]) {
        case 'changed':
          result.successful.push({ id });
          break;
        case 'notInflight':
          result.failed.push({
            id,
            code: 'MessageNotInflight',
            message: `${at}ReceiptHandle: the message is not in flight`,
            senderFault: true,
          });
          break;
        case 'beyondMaximum':
          result.failed.push({
            id,
            code: 'InvalidParameterValue',
            message: `${at}VisibilityTimeout: a message may stay invisible at most ${MAX_VISIBILITY_SECONDS} seconds after it was received`,
            senderFault: true,
          });
          break;
        case 'gone':
          result.failed.push({
            id,
            code: 'InvalidParameterValue',
            message: `${at}ReceiptHandle: the message does not exist or is not available for a visibility change`,
            senderFault: true,
          });
          break;
        default:
          result.failed.push({
            id,
            code: 'ReceiptHandleIsInvalid',
            message: `${at}ReceiptHandle: the message was received again since this handle was issued`,
            senderFault: true,
          });
      }
    });
    return result;
  }

  // ---------------------------------------------------------------- redrive

  async startMessageMoveTask(input: {
    sourceArn: string;
    destinationArn?: string;
    maxNumberOfMessagesPerSecond?: number;
  }): Promise<{ taskHandle: string }> {
    const source = await this.requireArn(input.sourceArn, 'SourceArn');
    const sources = await this.listDeadLetterSourceQueues(source.name);
    if (sources.length === 0) {
      throw new SluiceError(
        'InvalidParameterValue',
        `SourceArn: ${input.sourceArn} is not the dead-letter queue of any queue`,
        {
          field: 'SourceArn',
        },
      );
    }
    const destination = input.destinationArn
      ? await this.requireArn(input.destinationArn, 'DestinationArn')
      : null;
    if (destination && destination.id === source.id) {
      throw new SluiceError('InvalidParameterValue', 'DestinationArn: must differ from SourceArn', {
        field: 'DestinationArn',
      });
    }
    const rate =
      input.maxNumberOfMessagesPerSecond === undefined
        ? null
        : integerInRange(
            'MaxNumberOfMessagesPerSecond',
            input.maxNumberOfMessagesPerSecond,
            1,
            500,
            'messages per second',
          );
    const task = await this.moves.start({
      source,
      sourceArn: this.arnOf(source.name),
      destination,
      destinationArn: destination ? this.arnOf(destination.name) : null,
      maxPerSecond: rate,
    });
    if (task === 'alreadyRunning') {
      throw new SluiceError(
        'UnsupportedOperation',
        `SourceArn: a message move task is already running for ${input.sourceArn}`,
        {
          field: 'SourceArn',
        },
      );
    }
    return { taskHandle: task.taskHandle };
  }

  async listMessageMoveTasks(input: {
    sourceArn: string;
    maxResults?: number;
  }): Promise<MessageMoveTaskView[]> {
    const source = await this.requireArn(input.sourceArn, 'SourceArn');
    const limit = integerInRange('MaxResults', input.maxResults ?? 1, 1, 10, 'tasks');
    const tasks = await this.store.moveTaskList({ sourceQueueId: source.id, limit });
    return tasks.map((task) => ({
      taskHandle: task.taskHandle,
      status: task.status,
      sourceArn: task.sourceArn,
      ...(task.destinationArn ? { destinationArn: task.destinationArn } : {}),
      ...(task.maxPerSecond !== null ? { maxNumberOfMessagesPerSecond: task.maxPerSecond } : {}),
      approximateNumberOfMessagesMoved: task.moved,
      approximateNumberOfMessagesToMove: task.toMove,
      ...(task.failureReason ? { failureReason: task.failureReason } : {}),
      startedTimestamp: task.startedAt,
    }));
  }

  async cancelMessageMoveTask(taskHandle: string): Promise<{ approximateNumberOfMessagesMoved: number }> {
    const task = typeof taskHandle === 'string' ? await this.store.moveTaskGet({ taskHandle }) : undefined;
    if (!task)
      throw new SluiceError('ResourceNotFoundException', 'TaskHandle: no such message move task', {
        field: 'TaskHandle',
      });
    if (task.status !== 'RUNNING' || !(await this.moves.cancel(taskHandle))) {
      throw new SluiceError(
        'UnsupportedOperation',
        `TaskHandle: the task is ${task.status}, only a RUNNING task can be cancelled`,
        {
          field: 'TaskHandle',
        },
      );
    }
    const after = await this.store.moveTaskGet({ taskHandle });
    return { approximateNumberOfMessagesMoved: after?.moved ?? task.moved };
  }

  // ---------------------------------------------------------------- internals

  /** The stored definition of a queue, for features built on queues (triggers read it). */
  async definition(name: string): Promise<StoredQueue> {
    return this.require(name);
  }

  /** The definition `definition` would give without reading the store, if it is cached (a poller's every round). */
  cachedDefinition(name: string): StoredQueue | undefined {
    return this.cache.get(name);
  }

  private async storeSend(queue: StoredQueue, prepared: PreparedMessage[], now: number) {
    const outcomes = await this.store.messageSend({
      queueId: queue.id,
      fifo: queue.fifo,
      deduplicationByGroup: queue.settings.DeduplicationScope === 'messageGroup',
      messages: this.withGroupKeys(queue, prepared),
      now,
      deduplicationWindowMs: DEDUPLICATION_WINDOW_MS,
    });
    if (outcomes === 'queueGone') {
      this.cache.delete(queue.name);
      throw this.missing(queue.name);
    }
    if (this.events?.active) this.events.emit({ type: 'sent', queue: queue.name, messages: prepared.length, at: now });
    this.retention.noteSend(queue, now);
    return outcomes;
  }

  private sendResult(
    queue: StoredQueue,
    prepared: PreparedMessage,
    outcome: { messageId: string; seq: number },
  ): SendMessageResult {
    const result: SendMessageResult = {
      messageId: outcome.messageId,
      md5OfMessageBody: prepared.md5OfMessageBody,
    };
    if (prepared.md5OfMessageAttributes) result.md5OfMessageAttributes = prepared.md5OfMessageAttributes;
    if (queue.fifo) result.sequenceNumber = formatSequenceNumber(outcome.seq);
    return result;
  }

  /** On a grouped queue, each message carries the key its rule gives (limits/group-key.ts). */
  private withGroupKeys(queue: StoredQueue, prepared: PreparedMessage[]) {
    const rule = queue.settings.SluiceGroupKey;
    if (!isGrouped(queue) || rule === undefined) return prepared.map((p) => p.message);
    return prepared.map((p) => ({ ...p.message, groupKey: groupKeyOf(rule, p.message) }));
  }

  private async checkRedrivePolicy(sourceName: string, sourceFifo: boolean, dlqArn: string): Promise<void> {
    const field = 'Attributes.RedrivePolicy.deadLetterTargetArn';
    const parsed = parseArn(dlqArn);
    const dlq = parsed?.service === 'sqs' ? await this.lookup(parsed.resource) : undefined;
    if (!dlq)
      throw new SluiceError(
        'InvalidParameterValue',
        `${field}: the dead-letter queue ${dlqArn} does not exist`,
        { field },
      );
    if (dlq.name === sourceName)
      throw new SluiceError(
        'InvalidParameterValue',
        `${field}: a queue cannot be its own dead-letter queue`,
        { field },
      );
    if (dlq.fifo !== sourceFifo) {
      throw new SluiceError(
        'InvalidParameterValue',
        `${field}: the dead-letter queue of a ${sourceFifo ? 'FIFO' : 'standard'} queue must also be ${sourceFifo ? 'FIFO' : 'standard'}`,
        {
          field,
        },
      );
    }
    const allow = dlq.settings.RedriveAllowPolicy;
    const sourceArn = this.arnOf(sourceName);
    if (
      allow?.redrivePermission === 'denyAll' ||
      (allow?.redrivePermission === 'byQueue' && !allow.sourceQueueArns?.includes(sourceArn))
    ) {
      throw new SluiceError(
        'InvalidParameterValue',
        `${field}: the RedriveAllowPolicy of ${dlq.name} does not allow ${sourceName} to use it`,
        {
          field,
        },
      );
    }
  }

  private async queuesByArn(): Promise<Map<string, StoredQueue>> {
    const queues = await this.store.queueList({});
    return new Map(queues.map((queue) => [this.arnOf(queue.name), queue]));
  }

  private describe(queue: StoredQueue): QueueDescription {
    return {
      name: queue.name,
      arn: this.arnOf(queue.name),
      fifo: queue.fifo,
      createdAt: queue.createdAt,
      modifiedAt: queue.modifiedAt,
    };
  }

  private async lookup(name: string): Promise<StoredQueue | undefined> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    if (typeof name !== 'string') return undefined;
    const queue = await this.store.queueGet({ name });
    if (queue) this.cache.set(name, queue);
    return queue;
  }

  private async require(name: string): Promise<StoredQueue> {
    const queue = await this.lookup(name);
    if (!queue) throw this.missing(name);
    return queue;
  }

  private async requireArn(arn: unknown, field: string): Promise<StoredQueue> {
    const parsed = typeof arn === 'string' ? parseArn(arn) : undefined;
    if (!parsed || parsed.service !== 'sqs') {
      throw new SluiceError('InvalidParameterValue', `${field}: ${JSON.stringify(arn)} is not a queue ARN`, {
        field,
      });
    }
    const queue = await this.lookup(parsed.resource);
    if (!queue)
      throw new SluiceError('ResourceNotFoundException', `${field}: the queue ${arn} does not exist`, {
        field,
      });
    return queue;
  }

  private missing(name: string): SluiceError {
    return new SluiceError('QueueDoesNotExist', `QueueName: the queue '${name}' does not exist`, {
      field: 'QueueName',
    });
  }
}

function knownReadOnlyAttribute(name: string): boolean {
  return [
    'RedrivePolicy',
    'RedriveAllowPolicy',
    'FifoQueue',
    'ContentBasedDeduplication',
    'DeduplicationScope',
    'FifoThroughputLimit',
    'SluiceGroupKey',
  ].includes(name);
}
