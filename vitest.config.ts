import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The chaos tests restart PostgreSQL or pause nodes on a tight timing, and the idle-cost test counts the database's transactions: both
    // run alone afterwards (vitest.chaos.config.ts), never beside other PostgreSQL suites.
    exclude: ['**/node_modules/**', 'test/cluster-chaos.test.ts', 'test/cluster-pause.test.ts', 'test/cluster-idle.test.ts', 'test/states-node-kill.test.ts', 'test/backfill-node-kill.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in parallel threads but do not oversubscribe the machine.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
