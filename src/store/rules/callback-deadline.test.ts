import { describe, expect, it } from 'vitest';
import { callbackDeadline, timeoutCause, timeoutErrorAt } from './callback-deadline.js';

describe('callback deadline', () => {
  it('is the earlier of the total timeout and the heartbeat, or null when neither is set', () => {
    expect(callbackDeadline({ timeoutAt: null, heartbeatAt: null })).toBeNull();
    expect(callbackDeadline({ timeoutAt: 500, heartbeatAt: null })).toBe(500);
    expect(callbackDeadline({ timeoutAt: null, heartbeatAt: 300 })).toBe(300);
    expect(callbackDeadline({ timeoutAt: 500, heartbeatAt: 300 })).toBe(300);
  });

  it('times out with States.Timeout when the total timeout has passed, even if the heartbeat has too', () => {
    expect(timeoutErrorAt({ timeoutAt: 100, heartbeatAt: 100 }, 100)).toBe('States.Timeout');
    expect(timeoutErrorAt({ timeoutAt: 200, heartbeatAt: 100 }, 150)).toBe('States.HeartbeatTimeout');
    expect(timeoutErrorAt({ timeoutAt: 200, heartbeatAt: 100 }, 99)).toBeUndefined();
    expect(timeoutErrorAt({ timeoutAt: null, heartbeatAt: null }, Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('names the timeout that ended the task in its cause', () => {
    expect(timeoutCause('States.Timeout')).toMatch(/TimeoutSeconds/);
    expect(timeoutCause('States.HeartbeatTimeout')).toMatch(/HeartbeatSeconds/);
  });
});
