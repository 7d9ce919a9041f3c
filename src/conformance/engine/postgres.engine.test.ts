import { runEngineSuite } from './index.js';
import { describePostgres, openTestStore } from '../../testkit/postgres.js';

describePostgres('postgres engine suite', () => {
  runEngineSuite({ name: 'postgres', open: () => openTestStore() });
});
