/**
 * EventBridge Scheduler's operations over Sluice schedules (ScheduleService): CreateSchedule,
 * GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules, and schedule groups (Create, Get, List,
 * DeleteScheduleGroup). A schedule of the `default` group is the Sluice schedule of the same name; one of
 * group G is the Sluice schedule `G.name`. What Scheduler keeps and Sluice schedules do not (the group,
 * the role, the description, the flexible time window, the raw Input) is kept in the cluster catalog
 * beside it (kind `scheduler-schedule`); groups are catalog entries of kind `schedule-group`.
 *
 * Targets: a Lambda function's ARN (invoked with Input as its event) or an SQS queue's ARN (sent Input as
 * the body, SqsParameters.MessageGroupId for FIFO queues). StartDate, EndDate, FlexibleTimeWindow and
 * ActionAfterCompletion map onto the Sluice schedule's bounds and policy; Target.RetryPolicy (default 185
 * retries, 86,400 s, as Scheduler) and Target.DeadLetterConfig (a standard Sluice queue) onto its target's
 * failure policy. Fields Sluice cannot honour (KmsKeyArn, other target types and their parameters) are
 * refused by name: a refused request stores nothing.
 */
import { SCHEDULER_SCHEDULE_KIND } from '../../../catalog/service.js';
import { parseArn, type ArnContext } from '../../../model/arn.js';
import { SluiceError } from '../../../model/errors.js';
import type { ScheduleService } from '../../../schedules/service.js';
import type { TargetInput } from '../../../schedules/target.js';
import type { ScheduleView } from '../../../schedules/types.js';
import type { DeliveryFailurePolicy, ScheduleTarget } from '../../../store/targets.js';
import type { Store } from '../../../store/store.js';

export interface SchedulerContext {
  schedules: ScheduleService;
  store: Store;
  arn: ArnContext;
  now: () => number;
}

type Body = Record<string, unknown>;

const SCHEDULE_KIND = SCHEDULER_SCHEDULE_KIND;
const GROUP_KIND = 'schedule-group';
const DEFAULT_GROUP = 'default';
const NAME_FORM = /^[0-9a-zA-Z\-_.@]{1,64}$/;

/** What Scheduler keeps of a schedule beyond the Sluice schedule. */
interface SchedulerExtras {
  groupName: string;
  name: string;
  description?: string;
  roleArn: string;
  targetArn: string;
  input?: string;
  messageGroupId?: string;
  flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  startDate?: number;
  endDate?: number;
  actionAfterCompletion?: 'NONE' | 'DELETE';
  retryPolicy?: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
  deadLetterArn?: string;
}

export const validation = (message: string, field?: string) => new SluiceError('ValidationException', message, field ? { field } : {});
const notFound = (message: string) => new SluiceError('ResourceNotFoundException', message);
const conflict = (message: string) => new SluiceError('ResourceConflictException', message);

function checkName(value: unknown, member: string): string {
  if (typeof value !== 'string' || !NAME_FORM.test(value)) {
    throw validation(`1 validation error detected: Value '${String(value).slice(0, 100)}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.@]+ and have length between 1 and 64`, member);
  }
  return value;
}

function sluiceName(group: string, name: string): string {
  const full = group === DEFAULT_GROUP ? name : `${group}.${name}`;
  if (full.length > 64 || full.includes('@')) {
    throw validation(`Sluice keeps a schedule of group '${group}' as '${full}', which must be 1-64 letters, digits, '-', '_' or '.': shorten the group or schedule name`, 'Name');
  }
  return full;
}

function scheduleArn(context: SchedulerContext, group: string, name: string): string {
  return `arn:aws:scheduler:${context.arn.region}:${context.arn.accountId}:schedule/${group}/${name}`;
}

function groupArn(context: SchedulerContext, group: string): string {
  return `arn:aws:scheduler:${context.arn.region}:${context.arn.accountId}:schedule-group/${group}`;
}

