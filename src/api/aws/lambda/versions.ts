/**
 * Lambda's versions and aliases over the catalog's FunctionVersions (catalog/version-service.ts):
 * PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases,
 * and the qualified reads (GetFunction, GetFunctionConfiguration with a version or an alias).
 */
import type { AliasView } from '../../../catalog/version-service.js';
import type { VersionDefinition } from '../../../catalog/catalog-versions.js';
import { ALIAS_NAME } from '../../../catalog/catalog-versions.js';
import { revisionIdOf } from '../../../catalog/service.js';
import { SluiceError } from '../../../model/errors.js';
import { functionConfiguration, requireFunction, requireLatest, type LambdaContext } from './functions.js';
import { constraintError, functionReference, lambdaJson, lambdaTimestamp, maxItems, page, type LambdaResponse } from './wire.js';

function optionalString(input: Record<string, unknown>, key: string, member: string, max: number): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SluiceError('SerializationException', `${key}: expected a string`, { field: key });
  if (value.length > max) throw constraintError(member, value, `Member must have length less than or equal to ${max}`);
  return value;
}

/** A function named with no qualifier (or `$LATEST`), as version and alias operations take it. */
function baseFunction(context: LambdaContext, raw: string): string {
  // Only functions created through the Lambda API have versions (the catalog refuses the others).
  return requireFunction(context, raw);
}

/** A published version's FunctionConfiguration: the snapshot's code and settings under its qualified ARN. */
export function versionConfiguration(context: LambdaContext, definition: VersionDefinition, revision: number, qualifier = String(definition.version)): Record<string, unknown> {
  const name = definition.function;
  const base = functionConfiguration(context, context.functions.get(name));
  const { stored } = definition;
  return {
    ...base,
    FunctionArn: context.functions.arnOf(`${name}:${qualifier}`),
    Runtime: stored.runtime,
    Role: stored.role,
    Handler: stored.handler,
    CodeSize: stored.codeSize,
    CodeSha256: stored.codeSha256,
    Description: definition.description,
    Timeout: stored.timeout,
    MemorySize: stored.memorySize,
    Environment: { Variables: { ...stored.environment } },
    LastModified: lambdaTimestamp(stored.lastModified),
    Version: String(definition.version),
    // A version never changes: its entry's revision grows only as aliases guard it (version-service.ts).
    RevisionId: revisionIdOf(`${name}:${definition.version}`, 1),
  };
}

export async function publishVersion(context: LambdaContext, raw: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = requireLatest(context, raw);
  const codeSha256 = optionalString(input, 'CodeSha256', 'codeSha256', 1024);
  const description = optionalString(input, 'Description', 'description', 256);
  const revisionId = optionalString(input, 'RevisionId', 'revisionId', 128);
  const published = await context.catalog.versions.publish(name, {
    ...(codeSha256 !== undefined ? { codeSha256 } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(revisionId !== undefined ? { revisionId } : {}),
  });
  return lambdaJson(versionConfiguration(context, published.definition, published.revision), requestId, 201);
}

export async function listVersionsByFunction(context: LambdaContext, raw: string, query: { marker?: string; maxItems?: string }, requestId: string): Promise<LambdaResponse> {
  const name = baseFunction(context, raw);
  // A function a node's program or config defines has `$LATEST` only.
  const versions = context.catalog.storedFunction(name) ? await context.catalog.versions.list(name) : [];
  // $LATEST first, then the versions by number; the marker is the key of the last one returned.
  const all = [
    { key: '0000000000', body: () => functionConfiguration(context, context.functions.get(name)) },
    ...versions.map(({ definition, revision }) => ({ key: String(definition.version).padStart(10, '0'), body: () => versionConfiguration(context, definition, revision) })),
  ];
  const { items, nextMarker } = page(all, (item) => item.key, query.marker, maxItems(query.maxItems, 50));
  return lambdaJson({ Versions: items.map((item) => item.body()), ...(nextMarker ? { NextMarker: nextMarker } : {}) }, requestId);
}

// ---------------------------------------------------------------- aliases

function aliasConfiguration(context: LambdaContext, alias: AliasView): Record<string, unknown> {
  return {
    AliasArn: context.functions.arnOf(`${alias.function}:${alias.name}`),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(Object.keys(alias.weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: { ...alias.weights } } } : {}),
    RevisionId: context.catalog.versions.aliasRevisionId(alias),
  };
}

function aliasName(value: unknown): string {
  if (typeof value !== 'string') throw constraintError('name', value ?? 'null', 'Member must not be null');
  if (value.length < 1 || value.length > 128) throw constraintError('name', value, 'Member must have length less than or equal to 128');
  if (!ALIAS_NAME.test(value)) throw constraintError('name', value, 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)');
  return value;
}

function functionVersionOf(value: unknown): string {
  if (typeof value !== 'string') throw constraintError('functionVersion', value ?? 'null', 'Member must not be null');
  if (!/^(\$LATEST|[0-9]+)$/.test(value) || value.length > 1024) {
    throw constraintError('functionVersion', value, 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)');
  }
  return value;
}

