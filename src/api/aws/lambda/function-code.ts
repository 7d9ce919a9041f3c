/**
 * Lambda's operations on functions created through the API: CreateFunction, UpdateFunctionCode,
 * UpdateFunctionConfiguration and DeleteFunction. The code comes as a zip in the JSON body (`ZipFile`,
 * base64, the way the SDK and the CLI send it), for the Node.js runtimes only. Every field is checked
 * with Lambda's messages before anything is stored; the function is then stored in the cluster catalog
 * with its zip (catalog/catalog-functions.ts), so every node runs it.
 */
import { SluiceError } from '../../../model/errors.js';
import type { StoredFunction } from '../../../catalog/service.js';
import { decodeZipFile, inspectCodePackage, requireHandlerFile, type CodePackage } from '../../../functions/code-package.js';
import { functionLimits } from '../../../functions/definition.js';
import { functionConfiguration, requireFunction, requireLatest, type LambdaContext } from './functions.js';
import { constraintError, functionReference, lambdaJson, type LambdaResponse } from './wire.js';
import { versionConfiguration } from './versions.js';

/** The runtimes Sluice runs (on the node's own Node.js): Lambda's supported Node.js runtimes. */
export const NODE_RUNTIMES = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;

/** Variables Lambda sets itself and refuses in a function's Environment. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);
/** Lambda's limit on a function's environment variables, measured as their JSON. */
const ENVIRONMENT_BYTES = 4096;
const VARIABLE_NAME = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER_PATTERN = /^[^\s]+$/;

