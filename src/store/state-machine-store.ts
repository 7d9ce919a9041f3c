/**
 * The state-machine half of the store: the catalog of state machines (each definition change is a new
 * revision, so an execution keeps the definition it started with), executions, their history and the
 * task tokens they wait for.
 *
 * An execution row holds the interpreter's state (JSON text) and a version. Every transition is one
 * `executionTransition`: a compare-and-set on the version that writes the new state, appends the history
 * events, records the tokens the execution now waits for and creates their callbacks, all in one
 * transaction. A node that lost the execution (its lease ended and another node claimed it, or it was
 * stopped) matches no row, so no transition is ever applied twice.
 *
 * Waking: `wakeAt` is when the row next needs a node: the end of the holder's lease while a node holds
 * it, otherwise its next due instant (a Wait state, a retry, a timeout) or now when a token it waits for
 * was answered (`callbackComplete` marks it woken in the same transaction). Nodes sleep until the
 * earliest `wakeAt` (`executionNextWake`) and on `executionsChannel`; an execution waiting for a token
 * costs one row and no memory.
 */
import type { CallbackCompletion, NewCallback } from './callback-store.js';

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type StoredExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StoredStateMachine {
  name: string;
  arn: string;
  type: StateMachineType;
  /** The current revision (a new one on every definition or role change). */
  revisionId: number;
  definition: string;
  roleArn: string;
  description: string;
  tags: Record<string, string>;
  /** A config file that declared this machine, or null when it was created through the API. */
  managedBy: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewStateMachine {
  name: string;
  arn: string;
  type: StateMachineType;
  definition: string;
  roleArn: string;
  description: string;
  tags: Record<string, string>;
  managedBy: string | null;
  now: number;
}

export interface StateMachineRevision {
  id: number;
  stateMachineArn: string;
  definition: string;
  roleArn: string;
  createdAt: number;
}

/** A published version: a numbered, immutable snapshot of one revision (PublishStateMachineVersion). */
export interface StoredVersion {
  version: number;
  revisionId: number;
  description: string;
  createdAt: number;
}

/** One of an alias's one or two routes: a version of its machine and the share of executions it gets. */
export interface AliasRoute {
  version: number;
  weight: number;
}

export interface StoredAlias {
  name: string;
  description: string;
  routing: AliasRoute[];
  createdAt: number;
  updatedAt: number;
}

export interface StoredEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  /** `{ "<detailsKey>": {...} }` as JSON text, or null. */
  details: string | null;
}

export interface ExecutionSummary {
  arn: string;
  stateMachineArn: string;
  name: string;
  status: StoredExecutionStatus;
  startedAt: number;
  stoppedAt: number | null;
  revisionId: number;
  /** Started on a version's ARN, or through an alias (then also the version it routed to). */
  versionArn: string | null;
  aliasArn: string | null;
}

export interface StoredExecution extends ExecutionSummary {
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  /** The interpreter's state, JSON text. */
  state: string;
  version: number;
  lastEventId: number;
}

export interface NewExecution {
  arn: string;
  stateMachineArn: string;
  name: string;
  revisionId: number;
  /** Started on a version's or alias's ARN. */
  versionArn?: string | null;
  aliasArn?: string | null;
  input: string;
  state: string;
  status: StoredExecutionStatus;
  output: string | null;
  error: string | null;
  cause: string | null;
  startedAt: number;
  stoppedAt: number | null;
  lastEventId: number;
  /** The creating node holds it until then (null: not held). */
  leaseUntil: number | null;
  dueAt: number | null;
}

export interface ExecutionChange {
  arn: string;
  /** The version the caller read; the transition applies only if the row still has it. */
  version: number;
  state: string;
  status: StoredExecutionStatus;
  output: string | null;
  error: string | null;
  cause: string | null;
  stoppedAt: number | null;
  lastEventId: number;
  events: StoredEvent[];
  /** Callbacks to create (their tokens are in the state) and to link to this execution. */
  callbacks: NewCallback[];
  /** Callback links to drop (their tasks are over). */
  releasedCallbacks: string[];
  /**
   * A finished nested execution answers its parent's `.sync` task in the same transaction: the parent's
   * callback is completed (if still WAITING) and the parent woken.
   */
  answer?: { callbackId: string; completion: CallbackCompletion };
  /** RedriveExecution: the execution's new redrive count (unchanged when absent). */
  redriveCount?: number;
  /** Still held by the caller until then, or null: released. */
  leaseUntil: number | null;
  /** The next due instant when not held (null: nothing due; a finished execution). */
  dueAt: number | null;
  now: number;
}

export interface StateMachineStore {
  /** `created`, or the machine that already has this name. */
  stateMachineCreate(p: { machine: NewStateMachine }): Promise<{ outcome: 'created'; machine: StoredStateMachine } | { outcome: 'exists'; machine: StoredStateMachine }>;
  stateMachineGet(p: { name: string }): Promise<StoredStateMachine | undefined>;
  /** By name, after `after` (exclusive), at most `limit`. */
  stateMachineList(p: { after?: string; limit: number }): Promise<StoredStateMachine[]>;
  /** Changes what is given; a new definition or role makes a new revision. Undefined when missing. */
  stateMachineUpdate(p: {
    name: string;
    definition?: string;
    roleArn?: string;
    description?: string;
    tags?: Record<string, string>;
    managedBy?: string | null;
    now: number;
  }): Promise<StoredStateMachine | undefined>;
  stateMachineDelete(p: { name: string }): Promise<boolean>;
  stateMachineRevision(p: { id: number }): Promise<StateMachineRevision | undefined>;

