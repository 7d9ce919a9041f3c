/**
 * What the demo's handlers did, kept in the process so the demo can show it (the handlers run
 * in-process). Real handlers would write to a table or call a service instead.
 */
export interface DemoLog {
  orders: string[];
  failedOrders: string[];
  tasks: Record<string, string[]>;
  jobs: Record<string, number[]>;
}

export function demoLog(): DemoLog {
  const holder = globalThis as { __sluiceDemoLog?: DemoLog };
  holder.__sluiceDemoLog ??= { orders: [], failedOrders: [], tasks: {}, jobs: {} };
  return holder.__sluiceDemoLog;
}
