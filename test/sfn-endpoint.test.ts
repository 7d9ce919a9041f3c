/**
 * The Step Functions callback API with the real AWS SDK (@aws-sdk/client-sfn) against a node: a worker
 * answers Sluice task tokens exactly as it would answer Step Functions.
 */
import {
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleStepFunctionsRequest } from '../src/api/aws/sfn-endpoint.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';

describe('Step Functions callbacks over HTTP (@aws-sdk/client-sfn)', () => {
  let node: TestNode;
  let sfn: SFNClient;
  beforeAll(async () => {
    node = await startTestNode();
    sfn = new SFNClient({
      endpoint: node.url,
      region: 'eu-west-1',
      credentials: TEST_ACCESS_KEY,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    sfn.destroy();
    await node.close();
  });

  it('completes a task with SendTaskSuccess', async () => {
    const task = await node.sluice.callbacks.create({ timeoutSeconds: 60 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: '{"ok":true}' }));
    expect(await task.wait()).toMatchObject({ status: 'SUCCEEDED', output: { ok: true } });
  });

  it('fails a task with SendTaskFailure, and keeps it alive with SendTaskHeartbeat', async () => {
    const task = await node.sluice.callbacks.create({ timeoutSeconds: 60, heartbeatSeconds: 30 });
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.token }));
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: task.token, error: 'Declined', cause: 'card expired' }),
    );
    expect(await task.wait()).toEqual({ status: 'FAILED', error: 'Declined', cause: 'card expired' });
  });

  it("raises the SDK's own exceptions: TaskTimedOut, InvalidToken, TaskDoesNotExist, InvalidOutput", async () => {
    const task = await node.sluice.callbacks.create({ timeoutSeconds: 60 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: '1' }));
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: '2' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'garbage' }))).rejects.toBeInstanceOf(
      InvalidToken,
    );
    await expect(
      sfn.send(new SendTaskHeartbeatCommand({ taskToken: `SLT1${'x'.repeat(43)}` })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    const open = await node.sluice.callbacks.create();
    const error = await sfn
      .send(new SendTaskSuccessCommand({ taskToken: open.token, output: '{nope' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOutput);
    expect((error as InvalidOutput).$metadata.httpStatusCode).toBe(400);
  });

  it('refuses a request signed with an unknown key', async () => {
    const stranger = new SFNClient({
      endpoint: node.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      const task = await node.sluice.callbacks.create();
      const error = (await stranger
        .send(new SendTaskHeartbeatCommand({ taskToken: task.token }))
        .catch((e: unknown) => e)) as { name: string };
      expect(error.name).toBe('InvalidClientTokenId');
    } finally {
      stranger.destroy();
    }
  });

  it('leaves SQS requests at / to the SQS endpoint', async () => {
    const response = await fetch(node.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSQS.ListQueues', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    });
    expect(response.status).toBe(403); // unsigned: refused by the SQS endpoint's own authentication
  });
});

describe('handleStepFunctionsRequest', () => {
  it('answers an unknown operation and a malformed body in the JSON protocol', async () => {
    const callbacks = {} as never;
    const unknown = await handleStepFunctionsRequest(callbacks, 'AWSStepFunctions.StartMapRun', '{}');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toMatchObject({ __type: 'com.amazonaws.sfn#UnknownOperationException' });
    const missing = await handleStepFunctionsRequest(
      callbacks,
      'AWSStepFunctions.SendTaskSuccess',
      '{"taskToken":"t"}',
    );
    expect(JSON.parse(missing.body)).toMatchObject({
      __type: 'com.amazonaws.sfn#ValidationException',
      message: expect.stringMatching(/output/),
    });
  });
});
