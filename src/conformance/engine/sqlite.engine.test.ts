import { runEngineSuite } from './index.js';
import { createSqliteStore } from '../../store/sqlite/store.js';

runEngineSuite({ name: 'sqlite', open: async () => createSqliteStore({ path: ':memory:' }) });
