import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairShare } from './fair-share.js';

describe('fair share of a group of leases', () => {
  it('adds up to the number of resources, and no node gets more than ceil(n / N)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 9 }),
        fc.string(),
        fc.nat(200),
        (nodes, group, resources) => {
          const sorted = [...nodes].sort();
          const shares = sorted.map((self) => fairShare({ nodes: sorted, self, group, resources }));
          expect(shares.reduce((a, b) => a + b, 0)).toBe(resources);
          for (const share of shares) expect(share).toBeLessThanOrEqual(Math.ceil(resources / sorted.length));
        },
      ),
    );
  });

  it('gives nothing to a node that is not in the list', () => {
    expect(fairShare({ nodes: ['a', 'b'], self: 'c', group: 'g', resources: 4 })).toBe(0);
  });

  it('spreads the remainders of many groups over every node', () => {
    const nodes = ['a', 'b', 'c'];
    const totals = nodes.map((self) =>
      Array.from({ length: 60 }, (_, i) =>
        fairShare({ nodes, self, group: `trigger-${i}`, resources: 4 }),
      ).reduce((a, b) => a + b, 0),
    );
    expect(totals.reduce((a, b) => a + b, 0)).toBe(240);
    for (const total of totals) expect(total).toBeGreaterThan(60); // each got some of the 60 extra shards
  });
});
