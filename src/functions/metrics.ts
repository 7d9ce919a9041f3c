/**
 * Per-function counters and durations. Durations go into a fixed ring of recent samples, so recording
 * allocates nothing; percentiles are computed when someone reads them.
 */
import type { Execution, FunctionMetricsView } from './types.js';

const SAMPLES = 4096;

export class FunctionMetrics {
  invocations = 0;
  errors = 0;
  timeouts = 0;
  throttles = 0;
  concurrent = 0;
  peakConcurrent = 0;
  private readonly durations = new Float64Array(SAMPLES);
  private recorded = 0;

  started(): void {
    this.invocations++;
    this.concurrent++;
    if (this.concurrent > this.peakConcurrent) this.peakConcurrent = this.concurrent;
  }

  finished(execution: Execution, durationMs: number): void {
    this.concurrent--;
    if (!execution.ok) {
      this.errors++;
      if (execution.timedOut) this.timeouts++;
    }
    this.durations[this.recorded % SAMPLES] = durationMs;
    this.recorded++;
  }

  throttled(): void {
    this.throttles++;
  }

  view(): FunctionMetricsView {
    const count = Math.min(this.recorded, SAMPLES);
    const sorted = this.durations.slice(0, count).sort();
    return {
      invocations: this.invocations,
      errors: this.errors,
      timeouts: this.timeouts,
      throttles: this.throttles,
      concurrentExecutions: this.concurrent,
      peakConcurrentExecutions: this.peakConcurrent,
      durationP50Ms: percentile(sorted, 0.5),
      durationP99Ms: percentile(sorted, 0.99),
    };
  }
}

/** Nearest-rank percentile of sorted samples; 0 when there are none. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}
