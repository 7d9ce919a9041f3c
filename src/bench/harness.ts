/**
 * The benchmark harness: each scenario measures one thing and returns named figures. Scenarios open their
 * own engine on a fresh store (a temporary SQLite file, or a fresh PostgreSQL schema) so runs never share state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sluice } from '../engine/sluice.js';

export interface BenchOptions {
  store: 'sqlite' | 'postgres';
  postgresUrl: string;
  /** Smaller sizes for a smoke run. */
  quick: boolean;
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

/** A fresh engine on a fresh store; `dispose` closes it and removes what it created. */
export async function freshEngine(options: BenchOptions): Promise<{ sluice: Sluice; path?: string; dispose(): Promise<void> }> {
  if (options.store === 'postgres') {
    const schema = `sluice_bench_${process.pid}_${Date.now().toString(36)}`;
    const separator = options.postgresUrl.includes('?') ? '&' : '?';
    const sluice = await Sluice.open({ store: `${options.postgresUrl}${separator}schema=${schema}` });
    return {
      sluice,
      async dispose() {
        await sluice.close();
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: options.postgresUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const path = join(dir, 'bench.db');
  const sluice = await Sluice.open({ store: `sqlite:${path}` });
  return {
    sluice,
    path,
    async dispose() {
      await sluice.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function elapsedSeconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
