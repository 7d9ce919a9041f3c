/**
 * Functions with Lambda's semantics: the public face of the feature. Definitions live in the engine's
 * memory (a handler value cannot be stored; a config file re-declares module-path functions at start).
 * Every execution, whoever asks for it (a caller, the async queue, a trigger), goes through `execute`,
 * which is where the metrics are kept.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { functionArn, type ArnContext } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { QueueService } from '../queues/service.js';
import { AsyncInvoker } from './async-invoke.js';
import { ConcurrencyPool } from './concurrency.js';
import { buildDefinition, functionLimits, isModuleHandler, validateFunctionName } from './definition.js';
import { destinationOf, type DestinationRecord } from './destination.js';
import { FunctionMetrics } from './metrics.js';
import { isVersionNumber, sortQualifiers, splitQualifier } from './qualifier.js';
import { InProcessRunner, type HandlerRunner } from './runner.js';
import type {
  AsyncInvokeResponse,
  Execution,
  FunctionDefinition,
  FunctionInput,
  FunctionMetricsView,
  FunctionUpdate,
  FunctionView,
  InvokeResponse,
} from './types.js';
import { WorkerPool } from './worker-pool.js';
import { msUntil, type Service } from '../model/service.js';
import type { EngineEvents, InvocationOrigin } from '../observability/events.js';

/** Who asked for an execution, for the logs, metrics and console (observability/events.ts). */
export interface ExecutionContext {
  origin: InvocationOrigin;
  /** Records taken from a queue: how long each waited from its send to this start (ms). */
  waitedMs?: number[];
  /** Given to the handler as context.fencingToken (see functions/context.ts). */
  fencingToken?: number;
  /** Keep the handler's output for LogType Tail (see Invocation.captureLog). */
  captureLog?: boolean;
  /** The ARN the caller invoked when not the function's own: an alias's (context.invokedFunctionArn). */
  invokedFunctionArn?: string;
}

export interface FunctionServiceOptions {
  clock: Clock;
  arn: ArnContext;
  queues: QueueService;
  /** The account's concurrent executions, shared by every function; default 1,000 as in Lambda. */
  accountConcurrency?: number;
  onBackgroundError?: (error: unknown) => void;
  /** Hears every execution and throttle (the engine's event channel). */
  events?: EngineEvents;
}

interface FunctionEntry {
  definition: FunctionDefinition;
  /** When the definition last changed (the engine's clock, ms). */
  modifiedAt: number;
  runner: HandlerRunner;
  metrics: FunctionMetrics;
}

export type FunctionChange = { name: string; change: 'created' | 'updated' | 'deleted' };

export class FunctionService implements Service {
  private readonly clock: Clock;
  private readonly arnContext: ArnContext;
  private readonly queues: QueueService;
  private readonly entries = new Map<string, FunctionEntry>();
  private readonly listeners = new Set<(change: FunctionChange) => void>();
  private stopped = false;
  /** Aborts at stop: synchronous invokes waiting for a cluster grant give up (`invoke`). */
  private readonly stopping = new AbortController();
  private readonly asyncInvoker: AsyncInvoker;
  /** The engine's event channel, for features that report on their functions' behalf (batch items). */
  readonly events: EngineEvents | undefined;
  /** The account's concurrency; triggers take their slots here too. */
  readonly concurrency: ConcurrencyPool;

