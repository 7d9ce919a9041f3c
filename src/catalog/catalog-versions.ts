/**
 * Lambda's versions and aliases of functions created through the API, kept in the catalog.
 *
 * - A version is an immutable snapshot of `$LATEST`'s code and configuration: the entry
 *   `function-version` / `<name>:<N>` holds the StoredFunction as it was and its own copy of the zip
 *   (the function's attachment is replaced by the next UpdateFunctionCode). It is written with the
 *   function's entry, which counts the versions published (`lastVersion`), in one `catalogWrite`: a
 *   number is never given twice, nor reused after its version is deleted, as in Lambda.
 * - Each node runs a version as its own function under the qualified name `<name>:<N>`
 *   (functions/definition.ts accepts it), installed like `$LATEST` from the catalog's wake-ups, so the
 *   handler sees the version in its context and AWS_LAMBDA_FUNCTION_VERSION.
 * - An alias is the entry `function-alias` / `<name>:<alias>`: a version (or `$LATEST`) and optional
 *   weights of one more version. Invoking it picks a version by weight at each invocation.
 *
 * Only functions created through the Lambda API (with a zip) have versions: a function a program or a
 * config file defines has no code Sluice could snapshot.
 */
import { SluiceError } from '../model/errors.js';
import type { CatalogEntry } from '../store/catalog-store.js';
import type { Store } from '../store/store.js';
import type { StoredFunction } from './catalog-functions.js';

export const VERSION_KIND = 'function-version';
export const ALIAS_KIND = 'function-alias';

/** The definition of a `function-version` entry. */
export interface VersionDefinition {
  function: string;
  version: number;
  /** `$LATEST` as it was when published (its description included). */
  stored: StoredFunction;
  /** PublishVersion's Description, else `$LATEST`'s. */
  description: string;
}

/** The definition of a `function-alias` entry. */
export interface AliasDefinition {
  function: string;
  name: string;
  /** A version number, or `$LATEST`. */
  functionVersion: string;
  description: string;
  /** AdditionalVersionWeights: version → share of invocations (0 to 1). */
  weights: Record<string, number>;
}

export const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;

/** The entries of one function's versions, by version number. */
export function versionEntriesOf(entries: CatalogEntry[], name: string): Array<{ entry: CatalogEntry; definition: VersionDefinition }> {
  return entries
    .filter((entry) => entry.kind === VERSION_KIND && entry.name.startsWith(`${name}:`))
    .map((entry) => ({ entry, definition: JSON.parse(entry.definition) as VersionDefinition }))
    .filter(({ definition }) => definition.function === name)
    .sort((a, b) => a.definition.version - b.definition.version);
}

/** The entries of one function's aliases, by name. */
export function aliasEntriesOf(entries: CatalogEntry[], name: string): Array<{ entry: CatalogEntry; definition: AliasDefinition }> {
  return entries
    .filter((entry) => entry.kind === ALIAS_KIND && entry.name.startsWith(`${name}:`))
    .map((entry) => ({ entry, definition: JSON.parse(entry.definition) as AliasDefinition }))
    .filter(({ definition }) => definition.function === name);
}

/** Whether `$LATEST` differs from a published snapshot (LastModified changes with every update, so it counts too). */
export function sameSnapshot(a: StoredFunction, b: StoredFunction): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Picks the version an alias runs for one invocation: each additional version gets its weight's share,
 * the alias's own version the rest. `random` is in [0, 1).
 */
export function pickAliasVersion(alias: Pick<AliasDefinition, 'functionVersion' | 'weights'>, random: number): string {
  let threshold = 0;
  for (const [version, weight] of Object.entries(alias.weights)) {
    threshold += weight;
    if (random < threshold) return version;
  }
  return alias.functionVersion;
}

/** The local function that runs a version: `$LATEST` is the function itself, version N is `<name>:N`. */
export function localNameOf(name: string, version: string): string {
  return version === '$LATEST' ? name : `${name}:${version}`;
}

/**
 * Checks an alias's routing: at most one additional version (Lambda's limit), a published version other
 * than the alias's own, a weight from 0 to 1; `$LATEST` takes no routing.
 */
export function validateRouting(p: { functionVersion: string; weights: Record<string, number>; versionExists: (version: string) => boolean; notFound: (version: string) => SluiceError }): void {
  const entries = Object.entries(p.weights);
  if (entries.length === 0) return;
  if (entries.length > 1) {
    throw new SluiceError('InvalidParameterValue', 'Number of additional function versions in the routing configuration cannot exceed 1.', { field: 'RoutingConfig' });
  }
  if (p.functionVersion === '$LATEST') {
    throw new SluiceError('InvalidParameterValue', '$LATEST is not supported for an alias pointing to more than 1 version', { field: 'RoutingConfig' });
  }
  for (const [version, weight] of entries) {
    if (!/^[0-9]+$/.test(version)) {
      throw new SluiceError('ValidationException', `1 validation error detected: Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]`, { field: 'RoutingConfig' });
    }
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      throw new SluiceError('ValidationException', `1 validation error detected: Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`, { field: 'RoutingConfig' });
    }
    if (version === p.functionVersion) {
      throw new SluiceError('InvalidParameterValue', `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`, { field: 'RoutingConfig' });
    }
    if (!p.versionExists(version)) throw p.notFound(version);
  }
}

/** Reads one entry. */
export async function readEntry(store: Store, kind: string, name: string): Promise<CatalogEntry | undefined> {
  return (await store.catalogList({ kind })).find((entry) => entry.name === name);
}
