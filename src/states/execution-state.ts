/** The state of one execution as the store keeps it between transitions: plain JSON, no functions. */
import type { Json, JsonObject } from './json.js';
import type { StatesFailure } from './errors.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface TaskInFlight {
  /** Increases on every attempt, so a late outcome of an earlier attempt is ignored. */
  attempt: number;
  resource: string;
  input: Json;
  /** `.waitForTaskToken`: the token handed to the worker and its callback id in the store. */
  token?: string;
  /** The message was sent / the function invoked (TaskSubmitted recorded): no resend on resume. */
  submitted?: boolean;
  /** An activity's task: a worker took it and ActivityStarted is recorded. */
  started?: true;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

export interface Frame {
  id: string;
  /** The Parallel or Map frame this branch or iteration belongs to. */
  parent?: string;
  /** Where the frame's machine is in the definition: [] for the top level, ['S', 'Branches', 1] ... */
  machine: (string | number)[];
  /** Branch or item index within the parent. */
  index?: number;
  state: string;
  phase: 'enter' | 'task' | 'wait' | 'retry' | 'children';
  /** The state's raw input. */
  input: Json;
  enteredAt: number;
  retryCount: number;
  /** Attempts used per retrier of the current state. */
  attempts: number[];
  dueAt?: number | undefined;
  task?: TaskInFlight;
  lastEventId: number;
  /** Parallel / Map: child frame per branch or running item; results by index. */
  children?: string[];
  results?: (Json | null)[];
  /** Map: items not started yet, by index; failures so far. */
  items?: Json[];
  nextItem?: number;
  failures?: number;
  /** Map: the iteration limit MaxConcurrencyPath selected when the state started (0: no limit). */
  maxConcurrency?: number;
  /** JSONata variables (Assign) visible in this frame; a branch or iteration starts with its parent's. */
  vars?: JsonObject;
  /** Parallel / Map effective input (for children and for ResultPath). */
  effective?: Json;
}

export interface ExecutionMeta {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  region: string;
  /**
   * A parent execution's `states:startExecution.sync` task waits on this token: the child's end answers
   * it, in the child's last transaction (runner.ts, `parentAnswer`).
   */
  parentToken?: string;
  /** `.sync` (output as JSON text) or `.sync:2` (output as JSON). */
  parentSync?: 'sync' | 'sync:2';
  /**
   * An EXPRESS execution: no history is stored, it runs for at most five minutes, and its finished row
   * is kept only long enough for a StartSyncExecution waiter to read it.
   */
  express?: true;
  /** Started by StartSyncExecution: run at most once (a node that dies with it in flight ends it). */
  atMostOnce?: true;
  /** Started on a version's ARN, or on an alias's (then the version it routed to): DescribeExecution shows them. */
  versionArn?: string;
  aliasArn?: string;
}

export interface ExecutionState {
  meta: ExecutionMeta;
  input: Json;
  startedAt: number;
  status: ExecutionStatus;
  output?: Json;
  failure?: StatesFailure;
  /** The machine's TimeoutSeconds as an instant. */
  deadlineAt?: number;
  frames: Record<string, Frame>;
  nextFrame: number;
  lastEventId: number;
  /** Transitions applied (state entries); a property test counts them. */
  transitions: number;
  /**
   * An execution that ended FAILED, TIMED_OUT or ABORTED: its frames as they were when it ended (the
   * failing state, a Parallel's or Map's finished branches and items): RedriveExecution resumes them.
   */
  redrive?: { frames: Record<string, Frame> };
  /** RedriveExecution: how many times, and when last ($$.Execution.RedriveCount, RedriveTime). */
  redriveCount?: number;
  redrivenAt?: number;
  /** RedriveExecution's clientTokens that redrove it, for 15 minutes each, the last 10 (service.ts). */
  redriveTokens?: { token: string; at: number }[];
}
