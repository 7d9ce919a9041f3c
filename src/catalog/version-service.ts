/**
 * Publishing, listing and deleting versions, and managing aliases, of functions created through the
 * Lambda API (catalog-versions.ts says how they are kept). Every change is one store write whose
 * conditions are the revisions read, so two nodes racing cannot both win; the receiving node applies
 * it at once and the others on the catalog's wake-up. Reads for the API come from the store, so any
 * node answers alike; invocations resolve qualifiers against what this node runs.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { FunctionService } from '../functions/service.js';
import type { CatalogDeleteInput, CatalogEntry, CatalogPutInput } from '../store/catalog-store.js';
import type { Store } from '../store/store.js';
import type { CatalogFunctions, StoredFunction } from './catalog-functions.js';
import {
  ALIAS_KIND,
  aliasEntriesOf,
  localNameOf,
  pickAliasVersion,
  readEntry,
  sameSnapshot,
  validateRouting,
  VERSION_KIND,
  versionEntriesOf,
  type AliasDefinition,
  type VersionDefinition,
} from './catalog-versions.js';

/** A function's catalog entry as the version service needs it (catalog/service.ts reads it). */
export interface FunctionEntryView {
  entry: CatalogEntry;
  /** The entry's FunctionSettings (catalog/service.ts); only these fields are read, the rest written back as they were. */
  settings: { function?: StoredFunction; lastVersion?: number };
}

export interface VersionServiceOptions {
  store: Store;
  clock: Clock;
  functions: FunctionService;
  catalogFunctions: CatalogFunctions;
  /** The entry of a function created through the API (refuses others with Lambda's errors). */
  requireFunction: (name: string) => Promise<FunctionEntryView>;
  /** Lambda's RevisionId of an entry. */
  revisionId: (name: string, revision: number) => string;
  /** Records that this node runs an entry at a revision (so its own wake-up does not redo it). */
  applied: (kind: string, name: string, revision: number) => void;
}

export interface AliasView extends AliasDefinition {
  revision: number;
}

