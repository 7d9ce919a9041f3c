/**
 * Task resources: what a Task state's `Resource` may name, and how each one runs on Sluice.
 * - a Sluice function by its Lambda ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`): the effective
 *   input is the event, the handler's result the task's result; a function error fails the task with its
 *   `errorType` as the error and Lambda's error payload (JSON) as the cause.
 * - `arn:aws:states:::lambda:invoke`: `Parameters.FunctionName` and `Payload`; the result wraps the
 *   handler's in `{ ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode }`.
 * - `arn:aws:states:::sqs:sendMessage`: QueueUrl, MessageBody (an object is sent as JSON),
 *   DelaySeconds, MessageAttributes, MessageGroupId, MessageDeduplicationId.
 * - `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem` on Sluice tables (dynamodb-tasks.ts).
 * - `arn:aws:states:::states:startExecution` (a nested execution): plain (the result is its ARN),
 *   `.sync` / `.sync:2` (the task ends with the child: its description, Output as text or JSON; a
 *   child that does not succeed fails the task with States.TaskFailed), `.waitForTaskToken`.
 * - `.waitForTaskToken` on the Lambda and SQS integrations: the message is sent or the function invoked
 *   asynchronously, and the task waits for SendTaskSuccess / SendTaskFailure with `$$.Task.Token`.
 * - an activity by its ARN (`arn:aws:states:REGION:ACCOUNT:activity:NAME`): the effective input waits in
 *   the activity's tasks for a worker's GetActivityTask, with a task token the worker answers.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionService } from '../functions/service.js';
import { SluiceError } from '../model/errors.js';
import type { MessageAttributeInput } from '../queues/message-attributes.js';
import type { QueueService } from '../queues/service.js';
import type { TableService } from '../tables/service.js';
import { DynamoDbTaskError, runDynamoDbTask, type DynamoDbAction } from './dynamodb-tasks.js';
import type { Definition, Machine } from './definition.js';
import { isObject, type Json } from './json.js';

export type ResourceKind =
  | { kind: 'function'; functionName: string; wait: false }
  | { kind: 'lambda:invoke'; wait: boolean }
  | { kind: 'sqs:sendMessage'; wait: boolean }
  | { kind: 'dynamodb'; action: DynamoDbAction; wait: false }
  | { kind: 'states:startExecution'; mode: 'plain' | 'token' | 'sync' | 'sync:2'; wait: boolean }
  | { kind: 'activity'; activityArn: string; wait: true };

/** `arn:aws:states:REGION:ACCOUNT:activity:NAME`. */
export const ACTIVITY_ARN = /^arn:aws:states:[a-z0-9-]+:\d+:activity:([^:\s]{1,80})$/;

