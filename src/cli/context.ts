/**
 * What every client command shares: the node to talk to (`--endpoint`, SLUICE_ENDPOINT), the token
 * (`--token`, SLUICE_TOKEN, else the first of SLUICE_TOKENS), `--json` output, and one way to fail:
 * `error: <Code>: <message>` on stderr and exit status 1.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_PORT } from '../api/defaults.js';
import { isSluiceError } from '../model/errors.js';
import { NodeClient } from './http-client.js';

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  json?: boolean;
}

export interface CommandContext {
  client: NodeClient;
  json: boolean;
  /** Prints a result: its JSON with --json, otherwise the human rendering. */
  print(value: unknown, human: () => string): void;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('--endpoint <url>', `node to talk to (env SLUICE_ENDPOINT; default http://127.0.0.1:${DEFAULT_PORT})`)
    .option('--token <token>', 'bearer token for the native API (env SLUICE_TOKEN, or the first of SLUICE_TOKENS)')
    .option('--json', 'print JSON for scripts instead of tables');
}

export function commandContext(command: Command, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const endpoint = options.endpoint ?? env.SLUICE_ENDPOINT ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  const token = options.token ?? env.SLUICE_TOKEN ?? env.SLUICE_TOKENS?.split(',')[0]?.trim();
  const json = Boolean(options.json);
  return {
    client: new NodeClient({ endpoint, token: token || undefined }),
    json,
    print(value, human) {
      process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
    },
  };
}

/** Wraps a command's action: any failure is reported on one line and the process exits with status 1. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      const text = isSluiceError(error) ? `${error.code}: ${error.message}` : (error as Error)?.message ?? String(error);
      process.stderr.write(`error: ${text}\n`);
      process.exitCode = 1;
    }
  };
}

/** Parses repeated `name=value` options into an object. */
export function keyValues(pairs: readonly string[] | undefined, option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`${option}: expected name=value, got '${pair}'`);
    result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
    return number;
  };
}
