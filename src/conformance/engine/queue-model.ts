/**
 * A property test: random sequences of send, receive, delete, change-visibility and clock advances are
 * run against the engine and against a small model of what SQS promises. After every receive and at the
 * end, the engine must agree with the model: no acknowledged send lost, a deleted message never back,
 * FIFO order within a group, receive counts exact, dead-lettering only past maxReceiveCount.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../queues/types.js';
import { useEngine, type BackendUnderTest } from './harness.js';

const MAX_RECEIVE_COUNT = 3;

type Action =
  | { kind: 'send'; group: number; delay: number }
  | { kind: 'receive'; max: number; visibility: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'changeVisibility'; pick: number; seconds: number }
  | { kind: 'advance'; seconds: number };

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), group: fc.integer({ min: 0, max: 3 }), delay: fc.constantFrom(0, 0, 0, 5) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('receive' as const), max: fc.integer({ min: 1, max: 10 }), visibility: fc.constantFrom(0, 5, 30) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('changeVisibility' as const), pick: fc.nat(), seconds: fc.constantFrom(0, 10) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.constantFrom(1, 5, 31) }) },
);

interface ModelMessage {
  body: string;
  group: string;
  order: number;
  visibleAt: number;
  receiveCount: number;
  currentHandle: string | null;
  deleted: boolean;
  /**
   * Whether the message went to the dead-letter queue. A visible message past maxReceiveCount is moved by
   * the next receive that reaches it, which the caller cannot always observe: 'maybe' until proven.
   */
  moved: 'no' | 'maybe' | 'yes';
  /** Deleted with its current handle while possibly already moved: gone from the source either way. */
  deleteUncertain: boolean;
}

interface Receipt {
  body: string;
  handle: string;
}

