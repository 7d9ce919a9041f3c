/**
 * The Code.Location signing key rotates by itself once older than the node's maximum age
 * (`node.codeLocationKeyMaxAgeDays`, here given to the HTTP API in ms), at the next GetFunction: the
 * URL given before is still served, the new one is signed with the new key. SQLite and PostgreSQL.
 */
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/model/clock.js';
import { validateConfig } from '../src/config/schema.js';
import { zipOf } from '../src/testkit/zip.js';
import { storeBackends } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

const DAY = 24 * 3600_000;

describe.each(storeBackends)('Code.Location key rotation by age (%s)', (_backend, openStore) => {
  let node: TestNode;
  let lambda: LambdaClient;
  // The engine's clock, from now (Code.Location's expiry is the system clock's, as in production).
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode({ ...(store ? { store } : {}), clock, codeKeyMaxAgeMs: 7 * DAY });
    lambda = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
  });
  afterAll(async () => {
    lambda.destroy();
    await node.close();
  });

  it('rotates the key at the first GetFunction after it is older than the maximum age, keeping earlier URLs valid', async () => {
    const zip = zipOf({ 'index.js': 'exports.handler = async () => 1;' });
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'aged', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: zip } }));
    const location = async () => new URL((await lambda.send(new GetFunctionCommand({ FunctionName: 'aged' }))).Code!.Location!);
    const first = await location();
    const key = await node.sluice.catalog.sharedSecret('code-location');
    await clock.advance(6 * DAY);
    await location();
    expect((await node.sluice.catalog.sharedSecret('code-location')).equals(key)).toBe(true);
    await clock.advance(2 * DAY);
    const second = await location();
    const keys = await node.sluice.catalog.signingKeys('code-location');
    expect(keys.current.equals(key)).toBe(false);
    expect(keys.previous.map((retired) => retired.key)).toEqual([key]);
    expect(second.searchParams.get('signature')).not.toBe(first.searchParams.get('signature'));
    for (const url of [first, second]) {
      const served = await fetch(url);
      expect(served.status, url.toString()).toBe(200);
      expect(Buffer.from(await served.arrayBuffer())).toEqual(zip);
    }
  });

  it('takes node.codeLocationKeyMaxAgeDays from 1 to 3650 days in a config file', () => {
    expect(validateConfig({ node: { codeLocationKeyMaxAgeDays: 7 } }, 'test').node?.codeLocationKeyMaxAgeDays).toBe(7);
    expect(() => validateConfig({ node: { codeLocationKeyMaxAgeDays: 0 } }, 'test')).toThrow('node.codeLocationKeyMaxAgeDays: must be an integer from 1 to 3650 days (got 0)');
  });
});
