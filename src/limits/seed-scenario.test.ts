/**
 * Seed 003's scenario (src/examples/group-limits.ts) on simulated time: groups A (2/s), B (1/s) and
 * C (2/s) share a queue and 4 workers; each task takes 1 s. Each group runs at its limit with zero
 * violations; then the same with 1,000 groups.
 */
import { describe, expect, it } from 'vitest';
import { runGroupLimits, seedGroups, thousandGroups, type GroupRunReport } from '../examples/group-limits.js';
import { openTestEngine } from '../testkit/engine.js';

async function simulate(groups: typeof seedGroups, seconds: number): Promise<GroupRunReport> {
  const t = await openTestEngine();
  try {
    let report: GroupRunReport | undefined;
    const run = runGroupLimits({ sluice: t.sluice, clock: t.clock, groups, seconds }).then(
      (r) => (report = r),
    );
    await t.until(() => report !== undefined, { stepMs: 50, maxMs: 600_000 });
    await run;
    return report!;
  } finally {
    await t.close();
  }
}

describe('seed 003: task groups sharing a queue and 4 workers', () => {
  it('runs A at 2/s, B at 1/s and C at 2/s, with zero violations', async () => {
    const report = await simulate(seedGroups, 10);
    expect(report.violations).toBe(0);
    for (const group of report.groups) {
      expect(group.tasks).toBe(group.limit * 10);
      expect(group.peakConcurrent).toBe(group.limit);
      // 10 s of work at the limit: one second per wave, the last wave ending at 10 s.
      expect(group.throughput).toBe(group.limit);
    }
    expect(report.seconds).toBeLessThanOrEqual(10.1);
  });

  it('runs 1,000 groups each at its own limit, with zero violations', async () => {
    const report = await simulate(thousandGroups, 3);
    expect(report.violations).toBe(0);
    for (const group of report.groups) {
      expect(group.tasks).toBe(group.limit * 3);
      expect(group.throughput).toBeGreaterThanOrEqual(group.limit * 0.95);
    }
  }, 120_000);
});
