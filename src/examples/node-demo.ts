/**
 * `npm run demo`: starts a Sluice node with the example config (src/examples/node/sluice.config.ts) on
 * a fresh store, walks through the patterns it declares using the unmodified AWS SDK, then keeps the
 * node running and prints what to try next (AWS CLI, the sluice CLI, curl, the SDK). Ctrl-C stops it.
 * `npm run demo -- --once` (or CI=1) exits after the walk-through.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createNodeLogger } from '../api/logger.js';
import { startNode, type RunningNode } from '../api/node.js';
import { formatTable } from '../cli/table.js';
import { demoLog } from './node/handlers/demo-log.js';

// The SDK warns on Node 20 about its releases of 2027; it works today, and the demo's output is for Sluice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const configPath = fileURLToPath(new URL('./node/sluice.config.ts', import.meta.url));
const once = process.argv.includes('--once') || Boolean(process.env.CI);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function step(title: string): void {
  console.log(`\n== ${title}`);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await pause(100);
  }
  return false;
}

/** Port 8340 if it is free, else any free port. */
async function start(env: NodeJS.ProcessEnv, store: string): Promise<RunningNode> {
  const options = { configPath, store, cwd: process.cwd(), insecureDev: false, prune: true, env, logger: createNodeLogger({ level: 'warn' }) };
  try {
    return await startNode({ ...options, port: 8340 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return startNode({ ...options, port: 0 });
  }
}

async function walkThrough(node: RunningNode, sqs: SQSClient, sfn: SFNClient): Promise<void> {
  const { sluice, url } = node;
  const queueUrl = (name: string) => `${url}/000000000000/${name}`;
  const log = demoLog();

  step('seed 000: SQS > trigger > function, with partial batch failures and a dead-letter queue');
  for (let i = 0; i < 20; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl('orders'),
        Entries: Array.from({ length: 10 }, (_, k) => ({ Id: `o${i + k}`, MessageBody: JSON.stringify({ id: i + k + 1, ...(i + k === 6 ? { poison: true } : {}) }) })),
      }),
    );
  }
  console.log('sent 20 orders with SendMessageBatch (@aws-sdk/client-sqs); order 7 is poison');
  await until(() => log.orders.length >= 19, 10_000);
  console.log(`processOrder handled ${log.orders.length} orders in batches of up to 5; order 7 failed and went back to the queue`);
  await until(async () => (await sluice.queues.counts('orders-dlq')).visible === 1, 15_000);
  const [dead] = await sluice.queues.receive('orders-dlq', { visibilityTimeout: 0 });
  console.log(`failures (order#receive): ${log.failedOrders.join(', ')}; then it moved to orders-dlq: ${dead?.body ?? '(not yet)'}`);

  step('seed 000: FIFO queue, each message group in order, groups in parallel');
  await Promise.all(
    ['a', 'b', 'c'].map(async (group) => {
      for (let n = 1; n <= 5; n++) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('tasks.fifo'), MessageBody: `${group}${n}`, MessageGroupId: group }));
    }),
  );
  await until(() => Object.values(log.tasks).flat().length >= 15, 10_000);
  for (const [group, bodies] of Object.entries(log.tasks).sort()) console.log(`group ${group}: ${bodies.join(' ')}`);

  step('seed 000: a table change stream as a task queue, in order per partition key');
  for (let stepNo = 1; stepNo <= 5; stepNo++) {
    await Promise.all(['job-x', 'job-y', 'job-z'].map((pk) => sluice.tables.putItem({ tableName: 'jobs', item: { pk, step: stepNo } })));
  }
  await until(() => Object.values(log.jobs).flat().length >= 15, 10_000);
  for (const [key, steps] of Object.entries(log.jobs).sort()) console.log(`${key}: steps ${steps.join(' ')}`);

  step('seed 001: a workflow step waits on a task token; a worker answers through the Step Functions API');
  const task = await sluice.callbacks.sendToQueue('approvals', { input: { order: 7, action: 'refund' }, timeoutSeconds: 60 });
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl('approvals'), WaitTimeSeconds: 5 }));
  const { TaskToken } = JSON.parse(Messages?.[0]?.Body ?? '{}') as { TaskToken?: string };
  console.log(`worker received ${(Messages?.[0]?.Body ?? '').slice(0, 60)}...`);
  await sfn.send(new SendTaskSuccessCommand({ taskToken: TaskToken ?? '', output: JSON.stringify({ approved: true }) }));
  console.log(`the waiting step resumed: ${JSON.stringify(await task.wait())}`);

  step('seed 004: schedules');
  for (const schedule of await sluice.schedules.list()) console.log(`${schedule.name}: ${schedule.expression}, next at ${schedule.nextFireTime}`);

  step('metrics');
  const queues = await Promise.all((await sluice.queues.list()).map(async (name) => ({ name, ...(await sluice.queues.counts(name)) })));
  console.log(
    formatTable(queues, [
      { header: 'queue', value: (q) => q.name },
      { header: 'visible', value: (q) => q.visible },
      { header: 'in flight', value: (q) => q.inFlight },
    ]),
  );
  console.log(
    formatTable(sluice.functions.list(), [
      { header: 'function', value: (f) => f.name },
      { header: 'invocations', value: (f) => sluice.functions.metrics(f.name).invocations },
      { header: 'errors', value: (f) => sluice.functions.metrics(f.name).errors },
    ]),
  );
}