async function requireGroup(context: SchedulerContext, group: string): Promise<void> {
  if (group === DEFAULT_GROUP) return;
  const groups = await context.store.catalogList({ kind: GROUP_KIND });
  if (!groups.some((entry) => entry.name === group)) throw notFound(`Schedule group ${group} does not exist.`);
}

function refuseUnsupported(body: Body, members: readonly string[], where: string): void {
  for (const key of Object.keys(body)) {
    if (!members.includes(key) && body[key] !== null && body[key] !== undefined) {
      throw validation(`${where}${key.slice(0, 60)} is not supported by Sluice's EventBridge Scheduler API`, `${where}${key}`);
    }
  }
}

const scheduleMembers = ['ScheduleExpression', 'ScheduleExpressionTimezone', 'Target', 'FlexibleTimeWindow', 'GroupName', 'State', 'Description', 'StartDate', 'EndDate', 'ClientToken', 'ActionAfterCompletion'];
const targetMembers = ['Arn', 'RoleArn', 'Input', 'SqsParameters', 'RetryPolicy', 'DeadLetterConfig'];
/** Scheduler's RetryPolicy when none is given (and for a member left out). */
const DEFAULT_RETRY = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 } as const;
const DLQ_ARN_FORM = /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/;

/** Scheduler's (Smithy's) wording of a range refusal. */
function rangeError(member: string, value: unknown, bound: 'min' | 'max', limit: number, field: string): SluiceError {
  const rule = bound === 'min' ? `greater than or equal to ${limit}` : `less than or equal to ${limit}`;
  return validation(`1 validation error detected: Value '${String(value).slice(0, 40)}' at '${member}' failed to satisfy constraint: Member must have value ${rule}`, field);
}

function integerIn(raw: unknown, min: number, max: number, member: string, field: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw)) throw validation(`${field}: expected an integer`, field);
  if (raw < min) throw rangeError(member, raw, 'min', min, field);
  if (raw > max) throw rangeError(member, raw, 'max', max, field);
  return raw;
}

/** Target.RetryPolicy and Target.DeadLetterConfig as the target's failure policy. */
function decodeFailurePolicy(context: SchedulerContext, target: Body): { onFailure: DeliveryFailurePolicy; retry: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number }; dlqArn?: string } {
  const raw = target.RetryPolicy as Body | undefined | null;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw validation('Target.RetryPolicy: expected an object', 'Target.RetryPolicy');
  const policy = raw ?? {};
  const attempts = policy.MaximumRetryAttempts ?? DEFAULT_RETRY.MaximumRetryAttempts;
  const age = policy.MaximumEventAgeInSeconds ?? DEFAULT_RETRY.MaximumEventAgeInSeconds;
  const retry = {
    MaximumRetryAttempts: integerIn(attempts, 0, 185, 'target.retryPolicy.maximumRetryAttempts', 'Target.RetryPolicy.MaximumRetryAttempts'),
    MaximumEventAgeInSeconds: integerIn(age, 60, 86_400, 'target.retryPolicy.maximumEventAgeInSeconds', 'Target.RetryPolicy.MaximumEventAgeInSeconds'),
  };
  const onFailure: DeliveryFailurePolicy = { maximumRetryAttempts: retry.MaximumRetryAttempts, maximumEventAgeSeconds: retry.MaximumEventAgeInSeconds };
  const dlq = target.DeadLetterConfig as Body | undefined | null;
  if (dlq === undefined || dlq === null) return { onFailure, retry };
  if (typeof dlq !== 'object' || Array.isArray(dlq)) throw validation('Target.DeadLetterConfig: expected an object', 'Target.DeadLetterConfig');
  refuseUnsupported(dlq, ['Arn'], 'Target.DeadLetterConfig.');
  const arnText = stringMember(dlq, 'Arn', false);
  if (arnText === undefined) return { onFailure, retry };
  if (arnText.length > 1600 || !DLQ_ARN_FORM.test(arnText)) {
    throw validation(
      `1 validation error detected: Value '${arnText.slice(0, 200)}' at 'target.deadLetterConfig.arn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+`,
      'Target.DeadLetterConfig.Arn',
    );
  }
  const arn = parseArn(arnText);
  if (!arn || arn.region !== context.arn.region || arn.accountId !== context.arn.accountId) {
    throw validation(`Target.DeadLetterConfig.Arn ${arnText.slice(0, 200)} is not an SQS queue of this node (${context.arn.region}, ${context.arn.accountId})`, 'Target.DeadLetterConfig.Arn');
  }
  return { onFailure: { ...onFailure, deadLetterQueue: arn.resource }, retry, dlqArn: arnText };
}

