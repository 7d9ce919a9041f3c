/**
 * Group limits over the native API (/v1/queues/:name/groups, /group-default, /group-activity): a real
 * node in-process, real HTTP requests, responses checked against the zod schemas the docs describe,
 * and the failure modes (bad limits naming the field and the range, unknown queues, no token).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody } from '../src/api/native/schemas/common.js';
import { metricsResponse } from '../src/api/native/schemas/functions.js';
import { groupResponses } from '../src/api/native/schemas/groups.js';
import { startTestNode, type TestNode } from './support/in-process-node.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.queues.create('tenants-q', { VisibilityTimeout: 30 });
});
afterAll(async () => node.close());

const put = (path: string, body: unknown) => node.native(path, { method: 'PUT', body });

describe('group limits over the native API', () => {
  it("sets, reads, lists and deletes a group's limit and the queue's default", async () => {
    const set = await put('/v1/queues/tenants-q/groups/acme', {
      maxConcurrency: 2,
      rate: { limit: 5, intervalSeconds: 2 },
    });
    expect(set.status).toBe(200);
    expect(groupResponses.put.parse(set.body).limit).toMatchObject({
      queue: 'tenants-q',
      group: 'acme',
      maxConcurrency: 2,
      rate: { limit: 5, intervalSeconds: 2, burst: 5 },
    });
    const defaulted = await put('/v1/queues/tenants-q/group-default', { maxConcurrency: 1 });
    expect(groupResponses.put.parse(defaulted.body).limit).toMatchObject({
      group: null,
      maxConcurrency: 1,
      rate: null,
    });

    const acme = groupResponses.group.parse((await node.native('/v1/queues/tenants-q/groups/acme')).body);
    expect(acme).toMatchObject({
      group: 'acme',
      limit: { maxConcurrency: 2 },
      effective: { maxConcurrency: 2 },
    });
    // A group without an entry follows the default.
    const other = groupResponses.group.parse((await node.native('/v1/queues/tenants-q/groups/other')).body);
    expect(other).toEqual({
      queue: 'tenants-q',
      group: 'other',
      limit: null,
      effective: { maxConcurrency: 1, rate: null },
    });
    // Keys are path segments: anything percent-encoded works.
    await put(`/v1/queues/tenants-q/groups/${encodeURIComponent('site/a b')}`, { rate: { limit: 1 } });
    expect(await node.sluice.groupLimits.get('tenants-q', 'site/a b')).toMatchObject({
      rate: { limit: 1, burst: 1 },
    });

    const listed = groupResponses.list.parse((await node.native('/v1/queues/tenants-q/groups')).body);
    expect(listed).toMatchObject({ queue: 'tenants-q', groupBy: null, default: { maxConcurrency: 1 } });
    expect(listed.groups.map((g) => g.group)).toEqual(['acme', 'site/a b']);
    expect(listed.nextAfter).toBeUndefined();
    const page = groupResponses.list.parse((await node.native('/v1/queues/tenants-q/groups?limit=1')).body);
    expect(page.groups.map((g) => g.group)).toEqual(['acme']);
    expect(page.nextAfter).toBe('acme');
    const next = groupResponses.list.parse(
      (await node.native('/v1/queues/tenants-q/groups?limit=1&after=acme')).body,
    );
    expect(next.groups.map((g) => g.group)).toEqual(['site/a b']);

    expect((await node.native('/v1/queues/tenants-q/groups/acme', { method: 'DELETE' })).body).toEqual({
      deleted: true,
    });
    expect((await node.native('/v1/queues/tenants-q/groups/acme', { method: 'DELETE' })).body).toEqual({
      deleted: false,
    });
    expect(await node.sluice.groupLimits.get('tenants-q', 'acme')).toBeUndefined();
    expect((await node.native('/v1/queues/tenants-q/group-default', { method: 'DELETE' })).body).toEqual({
      deleted: true,
    });
    expect(
      groupResponses.default.parse((await node.native('/v1/queues/tenants-q/group-default')).body),
    ).toEqual({
      queue: 'tenants-q',
      limit: null,
    });
  });

  it('refuses bad limits, naming the field and the allowed range, and writes nothing', async () => {
    const cases: Array<[unknown, string, string, RegExp]> = [
      [{ maxConcurrency: 0 }, 'InvalidParameterValue', 'maxConcurrency', /from 1 to 100000/],
      [{ maxConcurrency: 1.5 }, 'InvalidParameterValue', 'maxConcurrency', /integer from 1 to 100000/],
      [{ maxConcurrency: 'two' }, 'InvalidParameterValue', 'maxConcurrency', /number/],
      [{ rate: { limit: 0 } }, 'InvalidParameterValue', 'rate.limit', /from 1 to 1000000/],
      [
        { rate: { limit: 1, intervalSeconds: 100_000 } },
        'InvalidParameterValue',
        'rate.intervalSeconds',
        /0\.001 to 86400/,
      ],
      [{ rate: { limit: 1, burst: 0 } }, 'InvalidParameterValue', 'rate.burst', /from 1 to 1000000/],
      [{ rate: {} }, 'MissingParameter', 'rate.limit', /must contain/],
      [{ maxConcurency: 2 }, 'InvalidParameterValue', 'body', /unknown field\(s\) 'maxConcurency'/],
    ];
    for (const [body, code, field, message] of cases) {
      const response = await put('/v1/queues/tenants-q/groups/bad', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const { error } = errorBody.parse(response.body);
      expect(error, JSON.stringify(body)).toMatchObject({ code, field });
      expect(error.message).toMatch(message);
    }
    const malformed = await put('/v1/queues/tenants-q/group-default', '{"maxConcurrency": ');
    expect(malformed.body.error.code).toBe('SerializationException');
    const tooLong = await put(`/v1/queues/tenants-q/groups/${'k'.repeat(300)}`, { maxConcurrency: 1 });
    expect(tooLong.body.error).toMatchObject({ code: 'InvalidParameterValue', field: 'group' });
    const badPage = await node.native('/v1/queues/tenants-q/groups?limit=0');
    expect(badPage.body.error).toMatchObject({ code: 'InvalidParameterValue', field: 'limit' });
    expect(await node.sluice.groupLimits.get('tenants-q', 'bad')).toBeUndefined();
    expect(await node.sluice.groupLimits.getDefault('tenants-q')).toBeUndefined();
  });

  it('refuses an unknown queue on every route, and an unauthenticated caller', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/queues/ghost/groups'],
      ['GET', '/v1/queues/ghost/groups/acme'],
      ['PUT', '/v1/queues/ghost/groups/acme', { maxConcurrency: 1 }],
      ['DELETE', '/v1/queues/ghost/groups/acme'],
      ['GET', '/v1/queues/ghost/group-default'],
      ['PUT', '/v1/queues/ghost/group-default', { maxConcurrency: 1 }],
      ['DELETE', '/v1/queues/ghost/group-default'],
      ['GET', '/v1/queues/ghost/group-activity'],
    ];
    for (const [method, path, body] of routes) {
      const response = await node.native(path, { method, ...(body !== undefined ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(errorBody.parse(response.body).error).toMatchObject({
        code: 'QueueDoesNotExist',
        field: 'QueueName',
      });
    }
    expect(await node.sluice.groupLimits.get('ghost', 'acme')).toBeUndefined();
    const anonymous = await node.native('/v1/queues/tenants-q/groups/acme', {
      method: 'PUT',
      body: { maxConcurrency: 1 },
      token: null,
    });
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.error.code).toBe('MissingAuthenticationToken');
  });

  it("reports a grouped queue's rule and its groups' activity, also in /v1/metrics", async () => {
    await node.sluice.queues.create('grouped-q', { VisibilityTimeout: 30 });
    await node.sluice.functions.create({ name: 'group-sink', timeout: 5, handler: async () => undefined });
    await node.sluice.triggers.create({
      queue: 'grouped-q',
      functionName: 'group-sink',
      batchSize: 10,
      groupBy: 'MessageGroupId',
    });
    await put('/v1/queues/grouped-q/groups/acme', { maxConcurrency: 1 });
    await node.sluice.queues.sendBatch('grouped-q', [
      { id: '1', body: 'x', messageGroupId: 'acme' },
      { id: '2', body: 'y', messageGroupId: 'acme' },
      { id: '3', body: 'z', messageGroupId: 'other' },
    ]);
    for (
      let i = 0;
      i < 200 &&
      (await node.sluice.queues.counts('grouped-q')).visible +
        (await node.sluice.queues.counts('grouped-q')).inFlight >
        0;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const listed = groupResponses.list.parse((await node.native('/v1/queues/grouped-q/groups')).body);
    expect(listed.groupBy).toBe('MessageGroupId');
    const activity = groupResponses.metrics.parse(
      (await node.native('/v1/queues/grouped-q/group-activity')).body,
    );
    expect(activity.totals).toMatchObject({ started: 3, inFlight: 0 });
    expect(activity.groups.map((g) => [g.group, g.started]).sort()).toEqual([
      ['acme', 2],
      ['other', 1],
    ]);
    const snapshot = metricsResponse.parse((await node.native('/v1/metrics')).body);
    expect(snapshot.groups.find((q) => q.queue === 'grouped-q')?.totals.started).toBe(3);
    const quiet = groupResponses.metrics.parse(
      (await node.native('/v1/queues/tenants-q/group-activity')).body,
    );
    expect(quiet).toEqual({
      queue: 'tenants-q',
      totals: { started: 0, throttledByConcurrency: 0, throttledByRate: 0, inFlight: 0 },
      trackedGroups: 0,
      groups: [],
    });
  });
});
