/**
 * The README's first command: a short tour of Sluice's queues on the embedded default (a SQLite file in
 * the working directory, no infrastructure). It creates a queue with a dead-letter queue, sends,
 * receives, deletes, lets a poison message fail its way to the dead-letter queue, and long-polls.
 */
import { Sluice } from '../index.js';

const storeUrl = process.env.SLUICE_STORE ?? 'sqlite:./sluice-demo.db';

function log(step: string, detail?: unknown): void {
  console.log(`- ${step}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
}

async function main(): Promise<void> {
  const sluice = await Sluice.open({ store: storeUrl });
  const q = sluice.queues;
  console.log(`Sluice demo on ${storeUrl}\n`);
  try {
    for (const name of await q.list('demo-')) await q.delete(name).catch(() => undefined);
    const suffix = Date.now().toString(36);
    const dlq = await q.create(`demo-orders-dlq-${suffix}`);
    const orders = `demo-orders-${suffix}`;
    await q.create(orders, { VisibilityTimeout: 1, RedrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 } });
    log('created queue', `${orders} (visibility 1 s, dead-letter queue ${dlq.name} after 2 receives)`);

    const sent = await q.sendBatch(
      orders,
      ['apples', 'pears', 'poison'].map((item, i) => ({
        id: `order-${i}`,
        body: JSON.stringify({ item }),
        messageAttributes: { priority: { dataType: 'Number', stringValue: String(i) } },
      })),
    );
    log('sent a batch', sent.successful.map((s) => `${s.id} -> ${s.messageId.slice(0, 8)}`).join(', '));

    for (let round = 1; round <= 3; round++) {
      const messages = await q.receive(orders, { maxNumberOfMessages: 10, waitTimeSeconds: 2 });
      for (const message of messages) {
        const { item } = JSON.parse(message.body) as { item: string };
        if (item === 'poison') {
          log(`round ${round}: handler failed`, `${item} (receive #${message.attributes.ApproximateReceiveCount}); it will come back`);
          continue;
        }
        await q.deleteMessage(orders, message.receiptHandle);
        log(`round ${round}: processed and deleted`, item);
      }
      if (messages.length === 0) log(`round ${round}: nothing left to receive`);
    }
    const [dead] = await q.receive(dlq.name, { waitTimeSeconds: 1 });
    log('dead-letter queue holds', dead ? `${dead.body} from ${dead.attributes.DeadLetterQueueSourceArn}` : 'nothing');

    const started = performance.now();
    const waiting = q.receive(orders, { waitTimeSeconds: 20 });
    setTimeout(() => void q.send(orders, { body: 'late order' }), 200);
    const [late] = await waiting;
    log('a long poll woke on send', `${late?.body} after ${(performance.now() - started).toFixed(0)} ms (no polling in between)`);
    log('queue counts', await q.counts(orders));

    console.log('\nNext: read README.md for the library API, run `npm test`, or `npm run bench` for throughput figures.');
  } finally {
    await sluice.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