interface Decoded {
  group: string;
  name: string;
  sluiceName: string;
  expression: string;
  timezone?: string;
  state: 'ENABLED' | 'DISABLED';
  target: TargetInput;
  extras: SchedulerExtras;
  startDate?: number;
  endDate?: number;
  flexibleWindowMinutes: number;
  deleteAfterCompletion: boolean;
}

function stringMember(body: Body, key: string, required: boolean): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (required) throw validation(`1 validation error detected: Value null at '${key.charAt(0).toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`, key);
    return undefined;
  }
  if (typeof value !== 'string') throw validation(`${key}: expected a string`, key);
  return value;
}

type DecodedTarget = { target: TargetInput; arn: string; role: string; input?: string; messageGroupId?: string };

function decodeTarget(context: SchedulerContext, raw: unknown): DecodedTarget & ReturnType<typeof decodeFailurePolicy> {
  const decoded = decodeTargetOnly(context, raw);
  const failure = decodeFailurePolicy(context, raw as Body);
  return { ...decoded, ...failure, target: { ...decoded.target, onFailure: failure.onFailure } as TargetInput };
}

function decodeTargetOnly(context: SchedulerContext, raw: unknown): DecodedTarget {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw validation("1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null", 'Target');
  }
  const target = raw as Body;
  refuseUnsupported(target, targetMembers, 'Target.');
  const arnText = stringMember(target, 'Arn', true)!;
  const role = stringMember(target, 'RoleArn', true)!;
  const input = stringMember(target, 'Input', false);
  const sqs = target.SqsParameters as Body | undefined;
  const messageGroupId = sqs && typeof sqs === 'object' ? stringMember(sqs, 'MessageGroupId', false) : undefined;
  const arn = parseArn(arnText);
  const local = arn && arn.region === context.arn.region && arn.accountId === context.arn.accountId;
  if (local && arn.service === 'lambda' && arn.resource.startsWith('function:')) {
    if (sqs) throw validation('Target.SqsParameters is only valid with an SQS queue target', 'Target.SqsParameters');
    let event: unknown;
    if (input !== undefined) {
      try {
        event = JSON.parse(input) as unknown;
      } catch {
        throw validation('Target.Input must be valid JSON for a Lambda function target', 'Target.Input');
      }
    }
    const name = arn.resource.slice('function:'.length).split(':')[0]!;
    return { target: event === undefined ? { function: name } : { function: name, input: event }, arn: arnText, role, ...(input !== undefined ? { input } : {}) };
  }
  if (local && arn.service === 'sqs' && arn.resource !== '') {
    return {
      target: { queue: arn.resource, ...(input !== undefined ? { body: input } : {}), ...(messageGroupId !== undefined ? { messageGroupId } : {}) },
      arn: arnText,
      role,
      ...(input !== undefined ? { input } : {}),
      ...(messageGroupId !== undefined ? { messageGroupId } : {}),
    };
  }
  throw validation(`Target.Arn ${arnText.slice(0, 200)} is not a Lambda function or an SQS queue of this node (${context.arn.region}, ${context.arn.accountId})`, 'Target.Arn');
}

