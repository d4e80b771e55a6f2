// Attempt limiting for verification: at most `maxFailures` failed attempts in any `windowMs`, and each
// time the limit is reached a lockout that grows with every further lockout (like phone unlock
// screens: Face ID falls back after 5 failures; GA 374-style access control escalates). State goes
// through a pluggable store so a restart (or a power cut) does not reset the count.
//
// Fail closed. What the limiter cannot trust locks it, with a typed error saying why:
//  - options out of their documented ranges are refused at construction (E_OPTION);
//  - a stored state it cannot read (load() throws, not an object, missing or mistyped fields,
//    non-finite times, negative or fractional lockout counts...) refuses every attempt with
//    LimiterStateError (E_LIMITER_STATE) until an administrator repairs the store or calls reset();
//  - a clock it cannot trust (now() throws, returns a non-number, a non-finite or out-of-range value,
//    or a time more than CLOCK_TOLERANCE_MS before one the limiter has already seen or stored)
//    refuses with LimiterClockError (E_LIMITER_CLOCK) until the clock reads a valid time again;
//  - guard() counts an attempt as failed *before* running it (write-ahead), so a crash, a power cut
//    or a failing store during the attempt cannot leave it uncounted: when that first save fails the
//    attempt is not run (LimiterStoreError, E_LIMITER_STORE); when the success cannot be saved, the
//    success is withheld (LimiterStoreError) and the failure stays counted;
//  - an attempt whose result has no boolean `match` is counted as failed and refused (E_LIMITER_RESULT).
// The limiter also keeps what it has seen in memory and merges it with every load (the larger count,
// the later lockout win), so a store that loses, rolls back or ignores writes cannot give an attacker
// more attempts while the process lives.
//
// Not defended (documented limits): a clock moved *forward* is indistinguishable from time passing;
// a store that is deleted (load() returns nothing) between restarts starts afresh. Give the limiter
// a clock and a store the attacker cannot set (the device's secure time and storage).

import { WasmfaceError, OptionError } from './errors.js';
import { describeValue } from './options.js';

export interface LimiterState {
  /** Times (ms) of recent failed attempts, oldest first. */
  failures: number[];
  /** Attempts are refused until this time (ms). */
  lockedUntil: number;
  /** Lockouts so far (since the last success); each makes the next one longer. A non-negative integer. */
  lockouts: number;
  /** Clock time (ms) of the last write; a clock reading earlier than this (beyond the tolerance) locks. Optional for states written before it existed. */
  lastAt?: number;
}

/** Where the state lives between attempts and restarts (a file, localStorage, the device's secure storage...). */
export interface LimiterStore {
  /** The saved state, or null/undefined when nothing was saved yet. Anything else that is not a valid LimiterState locks the limiter. */
  load(): LimiterState | null | undefined;
  /** Persists the state; throw when it could not be persisted (the limiter then refuses, see guard()). */
  save(state: LimiterState): void;
}

export interface AttemptLimiterOptions {
  /** Failed attempts allowed in any window of `windowMs`: an integer in [1, 1000] (default 5). */
  maxFailures?: number;
  /** Window the failures are counted in, ms: an integer in [1000, 30 days] (default 5 minutes). */
  windowMs?: number;
  /** First lockout, ms: an integer in [1000, 30 days] (default 90 s); doubles with every further lockout. A lockout also lasts until the window holds fewer than `maxFailures` failures. */
  lockoutMs?: number;
  /** Longest lockout, ms: an integer in [lockoutMs, 365 days] (default 24 h, or lockoutMs when that is longer). */
  maxLockoutMs?: number;
  /** An object with load() and save() functions (default: a MemoryLimiterStore). */
  store?: LimiterStore;
  /** Clock (ms; a function returning a number in [0, 8.64e15], the Date range), for tests and devices with their own time source. Default Date.now. */
  now?: () => number;
}

