/**
 * What the console shows live, and when it costs something.
 * - Always, from the engine's events and without a query: the last hour per minute (messages sent,
 *   invocations, errors), the most recent failures with their stack, and each trigger's last error.
 *   Each event costs a few additions; an idle engine emits none.
 * - Only while a console page is open (an SSE stream is connected): every `intervalMs` one snapshot of
 *   the metrics (queue counts, functions, triggers, groups) is read and pushed to every open page, and
 *   the backlog history is sampled from it. The last page closing stops the timer: an idle node with no
 *   console open issues no query on the console's behalf.
 */
import type { FastifyReply } from 'fastify';
import type { Sluice } from '../engine/sluice.js';
import { collectMetrics } from '../api/native/metrics.js';
import { originFields, stackOf } from '../observability/event-log.js';
import type { EngineEvent, EngineEvents } from '../observability/events.js';

const MINUTES = 60;
const MAX_FAILURES = 200;
const BACKLOG_POINTS = 360;

export interface MinutePoint {
  /** Start of the minute (ms since the epoch). */
  t: number;
  sent: number;
  invocations: number;
  errors: number;
}

export interface FailureView {
  at: number;
  function: string;
  requestId: string;
  via: string;
  origin: Record<string, unknown>;
  errorType: string;
  errorMessage: string;
  stack: string;
  durationMs: number;
}

export class ConsoleLive {
  private readonly minutes: MinutePoint[] = [];
  private readonly failures: FailureView[] = [];
  private readonly triggerErrors = new Map<string, { at: number; message: string }>();
  private readonly backlog: Array<{
    t: number;
    visible: number;
    inFlight: number;
    oldestAgeSeconds: number;
  }> = [];
  private readonly clients = new Set<FastifyReply>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private readonly unsubscribe: () => void;
  /** Snapshots read (tests: none while no page is open). */
  snapshots = 0;

  constructor(
    private readonly sluice: Sluice,
    events: EngineEvents,
    private readonly intervalMs = 2000,
  ) {
    this.unsubscribe = events.on((event) => this.record(event));
  }

  history(): { minutes: MinutePoint[]; backlog: ConsoleLive['backlog'] } {
    return { minutes: [...this.minutes], backlog: [...this.backlog] };
  }

  recentFailures(filter: { function?: string; trigger?: string } = {}): FailureView[] {
    return this.failures.filter(
      (f) =>
        (!filter.function || f.function === filter.function) &&
        (!filter.trigger || f.origin.trigger === filter.trigger),
    );
  }

  failure(requestId: string): FailureView | undefined {
    return this.failures.find((f) => f.requestId === requestId);
  }

  lastTriggerError(uuid: string): { at: number; message: string } | undefined {
    return this.triggerErrors.get(uuid);
  }

  get openPages(): number {
    return this.clients.size;
  }

  /** Streams to `reply` until the page closes; the first page starts the snapshots, the last stops them. */
  attach(reply: FastifyReply): void {
    this.clients.add(reply);
    reply.raw.on('close', () => {
      this.clients.delete(reply);
      if (this.clients.size === 0) this.stopSampling();
    });
    this.send(reply, 'history', this.history());
    if (!this.timer) {
      this.timer = setInterval(() => void this.sample(), this.intervalMs);
      this.timer.unref();
    }
    void this.sample();
  }

  close(): void {
    this.unsubscribe();
    this.stopSampling();
    for (const client of this.clients) client.raw.end();
    this.clients.clear();
  }

  private stopSampling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async sample(): Promise<void> {
    if (this.sampling || this.clients.size === 0) return;
    this.sampling = true;
    try {
      const snapshot = await collectMetrics(this.sluice);
      this.snapshots++;
      const now = Date.now();
      const totals = snapshot.queues.reduce(
        (sum, q) => ({
          visible: sum.visible + q.visible,
          inFlight: sum.inFlight + q.inFlight,
          oldestAgeSeconds: Math.max(sum.oldestAgeSeconds, q.oldestAgeSeconds),
        }),
        { visible: 0, inFlight: 0, oldestAgeSeconds: 0 },
      );
      const last = this.backlog.at(-1);
      if (!last || now - last.t >= 10_000) {
        this.backlog.push({ t: now, ...totals });
        if (this.backlog.length > BACKLOG_POINTS) this.backlog.shift();
      }
      for (const client of this.clients)
        this.send(client, 'snapshot', { at: now, ...snapshot, backlog: this.backlog.at(-1) });
    } catch (error) {
      for (const client of this.clients)
        this.send(client, 'problem', { message: error instanceof Error ? error.message : String(error) });
    } finally {
      this.sampling = false;
    }
  }

  private send(reply: FastifyReply, event: string, data: unknown): void {
    if (reply.raw.writableEnded) return;
    reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private minute(at: number): MinutePoint {
    const t = Math.floor(at / 60_000) * 60_000;
    let point = this.minutes.at(-1);
    if (!point || point.t !== t) {
      point = { t, sent: 0, invocations: 0, errors: 0 };
      this.minutes.push(point);
      while (this.minutes.length > MINUTES) this.minutes.shift();
    }
    return point;
  }

  private record(event: EngineEvent): void {
    const now = Date.now();
    if (event.type === 'sent') this.minute(now).sent += event.messages;
    if (event.type === 'item-failure') {
      this.minute(now).errors++;
      const [errorType, ...rest] = event.error.split(': ');
      this.addFailure({
        at: now,
        function: event.function,
        requestId: `${event.batch}#${event.index}#${event.attempt}`,
        via: 'batch',
        origin: {
          via: 'batch',
          batch: event.batch,
          items: [`${event.batch}#${event.index}`],
          attempt: event.attempt,
        },
        errorType: rest.length ? errorType! : 'Error',
        errorMessage: rest.length ? rest.join(': ') : event.error,
        stack: event.stack ?? event.error,
        durationMs: 0,
      });
      return;
    }
    if (event.type !== 'invocation') return;
    const point = this.minute(now);
    point.invocations++;
    if (event.ok || !event.error) return;
    point.errors++;
    const failure: FailureView = {
      at: now,
      function: event.function,
      requestId: event.requestId,
      via: event.origin.via,
      origin: originFields(event.origin),
      errorType: event.error.errorType,
      errorMessage: event.error.errorMessage,
      stack: stackOf(event.error),
      durationMs: Math.round(event.durationMs),
    };
    if ('trigger' in event.origin)
      this.triggerErrors.set(event.origin.trigger, {
        at: now,
        message: `${failure.errorType}: ${failure.errorMessage}`,
      });
    this.addFailure(failure);
  }

  private addFailure(failure: FailureView): void {
    this.failures.unshift(failure);
    if (this.failures.length > MAX_FAILURES) this.failures.pop();
    for (const client of this.clients) this.send(client, 'failure', failure);
  }
}
