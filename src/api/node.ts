/**
 * A Sluice node: one engine on one store, its config applied, served over HTTP. `sluice start` runs one;
 * tests and embedders can too. Closing is orderly: stop accepting requests and end long polls, wait for
 * requests under way, then stop claiming and let invocations under way finish (up to a grace period),
 * then close the store.
 */
import { applyConfig, type ConfigChange } from '../config/apply.js';
import { findConfigFile, loadConfigFile, type LoadedConfig } from '../config/load.js';
import { clusterOptionsFromEnv } from '../cluster/settings.js';
import { Sluice } from '../engine/sluice.js';
import { SluiceError } from '../model/errors.js';
import { sqlitePathOf } from '../store/open.js';
import { lockSqliteNode } from '../store/sqlite/node-lock.js';
import { buildAuthSettings, describeAuth } from './auth/credentials.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STORE } from './defaults.js';
import type { Logger } from './logger.js';
import { EngineEvents } from '../observability/events.js';
import { logEngineEvents } from '../observability/event-log.js';
import { EngineMetrics } from '../observability/metrics.js';
import { buildHttpApi, type HttpApi } from './server.js';
import type { ConnectionLimits } from './connections.js';

export { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STORE };

export interface NodeOptions {
  /** Store URL from the command line; wins over SLUICE_STORE and the config file. */
  store?: string;
  /** A config file; without one, `sluice.config.*` in `cwd` is used if present. */
  configPath?: string;
  cwd: string;
  host?: string;
  port?: number;
  /** Accept unauthenticated requests. For local development only; logged as a warning. */
  insecureDev: boolean;
  /** Delete resources the config no longer declares. */
  prune: boolean;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** How long invocations under way may take to finish on close. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface RunningNode {
  url: string;
  sluice: Sluice;
  api: HttpApi;
  config: LoadedConfig | undefined;
  changes: ConfigChange[];
  close(): Promise<void>;
}

async function readConfig(options: NodeOptions): Promise<LoadedConfig | undefined> {
  const path = options.configPath ?? findConfigFile(options.cwd);
  return path === undefined ? undefined : loadConfigFile(path);
}

export function resolveStoreUrl(params: { flag?: string | undefined; env: NodeJS.ProcessEnv; config?: string | undefined }): string {
  // An empty value counts as unset, as shells and compose files often export one.
  return params.flag || params.env.SLUICE_STORE || params.config || DEFAULT_STORE;
}

/** The store URL with any password blanked, for logs. */
export function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:[redacted]@');
}

/** The config file's `node.connections` in the server's terms; unset members keep their defaults. */
export function connectionLimitsFromConfig(connections: NonNullable<NonNullable<LoadedConfig['config']['node']>['connections']>): Partial<ConnectionLimits> {
  return {
    ...(connections.max !== undefined ? { maxConnections: connections.max } : {}),
    ...(connections.perAddress !== undefined ? { maxConnectionsPerAddress: connections.perAddress } : {}),
    ...(connections.headersTimeoutMs !== undefined ? { headersTimeoutMs: connections.headersTimeoutMs } : {}),
    ...(connections.requestTimeoutMs !== undefined ? { requestTimeoutMs: connections.requestTimeoutMs } : {}),
    ...(connections.idleTimeoutMs !== undefined ? { idleTimeoutMs: connections.idleTimeoutMs } : {}),
  };
}

