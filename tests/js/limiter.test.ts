// AttemptLimiter: 5 failures in 5 minutes lock out for 90 s, doubling per further lockout; a success
// resets; the state survives a restart through its store; a damaged store cannot unlock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptLimiter, LockedOutError, MemoryLimiterStore, type LimiterState } from '../../js/limiter.js';

test('locks out after 5 failures within 5 minutes, for 90 s, then longer', () => {
  let now = 1_000_000;
  const store = new MemoryLimiterStore();
  const lim = new AttemptLimiter({ store, now: () => now });
  const fail = () => lim.guard(() => ({ match: false }));
  for (let i = 0; i < 4; i++) { fail(); now += 10_000; }
  assert.equal(lim.retryAfterMs(), 0, 'four failures: still allowed');
  fail();
  assert.equal(lim.retryAfterMs(), 90_000);
  assert.throws(() => fail(), (e: unknown) => e instanceof LockedOutError && e.retryAfterMs === 90_000 && /90 s/.test(e.message));
  now += 89_999;
  assert.throws(() => fail(), LockedOutError);
  now += 1;
  // restart: a new limiter on the same store still remembers the lockout count
  const again = new AttemptLimiter({ store, now: () => now });
  for (let i = 0; i < 5; i++) again.guard(() => ({ match: false }));
  assert.equal(again.retryAfterMs(), 180_000, 'second lockout doubles');
  now += 180_000;
  again.guard(() => ({ match: true }));
  for (let i = 0; i < 5; i++) again.guard(() => ({ match: false }));
  assert.equal(again.retryAfterMs(), 90_000, 'a success resets the escalation');
});

test('failures spread over more than the window do not lock', () => {
  let now = 0;
  const lim = new AttemptLimiter({ now: () => now });
  for (let i = 0; i < 20; i++) { lim.record(false); now += 76_000; } // never 5 within 300 s
  assert.equal(lim.retryAfterMs(), 0);
});

test('errors inside the attempt are not counted; a damaged store does not unlock or crash', () => {
  let now = 0;
  const lim = new AttemptLimiter({ now: () => now });
  for (let i = 0; i < 10; i++) assert.throws(() => lim.guard(() => { throw new Error('no face'); }));
  assert.equal(lim.retryAfterMs(), 0);
  const garbage: LimiterState = { failures: 'x' as unknown as number[], lockedUntil: NaN, lockouts: NaN };
  const odd = new AttemptLimiter({ now: () => now, store: { load: () => garbage, save: () => {} } });
  assert.equal(odd.retryAfterMs(), 0);
  assert.equal(odd.record(false), 0);
  assert.throws(() => new AttemptLimiter({ maxFailures: 0 }), /maxFailures/);
});
