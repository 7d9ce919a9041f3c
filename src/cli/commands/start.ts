/**
 * `sluice start`: runs a node in the foreground. SIGTERM or SIGINT shuts it down in order (stop
 * accepting, end long polls, finish requests and invocations under way, close the store); a second
 * signal exits at once.
 */
import type { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STORE } from '../../api/defaults.js';
import type { RunningNode } from '../../api/node.js';
import { isSluiceError } from '../../model/errors.js';
import { integerOption } from '../context.js';

interface StartOptions {
  config?: string;
  store?: string;
  host?: string;
  port?: number;
  insecureDev?: boolean;
  prune?: boolean;
  logLevel: LevelWithSilent;
  logFormat?: 'json' | 'pretty';
  shutdownGrace: number;
}

function summarize(node: RunningNode): string[] {
  const counts = new Map<string, number>();
  for (const change of node.changes) counts.set(`${change.kind} ${change.action}`, (counts.get(`${change.kind} ${change.action}`) ?? 0) + 1);
  return [...counts].map(([what, count]) => `${count} ${what}`);
}

async function run(options: StartOptions): Promise<void> {
  // The server and the engine load only for this command, so client commands start fast.
  const { createNodeLogger, defaultLogFormat } = await import('../../api/logger.js');
  const { startNode } = await import('../../api/node.js');
  const format = options.logFormat ?? defaultLogFormat();
  const logger = createNodeLogger({ level: options.logLevel, format });
  let node: RunningNode;
  try {
    node = await startNode({
      ...(options.store ? { store: options.store } : {}),
      ...(options.config ? { configPath: options.config } : {}),
      ...(options.host ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      cwd: process.cwd(),
      insecureDev: Boolean(options.insecureDev),
      prune: Boolean(options.prune),
      env: process.env,
      logger,
      shutdownGraceMs: options.shutdownGrace * 1000,
    });
  } catch (error) {
    const { describeError } = await import('../../api/node.js');
    logger.fatal(
      isSluiceError(error) ? { code: error.code } : { err: error },
      isSluiceError(error) ? error.message : `the node failed to start: ${describeError(error)}`,
    );
    logger.flush();
    // A JSON line escapes the newlines of a multi-line message (every problem of a config): say it again
    // for the person at the terminal, one problem per line. Pretty output already did.
    if (format === 'json') process.stderr.write(`\nsluice start failed${isSluiceError(error) ? ` (${error.code}): ${error.message}` : `: ${(error as Error)?.stack ?? String(error)}`}\n`);
    process.exitCode = 1;
    return;
  }
  if (node.changes.length > 0) {
    logger.info({ changes: node.changes }, `config applied: ${summarize(node).join(', ')}`);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, long polls end, work under way finishes');
    node.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        // Closed cleanly; should a library leave a handle open, do not hang the supervisor waiting for it.
        setTimeout(() => process.exit(), 2_000).unref();
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // On Ctrl-C npm and this node both get SIGINT; npm then exits, which must not count as a second signal.
  stopWhenLauncherExits(() => {
    if (!stopping) stop('SIGTERM');
  }, logger);
}

/**
 * `npx sluice start` and `npm run sluice -- start` put npm (and a shell) between the signal and this
 * process: a SIGTERM sent to npm ends npm but never reaches the node, which kept running, orphaned. So a
 * node launched through npm watches its parent and shuts down, as on SIGTERM, when the parent is gone.
 * (Started directly, or with `exec`, it has no such parent and this does nothing.)
 */
export function stopWhenLauncherExits(stop: () => void, logger: { warn(obj: object, msg: string): void }, env = process.env): void {
  if (!env.npm_command && !env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    logger.warn({ parent }, 'the npm process that launched this node exited: shutting down as on SIGTERM');
    stop();
  }, 500);
  timer.unref();
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run a node: the engine on a store, the config applied, served over HTTP (SQS endpoint + native API).')
    .option('-c, --config <file>', 'config file (default: sluice.config.{ts,mts,js,mjs,json,yaml,yml} in this directory, if any)')
    .option('--store <url>', `store URL (env SLUICE_STORE; default ${DEFAULT_STORE})`)
    .option('--host <host>', `interface to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for every interface)`)
    .option('-p, --port <port>', `port (default ${DEFAULT_PORT}; 0 picks a free one)`, integerOption('--port', 0, 65_535))
    .option('--insecure-dev', 'accept requests without credentials (development only; logged as a warning)')
    .option('--prune', 'delete queues, tables, functions and triggers the config no longer declares')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .option('--log-format <format>', 'json (JSON lines) or pretty (colored, multi-line); default: pretty on a terminal, else json (env SLUICE_LOG_FORMAT)')
    .option('--shutdown-grace <seconds>', 'how long invocations under way may finish on SIGTERM', integerOption('--shutdown-grace', 0, 3600), 10)
    .addHelpText(
      'after',
      `
Credentials (required unless --insecure-dev):
  SLUICE_ACCESS_KEYS=AKID:SECRET[,AKID2:SECRET2]   SigV4 keys for the SQS endpoint (AWS SDKs and CLI)
  SLUICE_TOKENS=<token>[,<token2>]                 bearer tokens for the native API and this CLI
  (or auth.accessKeys / auth.tokens in the config file)

Example:
  SLUICE_TOKENS=$(openssl rand -hex 24) SLUICE_ACCESS_KEYS=local:$(openssl rand -hex 24) sluice start --config sluice.config.ts`,
    )
    .action(run);
}
