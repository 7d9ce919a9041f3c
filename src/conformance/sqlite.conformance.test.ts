import { runConformance } from './index.js';
import { createSqliteStore } from '../store/sqlite/store.js';

runConformance({ name: 'sqlite', open: async () => createSqliteStore({ path: ':memory:' }) });
