/**
 * Row mapping for the state-machine tables and the wake rule, shared by both backends (each backend
 * writes only its SQL): PostgreSQL's bigint columns arrive as numbers or strings, hence Number().
 */
import type { AliasRoute, ExecutionSummary, StoredAlias, StoredEvent, StoredExecution, StoredStateMachine, StoredVersion } from './state-machine-store.js';

export interface MachineRow {
  name: string;
  arn: string;
  type: StoredStateMachine['type'];
  revision_id: number;
  definition: string;
  role_arn: string;
  description: string;
  tags: string;
  managed_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface ExecutionRow {
  arn: string;
  state_machine_arn: string;
  name: string;
  revision_id: number;
  version_arn?: string | null;
  alias_arn?: string | null;
  status: StoredExecution['status'];
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  state: string;
  version: number;
  last_event_id: number;
  started_at: number;
  stopped_at: number | null;
}

export interface EventRow {
  id: number;
  previous_id: number;
  type: string;
  timestamp: number;
  details: string | null;
}

export function toMachine(row: MachineRow): StoredStateMachine {
  return {
    name: row.name,
    arn: row.arn,
    type: row.type,
    revisionId: Number(row.revision_id),
    definition: row.definition,
    roleArn: row.role_arn,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    managedBy: row.managed_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toSummary(row: Omit<ExecutionRow, 'input' | 'output' | 'error' | 'cause' | 'state' | 'version' | 'last_event_id'>): ExecutionSummary {
  return {
    arn: row.arn,
    stateMachineArn: row.state_machine_arn,
    name: row.name,
    status: row.status,
    startedAt: Number(row.started_at),
    stoppedAt: row.stopped_at === null ? null : Number(row.stopped_at),
    revisionId: Number(row.revision_id),
    versionArn: row.version_arn ?? null,
    aliasArn: row.alias_arn ?? null,
  };
}

export function toExecution(row: ExecutionRow): StoredExecution {
  return {
    ...toSummary(row),
    input: row.input,
    output: row.output,
    error: row.error,
    cause: row.cause,
    state: row.state,
    version: Number(row.version),
    lastEventId: Number(row.last_event_id),
  };
}

export function toEvent(row: EventRow): StoredEvent {
  return { id: Number(row.id), previousEventId: Number(row.previous_id), type: row.type, timestamp: Number(row.timestamp), details: row.details };
}

/** The wake instant of a row: the lease end while held, otherwise now if woken, otherwise the due instant. */
export function wakeAt(p: { leaseUntil: number | null; dueAt: number | null; woken: boolean; now: number }): number | null {
  if (p.leaseUntil !== null) return p.leaseUntil;
  return p.woken ? p.now : p.dueAt;
}


export interface VersionRow {
  version: number;
  revision_id: number;
  description: string;
  created_at: number;
}

export interface AliasRow {
  name: string;
  description: string;
  routing: string;
  created_at: number;
  updated_at: number;
}

export function toVersion(row: VersionRow): StoredVersion {
  return { version: Number(row.version), revisionId: Number(row.revision_id), description: row.description, createdAt: Number(row.created_at) };
}

export function toAlias(row: AliasRow): StoredAlias {
  return {
    name: row.name,
    description: row.description,
    routing: JSON.parse(row.routing) as AliasRoute[],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Whether any alias (routing JSON) routes to `version`. */
export function routesTo(routings: string[], version: number): boolean {
  return routings.some((routing) => (JSON.parse(routing) as AliasRoute[]).some((route) => route.version === version));
}
