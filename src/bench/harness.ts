/**
 * The benchmark harness: each scenario measures one thing and returns named figures. Scenarios open their
 * own engine on a fresh store (a temporary SQLite file, or a fresh PostgreSQL schema) so runs never share state.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sluice } from '../engine/sluice.js';

export interface BenchOptions {
  store: 'sqlite' | 'postgres';
  postgresUrl: string;
  /** Smaller sizes for a smoke run. */
  quick: boolean;
  /** Rounds of alternating runs in the peer comparisons. */
  runs: number;
  /** Where the peers' scripts are installed (default ../shared/peers). */
  peersDir?: string;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The aim the issue set, shown beside the figure. */
  aim?: string;
}

export interface Scenario {
  name: string;
  run(options: BenchOptions): Promise<Figure[]>;
}

/** A URL for a fresh store (a new temporary SQLite file, or a new PostgreSQL schema); `dispose` removes it. */
export function freshStoreUrl(options: BenchOptions): { url: string; dispose(): Promise<void> } {
  if (options.store === 'postgres') {
    const schema = `sluice_bench_${process.pid}_${Date.now().toString(36)}`;
    const separator = options.postgresUrl.includes('?') ? '&' : '?';
    return {
      url: `${options.postgresUrl}${separator}schema=${schema}`,
      async dispose() {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: options.postgresUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  return {
    url: `sqlite:${join(dir, 'bench.db')}`,
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh engine on a fresh store; `dispose` closes it and removes what it created. */
export async function freshEngine(
  options: BenchOptions,
): Promise<{ sluice: Sluice; path?: string; dispose(): Promise<void> }> {
  const store = freshStoreUrl(options);
  const sluice = await Sluice.open({ store: store.url });
  return {
    sluice,
    ...(store.url.startsWith('sqlite:') ? { path: store.url.slice('sqlite:'.length) } : {}),
    async dispose() {
      await sluice.close();
      await store.dispose();
    },
  };
}

/**
 * `npm run bench` runs the compiled JavaScript (tsc into .bench-build), as a user runs the package;
 * `node --import tsx src/bench/...` runs from source. Through tsx the hot paths cost about a fifth more
 * CPU per message (its esbuild transform names every closure created, and the name is set at each
 * creation), so figures meant for comparison come from the compiled build. Child processes and worker
 * threads of a bench run the way their parent does.
 */
export const compiledBench = import.meta.url.endsWith('.js');

/** execArgv for a bench child process: none when compiled, tsx's loader from source. */
export const benchExecArgv: readonly string[] = compiledBench ? [] : ['--import', 'tsx'];

/** The path of another bench module (`workload`), as this build runs it. */
export function benchModulePath(name: string): string {
  return join(import.meta.dirname, `${name}.${compiledBench ? 'js' : 'ts'}`);
}

export function elapsedSeconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * The next IPC message of `type` from a bench child process (a node in a process of its own); rejects
 * if the child exits first. `R` is the union of the messages that child sends.
 */
export function nextChildReply<R extends { type: string }, T extends R['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<R, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: R) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<R, { type: T }>);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`bench node exited (${code}) before answering '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
