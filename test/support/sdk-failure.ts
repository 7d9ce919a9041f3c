/** The error an AWS SDK call failed with; the test fails when the call succeeded. */
import { expect } from 'vitest';
import type { SdkError } from './in-process-node.js';

export async function sdkFailure(promise: Promise<unknown>): Promise<SdkError & Record<string, unknown>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call should have failed').toBeDefined();
  return error as SdkError & Record<string, unknown>;
}
