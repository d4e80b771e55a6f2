// AttemptLimiter: at most 5 failures in any 5 minutes, a lockout (90 s, doubling per further lockout)
// when the limit is reached; a success resets; the state survives a restart through its store. Fail
// closed: bad options are refused, an untrusted stored state or clock locks, a failing store lets
// nothing through uncounted, and a property test checks the window bound against garbage stores and
// clocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttemptLimiter, LockedOutError, LimiterStateError, LimiterClockError, LimiterStoreError, LimiterResultError, MemoryLimiterStore,
  CLOCK_TOLERANCE_MS, type LimiterState, type LimiterStore, type AttemptLimiterOptions,
} from '../../js/limiter.js';
import { WasmfaceError } from '../../js/errors.js';
import { mulberry32 } from '../../tools/rng.js';

const fails = () => ({ match: false });

/** A store holding whatever it was given; counts saves. */
function rawStore(contents: unknown): LimiterStore & { contents: unknown; saves: number } {
  return {
    contents, saves: 0,
    load() { return this.contents as LimiterState; },
    save(s: LimiterState) { this.saves++; this.contents = JSON.parse(JSON.stringify(s)); },
  };
}

test('locks out after 5 failures within 5 minutes, until the window frees (at least 90 s), then longer', () => {
  let now = 1_000_000;
  const store = new MemoryLimiterStore();
  const lim = new AttemptLimiter({ store, now: () => now });
  const fail = () => lim.guard(fails);
  for (let i = 0; i < 4; i++) { fail(); now += 10_000; }
  assert.equal(lim.retryAfterMs(), 0, 'four failures: still allowed');
  fail(); // the fifth, 40 s after the first
  // (before: 90 s, after which 5 more attempts ran: 10 and more per 5 minutes)
  assert.equal(lim.retryAfterMs(), 260_000, 'locked until the first failure leaves the 5-minute window');
  assert.throws(() => fail(), (e: unknown) => e instanceof LockedOutError && e.code === 'E_LOCKED_OUT' && e.retryAfterMs === 260_000 && /260 s/.test(e.message));
  now = 1_000_000 + 299_999;
  assert.throws(() => fail(), LockedOutError);
  now += 1;
  // restart: a new limiter on the same store still remembers the failures and the lockout count
  const again = new AttemptLimiter({ store, now: () => now });
  assert.equal(again.retryAfterMs(), 0);
  again.guard(fails);
  assert.equal(again.retryAfterMs(), 180_000, 'the next failure starts the second lockout, doubled');
  now += 180_000;
  again.guard(() => ({ match: true }));
  for (let i = 0; i < 4; i++) again.guard(fails);
  assert.equal(again.retryAfterMs(), 0, 'a success clears the failures');
});

test('with a lockout longer than the window, lockouts double and a success resets the escalation', () => {
  let now = 0;
  const lim = new AttemptLimiter({ windowMs: 60_000, lockoutMs: 90_000, now: () => now });
  for (let i = 0; i < 5; i++) lim.guard(fails);
  assert.equal(lim.retryAfterMs(), 90_000);
  now += 90_000;
  for (let i = 0; i < 5; i++) lim.guard(fails);
  assert.equal(lim.retryAfterMs(), 180_000);
  now += 180_000;
  lim.guard(() => ({ match: true }));
  for (let i = 0; i < 5; i++) lim.guard(fails);
  assert.equal(lim.retryAfterMs(), 90_000, 'a success resets the escalation');
});

test('failures spread over more than the window do not lock', () => {
  let now = 0;
  const lim = new AttemptLimiter({ now: () => now });
  for (let i = 0; i < 20; i++) { lim.record(false); now += 76_000; } // never 5 within 300 s
  assert.equal(lim.retryAfterMs(), 0);
});

test('errors inside the attempt are not counted; a damaged store locks instead of unlocking', () => {
  let now = 0;
  const lim = new AttemptLimiter({ now: () => now });
  for (let i = 0; i < 10; i++) assert.throws(() => lim.guard(() => { throw new Error('no face'); }), /no face/);
  assert.equal(lim.retryAfterMs(), 0);
  // (before: this garbage read as an empty state, retryAfterMs 0 and record(false) counted from zero)
  const garbage: LimiterState = { failures: 'x' as unknown as number[], lockedUntil: NaN, lockouts: NaN };
  const odd = new AttemptLimiter({ now: () => now, store: { load: () => garbage, save: () => {} } });
  assert.equal(odd.retryAfterMs(), Infinity);
  assert.throws(() => odd.record(false), LimiterStateError);
  assert.throws(() => new AttemptLimiter({ maxFailures: 0 }), /maxFailures/);
});

