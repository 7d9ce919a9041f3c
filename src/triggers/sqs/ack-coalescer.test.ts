import { describe, expect, it } from 'vitest';
import type { ReceiptRef } from '../../store/queue-store.js';
import { AckCoalescer } from './ack-coalescer.js';

const receipt = (seq: number): ReceiptRef => ({ seq, token: `t${seq}` });

describe('AckCoalescer', () => {
  it('deletes the receipts handed in during one turn with one call, and settles every caller after it', async () => {
    const calls: Array<{ queue: number; seqs: number[] }> = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const coalescer = new AckCoalescer<{ id: number }>(async (queue, receipts) => {
      calls.push({ queue: queue.id, seqs: receipts.map((r) => r.seq) });
      await gate;
    });
    const settled: number[] = [];
    const first = coalescer.ack({ id: 1 }, [receipt(1), receipt(2)]).then(() => settled.push(1));
    const second = coalescer.ack({ id: 1 }, [receipt(3)]).then(() => settled.push(2));
    const other = coalescer.ack({ id: 7 }, [receipt(9)]).then(() => settled.push(7));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([
      { queue: 1, seqs: [1, 2, 3] },
      { queue: 7, seqs: [9] },
    ]);
    expect(settled).toEqual([]); // nobody is told "deleted" before the store call ends
    release();
    await Promise.all([first, second, other]);
    expect(settled.sort()).toEqual([1, 2, 7]);
  });

  it('starts a new call for receipts handed in after a flush', async () => {
    const calls: number[][] = [];
    const coalescer = new AckCoalescer<{ id: number }>(async (_queue, receipts) => {
      calls.push(receipts.map((r) => r.seq));
    });
    await coalescer.ack({ id: 1 }, [receipt(1)]);
    await coalescer.ack({ id: 1 }, [receipt(2)]);
    expect(calls).toEqual([[1], [2]]);
  });

  it('rejects every caller of a call that fails, and the next turn starts clean', async () => {
    let fail = true;
    const coalescer = new AckCoalescer<{ id: number }>(async () => {
      if (fail) throw new Error('database is locked');
    });
    const results = await Promise.allSettled([
      coalescer.ack({ id: 1 }, [receipt(1)]),
      coalescer.ack({ id: 1 }, [receipt(2)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(coalescer.ack({ id: 1 }, [receipt(3)])).resolves.toBeUndefined();
  });
});
