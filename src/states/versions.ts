/**
 * State machine versions and aliases, as Step Functions has them: a version is a numbered, immutable
 * snapshot of a machine's revision (`<machine ARN>:<n>`, numbers never reused); an alias
 * (`<machine ARN>:<alias>`) routes StartExecution to one version, or splits it between two by weight.
 * Executions started through either run that version's definition and record the ARNs they were started
 * on (ExecutionMeta.versionArn, aliasArn).
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import type { AliasRoute, StoredAlias, StoredStateMachine, StoredVersion } from '../store/state-machine-store.js';
import type { Store } from '../store/store.js';

/** AWS's quotas: 1,000 versions and 100 aliases per state machine. */
export const MAX_VERSIONS = 1000;
export const MAX_ALIASES = 100;
const MAX_DESCRIPTION = 256;
/** An alias name: 1-80 letters, digits, `_`, `-`, `.`, not digits only (so it never reads as a version). */
const ALIAS_NAME = /^(?=.*[a-zA-Z_.-])[a-zA-Z0-9_.-]{1,80}$/;

/** A state machine ARN with or without a qualifier: a version number or an alias name. */
export interface QualifiedArn {
  name: string;
  version?: number;
  alias?: string;
}

export function parseMachineArn(arn: string, field: string): QualifiedArn {
  const m = /^arn:aws:states:[^:]*:[^:]*:stateMachine:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (!m) throw new SluiceError('InvalidArn', `${field}: Invalid Arn: '${arn}'`, { field });
  const name = m[1] as string;
  const qualifier = m[2];
  if (qualifier === undefined) return { name };
  if (/^\d+$/.test(qualifier)) return { name, version: Number(qualifier) };
  return { name, alias: qualifier };
}

export interface VersionView {
  stateMachineVersionArn: string;
  creationDate: Date;
}

export interface AliasView {
  stateMachineAliasArn: string;
  name: string;
  description: string;
  routingConfiguration: { stateMachineVersionArn: string; weight: number }[];
  creationDate: Date;
  updateDate: Date;
}

export interface VersionsDeps {
  store: Store;
  clock: Clock;
  machineArn(name: string): string;
  /** The machine (StateMachineDoesNotExist when missing). */
  machine(nameOrArn: string): Promise<StoredStateMachine>;
}

export class StateMachineVersions {
  constructor(private readonly deps: VersionsDeps) {}

  versionArn(name: string, version: number): string {
    return `${this.deps.machineArn(name)}:${version}`;
  }

  aliasArn(name: string, alias: string): string {
    return `${this.deps.machineArn(name)}:${alias}`;
  }

  /** PublishStateMachineVersion (and `publish: true` on create and update). */
  async publish(machineArn: string, options: { revisionId?: string; description?: string } = {}): Promise<VersionView> {
    const { name, version, alias } = parseMachineArn(machineArn, 'stateMachineArn');
    if (version !== undefined || alias !== undefined)
      throw new SluiceError('ValidationException', `stateMachineArn: '${machineArn}' is a version or alias ARN; publish from the state machine's own ARN`, { field: 'stateMachineArn' });
    const description = checkDescription(options.description, 'description');
    let expectedRevisionId: number | undefined;
    if (options.revisionId !== undefined) {
      if (!/^\d+$/.test(options.revisionId)) throw conflict(`revisionId: '${options.revisionId}' is not the current revision of '${machineArn}'`);
      expectedRevisionId = Number(options.revisionId);
    }
    const result = await this.deps.store.stateMachineVersionPublish({
      name,
      ...(expectedRevisionId !== undefined ? { expectedRevisionId } : {}),
      description,
      limit: MAX_VERSIONS,
      now: this.deps.clock.now(),
    });
    switch (result.outcome) {
      case 'missing':
        throw machineMissing(this.deps.machineArn(name));
      case 'conflict':
        throw conflict(`Failed to publish the State Machine version for revision ${options.revisionId}: it is not the current revision of '${machineArn}'`, 'revisionId');
      case 'quota':
        throw new SluiceError('ServiceQuotaExceededException', `stateMachineArn: '${machineArn}' has ${MAX_VERSIONS} versions, the most a state machine may have; delete unused ones`, { field: 'stateMachineArn' });
      default:
        return { stateMachineVersionArn: this.versionArn(name, result.version.version), creationDate: new Date(result.version.createdAt) };
    }
  }

