/**
 * A shared signing key with rotation (catalog kind `secret`; GetFunction's Code.Location signs with one).
 * The entry holds the current key, when it was made, and the keys it replaced with when they were
 * retired: a URL signed with a retired key stays valid until it expires (10 minutes after it was signed,
 * so at most that long after the key's retirement), and a retired key is dropped from the entry at the
 * next rotation once RETIRED_KEY_KEPT_MS have passed. Keys are base64 in the JSON document.
 */
import { randomBytes } from 'node:crypto';

/** The catalog `secret` entry GetFunction's Code.Location signs with. */
export const CODE_KEY_SECRET = 'code-location';

/** How long a retired key is kept: Code.Location's 10 minutes, and margin for clocks and a signer's race. */
export const RETIRED_KEY_KEPT_MS = 15 * 60_000;

export interface SecretDefinition {
  key: string;
  /** When the key was made; absent on entries from before rotation (their modifiedAt then). */
  createdAt?: number;
  previous?: Array<{ key: string; retiredAt: number }>;
}

export interface SigningKeys {
  current: Buffer;
  createdAt: number;
  /** Retired keys, newest first, with when each was retired. */
  previous: Array<{ key: Buffer; retiredAt: number }>;
}

export function newSecret(now: number): SecretDefinition {
  return { key: randomBytes(32).toString('base64'), createdAt: now };
}

/** The definition after a rotation at `now`: a new key; the current one retired; long-retired ones dropped. */
export function rotatedSecret(current: SecretDefinition, now: number): SecretDefinition {
  const kept = (current.previous ?? []).filter((retired) => retired.retiredAt > now - RETIRED_KEY_KEPT_MS);
  return { ...newSecret(now), previous: [{ key: current.key, retiredAt: now }, ...kept] };
}

export function signingKeysOf(definition: SecretDefinition, modifiedAt: number): SigningKeys {
  return {
    current: Buffer.from(definition.key, 'base64'),
    createdAt: definition.createdAt ?? modifiedAt,
    previous: (definition.previous ?? []).map((retired) => ({ key: Buffer.from(retired.key, 'base64'), retiredAt: retired.retiredAt })),
  };
}
