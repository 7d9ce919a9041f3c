/**
 * Sluice beside the job queues people pick today, on this machine, in one run: each round runs the
 * peer's script (../shared/peers, Graphile Worker and BullMQ) and Sluice's same workload
 * (workload.ts), alternately, each in a fresh process; the figures are medians over the rounds and the
 * ratio is Sluice's median over the peer's. Absolute figures drift with the machine's load; the ratio of
 * alternating runs is what to compare.
 *
 * The peers need their own install: `cd <peers dir> && npm ci` (its README says how, including the
 * PostgreSQL password and database it uses). `--peers <dir>` or SLUICE_PEERS_DIR points at it
 * (default ../shared/peers); without it the scenarios say so and measure nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchExecArgv, benchModulePath, type BenchOptions, type Figure, type Scenario } from './harness.js';
import { percentile, round } from './stats.js';

type Line = Record<string, unknown>;

function runJson(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Line> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.trim().startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${String(code)}: ${err.slice(-2000) || out.slice(-2000)}`));
        return;
      }
      resolvePromise(JSON.parse(line) as Line);
    });
  });
}

export function peersDir(options: BenchOptions): string | undefined {
  const dir = resolve(options.peersDir ?? process.env.SLUICE_PEERS_DIR ?? '../shared/peers');
  return existsSync(join(dir, 'node_modules')) ? dir : undefined;
}

function sluiceRun(mode: string, options: BenchOptions, n: number): Promise<Line> {
  const script = benchModulePath('workload');
  return runJson(process.execPath, [...benchExecArgv, script, mode, '--store', options.store, '--n', String(n)], process.cwd(), {});
}

interface Contender {
  label: string;
  run: () => Promise<Line>;
}

/** Alternates the contenders `rounds` times and returns each one's samples of `field`. */
async function alternate(contenders: Contender[], rounds: number, field: string): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      const line = await contender.run();
      const value = Number(line[field]);
      if (!Number.isFinite(value)) throw new Error(`${contender.label}: no ${field} in ${JSON.stringify(line)}`);
      samples.get(contender.label)!.push(value);
      process.stdout.write(`  ${contender.label}: ${field} ${value}\n`);
    }
  }
  return samples;
}

const median = (values: number[]) => percentile(values, 50);

function notSetUp(dir: string | undefined): Figure[] {
  console.log(`  peers are not installed (${dir ?? resolve('../shared/peers')}): cd there and run npm ci (see its README); skipped`);
  return [];
}

function comparison(samples: Map<string, number[]>, sluiceLabel: string, unit: string, higherIsBetter: boolean): Figure[] {
  const figures: Figure[] = [];
  const ours = median(samples.get(sluiceLabel)!);
  for (const [label, values] of samples) {
    figures.push({ name: `${label}, median of ${values.length} (${values.join(', ')})`, value: round(median(values), 2), unit });
    if (label === sluiceLabel) continue;
    const ratio = higherIsBetter ? ours / median(values) : median(values) / ours;
    figures.push({ name: `ratio ${sluiceLabel} / ${label}${higherIsBetter ? '' : ' (inverse: lower is better)'}`, value: round(ratio, 2), unit: 'x' });
  }
  return figures;
}

const drain: Scenario = {
  name: 'peers: drain',
  async run(options) {
    const dir = peersDir(options);
    if (!dir) return notSetUp(options.peersDir);
    const n = options.quick ? 5000 : 20_000;
    const sluice = `sluice ${options.store}, batch size 1`;
    const samples = await alternate(
      [
        { label: sluice, run: () => sluiceRun('drain', options, n) },
        { label: 'graphile-worker preset', run: () => runJson(process.execPath, ['graphile.mjs', 'throughput'], dir, { N: String(n), TUNED: '1' }) },
        { label: 'bullmq', run: () => runJson(process.execPath, ['bullmq.mjs', 'throughput'], dir, { N: String(n) }) },
      ],
      options.runs,
      'drainPerSec',
    );
    return comparison(samples, sluice, 'msg/s', true);
  },
};

const groups: Scenario = {
  name: 'peers: groups',
  async run(options) {
    const dir = peersDir(options);
    if (!dir) return notSetUp(options.peersDir);
    const n = options.quick ? 5000 : 20_000;
    const sluice = `sluice ${options.store}, 1,000 groups at concurrency 1`;
    const samples = await alternate(
      [
        { label: sluice, run: () => sluiceRun('groups', options, n) },
        {
          label: 'graphile-worker preset, a named queue per group',
          run: () => runJson(process.execPath, ['graphile-keyed.mjs', 'groups'], dir, { N: String(n), TUNED: '1' }),
        },
      ],
      options.runs,
      'drainPerSec',
    );
    return comparison(samples, sluice, 'msg/s', true);
  },
};

const latency: Scenario = {
  name: 'peers: latency',
  async run(options) {
    const dir = peersDir(options);
    if (!dir) return notSetUp(options.peersDir);
    const sluice = `sluice ${options.store}`;
    const contenders: Contender[] = [
      { label: sluice, run: () => sluiceRun('latency', options, 300) },
      { label: 'graphile-worker', run: () => runJson(process.execPath, ['graphile.mjs', 'latency'], dir, {}) },
      { label: 'bullmq', run: () => runJson(process.execPath, ['bullmq.mjs', 'latency'], dir, {}) },
    ];
    const figures: Figure[] = [];
    const lines = new Map<string, Line[]>(contenders.map((c) => [c.label, []]));
    for (let round = 0; round < options.runs; round++)
      for (const contender of contenders) {
        const line = await contender.run();
        lines.get(contender.label)!.push(line);
        process.stdout.write(`  ${contender.label}: p50 ${String(line.p50)} p99 ${String(line.p99)} ms\n`);
      }
    for (const field of ['p50', 'p99']) {
      const samples = new Map([...lines].map(([label, ls]) => [label, ls.map((l) => Number(l[field]))]));
      figures.push(...comparison(samples, sluice, `ms ${field}`, false));
    }
    return figures;
  },
};

export const peerScenarios: Scenario[] = [drain, groups, latency];
