/**
 * The order rules of a stream trigger, as pure in-memory state (no store, no clock): one shard's records
 * are dealt into `parallelizationFactor` lanes by a hash of their partition key, so one key always lands
 * in one lane, in sequence order. A lane runs one batch at a time, and a failed batch is retried (or
 * bisected) before anything after it, so a key's records are never handled concurrently or out of
 * order, while different lanes run side by side. This is Lambda's "records with the same partition key
 * always go to the same batch processor".
 *
 * The shard's checkpoint is the highest sequence number below every record still held by a lane: all
 * records up to it are done, so a restart resumes after it (records beyond it that some lane had already
 * finished are delivered again: at least once).
 */
import type { DynamoDBRecord } from 'aws-lambda';

export interface BufferedRecord {
  seq: number;
  createdAt: number;
  /** The record as the handler receives it. */
  record: DynamoDBRecord;
  /** About what the record adds to the event's JSON, for the 6 MB cut. */
  bytes: number;
}

export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface WorkUnit {
  records: BufferedRecord[];
  /** Retries already spent on these records (0 for their first invocation). */
  retries: number;
  /** Not to be started before this instant (retry backoff). */
  notBefore: number;
  /** Tumbling windows: the window the records belong to (null without windows). */
  windowStart: number | null;
  /** The window's last invocation, with no records, that lets the function emit its result. */
  final: boolean;
  /** Set when the records are given up on: the unit reports them to onFailure instead of invoking. */
  discard: DiscardCondition | null;
}

export interface LaneSettings {
  batchSize: number;
  /** MaximumBatchingWindowInSeconds, in ms. */
  batchingWindowMs: number;
  /** TumblingWindowInSeconds, in ms; 0 without windows. */
  tumblingWindowMs: number;
  maxBatchBytes: number;
}

export type LaneStep =
  { kind: 'run'; unit: WorkUnit; fromQueue: number } | { kind: 'wait'; until: number } | { kind: 'idle' };

export interface LaneWindow {
  start: number;
  end: number;
  state: unknown;
}

/** A second hash of the key (FNV-1a with a murmur3 finish), independent of the one that chose the shard. */
export function laneOf(pk: Buffer, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < pk.length; i++) hash = Math.imul(hash ^ (pk[i] as number), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % lanes;
}

export function windowStartOf(createdAt: number, windowMs: number): number {
  return createdAt - (createdAt % windowMs);
}

export class Lane {
  private queue: BufferedRecord[] = [];
  private head = 0;
  /** Units to run before anything queued: retries, bisected halves, discards. */
  readonly pending: WorkUnit[] = [];
  running: WorkUnit | null = null;
  window: LaneWindow | null = null;

  enqueue(record: BufferedRecord): void {
    this.queue.push(record);
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** The lowest sequence number the lane still holds, or undefined when it holds none. */
  lowestSeq(): number | undefined {
    let low: number | undefined;
    const consider = (seq: number | undefined) => {
      if (seq !== undefined && (low === undefined || seq < low)) low = seq;
    };
    consider(this.running?.records[0]?.seq);
    for (const unit of this.pending) consider(unit.records[0]?.seq);
    consider(this.queue[this.head]?.seq);
    return low;
  }

  /** What the lane would do now; changes nothing (see `begin`). */
  next(now: number, settings: LaneSettings): LaneStep {
    if (this.running) return { kind: 'idle' };
    const retry = this.pending[0];
    if (retry)
      return retry.notBefore > now
        ? { kind: 'wait', until: retry.notBefore }
        : { kind: 'run', unit: retry, fromQueue: 0 };
    const head = this.queue[this.head];
    const tumbling = settings.tumblingWindowMs;
    let windowStart: number | null = null;
    if (tumbling > 0) {
      if (this.window && (!head || windowStartOf(head.createdAt, tumbling) !== this.window.start)) {
        // The window is over once a later record arrives or its end passes: one final invocation.
        if (!head && now < this.window.end) return { kind: 'wait', until: this.window.end };
        return { kind: 'run', unit: unitOf([], this.window.start, true), fromQueue: 0 };
      }
      if (head) windowStart = windowStartOf(head.createdAt, tumbling);
    }
    if (!head) return { kind: 'idle' };
    const records: BufferedRecord[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length && records.length < settings.batchSize; i++) {
      const record = this.queue[i] as BufferedRecord;
      if (windowStart !== null && windowStartOf(record.createdAt, tumbling) !== windowStart) break;
      if (records.length > 0 && bytes + record.bytes > settings.maxBatchBytes) break;
      records.push(record);
      bytes += record.bytes;
    }
    const full = records.length >= settings.batchSize || this.head + records.length < this.queue.length;
    const windowCloses = head.createdAt + settings.batchingWindowMs;
    if (!full && settings.batchingWindowMs > 0 && now < windowCloses)
      return { kind: 'wait', until: windowCloses };
    return { kind: 'run', unit: unitOf(records, windowStart, false), fromQueue: records.length };
  }

  /** Starts the step `next` returned. */
  begin(step: { unit: WorkUnit; fromQueue: number }, settings: LaneSettings): void {
    if (step.fromQueue > 0) {
      this.head += step.fromQueue;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } else {
      this.pending.shift();
    }
    if (step.unit.windowStart !== null && !this.window) {
      // Opening a window: its state starts empty.
      this.window = {
        start: step.unit.windowStart,
        end: step.unit.windowStart + settings.tumblingWindowMs,
        state: {},
      };
    }
    this.running = step.unit;
  }

  /** The running unit ended; `next` units (retries, halves, discards) run before anything else. */
  finish(next: WorkUnit[]): void {
    this.running = null;
    this.pending.unshift(...next);
  }
}

export function unitOf(records: BufferedRecord[], windowStart: number | null, final: boolean): WorkUnit {
  return { records, retries: 0, notBefore: 0, windowStart, final, discard: null };
}

/** A shard's lanes, and the checkpoint they allow. */
export class ShardLanes {
  readonly lanes: Lane[];

  constructor(count: number) {
    this.lanes = Array.from({ length: count }, () => new Lane());
  }

  get queued(): number {
    let total = 0;
    for (const lane of this.lanes) total += lane.queued;
    return total;
  }

  /** Every record up to the returned sequence number is done; `readUpTo` is the last one read. */
  checkpoint(readUpTo: number): number {
    let low: number | undefined;
    for (const lane of this.lanes) {
      const seq = lane.lowestSeq();
      if (seq !== undefined && (low === undefined || seq < low)) low = seq;
    }
    return low === undefined ? readUpTo : low - 1;
  }
}
