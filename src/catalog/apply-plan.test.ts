/** `sluice apply`'s plan as a pure function of the stored and the declared mappings. */
import { describe, expect, it } from 'vitest';
import { planMappings, type DeclaredMapping, type MappingDefinition } from './apply-plan.js';

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