test('options out of their documented ranges are refused at construction (E_OPTION, naming the option)', () => {
  const bad: [string, unknown][] = [
    ['maxFailures', Infinity], ['maxFailures', 2.5], ['maxFailures', 0], ['maxFailures', -1], ['maxFailures', NaN], ['maxFailures', '5'], ['maxFailures', 1001], ['maxFailures', null],
    ['windowMs', NaN], ['windowMs', 0], ['windowMs', 999], ['windowMs', Infinity], ['windowMs', 31 * 86_400_000], ['windowMs', 1500.5],
    ['lockoutMs', -1], ['lockoutMs', 0], ['lockoutMs', 1e12], ['lockoutMs', '90000'],
    ['maxLockoutMs', -1], ['maxLockoutMs', 89_999], ['maxLockoutMs', Infinity], ['maxLockoutMs', 366 * 86_400_000],
    ['store', {}], ['store', { load() { return null; } }], ['store', { load: 1, save() {} }], ['store', null], ['store', 5],
    ['now', 5], ['now', 'Date.now'], ['now', null], ['now', {}],
    ['maxFailure', 3], ['clock', () => 0],
  ];
  for (const [key, value] of bad) {
    assert.throws(() => new AttemptLimiter({ [key]: value } as AttemptLimiterOptions), (e: unknown) => {
      assert.ok(e instanceof WasmfaceError && e.code === 'E_OPTION', `${key}: ${String(value)}: ${String(e)}`);
      assert.ok(e.message.includes(key), e.message);
      return true;
    }, `${key}: ${String(value)}`);
  }
  for (const options of [null, 5, [], 'x']) assert.throws(() => new AttemptLimiter(options as AttemptLimiterOptions), (e: unknown) => e instanceof WasmfaceError && e.code === 'E_OPTION');
  // the edges of the ranges are accepted; a long first lockout raises the default longest one
  new AttemptLimiter({ maxFailures: 1000, windowMs: 1000, lockoutMs: 1000, maxLockoutMs: 1000 });
  new AttemptLimiter({ lockoutMs: 48 * 3600_000 });
  new AttemptLimiter({ store: new MemoryLimiterStore(), now: () => 0 });
});

test('a stored state it cannot trust locks (E_LIMITER_STATE), changes nothing, until reset()', () => {
  const valid = (o: object) => ({ failures: [], lockedUntil: 0, lockouts: 0, ...o });
  const throwing = { get failures(): number[] { throw new Error('disk'); }, lockedUntil: 0, lockouts: 0 };
  const cases: [string, unknown][] = [
    ['lockedUntil "x"', valid({ lockedUntil: 'x' })], ['lockedUntil NaN', valid({ lockedUntil: NaN })], ['lockedUntil Infinity', valid({ lockedUntil: Infinity })],
    ['lockedUntil negative', valid({ lockedUntil: -1 })], ['lockedUntil missing', { failures: [], lockouts: 0 }],
    ['failures missing', { lockedUntil: 0, lockouts: 0 }], ['failures not an array', valid({ failures: 'x' })], ['failures an object', valid({ failures: { length: 0 } })],
    ['failures [NaN]', valid({ failures: [NaN] })], ['failures [Infinity]', valid({ failures: [Infinity] })], ['failures ["1"]', valid({ failures: ['1'] })],
    ['failures [null]', valid({ failures: [null] })], ['failures too many', valid({ failures: new Array(20_000).fill(0) })],
    ['lockouts missing', { failures: [], lockedUntil: 0 }], ['lockouts -1', valid({ lockouts: -1 })], ['lockouts 1.5', valid({ lockouts: 1.5 })], ['lockouts NaN', valid({ lockouts: NaN })],
    ['lastAt "x"', valid({ lastAt: 'x' })], ['a number', 5], ['a string', '{"failures":[]}'], ['an array', []], ['true', true], ['a function', () => null],
    ['a throwing getter', throwing],
  ];
  for (const [what, contents] of cases) {
    const store = rawStore(contents);
    let ran = 0;
    const lim = new AttemptLimiter({ store, now: () => 1_000_000 });
    assert.equal(lim.retryAfterMs(), Infinity, what);
    assert.throws(() => lim.guard(() => { ran++; return { match: true }; }), (e: unknown) => {
      assert.ok(e instanceof LimiterStateError && e instanceof LockedOutError, `${what}: ${String(e)}`);
      assert.equal(e.code, 'E_LIMITER_STATE');
      assert.match(e.message, /stored state cannot be trusted .*reset\(\)/);
      return true;
    });
    assert.throws(() => lim.record(false), LimiterStateError, what);
    assert.throws(() => lim.record(true), LimiterStateError, what);
    assert.equal(ran, 0, `${what}: the attempt must not run`);
    assert.equal(store.saves, 0, `${what}: nothing stored may change`);
    lim.reset();
    assert.equal(lim.retryAfterMs(), 0, `${what}: reset() unlocks`);
    lim.guard(() => { ran++; return { match: true }; });
    assert.equal(ran, 1);
  }
  const loadThrows = new AttemptLimiter({ store: { load() { throw new Error('EIO'); }, save() {} } });
  assert.equal(loadThrows.retryAfterMs(), Infinity);
  assert.throws(() => loadThrows.guard(() => ({ match: true })), (e: unknown) => e instanceof LimiterStateError && /load\(\) threw: EIO/.test(e.message));
});

