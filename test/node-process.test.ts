/**
 * End to end: `sluice start` as a real child process with a config file, driven by the AWS SDK v3 SQS
 * client and by the `sluice` CLI; SIGTERM ends a long poll empty and the process exits cleanly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAwsCli, runAws } from './support/aws-cli.js';
import { runCli, startNodeProcess, type NodeProcess } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-node-'));
const credentials = { accessKeyId: 'AKIDE2E', secretAccessKey: 'e2e-secret-0123456789' };
const token = 'e2e-token-0123456789abcdef';
const env = { SLUICE_ACCESS_KEYS: `${credentials.accessKeyId}:${credentials.secretAccessKey}`, SLUICE_TOKENS: token, SLUICE_STORE: '' };
let node: NodeProcess;
let sqs: SQSClient;

beforeAll(async () => {
  writeFileSync(
    join(dir, 'sluice.config.yaml'),
    ['queues:', '  jobs-dlq: {}', '  jobs:', '    visibilityTimeout: 5', '    deadLetter: { queue: jobs-dlq, maxReceiveCount: 2 }', ''].join('\n'),
  );
  node = await startNodeProcess({ args: ['--port', '0', '--store', `sqlite:${join(dir, 'node.db')}`], cwd: dir, env });
  sqs = new SQSClient({ endpoint: node.url, region: 'us-east-1', credentials, maxAttempts: 1 });
});
afterAll(async () => {
  sqs.destroy();
  if (node.child.exitCode === null) node.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const aws = (...args: string[]) => runAws({ url: node.url, credentials }, 'sqs', ...args);

const cli = (...args: string[]) => runCli(['--endpoint', node.url, ...args], { cwd: dir, env: { SLUICE_TOKEN: token } });

describe('a node started with sluice start', () => {
  it('applies the config file found in its directory and serves the AWS SDK', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }));
    expect(QueueUrl).toBe(`${node.url}/000000000000/jobs`);
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from the sdk' }));
    expect(sent.MessageId).toBeTruthy();
  });

  it('is driven by the sluice CLI over the native API: list, send a file, receive and delete', async () => {
    const listed = await cli('queues', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { queues: Array<{ name: string }> }).queues.map((q) => q.name)).toEqual(expect.arrayContaining(['jobs', 'jobs-dlq']));
    writeFileSync(join(dir, 'lines.txt'), 'one\ntwo\n\nthree\n');
    const sent = await cli('send', 'jobs', '--file', 'lines.txt');
    expect(sent.stdout).toContain('sent 3 of 3 messages to jobs');
    const received = await cli('receive', 'jobs', '--max', '10', '--delete', '--json');
    const bodies = (JSON.parse(received.stdout) as { messages: Array<{ body: string }> }).messages.map((m) => m.body).sort();
    expect(bodies).toEqual(['from the sdk', 'one', 'three', 'two']);
    const table = await cli('queues', 'list');
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+VISIBLE\s+IN FLIGHT/);
    expect(table.stdout).toMatch(/jobs\s+standard\s+0\s+0\s+0/);
  });

  it.skipIf(!hasAwsCli)('serves the AWS CLI (skipped when `aws` is not installed)', async () => {
    const created = await aws('create-queue', '--queue-name', 'from-aws-cli');
    expect(created.code, created.stderr).toBe(0);
    const queueUrl = (JSON.parse(created.stdout) as { QueueUrl: string }).QueueUrl;
    expect((await aws('send-message', '--queue-url', queueUrl, '--message-body', 'via the aws cli')).code).toBe(0);
    const received = await aws('receive-message', '--queue-url', queueUrl, '--message-attribute-names', 'All');
    expect((JSON.parse(received.stdout) as { Messages: Array<{ Body: string }> }).Messages[0]!.Body).toBe('via the aws cli');
    const missing = await aws('get-queue-url', '--queue-name', 'nope');
    expect(missing.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('refuses the CLI without the token, with the error code and exit status 1', async () => {
    const refused = await runCli(['--endpoint', node.url, 'queues', 'list'], { cwd: dir, env: { SLUICE_TOKEN: 'wrong-token-0123456789', SLUICE_TOKENS: '' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: AccessDenied');
  });

  it('on SIGTERM ends a long poll empty, finishes, and exits with status 0', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }));
    const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    node.child.kill('SIGTERM');
    expect((await poll).Messages).toBeUndefined();
    expect(await node.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(node.logs.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    const logs = node.logs.join('\n');
    expect(logs).not.toContain(credentials.secretAccessKey);
    expect(logs).not.toContain(token);
  });
});

describe('starting a node', () => {
  it('refuses to start without credentials unless --insecure-dev is given, which it logs as a warning', async () => {
    const refused = await runCli(['start', '--port', '0', '--store', 'sqlite::memory:'], { cwd: dir, env: { SLUICE_ACCESS_KEYS: '', SLUICE_TOKENS: '' } });
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('No credentials are configured');
    const dev = await startNodeProcess({ args: ['--port', '0', '--store', 'sqlite::memory:', '--insecure-dev', '--config', join(dir, 'sluice.config.yaml')], cwd: dir, env: { SLUICE_ACCESS_KEYS: '', SLUICE_TOKENS: '' } });
    try {
      expect(dev.logs.some((line) => line.includes('"level":40') && line.includes('INSECURE DEVELOPMENT MODE'))).toBe(true);
      expect((await fetch(`${dev.url}/v1/queues`)).status).toBe(200);
    } finally {
      dev.child.kill('SIGTERM');
      expect(await dev.exited).toBe(0);
    }
  });
});
