/** Per-trigger counters, read through the library API. */
import type { TriggerMetricsView } from '../types.js';

export class TriggerMetrics {
  batches = 0;
  records = 0;
  failedBatches = 0;
  failedRecords = 0;
  filteredRecords = 0;
  lagMs = 0;
  maxLagMs = 0;
  activeBatches = 0;
  peakActiveBatches = 0;

  invoking(records: number, lagMs: number): void {
    this.batches++;
    this.records += records;
    this.lagMs = lagMs;
    if (lagMs > this.maxLagMs) this.maxLagMs = lagMs;
    this.activeBatches++;
    if (this.activeBatches > this.peakActiveBatches) this.peakActiveBatches = this.activeBatches;
  }

  invoked(outcome: { failedBatch: boolean; failedRecords: number }): void {
    this.activeBatches--;
    if (outcome.failedBatch) this.failedBatches++;
    this.failedRecords += outcome.failedRecords;
  }

  view(pollers: number): TriggerMetricsView {
    return {
      batches: this.batches,
      records: this.records,
      failedBatches: this.failedBatches,
      failedRecords: this.failedRecords,
      filteredRecords: this.filteredRecords,
      lagMs: this.lagMs,
      maxLagMs: this.maxLagMs,
      activeBatches: this.activeBatches,
      peakActiveBatches: this.peakActiveBatches,
      pollers,
    };
  }
}