test('a clock it cannot trust locks (E_LIMITER_CLOCK); a clock set back locks until it catches up', () => {
  for (const reading of [NaN, undefined, Infinity, -Infinity, '1000', null, {}, -1, 1e300, 10n]) {
    let ran = 0;
    const lim = new AttemptLimiter({ now: () => reading as number });
    assert.equal(lim.retryAfterMs(), Infinity, String(reading));
    assert.throws(() => lim.guard(() => { ran++; return { match: false }; }), (e: unknown) => {
      assert.ok(e instanceof LimiterClockError && e instanceof LockedOutError, `${String(reading)}: ${String(e)}`);
      assert.equal(e.code, 'E_LIMITER_CLOCK');
      assert.match(e.message, /clock cannot be trusted/);
      return true;
    });
    assert.equal(ran, 0);
  }
  const throwing = new AttemptLimiter({ now: () => { throw new Error('rtc'); } });
  assert.throws(() => throwing.guard(fails), (e: unknown) => e instanceof LimiterClockError && /now\(\) threw: rtc/.test(e.message));

  // backwards: 5 failures, lockout; the clock set back a day must not end it
  let now = 100 * 86_400_000;
  const store = new MemoryLimiterStore();
  const lim = new AttemptLimiter({ store, now: () => now });
  for (let i = 0; i < 5; i++) lim.guard(fails);
  now -= 86_400_000;
  assert.equal(lim.retryAfterMs(), Infinity);
  assert.throws(() => lim.guard(fails), (e: unknown) => e instanceof LimiterClockError && /before the latest time recorded/.test(e.message));
  // the same from a restart (the stored times betray it)
  assert.throws(() => new AttemptLimiter({ store, now: () => now }).guard(fails), LimiterClockError);
  // a small slew is tolerated (read as no time passing), the clock catching up unlocks
  now += 86_400_000 - CLOCK_TOLERANCE_MS + 1;
  assert.equal(lim.retryAfterMs(), 300_000);
  now += CLOCK_TOLERANCE_MS - 1 + 300_000;
  assert.equal(lim.retryAfterMs(), 0);
  // a clock stuck on NaN after a lockout does not unlock
  const stuck = new AttemptLimiter({ now: () => now });
  for (let i = 0; i < 5; i++) stuck.guard(fails);
  now = NaN;
  assert.throws(() => stuck.guard(fails), LimiterClockError);
});

test('a store that cannot save lets nothing through uncounted', () => {
  let now = 0;
  // save always fails: the attempt is never run
  let ran = 0;
  const broken = new AttemptLimiter({ now: () => now, store: { load: () => null, save() { throw new Error('disk full'); } } });
  assert.throws(() => broken.guard(() => { ran++; return { match: true }; }), (e: unknown) => {
    assert.ok(e instanceof LimiterStoreError && e instanceof LockedOutError, String(e));
    assert.equal(e.code, 'E_LIMITER_STORE');
    assert.match(e.message, /disk full.*the attempt was not run/);
    return true;
  });
  assert.equal(ran, 0);
  // the failure is saved before the attempt runs (a power cut during it cannot lose the count)
  const store = rawStore(null);
  const lim = new AttemptLimiter({ now: () => now, store, maxFailures: 2 });
  lim.guard(() => {
    assert.deepEqual((store.contents as LimiterState).failures, [0], 'counted before the attempt ran');
    return { match: false };
  });
  // a success that cannot be saved is withheld and stays a failure
  let saves = 0;
  const flaky = new AttemptLimiter({ now: () => now, maxFailures: 1, store: { load: () => null, save() { if (++saves === 2) throw new Error('EIO'); } } });
  assert.throws(() => flaky.guard(() => ({ match: true, secret: 'door open' })), (e: unknown) => e instanceof LimiterStoreError && /withheld/.test(e.message));
  assert.ok(flaky.retryAfterMs() > 0, 'the withheld success counts as a failure');
  // record() with a failing save still counts in memory and says so
  const rec = new AttemptLimiter({ now: () => now, maxFailures: 1, store: { load: () => null, save() { throw new Error('EIO'); } } });
  assert.throws(() => rec.record(false), LimiterStoreError);
  assert.ok(rec.retryAfterMs() > 0);
});

