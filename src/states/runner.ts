/**
 * Drives executions: applies the interpreter's steps, persists each as one store transition, performs
 * the tasks, and wakes executions that are due. An execution lives in this node's memory only while it
 * has work in flight here (a function running, a message being sent); once every branch waits (a Wait
 * state, a retry interval, a task token), the transition releases it and the memory is dropped. The
 * store's `wakeAt` brings it back, on whichever node claims it first.
 *
 * A node that dies while holding an execution leaves a lease that ends; another node claims the
 * execution and runs again the tasks that were in flight (at-least-once, as AWS documents). A holder
 * that lost its execution (claimed elsewhere, stopped) fails its next compare-and-set and forgets it.
 */
import { callbackIdOf, newTaskToken } from '../callbacks/token.js';
import type { Clock } from '../model/clock.js';
import { callbackDeadline } from '../store/rules/callback-deadline.js';
import { callbackChannel, type CallbackCompletion, type NewCallback } from '../store/callback-store.js';
import { executionsChannel, type ExecutionChange, type StoredEvent, type StoredExecution } from '../store/state-machine-store.js';
import type { Store } from '../store/store.js';
import type { Definition } from './definition.js';
import type { ExecutionState, TaskInFlight } from './execution-state.js';
import type { HistoryEvent } from './history.js';
import { advanceExecution, completeTask, failExecution, nextDueAt, startActivity, submitTask, type InterpreterEnv, type Step, type TaskEffect, type TaskOutcomeEvent } from './interpreter.js';
import type { Json } from './json.js';
import { resourceKind, runTask, TaskFailure, type TaskRunnerDeps } from './resources.js';

/** The default task timeout of a `.waitForTaskToken` task without TimeoutSeconds (AWS's maximum). */
const MAX_TASK_SECONDS = 99_999_999;

export interface RunnerOptions extends TaskRunnerDeps {
  store: Store;
  clock: Clock;
  /** How long a node holds an execution it works on before another may take it over; default 60 s. */
  leaseMs?: number;
  definitionOf: (revisionId: number) => Promise<Definition>;
  /** An execution ended (its retention starts); `express`: an Express execution's short one. */
  onFinished?: (at: number, express: boolean) => void;
  onError: (error: unknown) => void;
}

/** What the tokens an execution waits for say (runner `tokenAnswers`), by frame id. */
interface TokenAnswers {
  /** An outcome, or while the token waits its current deadline (null: none). */
  outcomes: Map<string, TaskOutcomeEvent | number | null>;
  /** Activity tasks a worker took, not yet recorded: the attempt, and the workerName it gave (or null). */
  started: Map<string, { attempt: number; workerName: string | null }>;
}

interface Held {
  arn: string;
  def: Definition;
  state: ExecutionState;
  version: number;
  /** Transitions of one execution apply one at a time. */
  chain: Promise<void>;
  lost: boolean;
  cancelTimer?: (() => void) | undefined;
  cancelRenew?: () => void;
  /** Stops listening for answers to its tokens. */
  unsubscribe?: (() => void) | undefined;
}

/** The events a step stores: none for an Express execution (AWS keeps no history for them). */
export function toStoredEvents(events: HistoryEvent[], state?: ExecutionState): StoredEvent[] {
  if (state?.meta.express) return [];
  return events.map((e) => ({
    id: e.id,
    previousEventId: e.previousEventId,
    timestamp: e.timestamp,
    type: e.type,
    details: e.detailsKey ? JSON.stringify({ [e.detailsKey]: e.details ?? {} }) : null,
  }));
}

/** What a transition stores of the execution itself: its state, outcome and the step's events. */
export function executionColumns(
  state: ExecutionState,
  events: HistoryEvent[],
  now: number,
): Pick<ExecutionChange, 'state' | 'status' | 'output' | 'error' | 'cause' | 'stoppedAt' | 'lastEventId' | 'events'> {
  const finished = state.status !== 'RUNNING';
  return {
    state: JSON.stringify(state),
    status: state.status,
    output: state.output === undefined ? null : JSON.stringify(state.output),
    error: state.failure?.error ?? null,
    cause: state.failure?.cause ?? null,
    stoppedAt: finished ? now : null,
    lastEventId: state.lastEventId,
    events: toStoredEvents(events, state),
  };
}