const DAY_MS = 86_400_000;
/** Ranges of the numeric options, [lowest, highest] (maxLockoutMs: lowest is lockoutMs). */
export const LIMITER_OPTION_RANGES = {
  maxFailures: [1, 1000],
  windowMs: [1000, 30 * DAY_MS],
  lockoutMs: [1000, 30 * DAY_MS],
  maxLockoutMs: [1000, 365 * DAY_MS],
} as const;
const OPTION_KEYS = ['maxFailures', 'windowMs', 'lockoutMs', 'maxLockoutMs', 'store', 'now'];
/** How far (ms) a clock may read before the latest time the limiter has seen or stored before it locks (NTP slews). */
export const CLOCK_TOLERANCE_MS = 2000;
/** Clock readings and stored times must lie in [0, this] (ms): the Date range, where adding ms is still exact. */
const MAX_TIME = 8.64e15;
const MAX_LOCKED_UNTIL = MAX_TIME + 366 * DAY_MS;
/** Longer failure lists than this are not something a limiter writes. */
const MAX_STORED_FAILURES = 10_000;

/** Thrown by AttemptLimiter.guard while locked out; the subclasses say why when it is not the attempt count. */
export class LockedOutError extends WasmfaceError {
  /** Milliseconds until an attempt may be made; Infinity when it depends on an administrator or on the clock being fixed. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, code = 'E_LOCKED_OUT', message = `too many failed attempts: try again in ${Math.ceil(retryAfterMs / 1000)} s`) {
    super(code, message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The stored state cannot be trusted: every attempt is refused until the store is repaired or reset() is called. */
export class LimiterStateError extends LockedOutError {
  constructor(reason: string, readonly cause?: unknown) {
    super(Infinity, 'E_LIMITER_STATE', `the attempt limiter's stored state cannot be trusted (${reason}): attempts are refused until an administrator repairs the store or calls limiter.reset() from a trusted admin path`);
  }
}

/** The clock cannot be trusted: attempts are refused until it reads a valid time again. */
export class LimiterClockError extends LockedOutError {
  constructor(reason: string, readonly cause?: unknown) {
    super(Infinity, 'E_LIMITER_CLOCK', `the attempt limiter's clock cannot be trusted (${reason}): attempts are refused until now() returns a valid time no earlier than the last one recorded; fix the device clock (or pass a monotonic now()), or call limiter.reset() from a trusted admin path`);
  }
}

/**
 * The store could not save. `consequence` says what that meant: the attempt was not run, or its
 * success was withheld and it counts as failed, or nothing changed.
 */
export class LimiterStoreError extends LockedOutError {
  constructor(what: string, consequence: string, readonly cause?: unknown) {
    super(Infinity, 'E_LIMITER_STORE', `the attempt limiter could not save its state ${what} (${errorText(cause)}): ${consequence}; fix the store and try again`);
  }
}

/** An attempt (or record()) gave no boolean outcome: counted as a failed attempt. */
export class LimiterResultError extends WasmfaceError {
  constructor(got: string) {
    super('E_LIMITER_RESULT', `the attempt must return { match: boolean } (got ${got}): counted as a failed attempt; pass the result of FaceEngine.verify`);
  }
}

/** A store that keeps the state in memory only (the default; a restart resets it). */
export class MemoryLimiterStore implements LimiterStore {
  private state: LimiterState | null = null;
  load() { return this.state && { ...this.state, failures: [...this.state.failures] }; }
  save(state: LimiterState) { this.state = { ...state, failures: [...state.failures] }; }
}

function errorText(e: unknown): string {
  try { return e instanceof Error ? e.message : describeValue(e); } catch { return 'unprintable error'; }
}

function optionError(message: string): WasmfaceError {
  return new OptionError(`AttemptLimiter: ${message}`);
}

function intOption(o: Record<string, unknown>, name: keyof typeof LIMITER_OPTION_RANGES, fallback: number, lo: number = LIMITER_OPTION_RANGES[name][0]): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const hi = LIMITER_OPTION_RANGES[name][1];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw optionError(`${name} must be an integer in [${lo}, ${hi}], got ${describeValue(v)}`);
  return v;
}

/** A state as the limiter works on it: failures sorted, all numbers checked. */
interface Snapshot { failures: number[]; lockedUntil: number; lockouts: number; lastAt: number }