  /** The version a version ARN names (StateMachineDoesNotExist when it is gone). */
  async version(name: string, version: number): Promise<StoredVersion> {
    const found = await this.deps.store.stateMachineVersionGet({ name, version });
    if (!found) throw machineMissing(this.versionArn(name, version));
    return found;
  }

  /** ListStateMachineVersions: newest first. */
  async list(machineArn: string, options: { maxResults?: number; nextToken?: string } = {}): Promise<{ stateMachineVersions: VersionView[]; nextToken?: string }> {
    const machine = await this.deps.machine(unqualified(machineArn));
    const limit = pageSize(options.maxResults);
    const before = options.nextToken === undefined ? undefined : tokenNumber(options.nextToken);
    const rows = await this.deps.store.stateMachineVersionList({ name: machine.name, ...(before !== undefined ? { before } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      stateMachineVersions: page.map((v) => ({ stateMachineVersionArn: this.versionArn(machine.name, v.version), creationDate: new Date(v.createdAt) })),
      ...(rows.length > limit ? { nextToken: Buffer.from(String(page.at(-1)!.version)).toString('base64url') } : {}),
    };
  }

  /** DeleteStateMachineVersion: refused while an alias routes to it; a version already gone is not an error. */
  async delete(versionArn: string): Promise<void> {
    const { name, version } = parseMachineArn(versionArn, 'stateMachineVersionArn');
    if (version === undefined) throw new SluiceError('ValidationException', `stateMachineVersionArn: '${versionArn}' is not a version ARN`, { field: 'stateMachineVersionArn' });
    const outcome = await this.deps.store.stateMachineVersionDelete({ name, version });
    if (outcome === 'aliased')
      throw conflict(`Version to be deleted must not be referenced by an alias: an alias of '${this.deps.machineArn(name)}' routes to version ${version}`, 'stateMachineVersionArn');
  }

  /** CreateStateMachineAlias: idempotent for the same name, description and routing; another is a ConflictException. */
  async createAlias(input: { name: string; description?: string; routingConfiguration: { stateMachineVersionArn: string; weight: number }[] }): Promise<{ stateMachineAliasArn: string; creationDate: Date }> {
    if (typeof input.name !== 'string' || !ALIAS_NAME.test(input.name))
      throw new SluiceError('ValidationException', `name: '${String(input.name)}' must be 1-80 letters, digits, _ - or ., and not only digits`, { field: 'name' });
    const description = checkDescription(input.description, 'description');
    const { machine, routing } = this.routing(input.routingConfiguration);
    const now = this.deps.clock.now();
    const alias: StoredAlias = { name: input.name, description, routing, createdAt: now, updatedAt: now };
    const result = await this.deps.store.stateMachineAliasCreate({ name: machine, alias, limit: MAX_ALIASES });
    const arn = this.aliasArn(machine, input.name);
    switch (result.outcome) {
      case 'missing':
        throw new SluiceError('ResourceNotFound', `Resource not found: '${this.deps.machineArn(machine)}'`, { field: 'routingConfiguration' });
      case 'missingVersion':
        throw new SluiceError('ResourceNotFound', `Resource not found: a version in routingConfiguration does not exist`, { field: 'routingConfiguration' });
      case 'quota':
        throw new SluiceError('ServiceQuotaExceededException', `name: '${this.deps.machineArn(machine)}' has ${MAX_ALIASES} aliases, the most a state machine may have`, { field: 'name' });
      case 'exists':
        if (result.alias.description !== description || !sameRouting(result.alias.routing, routing))
          throw conflict(`An alias named '${input.name}' already exists with another description or routing configuration: '${arn}'`, 'name');
        return { stateMachineAliasArn: arn, creationDate: new Date(result.alias.createdAt) };
      default:
        return { stateMachineAliasArn: arn, creationDate: new Date(now) };
    }
  }

  /**
   * Sets an alias to exactly this description and routing, creating it when missing: the native API's
   * PUT and the config file's `aliases:`, which declare an alias rather than create it once. Versions are
   * numbers of `machine`. Says what it did, so `sluice start` can report it.
   */
  async putAlias(machine: string, alias: string, input: { description?: string; routing: AliasRoute[] }): Promise<{ alias: AliasView; action: 'created' | 'updated' | 'unchanged' }> {
    const name = (await this.deps.machine(machine)).name;
    const description = input.description ?? '';
    const routingConfiguration = input.routing.map((r) => ({ stateMachineVersionArn: this.versionArn(name, r.version), weight: r.weight }));
    const arn = this.aliasArn(name, alias);
    const current = await this.deps.store.stateMachineAliasGet({ name, alias });
    if (!current) {
      await this.createAlias({ name: alias, description, routingConfiguration });
      return { alias: await this.describeAlias(arn), action: 'created' };
    }
    if (current.description === description && sameRouting(current.routing, input.routing)) return { alias: this.aliasView(name, current), action: 'unchanged' };
    await this.updateAlias(arn, { description, routingConfiguration });
    return { alias: await this.describeAlias(arn), action: 'updated' };
  }

  async describeAlias(aliasArn: string): Promise<AliasView> {
    const { name, alias } = this.aliasOf(aliasArn);
    const found = await this.deps.store.stateMachineAliasGet({ name, alias });
    if (!found) throw aliasMissing(aliasArn);
    return this.aliasView(name, found);
  }

  /** UpdateStateMachineAlias: a new description, routing, or both. */
  async updateAlias(aliasArn: string, changes: { description?: string; routingConfiguration?: { stateMachineVersionArn: string; weight: number }[] }): Promise<{ updateDate: Date }> {
    const { name, alias } = this.aliasOf(aliasArn);
    if (changes.description === undefined && changes.routingConfiguration === undefined)
      throw new SluiceError('ValidationException', 'description or routingConfiguration: UpdateStateMachineAlias needs at least one of them', { field: 'routingConfiguration' });
    let routing: AliasRoute[] | undefined;
    if (changes.routingConfiguration !== undefined) {
      const parsed = this.routing(changes.routingConfiguration);
      if (parsed.machine !== name)
        throw new SluiceError('ValidationException', `routingConfiguration: every version must belong to the alias's state machine '${this.deps.machineArn(name)}'`, { field: 'routingConfiguration' });
      routing = parsed.routing;
    }
    const now = this.deps.clock.now();
    const result = await this.deps.store.stateMachineAliasUpdate({
      name,
      alias,
      ...(changes.description !== undefined ? { description: checkDescription(changes.description, 'description') } : {}),
      ...(routing ? { routing } : {}),
      now,
    });
    if (result.outcome !== 'updated')
      throw result.outcome === 'missing'
        ? aliasMissing(aliasArn)
        : new SluiceError('ResourceNotFound', 'Resource not found: a version in routingConfiguration does not exist', { field: 'routingConfiguration' });
    return { updateDate: new Date(result.alias.updatedAt) };
  }

  async deleteAlias(aliasArn: string): Promise<void> {
    const { name, alias } = this.aliasOf(aliasArn);
    if (!(await this.deps.store.stateMachineAliasDelete({ name, alias }))) throw aliasMissing(aliasArn);
  }

  async listAliases(machineArn: string, options: { maxResults?: number; nextToken?: string } = {}): Promise<{ stateMachineAliases: { stateMachineAliasArn: string; creationDate: Date }[]; nextToken?: string }> {
    const machine = await this.deps.machine(unqualified(machineArn));
    const limit = pageSize(options.maxResults);
    const after = options.nextToken === undefined ? undefined : tokenText(options.nextToken);
    const rows = await this.deps.store.stateMachineAliasList({ name: machine.name, ...(after !== undefined ? { after } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      stateMachineAliases: page.map((a) => ({ stateMachineAliasArn: this.aliasArn(machine.name, a.name), creationDate: new Date(a.createdAt) })),
      ...(rows.length > limit ? { nextToken: Buffer.from(page.at(-1)!.name).toString('base64url') } : {}),
    };
  }

  /**
   * What StartExecution on a qualified ARN runs: the version named, or the one the alias routes this
   * execution to (by weight, at random, as Step Functions chooses). StateMachineDoesNotExist when gone.
   */
  async resolve(target: QualifiedArn): Promise<{ version: StoredVersion; versionArn: string; aliasArn?: string }> {
    if (target.version !== undefined) return { version: await this.version(target.name, target.version), versionArn: this.versionArn(target.name, target.version) };
    const alias = await this.deps.store.stateMachineAliasGet({ name: target.name, alias: target.alias as string });
    const aliasArn = this.aliasArn(target.name, target.alias as string);
    if (!alias) throw machineMissing(aliasArn);
    const chosen = pick(alias.routing);
    return { version: await this.version(target.name, chosen), versionArn: this.versionArn(target.name, chosen), aliasArn };
  }

  private aliasView(name: string, a: StoredAlias): AliasView {
    return {
      stateMachineAliasArn: this.aliasArn(name, a.name),
      name: a.name,
      description: a.description,
      routingConfiguration: a.routing.map((r) => ({ stateMachineVersionArn: this.versionArn(name, r.version), weight: r.weight })),
      creationDate: new Date(a.createdAt),
      updateDate: new Date(a.updatedAt),
    };
  }

  private aliasOf(aliasArn: string): { name: string; alias: string } {
    const { name, alias } = parseMachineArn(aliasArn, 'stateMachineAliasArn');
    if (alias === undefined) throw new SluiceError('InvalidArn', `stateMachineAliasArn: Invalid Arn: '${aliasArn}' is not an alias ARN`, { field: 'stateMachineAliasArn' });
    return { name, alias };
  }

  /** Checks a routing configuration: 1-2 distinct versions of one machine, weights 0-100 adding to 100. */
  private routing(list: { stateMachineVersionArn: string; weight: number }[]): { machine: string; routing: AliasRoute[] } {
    const field = 'routingConfiguration';
    if (!Array.isArray(list) || list.length < 1 || list.length > 2)
      throw new SluiceError('ValidationException', `${field}: must name 1 or 2 versions`, { field });
    const routes = list.map((item) => {
      const { name, version } = parseMachineArn(item.stateMachineVersionArn, `${field}.stateMachineVersionArn`);
      if (version === undefined)
        throw new SluiceError('ValidationException', `${field}: '${item.stateMachineVersionArn}' is not a state machine version ARN`, { field });
      if (!Number.isInteger(item.weight) || item.weight < 0 || item.weight > 100)
        throw new SluiceError('ValidationException', `${field}: weight ${String(item.weight)} must be an integer from 0 to 100`, { field });
      return { name, version, weight: item.weight };
    });
    if (new Set(routes.map((r) => r.name)).size > 1)
      throw new SluiceError('ValidationException', `${field}: every version must belong to the same state machine`, { field });
    if (new Set(routes.map((r) => r.version)).size !== routes.length)
      throw new SluiceError('ValidationException', `${field}: the same version is listed twice`, { field });
    if (routes.reduce((sum, r) => sum + r.weight, 0) !== 100)
      throw new SluiceError('ValidationException', `${field}: the weights must add up to 100`, { field });
    return { machine: routes[0]!.name, routing: routes.map(({ version, weight }) => ({ version, weight })) };
  }
}

/** Chooses a route by weight. */
function pick(routing: AliasRoute[]): number {
  let draw = randomInt(100);
  for (const route of routing) {
    if (draw < route.weight) return route.version;
    draw -= route.weight;
  }
  return routing.at(-1)!.version;
}

function sameRouting(a: AliasRoute[], b: AliasRoute[]): boolean {
  return a.length === b.length && a.every((r, i) => r.version === b[i]?.version && r.weight === b[i]?.weight);
}

function unqualified(arn: string): string {
  if (!arn.startsWith('arn:')) return arn;
  const { name, version, alias } = parseMachineArn(arn, 'stateMachineArn');
  if (version !== undefined || alias !== undefined)
    throw new SluiceError('ValidationException', `stateMachineArn: '${arn}' is a version or alias ARN; give the state machine's own ARN`, { field: 'stateMachineArn' });
  return name;
}

function checkDescription(description: string | undefined, field: string): string {
  if (description === undefined) return '';
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION)
    throw new SluiceError('ValidationException', `${field}: must be at most ${MAX_DESCRIPTION} characters`, { field });
  return description;
}

function conflict(message: string, field = 'stateMachineArn'): SluiceError {
  return new SluiceError('ConflictException', message, { field });
}

function machineMissing(arn: string): SluiceError {
  return new SluiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`, { field: 'stateMachineArn' });
}

function aliasMissing(arn: string): SluiceError {
  return new SluiceError('ResourceNotFound', `Resource not found: '${arn}'`, { field: 'stateMachineAliasArn' });
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)
    throw new SluiceError('ValidationException', `maxResults: ${maxResults} must be an integer from 0 to 1000`, { field: 'maxResults' });
  return maxResults;
}

function tokenText(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (text === '') throw new SluiceError('InvalidToken', 'nextToken: is not a token this API returned', { field: 'nextToken' });
  return text;
}

function tokenNumber(token: string): number {
  const n = Number(tokenText(token));
  if (!Number.isInteger(n)) throw new SluiceError('InvalidToken', 'nextToken: is not a token this API returned', { field: 'nextToken' });
  return n;
}
