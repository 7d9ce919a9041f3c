/**
 * `npm run bench [-- --store sqlite|postgres] [--only <text>] [--quick]`: runs the benchmark scenarios,
 * prints a table and writes the figures as JSON to bench-results/<store>-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { batchScenarios } from './batches.js';
import { clusterScenarios } from './cluster.js';
import { groupScenarios } from './groups.js';
import type { BenchOptions, Figure, Scenario } from './harness.js';
import { httpScenarios } from './http.js';
import { queueScenarios } from './queues.js';
import { streamScenarios } from './streams.js';
import { triggerScenarios } from './triggers.js';

const scenarios: Scenario[] = [...queueScenarios, ...triggerScenarios, ...batchScenarios, ...streamScenarios, ...httpScenarios, ...groupScenarios, ...clusterScenarios];

function parseArgs(argv: string[]): BenchOptions & { only: string | undefined } {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const store = value('--store') ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres, not ${store}`);
  return {
    store,
    postgresUrl: process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    quick: argv.includes('--quick'),
    only: value('--only'),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const selected = scenarios.filter((s) => !options.only || s.name.includes(options.only));
  const results: Array<{ scenario: string; figures: Figure[] }> = [];
  console.log(`Sluice benchmarks: store=${options.store}${options.quick ? ' (quick)' : ''}, node ${process.version}, ${cpus().length} cores`);
  for (const scenario of selected) {
    process.stdout.write(`running ${scenario.name}...\n`);
    const figures = await scenario.run(options);
    results.push({ scenario: scenario.name, figures });
  }
  const rows = results.flatMap((r) => r.figures.map((f) => ({ scenario: r.scenario, figure: f.name, value: f.value, unit: f.unit, aim: f.aim ?? '' })));
  console.table(rows);
  const dir = 'bench-results';
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${options.store}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ store: options.store, quick: options.quick, node: process.version, cores: cpus().length, at: new Date().toISOString(), results }, null, 2),
  );
  console.log(`figures written to ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
