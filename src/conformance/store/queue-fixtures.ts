/**
 * What the queue store suites share: SQS's default settings in the store's form, a fixed clock origin,
 * and helpers that create queues, send, build receive parameters and count notices.
 */
import type { QueueSettings } from '../../store/queue-settings.js';
import type { NewMessage, ReceiveParams, StoredQueue } from '../../store/queue-store.js';
import type { Store } from '../../store/store.js';

export const t0 = 1_700_000_000_000;
export const second = 1000;

/** SQS's defaults, in the store's normalised form. */
export const settingsOf = (overrides: Partial<QueueSettings> = {}): QueueSettings => ({
  VisibilityTimeout: 30,
  DelaySeconds: 0,
  MessageRetentionPeriod: 345_600,
  MaximumMessageSize: 262_144,
  ReceiveMessageWaitTimeSeconds: 0,
  RedrivePolicy: null,
  RedriveAllowPolicy: null,
  FifoQueue: false,
  ContentBasedDeduplication: false,
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
  ...overrides,
});

export async function createQueue(
  store: Store,
  name: string,
  overrides: Partial<QueueSettings> = {},
): Promise<StoredQueue> {
  const fifo = name.endsWith('.fifo');
  const result = await store.queueCreate({
    name,
    fifo,
    settings: settingsOf({ FifoQueue: fifo, ...overrides }),
    tags: {},
    now: t0,
    nameReuseDelayMs: 60 * second,
  });
  if (result.outcome === 'deletedRecently') throw new Error(`${name} was deleted recently`);
  return result.queue;
}

let nextId = 0;
export const message = (body: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  messageId: `m-${++nextId}`,
  body,
  messageAttributes: null,
  groupId: null,
  deduplicationId: null,
  visibleAt: t0,
  ...extra,
});

export async function send(store: Store, queue: StoredQueue, messages: NewMessage[], now = t0) {
  const outcomes = await store.messageSend({
    queueId: queue.id,
    fifo: queue.fifo,
    deduplicationByGroup: queue.settings.DeduplicationScope === 'messageGroup',
    messages,
    now,
    deduplicationWindowMs: 5 * 60 * second,
  });
  if (outcomes === 'queueGone') throw new Error('queue gone');
  return outcomes;
}

export const receiveParams = (
  queue: StoredQueue,
  now: number,
  extra: Partial<ReceiveParams> = {},
): ReceiveParams => ({
  queueId: queue.id,
  fifo: queue.fifo,
  maxMessages: 10,
  now,
  visibleAt: now + 30 * second,
  expiredBefore: now - queue.settings.MessageRetentionPeriod * second,
  receiptToken: `r-${now}-${++nextId}`,
  deadLetter: null,
  ...extra,
});

/** Counts the notices published on `channel` (tests wait for them: a notice may follow the commit). */
export function heard(store: Store, channel: string): { count: () => number; stop: () => void } {
  let count = 0;
  const stop = store.notifier.subscribe(channel, () => count++);
  return { count: () => count, stop };
}
