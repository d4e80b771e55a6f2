// Attempt limiting for verification: after `maxFailures` failed attempts within `windowMs`, refuse
// attempts for a lockout that grows with each further lockout (like phone unlock screens: Face ID
// falls back after 5 failures; GA 374-style access control escalates). State goes through a pluggable
// store so a restart (or a power cut) does not reset the count.

import { WasmfaceError } from './errors.js';

export interface LimiterState {
  /** Times (ms) of recent failed attempts, oldest first. */
  failures: number[];
  /** Attempts are refused until this time (ms). */
  lockedUntil: number;
  /** Lockouts so far (since the last success); each makes the next one longer. */
  lockouts: number;
}

/** Where the state lives between attempts and restarts (a file, localStorage, the device's secure storage...). */
export interface LimiterStore {
  load(): LimiterState | null | undefined;
  save(state: LimiterState): void;
}

export interface AttemptLimiterOptions {
  /** Failed attempts that trigger a lockout (default 5). */
  maxFailures?: number;
  /** Window the failures are counted in, ms (default 5 minutes). */
  windowMs?: number;
  /** First lockout, ms (default 90 s); doubles with every further lockout. */
  lockoutMs?: number;
  /** Longest lockout, ms (default 24 h). */
  maxLockoutMs?: number;
  store?: LimiterStore;
  /** Clock (ms), for tests and devices with their own time source. */
  now?: () => number;
}

/** Thrown by AttemptLimiter.guard while locked out. */
export class LockedOutError extends WasmfaceError {
  constructor(readonly retryAfterMs: number) {
    super('E_LOCKED_OUT', `too many failed attempts: try again in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** A store that keeps the state in memory only (the default; a restart resets it). */
export class MemoryLimiterStore implements LimiterStore {
  private state: LimiterState | null = null;
  load() { return this.state && { ...this.state, failures: [...this.state.failures] }; }
  save(state: LimiterState) { this.state = { ...state, failures: [...state.failures] }; }
}

export class AttemptLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly maxLockoutMs: number;
  private readonly store: LimiterStore;
  private readonly now: () => number;

  constructor(options: AttemptLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.lockoutMs = options.lockoutMs ?? 90_000;
    this.maxLockoutMs = options.maxLockoutMs ?? 24 * 3600_000;
    this.store = options.store ?? new MemoryLimiterStore();
    this.now = options.now ?? (() => Date.now());
    if (!(this.maxFailures >= 1 && this.windowMs > 0 && this.lockoutMs > 0)) throw new WasmfaceError('E_PARAM', 'AttemptLimiter: maxFailures >= 1, windowMs > 0 and lockoutMs > 0 required');
  }

  private read(): LimiterState {
    const s = this.store.load();
    // a damaged or missing state must not unlock: treat unreadable fields conservatively
    if (!s || !Array.isArray(s.failures)) return { failures: [], lockedUntil: 0, lockouts: 0 };
    return {
      failures: s.failures.filter((t) => Number.isFinite(t)),
      lockedUntil: Number.isFinite(s.lockedUntil) ? s.lockedUntil : 0,
      lockouts: Number.isFinite(s.lockouts) ? s.lockouts : 0,
    };
  }

  /** 0 when an attempt may be made now, else the milliseconds to wait. */
  retryAfterMs(): number {
    return Math.max(0, this.read().lockedUntil - this.now());
  }

  /** Records the outcome of an attempt. Returns the lockout it started (ms), or 0. */
  record(success: boolean): number {
    const now = this.now();
    const s = this.read();
    if (success) {
      this.store.save({ failures: [], lockedUntil: s.lockedUntil, lockouts: 0 });
      return 0;
    }
    s.failures = [...s.failures.filter((t) => now - t < this.windowMs), now];
    let lockout = 0;
    if (s.failures.length >= this.maxFailures) {
      lockout = Math.min(this.maxLockoutMs, this.lockoutMs * 2 ** s.lockouts);
      s.lockedUntil = now + lockout;
      s.lockouts++;
      s.failures = [];
    }
    this.store.save(s);
    return lockout;
  }

  /**
   * Runs one attempt if not locked out: `attempt` returns whether it succeeded (e.g. `r.match` of
   * FaceEngine.verify). Throws LockedOutError while locked out. Errors from `attempt` (no face in the
   * frame...) are not counted as failed attempts.
   */
  guard<T extends { match: boolean }>(attempt: () => T): T {
    const wait = this.retryAfterMs();
    if (wait > 0) throw new LockedOutError(wait);
    const result = attempt();
    this.record(result.match);
    return result;
  }
}
