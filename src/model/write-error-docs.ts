import { writeFileSync } from 'node:fs';
import { renderErrorReference } from './error-docs.js';

writeFileSync(new URL('../../docs/reference/errors.md', import.meta.url), renderErrorReference());
