/**
 * The native API's route modules, one per feature. To add a feature's routes, write its module beside
 * queues.ts (schemas in schemas/<feature>.ts, shapes in docs/http-api.md) and list it here.
 */
import { batchRoutes } from './batches.js';
import { catalogRoutes } from './catalog.js';
import { functionRoutes } from './functions.js';
import { groupRoutes } from './groups.js';
import { metricsRoutes } from './metrics.js';
import { queueRoutes } from './queues.js';
import type { NativeRouteModule } from './route-module.js';
import { scheduleRoutes } from './schedules.js';
import { tableRoutes } from './tables.js';
import { stateMachineRoutes } from './state-machines.js';
import { stateMachineVersionRoutes } from './state-machine-versions.js';
import { taskRoutes } from './tasks.js';

export const nativeRouteModules: readonly NativeRouteModule[] = [
  queueRoutes,
  groupRoutes,
  functionRoutes,
  metricsRoutes,
  tableRoutes,
  stateMachineRoutes,
  stateMachineVersionRoutes,
  scheduleRoutes,
  batchRoutes,
  taskRoutes,
  catalogRoutes,
];
