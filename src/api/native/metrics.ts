/**
 * /v1/metrics: a snapshot of every queue's backlog, every function's invocations, every trigger's
 * batches and the recent activity of grouped queues' busiest groups (bounded: see limits/group-activity.ts), as JSON or (`?format=prometheus`) in Prometheus's text format for scraping with a bearer token.
 * GET /metrics (outside /v1, registered by the server) serves the same Prometheus text.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import type { Sluice } from '../../engine/sluice.js';
import type { EngineMetrics } from '../../observability/metrics.js';
import { LATEST } from '../../functions/qualifier.js';
import { readQuery, type NativeContext, type NativeRouteModule } from './route-module.js';
import type { metricsResponse } from './schemas/functions.js';

type MetricsSnapshot = z.infer<typeof metricsResponse>;

export async function collectMetrics(sluice: Sluice): Promise<MetricsSnapshot> {
  const queues = await Promise.all((await sluice.queues.list()).map(async (name) => ({ name, ...(await sluice.queues.counts(name)) })));
  // A function's own figures are its $LATEST's; each version or alias it has (run as `name:N` or `name:alias`) is nested with its own.
  const functions = sluice.functions.list().map((fn) => {
    const versions = [...(fn.versions ?? []), ...(fn.aliases ?? [])].map((qualifier) => ({ version: qualifier, ...sluice.functions.metrics(`${fn.name}:${qualifier}`) }));
    return { name: fn.name, ...sluice.functions.metrics(fn.name), ...(versions.length > 0 ? { versions } : {}) };
  });
  const triggers = sluice.triggers.list().map((trigger) => ({
    uuid: trigger.uuid,
    queue: trigger.queue,
    functionName: trigger.functionName,
    state: trigger.state,
    ...sluice.triggers.metrics(trigger.uuid),
  }));
  return { queues, functions, triggers, groups: sluice.groupLimits.activity() };
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]) {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}
function counter(registry: Registry, name: string, help: string, labelNames: string[]) {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A fresh registry per scrape: the snapshot is the source of truth, so counters are set from it. */
export async function toPrometheus(snapshot: MetricsSnapshot): Promise<{ contentType: string; text: string }> {
  const registry = new Registry();
  const messages = gauge(registry, 'sluice_queue_messages', 'Messages in a queue by state.', ['queue', 'state']);
  const oldest = gauge(registry, 'sluice_queue_oldest_message_age_seconds', 'Age of the oldest message.', ['queue']);
  for (const queue of snapshot.queues) {
    messages.set({ queue: queue.name, state: 'visible' }, queue.visible);
    messages.set({ queue: queue.name, state: 'in_flight' }, queue.inFlight);
    messages.set({ queue: queue.name, state: 'delayed' }, queue.delayed);
    oldest.set({ queue: queue.name }, queue.oldestAgeSeconds);
  }
  // `version`: $LATEST, a version number, or an alias's name (Lambda's qualifier), so a function's versions stay one function.
  const fnLabels = ['function', 'version'];
  const invocations = counter(registry, 'sluice_function_invocations_total', 'Executions of a function.', fnLabels);
  const errors = counter(registry, 'sluice_function_errors_total', 'Executions that failed.', fnLabels);
  const timeouts = counter(registry, 'sluice_function_timeouts_total', 'Executions that timed out.', fnLabels);
  const throttles = counter(registry, 'sluice_function_throttles_total', 'Invocations refused by a concurrency limit.', fnLabels);
  const concurrent = gauge(registry, 'sluice_function_concurrent_executions', 'Executions under way.', fnLabels);
  const duration = gauge(registry, 'sluice_function_duration_milliseconds', 'Execution time over recent executions.', ['function', 'version', 'quantile']);
  const qualified = snapshot.functions.flatMap(({ versions, ...fn }) => [
    { ...fn, version: LATEST },
    ...(versions ?? []).map(({ version, ...metrics }) => ({ ...metrics, name: fn.name, version })),
  ]);
  for (const fn of qualified) {
    const labels = { function: fn.name, version: fn.version };
    invocations.inc(labels, fn.invocations);
    errors.inc(labels, fn.errors);
    timeouts.inc(labels, fn.timeouts);
    throttles.inc(labels, fn.throttles);
    concurrent.set(labels, fn.concurrentExecutions);
    duration.set({ ...labels, quantile: '0.5' }, fn.durationP50Ms);
    duration.set({ ...labels, quantile: '0.99' }, fn.durationP99Ms);
  }
  const trLabels = ['trigger', 'queue', 'function'];
  const batches = counter(registry, 'sluice_trigger_batches_total', 'Batches handed to the function.', trLabels);
  const records = counter(registry, 'sluice_trigger_records_total', 'Records handed to the function.', trLabels);
  const failed = counter(registry, 'sluice_trigger_failed_records_total', 'Records returned to the queue after a failure.', trLabels);
  const lag = gauge(registry, 'sluice_trigger_lag_milliseconds', 'Age of the oldest record of the latest batch.', trLabels);
  const active = gauge(registry, 'sluice_trigger_active_batches', 'Batches under way.', trLabels);
  for (const trigger of snapshot.triggers) {
    const labels = { trigger: trigger.uuid, queue: trigger.queue, function: trigger.functionName };
    batches.inc(labels, trigger.batches);
    records.inc(labels, trigger.records);
    failed.inc(labels, trigger.failedRecords);
    lag.set(labels, trigger.lagMs);
    active.set(labels, trigger.activeBatches);
  }
  groupMetrics(registry, snapshot.groups);
  return { contentType: registry.contentType, text: await registry.metrics() };
}

