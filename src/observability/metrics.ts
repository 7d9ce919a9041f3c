/**
 * Prometheus series fed by the engine's events, kept for the life of the node: histograms of handler
 * duration and of send → start latency, and a counter for every outcome (invocations by result,
 * throttles, retries, moves to a dead-letter queue, group-limit refusals, lease changes). Counting is
 * done as events happen; nothing is sampled or queried in the background. The gauges of backlog and
 * concurrency are read at scrape time (api/native/metrics.ts) and appended to this text.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { splitQualifier } from '../functions/qualifier.js';
import type { EngineEvent, EngineEvents } from './events.js';

/**
 * A function's labels: its name, and `version` ($LATEST, a version number or an alias's name), so that
 * a version (run as `name:N`) is a series of its function, not a function of its own.
 */
function functionLabels(name: string): { function: string; version: string } {
  const { function: base, version } = splitQualifier(name);
  return { function: base, version };
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

export class EngineMetrics {
  readonly registry = new Registry();
  private readonly duration = new Histogram({
    name: 'sluice_handler_duration_seconds',
    help: 'Time a handler took, by function, who invoked it (via) and outcome.',
    labelNames: ['function', 'version', 'via', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'sluice_send_to_start_seconds',
    help: 'Time a message waited from its send to the start of the invocation that received it (queue triggers).',
    labelNames: ['queue', 'function', 'version'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly invocations = this.counter(
    'sluice_invocations_total',
    'Handler executions by function, version, via and outcome (success, error, timeout).',
    ['function', 'version', 'via', 'outcome'],
  );
  private readonly throttles = this.counter(
    'sluice_throttles_total',
    'Invocations refused or deferred by a concurrency limit.',
    ['function', 'version', 'via'],
  );
  private readonly retries = this.counter(
    'sluice_retries_total',
    'Records handed back for another attempt (or given up) after a failed invocation.',
    ['function', 'version', 'via'],
  );
  private readonly sent = this.counter(
    'sluice_messages_sent_total',
    'Messages accepted by a send, by queue.',
    ['queue'],
  );
  private readonly itemFailures = this.counter(
    'sluice_batch_item_failures_total',
    'Batch items a processor failed alone (processBatchItems), by function.',
    ['function', 'version'],
  );
  private readonly deadLettered = this.counter(
    'sluice_dead_lettered_messages_total',
    'Messages moved to a dead-letter queue.',
    ['queue', 'dead_letter_queue'],
  );
  private readonly groupThrottles = this.counter(
    'sluice_group_throttles_total',
    "Claims refused by a group's limit, by queue and reason (per group: sluice_group_throttled_claims_total).",
    ['queue', 'reason'],
  );
  private readonly leases = this.counter(
    'sluice_lease_changes_total',
    'Leases this node took, gave up or lost.',
    ['group', 'change'],
  );
  private readonly unsubscribe: () => void;

  constructor(events: EngineEvents) {
    this.unsubscribe = events.on((event) => this.record(event));
  }

  close(): void {
    this.unsubscribe();
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private record(event: EngineEvent): void {
    switch (event.type) {
      case 'invocation': {
        const outcome = event.ok ? 'success' : event.timedOut ? 'timeout' : 'error';
        const labels = { ...functionLabels(event.function), via: event.origin.via, outcome };
        this.invocations.inc(labels);
        this.duration.observe(labels, event.durationMs / 1000);
        if (event.waitedMs && event.origin.via === 'queue-trigger') {
          const queueLabels = { queue: event.origin.queue, ...functionLabels(event.function) };
          for (const waited of event.waitedMs) this.latency.observe(queueLabels, waited / 1000);
        }
        return;
      }
      case 'throttle':
        this.throttles.inc({ ...functionLabels(event.function), via: event.via });
        return;
      case 'retry':
        this.retries.inc({ ...functionLabels(event.function), via: event.origin.via }, event.records);
        return;
      case 'item-failure':
        this.itemFailures.inc(functionLabels(event.function));
        return;
      case 'sent':
        this.sent.inc({ queue: event.queue }, event.messages);
        return;
      case 'dead-letter':
        this.deadLettered.inc(
          { queue: event.queue, dead_letter_queue: event.deadLetterQueue },
          event.messages,
        );
        return;
      case 'group-throttle':
        this.groupThrottles.inc({ queue: event.queue, reason: event.reason });
        return;
      case 'lease':
        this.leases.inc({ group: event.group, change: event.change });
        return;
      default:
        return;
    }
  }
}
