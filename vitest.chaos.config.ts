import { defineConfig } from 'vitest/config';

/**
 * Cluster tests that need the database to themselves, one file at a time: the chaos test kills nodes and
 * restarts PostgreSQL; the state machine one kills a node process and waits out its leases; the idle-cost
 * test counts every transaction the database commits.
 */
export default defineConfig({
  test: {
    include: ['test/cluster-chaos.test.ts', 'test/cluster-pause.test.ts', 'test/cluster-idle.test.ts', 'test/states-node-kill.test.ts', 'test/backfill-node-kill.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    globalSetup: ['test/global-setup.ts'],
  },
});
