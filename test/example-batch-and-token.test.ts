/**
 * Runs `npm run example:batch` (seed 004: cron -> batcher -> processor -> finalizer) and
 * `npm run example:token` (seed 001: a task sent to a queue with a token, answered by a worker) in their
 * own processes and checks what they print.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (file: string) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 });

it('runs the scheduled batch pipeline: the finalizer fires once with the summary, and a retry moves the counts', async () => {
  const { stdout } = await run('src/examples/batch-pipeline.ts');
  expect(stdout).toMatch(/next fire times (\S+T(00|06|12|18):00:00\.000Z(, )?){4}/);
  const finalizer =
    /finalizer: batch four-times-a-day:\S+ COMPLETED: (\d+) succeeded, (\d+) failed of 2000/.exec(stdout);
  expect(finalizer).not.toBeNull();
  expect(Number(finalizer![1]) + Number(finalizer![2])).toBe(2000);
  expect(stdout.match(/finalizer: /g)).toHaveLength(1);
  expect(stdout).toMatch(/after the retry: \d+ succeeded, \d+ failed; the finalizer did not fire again/);
}, 60_000);

it('runs the task-token flow: success, failure, heartbeats, a timeout and a late answer', async () => {
  const { stdout } = await run('src/examples/task-token.ts');
  expect(stdout).toContain('step 0: SUCCEEDED with {"statusCode":200,"putStatus":{"messageId":"m-0"}}');
  expect(stdout).toContain('step 2: FAILED RecordRejected');
  expect(stdout).toContain('step 3: TIMED_OUT States.Timeout');
  expect(stdout).toContain('step 4: SUCCEEDED');
  expect(stdout).toContain('a late sendTaskSuccess for step 3 fails: TaskTimedOut');
}, 60_000);
