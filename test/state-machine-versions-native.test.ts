/**
 * State machine versions and aliases outside the Step Functions API: the native routes
 * (/v1/state-machines/:name/versions|aliases, and `<name>:<qualifier>` to start on one) and the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './support/cli-in-process.js';
import { startTestNode, type TestNode } from './support/in-process-node.js';

let node: TestNode;
const result = (value: number) => ({ StartAt: 'P', States: { P: { Type: 'Pass', Result: value, End: true } } });

beforeAll(async () => {
  node = await startTestNode();
  await node.sluice.stateMachines.create({ name: 'orders', definition: result(1) });
});
afterAll(async () => node.close());

const sluice = (...args: string[]) => runCliInProcess(node.url, ...args);

describe('versions and aliases over the native API', () => {
  it('publishes, lists, shows, routes executions through an alias and deletes', async () => {
    const first = await node.native('/v1/state-machines/orders/versions', { method: 'POST', body: { description: 'one' } });
    expect(first).toMatchObject({ status: 201, body: { version: { version: 1, stateMachineVersionArn: expect.stringMatching(/:stateMachine:orders:1$/) } } });
    await node.sluice.stateMachines.update('orders', { definition: result(2) });
    expect((await node.native('/v1/state-machines/orders/versions', { method: 'POST', body: {} })).body.version.version).toBe(2);
    expect((await node.native('/v1/state-machines/orders/versions')).body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const shown = await node.native('/v1/state-machines/orders/versions/1');
    expect(shown).toMatchObject({ status: 200, body: { version: { version: 1, description: 'one' } } });
    expect(JSON.parse(shown.body.version.definition).States.P.Result).toBe(1);

    const put = await node.native('/v1/state-machines/orders/aliases/live', { method: 'PUT', body: { routing: [{ version: 1, weight: 100 }] } });
    expect(put).toMatchObject({ status: 201, body: { action: 'created', alias: { name: 'live', routing: [{ version: 1, weight: 100 }] } } });
    const again = await node.native('/v1/state-machines/orders/aliases/live', { method: 'PUT', body: { routing: [{ version: 1, weight: 100 }] } });
    expect(again).toMatchObject({ status: 200, body: { action: 'unchanged' } });

    // An execution started on the alias runs version 1's definition; on the machine, the current one.
    const viaAlias = await node.native('/v1/state-machines/orders:live/executions', { method: 'POST', body: { wait: true } });
    expect(viaAlias).toMatchObject({ status: 200, body: { execution: { status: 'SUCCEEDED', output: '1' } } });
    const viaVersion = await node.native('/v1/state-machines/orders:2/executions', { method: 'POST', body: { wait: true } });
    expect(viaVersion.body.execution.output).toBe('2');
    const listed = await node.native('/v1/state-machines/orders:live/executions');
    expect(listed.body.executions).toHaveLength(1);

    const moved = await node.native('/v1/state-machines/orders/aliases/live', { method: 'PUT', body: { description: 'canary', routing: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } });
    expect(moved).toMatchObject({ status: 200, body: { action: 'updated', alias: { description: 'canary', routing: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } } });
    expect((await node.native('/v1/state-machines/orders/aliases')).body.aliases.map((a: { name: string }) => a.name)).toEqual(['live']);

    // A version an alias routes to cannot go; once the alias is gone it can.
    expect(await node.native('/v1/state-machines/orders/versions/1', { method: 'DELETE' })).toMatchObject({ status: 409, body: { error: { code: 'ConflictException' } } });
    expect((await node.native('/v1/state-machines/orders/aliases/live', { method: 'DELETE' })).status).toBe(204);
    expect((await node.native('/v1/state-machines/orders/aliases/live')).body.error.code).toBe('ResourceNotFound');
    expect((await node.native('/v1/state-machines/orders/versions/1', { method: 'DELETE' })).status).toBe(204);
    expect((await node.native('/v1/state-machines/orders/versions')).body.versions.map((v: { version: number }) => v.version)).toEqual([2]);
  });

  it('refuses bad input with typed errors', async () => {
    expect((await node.native('/v1/state-machines/nope/versions', { method: 'POST', body: {} })).body.error.code).toBe('StateMachineDoesNotExist');
    expect((await node.native('/v1/state-machines/orders/versions/x')).body.error.code).toBe('ValidationException');
    const weights = await node.native('/v1/state-machines/orders/aliases/bad', { method: 'PUT', body: { routing: [{ version: 2, weight: 50 }] } });
    expect(weights.body.error).toMatchObject({ code: 'ValidationException', message: expect.stringContaining('add up to 100') });
    const missing = await node.native('/v1/state-machines/orders/aliases/bad', { method: 'PUT', body: { routing: [{ version: 99, weight: 100 }] } });
    expect(missing.body.error.code).toBe('ResourceNotFound');
    expect((await node.native('/v1/state-machines/orders/aliases/bad', { method: 'PUT', body: { routing: [], extra: 1 } })).status).toBe(400);
  });
});

describe('sluice state-machines versions and aliases', () => {
  it('publishes, sets an alias, starts through it and deletes', async () => {
    await node.sluice.stateMachines.create({ name: 'cli', definition: result(7) });
    expect(await sluice('state-machines', 'publish', 'cli', '--description', 'first')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^version 1: arn:.*:cli:1\n$/) });
    expect((await sluice('state-machines', 'versions', 'cli')).stdout).toMatch(/VERSION\s+ARN[\s\S]*\n1\s+arn:/);
    expect((await sluice('state-machines', 'set-alias', 'cli', 'prod', '--to', '1')).stdout).toMatch(/^created\n/);
    expect((await sluice('state-machines', 'aliases', 'cli')).stdout).toMatch(/prod\s+1=100%/);
    expect(await sluice('executions', 'start', 'cli:prod', '--wait')).toMatchObject({ code: 0, stdout: '7\n' });
    const both = await sluice('state-machines', 'set-alias', 'cli', 'prod', '--route', '1=60', '--route', '2=40');
    expect(both).toMatchObject({ code: 1, stderr: expect.stringContaining('ResourceNotFound') });
    expect((await sluice('state-machines', 'delete-version', 'cli', '1')).stderr).toContain('ConflictException');
    expect((await sluice('state-machines', 'delete-alias', 'cli', 'prod')).code).toBe(0);
    expect((await sluice('state-machines', 'delete-version', 'cli', '1')).code).toBe(0);
    expect((await sluice('--json', 'state-machines', 'versions', 'cli')).stdout).toContain('"versions": []');
  });
});
