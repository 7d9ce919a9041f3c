/** `sluice apply`'s plan as a pure function of the stored and the declared mappings. */
import { describe, expect, it } from 'vitest';
import { planFunctions, planMappings, type DeclaredFunction, type DeclaredMapping, type MappingDefinition } from './apply-plan.js';

const FILE = '/srv/sluice.config.ts';
const queueMapping = (queue: string, extra: object = {}): DeclaredMapping => ({ source: 'queue', input: { queue, functionName: 'work', ...extra } });
const stored = (uuid: string, declared: DeclaredMapping, managedBy?: string) => ({
  uuid,
  definition: { ...declared, input: { ...declared.input, uuid }, ...(managedBy ? { managedBy } : {}) } as MappingDefinition,
});
const actions = (steps: ReturnType<typeof planMappings>) => steps.map((s) => `${s.action} ${s.mapping}${s.uuid ? ` ${s.uuid}` : ''}`);

describe('the apply plan', () => {
  it('creates what the catalog lacks, matching queues given by ARN or name', () => {
    const plan = planMappings({ source: FILE, prune: false, declared: [queueMapping('jobs'), queueMapping('arn:aws:sqs:us-east-1:000000000000:mail')], stored: [] });
    expect(actions(plan)).toEqual(['create jobs -> work', 'create mail -> work']);
  });

  it('leaves an unchanged mapping alone whatever the key order, and updates one that differs or another file applied', () => {
    const plan = planMappings({
      source: FILE,
      prune: false,
      declared: [queueMapping('a', { batchSize: 5, filterCriteria: { Filters: [{ Pattern: '{}' }] } }), queueMapping('b', { batchSize: 6 }), queueMapping('c')],
      stored: [
        stored('u-a', queueMapping('a', { filterCriteria: { Filters: [{ Pattern: '{}' }] }, batchSize: 5 }), FILE),
        stored('u-b', queueMapping('b', { batchSize: 5 }), FILE),
        stored('u-c', queueMapping('c')),
      ],
    });
    expect(actions(plan)).toEqual(['unchanged a -> work u-a', 'update b -> work u-b', 'update c -> work u-c']);
  });

  it('keeps, or with prune deletes, only the mappings this file applied and no longer declares', () => {
    const storedMappings = [stored('u-old', queueMapping('old'), FILE), stored('u-api', queueMapping('api')), stored('u-other', queueMapping('other'), '/elsewhere.yaml')];
    expect(actions(planMappings({ source: FILE, prune: false, declared: [], stored: storedMappings }))).toEqual(['keep old -> work u-old']);
    expect(actions(planMappings({ source: FILE, prune: true, declared: [], stored: storedMappings }))).toEqual(['delete old -> work u-old']);
  });
});

describe('the apply plan for functions', () => {
  const settings = (name: string, fields: Partial<DeclaredFunction> = {}): DeclaredFunction => ({ name, reservedConcurrency: null, ...fields });

  it('shows each changed field of a function with its old and new value, and compares only what the file declares', () => {
    const plan = planFunctions({
      source: FILE,
      prune: false,
      declared: [settings('a', { timeout: 30, environment: { B: '2', A: '1' } }), settings('b', { memorySize: 512 }), settings('c', { timeout: 5 })],
      stored: [
        { ...settings('a', { timeout: 10, environment: { A: '1', B: '2' }, memorySize: 256 }), managedBy: FILE, createdThroughApi: false },
        { ...settings('b', { memorySize: 512, timeout: 7 }), managedBy: FILE, createdThroughApi: false },
      ],
    });
    expect(plan).toEqual([
      { action: 'update', function: 'a', reservedConcurrency: null, changes: { timeout: { from: 10, to: 30 } } },
      { action: 'unchanged', function: 'b', reservedConcurrency: null },
      { action: 'create', function: 'c', reservedConcurrency: null, changes: { reservedConcurrency: { to: null }, timeout: { to: 5 } } },
    ]);
  });

  it('keeps, or with prune deletes, the settings this file applied and no longer declares', () => {
    const stored = [{ ...settings('old', { timeout: 9 }), managedBy: FILE, createdThroughApi: false }, { ...settings('other'), managedBy: '/x.yaml', createdThroughApi: false }];
    expect(planFunctions({ source: FILE, prune: true, declared: [], stored })).toEqual([{ action: 'delete', function: 'old' }]);
  });
});

describe('the apply plan shows a mapping’s diff', () => {
  it('names each declared field that changed', () => {
    const plan = planMappings({ source: FILE, prune: false, declared: [queueMapping('b', { batchSize: 6 })], stored: [stored('u-b', queueMapping('b', { batchSize: 5 }), FILE)] });
    expect(plan[0]?.changes).toEqual({ batchSize: { from: 5, to: 6 } });
  });
});