const LAMBDA_ARN = /^arn:aws:lambda:[a-z0-9-]*:\d*:function:([A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?$/;

export function resourceKind(resource: string): ResourceKind | undefined {
  if (ACTIVITY_ARN.test(resource)) return { kind: 'activity', activityArn: resource, wait: true };
  const lambda = LAMBDA_ARN.exec(resource);
  if (lambda) return { kind: 'function', functionName: lambda[1] as string, wait: false };
  const nested = /^arn:aws:states:[a-z0-9-]*:\d*:states:startExecution(\.sync:2|\.sync|\.waitForTaskToken)?$/.exec(resource);
  if (nested) {
    const mode = nested[1] === '.sync:2' ? 'sync:2' : nested[1] === '.sync' ? 'sync' : nested[1] ? 'token' : 'plain';
    return { kind: 'states:startExecution', mode, wait: mode !== 'plain' };
  }
  const dynamo = /^arn:aws:states:[a-z0-9-]*:\d*:dynamodb:(putItem|getItem|updateItem|deleteItem)$/.exec(resource);
  if (dynamo) return { kind: 'dynamodb', action: dynamo[1] as DynamoDbAction, wait: false };
  const m = /^arn:aws:states:[a-z0-9-]*:\d*:(lambda:invoke|sqs:sendMessage)(\.waitForTaskToken)?$/.exec(resource);
  if (!m) return undefined;
  return { kind: m[1] as 'lambda:invoke' | 'sqs:sendMessage', wait: m[2] !== undefined };
}

/** Every Task state's resource with its location in the definition (`/States/A/Resource`). */
function taskResources(def: Definition): { resource: string; location: string }[] {
  const out: { resource: string; location: string }[] = [];
  const visit = (machine: Machine, at: string) => {
    for (const [name, state] of Object.entries(machine.States)) {
      const where = `${at}/States/${name}`;
      if (state.Type === 'Task') out.push({ resource: state.Resource, location: `${where}/Resource` });
      if (state.Type === 'Parallel') state.Branches.forEach((b, i) => visit(b, `${where}/Branches[${i}]`));
      if (state.Type === 'Map') visit(state.ItemProcessor, `${where}/ItemProcessor`);
    }
  };
  visit(def, '');
  return out;
}

/** Resources this Sluice cannot run, with their location (for InvalidDefinition at create time). */
export function unsupportedResources(def: Definition): { resource: string; location: string }[] {
  return taskResources(def).filter((t) => !resourceKind(t.resource));
}

/**
 * Resources an Express machine cannot use: AWS's Express workflows support only the request-response
 * pattern, not `.sync` nor `.waitForTaskToken` (nor activities).
 */
export function expressUnsupportedResources(def: Definition): { resource: string; location: string }[] {
  return taskResources(def).filter((t) => resourceKind(t.resource)?.wait === true);
}

export interface TaskRunnerDeps {
  /** Adds a task for the activity's workers (it fails the task with States.Runtime if the activity is gone). */
  enqueueActivityTask: (activityArn: string, task: { token: string; input: string }) => Promise<void>;
  functions: FunctionService;
  queues: QueueService;
  tables: TableService;
  /** StartExecution of a nested execution; `parent` makes its end answer the parent's `.sync` task. */
  startExecution: (
    stateMachineArn: string,
    options: { name?: string; input: string; parent?: { token: string; sync: 'sync' | 'sync:2' } },
  ) => Promise<{ executionArn: string; startDate: Date }>;
}

/** A task's failure, as the States Language names it. */
export class TaskFailure extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
  }
}

/**
 * Runs a task (or, for `.waitForTaskToken`, hands it to its worker) and returns its result. `deadline`
 * gives a signal that aborts when the task has timed out or its node stops: a Lambda task refused a
 * concurrency slot its cluster may still grant waits until then (FunctionService.invoke's `slotWait`).
 */
export async function runTask(deps: TaskRunnerDeps, resource: string, input: Json, token?: string, deadline?: () => AbortSignal): Promise<Json> {
  const kind = resourceKind(resource);
  if (!kind) throw new TaskFailure('States.Runtime', `The resource '${resource}' is not supported by Sluice`);
  switch (kind.kind) {
    case 'function':
      return invokeFunction(deps, kind.functionName, input, deadline);
    case 'lambda:invoke': {
      if (!isObject(input) || typeof input.FunctionName !== 'string')
        throw new TaskFailure('States.Runtime', "lambda:invoke needs Parameters.FunctionName (a function's name or ARN)");
      const name = functionNameOf(input.FunctionName);
      const payload = input.Payload === undefined ? {} : input.Payload;
      if (kind.wait) {
        await asyncInvoke(deps, name, payload);
        return {};
      }
      const result = await invokeFunction(deps, name, payload, deadline);
      return {
        ExecutedVersion: '$LATEST',
        Payload: result,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: randomUUID() },
        StatusCode: 200,
      };
    }
    case 'sqs:sendMessage':
      return sendMessage(deps, input);
    case 'activity':
      if (!token) throw new TaskFailure('States.Runtime', 'an activity task needs a task token');
      await deps.enqueueActivityTask(kind.activityArn, { token, input: JSON.stringify(input) });
      return {};
    case 'states:startExecution': {
      if (!isObject(input) || typeof input.StateMachineArn !== 'string')
        throw new TaskFailure('States.Runtime', 'states:startExecution needs Parameters.StateMachineArn');
      const childInput = input.Input === undefined ? '{}' : typeof input.Input === 'string' ? input.Input : JSON.stringify(input.Input);
      const sync = kind.mode === 'sync' || kind.mode === 'sync:2' ? kind.mode : undefined;
      try {
        const started = await deps.startExecution(input.StateMachineArn, {
          input: childInput,
          ...(typeof input.Name === 'string' ? { name: input.Name } : {}),
          ...(sync && token ? { parent: { token, sync } } : {}),
        });
        return { ExecutionArn: started.executionArn, StartDate: started.startDate.toISOString() };
      } catch (error) {
        if (error instanceof SluiceError) throw new TaskFailure(`StepFunctions.${error.code}Exception`.replace('ExceptionException', 'Exception'), error.message);
        throw error;
      }
    }
    case 'dynamodb':
      try {
        return await runDynamoDbTask(deps.tables, kind.action, input);
      } catch (error) {
        if (error instanceof DynamoDbTaskError) throw new TaskFailure(error.error, error.causeText);
        throw error;
      }
  }
}

