/**
 * Runs `npm run example:sqs` (the "SQS > Lambda" experiment of seed 000) in its own process and checks
 * the answers it prints to the experiment's three questions.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('reproduces the SQS > Lambda experiment: concurrency, FIFO order, retries and the DLQ', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/examples/sqs-to-lambda.ts'],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
  // A: batch size 1 starts many invocations at once; a batch of 100 needs one.
  expect(stdout).toMatch(
    /batch size 1, window 0 s:\n {4}100 tasks handled in \d+ ms\n {4}invocations 100, peak concurrent executions (\d+), errors 0/,
  );
  const peak = Number(/invocations 100, peak concurrent executions (\d+)/.exec(stdout)![1]);
  expect(peak).toBeGreaterThan(10);
  expect(stdout).toMatch(/batch size 100, window 1 s:\n {4}100 tasks handled/);
  // B: every group in order.
  expect(stdout).not.toContain('OUT OF ORDER');
  expect(stdout.match(/in FIFO order/g)).toHaveLength(4);
  // C: retried until it succeeded; the poison task in the DLQ.
  expect(stdout).toContain('task 001 succeeded on attempt 4');
  expect(stdout).toContain('dead-letter queue: 1 message(s)');
  expect(stdout).toMatch(/body 666, receive count 5/);
}, 60_000);