/** An error's message and its causes' (`cluster: heartbeat failed: connect ECONNREFUSED ...`), on one line. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      parts.push(`${current.message || current.name}${typeof code === 'string' && !current.message.includes(code) ? ` (${code})` : ''}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}

function openEngine(
  store: string,
  cluster: ReturnType<typeof clusterOptionsFromEnv>,
  config: LoadedConfig['config'] | undefined,
  logger: Logger,
  events: EngineEvents,
): Promise<Sluice> {
  return Sluice.open({
    store,
    cluster: (cluster.enabled ?? /^postgres(ql)?:/.test(store)) ? { ...cluster, enabled: true } : false,
    ...(config?.node?.region ? { region: config.node.region } : {}),
    ...(config?.node?.accountId ? { accountId: config.node.accountId } : {}),
    ...(config?.node?.taskTokenRetentionSeconds !== undefined
      ? { taskTokenRetentionSeconds: config.node.taskTokenRetentionSeconds }
      : {}),
    ...(config?.node?.executionRetentionSeconds !== undefined
      ? { executionRetentionSeconds: config.node.executionRetentionSeconds }
      : {}),
    ...(config?.node?.executionLeaseMs !== undefined ? { executionLeaseMs: config.node.executionLeaseMs } : {}),
    ...(config?.node?.indexBackfillLeaseMs !== undefined ? { indexBackfillLeaseMs: config.node.indexBackfillLeaseMs } : {}),
    ...(config?.node?.itemCollectionLimitBytes !== undefined ? { itemCollectionLimitBytes: config.node.itemCollectionLimitBytes } : {}),
    onBackgroundError: (error) => logger.error({ err: error }, `background task failed: ${describeError(error)}`),
    events,
  });
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const { logger } = options;
  const loaded = await readConfig(options);
  const config = loaded?.config;
  const auth = buildAuthSettings({
    env: options.env,
    ...(config?.auth?.accessKeys ? { configAccessKeys: config.auth.accessKeys } : {}),
    ...(config?.auth?.tokens ? { configTokens: config.auth.tokens } : {}),
    insecureDev: options.insecureDev,
  });
  if (!auth.insecureDev && auth.accessKeys.size === 0 && auth.tokens.length === 0) {
    throw new SluiceError(
      'MissingAuthenticationToken',
      'No credentials are configured, so no request could be accepted. Set SLUICE_ACCESS_KEYS=AKID:SECRET and/or SLUICE_TOKENS=<token> ' +
        '(or auth in the config file), or start with --insecure-dev on a development machine.',
    );
  }
  if (auth.insecureDev) logger.warn('INSECURE DEVELOPMENT MODE (--insecure-dev): every request is accepted without credentials. Never use this on a reachable network.');

  const store = resolveStoreUrl({ flag: options.store, env: options.env, config: config?.store });
  // In a cluster (a PostgreSQL store, unless SLUICE_CLUSTER=off) each node heartbeats and shares leases
  // and concurrency limits with the others; SLUICE_NODE_ID, SLUICE_HEARTBEAT_MS, SLUICE_LEASE_MS tune it.
  const cluster = clusterOptionsFromEnv(options.env);
  // One node per SQLite file, refused before anything is opened, applied or listened on.
  const sqlitePath = sqlitePathOf(store);
  const releaseNodeLock =
    sqlitePath === undefined || sqlitePath === ':memory:' ? () => {} : lockSqliteNode(sqlitePath);
  let sluice: Sluice;
  // Subscribed before the engine starts, so leases taken at start are logged too.
  const events = new EngineEvents();
  const stopLogging = logEngineEvents(events, logger);
  const metrics = new EngineMetrics(events);
  try {
    sluice = await openEngine(store, cluster, config, logger, events);
  } catch (error) {
    stopLogging();
    releaseNodeLock();
    throw error;
  }
  try {
    const changes = config ? await applyConfig({ sluice, config, baseDir: loaded!.baseDir, prune: options.prune, source: loaded!.path }) : [];
    const api = await buildHttpApi({
      sluice,
      auth,
      logger,
      ...(config?.node?.maxRequestBytes ? { maxRequestBytes: config.node.maxRequestBytes } : {}),
      ...(config?.node?.publicUrl ? { publicUrl: config.node.publicUrl } : {}),
      ...(config?.node?.connections ? { connections: connectionLimitsFromConfig(config.node.connections) } : {}),
      metrics,
      ...(config?.node?.metrics?.auth ? { metricsAuth: config.node.metrics.auth } : {}),
      ...(config?.node?.console?.enabled === false ? { console: false } : {}),
      ...(config?.node?.codeLocationKeyMaxAgeDays !== undefined ? { codeKeyMaxAgeMs: config.node.codeLocationKeyMaxAgeDays * 24 * 3600_000 } : {}),
    });
    const url = await api.listen({ host: options.host ?? config?.node?.host ?? DEFAULT_HOST, port: options.port ?? config?.node?.port ?? DEFAULT_PORT });
    logger.info(
      { url, store: redactStoreUrl(store), config: loaded?.path ?? null, auth: describeAuth(auth), node: sluice.cluster?.nodeId ?? null },
      `Sluice listening on ${url}`,
    );
    let closing: Promise<void> | undefined;
    return {
      url,
      sluice,
      api,
      config: loaded,
      changes,
      close() {
        closing ??= (async () => {
          const graceMs = options.shutdownGraceMs ?? 10_000;
          await api.close({ graceMs });
          await sluice.close({ graceMs });
          releaseNodeLock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await sluice.close({ graceMs: 0 });
    releaseNodeLock();
    throw error;
  }
}
