// A consumer's TypeScript app compiled to CommonJS: `import` becomes require('sluice').
import { Sluice } from 'sluice';
import type { SQSEvent } from 'sluice';

export async function start(): Promise<void> {
  const sluice = await Sluice.open({ store: 'sqlite::memory:' });
  await sluice.functions.create({ name: 'count', handler: async (event: SQSEvent) => event.Records.length });
  await sluice.close();
}
