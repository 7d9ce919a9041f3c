import { afterEach, expect, it } from 'vitest';
import { postgresChannel } from './notifier.js';
import type { PostgresStore } from './store.js';
import { describePostgres, dropSchema, freshSchemaName, openTestStore } from '../../testkit/postgres.js';

const waitFor = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describePostgres('postgres notifier', () => {
  const opened: PostgresStore[] = [];
  let shared: string | undefined;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    if (shared) await dropSchema(shared);
    shared = undefined;
  });
  const errors: unknown[] = [];
  const twoNodes = async () => {
    shared = freshSchemaName();
    const a = await openTestStore({ schema: shared, onError: (e) => errors.push(e) });
    const b = await openTestStore({ schema: shared, onError: (e) => errors.push(e) });
    opened.push(a, b);
    return [a, b] as const;
  };

  it('delivers a publish once to local subscribers and once to other nodes', async () => {
    const [a, b] = await twoNodes();
    let local = 0;
    let remote = 0;
    a.notifier.subscribe('queue:1', () => local++);
    b.notifier.subscribe('queue:1', () => remote++);
    a.notifier.publish('queue:1');
    expect(local).toBe(1); // at once, without a round trip
    await waitFor(() => remote === 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the echo of our own NOTIFY must not count
    expect(local).toBe(1);
    expect(remote).toBe(1);
  });

  it('routes by logical channel over one PostgreSQL channel per schema', async () => {
    const [a, b] = await twoNodes();
    const heard: string[] = [];
    b.notifier.subscribe('queue:1', () => heard.push('queue:1'));
    b.notifier.subscribe('queue:2', () => heard.push('queue:2'));
    a.notifier.publish('queue:2');
    a.notifier.publish('queue:2'); // coalesced within one turn
    await waitFor(() => heard.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(['queue:2']);
  });

  it('reconnects a dropped listening connection and then wakes every subscriber once', async () => {
    const [a, b] = await twoNodes();
    let woken = 0;
    b.notifier.subscribe('queue:7', () => woken++);
    await b.notifier.simulateDisconnect();
    await waitFor(() => woken === 1 && b.notifier.listening);
    expect(errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/terminating connection/) }),
    ]);
    a.notifier.publish('queue:7');
    await waitFor(() => woken === 2);
  });

  it('keeps channel names within PostgreSQL identifier length', () => {
    expect(postgresChannel('sluice')).toBe('sluice_sluice');
    expect(postgresChannel('x'.repeat(63)).length).toBeLessThanOrEqual(63);
  });
});