const inProgress = (arn: string) =>
  new SluiceError('ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`, { field: 'FunctionName' });

export class FunctionVersions {
  /** The aliases this node knows, by `<function>:<alias>`. */
  private readonly aliases = new Map<string, AliasView>();

  constructor(private readonly options: VersionServiceOptions) {}

  private arn(name: string, qualifier?: string): string {
    return this.options.functions.arnOf(qualifier === undefined ? name : `${name}:${qualifier}`);
  }

  private notFound(name: string, qualifier: string): SluiceError {
    return new SluiceError('ResourceNotFoundException', `Function not found: ${this.arn(name, qualifier)}`, { field: 'Qualifier' });
  }

  // ---------------------------------------------------------------- versions

  /**
   * PublishVersion: snapshots `$LATEST` as the next version, unless `$LATEST` is the same as the last
   * version published, which is then returned (Lambda publishes nothing when nothing changed).
   */
  async publish(name: string, p: { codeSha256?: string; description?: string; revisionId?: string }): Promise<{ definition: VersionDefinition; revision: number }> {
    const { entry, settings } = await this.options.requireFunction(name);
    const stored = settings.function!;
    if (p.revisionId !== undefined && p.revisionId !== this.options.revisionId(name, entry.revision)) {
      throw new SluiceError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        { field: 'RevisionId' },
      );
    }
    if (p.codeSha256 !== undefined && p.codeSha256 !== stored.codeSha256) {
      throw new SluiceError(
        'InvalidParameterValue',
        `CodeSHA256 (${p.codeSha256}) is different from current CodeSHA256 in $LATEST (${stored.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
        { field: 'CodeSha256' },
      );
    }
    const versions = versionEntriesOf(await this.options.store.catalogList({ kind: VERSION_KIND }), name);
    const last = versions.at(-1);
    if (last && sameSnapshot(last.definition.stored, stored)) return { definition: last.definition, revision: last.entry.revision };
    // Never reuse a number, even of a deleted version: the function's entry counts them.
    const version = Math.max(settings.lastVersion ?? 0, last?.definition.version ?? 0) + 1;
    const definition: VersionDefinition = { function: name, version, stored, description: p.description ?? stored.description };
    const now = this.options.clock.now();
    const outcome = await this.options.store.catalogWrite({
      puts: [
        { kind: 'function', name, definition: JSON.stringify({ ...settings, lastVersion: version }), modifiedAt: now, ifRevision: entry.revision },
        // The zip by its digest: the store keeps it once, for $LATEST and every version (and the function's
        // entry, written in the same batch at the revision read, still names it).
        { kind: VERSION_KIND, name: `${name}:${version}`, definition: JSON.stringify(definition), modifiedAt: now, ifRevision: null, attachment: { sha256: stored.packageSha256 } },
      ],
      deletes: [],
    });
    if (!outcome.written) throw inProgress(this.arn(name));
    // Written at revision + 1; the version's entry is new (revision 1).
    this.options.applied('function', name, entry.revision + 1);
    await this.installVersion(definition, 1);
    return { definition, revision: 1 };
  }

  /** The published versions of a function, from the store, by number. */
  async list(name: string): Promise<Array<{ definition: VersionDefinition; revision: number }>> {
    await this.options.requireFunction(name);
    return versionEntriesOf(await this.options.store.catalogList({ kind: VERSION_KIND }), name).map(({ entry, definition }) => ({ definition, revision: entry.revision }));
  }

  /** One published version, from the store; ResourceNotFoundException naming its ARN when absent. */
  async get(name: string, version: string): Promise<{ definition: VersionDefinition; revision: number }> {
    const entry = /^[0-9]+$/.test(version) ? await readEntry(this.options.store, VERSION_KIND, `${name}:${version}`) : undefined;
    if (!entry) throw this.notFound(name, version);
    return { definition: JSON.parse(entry.definition) as VersionDefinition, revision: entry.revision };
  }

  /** DeleteFunction with a version Qualifier: refused while an alias routes to it. */
  async deleteVersion(name: string, version: string): Promise<void> {
    await this.options.requireFunction(name);
    if (version === '$LATEST') {
      throw new SluiceError('InvalidParameterValue', '$LATEST version cannot be deleted without deleting the function.', { field: 'Qualifier' });
    }
    const entry = /^[0-9]+$/.test(version) ? await readEntry(this.options.store, VERSION_KIND, `${name}:${version}`) : undefined;
    if (!entry) throw this.notFound(name, version);
    const aliases = aliasEntriesOf(await this.options.store.catalogList({ kind: ALIAS_KIND }), name).filter(
      ({ definition }) => definition.functionVersion === version || definition.weights[version] !== undefined,
    );
    if (aliases.length > 0) {
      throw new SluiceError('ResourceConflictException', `Unable to delete version because the following aliases reference it: [${aliases.map(({ definition }) => definition.name).join(', ')}]`, {
        field: 'Qualifier',
      });
    }
    // At the revision read: an alias written meanwhile rewrote the entry (checkAlias), so this delete
    // fails and the check runs again on what is stored now.
    if (!(await this.options.store.catalogDelete({ kind: VERSION_KIND, name: entry.name, ifRevision: entry.revision }))) {
      await this.deleteVersion(name, version);
      return;
    }
    await this.options.catalogFunctions.uninstall(entry.name);
  }

  /** The deletes of every version and alias of a function (DeleteFunction without a qualifier). */
  async deletesOf(name: string): Promise<CatalogDeleteInput[]> {
    const entries = await this.options.store.catalogList({});
    return [...versionEntriesOf(entries, name), ...aliasEntriesOf(entries, name)].map(({ entry }) => ({ kind: entry.kind, name: entry.name, ifRevision: entry.revision }));
  }

  // ---------------------------------------------------------------- aliases

  /**
   * Checks an alias's versions and returns the puts that rewrite their entries unchanged at the
   * revisions read: written with the alias in one batch, they make the alias and a concurrent
   * DeleteFunction of one of its versions exclude each other (one of the two fails its condition).
   */
  private async checkAlias(name: string, functionVersion: string, weights: Record<string, number>): Promise<CatalogPutInput[]> {
    const versions = versionEntriesOf(await this.options.store.catalogList({ kind: VERSION_KIND }), name);
    const byNumber = new Map(versions.map(({ entry, definition }) => [String(definition.version), entry]));
    if (functionVersion !== '$LATEST' && !byNumber.has(functionVersion)) throw this.notFound(name, functionVersion);
    validateRouting({ functionVersion, weights, versionExists: (version) => byNumber.has(version), notFound: (version) => this.notFound(name, version) });
    const now = this.options.clock.now();
    return [functionVersion, ...Object.keys(weights)]
      .map((version) => byNumber.get(version))
      .filter((entry) => entry !== undefined)
      .map((entry) => ({ kind: entry.kind, name: entry.name, definition: entry.definition, modifiedAt: now, ifRevision: entry.revision }));
  }

  /** Writes an alias with its versions' guards; a version deleted meanwhile is not found. */
  private async writeAlias(name: string, definition: AliasDefinition, guards: CatalogPutInput[], ifRevision: number | null): Promise<AliasView> {
    const outcome = await this.options.store.catalogWrite({
      puts: [...guards, { kind: ALIAS_KIND, name: `${name}:${definition.name}`, definition: JSON.stringify(definition), modifiedAt: this.options.clock.now(), ifRevision }],
      deletes: [],
    });
    if (!outcome.written) {
      if (outcome.failed.kind === VERSION_KIND) throw this.notFound(name, outcome.failed.name.slice(name.length + 1));
      if (ifRevision === null) throw new SluiceError('ResourceConflictException', `Alias already exists: ${this.arn(name, definition.name)}`, { field: 'Name' });
      throw inProgress(this.arn(name, definition.name));
    }
    const revision = (ifRevision ?? 0) + 1;
    return this.applyAlias({ kind: ALIAS_KIND, name: `${name}:${definition.name}`, definition: JSON.stringify(definition), revision, modifiedAt: this.options.clock.now() });
  }

  async createAlias(name: string, alias: Omit<AliasDefinition, 'function'>): Promise<AliasView> {
    await this.options.requireFunction(name);
    if (await readEntry(this.options.store, ALIAS_KIND, `${name}:${alias.name}`)) {
      throw new SluiceError('ResourceConflictException', `Alias already exists: ${this.arn(name, alias.name)}`, { field: 'Name' });
    }
    const guards = await this.checkAlias(name, alias.functionVersion, alias.weights);
    return this.writeAlias(name, { function: name, ...alias }, guards, null);
  }

  async getAlias(name: string, alias: string): Promise<AliasView> {
    await this.options.requireFunction(name);
    const entry = await readEntry(this.options.store, ALIAS_KIND, `${name}:${alias}`);
    if (!entry) throw new SluiceError('ResourceNotFoundException', `Cannot find alias arn: ${this.arn(name, alias)}`, { field: 'Name' });
    return { ...(JSON.parse(entry.definition) as AliasDefinition), revision: entry.revision };
  }

  async updateAlias(name: string, alias: string, changes: { functionVersion?: string; description?: string; weights?: Record<string, number>; revisionId?: string }): Promise<AliasView> {
    const current = await this.getAlias(name, alias);
    if (changes.revisionId !== undefined && changes.revisionId !== this.aliasRevisionId(current)) {
      throw new SluiceError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        { field: 'RevisionId' },
      );
    }
    const { revision, ...previous } = current;
    const next: AliasDefinition = {
      ...previous,
      ...(changes.functionVersion !== undefined ? { functionVersion: changes.functionVersion } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.weights !== undefined ? { weights: changes.weights } : {}),
    };
    const guards = await this.checkAlias(name, next.functionVersion, next.weights);
    return this.writeAlias(name, next, guards, revision);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.options.requireFunction(name);
    // Lambda answers 204 for an alias that does not exist.
    await this.options.store.catalogDelete({ kind: ALIAS_KIND, name: `${name}:${alias}` });
    await this.remove(ALIAS_KIND, `${name}:${alias}`);
  }

  async listAliases(name: string, functionVersion?: string): Promise<AliasView[]> {
    await this.options.requireFunction(name);
    return aliasEntriesOf(await this.options.store.catalogList({ kind: ALIAS_KIND }), name)
      .map(({ entry, definition }) => ({ ...definition, revision: entry.revision }))
      .filter((alias) => functionVersion === undefined || alias.functionVersion === functionVersion || alias.weights[functionVersion] !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  aliasRevisionId(alias: AliasView): string {
    return this.options.revisionId(`${alias.function}\u0000alias\u0000${alias.name}`, alias.revision);
  }

  // ---------------------------------------------------------------- invoking and applying

  /**
   * The local function an invocation with this qualifier runs, and the version it is: `$LATEST`, a
   * published version this node runs, or an alias's version picked by its weights. Undefined when this
   * node knows no such version or alias.
   */
  resolve(name: string, qualifier: string | undefined): { local: string; version: string } | undefined {
    if (qualifier === undefined || qualifier === '$LATEST') return this.options.functions.exists(name) ? { local: name, version: '$LATEST' } : undefined;
    if (/^[0-9]+$/.test(qualifier)) {
      const local = localNameOf(name, qualifier);
      return this.options.catalogFunctions.defines(local) ? { local, version: qualifier } : undefined;
    }
    const alias = this.aliases.get(`${name}:${qualifier}`);
    if (!alias) return undefined;
    const version = pickAliasVersion(alias, randomInt(1_000_000) / 1_000_000);
    const local = localNameOf(name, version);
    return this.options.functions.exists(local) ? { local, version } : undefined;
  }

  /** Applies a version or alias entry read from the catalog. */
  async apply(entry: CatalogEntry): Promise<void> {
    if (entry.kind === ALIAS_KIND) {
      // Its function is defined here once the function is: the entry waits (and is tried again at the
      // next wake-up) until then.
      const base = (JSON.parse(entry.definition) as AliasDefinition).function;
      if (!this.options.functions.exists(base)) throw new Error(`the function ${base} is not installed on this node yet`);
      this.applyAlias(entry);
      return;
    }
    await this.installVersion(JSON.parse(entry.definition) as VersionDefinition, entry.revision);
  }

  /** Removes a version or alias entry gone from the catalog. */
  async remove(kind: string, name: string): Promise<void> {
    if (kind === ALIAS_KIND) {
      this.aliases.delete(name);
      if (this.options.functions.exists(name)) await this.options.functions.delete(name);
    } else await this.options.catalogFunctions.uninstall(name);
  }

  private applyAlias(entry: CatalogEntry): AliasView {
    const view: AliasView = { ...(JSON.parse(entry.definition) as AliasDefinition), revision: entry.revision };
    const current = this.aliases.get(entry.name);
    if (!current || current.revision <= entry.revision) this.aliases.set(entry.name, view);
    // The alias as a function of its own, for event source mappings on its ARN: it routes at each
    // invocation by the alias as this node knows it then.
    const functions = this.options.functions;
    if (functions.exists(view.function)) {
      functions.defineAlias(entry.name, view.function, () => {
        const alias = this.aliases.get(entry.name);
        return alias ? localNameOf(alias.function, pickAliasVersion(alias, randomInt(1_000_000) / 1_000_000)) : undefined;
      });
    }
    this.options.applied(ALIAS_KIND, entry.name, entry.revision);
    return view;
  }

  private async installVersion(definition: VersionDefinition, revision: number): Promise<void> {
    const local = localNameOf(definition.function, String(definition.version));
    await this.options.catalogFunctions.install(local, revision, definition.stored, null, VERSION_KIND);
    this.options.applied(VERSION_KIND, local, revision);
  }
}
