/** `sluice metrics`: queues' backlog, functions' invocations and triggers' batches, as tables. */
import type { Command } from 'commander';
import { action, commandContext } from '../context.js';
import { formatTable } from '../table.js';

interface Snapshot {
  queues: Array<{ name: string; visible: number; inFlight: number; delayed: number; oldestAgeSeconds: number }>;
  functions: Array<{ name: string; invocations: number; errors: number; timeouts: number; throttles: number; concurrentExecutions: number; durationP50Ms: number; durationP99Ms: number }>;
  triggers: Array<{ uuid: string; queue: string; functionName: string; state: string; batches: number; records: number; failedRecords: number; lagMs: number; activeBatches: number }>;
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Backlog per queue, invocations per function, batches per trigger.')
    .option('--prometheus', 'print the Prometheus exposition instead (what /v1/metrics?format=prometheus serves)')
    .action(
      action(async (options: { prometheus?: boolean }, command: Command) => {
        const context = commandContext(command);
        if (options.prometheus) {
          process.stdout.write(await context.client.get<string>('/v1/metrics?format=prometheus'));
          return;
        }
        const snapshot = await context.client.get<Snapshot>('/v1/metrics');
        context.print(snapshot, () =>
          [
            'QUEUES',
            formatTable(snapshot.queues, [
              { header: 'queue', value: (q) => q.name },
              { header: 'visible', value: (q) => q.visible },
              { header: 'in flight', value: (q) => q.inFlight },
              { header: 'delayed', value: (q) => q.delayed },
              { header: 'oldest (s)', value: (q) => q.oldestAgeSeconds },
            ]),
            '',
            'FUNCTIONS',
            formatTable(snapshot.functions, [
              { header: 'function', value: (f) => f.name },
              { header: 'invocations', value: (f) => f.invocations },
              { header: 'errors', value: (f) => f.errors },
              { header: 'timeouts', value: (f) => f.timeouts },
              { header: 'throttles', value: (f) => f.throttles },
              { header: 'running', value: (f) => f.concurrentExecutions },
              { header: 'p50 (ms)', value: (f) => Math.round(f.durationP50Ms) },
              { header: 'p99 (ms)', value: (f) => Math.round(f.durationP99Ms) },
            ]),
            '',
            'TRIGGERS',
            formatTable(snapshot.triggers, [
              { header: 'trigger', value: (t) => `${t.queue} -> ${t.functionName}` },
              { header: 'state', value: (t) => t.state },
              { header: 'batches', value: (t) => t.batches },
              { header: 'records', value: (t) => t.records },
              { header: 'failed', value: (t) => t.failedRecords },
              { header: 'lag (ms)', value: (t) => t.lagMs },
              { header: 'active', value: (t) => t.activeBatches },
            ]),
          ].join('\n'),
        );
      }),
    );
}
