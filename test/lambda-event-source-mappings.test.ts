/**
 * Event source mappings through the Lambda API with the unmodified @aws-sdk/client-lambda, on SQLite and
 * PostgreSQL: an SQS queue's and a DynamoDB stream's mappings are created, delivered, listed, updated,
 * disabled and deleted as Sluice triggers; refused input is refused in Lambda's words and stores nothing.
 */
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure as failure } from './support/sdk-failure.js';

describe.each(storeBackends)('event source mappings through the Lambda API on %s', (_backend, openStore) => {
  let node: TestNode;
  let lambda: LambdaClient;
  let queueArn: string;
  let streamArn: string;
  const bodies: string[] = [];
  const keys: string[] = [];
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    lambda = new LambdaClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
    const { sluice } = node;
    await sluice.functions.create({ name: 'consume', handler: async (event: SQSEvent) => void bodies.push(...event.Records.map((r) => r.body)) });
    await sluice.functions.create({
      name: 'changes',
      handler: async (event: DynamoDBStreamEvent) => void keys.push(...event.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? '?')),
    });
    await sluice.queues.create('jobs');
    await sluice.queues.create('failures');
    await sluice.queues.create('ordered.fifo', { FifoQueue: 'true' });
    queueArn = sluice.queues.arnOf('jobs');
    const table = await sluice.tables.createTable({ name: 'orders', partitionKey: { name: 'pk', type: 'S' }, stream: { viewType: 'KEYS_ONLY' } });
    streamArn = table.stream!.streamArn;
  });
  afterAll(async () => {
    lambda.destroy();
    await node.close();
  });

  it('creates an SQS mapping that delivers, then disables, re-enables and deletes it', async () => {
    const created = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'consume',
        EventSourceArn: queueArn,
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 3 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ body: { keep: [true] } }) }] },
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created).toMatchObject({
      EventSourceArn: queueArn,
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consume',
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      State: 'Enabled',
      StateTransitionReason: 'USER_INITIATED',
    });
    expect(created.LastModified).toBeInstanceOf(Date);
    const uuid = created.UUID!;
    await node.sluice.queues.send('jobs', { body: JSON.stringify({ keep: true, n: 1 }) });
    await node.sluice.queues.send('jobs', { body: JSON.stringify({ keep: false, n: 2 }) });
    await expect.poll(() => bodies, { timeout: 5000 }).toEqual([JSON.stringify({ keep: true, n: 1 })]);

    const disabled = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false, BatchSize: 7 }));
    expect(disabled).toMatchObject({ State: 'Disabled', BatchSize: 7 });
    await node.sluice.queues.send('jobs', { body: JSON.stringify({ keep: true, n: 3 }) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bodies).toHaveLength(1);
    expect((await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State).toBe('Disabled');

    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
    await expect.poll(() => bodies.length, { timeout: 5000 }).toBe(2);

    const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    expect(deleted.State).toBe('Deleting');
    expect(node.sluice.triggers.list()).toEqual([]);
    const gone = await failure(lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })));
    expect(gone.name).toBe('ResourceNotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
  });

  it('creates a DynamoDB stream mapping with the stream fields, lists and filters mappings', async () => {
    const created = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:changes',
        EventSourceArn: streamArn,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 50,
        ParallelizationFactor: 2,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: node.sluice.queues.arnOf('failures') } },
      }),
    );
    expect(created).toMatchObject({
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 50,
      ParallelizationFactor: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: node.sluice.queues.arnOf('failures') } },
      State: 'Enabled',
    });
    await node.sluice.tables.putItem({ tableName: 'orders', item: { pk: 'o-1' } });
    await expect.poll(() => keys, { timeout: 5000 }).toEqual(['o-1']);

    const queueMapping = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: queueArn }));
    const all = await lambda.send(new ListEventSourceMappingsCommand({}));
    expect(all.EventSourceMappings?.map((m) => m.UUID).sort()).toEqual([created.UUID, queueMapping.UUID].sort());
    const byFunction = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'changes' }));
    expect(byFunction.EventSourceMappings?.map((m) => m.UUID)).toEqual([created.UUID]);
    const bySource = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: queueArn }));
    expect(bySource.EventSourceMappings?.map((m) => m.UUID)).toEqual([queueMapping.UUID]);
    const paged = await lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 1 }));
    expect(paged.EventSourceMappings).toHaveLength(1);
    const rest = await lambda.send(new ListEventSourceMappingsCommand({ Marker: paged.NextMarker }));
    expect(rest.EventSourceMappings).toHaveLength(1);
    expect(rest.NextMarker).toBeUndefined();

    const updated = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, MaximumRetryAttempts: 1, ParallelizationFactor: 4 }));
    expect(updated).toMatchObject({ MaximumRetryAttempts: 1, ParallelizationFactor: 4, BisectBatchOnFunctionError: true });
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: queueMapping.UUID }));
    expect(node.sluice.streamTriggers.list()).toEqual([]);
  });

  it('refuses a second mapping from a source to the same function in Lambda’s words, naming the first one’s UUID, and stores nothing', async () => {
    const queueMapping = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: queueArn }));
    const queueTwice = await failure(lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: queueArn, BatchSize: 3 })));
    expect(queueTwice.name).toBe('ResourceConflictException');
    expect(queueTwice.$metadata.httpStatusCode).toBe(409);
    expect(queueTwice.message).toBe(
      `An event source mapping with SQS arn (" ${queueArn} ") and function (" consume ") already exists. Please update or delete the existing mapping with UUID ${queueMapping.UUID}`,
    );
    const streamMapping = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST' }));
    const streamTwice = await failure(lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'TRIM_HORIZON' })));
    expect(streamTwice.name).toBe('ResourceConflictException');
    expect(streamTwice.$metadata.httpStatusCode).toBe(409);
    expect(streamTwice.message).toBe(
      `The event source arn (" ${streamArn} ") and function (" changes ") provided mapping already exists. Please update or delete the existing mapping with UUID ${streamMapping.UUID}`,
    );
    expect(node.sluice.triggers.list().map((view) => view.uuid)).toEqual([queueMapping.UUID]);
    expect(node.sluice.streamTriggers.list().map((view) => view.uuid)).toEqual([streamMapping.UUID]);
    expect((await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings).toHaveLength(2);
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: queueMapping.UUID }));
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: streamMapping.UUID }));
  });

  it('refuses bad input in Lambda’s words and stores nothing', async () => {
    const fifoArn = () => node.sluice.queues.arnOf('ordered.fifo');
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ FunctionName: 'consume', EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/x' }, 'InvalidParameterValueException', /Unrecognized event source/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn.replace('us-east-1', 'eu-west-1') }, 'InvalidParameterValueException', /Unrecognized event source/],
      [{ FunctionName: 'nobody', EventSourceArn: queueArn }, 'ResourceNotFoundException', /^Function not found: arn:aws:lambda:us-east-1:000000000000:function:nobody$/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, StartingPosition: 'LATEST' }, 'InvalidParameterValueException', /Unsupported StartingPosition parameter/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, Topics: ['t'] }, 'InvalidParameterValueException', /Unsupported Topics parameter/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, BatchSize: 20_000 }, 'ValidationException', /^1 validation error detected: Value '20000' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000$/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, BatchSize: 0 }, 'ValidationException', /^1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1$/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, MaximumBatchingWindowInSeconds: 301 }, 'ValidationException', /Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300$/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, BatchSize: 20 }, 'InvalidParameterValueException', /^Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10$/],
      [{ FunctionName: 'consume', EventSourceArn: fifoArn(), BatchSize: 11 }, 'InvalidParameterValueException', /^Maximum batch size must be between 1 and 10 inclusive$/],
      [{ FunctionName: 'consume', EventSourceArn: fifoArn(), MaximumBatchingWindowInSeconds: 5 }, 'InvalidParameterValueException', /^Batching window is not supported for FIFO queues$/],
      [{ FunctionName: 'consume', EventSourceArn: queueArn, ScalingConfig: { MaximumConcurrency: 1 } }, 'ValidationException', /Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2$/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn }, 'InvalidParameterValueException', /StartingPosition is required/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', ScalingConfig: { MaximumConcurrency: 2 } }, 'InvalidParameterValueException', /Unsupported ScalingConfig/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', ParallelizationFactor: 11 }, 'ValidationException', /Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal to 10$/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', MaximumRetryAttempts: -2 }, 'ValidationException', /Value '-2' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to -1$/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', TumblingWindowInSeconds: 901 }, 'ValidationException', /Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900$/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', MaximumRecordAgeInSeconds: 30 }, 'InvalidParameterValueException', /MaximumRecordAgeInSeconds/],
      [{ FunctionName: 'changes', EventSourceArn: streamArn, StartingPosition: 'LATEST', FunctionResponseTypes: ['Everything'] }, 'ValidationException', /functionResponseTypes/],
    ];
    for (const [input, name, message] of cases) {
      const refused = await failure(lambda.send(new CreateEventSourceMappingCommand(input as never)));
      expect(refused.name, JSON.stringify(input)).toBe(name);
      expect(refused.message, JSON.stringify(input)).toMatch(message);
    }
    expect(node.sluice.triggers.list()).toEqual([]);
    expect(node.sluice.streamTriggers.list()).toEqual([]);
    const small = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'consume', EventSourceArn: queueArn, BatchSize: 5 }));
    const outOfModel = await failure(lambda.send(new UpdateEventSourceMappingCommand({ UUID: small.UUID, Enabled: false, BatchSize: 10_001 })));
    expect(outOfModel.name).toBe('ValidationException');
    expect(outOfModel.message).toBe("1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000");
    const unbatched = await failure(lambda.send(new UpdateEventSourceMappingCommand({ UUID: small.UUID, BatchSize: 50, Enabled: false })));
    expect(unbatched.name).toBe('InvalidParameterValueException');
    expect(unbatched.message).toBe('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
    expect(await lambda.send(new GetEventSourceMappingCommand({ UUID: small.UUID }))).toMatchObject({ BatchSize: 5, MaximumBatchingWindowInSeconds: 0, State: 'Enabled' });
    expect(await lambda.send(new UpdateEventSourceMappingCommand({ UUID: small.UUID, BatchSize: 50, MaximumBatchingWindowInSeconds: 1 }))).toMatchObject({ BatchSize: 50, MaximumBatchingWindowInSeconds: 1 });
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: small.UUID }));
    const missing = await failure(lambda.send(new UpdateEventSourceMappingCommand({ UUID: '4a3e1c52-0000-4000-8000-000000000000', Enabled: false })));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.message).toBe('The resource you requested does not exist.');
  });
});
