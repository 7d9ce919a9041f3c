/**
 * The Step Functions API operations over the JSON protocol: each one decodes its request (zod, member
 * names as AWS spells them), calls the engine's `stateMachines` or `callbacks` (the same calls the
 * library makes) and encodes the answer: timestamps as epoch seconds, tags as `[{key, value}]`. No
 * semantics live here.
 */
import { z } from 'zod';
import type { CallbackService } from '../../callbacks/service.js';
import { SluiceError } from '../../model/errors.js';
import type { ExecutionView, HistoryEventView, StateMachineService, StateMachineView } from '../../states/service.js';

const arn = z.string().min(1).max(2048);
const name = z.string().min(1).max(80);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(1024).optional();
const tags = z.array(z.object({ key: z.string().min(1).max(128), value: z.string().max(256) })).max(50);
const taskToken = z.string().min(1).max(2048);
const status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);

/** Members the SDK may send that Sluice accepts and ignores (logging, tracing, encryption). */
const ignored = {
  loggingConfiguration: z.unknown().optional(),
  tracingConfiguration: z.unknown().optional(),
  encryptionConfiguration: z.unknown().optional(),
};
/** `publish: true` on create and update publishes the resulting revision as a version. */
const publishing = { publish: z.boolean().optional(), versionDescription: z.string().max(256).optional() };
const description = z.string().max(256).optional();
const routingConfiguration = z.array(z.object({ stateMachineVersionArn: arn, weight: z.number().int().min(0).max(100) }).strict()).min(1).max(2);

export const sfnSchemas = {
  SendTaskSuccess: z.object({ taskToken, output: z.string().max(262_144) }).strict(),
  SendTaskFailure: z.object({ taskToken, error: z.string().optional(), cause: z.string().optional() }).strict(),
  SendTaskHeartbeat: z.object({ taskToken }).strict(),
  CreateStateMachine: z
    .object({ name, definition: z.string().min(1).max(1_048_576), roleArn: arn, type: z.enum(['STANDARD', 'EXPRESS']).optional(), tags: tags.optional(), ...ignored, ...publishing })
    .strict(),
  DescribeStateMachine: z.object({ stateMachineArn: arn, includedData: z.string().optional() }).strict(),
  UpdateStateMachine: z
    .object({ stateMachineArn: arn, definition: z.string().min(1).max(1_048_576).optional(), roleArn: arn.optional(), ...ignored, ...publishing })
    .strict(),
  DeleteStateMachine: z.object({ stateMachineArn: arn }).strict(),
  ListStateMachines: z.object({ maxResults, nextToken }).strict(),
  ValidateStateMachineDefinition: z
    .object({ definition: z.string().min(1).max(1_048_576), type: z.enum(['STANDARD', 'EXPRESS']).optional(), severity: z.string().optional(), maxResults })
    .strict(),
  StartExecution: z.object({ stateMachineArn: arn, name: name.optional(), input: z.string().optional(), traceHeader: z.string().optional() }).strict(),
  StartSyncExecution: z
    .object({ stateMachineArn: arn, name: name.optional(), input: z.string().optional(), traceHeader: z.string().optional(), includedData: z.string().optional() })
    .strict(),
  DescribeExecution: z.object({ executionArn: arn, includedData: z.string().optional() }).strict(),
  DescribeStateMachineForExecution: z.object({ executionArn: arn, includedData: z.string().optional() }).strict(),
  ListExecutions: z
    .object({ stateMachineArn: arn.optional(), mapRunArn: arn.optional(), statusFilter: status.optional(), maxResults, nextToken, redriveFilter: z.enum(['REDRIVEN', 'NOT_REDRIVEN']).optional() })
    .strict(),
  RedriveExecution: z.object({ executionArn: arn, clientToken: z.string().min(1).max(64).optional() }).strict(),
  StopExecution: z.object({ executionArn: arn, error: z.string().max(256).optional(), cause: z.string().max(32_768).optional() }).strict(),
  GetExecutionHistory: z
    .object({ executionArn: arn, maxResults, reverseOrder: z.boolean().optional(), nextToken, includeExecutionData: z.boolean().optional() })
    .strict(),
  PublishStateMachineVersion: z.object({ stateMachineArn: arn, revisionId: z.string().optional(), description }).strict(),
  ListStateMachineVersions: z.object({ stateMachineArn: arn, maxResults, nextToken }).strict(),
  DeleteStateMachineVersion: z.object({ stateMachineVersionArn: arn }).strict(),
  CreateStateMachineAlias: z.object({ name, description, routingConfiguration }).strict(),
  DescribeStateMachineAlias: z.object({ stateMachineAliasArn: arn }).strict(),
  UpdateStateMachineAlias: z.object({ stateMachineAliasArn: arn, description, routingConfiguration: routingConfiguration.optional() }).strict(),
  DeleteStateMachineAlias: z.object({ stateMachineAliasArn: arn }).strict(),
  ListStateMachineAliases: z.object({ stateMachineArn: arn, maxResults, nextToken }).strict(),
  CreateActivity: z.object({ name, tags: tags.optional(), encryptionConfiguration: z.unknown().optional() }).strict(),
  DescribeActivity: z.object({ activityArn: arn }).strict(),
  ListActivities: z.object({ maxResults, nextToken }).strict(),
  DeleteActivity: z.object({ activityArn: arn }).strict(),
  GetActivityTask: z.object({ activityArn: arn, workerName: z.string().min(1).max(80).optional() }).strict(),
  TagResource: z.object({ resourceArn: arn, tags }).strict(),
  UntagResource: z.object({ resourceArn: arn, tagKeys: z.array(z.string()).max(50) }).strict(),
  ListTagsForResource: z.object({ resourceArn: arn }).strict(),
} as const;