test('an attempt result without a boolean match counts as failed and is refused (E_LIMITER_RESULT)', () => {
  let now = 0;
  const lim = new AttemptLimiter({ now: () => now });
  // (before: { match: 'yes' } was recorded as a success and reset the count)
  for (const r of [{ match: 'yes' }, {}, null, undefined, { match: 1 }]) {
    assert.throws(() => lim.guard(() => r as unknown as { match: boolean }), (e: unknown) => e instanceof LimiterResultError && e.code === 'E_LIMITER_RESULT');
  }
  assert.ok(lim.retryAfterMs() > 0, 'five such results lock');
  const rec = new AttemptLimiter({ now: () => now, maxFailures: 1 });
  assert.throws(() => rec.record('true' as unknown as boolean), LimiterResultError);
  assert.ok(rec.retryAfterMs() > 0);
  assert.throws(() => lim.guard(5 as unknown as () => { match: boolean }), (e: unknown) => e instanceof WasmfaceError && e.code === 'E_OPTION');
  const reentrant = new AttemptLimiter({ now: () => now });
  assert.throws(() => reentrant.guard(() => { reentrant.record(true); return { match: true }; }), (e: unknown) => e instanceof WasmfaceError && e.code === 'E_LIMITER_BUSY');
});

test('a store that forgets or ignores writes cannot unlock the running limiter', () => {
  let now = 0;
  // (before: a store whose load() returns nothing gave unlimited attempts)
  const forgetful = new AttemptLimiter({ now: () => now, store: { load: () => null, save() {} } });
  for (let i = 0; i < 5; i++) forgetful.guard(fails);
  assert.throws(() => forgetful.guard(fails), LockedOutError);
  const stale: LimiterState = { failures: [], lockedUntil: 0, lockouts: 0 };
  const frozen = new AttemptLimiter({ now: () => now, store: { load: () => stale, save() {} } });
  for (let i = 0; i < 5; i++) frozen.guard(fails);
  assert.throws(() => frozen.guard(fails), LockedOutError);
});

test('reset() forgets failures, lockouts and clock history', () => {
  let now = 10_000_000;
  const store = new MemoryLimiterStore();
  const lim = new AttemptLimiter({ store, now: () => now });
  for (let i = 0; i < 5; i++) lim.guard(fails);
  now -= 60_000; // clock set back: locked
  assert.equal(lim.retryAfterMs(), Infinity);
  lim.reset();
  assert.equal(lim.retryAfterMs(), 0);
  assert.equal(new AttemptLimiter({ store, now: () => now }).retryAfterMs(), 0, 'the store was reset too');
  assert.throws(() => new AttemptLimiter({ store: { load: () => null, save() { throw new Error('ro'); } } }).reset(), LimiterStoreError);
});

// ---- property test --------------------------------------------------------------------------------

function pick<T>(rnd: () => number, xs: readonly T[]): T { return xs[Math.floor(rnd() * xs.length)]; }

const GARBAGE: readonly unknown[] = [NaN, undefined, null, Infinity, -Infinity, -5, 1e300, '1000', '', true, {}, [], [1, 2], () => 0, 10n];

/** A JSON-ish value: garbage, nested objects and arrays, or a state-looking object with valid and invalid fields. */
function randomValue(rnd: () => number, t: number, depth = 0): unknown {
  const r = rnd();
  const time = () => pick(rnd, [t, t - rnd() * 1e6, t + rnd() * 1e6, 0, t - 400_000, t + 1e9, Math.round(t - rnd() * 300_000)]);
  const field = (valid: () => unknown) => (rnd() < 0.8 ? valid() : depth < 2 ? randomValue(rnd, t, depth + 1) : pick(rnd, GARBAGE));
  if (r < 0.15) return pick(rnd, GARBAGE);
  if (r < 0.2 && depth < 2) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, t, depth + 1));
  if (r < 0.25) return null;
  const state: Record<string, unknown> = {};
  if (rnd() < 0.95) state.failures = field(() => Array.from({ length: Math.floor(rnd() * 8) }, () => (rnd() < 0.95 ? time() : pick(rnd, GARBAGE))));
  if (rnd() < 0.95) state.lockedUntil = field(() => pick(rnd, [0, time(), t + 1000]));
  if (rnd() < 0.95) state.lockouts = field(() => pick(rnd, [0, 1, 2, 60, 1e6, -1, 1.5]));
  if (rnd() < 0.3) state.lastAt = field(time);
  return state;
}