export function queueModelConformance(backend: BackendUnderTest, runs = 60): void {
  describe(`queue behaviour against a reference model [${backend.name}]`, () => {
    const t = useEngine(backend);
    let queueCounter = 0;

    async function runScenario(fifo: boolean, actions: Action[]): Promise<void> {
      const q = t.sluice.queues;
      const id = queueCounter++;
      const name = fifo ? `model-${id}.fifo` : `model-${id}`;
      const dlq = fifo ? `model-${id}-dlq.fifo` : `model-${id}-dlq`;
      await q.create(dlq);
      await q.create(name, {
        ...(fifo ? { ContentBasedDeduplication: true } : {}),
        RedrivePolicy: { deadLetterTargetArn: q.arnOf(dlq), maxReceiveCount: MAX_RECEIVE_COUNT },
      });
      const messages = new Map<string, ModelMessage>();
      const receipts: Receipt[] = [];
      let sent = 0;
      const now = () => t.clock.now();
      const eligibleForDlq = (m: ModelMessage) => m.receiveCount >= MAX_RECEIVE_COUNT;
      const inSource = (m: ModelMessage) => !m.deleted && !m.deleteUncertain && m.moved !== 'yes';
      const deliverable = (m: ModelMessage) => inSource(m) && m.moved === 'no';

      function checkReceive(batch: ReceivedMessage[], max: number, visibility: number): void {
        expect(batch.length).toBeLessThanOrEqual(max);
        const returned = new Set(batch.map((m) => m.body));
        for (const message of batch) {
          const model = messages.get(message.body);
          expect(model, `unknown message ${message.body}`).toBeDefined();
          expect(deliverable(model!), `${message.body} was deleted or dead-lettered yet delivered`).toBe(true);
          expect(model!.visibleAt, `${message.body} delivered while invisible`).toBeLessThanOrEqual(now());
          expect(eligibleForDlq(model!), `${message.body} delivered past maxReceiveCount`).toBe(false);
          expect(message.attributes.ApproximateReceiveCount).toBe(String(model!.receiveCount + 1));
        }
        if (fifo) {
          const byGroup = new Map<string, ModelMessage[]>();
          for (const m of messages.values()) if (inSource(m)) byGroup.set(m.group, [...(byGroup.get(m.group) ?? []), m]);
          for (const [group, members] of byGroup) {
            members.sort((a, b) => a.order - b.order);
            const delivered = batch.filter((m) => m.attributes.MessageGroupId === group).map((m) => m.body);
            if (delivered.length === 0) continue;
            // Everything before the first delivered message must have been dead-lettered just now.
            const firstIndex = members.findIndex((m) => m.body === delivered[0]);
            for (const earlier of members.slice(0, firstIndex)) {
              expect(eligibleForDlq(earlier) && earlier.visibleAt <= now(), `group ${group} skipped ${earlier.body}`).toBe(true);
              earlier.moved = 'yes';
            }
            expect(delivered).toEqual(members.slice(firstIndex, firstIndex + delivered.length).map((m) => m.body));
            const blocked = members.some((m) => m.receiveCount > 0 && m.visibleAt > now());
            expect(blocked, `group ${group} delivered while a message was in flight`).toBe(false);
          }
        } else if (batch.length < max) {
          // A short batch means nothing else was available.
          for (const m of messages.values()) {
            if (deliverable(m) && m.visibleAt <= now() && !eligibleForDlq(m)) {
              expect(returned.has(m.body), `${m.body} was available but not delivered`).toBe(true);
            }
          }
        }
        // Visible messages past maxReceiveCount may have been moved during this receive.
        for (const m of messages.values()) {
          if (inSource(m) && m.moved === 'no' && eligibleForDlq(m) && m.visibleAt <= now()) m.moved = 'maybe';
        }
        for (const message of batch) {
          const model = messages.get(message.body)!;
          model.receiveCount++;
          model.visibleAt = now() + visibility * 1000;
          model.currentHandle = message.receiptHandle;
          receipts.push({ body: message.body, handle: message.receiptHandle });
        }
      }

      for (const action of actions) {
        switch (action.kind) {
          case 'send': {
            const body = `m${sent}`;
            const group = `g${action.group}`;
            messages.set(body, {
              body,
              group,
              order: sent++,
              visibleAt: now() + (fifo ? 0 : action.delay) * 1000,
              receiveCount: 0,
              currentHandle: null,
              deleted: false,
              moved: 'no',
              deleteUncertain: false,
            });
            await q.send(name, fifo ? { body, messageGroupId: group } : { body, delaySeconds: action.delay });
            break;
          }
          case 'receive': {
            const batch = await q.receive(name, { maxNumberOfMessages: action.max, visibilityTimeout: action.visibility });
            checkReceive(batch, action.max, action.visibility);
            break;
          }
          case 'delete': {
            if (receipts.length === 0) break;
            const receipt = receipts[action.pick % receipts.length]!;
            await q.deleteMessage(name, receipt.handle);
            const model = messages.get(receipt.body)!;
            if (model.currentHandle === receipt.handle) {
              if (model.moved === 'no') model.deleted = true;
              else if (model.moved === 'maybe') model.deleteUncertain = true;
            }
            break;
          }
          case 'changeVisibility': {
            if (receipts.length === 0) break;
            const receipt = receipts[action.pick % receipts.length]!;
            const model = messages.get(receipt.body)!;
            const inFlight = deliverable(model) && model.currentHandle === receipt.handle && model.visibleAt > now();
            const result = await q.changeMessageVisibilityBatch(name, [{ id: 'c', receiptHandle: receipt.handle, visibilityTimeout: action.seconds }]);
            expect(result.successful.length === 1, `visibility change of ${receipt.body} (in flight: ${inFlight})`).toBe(inFlight);
            if (inFlight) model.visibleAt = now() + action.seconds * 1000;
            break;
          }
          case 'advance':
            await t.clock.advance(action.seconds * 1000);
            break;
        }
      }

      // Drain both queues: every message not deleted is in exactly one of them; none came back from the dead.
      await t.clock.advance(60_000);
      const seen = new Map<string, string>();
      for (const [queue, label] of [
        [name, 'source'],
        [dlq, 'dlq'],
      ] as const) {
        for (;;) {
          const batch = await q.receive(queue, { maxNumberOfMessages: 10, visibilityTimeout: 3600 });
          if (batch.length === 0) break;
          for (const m of batch) {
            expect(seen.has(m.body), `${m.body} found twice`).toBe(false);
            seen.set(m.body, label);
          }
        }
      }
      for (const model of messages.values()) {
        if (model.deleted) {
          expect(seen.has(model.body), `deleted ${model.body} came back`).toBe(false);
        } else if (model.deleteUncertain) {
          expect(seen.get(model.body) ?? 'dlq', `${model.body} was deleted or dead-lettered, not both`).toBe('dlq');
        } else {
          expect(seen.has(model.body), `${model.body} was lost`).toBe(true);
          if (seen.get(model.body) === 'dlq') expect(model.receiveCount).toBeGreaterThanOrEqual(MAX_RECEIVE_COUNT);
        }
      }
    }

    it('standard queues agree with the model', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArbitrary, { minLength: 1, maxLength: 40 }), (actions) => runScenario(false, actions)),
        { numRuns: runs },
      );
    });

    it('FIFO queues agree with the model', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArbitrary, { minLength: 1, maxLength: 40 }), (actions) => runScenario(true, actions)),
        { numRuns: runs },
      );
    });
  });
}