function decodeSchedule(context: SchedulerContext, nameParam: string, body: Body): Decoded {
  refuseUnsupported(body, scheduleMembers, '');
  const name = checkName(nameParam, 'name');
  const group = body.GroupName === undefined || body.GroupName === null ? DEFAULT_GROUP : checkName(body.GroupName, 'groupName');
  const expression = stringMember(body, 'ScheduleExpression', true)!;
  const timezone = stringMember(body, 'ScheduleExpressionTimezone', false);
  const description = stringMember(body, 'Description', false);
  if (description !== undefined && description.length > 512) throw validation('Description must be at most 512 characters', 'Description');
  const state = stringMember(body, 'State', false) ?? 'ENABLED';
  if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`1 validation error detected: Value '${state.slice(0, 40)}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`, 'State');
  const after = stringMember(body, 'ActionAfterCompletion', false) ?? 'NONE';
  if (after !== 'NONE' && after !== 'DELETE') {
    throw validation(`1 validation error detected: Value '${after.slice(0, 40)}' at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]`, 'ActionAfterCompletion');
  }
  const window = body.FlexibleTimeWindow as Body | undefined;
  if (!window || typeof window !== 'object') throw validation("1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null", 'FlexibleTimeWindow');
  const mode = stringMember(window, 'Mode', true)!;
  const maximum = window.MaximumWindowInMinutes;
  if (mode === 'OFF' && maximum !== undefined) throw validation('MaximumWindowInMinutes is only valid with Mode FLEXIBLE', 'FlexibleTimeWindow.MaximumWindowInMinutes');
  if (mode === 'FLEXIBLE' && (typeof maximum !== 'number' || !Number.isInteger(maximum) || maximum < 1 || maximum > 1440)) {
    throw validation('MaximumWindowInMinutes must be an integer from 1 to 1440 with Mode FLEXIBLE', 'FlexibleTimeWindow.MaximumWindowInMinutes');
  }
  if (mode !== 'OFF' && mode !== 'FLEXIBLE') throw validation(`FlexibleTimeWindow.Mode must be OFF or FLEXIBLE`, 'FlexibleTimeWindow.Mode');
  const start = body.StartDate ?? undefined;
  if (start !== undefined && typeof start !== 'number') throw validation('StartDate: expected a timestamp', 'StartDate');
  const end = body.EndDate ?? undefined;
  if (end !== undefined && typeof end !== 'number') throw validation('EndDate: expected a timestamp', 'EndDate');
  if (end !== undefined && end * 1000 <= context.now()) throw validation('The EndDate you specify must be in the future.', 'EndDate');
  if (end !== undefined && start !== undefined && end <= start) throw validation('The EndDate you specify must be after the StartDate.', 'EndDate');
  const target = decodeTarget(context, body.Target);
  return {
    group,
    name,
    sluiceName: sluiceName(group, name),
    expression,
    ...(timezone !== undefined ? { timezone } : {}),
    state,
    target: target.target,
    ...(start !== undefined ? { startDate: start * 1000 } : {}),
    ...(end !== undefined ? { endDate: end * 1000 } : {}),
    flexibleWindowMinutes: mode === 'FLEXIBLE' ? (maximum as number) : 0,
    deleteAfterCompletion: after === 'DELETE',
    extras: {
      groupName: group,
      name,
      ...(description !== undefined ? { description } : {}),
      roleArn: target.role,
      targetArn: target.arn,
      ...(target.input !== undefined ? { input: target.input } : {}),
      ...(target.messageGroupId !== undefined ? { messageGroupId: target.messageGroupId } : {}),
      flexibleTimeWindow: mode === 'FLEXIBLE' ? { Mode: mode, MaximumWindowInMinutes: maximum as number } : { Mode: 'OFF' },
      ...(start !== undefined ? { startDate: start * 1000 } : {}),
      ...(end !== undefined ? { endDate: end * 1000 } : {}),
      actionAfterCompletion: after,
      retryPolicy: target.retry,
      ...(target.dlqArn !== undefined ? { deadLetterArn: target.dlqArn } : {}),
    },
  };
}

