// A CommonJS consumer (package.json without "type", as `npm init -y` makes it).
const assert = require('node:assert');
const sluiceModule = require('sluice');
const { Sluice } = sluiceModule;

async function main() {
  assert.strictEqual(typeof Sluice.open, 'function');
  // require and import share one module instance (no dual-package hazard).
  const imported = await import('sluice');
  assert.strictEqual(imported.Sluice, Sluice);
  const sluice = await Sluice.open({ store: 'sqlite::memory:' });
  await sluice.queues.create('jobs');
  await sluice.queues.send('jobs', { body: 'hello' });
  const [message] = await sluice.queues.receive('jobs', { waitTimeSeconds: 1 });
  assert.strictEqual(message.body, 'hello');
  await sluice.close();
  console.log('cjs ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
