/**
 * Runs `npm run example:streams` (the "DynamoDB > stream > Lambda" experiment of seed 000) in its own
 * process and checks the answers it prints to the experiment's three questions.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it.each([
  ['the library', []],
  ['the AWS SDK against the DynamoDB endpoint', ['--wire']],
])('reproduces the DynamoDB > stream > Lambda experiment with producers writing through %s: concurrency, per-key order, retries and onFailure', async (_how, args) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/examples/stream-triggers.ts', ...args],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
  // A: unique keys with batch size 1 and parallelization 10 run many handlers at once.
  expect(stdout).toMatch(
    /batch size 1, window 0 s, parallelization factor 10:\n {4}100 tasks handled in \d+ ms, 100 invocations, 0 errors/,
  );
  const peak = Number(/observed concurrency: (\d+) handlers at once/.exec(stdout)![1]);
  expect(peak).toBeGreaterThan(10);
  // B: every shared key in sort-key order, other keys concurrently.
  expect(stdout).not.toContain('OUT OF ORDER');
  expect(stdout.match(/in sort-key order/g)).toHaveLength(4);
  expect(Number(/100 invocations, observed concurrency (\d+)/.exec(stdout)![1])).toBeGreaterThan(1);
  // C: retried until it succeeded; the poison task reported to the onFailure queue.
  expect(stdout).toContain('task 001: 5 attempts, 4 errors, succeeded on attempt 5');
  expect(stdout).toMatch(
    /task 666: 3 attempts[^\n]*\n {4}condition RetryAttemptsExhausted, approximateInvokeCount 3/,
  );
}, 60_000);