export type SfnOperation = keyof typeof sfnSchemas;
type Input<O extends SfnOperation> = z.output<(typeof sfnSchemas)[O]>;

export interface SfnDeps {
  callbacks: CallbackService;
  stateMachines: StateMachineService;
  /** The node is closing: long polls end. */
  shutdown?: AbortSignal;
}

const seconds = (date: Date | undefined): number | undefined => (date === undefined ? undefined : date.getTime() / 1000);
const tagMap = (list: { key: string; value: string }[] = []): Record<string, string> => Object.fromEntries(list.map((t) => [t.key, t.value]));
const tagList = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

function describeMachine(m: StateMachineView) {
  return {
    stateMachineArn: m.stateMachineArn,
    name: m.name,
    status: m.status,
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: seconds(m.creationDate),
    ...(m.description ? { description: m.description } : {}),
    revisionId: m.revisionId,
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

function describeExecution(e: ExecutionView) {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    ...(e.stateMachineVersionArn !== undefined ? { stateMachineVersionArn: e.stateMachineVersionArn } : {}),
    ...(e.stateMachineAliasArn !== undefined ? { stateMachineAliasArn: e.stateMachineAliasArn } : {}),
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    ...(e.stopDate ? { stopDate: seconds(e.stopDate) } : {}),
    input: e.input,
    inputDetails: { included: true },
    ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
}

function encodeEvent(e: HistoryEventView) {
  return { ...e, timestamp: seconds(e.timestamp) };
}

/** Tags are kept on state machines; other ARNs are ResourceNotFound, as AWS answers. */
/** Tag calls name a state machine or an activity (AWS tags both). */
const isActivityArn = (arn: string) => /^arn:aws:states:[^:]*:[^:]*:activity:[^:]+$/.test(arn);

/**
 * The machine a tag call names. AWS documents tags on state machines and activities only, so a version's
 * or alias's ARN is refused, with ResourceNotFound, the name Step Functions' model gives these calls.
 */
function machineOfResource(resourceArn: string): string {
  if (/^arn:aws:states:[^:]*:[^:]*:stateMachine:[^:]+:[^:]+$/.test(resourceArn))
    throw new SluiceError('ResourceNotFound', `Resource not found: '${resourceArn}' is a state machine version or alias, which take no tags; tag the state machine`, { field: 'resourceArn' });
  if (!/^arn:aws:states:[^:]*:[^:]*:stateMachine:[^:]+$/.test(resourceArn))
    throw new SluiceError('ResourceNotFound', `Resource not found: '${resourceArn}' is not a state machine of this node`, { field: 'resourceArn' });
  return resourceArn;
}

export const sfnHandlers: { [O in SfnOperation]: (deps: SfnDeps, input: Input<O>) => Promise<object> } = {
  async SendTaskSuccess({ callbacks }, { taskToken: token, output }) {
    await callbacks.sendTaskSuccess(token, output);
    return {};
  },
  async SendTaskFailure({ callbacks }, { taskToken: token, error, cause }) {
    await callbacks.sendTaskFailure(token, { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
    return {};
  },
  async SendTaskHeartbeat({ callbacks }, { taskToken: token }) {
    await callbacks.sendTaskHeartbeat(token);
    return {};
  },
  async CreateStateMachine({ stateMachines }, input) {
    const m = await stateMachines.create({
      name: input.name,
      definition: input.definition,
      roleArn: input.roleArn,
      ...(input.type ? { type: input.type } : {}),
      tags: tagMap(input.tags),
      ...(input.publish ? { publish: true } : {}),
      ...(input.versionDescription !== undefined ? { versionDescription: input.versionDescription } : {}),
    });
    return { stateMachineArn: m.stateMachineArn, creationDate: seconds(m.creationDate), ...(m.stateMachineVersionArn ? { stateMachineVersionArn: m.stateMachineVersionArn } : {}) };
  },
  async DescribeStateMachine({ stateMachines }, { stateMachineArn }) {
    return describeMachine(await stateMachines.describe(stateMachineArn));
  },
  async UpdateStateMachine({ stateMachines }, input) {
    const updated = await stateMachines.update(input.stateMachineArn, {
      ...(input.definition !== undefined ? { definition: input.definition } : {}),
      ...(input.roleArn !== undefined ? { roleArn: input.roleArn } : {}),
      ...(input.publish ? { publish: true } : {}),
      ...(input.versionDescription !== undefined ? { versionDescription: input.versionDescription } : {}),
    });
    return {
      updateDate: seconds(updated.updateDate),
      revisionId: updated.revisionId,
      ...(updated.stateMachineVersionArn ? { stateMachineVersionArn: updated.stateMachineVersionArn } : {}),
    };
  },
  async DeleteStateMachine({ stateMachines }, { stateMachineArn }) {
    await stateMachines.delete(stateMachineArn);
    return {};
  },
  async ListStateMachines({ stateMachines }, input) {
    const page = await stateMachines.list({ ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}), ...(input.nextToken ? { nextToken: input.nextToken } : {}) });
    return {
      stateMachines: page.stateMachines.map((m) => ({ stateMachineArn: m.stateMachineArn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  },
  async ValidateStateMachineDefinition({ stateMachines }, input) {
    const { result, diagnostics } = stateMachines.validate(input.definition);
    const limit = input.maxResults || 100;
    return { result, diagnostics: diagnostics.slice(0, limit), truncated: diagnostics.length > limit };
  },
  async StartExecution({ stateMachines }, input) {
    const started = await stateMachines.startExecution(input.stateMachineArn, { ...(input.name ? { name: input.name } : {}), ...(input.input !== undefined ? { input: input.input } : {}) });
    return { executionArn: started.executionArn, startDate: seconds(started.startDate) };
  },
  async StartSyncExecution({ stateMachines }, input) {
    const done = await stateMachines.startSyncExecution(input.stateMachineArn, { ...(input.name ? { name: input.name } : {}), ...(input.input !== undefined ? { input: input.input } : {}) });
    const view = describeExecution(done);
    return { ...view, billingDetails: { billedMemoryUsedInMB: 64, billedDurationInMilliseconds: Math.max(100, (done.stopDate?.getTime() ?? 0) - done.startDate.getTime()) } };
  },
  async DescribeExecution({ stateMachines }, { executionArn }) {
    const e = await stateMachines.describeExecution(executionArn);
    return {
      ...describeExecution(e),
      redriveCount: e.redriveCount ?? 0,
      ...(e.redriveDate ? { redriveDate: seconds(e.redriveDate) } : {}),
      redriveStatus: e.redriveStatus ?? 'NOT_REDRIVABLE',
      ...(e.redriveStatusReason ? { redriveStatusReason: e.redriveStatusReason } : {}),
    };
  },
  async RedriveExecution({ stateMachines }, { executionArn, clientToken }) {
    const { redriveDate } = await stateMachines.redriveExecution(executionArn, clientToken !== undefined ? { clientToken } : {});
    return { redriveDate: seconds(redriveDate) };
  },
  async DescribeStateMachineForExecution({ stateMachines }, { executionArn }) {
    const m = await stateMachines.describeStateMachineForExecution(executionArn);
    return { stateMachineArn: m.stateMachineArn, name: m.name, definition: m.definition, roleArn: m.roleArn, updateDate: seconds(m.updateDate), revisionId: m.revisionId };
  },
  async ListExecutions({ stateMachines }, input) {
    if (!input.stateMachineArn) throw new SluiceError('ValidationException', 'stateMachineArn: is required (Sluice has no map runs)', { field: 'stateMachineArn' });
    if (input.statusFilter === 'PENDING_REDRIVE') return { executions: [] };
    const page = await stateMachines.listExecutions(input.stateMachineArn, {
      ...(input.statusFilter ? { statusFilter: input.statusFilter } : {}),
      ...(input.redriveFilter ? { redriveFilter: input.redriveFilter } : {}),
      ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}),
      ...(input.nextToken ? { nextToken: input.nextToken } : {}),
    });
    return {
      executions: page.executions.map((e) => ({ ...e, startDate: seconds(e.startDate), ...(e.stopDate ? { stopDate: seconds(e.stopDate) } : {}) })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  },
  async StopExecution({ stateMachines }, input) {
    const stopped = await stateMachines.stopExecution(input.executionArn, { ...(input.error !== undefined ? { error: input.error } : {}), ...(input.cause !== undefined ? { cause: input.cause } : {}) });
    return { stopDate: seconds(stopped.stopDate) };
  },
  async GetExecutionHistory({ stateMachines }, input) {
    const page = await stateMachines.history(input.executionArn, {
      ...(input.reverseOrder !== undefined ? { reverseOrder: input.reverseOrder } : {}),
      ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}),
      ...(input.nextToken ? { nextToken: input.nextToken } : {}),
      ...(input.includeExecutionData !== undefined ? { includeExecutionData: input.includeExecutionData } : {}),
    });
    return { events: page.events.map(encodeEvent), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  },
  async PublishStateMachineVersion({ stateMachines }, input) {
    const v = await stateMachines.versions.publish(input.stateMachineArn, {
      ...(input.revisionId !== undefined ? { revisionId: input.revisionId } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    });
    return { stateMachineVersionArn: v.stateMachineVersionArn, creationDate: seconds(v.creationDate) };
  },
  async ListStateMachineVersions({ stateMachines }, input) {
    const page = await stateMachines.versions.list(input.stateMachineArn, { ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}), ...(input.nextToken ? { nextToken: input.nextToken } : {}) });
    return {
      stateMachineVersions: page.stateMachineVersions.map((v) => ({ stateMachineVersionArn: v.stateMachineVersionArn, creationDate: seconds(v.creationDate) })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  },
  async DeleteStateMachineVersion({ stateMachines }, input) {
    await stateMachines.versions.delete(input.stateMachineVersionArn);
    return {};
  },
  async CreateStateMachineAlias({ stateMachines }, input) {
    const a = await stateMachines.versions.createAlias({
      name: input.name,
      routingConfiguration: input.routingConfiguration,
      ...(input.description !== undefined ? { description: input.description } : {}),
    });
    return { stateMachineAliasArn: a.stateMachineAliasArn, creationDate: seconds(a.creationDate) };
  },
  async DescribeStateMachineAlias({ stateMachines }, input) {
    const a = await stateMachines.versions.describeAlias(input.stateMachineAliasArn);
    return {
      stateMachineAliasArn: a.stateMachineAliasArn,
      name: a.name,
      ...(a.description ? { description: a.description } : {}),
      routingConfiguration: a.routingConfiguration,
      creationDate: seconds(a.creationDate),
      updateDate: seconds(a.updateDate),
    };
  },
  async UpdateStateMachineAlias({ stateMachines }, input) {
    const { updateDate } = await stateMachines.versions.updateAlias(input.stateMachineAliasArn, {
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.routingConfiguration !== undefined ? { routingConfiguration: input.routingConfiguration } : {}),
    });
    return { updateDate: seconds(updateDate) };
  },
  async DeleteStateMachineAlias({ stateMachines }, input) {
    await stateMachines.versions.deleteAlias(input.stateMachineAliasArn);
    return {};
  },
  async ListStateMachineAliases({ stateMachines }, input) {
    const page = await stateMachines.versions.listAliases(input.stateMachineArn, { ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}), ...(input.nextToken ? { nextToken: input.nextToken } : {}) });
    return {
      stateMachineAliases: page.stateMachineAliases.map((a) => ({ stateMachineAliasArn: a.stateMachineAliasArn, creationDate: seconds(a.creationDate) })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  },
  async CreateActivity({ stateMachines }, input) {
    const a = await stateMachines.activities.create({ name: input.name, tags: tagMap(input.tags) });
    return { activityArn: a.activityArn, creationDate: seconds(a.creationDate) };
  },
  async DescribeActivity({ stateMachines }, { activityArn }) {
    const a = await stateMachines.activities.describe(activityArn);
    return { activityArn: a.activityArn, name: a.name, creationDate: seconds(a.creationDate) };
  },
  async ListActivities({ stateMachines }, input) {
    const page = await stateMachines.activities.list({ ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}), ...(input.nextToken ? { nextToken: input.nextToken } : {}) });
    return {
      activities: page.activities.map((a) => ({ activityArn: a.activityArn, name: a.name, creationDate: seconds(a.creationDate) })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  },
  async DeleteActivity({ stateMachines }, { activityArn }) {
    await stateMachines.activities.delete(activityArn);
    return {};
  },
  async GetActivityTask({ stateMachines, shutdown }, { activityArn, workerName }) {
    // Long poll: up to 60 s for a task, woken when one is added; `{}` when none came or the node closes.
    const options = { ...(shutdown ? { signal: shutdown } : {}), ...(workerName !== undefined ? { workerName } : {}) };
    return stateMachines.activities.getTask(activityArn, options).catch((error: unknown) => {
      if (shutdown?.aborted) return {};
      throw error;
    });
  },
  async TagResource({ stateMachines }, input) {
    if (isActivityArn(input.resourceArn)) await stateMachines.activities.tag(input.resourceArn, { set: tagMap(input.tags) });
    else await stateMachines.tag(machineOfResource(input.resourceArn), tagMap(input.tags));
    return {};
  },
  async UntagResource({ stateMachines }, input) {
    if (isActivityArn(input.resourceArn)) await stateMachines.activities.tag(input.resourceArn, { remove: input.tagKeys });
    else await stateMachines.untag(machineOfResource(input.resourceArn), input.tagKeys);
    return {};
  },
  async ListTagsForResource({ stateMachines }, input) {
    if (isActivityArn(input.resourceArn)) {
      const activity = await stateMachines.activities.describe(input.resourceArn).catch((error: unknown) => {
        if (error instanceof SluiceError && error.code === 'ActivityDoesNotExist')
          throw new SluiceError('ResourceNotFound', `Resource not found: '${input.resourceArn}'`, { field: 'resourceArn' });
        throw error;
      });
      return { tags: tagList(activity.tags) };
    }
    const machine = await stateMachines.describe(machineOfResource(input.resourceArn));
    return { tags: tagList(machine.tags) };
  },
};