/** Per-group series only for the groups the snapshot lists (recently active, the busiest first); totals per queue. */
function groupMetrics(registry: Registry, queues: MetricsSnapshot['groups']): void {
  const started = counter(registry, 'sluice_group_messages_started_total', 'Messages of a group claimed by a trigger for an invocation (recently active groups only).', ['queue', 'group']);
  const throttled = counter(registry, 'sluice_group_throttled_claims_total', "Trigger claims refused by a group's limit, by reason (recently active groups only).", ['queue', 'group', 'reason']);
  const inFlight = gauge(registry, 'sluice_group_in_flight', 'Messages of a group under invocation on this node (recently active groups only).', ['queue', 'group']);
  const queueStarted = counter(registry, 'sluice_queue_group_messages_started_total', 'Messages claimed by grouped triggers, every group of the queue.', ['queue']);
  const queueThrottled = counter(registry, 'sluice_queue_group_throttled_claims_total', "Trigger claims refused by a group's limit, every group of the queue.", ['queue', 'reason']);
  const queueInFlight = gauge(registry, 'sluice_queue_group_in_flight', 'Messages of grouped triggers under invocation on this node.', ['queue']);
  const tracked = gauge(registry, 'sluice_queue_groups_tracked', 'Groups of the queue with recent activity (listed or not).', ['queue']);
  for (const queue of queues) {
    queueStarted.inc({ queue: queue.queue }, queue.totals.started);
    queueThrottled.inc({ queue: queue.queue, reason: 'concurrency' }, queue.totals.throttledByConcurrency);
    queueThrottled.inc({ queue: queue.queue, reason: 'rate' }, queue.totals.throttledByRate);
    queueInFlight.set({ queue: queue.queue }, queue.totals.inFlight);
    tracked.set({ queue: queue.queue }, queue.trackedGroups);
    for (const group of queue.groups) {
      const labels = { queue: queue.queue, group: group.group };
      started.inc(labels, group.started);
      throttled.inc({ ...labels, reason: 'concurrency' }, group.throttledByConcurrency);
      throttled.inc({ ...labels, reason: 'rate' }, group.throttledByRate);
      inFlight.set(labels, group.inFlight);
    }
  }
}

const query = z.strictObject({ format: z.enum(['json', 'prometheus']).optional() });

/**
 * The whole exposition: the event-fed series (histograms, outcome counters) and the gauges and totals
 * read now. Served at GET /metrics and at /v1/metrics?format=prometheus.
 */
export async function prometheusText(sluice: Sluice, metrics: EngineMetrics | undefined): Promise<{ contentType: string; text: string }> {
  const exposition = await toPrometheus(await collectMetrics(sluice));
  const fed = metrics ? await metrics.text() : '';
  return { contentType: exposition.contentType, text: fed ? `${fed.trimEnd()}\n${exposition.text}` : exposition.text };
}

function register(app: FastifyInstance, { sluice, metrics }: NativeContext): void {
  app.get('/metrics', async (request, reply) => {
    const { format } = readQuery(request, query);
    if (format !== 'prometheus') return collectMetrics(sluice);
    const exposition = await prometheusText(sluice, metrics);
    return reply.header('content-type', exposition.contentType).send(exposition.text);
  });
}

export const metricsRoutes: NativeRouteModule = { name: 'metrics', register };
