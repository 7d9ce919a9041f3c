/**
 * The Lambda REST API with the unmodified @aws-sdk/client-lambda against a node, on SQLite and on
 * PostgreSQL: Invoke in its three types with LogType Tail, the function listing and configuration,
 * reserved concurrency and the account's settings, the environment handlers get, and Lambda's errors.
 */
import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure as failure } from './support/sdk-failure.js';
import { signedFetch } from './support/signed-fetch.js';

const handlers = fileURLToPath(new URL('./fixtures/lambda-handlers.mjs', import.meta.url));
const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;

describe.each(storeBackends)('the Lambda API with the AWS SDK on %s', (_backend, openStore) => {
  let node: TestNode;
  let lambda: LambdaClient;
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    lambda = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    const { functions } = node.sluice;
    await functions.create({ name: 'echo', handler: `${handlers}#echo`, memorySize: 256, timeout: 5 });
    await functions.create({ name: 'fail', handler: `${handlers}#fail` });
    await functions.create({ name: 'env', handler: `${handlers}#environment`, environment: { OWN_SETTING: 'mine', AWS_REGION: 'overridden?' } });
    await functions.create({ name: 'chatty', handler: `${handlers}#chatty` });
    await functions.create({ name: 'inline', handler: async (event: unknown) => ({ inline: event }) });
  });
  afterAll(async () => {
    lambda.destroy();
    await node.close();
  });

  it('invokes a function synchronously and returns its result', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ a: 1 })) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(decode(out.Payload)).toEqual({ echoed: { a: 1 } });
  });

  it('accepts a function ARN, a partial ARN and the $LATEST qualifier', async () => {
    for (const name of ['arn:aws:lambda:us-east-1:000000000000:function:inline', '000000000000:function:inline', 'inline:$LATEST']) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"n":2}') }));
      expect(decode(out.Payload)).toEqual({ inline: { n: 2 } });
    }
  });

  it('gives a handler invoked without a payload an empty object', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'inline' }));
    expect(decode(out.Payload)).toEqual({ inline: {} });
  });

  it('reports a failed handler with X-Amz-Function-Error Unhandled and Lambda’s error payload', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'fail' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const payload = decode(out.Payload) as { errorType: string; errorMessage: string; trace: string[] };
    expect(payload.errorType).toBe('TypeError');
    expect(payload.errorMessage).toBe('it broke');
    expect(Array.isArray(payload.trace)).toBe(true);
  });

  it('returns the execution log with LogType Tail, START to REPORT', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', LogType: 'Tail', Payload: Buffer.from('{"b":2}') }));
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST\n/);
    expect(log).toContain('echo got {"b":2}');
    expect(log).toMatch(/END RequestId: \S+\nREPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\t\n$/);
    const failed = await lambda.send(new InvokeCommand({ FunctionName: 'fail', LogType: 'Tail' }));
    const failedLog = Buffer.from(failed.LogResult ?? '', 'base64').toString('utf8');
    expect(failedLog).toContain('about to fail');
    // As the Node.js runtime logs an unhandled error: its type, message and stack as JSON, before END.
    expect(failedLog).toMatch(/\n\d{4}-\d\d-\d\dT[\d:.]+Z\t\S+\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"it broke","stack":\["TypeError: it broke",[^\n]*\]\}\nEND RequestId/);
    const plain = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
    expect(plain.LogResult).toBeUndefined();
  });

  it('says in the log tail that an invocation timed out, as Lambda does', async () => {
    await node.sluice.functions.create({ name: 'stuck', timeout: 1, handler: () => new Promise(() => undefined) });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'stuck', LogType: 'Tail' }));
    expect(out.FunctionError).toBe('Unhandled');
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toMatch(/\n\d{4}-\d\d-\d\dT[\d:.]+Z \S+ Task timed out after 1\.00 seconds\nEND RequestId: \S+\nREPORT RequestId: /);
    expect(log).toMatch(/\tMemory Size: 128 MB\tStatus: timeout\n$/);
  });

  it('returns the log tail of an in-process function too, each invocation with its own lines', async () => {
    await node.sluice.functions.create({
      name: 'talkative',
      handler: async (event: { n: number }) => {
        console.log(`inline says ${event.n}`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        console.error(`inline done ${event.n}`);
        return event.n;
      },
    });
    const outs = await Promise.all(
      [1, 2].map((n) => lambda.send(new InvokeCommand({ FunctionName: 'talkative', LogType: 'Tail', Payload: Buffer.from(JSON.stringify({ n })) }))),
    );
    const logs = outs.map((out) => Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'));
    expect(logs[0]).toMatch(/^START RequestId: \S+ Version: \$LATEST\ninline says 1\ninline done 1\nEND RequestId/);
    expect(logs[1]).toMatch(/^START RequestId: \S+ Version: \$LATEST\ninline says 2\ninline done 2\nEND RequestId/);
  });

  it('keeps only the last 4 KB of a long log', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'chatty', LogType: 'Tail' }));
    const log = Buffer.from(out.LogResult ?? '', 'base64');
    expect(log.length).toBe(4096);
    expect(log.toString('utf8')).toContain('line 199');
    expect(log.toString('utf8')).not.toContain('line 1 ');
  });

  it('accepts an Event invocation with 202 and runs it', async () => {
    const seen: unknown[] = [];
    await node.sluice.functions.create({ name: 'sink', handler: async (event: unknown) => void seen.push(event) });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: Buffer.from('{"later":true}') }));
    expect(out.StatusCode).toBe(202);
    await expect.poll(() => seen, { timeout: 5000 }).toEqual([{ later: true }]);
  });

  it('refuses an Event payload over 1 MB with RequestTooLargeException', async () => {
    const big = Buffer.from(JSON.stringify({ blob: 'x'.repeat(1_048_576) }));
    const refused = await failure(lambda.send(new InvokeCommand({ FunctionName: 'inline', InvocationType: 'Event', Payload: big })));
    expect(refused.name).toBe('RequestTooLargeException');
    expect(refused.$metadata.httpStatusCode).toBe(413);
    expect(refused.message).toBe(`${big.length} byte payload is too large for the Event invocation type (limit 1048576 bytes)`);
  });

  it('takes a synchronous payload up to Lambda’s 6 MB over the node’s 4 MiB body limit, and refuses a larger one in Lambda’s words', async () => {
    await node.sluice.functions.create({ name: 'measure', handler: async (event: string) => event.length });
    // A JSON string of n characters is n + 2 bytes.
    const fits = await lambda.send(new InvokeCommand({ FunctionName: 'measure', Payload: Buffer.from(JSON.stringify('x'.repeat(6_291_454))) }));
    expect(fits.FunctionError).toBeUndefined();
    expect(decode(fits.Payload)).toBe(6_291_454);
    const refused = await failure(lambda.send(new InvokeCommand({ FunctionName: 'measure', Payload: Buffer.from(JSON.stringify('x'.repeat(6_291_455))) })));
    expect(refused.name).toBe('RequestTooLargeException');
    expect(refused.$metadata.httpStatusCode).toBe(413);
    expect(refused.message).toBe('6291457 byte payload is too large for the RequestResponse invocation type (limit 6291456 bytes)');
    expect(node.sluice.functions.metrics('measure').invocations).toBe(1);
  });

  it('fails an invocation whose result is over Lambda’s 6 MB response limit with Function.ResponseSizeTooLarge', async () => {
    // A JSON string of n characters is n + 2 bytes: the first is exactly at the limit, the second one byte over.
    await node.sluice.functions.create({ name: 'sized', handler: async (event: { n: number }) => 'x'.repeat(event.n) });
    const atLimit = await lambda.send(new InvokeCommand({ FunctionName: 'sized', Payload: Buffer.from(JSON.stringify({ n: 6_291_554 })) }));
    expect(atLimit.FunctionError).toBeUndefined();
    expect(atLimit.Payload?.length).toBe(6_291_556);
    const over = await lambda.send(new InvokeCommand({ FunctionName: 'sized', Payload: Buffer.from(JSON.stringify({ n: 6_291_555 })) }));
    expect(over.StatusCode).toBe(200);
    expect(over.FunctionError).toBe('Unhandled');
    expect(decode(over.Payload)).toEqual({
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  it('answers a DryRun with 204 without running the handler', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'fail', InvocationType: 'DryRun' }));
    expect(out.StatusCode).toBe(204);
    expect(node.sluice.functions.metrics('fail').invocations).toBe(2);
  });

  it('gives worker handlers the environment Lambda sets, over the function’s own variables', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'env' }));
    expect(decode(out.Payload)).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'env',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env',
      AWS_REGION: node.sluice.arn.region,
      AWS_DEFAULT_REGION: node.sluice.arn.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      _HANDLER: `${handlers}#environment`,
      OWN_SETTING: 'mine',
    });
  });

  it('refuses a missing function, a version and a malformed name in Lambda’s words, and a payload that is not JSON', async () => {
    const missing = await failure(lambda.send(new InvokeCommand({ FunctionName: 'nope' })));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.$metadata.httpStatusCode).toBe(404);
    expect(missing.message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
    const version = await failure(lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '3' })));
    expect(version.name).toBe('ResourceNotFoundException');
    expect(version.message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo:3');
    const malformed = await failure(lambda.send(new InvokeCommand({ FunctionName: 'bad name!' })));
    expect(malformed.name).toBe('ValidationException');
    expect(malformed.message).toMatch(/^1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint/);
    const notJson = await failure(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{nope') })));
    expect(notJson.name).toBe('InvalidRequestContentException');
    expect(notJson.$metadata.httpStatusCode).toBe(400);
    expect(notJson.message).toMatch(/^Could not parse request body into json/);
  });

  it('lists functions in pages and describes one', async () => {
    const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(first.Functions?.map((f) => f.FunctionName)).toEqual(['chatty', 'echo']);
    expect(first.NextMarker).toBeDefined();
    const rest = await lambda.send(new ListFunctionsCommand({ Marker: first.NextMarker }));
    expect(rest.Functions?.map((f) => f.FunctionName)).toEqual(expect.arrayContaining(['env', 'fail', 'inline']));
    expect(rest.Functions?.map((f) => f.FunctionName)).not.toContain('echo');
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    expect(config).toMatchObject({
      FunctionName: 'echo',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
      Handler: `${handlers}#echo`,
      Timeout: 5,
      MemorySize: 256,
      Version: '$LATEST',
      State: 'Active',
      PackageType: 'Zip',
    });
    expect(config.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'env' }));
    expect(fn.Configuration?.Environment?.Variables).toEqual({ OWN_SETTING: 'mine', AWS_REGION: 'overridden?' });
    expect(fn.Concurrency).toBeUndefined();
  });

  it('reserves and frees concurrency, reflected in the account settings, and throttles a function reserved at 0', async () => {
    const before = await lambda.send(new GetAccountSettingsCommand({}));
    expect(before.AccountLimit?.ConcurrentExecutions).toBe(1000);
    const put = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 0 }));
    expect(put.ReservedConcurrentExecutions).toBe(0);
    const throttled = await failure(lambda.send(new InvokeCommand({ FunctionName: 'echo' })));
    expect(throttled.name).toBe('TooManyRequestsException');
    expect(throttled.$metadata.httpStatusCode).toBe(429);
    expect(throttled.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 10 }));
    const during = await lambda.send(new GetAccountSettingsCommand({}));
    expect(during.AccountLimit?.UnreservedConcurrentExecutions).toBe(990);
    expect(during.AccountUsage?.FunctionCount).toBe(node.sluice.functions.list().length);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }))).Concurrency).toEqual({ ReservedConcurrentExecutions: 10 });
    const tooMany = await failure(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'fail', ReservedConcurrentExecutions: 995 })));
    expect(tooMany.name).toBe('InvalidParameterValueException');
    expect(tooMany.message).toBe(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].",
    );
    expect(node.sluice.functions.get('fail').reservedConcurrency).toBeNull();
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'echo' }));
    expect(node.sluice.functions.get('echo').reservedConcurrency).toBeNull();
    expect((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions).toBe(1000);
  });

  it('answers a request at / signed for lambda with UnknownOperationException naming Lambda’s paths, and a Lambda path signed for another service in Lambda’s shape', async () => {
    const atRoot = await signedFetch({ url: node.url, headers: { 'content-type': 'application/json' }, body: '{}', service: 'lambda' });
    expect(atRoot.status).toBe(400);
    expect(atRoot.text).toContain('UnknownOperationException');
    expect(atRoot.text).toContain('signed for Lambda, whose API this node serves on its own paths');
    const wrongScope = await signedFetch({ url: node.url, path: '/2017-10-31/functions/echo/concurrency', method: 'DELETE', headers: {}, body: '', service: 'sqs' });
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.headers.get('x-amzn-errortype')).toBeTruthy();
    expect(JSON.parse(wrongScope.text)).toMatchObject({ Type: 'User', Message: expect.stringContaining('lambda') });
  });

  it('refuses a request signed with an unknown key', async () => {
    const stranger = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }, maxAttempts: 1 });
    const refused = await failure(stranger.send(new ListFunctionsCommand({})));
    expect(refused.$metadata.httpStatusCode).toBe(403);
    stranger.destroy();
  });
});