function weightsOf(value: unknown): Record<string, number> | undefined {
  if (value === undefined || value === null) return undefined;
  const weights = (value as { AdditionalVersionWeights?: unknown }).AdditionalVersionWeights ?? {};
  if (typeof value !== 'object' || typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
    throw new SluiceError('SerializationException', 'RoutingConfig: expected {"AdditionalVersionWeights": {"version": weight}}', { field: 'RoutingConfig' });
  }
  return { ...(weights as Record<string, number>) };
}

export async function createAlias(context: LambdaContext, raw: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = baseFunction(context, raw);
  const alias = await context.catalog.versions.createAlias(name, {
    name: aliasName(input.Name),
    functionVersion: functionVersionOf(input.FunctionVersion),
    description: optionalString(input, 'Description', 'description', 256) ?? '',
    weights: weightsOf(input.RoutingConfig) ?? {},
  });
  return lambdaJson(aliasConfiguration(context, alias), requestId, 201);
}

export async function getAlias(context: LambdaContext, raw: string, alias: string, requestId: string): Promise<LambdaResponse> {
  return lambdaJson(aliasConfiguration(context, await context.catalog.versions.getAlias(baseFunction(context, raw), aliasName(alias))), requestId);
}

export async function updateAlias(context: LambdaContext, raw: string, alias: string, input: Record<string, unknown>, requestId: string): Promise<LambdaResponse> {
  const name = baseFunction(context, raw);
  const description = optionalString(input, 'Description', 'description', 256);
  const revisionId = optionalString(input, 'RevisionId', 'revisionId', 128);
  const weights = weightsOf(input.RoutingConfig);
  const updated = await context.catalog.versions.updateAlias(name, aliasName(alias), {
    ...(input.FunctionVersion !== undefined ? { functionVersion: functionVersionOf(input.FunctionVersion) } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(weights !== undefined ? { weights } : {}),
    ...(revisionId !== undefined ? { revisionId } : {}),
  });
  return lambdaJson(aliasConfiguration(context, updated), requestId);
}

export async function deleteAlias(context: LambdaContext, raw: string, alias: string, requestId: string): Promise<LambdaResponse> {
  await context.catalog.versions.deleteAlias(baseFunction(context, raw), aliasName(alias));
  return { status: 204, headers: { 'x-amzn-requestid': requestId }, body: '' };
}

export async function listAliases(
  context: LambdaContext,
  raw: string,
  query: { functionVersion?: string; marker?: string; maxItems?: string },
  requestId: string,
): Promise<LambdaResponse> {
  const name = baseFunction(context, raw);
  if (!context.catalog.storedFunction(name)) return lambdaJson({ Aliases: [] }, requestId);
  const aliases = await context.catalog.versions.listAliases(name, query.functionVersion === undefined ? undefined : functionVersionOf(query.functionVersion));
  const { items, nextMarker } = page(aliases, (alias) => alias.name, query.marker, maxItems(query.maxItems, 50));
  return lambdaJson({ Aliases: items.map((alias) => aliasConfiguration(context, alias)), ...(nextMarker ? { NextMarker: nextMarker } : {}) }, requestId);
}

// ---------------------------------------------------------------- qualified reads

/**
 * The configuration GetFunction and GetFunctionConfiguration answer for a qualifier: `$LATEST` (or
 * none) is the function's; a version its snapshot; an alias the version it points to, under the
 * alias's ARN. Undefined for no qualifier.
 */
export async function qualifiedConfiguration(context: LambdaContext, raw: string, qualifier: string | undefined): Promise<{ name: string; configuration?: Record<string, unknown>; code?: { name: string; sha256Hex: string } }> {
  const reference = functionReference(raw, context.arn);
  if (qualifier !== undefined && reference.qualifier !== undefined && qualifier !== reference.qualifier) {
    throw new SluiceError('InvalidParameterValue', 'The derived qualifier from the function name does not match the specified qualifier.', { field: 'Qualifier' });
  }
  const wanted = qualifier ?? reference.qualifier;
  const name = requireFunction(context, reference.name);
  if (wanted === undefined || wanted === '$LATEST') return { name };
  const versions = context.catalog.versions;
  if (/^[0-9]+$/.test(wanted)) {
    const { definition, revision } = await versions.get(name, wanted);
    return { name, configuration: versionConfiguration(context, definition, revision), code: { name: `${name}:${wanted}`, sha256Hex: definition.stored.packageSha256 } };
  }
  const alias = await versions.getAlias(name, wanted).catch(() => {
    throw new SluiceError('ResourceNotFoundException', `Function not found: ${context.functions.arnOf(`${name}:${wanted}`)}`, { field: 'Qualifier' });
  });
  if (alias.functionVersion === '$LATEST') return { name, configuration: { ...functionConfiguration(context, context.functions.get(name)), FunctionArn: context.functions.arnOf(`${name}:${wanted}`) } };
  const { definition, revision } = await versions.get(name, alias.functionVersion);
  return {
    name,
    configuration: versionConfiguration(context, definition, revision, wanted),
    code: { name: `${name}:${alias.functionVersion}`, sha256Hex: definition.stored.packageSha256 },
  };
}