function nextSteps(url: string, accessKey: { id: string; secret: string }, token: string): string {
  return `
The node keeps running at ${url} (Ctrl-C stops it).

  # the web console: open it and sign in with the token ${token}
  ${url}/console

In another terminal:

  # the AWS CLI against the SQS endpoint
  export AWS_ACCESS_KEY_ID=${accessKey.id} AWS_SECRET_ACCESS_KEY=${accessKey.secret} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  aws sqs --endpoint-url ${url} list-queues
  aws sqs --endpoint-url ${url} send-message --queue-url ${url}/000000000000/orders --message-body '{"id":100}'
  # --visibility-timeout 0 only looks: the message stays visible, so the redrive below can move it
  aws sqs --endpoint-url ${url} receive-message --queue-url ${url}/000000000000/orders-dlq --attribute-names All --visibility-timeout 0

  # the sluice CLI (native API)
  export SLUICE_ENDPOINT=${url} SLUICE_TOKEN=${token}
  npm run sluice -- queues list
  npm run sluice -- metrics
  npm run sluice -- queues redrive orders-dlq
  npm run sluice -- triggers disable orders:processOrder

  # curl
  curl -H "Authorization: Bearer ${token}" ${url}/v1/queues/orders
  curl -H "Authorization: Bearer ${token}" ${url}/metrics

  # the AWS SDK for JavaScript v3
  const sqs = new SQSClient({ endpoint: '${url}', region: 'us-east-1' });
  await sqs.send(new SendMessageCommand({ QueueUrl: '${url}/000000000000/orders', MessageBody: '{"id":101}' }));

The example config is src/examples/node/sluice.config.ts. Scaffold and run your own project:
  npm run sluice -- init my-app
  cd my-app && npx sluice start
Docs: README.md, docs/config.md, docs/http-api.md.`;
}

async function main(): Promise<void> {
  const dir = '.sluice-demo';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const accessKey = { id: `AKSLDEMO${randomBytes(4).toString('hex').toUpperCase()}`, secret: randomBytes(18).toString('base64url') };
  const token = randomBytes(16).toString('hex');
  const env = { ...process.env, SLUICE_ACCESS_KEYS: `${accessKey.id}:${accessKey.secret}`, SLUICE_TOKENS: token };
  const node = await start(env, `sqlite:./${dir}/sluice.db`);
  console.log(`Sluice node at ${node.url}, store ./${dir}/sluice.db, config ${configPath}`);
  console.log(`config applied: ${node.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.kind} ${c.name}`).join(', ')}`);
  const credentials = { accessKeyId: accessKey.id, secretAccessKey: accessKey.secret };
  const sqs = new SQSClient({ endpoint: node.url, region: 'us-east-1', credentials });
  const sfn = new SFNClient({ endpoint: node.url, region: 'us-east-1', credentials });
  try {
    await walkThrough(node, sqs, sfn);
  } catch (error) {
    await node.close();
    throw error;
  } finally {
    sqs.destroy();
    sfn.destroy();
  }
  if (once) {
    await node.close();
    console.log('\n(--once: stopped.) Run `npm run demo` to keep the node running and try it yourself.');
    return;
  }
  console.log(nextSteps(node.url, accessKey, token));
  const stop = () => {
    console.log('\nstopping: long polls end, work under way finishes...');
    node.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
