/**
 * Runs once before the suite. PostgreSQL-backed suites need the machine's server; when it is down we
 * fail loudly with the command that starts it, unless SLUICE_SKIP_POSTGRES=1 asks to skip them.
 */
import pg from 'pg';

export default async function setup(): Promise<void> {
  if (process.env.SLUICE_SKIP_POSTGRES === '1') {
    console.warn('[sluice] SLUICE_SKIP_POSTGRES=1: PostgreSQL suites are skipped.');
    return;
  }
  const url = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (${(error as Error).message}).\n` +
        `Start it with: pg_ctlcluster --skip-systemctl-redirect $(pg_lsclusters --no-header | awk '{print $1}') main start\n` +
        `or set SLUICE_SKIP_POSTGRES=1 to skip the PostgreSQL suites.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