function tokensOf(state: ExecutionState): Map<string, TaskInFlight> {
  const tokens = new Map<string, TaskInFlight>();
  for (const frame of Object.values(state.frames)) if (frame.phase === 'task' && frame.task?.token) tokens.set(frame.task.token, frame.task);
  return tokens;
}

/** Whether this node must keep the execution: a task runs here or a token's worker has not got it yet. */
function hasWorkInFlight(state: ExecutionState): boolean {
  if (state.status !== 'RUNNING') return false;
  return Object.values(state.frames).some((f) => f.phase === 'task' && f.task !== undefined && (!f.task.token || !f.task.submitted));
}

/**
 * What a finished nested execution answers its parent's `.sync` task with: its description (Output as
 * JSON text for `.sync`, as JSON for `.sync:2`), or States.TaskFailed with it as the cause.
 */
export function parentAnswer(state: ExecutionState): { callbackId: string; completion: CallbackCompletion } | undefined {
  const token = state.meta.parentToken;
  if (!token || state.status === 'RUNNING') return undefined;
  const description = {
    ExecutionArn: state.meta.executionArn,
    StateMachineArn: state.meta.stateMachineArn,
    Name: state.meta.name,
    Status: state.status,
    StartDate: new Date(state.startedAt).toISOString(),
    Input: state.meta.parentSync === 'sync:2' ? state.input : JSON.stringify(state.input),
    ...(state.output !== undefined ? { Output: state.meta.parentSync === 'sync:2' ? state.output : JSON.stringify(state.output) } : {}),
    ...(state.failure ? { Error: state.failure.error, Cause: state.failure.cause } : {}),
  };
  const completion: CallbackCompletion =
    state.status === 'SUCCEEDED'
      ? { status: 'SUCCEEDED', output: JSON.stringify(description) }
      : { status: 'FAILED', error: 'States.TaskFailed', cause: JSON.stringify(description).slice(0, 32_768) };
  return { callbackId: callbackIdOf(token), completion };
}

