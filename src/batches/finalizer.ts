/**
 * Delivers a batch's finalizer: the outbox handler of the `batch-finalizer` topic. The decision to
 * finalize was taken once, by the store's compare-and-set, and the entry was written in that same
 * transaction; here it only travels to its target (a function gets the summary as its event, a queue
 * gets it as a JSON body). A batch without a finalizer has an entry too, with no target: nothing to do.
 */
import { deliverToTarget, type DeliveryDeps } from '../schedules/deliver.js';
import type { OutboxEntry } from '../store/outbox-store.js';
import type { FinalizerDelivery } from '../store/rules/batch-finalizer.js';

export async function deliverFinalizer(deps: DeliveryDeps, entry: OutboxEntry): Promise<void> {
  const delivery = JSON.parse(entry.payload) as FinalizerDelivery;
  if (!delivery.target) return;
  await deliverToTarget(deps, delivery.target, delivery.summary, entry.key);
}