function functionNameOf(value: string): string {
  const m = LAMBDA_ARN.exec(value);
  if (m) return m[1] as string;
  const partial = /^(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?$/.exec(value);
  return partial ? (partial[1] as string) : value;
}

async function invokeFunction(deps: TaskRunnerDeps, name: string, event: Json, deadline: (() => AbortSignal) | undefined): Promise<Json> {
  if (!deps.functions.exists(name)) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
  let response;
  try {
    response = await deps.functions.invoke(name, event, undefined, deadline ? { slotWait: deadline } : {});
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'TooManyRequestsException') throw new TaskFailure('Lambda.TooManyRequestsException', error.message);
    throw new TaskFailure('Lambda.ServiceException', (error as Error).message);
  }
  if (response.functionError) {
    const payload = (response.payload ?? {}) as { errorType?: string; errorMessage?: string };
    throw new TaskFailure(payload.errorType ?? 'Error', JSON.stringify(response.payload ?? {}));
  }
  return (response.payload === undefined ? null : response.payload) as Json;
}

async function asyncInvoke(deps: TaskRunnerDeps, name: string, event: Json): Promise<void> {
  if (!deps.functions.exists(name)) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
  await deps.functions.invokeAsync(name, event);
}

/** `https://host/ACCOUNT/NAME`, an SQS ARN or a bare name → the queue's name. */
export function queueNameOf(value: string): string {
  if (value.startsWith('arn:')) return value.split(':').at(-1) as string;
  const path = value.replace(/^[a-z]+:\/\/[^/]+/i, '');
  return path.split('/').filter(Boolean).at(-1) ?? value;
}

async function sendMessage(deps: TaskRunnerDeps, input: Json): Promise<Json> {
  if (!isObject(input) || typeof input.QueueUrl !== 'string') throw new TaskFailure('States.Runtime', 'sqs:sendMessage needs Parameters.QueueUrl');
  if (input.MessageBody === undefined) throw new TaskFailure('States.Runtime', 'sqs:sendMessage needs Parameters.MessageBody');
  const body = typeof input.MessageBody === 'string' ? input.MessageBody : JSON.stringify(input.MessageBody);
  const attributes: Record<string, MessageAttributeInput> = {};
  if (isObject(input.MessageAttributes)) {
    for (const [name, value] of Object.entries(input.MessageAttributes)) {
      if (!isObject(value)) continue;
      attributes[name] = {
        dataType: String(value.DataType ?? 'String'),
        ...(typeof value.StringValue === 'string' ? { stringValue: value.StringValue } : {}),
        ...(typeof value.BinaryValue === 'string' ? { binaryValue: value.BinaryValue } : {}),
      };
    }
  }
  try {
    const sent = await deps.queues.send(queueNameOf(input.QueueUrl), {
      body,
      ...(Object.keys(attributes).length > 0 ? { messageAttributes: attributes } : {}),
      ...(typeof input.DelaySeconds === 'number' ? { delaySeconds: input.DelaySeconds } : {}),
      ...(typeof input.MessageGroupId === 'string' ? { messageGroupId: input.MessageGroupId } : {}),
      ...(typeof input.MessageDeduplicationId === 'string' ? { messageDeduplicationId: input.MessageDeduplicationId } : {}),
    });
    return {
      MessageId: sent.messageId,
      MD5OfMessageBody: sent.md5OfMessageBody,
      ...(sent.sequenceNumber ? { SequenceNumber: sent.sequenceNumber } : {}),
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  } catch (error) {
    if (error instanceof SluiceError) throw new TaskFailure(`SQS.${error.code === 'QueueDoesNotExist' ? 'QueueDoesNotExistException' : error.code}`, error.message);
    throw error;
  }
}
