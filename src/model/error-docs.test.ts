import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErrorReference } from './error-docs.js';

describe('the error reference', () => {
  it('matches the error catalog (regenerate with npm run docs:errors)', () => {
    const documented = readFileSync(new URL('../../docs/reference/errors.md', import.meta.url), 'utf8');
    expect(documented).toBe(renderErrorReference());
  });
});
