/**
 * `npm run bench [-- --store sqlite|postgres] [--only <text>] [--quick] [--runs <n>] [--peers <dir>]`:
 * runs the benchmark scenarios, prints a table and writes the figures as JSON to
 * bench-results/<store>-<timestamp>.json. `--help` lists the scenarios; an unknown flag is refused.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { backlogScenarios } from './backlog.js';
import { batchScenarios } from './batches.js';
import { clusterScenarios } from './cluster.js';
import { groupScenarios } from './groups.js';
import type { BenchOptions, Figure, Scenario } from './harness.js';
import { dynamodbScenarios } from './dynamodb.js';
import { httpScenarios } from './http.js';
import { peerScenarios } from './peers.js';
import { queueScenarios } from './queues.js';
import { stateMachineScenarios } from './states.js';
import { streamScenarios } from './streams.js';
import { triggerScenarios } from './triggers.js';

const scenarios: Scenario[] = [
  ...queueScenarios,
  ...triggerScenarios,
  ...batchScenarios,
  ...streamScenarios,
  ...httpScenarios,
  ...dynamodbScenarios,
  ...groupScenarios,
  ...clusterScenarios,
  ...backlogScenarios,
  ...peerScenarios,
  ...stateMachineScenarios,
];

const USAGE = `npm run bench -- [options]

  --store sqlite|postgres   the store to measure (default sqlite; PostgreSQL at SLUICE_BENCH_POSTGRES_URL,
                            default postgres://postgres@127.0.0.1:5432/test)
  --only <text>             run only the scenarios whose name contains <text>
  --quick                   smaller sizes, for a smoke run
  --runs <n>                rounds of alternating runs in the peer comparisons (default 3)
  --peers <dir>             where the peers' scripts are installed (default ../shared/peers, or SLUICE_PEERS_DIR)
  --help                    this text

scenarios:
${scenarios.map((s) => `  ${s.name}`).join('\n')}
`;

class UsageError extends Error {}

function parseArgs(argv: string[]): (BenchOptions & { only: string | undefined }) | 'help' {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--quick') {
      switches.add(flag);
      continue;
    }
    if (!['--store', '--only', '--runs', '--peers'].includes(flag)) throw new UsageError(`unknown argument ${flag}`);
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const store = values.get('--store') ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'postgres') throw new UsageError(`--store must be sqlite or postgres, not ${store}`);
  const runs = Number(values.get('--runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new UsageError('--runs must be an integer from 1 to 50');
  const only = values.get('--only');
  if (only !== undefined && !scenarios.some((s) => s.name.includes(only)))
    throw new UsageError(`--only ${only} matches no scenario`);
  const peersDir = values.get('--peers');
  return {
    store,
    postgresUrl: process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    quick: switches.has('--quick'),
    runs,
    only,
    ...(peersDir !== undefined ? { peersDir } : {}),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
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

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
