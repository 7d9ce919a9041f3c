/**
 * The console's doors: no page, API call or event stream without a session opened with a valid token;
 * the token is posted once and never appears in a URL; actions need the session's CSRF token and this
 * node's origin; every response carries the Content-Security-Policy. And the idle goal: no snapshot is
 * read while no console page is open.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

let node: TestNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function signIn(url: string, token = TEST_TOKEN) {
  const response = await fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { response, setCookie, cookie: setCookie.split(';')[0]! };
}

async function page(url: string, cookie: string) {
  const response = await fetch(`${url}/console/`, { headers: { cookie }, redirect: 'manual' });
  const text = await response.text();
  return { response, text, csrf: /name="csrf-token" content="([^"]+)"/.exec(text)?.[1] ?? '' };
}

describe('the console without a session', () => {
  it('sends pages to the sign-in page and refuses API calls and the event stream', async () => {
    node = await startTestNode();
    const home = await fetch(`${node.url}/console/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/console/login');
    for (const path of [
      '/console/api/overview',
      '/console/api/queues',
      '/console/api/v1/queues',
      '/console/api/live',
      '/console/api/failures',
    ]) {
      const response = await fetch(`${node.url}${path}`);
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'MissingAuthenticationToken',
      );
    }
    // A bearer header is not a session: the console's API is for the signed-in browser.
    const bearer = await fetch(`${node.url}/console/api/overview`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(bearer.status).toBe(403);
    const forged = await fetch(`${node.url}/console/api/overview`, {
      headers: { cookie: 'sluice_console=made-up' },
    });
    expect(forged.status).toBe(403);
  });

  it('refuses a wrong token without opening a session', async () => {
    node = await startTestNode();
    const { response, setCookie } = await signIn(node.url, 'a-wrong-token-of-some-length');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console/login?failed');
    expect(setCookie).toBe('');
  });
});

describe('signing in', () => {
  it('sets an HttpOnly SameSite=Strict cookie and redirects without the token in any URL', async () => {
    node = await startTestNode();
    const { response, setCookie, cookie } = await signIn(node.url);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console/');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/console/);
    expect(setCookie).not.toContain(TEST_TOKEN);
    const { response: home, text, csrf } = await page(node.url, cookie);
    expect(home.status).toBe(200);
    expect(text).not.toContain(TEST_TOKEN);
    expect(csrf.length).toBeGreaterThan(20);
    const csp = home.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(home.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await fetch(`${node.url}/console/api/v1/queues`, { headers: { cookie } });
    expect(api.status).toBe(200);
  });

  it('ends the session at sign-out', async () => {
    node = await startTestNode();
    const { cookie } = await signIn(node.url);
    const { csrf } = await page(node.url, cookie);
    expect(
      (
        await fetch(`${node.url}/console/logout`, {
          method: 'POST',
          headers: { cookie, 'x-csrf-token': csrf },
        })
      ).status,
    ).toBe(204);
    expect((await fetch(`${node.url}/console/api/overview`, { headers: { cookie } })).status).toBe(403);
  });
});

describe('the state machine routes', () => {
  it('refuse requests without a session, and answer the signed-in page', async () => {
    node = await startTestNode();
    await node.sluice.stateMachines.create({
      name: 'hello',
      definition: { StartAt: 'Say', States: { Say: { Type: 'Pass', Result: 'hi', End: true } } },
    });
    const { executionArn } = await node.sluice.stateMachines.startExecution('hello', { name: 'run-1' });
    await node.sluice.stateMachines.waitForExecution(executionArn);
    const paths = [
      '/console/api/state-machines',
      '/console/api/state-machines/hello/executions',
      '/console/api/state-machines/hello/executions?status=FAILED',
      `/console/api/execution?arn=${encodeURIComponent(executionArn)}`,
    ];
    for (const path of paths)
      for (const headers of [
        {},
        { authorization: `Bearer ${TEST_TOKEN}` },
        { cookie: 'sluice_console=made-up' },
      ]) {
        const response = await fetch(`${node.url}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        const body = (await response.json()) as { error: { code: string } };
        expect(body.error.code).toBe('MissingAuthenticationToken');
        expect(JSON.stringify(body)).not.toContain('run-1');
      }
    const { cookie } = await signIn(node.url);
    const get = async (path: string) => {
      const response = await fetch(`${node!.url}${path}`, { headers: { cookie } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    await node.sluice.stateMachines.create({ name: 'quick', type: 'EXPRESS', definition: { StartAt: 'Say', States: { Say: { Type: 'Pass', End: true } } } });
    const machines = await get(paths[0]!);
    expect(machines.status).toBe(200);
    expect(machines.body.stateMachines).toMatchObject([
      { name: 'hello', counts: { SUCCEEDED: 1, FAILED: 0, RUNNING: 0 }, capped: [] },
      // Express executions are not recorded: no counts, and an empty list rather than an error.
      { name: 'quick', type: 'EXPRESS', counts: {}, capped: [] },
    ]);
    expect(await get('/console/api/state-machines/quick/executions')).toEqual({ status: 200, body: { executions: [] } });
    expect((await get(paths[1]!)).body.executions).toMatchObject([{ name: 'run-1', status: 'SUCCEEDED' }]);
    expect((await get(paths[2]!)).body.executions).toEqual([]);
    const execution = await get(paths[3]!);
    expect(execution.body).toMatchObject({
      execution: { name: 'run-1', status: 'SUCCEEDED', output: '"hi"' },
      stateMachine: { name: 'hello', definition: { StartAt: 'Say' } },
      steps: [{ name: 'Say', type: 'Pass' }],
      failures: [],
    });
    // Pages of 50, newest first.
    for (let i = 2; i <= 51; i++)
      await node.sluice.stateMachines.waitForExecution(
        (await node.sluice.stateMachines.startExecution('hello', { name: `run-${i}` })).executionArn,
      );
    const first = await get(paths[1]!);
    const firstPage = first.body.executions as { name: string }[];
    expect(firstPage).toHaveLength(50);
    expect(firstPage.map((e) => e.name)).not.toContain('run-1');
    const second = await get(`${paths[1]!}?nextToken=${encodeURIComponent(first.body.nextToken as string)}`);
    expect(second.body.executions).toMatchObject([{ name: 'run-1' }]);
    expect(second.body.nextToken).toBeUndefined();
    expect((await get('/console/api/state-machines/hello/executions?status=BOGUS')).status).toBe(400);
    expect((await get('/console/api/execution')).status).toBe(400);
    const missing = await get(`/console/api/execution?arn=${encodeURIComponent(`${executionArn}-gone`)}`);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'ExecutionDoesNotExist' } });
    expect((await get('/console/api/state-machines/gone/executions')).body).toMatchObject({
      error: { code: 'StateMachineDoesNotExist' },
    });
  });
});

describe('actions', () => {
  it('are refused without the CSRF token, with a wrong one, or from another origin, and done with it', async () => {
    node = await startTestNode();
    await node.sluice.queues.create('jobs');
    await node.sluice.queues.send('jobs', { body: 'keep me' });
    const { cookie } = await signIn(node.url);
    const { csrf } = await page(node.url, cookie);
    const purge = (headers: Record<string, string>) =>
      fetch(`${node!.url}/console/api/v1/queues/jobs/purge`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    for (const headers of [
      {},
      { 'x-csrf-token': 'wrong' },
      { 'x-csrf-token': csrf, origin: 'https://evil.example' },
    ]) {
      const refused = await purge(headers);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('AccessDenied');
    }
    expect((await node.sluice.queues.counts('jobs')).visible).toBe(1);
    const refusedLogout = await fetch(`${node.url}/console/logout`, { method: 'POST', headers: { cookie } });
    expect(refusedLogout.status).toBe(403);
    expect((await purge({ 'x-csrf-token': csrf, origin: node.url })).status).toBe(204);
    expect((await node.sluice.queues.counts('jobs')).visible).toBe(0);
  });
});

describe('while no console page is open', () => {
  it('reads no snapshot; an open event stream reads them, and closing it stops them', async () => {
    node = await startTestNode({ consoleIntervalMs: 50 });
    const live = node.api.consoleLive!;
    await sleep(200);
    expect(live.snapshots).toBe(0);
    const { cookie } = await signIn(node.url);
    const controller = new AbortController();
    const stream = await fetch(`${node.url}/console/api/live`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await sleep(100);
    const after = live.snapshots;
    expect(after).toBeGreaterThan(0);
    expect(live.openPages).toBe(0);
    await sleep(300);
    expect(live.snapshots).toBe(after);
  });
});

describe('a node in --insecure-dev mode', () => {
  it('opens the console without sign-in, as it accepts every request, but still asks for the CSRF token on actions', async () => {
    node = await startTestNode({ insecureDev: true });
    await node.sluice.queues.create('jobs');
    const { response, csrf } = await page(node.url, '');
    expect(response.status).toBe(200);
    const refused = await fetch(`${node.url}/console/api/v1/queues/jobs/purge`, {
      method: 'POST',
      body: '{}',
    });
    expect(refused.status).toBe(403);
    const done = await fetch(`${node.url}/console/api/v1/queues/jobs/purge`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf },
      body: '{}',
    });
    expect(done.status).toBe(204);
  });
});