/** Sluice's refusals of expressions, time zones and targets, in Scheduler's ValidationException. */
async function asScheduler<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SluiceError && (error.code === 'InvalidParameterValue' || error.code === 'MissingParameter')) {
      throw validation(error.message, error.field);
    }
    throw error;
  }
}

async function extrasOf(context: SchedulerContext): Promise<Map<string, SchedulerExtras>> {
  const entries = await context.store.catalogList({ kind: SCHEDULE_KIND });
  return new Map(entries.map((entry) => [entry.name, JSON.parse(entry.definition) as SchedulerExtras]));
}

async function putExtras(context: SchedulerContext, sluice: string, extras: SchedulerExtras): Promise<void> {
  await context.store.catalogPut({ kind: SCHEDULE_KIND, name: sluice, definition: JSON.stringify(extras), modifiedAt: context.now() });
}

/** The Scheduler identity of a Sluice schedule: its extras, or the default group for one made elsewhere. */
function identityOf(view: ScheduleView, extras: SchedulerExtras | undefined): { group: string; name: string } {
  return extras ? { group: extras.groupName, name: extras.name } : { group: DEFAULT_GROUP, name: view.name };
}

function targetArnOf(context: SchedulerContext, target: ScheduleTarget): string {
  if (target.kind === 'function') return `arn:aws:lambda:${context.arn.region}:${context.arn.accountId}:function:${target.functionName}`;
  if (target.kind === 'queue') return `arn:aws:sqs:${context.arn.region}:${context.arn.accountId}:${target.queue}`;
  return `arn:sluice:batch:${context.arn.region}:${context.arn.accountId}:${target.processor}`;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

export async function createSchedule(context: SchedulerContext, nameParam: string, body: Body): Promise<Body> {
  const decoded = decodeSchedule(context, nameParam, body);
  await requireGroup(context, decoded.group);
  const existing = await context.schedules.list(decoded.sluiceName);
  if (existing.some((view) => view.name === decoded.sluiceName)) throw conflict(`Schedule ${decoded.name} already exists.`);
  await asScheduler(() =>
    context.schedules.create({
      name: decoded.sluiceName,
      expression: decoded.expression,
      ...(decoded.timezone !== undefined ? { timezone: decoded.timezone } : {}),
      target: decoded.target,
      state: decoded.state,
      ...(decoded.startDate !== undefined ? { startDate: decoded.startDate } : {}),
      ...(decoded.endDate !== undefined ? { endDate: decoded.endDate } : {}),
      flexibleWindowMinutes: decoded.flexibleWindowMinutes,
      deleteAfterCompletion: decoded.deleteAfterCompletion,
    }),
  );
  await putExtras(context, decoded.sluiceName, decoded.extras);
  return { ScheduleArn: scheduleArn(context, decoded.group, decoded.name) };
}

export async function updateSchedule(context: SchedulerContext, nameParam: string, body: Body): Promise<Body> {
  const decoded = decodeSchedule(context, nameParam, body);
  await requireGroup(context, decoded.group);
  await requireSchedule(context, decoded.sluiceName, decoded.name);
  await asScheduler(() =>
    context.schedules.update(decoded.sluiceName, {
      expression: decoded.expression,
      timezone: decoded.timezone ?? 'UTC',
      target: decoded.target,
      state: decoded.state,
      // UpdateSchedule replaces the whole definition: what is left out is cleared. A StartDate left out
      // is none, so the schedule starts (and a rate() counts) from now, not from a former StartDate.
      startDate: decoded.startDate ?? context.now(),
      endDate: decoded.endDate ?? null,
      flexibleWindowMinutes: decoded.flexibleWindowMinutes,
      deleteAfterCompletion: decoded.deleteAfterCompletion,
    }),
  );
  await putExtras(context, decoded.sluiceName, decoded.extras);
  return { ScheduleArn: scheduleArn(context, decoded.group, decoded.name) };
}

async function requireSchedule(context: SchedulerContext, sluice: string, name: string): Promise<ScheduleView> {
  const [view] = (await context.schedules.list(sluice)).filter((candidate) => candidate.name === sluice);
  if (!view) throw notFound(`Schedule ${name} does not exist.`);
  return view;
}

function groupParam(raw: string | undefined): string {
  return raw === undefined ? DEFAULT_GROUP : checkName(raw, 'groupName');
}

export async function getSchedule(context: SchedulerContext, nameParam: string, groupRaw: string | undefined): Promise<Body> {
  const name = checkName(nameParam, 'name');
  const group = groupParam(groupRaw);
  const sluice = sluiceName(group, name);
  const view = await requireSchedule(context, sluice, name);
  const extras = (await extrasOf(context)).get(sluice);
  if (identityOf(view, extras).group !== group) throw notFound(`Schedule ${name} does not exist.`);
  const target = view.target;
  return {
    Arn: scheduleArn(context, group, name),
    GroupName: group,
    Name: name,
    ScheduleExpression: view.expression,
    ScheduleExpressionTimezone: view.timezone,
    State: view.state,
    CreationDate: seconds(view.createdAt),
    LastModificationDate: seconds(view.modifiedAt),
    ...(extras?.description !== undefined ? { Description: extras.description } : {}),
    ...(extras?.startDate !== undefined ? { StartDate: extras.startDate / 1000 } : {}),
    ...(view.endDate !== null ? { EndDate: Date.parse(view.endDate) / 1000 } : {}),
    FlexibleTimeWindow: extras?.flexibleTimeWindow ?? { Mode: 'OFF' },
    ActionAfterCompletion: view.deleteAfterCompletion ? 'DELETE' : 'NONE',
    Target: {
      Arn: extras?.targetArn ?? targetArnOf(context, target),
      RoleArn: extras?.roleArn ?? `arn:aws:iam::${context.arn.accountId}:role/sluice-scheduler`,
      ...(extras?.input !== undefined ? { Input: extras.input } : {}),
      ...(extras?.messageGroupId !== undefined ? { SqsParameters: { MessageGroupId: extras.messageGroupId } } : {}),
      ...(extras?.retryPolicy !== undefined ? { RetryPolicy: extras.retryPolicy } : {}),
      ...(extras?.deadLetterArn !== undefined ? { DeadLetterConfig: { Arn: extras.deadLetterArn } } : {}),
    },
  };
}

export async function deleteSchedule(context: SchedulerContext, nameParam: string, groupRaw: string | undefined): Promise<Body> {
  const name = checkName(nameParam, 'name');
  const group = groupParam(groupRaw);
  const sluice = sluiceName(group, name);
  const view = await requireSchedule(context, sluice, name);
  if (identityOf(view, (await extrasOf(context)).get(sluice)).group !== group) throw notFound(`Schedule ${name} does not exist.`);
  await context.schedules.delete(sluice);
  await context.store.catalogDelete({ kind: SCHEDULE_KIND, name: sluice });
  return {};
}

/** Pages by an opaque token: the last name returned, base64url. */
function pageOf<T>(items: T[], keyOf: (item: T) => string, token: string | undefined, maxRaw: string | undefined): { items: T[]; next?: string } {
  const max = maxRaw === undefined ? 100 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw validation('MaxResults must be an integer from 1 to 100', 'MaxResults');
  const after = token === undefined ? undefined : Buffer.from(token, 'base64url').toString('utf8');
  const rest = after === undefined ? items : items.filter((item) => keyOf(item) > after);
  const slice = rest.slice(0, max);
  const last = slice[slice.length - 1];
  return rest.length > max && last !== undefined ? { items: slice, next: Buffer.from(keyOf(last), 'utf8').toString('base64url') } : { items: slice };
}

export async function listSchedules(
  context: SchedulerContext,
  query: { group?: string; prefix?: string; state?: string; token?: string; max?: string },
): Promise<Body> {
  if (query.state !== undefined && query.state !== 'ENABLED' && query.state !== 'DISABLED') throw validation('State must be ENABLED or DISABLED', 'State');
  const extras = await extrasOf(context);
  const rows = (await context.schedules.list())
    .map((view) => ({ view, ...identityOf(view, extras.get(view.name)), extras: extras.get(view.name) }))
    .filter((row) => (query.group === undefined || row.group === query.group) && (query.prefix === undefined || row.name.startsWith(query.prefix)) && (query.state === undefined || row.view.state === query.state))
    .sort((a, b) => (`${a.group}/${a.name}` < `${b.group}/${b.name}` ? -1 : 1));
  const { items, next } = pageOf(rows, (row) => `${row.group}/${row.name}`, query.token, query.max);
  return {
    Schedules: items.map((row) => ({
      Arn: scheduleArn(context, row.group, row.name),
      Name: row.name,
      GroupName: row.group,
      State: row.view.state,
      CreationDate: seconds(row.view.createdAt),
      LastModificationDate: seconds(row.view.modifiedAt),
      Target: { Arn: row.extras?.targetArn ?? targetArnOf(context, row.view.target) },
    })),
    ...(next ? { NextToken: next } : {}),
  };
}

// ---------------------------------------------------------------- schedule groups

export async function createScheduleGroup(context: SchedulerContext, nameParam: string, body: Body): Promise<Body> {
  const name = checkName(nameParam, 'name');
  refuseUnsupported(body, ['ClientToken'], '');
  if (name === DEFAULT_GROUP) throw conflict('Schedule group default already exists.');
  const outcome = await context.store.catalogPut({ kind: GROUP_KIND, name, definition: '{}', modifiedAt: context.now(), ifRevision: null });
  if (!outcome.written) throw conflict(`Schedule group ${name} already exists.`);
  return { ScheduleGroupArn: groupArn(context, name) };
}

function groupView(context: SchedulerContext, name: string, created: number, modified: number): Body {
  return { Arn: groupArn(context, name), Name: name, State: 'ACTIVE', CreationDate: created / 1000, LastModificationDate: modified / 1000 };
}

export async function getScheduleGroup(context: SchedulerContext, nameParam: string): Promise<Body> {
  const name = checkName(nameParam, 'name');
  if (name === DEFAULT_GROUP) return groupView(context, name, 0, 0);
  const entry = (await context.store.catalogList({ kind: GROUP_KIND })).find((candidate) => candidate.name === name);
  if (!entry) throw notFound(`Schedule group ${name} does not exist.`);
  return groupView(context, name, entry.modifiedAt, entry.modifiedAt);
}

export async function listScheduleGroups(context: SchedulerContext, query: { prefix?: string; token?: string; max?: string }): Promise<Body> {
  const groups = [
    groupView(context, DEFAULT_GROUP, 0, 0),
    ...(await context.store.catalogList({ kind: GROUP_KIND })).map((entry) => groupView(context, entry.name, entry.modifiedAt, entry.modifiedAt)),
  ]
    .filter((group) => query.prefix === undefined || (group.Name as string).startsWith(query.prefix))
    .sort((a, b) => ((a.Name as string) < (b.Name as string) ? -1 : 1));
  const { items, next } = pageOf(groups, (group) => group.Name as string, query.token, query.max);
  return { ScheduleGroups: items, ...(next ? { NextToken: next } : {}) };
}

/** Deletes a group and every schedule in it (Scheduler does the same). */
export async function deleteScheduleGroup(context: SchedulerContext, nameParam: string): Promise<Body> {
  const name = checkName(nameParam, 'name');
  if (name === DEFAULT_GROUP) throw validation('The default schedule group cannot be deleted.', 'Name');
  await requireGroup(context, name);
  for (const [sluice, extras] of await extrasOf(context)) {
    if (extras.groupName !== name) continue;
    await context.schedules.delete(sluice).catch(() => undefined);
    await context.store.catalogDelete({ kind: SCHEDULE_KIND, name: sluice });
  }
  await context.store.catalogDelete({ kind: GROUP_KIND, name });
  return {};
}
