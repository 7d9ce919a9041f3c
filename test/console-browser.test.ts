/**
 * The console in a real Chromium (Debian's `chromium`, driven by playwright-core): sign in, watch a
 * queue's depth change after a send, redrive a dead-letter queue, open a failed invocation's stack, see
 * why a group waits, follow a failed state machine execution's path on its graph. Skipped, saying so, only where /usr/bin/chromium is absent (.ci/run installs it).
 * With SLUICE_SCREENSHOTS=1 the pages are saved as docs/console/*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSEvent } from 'aws-lambda';
import { chromium, type Browser, type Page } from 'playwright-core';
import { processBatchItems } from '../src/batches/items.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_TOKEN, type TestNode } from './support/in-process-node.js';

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available)
  console.warn(
    `console browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`,
  );
const screenshots =
  process.env.SLUICE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', 'docs', 'console') : undefined;

let node: TestNode;
let browser: Browser;
let page: Page;
let failing = true;
let fanOut: { executionArn: string };
let releaseTenants: () => void = () => {};
const tenantsHeld = new Promise<void>((resolve) => {
  releaseTenants = resolve;
});

async function shoot(name: string): Promise<void> {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  await sleep(600); // charts and live numbers settle
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

describe.skipIf(!available)('the console in Chromium', () => {
  beforeAll(async () => {
    node = await startTestNode({ consoleIntervalMs: 300 });
    const { sluice } = node;
    await sluice.queues.create('orders-dlq');
    await sluice.queues.create('orders', {
      VisibilityTimeout: 2,
      RedrivePolicy: { deadLetterTargetArn: sluice.queues.arnOf('orders-dlq'), maxReceiveCount: 1 },
    });
    await sluice.queues.create('inbox');
    await sluice.functions.create({
      name: 'charge',
      timeout: 1,
      handler: async (event: SQSEvent) => {
        if (failing) throw new TypeError(`card declined for ${event.Records[0]!.body}`);
        return {};
      },
    });
    await sluice.triggers.create({ queue: 'orders', functionName: 'charge', batchSize: 1 });
    // A tenant at its concurrency limit of 1: one message runs (held until the end), the others wait.
    await sluice.queues.create('tenants', { VisibilityTimeout: 60 });
    await sluice.groupLimits.set('tenants', 'acme', { maxConcurrency: 1 });
    await sluice.functions.create({ name: 'tenant-work', timeout: 30, handler: async () => tenantsHeld });
    await sluice.triggers.create({
      queue: 'tenants',
      functionName: 'tenant-work',
      batchSize: 1,
      groupBy: 'MessageGroupId',
    });
    for (let i = 0; i < 3; i++)
      await sluice.queues.send('tenants', { body: `job-${i}`, messageGroupId: 'acme' });
    // A batch with failed items, and a schedule.
    await sluice.functions.create({
      name: 'resize',
      timeout: 10,
      handler: processBatchItems<{ n: number }>(async (item) => {
        if (item.n % 4 === 0) throw new Error(`image ${item.n} is corrupt`);
      }),
    });
    const batch = await sluice.batches.create({
      processor: 'resize',
      items: Array.from({ length: 12 }, (_, n) => ({ n: n + 1 })),
      itemsPerMessage: 4,
      maxAttempts: 1,
    });
    await sluice.batches.wait(batch.id);
    await sluice.schedules.create({
      name: 'nightly-report',
      expression: 'cron(0 3 * * ? *)',
      target: { function: 'charge' },
    });
    // A state machine whose Task fails (the function throws) and is caught into a Fail state, run once.
    await sluice.functions.create({
      name: 'ship',
      timeout: 5,
      handler: async (order: { id: string }) => {
        throw new RangeError(`no courier for ${order.id}`);
      },
    });
    await sluice.stateMachines.create({
      name: 'fulfil',
      definition: {
        StartAt: 'Validate',
        States: {
          Validate: { Type: 'Pass', Next: 'Route' },
          Route: {
            Type: 'Choice',
            Choices: [{ Variable: '$.express', BooleanEquals: true, Next: 'Express' }],
            Default: 'Ship',
          },
          Express: { Type: 'Pass', Next: 'Done' },
          Ship: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:ship',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ShipmentFailed' }],
            Next: 'Done',
          },
          ShipmentFailed: { Type: 'Fail', Error: 'ShipmentFailed', Cause: 'the order could not be shipped' },
          Done: { Type: 'Succeed' },
        },
      },
    });
    const run = await sluice.stateMachines.startExecution('fulfil', {
      name: 'order-7',
      input: { id: 'order-7', express: false },
    });
    await sluice.stateMachines.waitForExecution(run.executionArn);
    // One with a Parallel and a Map, which succeeds.
    await sluice.stateMachines.create({
      name: 'fan-out',
      definition: {
        StartAt: 'Split',
        States: {
          Split: {
            Type: 'Parallel',
            ResultPath: '$.split',
            Branches: [
              { StartAt: 'Left', States: { Left: { Type: 'Pass', End: true } } },
              { StartAt: 'Right', States: { Right: { Type: 'Pass', End: true } } },
            ],
            Next: 'EachItem',
          },
          EachItem: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Handle',
              States: { Handle: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      },
    });
    fanOut = await sluice.stateMachines.startExecution('fan-out', {
      name: 'fan-1',
      input: { items: [1, 2] },
    });
    await sluice.stateMachines.waitForExecution(fanOut.executionArn);
    await sluice.queues.send('orders', { body: 'order-1' });
    // The failed message comes back after its visibility timeout and, past maxReceiveCount, moves to the DLQ.
    for (let i = 0; i < 100 && (await sluice.queues.counts('orders-dlq')).visible === 0; i++)
      await sleep(100);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1300, height: 850 } });
  }, 60_000);
  afterAll(async () => {
    releaseTenants();
    await browser?.close();
    await node?.close();
  });

  it('signs in with a token and shows the overview', async () => {
    await page.goto(`${node.url}/console/`);
    expect(page.url()).toBe(`${node.url}/console/login`);
    await page.fill('#token', 'not-the-right-token-at-all');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    await page.fill('#token', TEST_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('.cards');
    expect(page.url()).toBe(`${node.url}/console/`);
    expect(page.url()).not.toContain(TEST_TOKEN);
    await shoot('overview');
  });

  it("shows a queue's depth change after a send", async () => {
    await page.goto(`${node.url}/console/#/queues`);
    const depth = page.locator('tr[data-queue="inbox"] [data-testid=visible]');
    await expect.poll(() => depth.textContent()).toBe('0');
    await node.sluice.queues.send('inbox', { body: 'a' });
    await node.sluice.queues.send('inbox', { body: 'b' });
    await expect.poll(() => depth.textContent(), { timeout: 10_000 }).toBe('2');
  });

  it('purges a queue only after its name is typed', async () => {
    await page.goto(`${node.url}/console/#/queues/inbox`);
    await page.click('text=Purge…');
    const confirm = page.locator('[role=dialog] button.danger');
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('[aria-label="queue name"]', 'inbo');
    expect(await confirm.isDisabled()).toBe(true);
    await page.fill('[aria-label="queue name"]', 'inbox');
    await confirm.click();
    await expect
      .poll(async () => (await node.sluice.queues.counts('inbox')).visible, { timeout: 5000 })
      .toBe(0);
    await expect
      .poll(() => page.locator('tr[data-queue="inbox"] [data-testid=visible]').textContent(), {
        timeout: 10_000,
      })
      .toBe('0');
  });

  it("opens a failed invocation's stack", async () => {
    await page.goto(`${node.url}/console/#/functions`);
    await page.click('[data-testid=failure-link]');
    const stack = page.locator('[data-testid=stack]');
    await stack.waitFor();
    expect(await stack.textContent()).toContain('TypeError: card declined for order-1');
    expect(await stack.textContent()).toContain('console-browser.test.ts');
    await shoot('failure');
    await page.goto(`${node.url}/console/#/functions`);
    await page.waitForSelector('[data-testid=functions] tbody tr');
    await shoot('functions');
  });

  it('redrives a dead-letter queue', async () => {
    failing = false;
    await page.goto(`${node.url}/console/#/queues/orders-dlq`);
    await page.click('text=Browse messages');
    await page.waitForSelector('[data-testid=messages] li');
    expect(await page.locator('[data-testid=messages]').textContent()).toContain('order-1');
    await shoot('queues');
    await page.click('[data-testid=redrive]');
    await expect
      .poll(() => page.locator('[data-testid=move-status]').first().textContent(), { timeout: 15_000 })
      .toBe('COMPLETED');
    await expect
      .poll(async () => (await node.sluice.queues.counts('orders-dlq')).visible, { timeout: 10_000 })
      .toBe(0);
    // The redriven message ran again (its first run failed; the second receive moved it) and succeeded.
    await expect
      .poll(async () => node.sluice.functions.metrics('charge').invocations, { timeout: 10_000 })
      .toBe(2);
    expect(node.sluice.functions.metrics('charge').errors).toBe(1);
  });

  it("shows a group's limits and why it waits", async () => {
    await page.goto(`${node.url}/console/#/groups`);
    await page.click('button.link:has-text("acme")', { timeout: 10_000 });
    const why = page.locator('[data-testid=group-why]');
    await why.waitFor();
    await expect
      .poll(() => why.textContent())
      .toContain('at its concurrency limit: 1 of 1 slot(s) held by messages in flight');
    const text = await why.textContent();
    expect(text).toContain('Concurrency limit1');
    expect(text).toContain('Messages waiting2');
    expect(text).toContain('Slots held (in flight)1');
    await shoot('groups');
  });

  it("shows a batch's failed items and a schedule's next fire times", async () => {
    await page.goto(`${node.url}/console/#/batches`);
    await page.click('text=Failed items');
    await page.waitForSelector('text=image 4 is corrupt');
    await shoot('batches');
    await page.goto(`${node.url}/console/#/schedules`);
    await page.waitForSelector('text=nightly-report');
    expect(await page.locator('main').textContent()).toMatch(/T03:00:00/);
    await shoot('schedules');
  });

  it('disables and enables a trigger', async () => {
    await page.goto(`${node.url}/console/#/triggers`);
    const row = page.locator('tr', { hasText: 'queue tenants' });
    await row.locator('button', { hasText: 'Disable' }).click();
    await row.locator('text=Disabled').waitFor();
    const [tenants] = node.sluice.triggers.list({ queue: 'tenants' });
    expect(tenants!.state).toBe('Disabled');
    await row.locator('button', { hasText: 'Enable' }).click();
    await row.locator('button', { hasText: 'Disable' }).waitFor();
    expect(node.sluice.triggers.get(tenants!.uuid).state).toBe('Enabled');
  });

  it("follows a failed state machine execution's path on its graph", async () => {
    await page.goto(`${node.url}/console/#/state-machines`);
    const row = page.locator('tr[data-machine="fulfil"]');
    await row.waitFor();
    expect(await row.locator('[data-status=FAILED]').textContent()).toBe('1');
    expect(await row.locator('[data-status=SUCCEEDED]').textContent()).toBe('0');
    await row.locator('a').click();
    const execution = page.locator('tr[data-execution="order-7"]');
    await execution.waitFor();
    expect(await execution.locator('[data-testid=execution-status]').textContent()).toBe('FAILED');
    await page.selectOption('[aria-label=status]', 'SUCCEEDED');
    await page.waitForSelector('text=No executions.');
    await page.selectOption('[aria-label=status]', 'FAILED');
    await execution.locator('a').click();
    await page.waitForSelector('[data-testid=graph] svg');
    const state = (name: string) => page.locator(`[data-testid=graph] g.state[data-state="${name}"]`);
    for (const name of ['Validate', 'Route', 'Ship', 'ShipmentFailed'])
      expect(await state(name).getAttribute('class'), name).toContain('visited');
    for (const name of ['Express', 'Done'])
      expect(await state(name).getAttribute('class'), name).not.toContain('visited');
    expect(await state('Ship').getAttribute('class')).toContain('failed');
    expect(await state('ShipmentFailed').getAttribute('class')).toContain('failed');
    // The arrows taken: the Choice's Default and the Catch; not the Choice's rule nor the Task's Next.
    const edge = (from: string, to: string) =>
      page.locator(`[data-testid=graph] g.edge[data-from="${from}"][data-to="${to}"]`);
    expect(await edge('Route', 'Ship').getAttribute('class')).toContain('taken');
    expect(await edge('Ship', 'ShipmentFailed').getAttribute('class')).toContain('catch taken');
    expect(await edge('Route', 'Express').getAttribute('class')).not.toContain('taken');
    expect(await edge('Ship', 'Done').getAttribute('class')).not.toContain('taken');
    expect(await page.locator('[data-testid=execution-status]').first().textContent()).toBe('FAILED');
    expect(await page.locator('[data-testid=execution-error]').textContent()).toContain('ShipmentFailed');
    const shipError = page.locator('[data-testid=state-error][data-state="Ship"]');
    expect(await shipError.textContent()).toContain('RangeError');
    expect(await shipError.textContent()).toContain('no courier for order-7');
    expect(await state('Ship').textContent()).toContain('RangeError');
    expect(await page.locator('[data-testid=path] tbody tr').allTextContents()).toHaveLength(4);
    await shoot('state-machines');
  });

  it('draws Parallel branches and a Map iterator inside their states', async () => {
    await page.goto(`${node.url}/console/#/executions/${encodeURIComponent(fanOut.executionArn)}`);
    await page.waitForSelector('[data-testid=graph] svg');
    expect(await page.locator('[data-testid=execution-status]').first().textContent()).toBe('SUCCEEDED');
    const state = (name: string) => page.locator(`[data-testid=graph] g.state[data-state="${name}"]`);
    for (const name of ['Split', 'EachItem'])
      expect((await state(name).getAttribute('class'))?.split(' '), name).toEqual(
        expect.arrayContaining(['composite', 'visited']),
      );
    for (const [parent, child] of [
      ['Split', 'Left'],
      ['Split', 'Right'],
      ['EachItem', 'Handle'],
    ] as const)
      expect(await state(parent).locator(`g.state[data-state="${child}"]`).getAttribute('class')).toContain(
        'visited',
      );
    expect(
      await page
        .locator('[data-testid=graph] g.edge[data-from="Split"][data-to="EachItem"]')
        .getAttribute('class'),
    ).toContain('taken');
    expect(await page.locator('[data-testid=graph] [data-testid=end]').getAttribute('class')).not.toContain(
      'failed',
    );
    expect(await page.locator('[data-testid=state-error]').count()).toBe(0);
    await shoot('state-machines-parallel');
  });

  it('shows the triggers and cluster pages', async () => {
    for (const name of ['triggers', 'cluster']) {
      await page.goto(`${node.url}/console/#/${name}`);
      await page.waitForSelector('main h1');
      expect(await page.locator('main h1').first().textContent()).toMatch(new RegExp(name, 'i'));
      await shoot(name);
    }
  });
});