test('property: whatever the store holds and the clock reads, no more than maxFailures attempts run in any window; retryAfterMs is never NaN', () => {
  const rnd = mulberry32(0x11_3175);
  const INVALID = [NaN, 'x', [], 5, true, { failures: 'x', lockedUntil: 0, lockouts: 0 }, { failures: [], lockedUntil: 0, lockouts: -1 }];
  let totalRun = 0, refusals = 0;
  for (let c = 0; c < 3000; c++) {
    const maxFailures = 1 + Math.floor(rnd() * 6);
    const windowMs = pick(rnd, [1000, 5000, 60_000, 300_000]);
    const lockoutMs = pick(rnd, [1000, 2000, 90_000, 400_000]);
    const maxLockoutMs = lockoutMs * pick(rnd, [1, 4, 100]);
    let t = pick(rnd, [0, 1e6, 1.7e12]);
    // 'honest' keeps what it is given (restarts allowed); 'flaky' also fails loads and saves
    // detectably (restarts allowed); 'frozen' returns its first contents forever and drops writes
    const mode = pick(rnd, ['honest', 'flaky', 'frozen'] as const);
    let contents: unknown = randomValue(rnd, t);
    const store: LimiterStore = {
      load() {
        if (mode === 'flaky' && rnd() < 0.15) { if (rnd() < 0.5) throw new Error('EIO'); return pick(rnd, INVALID) as LimiterState; }
        return contents as LimiterState;
      },
      save(s) {
        if (mode === 'frozen') return;
        if (mode === 'flaky' && rnd() < 0.15) throw new Error('ENOSPC');
        contents = JSON.parse(JSON.stringify(s));
      },
    };
    let reading: unknown = t;
    const options = { maxFailures, windowMs, lockoutMs, maxLockoutMs, store, now: () => reading as number };
    let lim = new AttemptLimiter(options);
    // true time t only moves on exact readings. A clock set back, or slewed (up to the tolerance
    // behind), is a re-read after this process saw t: before any reading (or after a restart) a
    // reading behind t has nothing to be behind, it only shifts the limiter's timeline.
    let sawT = false;
    const ran: number[] = [];
    for (let step = 0; step < 60; step++) {
      const r = rnd();
      if (r < 0.6) {
        t += pick(rnd, [0, 0, 1 + Math.floor(rnd() * 1000), Math.floor(windowMs / maxFailures), windowMs - 1, windowMs, lockoutMs, Math.floor(rnd() * 1e9)]);
        reading = t;
      } else if (r < 0.75) reading = pick(rnd, GARBAGE);
      else if (r < 0.85) reading = sawT ? t - CLOCK_TOLERANCE_MS - 1 - Math.floor(rnd() * 1e9) : t; // set back
      else if (r < 0.95) reading = sawT ? t - Math.floor(rnd() * CLOCK_TOLERANCE_MS) : t; // slew within the tolerance
      else if (mode !== 'frozen') { lim = new AttemptLimiter(options); sawT = false; reading = t; } // restart
      if (reading === t) sawT = true;
      const wait = lim.retryAfterMs();
      assert.ok(typeof wait === 'number' && wait >= 0 && !Number.isNaN(wait), `case ${c}: retryAfterMs ${wait}`);
      try {
        lim.guard(() => { ran.push(t); return { match: false }; });
      } catch (e) {
        assert.ok(e instanceof LockedOutError, `case ${c}: an untyped refusal: ${String(e)}`);
        refusals++;
      }
    }
    totalRun += ran.length;
    for (let i = 0; i < ran.length; i++) {
      let inWindow = 0;
      for (let j = i; j < ran.length && ran[j] - ran[i] < windowMs; j++) inWindow++;
      assert.ok(inWindow <= maxFailures, `case ${c} (${mode}, max ${maxFailures} per ${windowMs} ms): ${inWindow} attempts ran within a window: ${JSON.stringify(ran)}`);
    }
  }
  assert.ok(totalRun > 10_000 && refusals > 10_000, `the generator must exercise both paths (${totalRun} run, ${refusals} refused)`);
});
