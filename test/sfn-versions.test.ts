/**
 * State machine versions and aliases through the unmodified @aws-sdk/client-sfn against a node, on SQLite
 * and PostgreSQL: PublishStateMachineVersion (and `publish` on create and update), its idempotency and
 * revision check, ListStateMachineVersions, DeleteStateMachineVersion; aliases with one or two weighted
 * routes; StartExecution on a version's or alias's ARN, recorded by DescribeExecution; and the errors AWS
 * names (ConflictException, ResourceNotFound, ValidationException, StateMachineDoesNotExist).
 */
import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DeleteStateMachineAliasCommand,
  DeleteStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeExecutionCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  ListTagsForResourceCommand,
  ListStateMachineAliasesCommand,
  ListStateMachineVersionsCommand,
  PublishStateMachineVersionCommand,
  SFNClient,
  StartExecutionCommand,
  TagResourceCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeBackends } from './support/dynamodb.js';
import { startTestNode, TEST_ACCESS_KEY, type TestNode } from './support/in-process-node.js';
import { sdkFailure } from './support/sdk-failure.js';

const role = 'arn:aws:iam::000000000000:role/sfn';
const returning = (value: string) => JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: value, End: true } } });

describe.each(storeBackends)('state machine versions and aliases with the AWS SDK on %s', (_backend, openStore) => {
  let node: TestNode;
  let sfn: SFNClient;
  beforeAll(async () => {
    const store = await openStore();
    node = await startTestNode(store ? { store } : {});
    sfn = new SFNClient({ endpoint: node.url, region: 'us-east-1', credentials: TEST_ACCESS_KEY, maxAttempts: 1 });
  });
  afterAll(async () => {
    sfn.destroy();
    await node.close();
  });

  async function outputOf(stateMachineArn: string) {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    await expect.poll(async () => (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status, { timeout: 10_000, interval: 10 }).toBe('SUCCEEDED');
    return sfn.send(new DescribeExecutionCommand({ executionArn }));
  }

  it('publishes versions on create, update and PublishStateMachineVersion; runs and describes each', async () => {
    const created = await sfn.send(new CreateStateMachineCommand({ name: 'pub', definition: returning('one'), roleArn: role, publish: true, versionDescription: 'first' }));
    const arn = created.stateMachineArn!;
    expect(created.stateMachineVersionArn).toBe(`${arn}:1`);
    const updated = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: returning('two'), publish: true }));
    expect(updated.stateMachineVersionArn).toBe(`${arn}:2`);
    // The current revision already has version 2: publishing again gives it back (AWS's idempotency).
    const again = await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }));
    expect(again.stateMachineVersionArn).toBe(`${arn}:2`);
    const v1 = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:1` }));
    expect({ arn: v1.stateMachineArn, definition: v1.definition, description: v1.description }).toEqual({ arn: `${arn}:1`, definition: returning('one'), description: 'first' });
    const onV1 = await outputOf(`${arn}:1`);
    expect({ output: onV1.output, stateMachineArn: onV1.stateMachineArn, version: onV1.stateMachineVersionArn, alias: onV1.stateMachineAliasArn }).toEqual({
      output: '"one"',
      stateMachineArn: arn,
      version: `${arn}:1`,
      alias: undefined,
    });
    const latest = await outputOf(arn);
    expect({ output: latest.output, version: latest.stateMachineVersionArn }).toEqual({ output: '"two"', version: undefined });
    // ListExecutions on a version's ARN lists the executions that ran it; on the machine's, all of them.
    const onVersion = await sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:1` }));
    expect(onVersion.executions?.map((e) => ({ arn: e.executionArn, version: e.stateMachineVersionArn }))).toEqual([{ arn: onV1.executionArn, version: `${arn}:1` }]);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions).toHaveLength(2);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:2` }))).executions).toEqual([]);
  });

  it('refuses a stale revisionId with ConflictException, lists newest first by page, and never reuses a number', async () => {
    const { stateMachineArn: arn } = await sfn.send(new CreateStateMachineCommand({ name: 'numbers', definition: returning('a'), roleArn: role }));
    const { revisionId: first } = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: first, description: 'a' }));
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: returning('b') }));
    const stale = await sdkFailure(sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: first })));
    // The status codes are those of the service model the SDK carries.
    expect({ name: stale.name, status: stale.$metadata.httpStatusCode }).toEqual({ name: 'ConflictException', status: 409 });
    await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }));
    const page1 = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn, maxResults: 1 }));
    expect(page1.stateMachineVersions?.map((v) => v.stateMachineVersionArn)).toEqual([`${arn}:2`]);
    const page2 = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn, maxResults: 1, nextToken: page1.nextToken }));
    expect(page2.stateMachineVersions?.map((v) => v.stateMachineVersionArn)).toEqual([`${arn}:1`]);
    expect(page2.nextToken).toBeUndefined();
    await sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${arn}:2` }));
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: returning('c') }));
    expect((await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }))).stateMachineVersionArn).toBe(`${arn}:3`);
    const gone = await sdkFailure(sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn}:2` })));
    expect(gone.name).toBe('StateMachineDoesNotExist');
    const describeGone = await sdkFailure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:2` })));
    expect(describeGone.name).toBe('StateMachineDoesNotExist');
    const missingMachine = await sdkFailure(sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: `${arn}-none` })));
    expect(missingMachine.name).toBe('StateMachineDoesNotExist');
  });

  it('routes an alias to one version, then splits it between two by weight; executions record both ARNs', async () => {
    const { stateMachineArn: arn, stateMachineVersionArn: v1 } = await sfn.send(
      new CreateStateMachineCommand({ name: 'routed', definition: returning('v1'), roleArn: role, publish: true }),
    );
    const { stateMachineVersionArn: v2 } = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: returning('v2'), publish: true }));
    const routing = [{ stateMachineVersionArn: v1!, weight: 100 }];
    const created = await sfn.send(new CreateStateMachineAliasCommand({ name: 'live', description: 'prod', routingConfiguration: routing }));
    expect(created.stateMachineAliasArn).toBe(`${arn}:live`);
    // The same name, description and routing again: the same alias (idempotent); another routing: a conflict.
    const repeat = await sfn.send(new CreateStateMachineAliasCommand({ name: 'live', description: 'prod', routingConfiguration: routing }));
    expect(repeat.stateMachineAliasArn).toBe(created.stateMachineAliasArn);
    const clash = await sdkFailure(sfn.send(new CreateStateMachineAliasCommand({ name: 'live', routingConfiguration: [{ stateMachineVersionArn: v2!, weight: 100 }] })));
    expect(clash.name).toBe('ConflictException');

    const viaAlias = await outputOf(`${arn}:live`);
    expect({ output: viaAlias.output, machine: viaAlias.stateMachineArn, version: viaAlias.stateMachineVersionArn, alias: viaAlias.stateMachineAliasArn }).toEqual({
      output: '"v1"',
      machine: arn,
      version: v1,
      alias: `${arn}:live`,
    });

    await sfn.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:live`, routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 50 }, { stateMachineVersionArn: v2!, weight: 50 }] }));
    const described = await sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:live` }));
    expect({ name: described.name, description: described.description, routing: described.routingConfiguration }).toEqual({
      name: 'live',
      description: 'prod',
      routing: [
        { stateMachineVersionArn: v1, weight: 50 },
        { stateMachineVersionArn: v2, weight: 50 },
      ],
    });
    expect(described.updateDate!.getTime()).toBeGreaterThanOrEqual(described.creationDate!.getTime());
    const outputs = new Set<string>();
    let aliasRuns = 1;
    for (let i = 0; i < 30 && outputs.size < 2; i++, aliasRuns++) outputs.add((await outputOf(`${arn}:live`)).output!);
    expect([...outputs].sort()).toEqual(['"v1"', '"v2"']);
    const listed = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:live` }))).executions ?? [];
    expect({ count: listed.length, aliases: [...new Set(listed.map((e) => e.stateMachineAliasArn))] }).toEqual({ count: aliasRuns, aliases: [`${arn}:live`] });
    const onV2 = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: v2! }))).executions ?? [];
    expect(onV2.length).toBeGreaterThan(0);
    expect(new Set(onV2.map((e) => e.stateMachineVersionArn))).toEqual(new Set([v2]));

    // A version an alias routes to cannot be deleted; once the alias is gone, it can.
    const routed = await sdkFailure(sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: v2! })));
    expect(routed.name).toBe('ConflictException');
    expect((await sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: arn }))).stateMachineAliases?.map((a) => a.stateMachineAliasArn)).toEqual([`${arn}:live`]);
    await sfn.send(new DeleteStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:live` }));
    const noAlias = await sdkFailure(sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:live` })));
    expect({ name: noAlias.name, status: noAlias.$metadata.httpStatusCode }).toEqual({ name: 'ResourceNotFound', status: 404 });
    const startGone = await sdkFailure(sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn}:live` })));
    expect(startGone.name).toBe('StateMachineDoesNotExist');
    await sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: v2! }));
    expect((await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn }))).stateMachineVersions?.map((v) => v.stateMachineVersionArn)).toEqual([v1]);
  });

  it('refuses bad routing configurations and names with ValidationException, and a missing version with ResourceNotFound', async () => {
    const { stateMachineArn: arn, stateMachineVersionArn: v1 } = await sfn.send(
      new CreateStateMachineCommand({ name: 'strict', definition: returning('x'), roleArn: role, publish: true }),
    );
    const { stateMachineArn: other, stateMachineVersionArn: otherV1 } = await sfn.send(
      new CreateStateMachineCommand({ name: 'strict-other', definition: returning('y'), roleArn: role, publish: true }),
    );
    const cases: Array<[string, ConstructorParameters<typeof CreateStateMachineAliasCommand>[0]]> = [
      ['weights not adding to 100', { name: 'a1', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 60 }] }],
      ['three routes', { name: 'a2', routingConfiguration: [1, 2, 3].map((n) => ({ stateMachineVersionArn: `${arn}:${n}`, weight: n === 1 ? 100 : 0 })) }],
      ['one version twice', { name: 'a3', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 50 }, { stateMachineVersionArn: v1!, weight: 50 }] }],
      ['versions of two machines', { name: 'a4', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 50 }, { stateMachineVersionArn: otherV1!, weight: 50 }] }],
      ['a machine ARN, not a version', { name: 'a5', routingConfiguration: [{ stateMachineVersionArn: arn!, weight: 100 }] }],
      ['a name of digits only', { name: '123', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 100 }] }],
    ];
    for (const [what, input] of cases) {
      const refused = await sdkFailure(sfn.send(new CreateStateMachineAliasCommand(input)));
      expect({ what, name: refused.name }).toEqual({ what, name: 'ValidationException' });
    }
    const missing = await sdkFailure(sfn.send(new CreateStateMachineAliasCommand({ name: 'ghost', routingConfiguration: [{ stateMachineVersionArn: `${arn}:9`, weight: 100 }] })));
    expect(missing.name).toBe('ResourceNotFound');
    expect((await sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: arn }))).stateMachineAliases).toEqual([]);
    const updateMissing = await sdkFailure(sfn.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:nope`, description: 'd' })));
    expect(updateMissing.name).toBe('ResourceNotFound');
    await sfn.send(new CreateStateMachineAliasCommand({ name: 'ok', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 100 }] }));
    const crossMachine = await sdkFailure(
      sfn.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:ok`, routingConfiguration: [{ stateMachineVersionArn: otherV1!, weight: 100 }] })),
    );
    expect(crossMachine.name).toBe('ValidationException');
    // Deleting the machine takes its versions and aliases: a machine created again under the name has none.
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    await sfn.send(new CreateStateMachineCommand({ name: 'strict', definition: returning('x'), roleArn: role }));
    expect((await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn }))).stateMachineVersions).toEqual([]);
    expect((await sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: arn }))).stateMachineAliases).toEqual([]);
    expect(other).toBeDefined();
  });

  it('takes no tags on a version or an alias (AWS tags state machines and activities), only on the machine', async () => {
    const { stateMachineArn: arn, stateMachineVersionArn: v1 } = await sfn.send(
      new CreateStateMachineCommand({ name: 'tagged', definition: returning('t'), roleArn: role, publish: true }),
    );
    await sfn.send(new CreateStateMachineAliasCommand({ name: 'live', routingConfiguration: [{ stateMachineVersionArn: v1!, weight: 100 }] }));
    for (const resourceArn of [v1!, `${arn}:live`]) {
      const refused = await sdkFailure(sfn.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'env', value: 'prod' }] })));
      expect({ resourceArn, name: refused.name }).toEqual({ resourceArn, name: 'ResourceNotFound' });
      expect((await sdkFailure(sfn.send(new ListTagsForResourceCommand({ resourceArn })))).name).toBe('ResourceNotFound');
    }
    await sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'env', value: 'prod' }] }));
    expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: 'env', value: 'prod' }]);
  });
});
