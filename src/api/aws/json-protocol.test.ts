import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { errorCatalog, SluiceError } from '../../model/errors.js';
import type { ErrorCode } from '../../model/errors.js';
import {
  awsJsonErrorResponse,
  awsJsonResponse,
  parseAmzTarget,
  SFN_JSON,
  SQS_JSON,
} from './json-protocol.js';
import type { AwsJsonResponse } from './json-protocol.js';

describe('parseAmzTarget', () => {
  it('splits the service prefix from the operation at the last dot', () => {
    expect(parseAmzTarget('AmazonSQS.SendMessage')).toEqual({
      servicePrefix: 'AmazonSQS',
      operation: 'SendMessage',
    });
    expect(parseAmzTarget('AWSStepFunctions.SendTaskSuccess')).toEqual({
      servicePrefix: 'AWSStepFunctions',
      operation: 'SendTaskSuccess',
    });
    expect(parseAmzTarget('DynamoDB_20120810.PutItem')).toEqual({
      servicePrefix: 'DynamoDB_20120810',
      operation: 'PutItem',
    });
  });

  it('returns undefined for a missing or malformed target', () => {
    for (const value of [
      undefined,
      '',
      'AmazonSQS',
      '.SendMessage',
      'AmazonSQS.',
      'AmazonSQS.Send-Message',
      'Amazon SQS.X',
    ]) {
      expect([value, parseAmzTarget(value)]).toEqual([value, undefined]);
    }
  });
});

describe('awsJsonErrorResponse', () => {
  it('gives an SQS error its catalog status, namespaced __type and legacy query error header', () => {
    const response = awsJsonErrorResponse(
      SQS_JSON,
      new SluiceError('QueueDoesNotExist', 'The specified queue does not exist.'),
      'req-1',
    );
    expect(response).toEqual({
      status: 400,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': 'req-1',
        'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      },
      body: JSON.stringify({
        __type: 'com.amazonaws.sqs#QueueDoesNotExist',
        message: 'The specified queue does not exist.',
      }),
    });
  });

  it('uses the code itself as the query error code when the catalog has no legacy code', () => {
    const response = awsJsonErrorResponse(
      SQS_JSON,
      new SluiceError('InvalidParameterValue', 'DelaySeconds: must be 0 to 900.'),
    );
    expect(response.headers['x-amzn-query-error']).toBe('InvalidParameterValue;Sender');
  });

  it('hides anything that is not a SluiceError behind InternalFailure, a Receiver fault', () => {
    const response = awsJsonErrorResponse(
      SQS_JSON,
      new Error('SQLITE_BUSY: database is locked at /var/lib/sluice.db'),
    );
    expect(response.status).toBe(500);
    expect(response.headers['x-amzn-query-error']).toBe('InternalFailure;Receiver');
    expect(response.body).not.toContain('SQLITE');
  });

  it('sends no query error header for Step Functions', () => {
    const response = awsJsonErrorResponse(SFN_JSON, new SluiceError('TaskTimedOut', 'Task Timed Out'));
    expect(response.headers['x-amzn-query-error']).toBeUndefined();
    expect(JSON.parse(response.body)).toEqual({
      __type: 'com.amazonaws.sfn#TaskTimedOut',
      message: 'Task Timed Out',
    });
  });
});

/** A JSON-protocol endpoint that answers every call with whatever `reply` returns. */
function fakeEndpoint() {
  let reply: (target: string) => AwsJsonResponse = () => awsJsonResponse(SQS_JSON, {});
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const response = reply(String(req.headers['x-amz-target']));
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
  });
  return {
    server,
    reply: (fn: typeof reply) => {
      reply = fn;
    },
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

const endpoint = fakeEndpoint();
const credentials = { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'secret' };

beforeAll(async () => {
  await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
});

async function sqsError(error: unknown): Promise<Record<string, unknown>> {
  endpoint.reply(() => awsJsonErrorResponse(SQS_JSON, error, 'req-42'));
  const client = new SQSClient({
    endpoint: endpoint.url(),
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  try {
    await client.send(new GetQueueUrlCommand({ QueueName: 'missing' }));
    throw new Error('expected the call to fail');
  } catch (caught) {
    return caught as Record<string, unknown>;
  } finally {
    client.destroy();
  }
}

describe('@aws-sdk/client-sqs reading Sluice errors', () => {
  it('surfaces QueueDoesNotExist by its modern name, with the legacy code alongside', async () => {
    const error = await sqsError(new SluiceError('QueueDoesNotExist', 'The specified queue does not exist.'));
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error).toMatchObject({
      name: 'QueueDoesNotExist',
      message: 'The specified queue does not exist.',
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      Type: 'Sender',
      Error: {
        Code: 'AWS.SimpleQueueService.NonExistentQueue',
        Type: 'Sender',
        Message: 'The specified queue does not exist.',
      },
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-42', attempts: 1 },
    });
  });

  it('names every catalog error the way the SQS model does', async () => {
    // Every code, QueueNameExists included (its legacy query-protocol name is QueueAlreadyExists), arrives
    // under its own name.
    const renamed: Partial<Record<ErrorCode, string>> = {};
    for (const code of Object.keys(errorCatalog) as ErrorCode[]) {
      const error = await sqsError(new SluiceError(code, `a ${code}`));
      expect([code, error.name, error.message]).toEqual([code, renamed[code] ?? code, `a ${code}`]);
    }
  });

  it('reports an internal failure as a server fault', async () => {
    const error = await sqsError(new Error('boom'));
    expect(error).toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
      Type: 'Receiver',
      $metadata: { httpStatusCode: 500 },
    });
  });
});

describe('@aws-sdk/client-sfn reading Sluice errors', () => {
  it('surfaces TaskTimedOut, InvalidToken, TaskDoesNotExist and InvalidOutput by name', async () => {
    const client = new SFNClient({
      endpoint: endpoint.url(),
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    for (const code of ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist', 'InvalidOutput'] as const) {
      let target = '';
      endpoint.reply((t) => {
        target = t;
        return awsJsonErrorResponse(SFN_JSON, new SluiceError(code, `Task token problem: ${code}`), 'req-7');
      });
      const call = client.send(new SendTaskSuccessCommand({ taskToken: 'token', output: '{}' }));
      await expect(call).rejects.toMatchObject({
        name: code,
        message: `Task token problem: ${code}`,
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'req-7' },
      });
      expect(target).toBe('AWSStepFunctions.SendTaskSuccess');
    }
    endpoint.reply(() => awsJsonErrorResponse(SFN_JSON, new SluiceError('TaskTimedOut', 'Task Timed Out')));
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    client.destroy();
  });
});
