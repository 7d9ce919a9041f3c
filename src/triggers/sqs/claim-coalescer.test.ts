import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../model/clock.js';
import type { ClaimedMessage, ReceiptRef, ReceiveOutcome } from '../../store/queue-store.js';
import { AHEAD_HOLD_MS, AHEAD_MAX_BATCH_MS, AHEAD_MAX_BATCHES, ClaimCoalescer } from './claim-coalescer.js';

/** Batches held per poller when batches take 1 ms, as the tests below report. */
const AHEAD_BATCHES = Math.min(AHEAD_MAX_BATCHES, AHEAD_HOLD_MS);

const queue = { id: 1, settings: { VisibilityTimeout: 30 } };
type Q = typeof queue;

function message(seq: number): ClaimedMessage {
  return {
    seq,
    messageId: `m${seq}`,
    body: `b${seq}`,
    messageAttributes: null,
    groupId: null,
    deduplicationId: null,
    sentAt: 0,
    firstReceivedAt: 0,
    receiveCount: 1,
    deadLetterSource: null,
  };
}

/** A queue of `backlog` messages in seq order, claimed by a fake store call that records each claim. */
function fakeQueue(backlog: number) {
  let next = 1;
  const claims: number[] = [];
  const handedBack: ReceiptRef[] = [];
  const errors: unknown[] = [];
  let tokens = 0;
  const clock = new ManualClock();
  const coalescer = new ClaimCoalescer<Q>({
    claimAll: async (_queue, maxMessages): Promise<ReceiveOutcome> => {
      claims.push(maxMessages);
      const messages: ClaimedMessage[] = [];
      while (messages.length < maxMessages && next <= backlog) messages.push(message(next++));
      return { messages, deadLettered: 0, nextVisibleAt: messages.length === 0 ? 12345 : null };
    },
    handBack: async (_queue, receipts) => {
      handedBack.push(...receipts);
    },
    newReceiptToken: () => `token${++tokens}`,
    clock,
    onError: (error) => errors.push(error),
  });
  return { coalescer, claims, handedBack, errors, clock };
}

