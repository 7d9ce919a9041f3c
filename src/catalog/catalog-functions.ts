/**
 * Functions defined through the API (CreateFunction): the catalog entry holds the function's settings
 * and its code package is the entry's attachment (store/catalog-store.ts). Each node installs such a
 * function from the catalog: it extracts the package into its node-local cache, keyed by the package's
 * SHA-256 (functions/code-package.ts), and defines the function with a worker-thread handler loaded
 * from there. A function a node defines otherwise (its program, its config file) is never replaced.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Clock } from '../model/clock.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { extractCodePackage, parseHandlerName } from '../functions/code-package.js';
import type { FunctionService } from '../functions/service.js';
import type { Store } from '../store/store.js';

export const FUNCTION_ENTRY_KIND = 'function';

/** What the catalog keeps of a function created through the API (besides its zip). */
export interface StoredFunction {
  /** As given (nodejs18.x, nodejs20.x, ...); the node's own Node.js runs the handler. */
  runtime: string;
  /** Lambda's handler string: `index.handler`. */
  handler: string;
  role: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  /** Lambda's CodeSha256 (base64) and CodeSize (bytes) of the zip. */
  codeSha256: string;
  codeSize: number;
  /** Hex SHA-256 of the zip: the attachment's digest and the cache directory's name. */
  packageSha256: string;
  /** When the definition last changed (ms): Lambda's LastModified, the same on every node. */
  lastModified: number;
}

/** A package not (yet) in the store as its entry names it: a newer write is on its way. */
export class StalePackage extends Error {}

export class CatalogFunctions {
  /** The functions this node runs from the catalog, as installed, with the catalog revision. */
  private readonly installed = new Map<string, { revision: number; stored: StoredFunction }>();
  /** Where each installed function's package is attached, when not its own `function` entry (a published version's). */
  private readonly attachmentKinds = new Map<string, string>();
  /** Each function's install under way (see install). */
  private readonly queue = new Map<string, Promise<void>>();

  constructor(
    private readonly options: {
      store: Store;
      functions: FunctionService;
      /** The node-local package cache. */
      cacheDir: string;
      /** How long a package this node used stays once no catalog function uses it. */
      retentionMs: number;
      clock: Clock;
    },
  ) {}

  /** Packages this node extracted or loaded, by hex SHA-256: the only cache entries it ever prunes. */
  private readonly used = new Set<string>();
  /** Each planned prune's cancel, by package. */
  private readonly pruneTimers = new Map<string, () => void>();
  /** Prunes planned or running. */
  private pruning = 0;

  /** Cancels the pending prunes (the node is stopping; the next start finds the entries and may reuse them). */
  stop(): void {
    for (const cancel of this.pruneTimers.values()) cancel();
    this.pruning -= this.pruneTimers.size;
    this.pruneTimers.clear();
  }

