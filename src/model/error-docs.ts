/** Renders the error catalog as the Markdown reference in docs/reference/errors.md. */
import { errorCatalog } from './errors.js';

export function renderErrorReference(): string {
  const rows = Object.entries(errorCatalog)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, entry]) => {
      const legacy = 'legacy' in entry ? `\`${entry.legacy}\`` : '';
      return `| \`${code}\` | ${entry.status} | ${entry.sender ? 'sender' : 'service'} | ${legacy} | ${entry.description} |`;
    });
  return [
    '# Errors',
    '',
    'Every error Sluice reports on purpose is a `SluiceError` with one of these codes in `error.code`, the',
    'offending input field in `error.field`, and a message naming the field and the limit. Over HTTP the',
    'status is the one below; AWS-protocol endpoints also send the legacy code SDKs read. This file is',
    'generated from `src/model/errors.ts` (`npm run docs:errors`); a test keeps the two identical.',
    '',
    '| code | HTTP status | fault | legacy (query protocol) code | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
