import { runConformance } from '../conformance/index.js';
import { describePostgres, openTestStore } from './test-database.js';

describePostgres('postgres store conformance', () => {
  runConformance({ name: 'postgres', open: () => openTestStore() });
});