const seqs = (share: { messages: ClaimedMessage[] }) => share.messages.map((m) => m.seq);
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ClaimCoalescer', () => {
  it('claims at once for a lone caller, and with one store call for those who asked meanwhile, in claim order', async () => {
    const { coalescer, claims } = fakeQueue(100);
    const shares = await Promise.all([
      coalescer.take(queue, 1, 16),
      coalescer.take(queue, 3, 16),
      coalescer.take(queue, 2, 16),
    ]);
    expect(claims).toEqual([1, 5]);
    expect(shares.map(seqs)).toEqual([[1], [2, 3, 4], [5, 6]]);
    expect(shares[1]!.receiptToken).toBe(shares[2]!.receiptToken);
  });

  it('claims nothing ahead before it knows the batches are fast', async () => {
    const { coalescer, claims } = fakeQueue(100);
    await coalescer.take(queue, 1, 16);
    await coalescer.take(queue, 1, 16);
    expect(claims).toEqual([1, 1]);
  });

  it('gives what there is and then nothing, with the next visible instant, when the queue runs short', async () => {
    const { coalescer } = fakeQueue(3);
    const shares = await Promise.all([
      coalescer.take(queue, 2, 16),
      coalescer.take(queue, 2, 16),
      coalescer.take(queue, 2, 16),
    ]);
    expect(shares.map(seqs)).toEqual([[1, 2], [3], []]);
    const empty = await Promise.all([coalescer.take(queue, 2, 16), coalescer.take(queue, 2, 16)]);
    expect(empty.map((share) => [seqs(share), share.nextVisibleAt])).toEqual([
      [[], 12345],
      [[], 12345],
    ]);
  });

  it('claims up to the capacity ahead while batches are fast, and hands every message out once', async () => {
    const { coalescer, claims } = fakeQueue(1000);
    coalescer.noteBatchDuration(1);
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) {
      const share = await coalescer.take(queue, 2, 8);
      seen.push(...seqs(share));
      await turn();
    }
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    // Held ahead: never more than AHEAD_BATCHES times the capacity beyond what was asked.
    expect(Math.max(...claims)).toBeLessThanOrEqual(2 + 8 * AHEAD_BATCHES);
    expect(claims.length).toBeLessThan(40);
  });

  it('stops claiming ahead when batches are slow, or slow for the visibility timeout', async () => {
    const { coalescer, claims } = fakeQueue(1000);
    coalescer.noteBatchDuration(AHEAD_MAX_BATCH_MS * 4);
    await coalescer.take(queue, 1, 16);
    expect(claims).toEqual([1]);
    const shortVisibility = { id: 2, settings: { VisibilityTimeout: 0 } };
    const second = fakeQueue(1000);
    second.coalescer.noteBatchDuration(1);
    await second.coalescer.take(shortVisibility, 1, 16);
    expect(second.claims).toEqual([1]);
  });

  it('hands held messages back to the queue when they waited half their visibility timeout, not to a poller', async () => {
    const { coalescer, handedBack, clock } = fakeQueue(1000);
    coalescer.noteBatchDuration(1);
    const first = await coalescer.take(queue, 1, 4);
    expect(seqs(first)).toEqual([1]);
    await clock.advance(15_000);
    const next = await coalescer.take(queue, 1, 4);
    const held = 4 * AHEAD_BATCHES;
    expect(handedBack.map((r) => r.seq)).toEqual(Array.from({ length: held }, (_, i) => i + 2));
    expect(seqs(next)).toEqual([held + 2]);
    await coalescer.settled();
  });

  it('hands every held message back when the trigger pauses', async () => {
    const { coalescer, handedBack } = fakeQueue(1000);
    coalescer.noteBatchDuration(1);
    await coalescer.take(queue, 1, 4);
    coalescer.handBackAll();
    await coalescer.settled();
    expect(handedBack.map((r) => r.seq)).toEqual(Array.from({ length: 4 * AHEAD_BATCHES }, (_, i) => i + 2));
    expect(handedBack.every((r) => r.token === 'token1')).toBe(true);
  });

  it('asks for no more paced messages than its waiting callers take, and deals those first, never holding one', async () => {
    const asked: Array<[number, number]> = [];
    let next = 1;
    const clock = new ManualClock();
    const coalescer = new ClaimCoalescer<Q>({
      // A grouped store: every third message from a group with a rate limit, up to pacedMax of them.
      claimAll: async (_queue, maxMessages, _token, pacedMax): Promise<ReceiveOutcome> => {
        asked.push([maxMessages, pacedMax]);
        const messages: ClaimedMessage[] = [];
        let paced = 0;
        while (messages.length < maxMessages) {
          const m = message(next++);
          if (m.seq % 3 === 0) {
            if (paced >= pacedMax) continue;
            paced++;
            m.paced = true;
          }
          messages.push(m);
        }
        return { messages, deadLettered: 0, nextVisibleAt: null };
      },
      handBack: async () => undefined,
      newReceiptToken: () => `t${next}`,
      clock,
      onError: () => undefined,
    });
    coalescer.noteBatchDuration(1);
    const first = await coalescer.take(queue, 1, 4);
    // Alone, it asked for 1 and 4 * AHEAD_BATCHES ahead; at most 1 paced, handed to it.
    expect(asked[0]).toEqual([1 + 4 * AHEAD_BATCHES, 1]);
    expect(first.messages.map((m) => m.seq)).toEqual([3]);
    const later: ClaimedMessage[] = [];
    for (let i = 0; i < 4 * AHEAD_BATCHES; i++) later.push(...(await coalescer.take(queue, 1, 4)).messages);
    // What was held had nothing paced; it went out in claim order.
    expect(later.slice(0, 4).map((m) => [m.seq, m.paced ?? false])).toEqual([
      [1, false],
      [2, false],
      [4, false],
      [5, false],
    ]);
    // Claims made with nobody waiting (ahead only) ask for no paced message at all.
    expect(asked.slice(1).every(([, pacedMax]) => pacedMax <= 1)).toBe(true);
  });

  it('rejects every caller of a claim that fails, and the next turn starts clean', async () => {
    let fail = true;
    const clock = new ManualClock();
    const coalescer = new ClaimCoalescer<Q>({
      claimAll: async () => {
        if (fail) throw new Error('connection terminated');
        return { messages: [message(1)], deadLettered: 0, nextVisibleAt: null };
      },
      handBack: async () => undefined,
      newReceiptToken: () => 't',
      clock,
      onError: () => undefined,
    });
    const results = await Promise.allSettled([coalescer.take(queue, 1, 4), coalescer.take(queue, 1, 4)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(seqs(await coalescer.take(queue, 1, 4))).toEqual([1]);
  });
});
