/** Per-stream-trigger counters, read through the library API. */
import type { StreamTriggerMetricsView } from './stream-types.js';

export class StreamTriggerMetrics {
  batches = 0;
  records = 0;
  failedBatches = 0;
  retries = 0;
  filteredRecords = 0;
  discardedRecords = 0;
  iteratorAgeMs = 0;
  activeBatches = 0;
  peakActiveBatches = 0;

  invoking(records: number, retry: boolean, iteratorAgeMs: number): void {
    this.batches++;
    this.records += records;
    if (retry) this.retries++;
    this.iteratorAgeMs = iteratorAgeMs;
    this.activeBatches++;
    if (this.activeBatches > this.peakActiveBatches) this.peakActiveBatches = this.activeBatches;
  }

  invoked(failed: boolean): void {
    this.activeBatches--;
    if (failed) this.failedBatches++;
  }

  view(): StreamTriggerMetricsView {
    return {
      batches: this.batches,
      records: this.records,
      failedBatches: this.failedBatches,
      retries: this.retries,
      filteredRecords: this.filteredRecords,
      discardedRecords: this.discardedRecords,
      iteratorAgeMs: this.iteratorAgeMs,
      activeBatches: this.activeBatches,
      peakActiveBatches: this.peakActiveBatches,
    };
  }
}
