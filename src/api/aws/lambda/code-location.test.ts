/**
 * Code.Location signatures across a key rotation: a URL signed with the key before stays valid until it
 * expires; the retired key cannot sign one that outlives its retirement by more than a URL's validity.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CodeLocations } from './code-location.js';
import type { SigningKeys } from '../../../catalog/signing-keys.js';
import { rotatedSecret, signingKeysOf, newSecret, RETIRED_KEY_KEPT_MS } from '../../../catalog/signing-keys.js';

const sha = 'ab'.repeat(32);
const parts = (url: string) => {
  const parsed = new URL(url);
  return [Number(parsed.searchParams.get('expires')), parsed.searchParams.get('signature') ?? ''] as const;
};

describe('Code.Location signing keys', () => {
  it('accepts a URL signed before a rotation until it expires, and new URLs with the new key only', async () => {
    let now = 1_700_000_000_000;
    const old = randomBytes(32);
    const fresh = randomBytes(32);
    let keys: SigningKeys = { current: old, createdAt: now, previous: [] };
    const locations = new CodeLocations(() => now, async () => keys);
    await locations.ready();
    const before = parts(locations.url('http://node', 'fn', sha));

    now += 60_000;
    keys = { current: fresh, createdAt: now, previous: [{ key: old, retiredAt: now }] };
    await locations.ready();
    expect(locations.valid('fn', sha, ...before)).toBe(true);
    const after = parts(locations.url('http://node', 'fn', sha));
    expect(after[1]).not.toBe(before[1]);
    expect(locations.valid('fn', sha, ...after)).toBe(true);

    // A node that has not read the rotation yet refuses the new key's URL; it accepts once it reads again.
    const stale = new CodeLocations(() => now, async () => ({ current: old, createdAt: 0, previous: [] }));
    await stale.ready();
    expect(stale.valid('fn', sha, ...after)).toBe(false);

    // Expired: refused, whatever the key.
    now += 600_000;
    expect(locations.valid('fn', sha, ...before)).toBe(false);
    // Signed with the retired key after its retirement, for longer than a URL lives: refused.
    const signer = new CodeLocations(() => now, async () => ({ current: old, createdAt: 0, previous: [] }));
    await signer.ready();
    expect(locations.valid('fn', sha, ...parts(signer.url('http://node', 'fn', sha)))).toBe(false);
    // And the new key's URL is still good.
    expect(locations.valid('fn', sha, ...after)).toBe(true);
  });

  it('keeps a retired key in the entry for a URL lifetime and margin, then drops it at the next rotation', () => {
    const t0 = 1_700_000_000_000;
    const first = newSecret(t0);
    const second = rotatedSecret(first, t0 + 1000);
    expect(second.previous?.map((retired) => retired.key)).toEqual([first.key]);
    const third = rotatedSecret(second, t0 + 2000);
    expect(third.previous?.map((retired) => retired.key)).toEqual([second.key, first.key]);
    const later = rotatedSecret(third, t0 + 2000 + RETIRED_KEY_KEPT_MS);
    expect(later.previous?.map((retired) => retired.key)).toEqual([third.key]);
    expect(signingKeysOf(later, 0)).toMatchObject({ createdAt: t0 + 2000 + RETIRED_KEY_KEPT_MS, previous: [{ retiredAt: t0 + 2000 + RETIRED_KEY_KEPT_MS }] });
  });
});
