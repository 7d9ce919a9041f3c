import { describe, expect, it } from 'vitest';
import { signingKey } from './sigv4-signing-key.js';

const scope = { accessKeyId: 'AKIDEXAMPLE', scopeDate: '20150830', region: 'us-east-1', service: 'iam' };

describe('signingKey', () => {
  it("derives AWS's documented example key", () => {
    const key = signingKey({ ...scope, secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
    expect(key.toString('hex')).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });

  it('answers the same key again from its cache', () => {
    const first = signingKey({ ...scope, secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
    expect(signingKey({ ...scope, secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' })).toBe(first);
  });

  it('never answers a key derived from another secret for the same access key and scope', () => {
    const original = signingKey({ ...scope, secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
    const rotated = signingKey({ ...scope, secret: 'a-rotated-secret-key' });
    expect(rotated.equals(original)).toBe(false);
    expect(
      signingKey({ ...scope, secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }).equals(original),
    ).toBe(true);
  });

  it('keeps scopes apart', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    const sqs = signingKey({ ...scope, service: 'sqs', secret });
    expect(sqs.equals(signingKey({ ...scope, service: 'states', secret }))).toBe(false);
    expect(sqs.equals(signingKey({ ...scope, service: 'sqs', region: 'eu-west-1', secret }))).toBe(false);
    expect(sqs.equals(signingKey({ ...scope, service: 'sqs', scopeDate: '20150831', secret }))).toBe(false);
  });
});
