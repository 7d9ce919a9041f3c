import { runConformance } from './index.js';
import { describePostgres, openTestStore } from '../testkit/postgres.js';

describePostgres('postgres store conformance', () => {
  runConformance({ name: 'postgres', open: () => openTestStore() });
});
