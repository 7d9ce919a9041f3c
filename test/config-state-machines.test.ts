/** `stateMachines:` in the config file: inline or from a .asl.json file, validated first, applied idempotently. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyConfig } from '../src/config/apply.js';
import { validateConfig, type SluiceConfigInput } from '../src/config/schema.js';
import { Sluice } from '../src/engine/sluice.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-config-sm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pass = { StartAt: 'P', States: { P: { Type: 'Pass', Result: 1, End: true } } };

describe('stateMachines in the config', () => {
  let sluice: Sluice;
  beforeEach(async () => {
    sluice = await Sluice.open({ store: 'sqlite::memory:' });
  });
  afterEach(async () => sluice.close());
  const apply = (raw: SluiceConfigInput, prune = false) => applyConfig({ sluice, config: validateConfig(raw, 'test'), baseDir: dir, prune });
  const actions = (changes: Awaited<ReturnType<typeof apply>>) => changes.map((c) => `${c.kind} ${c.name} ${c.action}`);

  it('creates machines from an inline definition and a .asl.json file, then reports them unchanged', async () => {
    writeFileSync(join(dir, 'order.asl.json'), JSON.stringify(pass));
    const config: SluiceConfigInput = { stateMachines: { inline: { definition: pass }, order: { definitionFile: './order.asl.json', type: 'EXPRESS' } } };
    expect(actions(await apply(config))).toEqual(['state machine inline created', 'state machine order created']);
    expect((await sluice.stateMachines.describe('order')).type).toBe('EXPRESS');
    expect(actions(await apply(config))).toEqual(['state machine inline unchanged', 'state machine order unchanged']);
    const { executionArn } = await sluice.stateMachines.startExecution('inline');
    expect((await sluice.stateMachines.waitForExecution(executionArn)).output).toBe('1');
  });

  it('updates a changed definition and prunes only machines the config made', async () => {
    await apply({ stateMachines: { a: { definition: pass }, b: { definition: pass } } });
    await sluice.stateMachines.create({ name: 'byApi', definition: pass });
    const changed = { ...pass, States: { P: { Type: 'Pass', Result: 2, End: true } } };
    expect(actions(await apply({ stateMachines: { a: { definition: changed } } }, true))).toEqual([
      'state machine a updated',
      'state machine b deleted',
    ]);
    expect(JSON.parse((await sluice.stateMachines.describe('a')).definition).States.P.Result).toBe(2);
    expect((await sluice.stateMachines.list()).stateMachines.map((m) => m.name)).toEqual(['a', 'byApi']);
  });

  it('publishes a version of each new definition and keeps declared aliases on it', async () => {
    const config = (value: number): SluiceConfigInput => ({
      stateMachines: {
        orders: {
          definition: { ...pass, States: { P: { Type: 'Pass', Result: value, End: true } } },
          publish: true,
          aliases: { live: { version: 'latest' }, pinned: { version: 1, description: 'first' } },
        },
      },
    });
    expect(actions(await apply(config(1)))).toEqual([
      'state machine orders created',
      'state machine version orders:1 created',
      'state machine alias orders:live created',
      'state machine alias orders:pinned created',
    ]);
    expect(actions(await apply(config(1)))).toEqual([
      'state machine orders unchanged',
      'state machine version orders:1 unchanged',
      'state machine alias orders:live unchanged',
      'state machine alias orders:pinned unchanged',
    ]);
    expect(actions(await apply(config(2)))).toEqual([
      'state machine orders updated',
      'state machine version orders:2 created',
      'state machine alias orders:live updated',
      'state machine alias orders:pinned unchanged',
    ]);
    const machines = sluice.stateMachines;
    const run = async (qualifier: string) => {
      const { executionArn } = await machines.startExecution(`${machines.stateMachineArn('orders')}:${qualifier}`);
      return (await machines.waitForExecution(executionArn)).output;
    };
    expect([await run('live'), await run('pinned')]).toEqual(['2', '1']);
    // A split between two versions.
    const split = config(2);
    split.stateMachines!.orders!.aliases = { live: { routing: [{ version: 1, weight: 50 }, { version: 'latest', weight: 50 }] } };
    expect(actions(await apply(split)).at(-1)).toBe('state machine alias orders:live updated');
    expect((await machines.versions.describeAlias(`${machines.stateMachineArn('orders')}:live`)).routingConfiguration.map((r) => r.weight)).toEqual([50, 50]);
    // 'latest' needs publish; an alias needs exactly one of version and routing.
    expect(() => validateConfig({ stateMachines: { x: { definition: pass, aliases: { a: { version: 'latest' } } } } }, 'test')).toThrow(/needs publish: true/);
    expect(() => validateConfig({ stateMachines: { x: { definition: pass, aliases: { a: {} } } } }, 'test')).toThrow(/exactly one of version and routing/);
  });

  it('refuses an invalid definition before anything is applied, naming its config path and location', async () => {
    const error = (await apply({
      queues: { q: {} },
      stateMachines: { bad: { definition: { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } } } },
    }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("stateMachines.bad.definition: MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next");
    expect(await sluice.queues.list()).toEqual([]);
    expect(() => validateConfig({ stateMachines: { x: {} } }, 'test')).toThrow(/exactly one of definition and definitionFile/);
  });
});