  /** Resolves once no prune is planned or running (tests, with a short retention). */
  async prunesSettled(): Promise<void> {
    while (this.pruning > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Plans the removal of packages this node used that its functions no longer use, after the retention
   * (an execution under way may still load a file of its package). Only packages this node itself used
   * are candidates: the cache directory may be shared with nodes of another store on the same machine.
   */
  private schedulePrune(): void {
    const inUse = new Set([...this.installed.values()].map(({ stored }) => stored.packageSha256));
    for (const sha of this.used) {
      if (inUse.has(sha) || this.pruneTimers.has(sha)) continue;
      this.pruning++;
      const cancel = this.options.clock.setTimer(
        this.options.retentionMs,
        () => {
          this.pruneTimers.delete(sha);
          void this.pruneIfUnused(sha)
            .catch(() => undefined)
            .finally(() => this.pruning--);
        },
        { background: true },
      );
      this.pruneTimers.set(sha, cancel);
    }
  }

  /** Deletes a package's directory if no function of the catalog (read from the store now) nor of this node uses it. */
  private async pruneIfUnused(sha: string): Promise<void> {
    if ([...this.installed.values()].some(({ stored }) => stored.packageSha256 === sha)) return;
    for (const entry of await this.options.store.catalogList({ kind: FUNCTION_ENTRY_KIND })) {
      if ((JSON.parse(entry.definition) as { function?: StoredFunction }).function?.packageSha256 === sha) return;
    }
    // A published version keeps the package it was published with.
    for (const entry of await this.options.store.catalogList({ kind: 'function-version' })) {
      if ((JSON.parse(entry.definition) as { stored?: StoredFunction }).stored?.packageSha256 === sha) return;
    }
    if (!this.used.delete(sha)) return;
    await rm(join(this.options.cacheDir, sha), { recursive: true, force: true });
  }

  /** The catalog's definition of a function this node runs from the catalog. */
  stored(name: string): StoredFunction | undefined {
    return this.installed.get(name)?.stored;
  }

  /** The catalog revision of the definition this node runs (undefined for a function defined otherwise). */
  revision(name: string): number | undefined {
    return this.installed.get(name)?.revision;
  }

  defines(name: string): boolean {
    return this.installed.has(name);
  }

  /**
   * Defines (or redefines) the function on this node as the catalog's revision `revision` says. Calls
   * for one function run one after another (the node that wrote a change installs it at once, and
   * hears its own write on the catalog channel too), and an older revision than the one installed is
   * ignored.
   */
  install(name: string, revision: number, stored: StoredFunction, reservedConcurrency: number | null, attachmentKind = FUNCTION_ENTRY_KIND): Promise<void> {
    if (attachmentKind !== FUNCTION_ENTRY_KIND) this.attachmentKinds.set(name, attachmentKind);
    const previous = this.queue.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.installNow(name, revision, stored, reservedConcurrency));
    this.queue.set(name, next);
    void next.finally(() => {
      if (this.queue.get(name) === next) this.queue.delete(name);
    }).catch(() => undefined);
    return next;
  }

  private async installNow(name: string, revision: number, stored: StoredFunction, reservedConcurrency: number | null): Promise<void> {
    const { functions } = this.options;
    const previous = this.installed.get(name);
    if (previous && previous.revision >= revision) return;
    if (!previous && functions.exists(name)) {
      throw new Error(`a function named ${name} is already defined on this node by its program or config file, which takes precedence`);
    }
    if (previous && JSON.stringify(previous.stored) === JSON.stringify(stored)) {
      // Only the reserved concurrency changed: the workers already running keep running.
      if (functions.get(name).reservedConcurrency !== reservedConcurrency) await functions.update(name, { reservedConcurrency });
      this.installed.set(name, { revision, stored });
      return;
    }
    const directory = await this.packageDirectory(name, stored);
    const { module, exportName } = parseHandlerName(stored.handler);
    const file = ['.js', '.mjs', '.cjs'].map((extension) => join(directory, module + extension)).find((candidate) => existsSync(candidate));
    if (file === undefined) throw new Error(`the handler ${stored.handler} names no file of the code package ${stored.codeSha256}`);
    const settings = {
      handler: `${pathToFileURL(file).href}#${exportName}`,
      execution: 'worker' as const,
      timeout: stored.timeout,
      memorySize: stored.memorySize,
      environment: stored.environment,
      reservedConcurrency,
    };
    if (previous) await functions.update(name, settings);
    else {
      await functions.create({ name, ...settings, ...(name.includes(':') ? { publishedVersion: true } : {}) });
      // A published version (`name:N`) draws the function's slots: Lambda's reserved concurrency covers
      // every version and alias of a function.
      const colon = name.indexOf(':');
      if (colon !== -1) functions.concurrency.shareSlots(name, name.slice(0, colon));
    }
    this.installed.set(name, { revision, stored });
    this.used.add(stored.packageSha256);
    if (previous && previous.stored.packageSha256 !== stored.packageSha256) this.schedulePrune();
  }

  /** Removes a function this node ran from the catalog (nothing for one defined otherwise). */
  async uninstall(name: string): Promise<void> {
    await this.queue.get(name)?.catch(() => undefined);
    if (!this.installed.delete(name)) return;
    this.attachmentKinds.delete(name);
    if (this.options.functions.exists(name)) await this.options.functions.delete(name);
    this.schedulePrune();
  }

  /** The extracted package, from the cache or fetched from the store and extracted. */
  private async packageDirectory(name: string, stored: StoredFunction): Promise<string> {
    const directory = join(this.options.cacheDir, stored.packageSha256);
    if (existsSync(join(directory, '.sluice-complete'))) return directory;
    const attachment = await this.options.store.catalogAttachment({ kind: this.attachmentKinds.get(name) ?? FUNCTION_ENTRY_KIND, name });
    if (!attachment || attachment.sha256 !== stored.packageSha256) {
      throw new StalePackage(`the code package ${stored.codeSha256} of ${name} is no longer in the store (a newer one replaced it)`);
    }
    return extractCodePackage(this.options.cacheDir, stored.packageSha256, attachment.content);
  }
}
