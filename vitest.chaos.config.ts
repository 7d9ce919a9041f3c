import { defineConfig } from 'vitest/config';

/**
 * Cluster tests that need the database to themselves, one file at a time: the chaos test kills nodes and
 * restarts PostgreSQL; the idle-cost test counts every transaction the database commits.
 */
export default defineConfig({
  test: {
    include: ['test/cluster-chaos.test.ts', 'test/cluster-pause.test.ts', 'test/cluster-idle.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    globalSetup: ['test/global-setup.ts'],
  },
});