  constructor(options: FunctionServiceOptions) {
    this.clock = options.clock;
    this.arnContext = options.arn;
    this.queues = options.queues;
    this.events = options.events;
    this.concurrency = new ConcurrencyPool(
      options.accountConcurrency ?? functionLimits.defaultAccountConcurrency,
    );
    const onError =
      options.onBackgroundError ??
      ((error) => console.error('[sluice] function background task failed', error));
    this.asyncInvoker = new AsyncInvoker({
      clock: this.clock,
      pool: this.concurrency,
      definition: (name) => this.entries.get(name)?.definition,
      functionArn: (name) => this.arnOf(name),
      execute: (name, event, requestId, attempt, invokedFunctionArn) =>
        this.execute(name, event, requestId, { origin: { via: 'async', attempt }, ...(invokedFunctionArn !== undefined ? { invokedFunctionArn } : {}) }),
      throttled: (name) => this.noteThrottle(name, 'async'),
      retrying: (name, requestId, attempt, delayMs) => {
        if (!this.events?.active) return;
        this.events.emit({
          type: 'retry',
          function: name,
          origin: { via: 'async', attempt },
          records: 1,
          next: `asynchronous event ${requestId} runs again in ${Math.round(delayMs / 1000)} s (attempt ${attempt + 1})`,
          at: this.clock.now(),
        });
      },
      deliver: (arn, record) => this.deliver(arn, record),
      onError,
    });
  }

  arnOf(name: string): string {
    return functionArn(this.arnContext, name);
  }

  // ---------------------------------------------------------------- definitions

  async create(input: FunctionInput): Promise<FunctionView> {
    const name = validateFunctionName(input?.name, 'FunctionName', input?.publishedVersion === true);
    if (this.entries.has(name)) {
      throw new SluiceError(
        'ResourceConflictException',
        `FunctionName: the function '${name}' already exists`,
        { field: 'FunctionName' },
      );
    }
    const definition = buildDefinition(input);
    this.concurrency.setReservation(name, definition.reservedConcurrency);
    this.entries.set(name, {
      definition,
      modifiedAt: this.clock.now(),
      runner: this.runnerFor(definition),
      metrics: new FunctionMetrics(),
    });
    this.emit({ name, change: 'created' });
    return this.view(definition);
  }

  /** Changes a function. Executions under way finish on the old code; the next ones use the new. */
  async update(name: string, changes: FunctionUpdate): Promise<FunctionView> {
    const entry = this.require(name);
    const definition = buildDefinition({ ...changes, name }, entry.definition);
    this.concurrency.setReservation(name, definition.reservedConcurrency);
    const previous = entry.runner;
    entry.definition = definition;
    entry.modifiedAt = this.clock.now();
    entry.runner = this.runnerFor(definition);
    void previous.close();
    this.emit({ name, change: 'updated' });
    return this.view(definition);
  }

