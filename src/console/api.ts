/**
 * The console's own reads and actions, under /console/api, beside the native API mounted again at
 * /console/api/v1 (same routes, session auth). They call the engine's API, never the store, and run only
 * when a page asks: views that join several features (a queue with its dead-letter role, a trigger with
 * its last error, a group with why it waits), recent failures with their stacks, and the live stream.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sluice } from '../engine/sluice.js';
import { SluiceError } from '../model/errors.js';
import { parseArn } from '../model/arn.js';
import { collectMetrics } from '../api/native/metrics.js';
import type { ConsoleLive } from './live.js';
import type { StoredExecutionStatus } from '../store/state-machine-store.js';
import type { HistoryEventView } from '../states/service.js';

const EXECUTION_STATUSES: readonly StoredExecutionStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
];
/** Counts by status stop at this many (one page of ListExecutions per status); the page shows "1000+". */
const COUNT_CAP = 1000;
/** An execution's history is read up to this many events for the page (a page of 1,000 at a time). */
const HISTORY_CAP = 10_000;

function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

function query(request: FastifyRequest): Record<string, string | undefined> {
  return request.query as Record<string, string | undefined>;
}

function redriveTarget(
  attributes: Record<string, string>,
): { deadLetterQueue: string; maxReceiveCount: number } | null {
  if (!attributes.RedrivePolicy) return null;
  try {
    const policy = JSON.parse(attributes.RedrivePolicy) as {
      deadLetterTargetArn?: string;
      maxReceiveCount?: number | string;
    };
    const name = policy.deadLetterTargetArn ? parseArn(policy.deadLetterTargetArn)?.resource : undefined;
    return name ? { deadLetterQueue: name, maxReceiveCount: Number(policy.maxReceiveCount) } : null;
  } catch {
    return null;
  }
}

async function queuesView(sluice: Sluice) {
  const names = await sluice.queues.list();
  const rows = await Promise.all(
    names.map(async (name) => {
      const [description, attributes, counts] = await Promise.all([
        sluice.queues.get(name),
        sluice.queues.getAttributes(name),
        sluice.queues.counts(name),
      ]);
      return {
        name,
        fifo: description.fifo,
        arn: description.arn,
        counts,
        redrive: redriveTarget(attributes),
        grouped: Boolean(attributes.SluiceGroupKey),
      };
    }),
  );
  const sources = new Map<string, string[]>();
  for (const row of rows)
    if (row.redrive)
      sources.set(row.redrive.deadLetterQueue, [
        ...(sources.get(row.redrive.deadLetterQueue) ?? []),
        row.name,
      ]);
  return rows.map((row) => ({ ...row, deadLetterSources: sources.get(row.name) ?? [] }));
}

/**
 * Why a group is not running now: its messages by state and its rate tokens (every node's, from the
 * store), its limits, and the refusals this node's claims met.
 */
async function groupWhy(sluice: Sluice, queue: string, group: string) {
  const [limit, inspection] = await Promise.all([
    sluice.groupLimits.get(queue, group),
    sluice.groupLimits.inspect(queue, group),
  ]);
  const activity = sluice.groupLimits.activity(queue)[0]?.groups.find((g) => g.group === group) ?? null;
  const { maxConcurrency, rate } = inspection.limits;
  const reasons: string[] = [];
  if (inspection.waiting === 0)
    reasons.push(
      `no message of the group is waiting${inspection.delayed > 0 ? ` (${inspection.delayed} delayed)` : ''}${inspection.inFlight > 0 ? `; ${inspection.inFlight} under invocation` : ''}`,
    );
  else {
    if (maxConcurrency !== null && inspection.inFlight >= maxConcurrency)
      reasons.push(
        `at its concurrency limit: ${inspection.inFlight} of ${maxConcurrency} slot(s) held by messages in flight`,
      );
    if (rate && inspection.rateTokens === 0)
      reasons.push(
        `out of rate tokens (${rate.limit} per ${rate.intervalSeconds} s, burst ${rate.burst})${inspection.nextTokenAt ? `; the next one at ${new Date(inspection.nextTokenAt).toISOString()}` : ''}`,
      );
    if (reasons.length === 0)
      reasons.push(
        `not held by its limits: ${inspection.waiting} message(s) wait for a trigger's next claim (is a trigger enabled on the queue, and its function below its concurrency?)`,
      );
  }
  return { queue, group, limit: limit ?? null, effective: inspection.limits, inspection, activity, reasons };
}