export class ExecutionRunner {
  private readonly held = new Map<string, Held>();
  /** How long this node holds an execution with work in flight (`executionLeaseMs`). */
  readonly leaseMs: number;
  private stopped = false;
  private cancelWake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private waking = false;
  private wakeAgain = false;
  private reading = false;
  private readAgain = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Aborts at stop: tasks waiting for a concurrency slot give up. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: RunnerOptions) {
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  env(): InterpreterEnv {
    return { now: this.options.clock.now(), newToken: newTaskToken };
  }

  start(): void {
    this.unsubscribe = this.options.store.notifier.subscribe(executionsChannel, () => this.scheduleWake());
    this.scheduleWake();
  }

  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.unsubscribe?.();
    this.cancelWake?.();
    for (const held of this.held.values()) {
      held.cancelTimer?.();
      held.cancelRenew?.();
      held.unsubscribe?.();
    }
    const pending = Promise.allSettled([...this.inFlight, ...[...this.held.values()].map((h) => h.chain)]);
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())]);
  }

  /** Executions this node holds in memory now (tests check that waiting ones hold none). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * What a freshly started execution needs from the store's first transaction: the callbacks of its
   * tokens, its lease and due instant.
   */
  firstTransition(state: ExecutionState, step: Step): { callbacks: NewCallback[]; leaseUntil: number | null; dueAt: number | null } {
    const now = this.options.clock.now();
    const callbacks = this.prepareTokens(state, step, new Map(), now);
    return { callbacks, leaseUntil: hasWorkInFlight(state) ? now + this.leaseMs : null, dueAt: nextDueAt(state) ?? null };
  }

  /** A started execution that has work in flight here: hold it and perform its tasks. */
  adopt(arn: string, def: Definition, state: ExecutionState, version: number, step: Step): void {
    if (!hasWorkInFlight(state)) return;
    const held: Held = { arn, def, state, version, chain: Promise.resolve(), lost: false };
    this.held.set(arn, held);
    this.afterCommit(held, step.tasks);
  }

  /** Forget an execution held here (it was stopped). */
  forget(arn: string): void {
    const held = this.held.get(arn);
    if (!held) return;
    held.lost = true;
    this.drop(held);
  }

  private drop(held: Held): void {
    held.cancelTimer?.();
    held.cancelRenew?.();
    held.unsubscribe?.();
    if (this.held.get(held.arn) === held) this.held.delete(held.arn);
  }

  /** Token tasks: the callback to create with the transition, and the frame's due instant (its deadline). */
  private prepareTokens(state: ExecutionState, step: Step, before: Map<string, TaskInFlight>, now: number): NewCallback[] {
    const callbacks: NewCallback[] = [];
    for (const effect of step.tasks) {
      const token = effect.task.token;
      if (!token || before.has(token)) continue;
      const timeoutAt = now + (effect.task.timeoutSeconds ?? MAX_TASK_SECONDS) * 1000;
      const heartbeatMs = effect.task.heartbeatSeconds === undefined ? null : effect.task.heartbeatSeconds * 1000;
      callbacks.push({
        id: callbackIdOf(token),
        createdAt: now,
        timeoutAt,
        heartbeatMs,
        context: JSON.stringify({ execution: state.meta.executionArn, state: effect.stateName }),
      });
      const frame = state.frames[effect.frameId];
      if (frame) frame.dueAt = callbackDeadline({ timeoutAt, heartbeatAt: heartbeatMs === null ? null : now + heartbeatMs }) ?? undefined;
    }
    return callbacks;
  }

  /** Applies `mutate` to a held execution and commits it; then performs its new tasks or releases it. */
  private apply(held: Held, mutate: (env: InterpreterEnv) => Step | undefined, rerun: TaskEffect[] = []): Promise<void> {
    const next = held.chain.then(async () => {
      if (held.lost || this.stopped) return;
      const before = tokensOf(held.state);
      const env = this.env();
      const step = mutate(env);
      if (!step) return;
      const callbacks = this.prepareTokens(held.state, step, before, env.now);
      const after = tokensOf(held.state);
      const released = [...before.keys()].filter((t) => !after.has(t)).map((t) => callbackIdOf(t));
      const state = held.state;
      const keep = hasWorkInFlight(state);
      const finished = state.status !== 'RUNNING';
      const answer = finished ? parentAnswer(state) : undefined;
      const applied = await this.options.store.executionTransition({
        arn: held.arn,
        version: held.version,
        ...executionColumns(state, step.events, env.now),
        callbacks,
        releasedCallbacks: released,
        ...(answer ? { answer } : {}),
        leaseUntil: keep ? env.now + this.leaseMs : null,
        dueAt: nextDueAt(state) ?? null,
        now: env.now,
      });
      if (!applied) {
        held.lost = true;
        this.drop(held);
        return;
      }
      held.version++;
      if (finished) this.options.onFinished?.(env.now, state.meta.express === true);
      if (!keep) {
        this.drop(held);
        return;
      }
      this.afterCommit(held, [...step.tasks, ...rerun]);
    });
    held.chain = next.catch((error: unknown) => {
      // The store failed: forget the execution; its lease ends and a node (maybe this one) resumes it.
      held.lost = true;
      this.drop(held);
      this.options.onError(error);
    });
    return held.chain;
  }

  /** Performs the tasks, re-arms the held execution's timer and lease renewal. */
  private afterCommit(held: Held, tasks: TaskEffect[]): void {
    for (const task of tasks) this.perform(held, task);
    held.cancelTimer?.();
    const due = nextDueAt(held.state);
    const { clock } = this.options;
    held.cancelTimer = due === undefined ? undefined : clock.setTimer(due - clock.now(), () => this.tick(held));
    // While held here, an answer to one of its tokens steps it at once (released, the store wakes it).
    held.unsubscribe?.();
    const channels = Object.values(held.state.frames)
      .filter((f) => f.phase === 'task' && f.task?.token)
      .map((f) => this.options.store.notifier.subscribe(callbackChannel(callbackIdOf(f.task!.token!)), () => this.tick(held)));
    held.unsubscribe = channels.length === 0 ? undefined : () => channels.forEach((unsubscribe) => unsubscribe());
    held.cancelRenew?.();
    held.cancelRenew = clock.setTimer(this.leaseMs / 3, () => void this.renew(held), { background: true });
  }

  private async renew(held: Held): Promise<void> {
    if (held.lost || this.stopped) return;
    const ok = await this.options.store
      .executionRenew({ arn: held.arn, version: held.version, leaseUntil: this.options.clock.now() + this.leaseMs })
      .catch(() => true);
    if (!ok) {
      held.lost = true;
      this.drop(held);
      return;
    }
    held.cancelRenew = this.options.clock.setTimer(this.leaseMs / 3, () => void this.renew(held), { background: true });
  }

  private perform(held: Held, effect: TaskEffect): void {
    const { task, frameId } = effect;
    const kind = resourceKind(task.resource);
    // A Lambda task may wait for its cluster's concurrency grant (resources.ts `runTask`), no longer
    // than the task may run (the interpreter times the task out then) nor past this node's stop.
    // The signal is made only if a slot is refused: the common path arms no timer.
    const deadline = kind?.kind === 'function' || (kind?.kind === 'lambda:invoke' && !kind.wait) ? this.taskDeadline(task.timeoutSeconds) : undefined;
    const work = (async () => {
      let outcome: TaskOutcomeEvent | 'submitted';
      try {
        const result = await runTask(this.options, task.resource, task.input, task.token, deadline?.signal);
        outcome = kind?.wait ? 'submitted' : { status: 'SUCCEEDED', output: result };
      } catch (error) {
        if (error instanceof TaskFailure) outcome = { status: 'FAILED', error: error.error, cause: error.causeText };
        else outcome = { status: 'FAILED', error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) };
      }
      if (held.lost) return;
      if (outcome === 'submitted') await this.apply(held, (env) => submitTask(held.def, held.state, frameId, task.attempt, env));
      else await this.apply(held, (env) => completeTask(held.def, held.state, frameId, task.attempt, outcome, env));
    })();
    this.inFlight.add(work);
    void work.finally(() => {
      deadline?.cancel();
      this.inFlight.delete(work);
    });
  }

  /**
   * A task's deadline: `signal()` makes, on its first call, a signal that aborts when a task of
   * `timeoutSeconds` (counted from that call) has timed out, or when this runner stops.
   */
  private taskDeadline(timeoutSeconds: number | undefined): { signal: () => AbortSignal; cancel: () => void } {
    let made: AbortSignal | undefined;
    let cancelTimer: (() => void) | undefined;
    return {
      signal: () => {
        if (made) return made;
        const timedOut = new AbortController();
        cancelTimer = this.options.clock.setTimer((timeoutSeconds ?? MAX_TASK_SECONDS) * 1000, () => timedOut.abort(), { background: true });
        made = AbortSignal.any([timedOut.signal, this.stopping.signal]);
        return made;
      },
      cancel: () => cancelTimer?.(),
    };
  }

  // ---------------------------------------------------------------- waking

  /**
   * Arms one timer for the earliest wake instant of any execution (or none). Calls that arrive while a
   * read is under way (a burst of notifications) share one more read after it.
   */
  scheduleWake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.options.store
      .executionNextWake()
      .then((next) => {
        if (this.stopped) return;
        this.cancelWake?.();
        this.cancelWake = undefined;
        if (next === null) return;
        const { clock } = this.options;
        this.cancelWake = clock.setTimer(Math.max(0, next - clock.now()), () => void this.wake());
      })
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.reading = false;
        if (this.readAgain) {
          this.readAgain = false;
          this.scheduleWake();
        }
      });
  }

  /** Claims every due execution and resumes it. */
  async wake(): Promise<void> {
    if (this.stopped) return;
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    try {
      do {
        this.wakeAgain = false;
        for (;;) {
          const now = this.options.clock.now();
          const claimed = await this.options.store.executionClaimDue({ now, leaseUntil: now + this.leaseMs, limit: 100 });
          for (const row of claimed) await this.resume(row);
          if (claimed.length < 100) break;
        }
      } while (this.wakeAgain && !this.stopped);
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.waking = false;
    }
    this.scheduleWake();
  }

  private async resume(row: StoredExecution): Promise<void> {
    const previous = this.held.get(row.arn);
    if (previous) {
      previous.lost = true;
      this.drop(previous);
    }
    let def: Definition;
    try {
      def = await this.options.definitionOf(row.revisionId);
    } catch (error) {
      this.options.onError(error);
      return;
    }
    const held: Held = { arn: row.arn, def, state: JSON.parse(row.state) as ExecutionState, version: row.version, chain: Promise.resolve(), lost: false };
    this.held.set(row.arn, held);
    // Tokens: read each awaited task's outcome (timing it out if a deadline passed) before stepping.
    const tokens = await this.tokenAnswers(held.state);
    const answers = tokens.outcomes;
    // Tasks that were in flight on a node that died run again (at-least-once): functions and messages
    // whose TaskSubmitted was not recorded (a token task still waiting for its answer).
    const rerun: TaskEffect[] = [];
    for (const frame of Object.values(held.state.frames)) {
      if (frame.phase !== 'task' || !frame.task || frame.task.submitted) continue;
      const answer = answers.get(frame.id);
      if (!frame.task.token || typeof answer === 'number') rerun.push({ frameId: frame.id, task: frame.task, stateName: frame.state });
    }
    if (held.state.meta.atMostOnce && rerun.length > 0) {
      // StartSyncExecution runs an execution at most once: a task that may have run on a node that died
      // is not run again; the execution fails instead.
      await this.apply(held, (env) => failExecution(held.def, held.state, { error: 'States.Runtime', cause: 'The node running this synchronous Express execution stopped while a task was in flight; it is not run again (at most once)' }, env));
      return;
    }
    await this.apply(held, (env) => this.stepWithAnswers(held, tokens, env), rerun);
  }

  /**
   * The state of every task token the execution waits for: its outcome (a token past a deadline is
   * timed out by the read), or, while it waits, its current deadline; and the activity tasks a worker
   * took since (by the workerName it gave), for ActivityStarted.
   */
  private async tokenAnswers(state: ExecutionState): Promise<TokenAnswers> {
    const answers = new Map<string, TaskOutcomeEvent | number | null>();
    const started: TokenAnswers['started'] = new Map();
    for (const frame of Object.values(state.frames)) {
      const token = frame.phase === 'task' ? frame.task?.token : undefined;
      if (!token) continue;
      const transition = await this.options.store.callbackExpire({ id: callbackIdOf(token), now: this.options.clock.now() });
      if (transition.outcome === 'missing') answers.set(frame.id, { status: 'FAILED', error: 'States.Runtime', cause: 'The task token is no longer known' });
      else {
        const cb = transition.callback;
        if (cb.startedAt !== null && frame.task && !frame.task.started) started.set(frame.id, { attempt: frame.task.attempt, workerName: cb.workerName });
        if (cb.status === 'SUCCEEDED') answers.set(frame.id, { status: 'SUCCEEDED', output: JSON.parse(cb.output ?? 'null') as Json });
        else if (cb.status === 'WAITING') answers.set(frame.id, callbackDeadline(cb));
        else answers.set(frame.id, { status: 'FAILED', error: cb.error ?? '', cause: cb.cause ?? '' });
      }
    }
    return { outcomes: answers, started };
  }

  /** Applies token answers (activity starts, outcomes, or moved deadlines), then moves the execution on. */
  private stepWithAnswers(held: Held, { outcomes: answers, started }: TokenAnswers, env: InterpreterEnv): Step {
    const step: Step = { events: [], tasks: [] };
    // A worker's start comes before the outcome it reported.
    for (const [frameId, { attempt, workerName }] of started)
      step.events.push(...startActivity(held.def, held.state, frameId, attempt, workerName, env).events);
    for (const [frameId, answer] of answers) {
      const frame = held.state.frames[frameId];
      if (!frame?.task?.token) continue;
      if (typeof answer === 'number' || answer === null) {
        if (answer === null) delete frame.dueAt;
        else frame.dueAt = answer;
        continue;
      }
      const part = completeTask(held.def, held.state, frameId, frame.task.attempt, answer, env);
      step.events.push(...part.events);
      step.tasks.push(...part.tasks);
    }
    const rest = advanceExecution(held.def, held.state, env);
    step.events.push(...rest.events);
    step.tasks.push(...rest.tasks);
    return step;
  }

  /**
   * A held execution's timer fired, or a token it waits for was answered: read its tokens first (a
   * heartbeat may have moved a deadline; an answer may have come), then step.
   */
  private tick(held: Held): void {
    if (held.lost || this.stopped) return;
    const hasTokens = Object.values(held.state.frames).some((f) => f.phase === 'task' && f.task?.token);
    if (!hasTokens) {
      void this.apply(held, (env) => advanceExecution(held.def, held.state, env));
      return;
    }
    held.chain = held.chain
      .then(async () => {
        if (held.lost || this.stopped) return;
        const answers = await this.tokenAnswers(held.state);
        void this.apply(held, (env) => this.stepWithAnswers(held, answers, env));
      })
      .catch((error: unknown) => {
        held.lost = true;
        this.drop(held);
        this.options.onError(error);
      });
  }
}