const finiteIn = (v: unknown, bound: number): v is number => typeof v === 'number' && v >= 0 && v <= bound;

/** Checks what load() returned, reading each field once; throws LimiterStateError naming what is wrong. */
function parseState(raw: unknown): Snapshot | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new LimiterStateError(`load() returned ${describeValue(raw)}, not an object`);
  let failures: unknown, lockedUntil: unknown, lockouts: unknown, lastAt: unknown;
  const list: number[] = [];
  try {
    ({ failures, lockedUntil, lockouts, lastAt } = raw as Record<string, unknown>);
    if (!Array.isArray(failures)) throw new LimiterStateError(`failures is ${describeValue(failures)}, not an array`);
    const n = failures.length;
    if (!(n <= MAX_STORED_FAILURES)) throw new LimiterStateError(`failures holds ${n} entries, more than ${MAX_STORED_FAILURES}`);
    for (let i = 0; i < n; i++) {
      const t: unknown = failures[i];
      if (!finiteIn(t, MAX_TIME)) throw new LimiterStateError(`failures[${i}] is ${describeValue(t)}, not a time in ms`);
      list.push(t);
    }
  } catch (e) {
    if (e instanceof LimiterStateError) throw e;
    throw new LimiterStateError(`reading it threw: ${errorText(e)}`, e);
  }
  if (!finiteIn(lockedUntil, MAX_LOCKED_UNTIL)) throw new LimiterStateError(`lockedUntil is ${describeValue(lockedUntil)}, not a time in ms`);
  if (typeof lockouts !== 'number' || !Number.isSafeInteger(lockouts) || lockouts < 0) throw new LimiterStateError(`lockouts is ${describeValue(lockouts)}, not a non-negative integer`);
  if (lastAt !== undefined && !finiteIn(lastAt, MAX_TIME)) throw new LimiterStateError(`lastAt is ${describeValue(lastAt)}, not a time in ms`);
  list.sort((a, b) => a - b);
  return { failures: list, lockedUntil, lockouts, lastAt: lastAt ?? -Infinity };
}

/** Both states at once: per failure time the larger count, the later lockout, the higher escalation. */
function merge(a: Snapshot | null, b: Snapshot | null): Snapshot {
  if (!a || !b) {
    const s = a ?? b;
    return s ? { ...s, failures: [...s.failures] } : { failures: [], lockedUntil: 0, lockouts: 0, lastAt: -Infinity };
  }
  const failures: number[] = [];
  let i = 0, j = 0;
  while (i < a.failures.length || j < b.failures.length) {
    const x = a.failures[i], y = b.failures[j];
    if (j >= b.failures.length || x < y) { failures.push(x); i++; }
    else if (i >= a.failures.length || y < x) { failures.push(y); j++; }
    else { failures.push(x); i++; j++; }
  }
  return { failures, lockedUntil: Math.max(a.lockedUntil, b.lockedUntil), lockouts: Math.max(a.lockouts, b.lockouts), lastAt: Math.max(a.lastAt, b.lastAt) };
}

