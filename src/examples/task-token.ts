/**
 * The callback pattern of seeds/001 on Sluice: a workflow step sends a task to a queue with a task
 * token and waits; a queue trigger invokes a recorder function with the messages in batches; the
 * recorder does its work and answers with sendTaskSuccess or sendTaskFailure, taking the token from the
 * message body (`MyTaskToken`, as the seed's `"MyTaskToken.$": "$$.Task.Token"`). A step whose worker
 * never answers times out after TimeoutSeconds, and answering a finished task fails with TaskTimedOut,
 * as in the seed's log. Run with `npm run example:token`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { Sluice } from '../engine/sluice.js';
import { isSluiceError } from '../model/errors.js';

interface RecordTask {
  Record: { messageId: string; createdAt: string; event: { message: string } };
  MyTaskToken: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-example-token-'));
  const sluice = await Sluice.open({ store: `sqlite:${join(dir, 'token.db')}` });
  try {
    await sluice.queues.create('recorder-queue', { VisibilityTimeout: 30 });
    const stored = new Map<string, unknown>();
    await sluice.functions.create({
      name: 'recorder',
      timeout: 10,
      handler: async (event: SQSEvent) => {
        await Promise.all(
          event.Records.map(async (record) => {
            const task = JSON.parse(record.body) as RecordTask;
            if (task.Record.event.message === 'never answered') return; // the worker drops it: the step times out
            if (task.Record.event.message === 'slow message') {
              // Longer than the step's HeartbeatSeconds (1 s): heartbeats keep the task alive.
              for (let beat = 0; beat < 4; beat++) {
                await new Promise((resolve) => setTimeout(resolve, 400));
                await sluice.callbacks.sendTaskHeartbeat(task.MyTaskToken);
              }
            }
            if (task.Record.event.message.includes('poison')) {
              await sluice.callbacks.sendTaskFailure(task.MyTaskToken, {
                error: 'RecordRejected',
                cause: JSON.stringify({ statusCode: 500, messageId: task.Record.messageId }),
              });
              return;
            }
            stored.set(task.Record.messageId, task.Record.event); // the seed's DynamoDB putItem
            await sluice.callbacks.sendTaskSuccess(
              task.MyTaskToken,
              JSON.stringify({ statusCode: 200, putStatus: { messageId: task.Record.messageId } }),
            );
          }),
        );
      },
    });
    await sluice.triggers.create({ queue: 'recorder-queue', functionName: 'recorder', batchSize: 2 });

    const messages = [
      'A secret message',
      'another message',
      'a poison message',
      'never answered',
      'slow message',
    ];
    const steps = await Promise.all(
      messages.map(async (message, i) => {
        const task = await sluice.callbacks.sendToQueue('recorder-queue', {
          input: { Record: { messageId: `m-${i}`, createdAt: new Date().toISOString(), event: { message } } },
          tokenField: 'MyTaskToken',
          ...(message === 'slow message'
            ? { timeoutSeconds: 6, heartbeatSeconds: 1 }
            : { timeoutSeconds: 3 }),
        });
        console.log(`step ${i}: sent "${message}" with a task token, waiting`);
        return { i, task, outcome: await task.wait() };
      }),
    );
    for (const { i, outcome } of steps) {
      if (outcome.status === 'SUCCEEDED') console.log(`step ${i}: SUCCEEDED with ${outcome.outputText}`);
      else console.log(`step ${i}: ${outcome.status} ${outcome.error}: ${outcome.cause}`);
    }
    console.log(`records stored: ${[...stored.keys()].join(', ')}`);

    // A late answer, as in the seed's log: the task no longer exists for the workflow.
    const late = steps.find((s) => s.outcome.status === 'TIMED_OUT')!;
    try {
      await sluice.callbacks.sendTaskSuccess(late.task.token, '{}');
    } catch (error) {
      if (!isSluiceError(error, 'TaskTimedOut')) throw error;
      console.log(`a late sendTaskSuccess for step ${late.i} fails: ${error.code}: ${error.message}`);
    }
  } finally {
    await sluice.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