  /**
   * Defines (or re-routes) `<name>:<alias>`: a function that runs, at each invocation, the local function
   * `route` picks (a version of `base`, by the alias's weights), with the alias's ARN as
   * context.invokedFunctionArn and that version's timeout. Event source mappings on an alias's ARN
   * invoke it (catalog/version-service.ts). Its concurrency slots are `base`'s, as Lambda's.
   */
  defineAlias(aliasName: string, base: string, route: () => string | undefined): void {
    const arn = this.arnOf(aliasName);
    const runner: HandlerRunner = {
      run: async (invocation) => {
        const target = route();
        const entry = target === undefined ? undefined : this.entries.get(target);
        if (!entry) {
          return { ok: false, timedOut: false, error: { errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${arn}`, trace: [] } };
        }
        return entry.runner.run({ ...invocation, timeoutMs: entry.definition.timeoutSeconds * 1000, invokedFunctionArn: arn });
      },
      close: async () => undefined,
    };
    const existing = this.entries.get(aliasName);
    if (existing) {
      existing.runner = runner;
      existing.modifiedAt = this.clock.now();
      this.emit({ name: aliasName, change: 'updated' });
      return;
    }
    const definition = { ...this.require(base).definition, name: aliasName, reservedConcurrency: null };
    this.concurrency.setReservation(aliasName, null);
    this.concurrency.shareSlots(aliasName, base);
    this.entries.set(aliasName, { definition, modifiedAt: this.clock.now(), runner, metrics: new FunctionMetrics() });
    this.emit({ name: aliasName, change: 'created' });
  }

  async delete(name: string): Promise<void> {
    const entry = this.require(name);
    this.entries.delete(name);
    this.concurrency.remove(name);
    void entry.runner.close();
    this.emit({ name, change: 'deleted' });
  }

  /** A function's settings; for a function itself (not `name:N` or `name:alias`), its versions and aliases on this node. */
  get(name: string): FunctionView {
    const view = this.view(this.require(name).definition);
    return name.includes(':') ? view : { ...view, ...this.qualifiersOf([...this.entries.keys()].filter((key) => key.startsWith(`${name}:`))) };
  }

  exists(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * Every function once. Its published versions and aliases, which run as functions of their own
   * (`name:N`, `name:alias`), are not listed beside it but named in its `versions` and `aliases`; pass
   * `{ qualified: true }` for every one of those as its own entry (what runs: `get` takes their names).
   */
  list(options: { qualified?: boolean } = {}): FunctionView[] {
    if (options.qualified) return [...this.entries.values()].map((entry) => this.view(entry.definition));
    const qualified = new Map<string, string[]>();
    for (const name of this.entries.keys()) {
      const { function: base } = splitQualifier(name);
      if (base !== name) qualified.set(base, [...(qualified.get(base) ?? []), name]);
    }
    return [...this.entries.values()]
      .filter((entry) => !entry.definition.name.includes(':'))
      .map((entry) => ({ ...this.view(entry.definition), ...this.qualifiersOf(qualified.get(entry.definition.name) ?? []) }));
  }

  /** `versions` and `aliases` of a function from the names of its qualified functions, each present only when not empty. */
  private qualifiersOf(names: readonly string[]): Pick<FunctionView, 'versions' | 'aliases'> {
    const qualifiers = names.map((name) => splitQualifier(name).version);
    const versions = sortQualifiers(qualifiers.filter(isVersionNumber));
    const aliases = sortQualifiers(qualifiers.filter((qualifier) => !isVersionNumber(qualifier)));
    return { ...(versions.length > 0 ? { versions } : {}), ...(aliases.length > 0 ? { aliases } : {}) };
  }

  /** The longest timeout of the functions defined here, in ms (0 without functions). */
  longestTimeoutMs(): number {
    let longest = 0;
    for (const entry of this.entries.values())
      longest = Math.max(longest, entry.definition.timeoutSeconds * 1000);
    return longest;
  }

  /** The definition, for features built on functions (triggers read the timeout). */
  definition(name: string): FunctionDefinition | undefined {
    return this.entries.get(name)?.definition;
  }

  /** When the function was created or last changed (the engine's clock, ms): Lambda's LastModified. */
  lastModified(name: string): number {
    return this.require(name).modifiedAt;
  }

  metrics(name: string): FunctionMetricsView {
    return this.require(name).metrics.view();
  }

  /** Hears every create, update and delete (triggers re-read limits and notice deleted functions). */
  onChange(listener: (change: FunctionChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------- invocation

  /**
   * RequestResponse: waits for the handler; a function error comes back as Lambda's error payload. In a
   * cluster a call refused only because this node's share of the limit has not been granted yet waits
   * for the grant (ConcurrencyPool.acquire), so that refusal never reaches the caller; a limit in use
   * cluster-wide is refused with TooManyRequestsException as Lambda refuses it (docs/design/cluster.md).
   */
  async invoke(
    name: string,
    event: unknown = {},
    origin: InvocationOrigin = { via: 'invoke' },
    options: {
      withLog?: boolean;
      /**
       * How long a refused call may wait for a slot the cluster may still grant: a signal this gives,
       * called only once a slot was refused. Default: the function's timeout counted from the refusal,
       * the caller's `signal`, or this service stopping, whichever comes first.
       */
      slotWait?: () => AbortSignal;
      /** Aborts when the caller has gone (an HTTP client): read only once a slot was refused. */
      signal?: () => AbortSignal;
      /** The ARN the caller invoked, when not the function's own (an alias's). */
      invokedFunctionArn?: string;
    } = {},
  ): Promise<InvokeResponse> {
    const entry = this.require(name);
    let endWait: (() => void) | undefined;
    let taken: boolean;
    try {
      taken =
        this.concurrency.tryAcquire(name) ||
        (await this.concurrency.acquire(name, () => {
          if (options.slotWait) return options.slotWait();
          const wait = this.slotWaitDeadline(entry.definition.timeoutSeconds, options.signal);
          endWait = wait.cancel;
          return wait.signal;
        }));
    } finally {
      endWait?.();
    }
    if (!taken) {
      const reason = this.concurrency.throttleReason(name);
      entry.metrics.throttled();
      if (this.events?.active)
        this.events.emit({ type: 'throttle', function: name, reason, via: origin.via, at: this.clock.now() });
      throw new SluiceError('TooManyRequestsException', `FunctionName: '${name}' is throttled (${reason})`, {
        field: 'FunctionName',
      });
    }
    let execution: Execution;
    const requestId = randomUUID();
    const started = performance.now();
    try {
      execution = await this.execute(name, event, requestId, {
        origin,
        ...(options.withLog ? { captureLog: true } : {}),
        ...(options.invokedFunctionArn !== undefined ? { invokedFunctionArn: options.invokedFunctionArn } : {}),
      });
    } finally {
      this.concurrency.release(name);
    }
    const log = options.withLog
      ? { log: { text: execution.log ?? '', durationMs: performance.now() - started, requestId } }
      : {};
    return execution.ok
      ? { statusCode: 200, executedVersion: '$LATEST', payload: execution.result, ...log }
      : { statusCode: 200, executedVersion: '$LATEST', payload: execution.error, functionError: 'Unhandled', ...log };
  }

  /**
   * Event: accepted at once (202); runs when a slot is free, with retries and destinations.
   * `invokedFunctionArn`: the ARN the caller invoked when not the function's own (an alias's), which
   * every attempt's handler sees as context.invokedFunctionArn.
   */
  async invokeAsync(name: string, event: unknown = {}, options: { invokedFunctionArn?: string } = {}): Promise<AsyncInvokeResponse> {
    this.require(name);
    return { statusCode: 202, requestId: this.asyncInvoker.accept(name, event, options.invokedFunctionArn) };
  }

  /**
   * Runs the handler once. The caller holds a concurrency slot (see `concurrency`). Never throws: a
   * failure is an Execution with Lambda's error payload. Every execution is reported once on the
   * engine's event channel, with `context` saying who asked (a failure is logged from there, once).
   */
  async execute(
    name: string,
    event: unknown,
    requestId: string = randomUUID(),
    context: ExecutionContext = { origin: { via: 'invoke' } },
  ): Promise<Execution> {
    const entry = this.entries.get(name);
    if (!entry) {
      const missing: Execution = {
        ok: false,
        error: {
          errorType: 'ResourceNotFoundException',
          errorMessage: `Function not found: ${this.arnOf(name)}`,
          trace: [],
        },
        timedOut: false,
      };
      this.report(name, requestId, context, missing, 0);
      return missing;
    }
    const { metrics, runner, definition } = entry;
    metrics.started();
    const started = performance.now();
    let execution: Execution;
    try {
      execution = await runner.run({
        requestId,
        event,
        timeoutMs: definition.timeoutSeconds * 1000,
        ...(context.fencingToken !== undefined ? { fencingToken: context.fencingToken } : {}),
        ...(context.captureLog ? { captureLog: true } : {}),
        ...(context.invokedFunctionArn !== undefined ? { invokedFunctionArn: context.invokedFunctionArn } : {}),
      });
    } catch (error) {
      execution = {
        ok: false,
        error: { errorType: 'Runtime.Unknown', errorMessage: String(error), trace: [] },
        timedOut: false,
      };
    }
    const durationMs = performance.now() - started;
    metrics.finished(execution, durationMs);
    this.report(name, requestId, context, execution, durationMs);
    return execution;
  }

  /** Counts a refusal that happened outside `invoke` (a trigger that found no free slot). */
  noteThrottle(name: string, via: InvocationOrigin['via'] = 'queue-trigger'): void {
    this.entries.get(name)?.metrics.throttled();
    if (this.events?.active)
      this.events.emit({
        type: 'throttle',
        function: name,
        reason: this.concurrency.throttleReason(name),
        via,
        at: this.clock.now(),
      });
  }

  private report(
    name: string,
    requestId: string,
    context: ExecutionContext,
    execution: Execution,
    durationMs: number,
  ): void {
    if (!this.events?.active) return;
    this.events.emit({
      type: 'invocation',
      function: name,
      requestId,
      origin: context.origin,
      ok: execution.ok,
      timedOut: !execution.ok && execution.timedOut,
      durationMs,
      ...(context.waitedMs ? { waitedMs: context.waitedMs } : {}),
      ...(execution.ok ? {} : { error: execution.error }),
      at: this.clock.now(),
    });
  }

  /** Nothing to arm: a function runs when it is invoked. */
  async start(): Promise<void> {}

  /**
   * Stops asynchronous retries, gives executions under way until `deadline` (real time), then ends
   * every worker thread. Accepted asynchronous events not yet run are dropped.
   */
  async stop(deadline: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    await this.asyncInvoker.stop(msUntil(deadline));
    await Promise.all([...this.entries.values()].map((entry) => entry.runner.close({ force: true })));
  }

  // ---------------------------------------------------------------- internals

  /**
   * The default bound on a synchronous invoke's wait for a cluster grant: no longer than the function
   * may run (the caller already waits that long for an answer), nor past the caller going away or this
   * service stopping. The wait normally ends far sooner: with the grant, or once the gate finds the
   * scope exhausted (a heartbeat); the timeout bounds it when the store does not answer at all.
   */
  private slotWaitDeadline(timeoutSeconds: number, caller: (() => AbortSignal) | undefined): { signal: AbortSignal; cancel: () => void } {
    const timedOut = new AbortController();
    const cancel = this.clock.setTimer(timeoutSeconds * 1000, () => timedOut.abort(), { background: true });
    const signals = [timedOut.signal, this.stopping.signal];
    if (caller) signals.push(caller());
    return { signal: AbortSignal.any(signals), cancel };
  }

  private runnerFor(definition: FunctionDefinition): HandlerRunner {
    const common = {
      name: definition.name,
      arn: this.arnOf(definition.name),
      memorySize: definition.memorySize,
      timeoutSeconds: definition.timeoutSeconds,
      clock: this.clock,
    };
    if (definition.execution === 'worker' && isModuleHandler(definition.handler)) {
      return new WorkerPool({
        ...common,
        region: this.arnContext.region,
        handler: definition.handler,
        environment: definition.environment,
      });
    }
    return new InProcessRunner({ ...common, handler: definition.handler, region: this.arnContext.region, environment: definition.environment });
  }

  private async deliver(arn: string, record: DestinationRecord): Promise<void> {
    const target = destinationOf(arn);
    if (target?.kind === 'queue') await this.queues.send(target.name, { body: JSON.stringify(record) });
    else if (target?.kind === 'function') await this.invokeAsync(target.name, record);
  }

  private emit(change: FunctionChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }

  private view(definition: FunctionDefinition): FunctionView {
    return {
      name: definition.name,
      arn: this.arnOf(definition.name),
      handler: isModuleHandler(definition.handler) ? definition.handler.text : '(in-process value)',
      timeout: definition.timeoutSeconds,
      memorySize: definition.memorySize,
      reservedConcurrency: definition.reservedConcurrency,
      environment: { ...definition.environment },
      execution: definition.execution,
      async: { ...definition.async },
    };
  }

  private require(name: string): FunctionEntry {
    const entry = typeof name === 'string' ? this.entries.get(name) : undefined;
    if (!entry) {
      throw new SluiceError(
        'ResourceNotFoundException',
        `FunctionName: the function '${String(name)}' does not exist`,
        { field: 'FunctionName' },
      );
    }
    return entry;
  }
}