export class AttemptLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly maxLockoutMs: number;
  private readonly store: LimiterStore;
  private readonly now: () => number;
  /** What this instance has seen (merged with every load): a store that forgets cannot unlock it. */
  private memory: Snapshot | null = null;
  /** Latest trusted clock reading. */
  private seen = -Infinity;
  private busy = false;

  constructor(options: AttemptLimiterOptions = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw optionError(`options must be an object, got ${describeValue(options)}`);
    const o = options as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!OPTION_KEYS.includes(k)) throw optionError(`no option '${k}' (known: ${OPTION_KEYS.join(', ')})`);
    this.maxFailures = intOption(o, 'maxFailures', 5);
    this.windowMs = intOption(o, 'windowMs', 5 * 60_000);
    this.lockoutMs = intOption(o, 'lockoutMs', 90_000);
    this.maxLockoutMs = intOption(o, 'maxLockoutMs', Math.max(24 * 3600_000, this.lockoutMs), this.lockoutMs);
    const store = o.store === undefined ? new MemoryLimiterStore() : o.store;
    if (typeof store !== 'object' || store === null || typeof (store as LimiterStore).load !== 'function' || typeof (store as LimiterStore).save !== 'function') {
      throw optionError(`store must be an object with load() and save() functions, got ${describeValue(store)}`);
    }
    this.store = store as LimiterStore;
    const now = o.now === undefined ? () => Date.now() : o.now;
    if (typeof now !== 'function') throw optionError(`now must be a function returning the time in ms, got ${describeValue(now)}`);
    this.now = now as () => number;
  }

  /** One trusted clock reading, or LimiterClockError. */
  private clock(): number {
    let t: unknown;
    try { t = this.now(); } catch (e) { throw new LimiterClockError(`now() threw: ${errorText(e)}`, e); }
    if (!finiteIn(t, MAX_TIME)) throw new LimiterClockError(`now() returned ${describeValue(t)}, not a time in ms in [0, ${MAX_TIME}]`);
    return t;
  }

  /** The state merged with memory and the effective time, or LimiterStateError / LimiterClockError. Changes nothing stored. */
  private view(): { now: number; s: Snapshot } {
    const reading = this.clock();
    if (reading < this.seen - CLOCK_TOLERANCE_MS) throw this.setBack(reading, this.seen);
    this.seen = Math.max(this.seen, reading);
    let raw: unknown;
    try { raw = this.store.load(); } catch (e) { throw new LimiterStateError(`store.load() threw: ${errorText(e)}`, e); }
    const s = merge(this.memory, parseState(raw));
    const latest = Math.max(this.seen, s.lastAt, s.failures.length ? s.failures[s.failures.length - 1] : -Infinity);
    if (reading < latest - CLOCK_TOLERANCE_MS) throw this.setBack(reading, latest);
    const now = Math.max(reading, latest);
    this.seen = now;
    s.failures = s.failures.filter((t) => now - t < this.windowMs);
    this.memory = s;
    return { now, s: { ...s, failures: [...s.failures] } };
  }

  private setBack(reading: number, latest: number): LimiterClockError {
    return new LimiterClockError(`now() reads ${reading}, ${latest - reading} ms before the latest time recorded (${latest}): the clock was set back or the stored state was altered`);
  }

  /** Milliseconds to wait before an attempt; 0 when one may be made now. */
  private waitOf(now: number, s: Snapshot): number {
    let wait = Math.max(0, s.lockedUntil - now);
    const n = s.failures.length;
    if (n >= this.maxFailures) wait = Math.max(wait, s.failures[n - this.maxFailures] + this.windowMs - now);
    return wait;
  }

  private withFailure(s: Snapshot, now: number): { next: Snapshot; lockedOut: boolean } {
    const failures = [...s.failures, now];
    let { lockedUntil, lockouts } = s;
    const lockedOut = failures.length >= this.maxFailures;
    if (lockedOut) {
      lockedUntil = Math.max(lockedUntil, now + Math.min(this.maxLockoutMs, this.lockoutMs * 2 ** Math.min(lockouts, 64)));
      lockouts = Math.min(lockouts + 1, Number.MAX_SAFE_INTEGER);
    }
    // only the newest maxFailures times decide when the window frees
    return { next: { failures: failures.slice(-this.maxFailures), lockedUntil, lockouts, lastAt: now }, lockedOut };
  }

  private static succeeded(s: Snapshot, now: number): Snapshot {
    return { failures: [], lockedUntil: s.lockedUntil, lockouts: 0, lastAt: now };
  }

  /** Saves s (a copy, so the store cannot change what the limiter holds) and makes it the memory. */
  private persist(s: Snapshot, what: string, consequence: string): void {
    const state: LimiterState = { failures: [...s.failures], lockedUntil: s.lockedUntil, lockouts: s.lockouts };
    if (Number.isFinite(s.lastAt)) state.lastAt = s.lastAt;
    try { this.store.save(state); } catch (e) { throw new LimiterStoreError(what, consequence, e); }
    this.memory = { ...s, failures: [...s.failures] };
  }

  private enter(): void {
    if (this.busy) throw new WasmfaceError('E_LIMITER_BUSY', 'the attempt limiter was called from inside a guarded attempt: call it only from outside guard()');
    this.busy = true;
  }

  /**
   * 0 when an attempt may be made now, else the milliseconds to wait (never NaN). Infinity while the
   * stored state or the clock cannot be trusted (guard() throws the error saying why).
   */
  retryAfterMs(): number {
    try {
      const { now, s } = this.view();
      return this.waitOf(now, s);
    } catch (e) {
      if (e instanceof LockedOutError) return Infinity;
      throw e;
    }
  }

  /**
   * Records the outcome of an attempt made without guard(). Returns the wait (ms) a lockout started
   * by this failure imposes, or 0. A non-boolean `success` is counted as a failure and refused with
   * LimiterResultError. Throws LimiterStateError / LimiterClockError (nothing recorded) while those
   * cannot be trusted, LimiterStoreError when the save fails (a failure still counts in memory).
   */
  record(success: boolean): number {
    this.enter();
    try {
      const { now, s } = this.view();
      if (success === true) {
        this.persist(AttemptLimiter.succeeded(s, now), 'recording a success', 'the success was not recorded (earlier failures still count)');
        return 0;
      }
      const { next, lockedOut } = this.withFailure(s, now);
      this.memory = next;
      this.persist(next, 'recording a failure', 'the failure counts in this process only');
      if (success !== false) throw new LimiterResultError(describeValue(success));
      return lockedOut ? this.waitOf(now, next) : 0;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Runs one attempt if allowed: `attempt` returns `{ match }` (e.g. FaceEngine.verify's result).
   * The attempt is counted as failed before it runs (write-ahead); a `match: true` result then resets
   * the count. Throws LockedOutError while locked out (or a subclass when the state, the clock or the
   * store cannot be trusted; then the attempt is not run). Errors thrown by `attempt` (no face in the
   * frame...) are not counted (the write-ahead failure is taken back; if even that cannot be saved it
   * stays counted). A result without a boolean `match` is counted as failed (LimiterResultError); a
   * success that cannot be saved is withheld (LimiterStoreError).
   */
  guard<T extends { match: boolean }>(attempt: () => T): T {
    if (typeof attempt !== 'function') throw optionError(`guard needs a function, got ${describeValue(attempt)}`);
    this.enter();
    try {
      const { now, s } = this.view();
      const wait = this.waitOf(now, s);
      if (wait > 0) throw new LockedOutError(wait);
      this.persist(this.withFailure(s, now).next, 'before the attempt', 'the attempt was not run');
      let result: T;
      try {
        result = attempt();
      } catch (e) {
        try { this.persist(s, 'taking back the failure of an attempt that threw', 'it stays counted'); } catch { /* stays counted: fail closed */ }
        throw e;
      }
      let match: unknown;
      try { match = result !== null && typeof result === 'object' ? result.match : undefined; } catch { match = undefined; }
      if (typeof match !== 'boolean') throw new LimiterResultError(result !== null && typeof result === 'object' ? `match: ${describeValue(match)}` : describeValue(result));
      if (match) this.persist(AttemptLimiter.succeeded(s, now), 'after a successful attempt', 'the success was withheld and the attempt counts as failed');
      return result;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Admin: forgets all failures, lockouts and clock history (in memory and in the store), e.g. after
   * repairing a damaged store or a clock. Call it only from a trusted path (never on a user's request).
   * Throws LimiterStoreError when the fresh state cannot be saved (then nothing changes).
   */
  reset(): void {
    this.enter();
    try {
      let t: number | undefined;
      try { t = this.clock(); } catch { t = undefined; }
      const fresh: Snapshot = { failures: [], lockedUntil: 0, lockouts: 0, lastAt: t ?? -Infinity };
      this.persist(fresh, 'when resetting', 'nothing was reset');
      this.seen = t ?? -Infinity;
    } finally {
      this.busy = false;
    }
  }
}