/** Every state machine with its executions counted by status (each count capped at COUNT_CAP). */
async function stateMachinesView(sluice: Sluice) {
  const machines = [];
  let nextToken: string | undefined;
  do {
    const page = await sluice.stateMachines.list({ maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
    machines.push(...page.stateMachines);
    nextToken = page.nextToken;
  } while (nextToken);
  return Promise.all(
    machines.map(async (machine) => {
      const counts: Record<string, number> = {};
      const capped: string[] = [];
      // Express executions are not recorded (as on AWS): an EXPRESS machine has no counts.
      if (machine.type !== 'EXPRESS') await Promise.all(
        EXECUTION_STATUSES.map(async (status) => {
          const page = await sluice.stateMachines.listExecutions(machine.stateMachineArn, {
            statusFilter: status,
            maxResults: COUNT_CAP,
          });
          counts[status] = page.executions.length;
          if (page.nextToken) capped.push(status);
        }),
      );
      return {
        name: machine.name,
        stateMachineArn: machine.stateMachineArn,
        type: machine.type,
        description: machine.description,
        updateDate: machine.updateDate,
        counts,
        capped,
      };
    }),
  );
}

function eventDetails(event: HistoryEventView): Record<string, unknown> {
  for (const [key, value] of Object.entries(event))
    if (key.endsWith('EventDetails') && value && typeof value === 'object')
      return value as Record<string, unknown>;
  return {};
}

/**
 * The path an execution took, from its history: each state entered (in order, with the state it came
 * from, its exit and the event ids), and the failures (a task's error, a Fail state's, the execution's), each attributed to the
 * state whose event chain it follows (an event's previousEventId leads back to its state's entry).
 */
function executionPath(events: HistoryEventView[]) {
  const stateOf = new Map<number, string>();
  const steps: {
    name: string;
    type: string;
    /** The state this one was entered from (the arrow taken), or the Parallel/Map it runs in, or null. */
    from: string | null;
    enteredEventId: number;
    enteredAt: Date;
    exitedAt?: Date;
  }[] = [];
  const open = new Map<string, (typeof steps)[number]>();
  const failures: { state: string | null; type: string; error: string; cause: string }[] = [];
  for (const event of events) {
    const details = eventDetails(event);
    let state = stateOf.get(event.previousEventId) ?? null;
    if (event.type.endsWith('StateEntered')) {
      const from = state;
      state = String(details.name ?? '');
      const step = {
        name: state,
        from,
        type: event.type.slice(0, -'StateEntered'.length),
        enteredEventId: event.id,
        enteredAt: event.timestamp,
      };
      steps.push(step);
      open.set(state, step);
    } else if (event.type.endsWith('StateExited')) {
      state = String(details.name ?? state ?? '');
      const step = open.get(state);
      if (step) step.exitedAt = event.timestamp;
    }
    if (state !== null) stateOf.set(event.id, state);
    if (/(Failed|TimedOut|Aborted)$/.test(event.type) && ('error' in details || 'cause' in details))
      failures.push({
        state,
        type: event.type,
        error: String(details.error ?? ''),
        cause: String(details.cause ?? ''),
      });
  }
  return { steps, failures };
}

async function executionView(sluice: Sluice, arn: string) {
  const [execution, machine] = await Promise.all([
    sluice.stateMachines.describeExecution(arn),
    sluice.stateMachines.describeStateMachineForExecution(arn),
  ]);
  const events: HistoryEventView[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sluice.stateMachines.history(arn, {
      maxResults: 1000,
      ...(nextToken ? { nextToken } : {}),
    });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken && events.length < HISTORY_CAP);
  let definition: unknown;
  try {
    definition = JSON.parse(machine.definition);
  } catch {
    definition = null;
  }
  return {
    execution,
    stateMachine: {
      name: machine.name,
      stateMachineArn: machine.stateMachineArn,
      revisionId: machine.revisionId,
      definition,
    },
    events,
    historyTruncated: Boolean(nextToken),
    ...executionPath(events),
  };
}

export function registerConsoleApi(
  scope: FastifyInstance,
  params: { sluice: Sluice; live: ConsoleLive },
): void {
  const { sluice, live } = params;

  scope.get('/live', (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    reply.raw.write(': connected\n\n');
    live.attach(reply);
    void request;
  });

  scope.get('/overview', async () => {
    const snapshot = await collectMetrics(sluice);
    return {
      history: live.history(),
      totals: {
        queues: snapshot.queues.length,
        visible: snapshot.queues.reduce((s, q) => s + q.visible, 0),
        inFlight: snapshot.queues.reduce((s, q) => s + q.inFlight, 0),
        oldestAgeSeconds: Math.max(0, ...snapshot.queues.map((q) => q.oldestAgeSeconds)),
        functions: snapshot.functions.length,
        // With each function's versions and aliases, which are nested under it with their own figures.
        invocations: snapshot.functions.reduce((s, f) => s + f.invocations + (f.versions ?? []).reduce((t, v) => t + v.invocations, 0), 0),
        errors: snapshot.functions.reduce((s, f) => s + f.errors + (f.versions ?? []).reduce((t, v) => t + v.errors, 0), 0),
        triggers: snapshot.triggers.length + sluice.streamTriggers.list().length,
      },
      failures: live.recentFailures().slice(0, 10),
      node: sluice.cluster?.nodeId ?? null,
    };
  });

  scope.get('/queues', async () => ({ queues: await queuesView(sluice) }));

  /** A queue's first messages, read without receiving them (queues.peek): browsing changes nothing. */
  scope.get('/queues/:name/messages', async (request) => ({
    messages: await sluice.queues.peek(param(request, 'name'), { limit: 20 }),
  }));

  scope.get('/functions', async () => {
    const snapshot = await collectMetrics(sluice);
    const metrics = new Map(snapshot.functions.map((f) => [f.name, f]));
    return {
      functions: sluice.functions.list().map((fn) => ({
        ...fn,
        metrics: metrics.get(fn.name) ?? null,
        concurrencyLimit: sluice.functions.concurrency.ceiling(fn.name),
      })),
      accountConcurrency: sluice.functions.concurrency.accountLimit,
    };
  });

  scope.get('/failures', async (request) => {
    const q = query(request);
    return {
      failures: live.recentFailures({
        ...(q.function ? { function: q.function } : {}),
        ...(q.trigger ? { trigger: q.trigger } : {}),
      }),
    };
  });
  scope.get('/failures/:requestId', async (request) => {
    const failure = live.failure(param(request, 'requestId'));
    if (!failure)
      throw new SluiceError(
        'ResourceNotFoundException',
        'requestId: no recent failure with this request id on this node',
      );
    return { failure };
  });

  scope.get('/triggers', async () => ({
    queueTriggers: sluice.triggers.list().map((trigger) => ({
      ...trigger,
      metrics: sluice.triggers.metrics(trigger.uuid),
      lastError: live.lastTriggerError(trigger.uuid) ?? null,
    })),
    streamTriggers: sluice.streamTriggers.list().map((trigger) => ({
      ...trigger,
      metrics: sluice.streamTriggers.metrics(trigger.uuid),
      lastError: live.lastTriggerError(trigger.uuid) ?? null,
    })),
  }));
  scope.patch('/stream-triggers/:uuid', async (request) => {
    const body = JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString('utf8') || '{}' : '{}') as {
      enabled?: unknown;
    };
    if (typeof body.enabled !== 'boolean')
      throw new SluiceError('InvalidParameterValue', 'enabled: true or false', { field: 'enabled' });
    return { trigger: await sluice.streamTriggers.update(param(request, 'uuid'), { enabled: body.enabled }) };
  });

  scope.get('/groups', async () => ({ queues: sluice.groupLimits.activity() }));
  scope.get('/groups/:queue/:group', async (request) =>
    groupWhy(sluice, param(request, 'queue'), param(request, 'group')),
  );

  scope.get('/cluster', async () => {
    if (!sluice.cluster) return { clustered: false, store: sluice.store.kind };
    return { clustered: true, store: sluice.store.kind, ...(await sluice.cluster.describe()) };
  });

  scope.get('/batches', async () => ({ batches: await sluice.batches.list({ limit: 100 }) }));
  scope.get('/batches/:id/failed-items', async (request) => ({
    items: await sluice.batches.failedItems(param(request, 'id'), { limit: 100 }),
  }));
  scope.post('/batches/:id/retry', async (request) => sluice.batches.retryFailed(param(request, 'id')));

  scope.get('/state-machines', async () => ({ stateMachines: await stateMachinesView(sluice) }));
  /** One machine's executions, newest first, a page of 50 at a time (`status`, `nextToken`). */
  scope.get('/state-machines/:name/executions', async (request) => {
    const q = query(request);
    const status = q.status || undefined;
    if (status !== undefined && !EXECUTION_STATUSES.includes(status as StoredExecutionStatus))
      throw new SluiceError('ValidationException', `status: one of ${EXECUTION_STATUSES.join(', ')}`, {
        field: 'status',
      });
    const machine = await sluice.stateMachines.describe(param(request, 'name'));
    if (machine.type === 'EXPRESS') return { executions: [] };
    return sluice.stateMachines.listExecutions(param(request, 'name'), {
      maxResults: 50,
      ...(status ? { statusFilter: status as StoredExecutionStatus } : {}),
      ...(q.nextToken ? { nextToken: q.nextToken } : {}),
    });
  });
  /** One execution (`arn`): its outcome, the definition of the revision it ran, its history and path. */
  scope.get('/execution', async (request) => {
    const arn = query(request).arn;
    if (!arn) throw new SluiceError('ValidationException', 'arn: the execution ARN', { field: 'arn' });
    return executionView(sluice, arn);
  });

  scope.get('/schedules', async () => {
    const schedules = await sluice.schedules.list();
    return {
      schedules: await Promise.all(
        schedules.map(async (schedule) => ({
          ...schedule,
          next:
            schedule.state === 'ENABLED'
              ? await sluice.schedules.nextFireTimes(schedule.name, 3).catch(() => [])
              : [],
        })),
      ),
    };
  });
}
