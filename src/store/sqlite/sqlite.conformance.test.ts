import { runConformance } from '../conformance/index.js';
import { createSqliteStore } from './store.js';

runConformance({ name: 'sqlite', open: async () => createSqliteStore({ path: ':memory:' }) });