function integerMember(member: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw constraintError(member, value, 'Member must be an integer');
  if (value < min) throw constraintError(member, value, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw constraintError(member, value, `Member must have value less than or equal to ${max}`);
  return value;
}

function stringMember(member: string, value: unknown, max: number, pattern?: RegExp): string {
  if (typeof value !== 'string') throw constraintError(member, value ?? 'null', 'Member must not be null');
  if (value.length > max) throw constraintError(member, value, `Member must have length less than or equal to ${max}`);
  if (pattern && !pattern.test(value)) throw constraintError(member, value, `Member must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`);
  return value;
}

function runtimeOf(value: unknown): string {
  const runtime = stringMember('runtime', value, 64);
  if (!(NODE_RUNTIMES as readonly string[]).includes(runtime)) {
    throw new SluiceError(
      'InvalidParameterValue',
      `The runtime parameter of ${runtime} is not supported for creating or updating functions on Sluice, which runs Node.js handlers only. We recommend you use the new runtime (nodejs22.x) while creating or updating functions.`,
      { field: 'Runtime' },
    );
  }
  return runtime;
}

function environmentOf(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const variables = (value as { Variables?: unknown }).Variables ?? {};
  if (typeof value !== 'object' || typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw new SluiceError('SerializationException', 'Environment: expected {"Variables": {"NAME": "value"}}', { field: 'Environment' });
  }
  const entries = Object.entries(variables as Record<string, unknown>);
  for (const [name, text] of entries) {
    if (!VARIABLE_NAME.test(name)) throw constraintError('environment.variables', name, `Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ${VARIABLE_NAME.source.slice(1, -1)}]`);
    if (typeof text !== 'string') throw new SluiceError('SerializationException', `Environment.Variables.${name}: expected a string`, { field: 'Environment' });
  }
  const reserved = entries.map(([name]) => name).filter((name) => RESERVED_VARIABLES.has(name));
  if (reserved.length > 0) {
    throw new SluiceError(
      'InvalidParameterValue',
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      { field: 'Environment' },
    );
  }
  const measured = JSON.stringify(variables);
  if (Buffer.byteLength(measured) > ENVIRONMENT_BYTES) {
    throw new SluiceError(
      'InvalidParameterValue',
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured.slice(0, 200)}...`,
      { field: 'Environment' },
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** The zip of a `Code` member (CreateFunction) or of the body (UpdateFunctionCode): ZipFile only. */
function zipOf(code: Record<string, unknown>, operation: 'CreateFunction' | 'UpdateFunctionCode'): Buffer {
  const elsewhere = ['S3Bucket', 'S3Key', 'S3ObjectVersion', 'ImageUri'].find((member) => code[member] !== undefined);
  if (elsewhere !== undefined) {
    throw new SluiceError('InvalidParameterValue', `${elsewhere}: Sluice takes a function's code as ZipFile only (the zip itself, base64)`, { field: elsewhere });
  }
  return decodeZipFile(code.ZipFile, operation);
}

function refusePackageType(input: Record<string, unknown>): void {
  if (input.PackageType !== undefined && input.PackageType !== 'Zip') {
    throw new SluiceError('InvalidParameterValue', `PackageType: Sluice runs Zip packages only, not ${String(input.PackageType).slice(0, 20)}`, { field: 'PackageType' });
  }
}

function attachmentOf(zip: Buffer, inspected: CodePackage) {
  return { sha256: inspected.sha256Hex, content: zip };
}

function configurationResponse(context: LambdaContext, name: string, requestId: string, status = 200): LambdaResponse {
  return lambdaJson(functionConfiguration(context, context.functions.get(name)), requestId, status);
}

export async function createFunction(context: LambdaContext, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const reference = functionReference(stringMember('functionName', input.FunctionName, 140), context.arn, 'functionName', 140);
  if (reference.foreign || reference.qualifier !== undefined || !/^[a-zA-Z0-9-_]+$/.test(reference.name)) {
    throw constraintError('functionName', input.FunctionName, 'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)');
  }
  refusePackageType(input);
  const role = stringMember('role', input.Role, 2048, ROLE_PATTERN);
  const runtime = runtimeOf(input.Runtime);
  const handler = stringMember('handler', input.Handler, 128, HANDLER_PATTERN);
  const description = input.Description === undefined ? '' : stringMember('description', input.Description, 256);
  const timeout = integerMember('timeout', input.Timeout ?? functionLimits.defaultTimeout, functionLimits.minTimeout, functionLimits.maxTimeout);
  const memorySize = integerMember('memorySize', input.MemorySize ?? functionLimits.defaultMemory, functionLimits.minMemory, functionLimits.maxMemory);
  const environment = environmentOf(input.Environment);
  if (typeof input.Code !== 'object' || input.Code === null) throw constraintError('code', 'null', 'Member must not be null');
  const zip = zipOf(input.Code as Record<string, unknown>, 'CreateFunction');
  const inspected = inspectCodePackage(zip, 'CreateFunction');
  requireHandlerFile(inspected.files, handler);
  const stored: StoredFunction = {
    runtime,
    handler,
    role,
    description,
    timeout,
    memorySize,
    environment,
    codeSha256: inspected.codeSha256,
    codeSize: inspected.codeSize,
    packageSha256: inspected.sha256Hex,
    lastModified: Date.now(),
  };
  await context.catalog.createFunction(reference.name, stored, attachmentOf(zip, inspected));
  if (input.Publish === true) return publishedResponse(context, reference.name, requestId, 201);
  return configurationResponse(context, reference.name, requestId, 201);
}

/** `Publish: true` (CreateFunction, UpdateFunctionCode): publishes a version and answers its configuration. */
async function publishedResponse(context: LambdaContext, name: string, requestId: string, status = 200): Promise<LambdaResponse> {
  const published = await context.catalog.versions.publish(name, {});
  return lambdaJson(versionConfiguration(context, published.definition, published.revision), requestId, status);
}

export async function updateFunctionCode(context: LambdaContext, raw: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = requireLatest(context, raw);
  refusePackageType(input);
  const zip = zipOf(input, 'UpdateFunctionCode');
  const inspected = inspectCodePackage(zip, 'UpdateFunctionCode');
  await context.catalog.updateFunction(
    name,
    (stored) => {
      // The handler stays; the new package must still hold its file.
      requireHandlerFile(inspected.files, stored.handler);
      return { ...stored, codeSha256: inspected.codeSha256, codeSize: inspected.codeSize, packageSha256: inspected.sha256Hex, lastModified: Date.now() };
    },
    attachmentOf(zip, inspected),
    revisionIdOfInput(input),
  );
  if (input.Publish === true) return publishedResponse(context, name, requestId);
  return configurationResponse(context, name, requestId);
}

export async function updateFunctionConfiguration(context: LambdaContext, raw: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = requireLatest(context, raw);
  const changes: Partial<StoredFunction> = {};
  if (input.Runtime !== undefined) changes.runtime = runtimeOf(input.Runtime);
  if (input.Role !== undefined) changes.role = stringMember('role', input.Role, 2048, ROLE_PATTERN);
  if (input.Handler !== undefined) changes.handler = stringMember('handler', input.Handler, 128, HANDLER_PATTERN);
  if (input.Description !== undefined) changes.description = stringMember('description', input.Description, 256);
  if (input.Timeout !== undefined) changes.timeout = integerMember('timeout', input.Timeout, functionLimits.minTimeout, functionLimits.maxTimeout);
  if (input.MemorySize !== undefined) changes.memorySize = integerMember('memorySize', input.MemorySize, functionLimits.minMemory, functionLimits.maxMemory);
  if (input.Environment !== undefined) changes.environment = environmentOf(input.Environment);
  const handler = changes.handler;
  // A new handler must name a file of the package the function has: read from the store, not trusted.
  const held = handler === undefined ? undefined : await context.catalog.packageFiles(name);
  await context.catalog.updateFunction(name, (stored) => {
    if (handler !== undefined && held !== undefined) {
      if (held.sha256Hex !== stored.packageSha256) {
        throw new SluiceError('ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${context.functions.arnOf(name)}`, { field: 'FunctionName' });
      }
      requireHandlerFile(held.files, handler);
    }
    return { ...stored, ...changes, lastModified: Date.now() };
  }, undefined, revisionIdOfInput(input));
  return configurationResponse(context, name, requestId);
}

/** The RevisionId precondition of an update, if the request gives one. */
function revisionIdOfInput(input: Record<string, unknown>): string | undefined {
  if (input.RevisionId === undefined || input.RevisionId === null) return undefined;
  return stringMember('revisionId', input.RevisionId, 128);
}

export async function deleteFunction(context: LambdaContext, raw: string, qualifier: string | undefined, requestId: string): Promise<LambdaResponse> {
  const reference = functionReference(raw, context.arn);
  if (qualifier !== undefined && reference.qualifier !== undefined && qualifier !== reference.qualifier) {
    throw new SluiceError('InvalidParameterValue', 'The derived qualifier from the function name does not match the specified qualifier.', { field: 'Qualifier' });
  }
  const wanted = qualifier ?? reference.qualifier;
  const name = requireFunction(context, reference.name);
  // With a qualifier, only that version goes (never $LATEST, nor a version an alias routes to).
  if (wanted !== undefined) await context.catalog.versions.deleteVersion(name, wanted);
  else await context.catalog.deleteFunction(name);
  return { status: 204, headers: { 'x-amzn-requestid': requestId }, body: '' };
}