  /**
   * Publishes the machine's current revision as its next version (numbers never reused), under the
   * machine's lock: `exists` with the version already published for that revision (AWS's idempotency);
   * `conflict` when `expectedRevisionId` is not the current revision; `quota` at `limit` versions.
   */
  stateMachineVersionPublish(p: {
    name: string;
    expectedRevisionId?: number;
    description: string;
    limit: number;
    now: number;
  }): Promise<{ outcome: 'published' | 'exists'; version: StoredVersion } | { outcome: 'missing' | 'conflict' | 'quota' }>;
  stateMachineVersionGet(p: { name: string; version: number }): Promise<StoredVersion | undefined>;
  /** Newest first; `before`: the last version of the previous page. */
  stateMachineVersionList(p: { name: string; before?: number; limit: number }): Promise<StoredVersion[]>;
  /** `aliased` (nothing deleted) while an alias routes to it. */
  stateMachineVersionDelete(p: { name: string; version: number }): Promise<'deleted' | 'missing' | 'aliased'>;
  /**
   * Creates an alias whose routes name existing versions, under the machine's lock: `exists` with the
   * alias already of that name (the caller compares); `quota` at `limit` aliases.
   */
  stateMachineAliasCreate(p: {
    name: string;
    alias: StoredAlias;
    limit: number;
  }): Promise<{ outcome: 'created' | 'exists'; alias: StoredAlias } | { outcome: 'missing' | 'missingVersion' | 'quota' }>;
  stateMachineAliasGet(p: { name: string; alias: string }): Promise<StoredAlias | undefined>;
  /** By name, after `after` (exclusive). */
  stateMachineAliasList(p: { name: string; after?: string; limit: number }): Promise<StoredAlias[]>;
  stateMachineAliasUpdate(p: {
    name: string;
    alias: string;
    description?: string;
    routing?: AliasRoute[];
    now: number;
  }): Promise<{ outcome: 'updated'; alias: StoredAlias } | { outcome: 'missing' | 'missingVersion' }>;
  stateMachineAliasDelete(p: { name: string; alias: string }): Promise<boolean>;

  /** Inserts an execution and its first events; `exists` with the row when the machine already has one of this name. */
  /**
   * Inserts an execution with its first step, only if its name is new. `answer`: a nested execution that
   * ended in its first step answers its parent's `.sync` task in the same transaction, as a last
   * transition does (see ExecutionChange.answer).
   */
  executionStart(p: {
    execution: NewExecution;
    events: StoredEvent[];
    callbacks: NewCallback[];
    answer?: { callbackId: string; completion: CallbackCompletion };
  }): Promise<{ outcome: 'created' } | { outcome: 'exists'; execution: StoredExecution }>;
  executionGet(p: { arn: string }): Promise<StoredExecution | undefined>;
  /** A machine's executions, newest first; `after` is the last one of the previous page. */
  executionList(p: {
    stateMachineArn: string;
    status?: StoredExecutionStatus;
    /** true: only executions redriven at least once; false: only those never redriven. */
    redriven?: boolean;
    /** Only those started on this version's ARN (directly or through an alias), or through this alias. */
    versionArn?: string;
    aliasArn?: string;
    after?: { startedAt: number; arn: string };
    limit: number;
  }): Promise<ExecutionSummary[]>;
  /** One transition (see above); false when the row no longer has `version` (nothing is written). */
  executionTransition(p: ExecutionChange): Promise<boolean>;
  /** The holder extends its lease; false when it lost the execution. */
  executionRenew(p: { arn: string; version: number; leaseUntil: number }): Promise<boolean>;
  /**
   * Claims up to `limit` running executions whose wake instant has come: each gets a new version and is
   * held until `leaseUntil`. Returned with their state.
   */
  executionClaimDue(p: { now: number; leaseUntil: number; limit: number }): Promise<StoredExecution[]>;
  /** The earliest wake instant of any running execution, or null. */
  executionNextWake(): Promise<number | null>;
  /**
   * Deletes up to `limit` finished executions stopped before `stoppedBefore`, with their history;
   * `expressOnly`: only Express executions (their ARN's resource type is `express`).
   */
  executionPurge(p: { stoppedBefore: number; limit: number; expressOnly?: boolean }): Promise<number>;
  /** History events in id order (or reverse), after `afterId` in that order, at most `limit`. */
  executionHistory(p: { arn: string; reverse: boolean; afterId?: number; limit: number }): Promise<StoredEvent[]>;
}

/** Express execution ARNs: `arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>`. */
export const EXPRESS_ARN_PATTERN = 'arn:aws:states:%:express:%';

/** Published when an execution may have become due earlier than nodes know (released, woken, started). */
export const executionsChannel = 'executions';
/** Published when one execution finishes (StartSyncExecution and `waitForExecution` wait on it). */
export const executionChannel = (arn: string): string => `execution:${arn}`;
