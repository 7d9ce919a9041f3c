// A consumer's ES module: a queue feeding a function through a trigger, a table's stream feeding another,
// then close(); the process must then exit by itself (nothing left holding the event loop).
import { Sluice, SluiceError } from 'sluice';

const sluice = await Sluice.open({ store: 'sqlite::memory:' });
const received = [];
let allReceived;
const done = new Promise((resolve) => (allReceived = resolve));
await sluice.queues.create('orders');
await sluice.functions.create({
  name: 'process',
  handler: async (event) => {
    for (const record of event.Records) received.push(JSON.parse(record.body).id);
    if (received.length === 3) allReceived();
    return { batchItemFailures: [] };
  },
});
await sluice.triggers.create({ queue: 'orders', functionName: 'process', batchSize: 10 });
for (const id of [1, 2, 3]) await sluice.queues.send('orders', { body: JSON.stringify({ id }) });
await done;

const changes = [];
let changed;
const streamed = new Promise((resolve) => (changed = resolve));
await sluice.tables.createTable({ name: 'tasks', partitionKey: { name: 'pk', type: 'S' }, stream: { viewType: 'NEW_IMAGE' } });
await sluice.functions.create({
  name: 'onChange',
  handler: async (event) => {
    for (const record of event.Records) changes.push(record.dynamodb.NewImage.pk.S);
    changed();
  },
});
await sluice.streamTriggers.create({ stream: 'tasks', functionName: 'onChange', startingPosition: 'TRIM_HORIZON' });
await sluice.tables.putItem({ tableName: 'tasks', item: { pk: 'task-1' } });
await streamed;

// A worker-thread function and a schedule hold handles (a thread, a timer) until close() releases them.
await sluice.functions.create({ name: 'double', handler: './worker-handler.mjs#handler', baseDir: import.meta.dirname });
const invoked = await sluice.functions.invoke('double', { n: 21 });
await sluice.schedules.create({ name: 'hourly', expression: 'rate(1 hour)', target: { queue: 'orders' } });

let code;
try {
  await sluice.queues.send('missing', { body: 'x' });
} catch (error) {
  code = error instanceof SluiceError ? error.code : String(error);
}
await sluice.close();
if (received.sort().join() !== '1,2,3' || changes.join() !== 'task-1' || code !== 'QueueDoesNotExist' || invoked.payload?.doubled !== 42) {
  console.error('unexpected', { received, changes, code, invoked });
  process.exit(1);
}
console.log('esm ok');
