// Live capture: feed camera frames one by one (ImageData, VideoFrame via fromVideoFrame, NV21/I420
// buffers) and get capture guidance on every frame and a decision once enough good frames agree.
// Good frames (quality ok) are fused: embeddings summed then normalised (best-of-N), liveness scores
// averaged. A time budget bounds the attempt; a clear first frame decides early. Each push() is
// synchronous and takes one pipeline pass (~35 ms here): run the engine in a Web Worker to keep a
// UI thread free (the engine matrix test runs it in one).

import type { FaceEngine, FrameAnalysis } from './engine.js';
import type { ImageInput } from './image.js';
import { Template, TemplateError } from './template.js';
import { GUIDANCE_TEXT, type FaceQuality } from './quality.js';
import { OptionError } from './errors.js';
import { describeValue } from './options.js';
import { ActiveLivenessCheck, type ActiveLivenessOptions, type Challenge } from './liveness/active.js';
import { lumaOf } from './liveness/photometric.js';

/**
 * Options of a live-capture session. Every field is checked when the session is created: a value of
 * the wrong type or outside its range, and any key not listed here (a typo must not silently fall
 * back to a default), is refused with WasmfaceError 'E_OPTION' naming the field, its range and what
 * was given. Fields that only verify sessions use (threshold, operatingPoint, earlyMargin, liveness)
 * are still checked in an enrol session.
 */
export interface SessionOptions {
  /** 'verify' decides match / no-match / spoof against `template`; 'enroll' builds a template. Required. */
  mode: 'verify' | 'enroll';
  /** The enrolled Template instance (js/template.ts; required for verify, refused for enroll). */
  template?: Template;
  /** Named match threshold known to the engine (default 'far1e-3'); `threshold` overrides it. */
  operatingPoint?: string;
  /** Explicit cosine threshold, a finite number in [-1, 1]. */
  threshold?: number;
  /** Good frames fused before deciding: an integer in [1, 100] (default 3; enrolment default 5). */
  frames?: number;
  /** Time budget in ms from the first frame: a finite number in [1, 600000] (default 5000). */
  budgetMs?: number;
  /**
   * Liveness: true (passive: the anti-spoofing models on each frame; default when the engine has
   * them), false (none), or 'active': a random head-movement challenge judged from the frames (works
   * at any distance, including a face filling the frame; see js/liveness/active.ts), combined with
   * the passive score on the frames where its patches fit.
   */
  liveness?: boolean | 'active';
  /** Active liveness: challenges in a row, an integer in [1, 4] (default 2). */
  challenges?: number;
  /** Active liveness: ms allowed per challenge, in [1000, 30000] (default 5000). */
  challengeMs?: number;
  /** Active liveness: true when frames are mirrored (a selfie preview fed back), default false. */
  mirrored?: boolean;
  /** Active liveness: uniform random numbers in [0, 1) for the prompts (default crypto.getRandomValues). */
  random?: () => number;
  /** Decide on the first good frame when it is this far above the threshold: a number >= 0, or Infinity to disable (default 0.02). */
  earlyMargin?: number;
  /**
   * Clock (ms), a function (default performance.now). A reading that is not a finite number, that
   * goes backwards, or a now() that throws ends the session ('timeout', with `reason`).
   */
  now?: () => number;
}

/** Option keys a session takes. */
export const SESSION_OPTION_KEYS = ['mode', 'template', 'operatingPoint', 'threshold', 'frames', 'budgetMs', 'liveness', 'earlyMargin', 'now', 'challenges', 'challengeMs', 'mirrored', 'random'] as const;
/** Options only an active-liveness session takes. */
const ACTIVE_OPTION_KEYS = ['challenges', 'challengeMs', 'mirrored', 'random'] as const;
/**
 * A tracked face that jumps more than this many inter-ocular distances between frames is another
 * face (or a picture swapped in): the active check and the fused frames start again.
 */
export const MAX_FACE_JUMP_IOD = 0.8;
/** Ranges of the numeric session options. */
export const SESSION_LIMITS = { frames: [1, 100], budgetMs: [1, 600_000] } as const;
/**
 * A session also ends after need + budget-seconds x this many frames, whatever the clock says (a
 * clock that stands still cannot keep it open): above any camera's rate, so a real clock ends it first.
 */
export const MAX_SESSION_FRAME_RATE = 240;

export type SessionState = 'collecting' | 'match' | 'no-match' | 'spoof' | 'timeout' | 'enrolled';

export interface SessionUpdate {
  state: SessionState;
  /** True once the session has decided; later pushes return the same decision. */
  done: boolean;
  /** Quality of this frame's face and what to tell the user. */
  quality: FaceQuality;
  guidance: string[];
  frames: number;
  goodFrames: number;
  /** Fused score and liveness so far (verify mode, after the first good frame). */
  score?: number;
  liveness?: number;
  template?: Template;
  elapsedMs: number;
  /** Why a session ended without its budget running out on a valid clock (broken clock, frame limit), or why it is 'spoof'. */
  reason?: string;
  /** Active liveness: what the user is asked to do now (also the first line of `guidance`). */
  challenge?: { prompt: Challenge | null; text: string; index: number; total: number; progress: number; passed: boolean };
}

const optionError = (message: string) => new OptionError(`session option ${message}`);

function numberIn(v: unknown, name: string, lo: number, hi: number, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw optionError(`${name} must be ${integer ? 'an integer' : 'a finite number'} in [${lo}, ${hi}], got ${describeValue(v)}`);
  }
  return v;
}

const defaultClock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class FaceSession {
  private fused: Float64Array | null = null;
  private live: number[] = [];
  private good = 0;
  private total = 0;
  private started = NaN;
  private lastReading = -Infinity;
  private lastElapsed = 0;
  private final: SessionUpdate | null = null;
  private readonly mode: 'verify' | 'enroll';
  private readonly need: number;
  private readonly budgetMs: number;
  private readonly maxFrames: number;
  private readonly margin: number;
  private readonly threshold: number;
  private readonly useLiveness: boolean;
  private readonly activeOptions: ActiveLivenessOptions | null;
  private active: ActiveLivenessCheck | null = null;
  private activePassed = false;
  private lastFace: { x: number; y: number; iod: number } | null = null;
  private readonly templateEmbedding: Float32Array | null;
  private readonly now: () => number;

  /** Checks every option (see SessionOptions) and copies them: later changes to `options` change nothing. */
  constructor(private readonly engine: FaceEngine, options: SessionOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new OptionError(`session options must be an object, got ${describeValue(options)}`);
    const o = options as unknown as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(SESSION_OPTION_KEYS as readonly string[]).includes(k)) throw new OptionError(`session options have no option '${k}' (known: ${SESSION_OPTION_KEYS.join(', ')})`);
    }
    const { mode, template, operatingPoint, threshold, frames, budgetMs, liveness, earlyMargin, now } = o;
    if (mode !== 'verify' && mode !== 'enroll') throw optionError(`mode must be 'verify' or 'enroll', got ${describeValue(mode)}`);
    this.mode = mode;
    if (mode === 'verify') {
      if (template === undefined) throw optionError('template: a verify session needs a template (a Template from FaceEngine.enroll, Template.fromBytes or an enrol session)');
      if (!(template instanceof Template)) throw optionError(`template must be a Template instance (use Template.fromBytes for stored bytes), got ${describeValue(template)}`);
      if (template.modelId !== engine.models.embedder) {
        throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${template.modelId}', this engine uses '${engine.models.embedder}': re-enrol the person`);
      }
      this.templateEmbedding = template.embedding;
    } else {
      if (template !== undefined) throw optionError(`template is for verify sessions (an enroll session makes one), got ${describeValue(template)}`);
      this.templateEmbedding = null;
    }
    this.need = frames === undefined ? (mode === 'enroll' ? 5 : 3) : numberIn(frames, 'frames', SESSION_LIMITS.frames[0], SESSION_LIMITS.frames[1], true);
    if (liveness !== undefined && typeof liveness !== 'boolean' && liveness !== 'active') throw optionError(`liveness must be true, false or 'active', got ${describeValue(liveness)}`);
    const hasModels = engine.models.antispoof.length > 0;
    if (liveness === true && !hasModels && mode === 'verify') throw optionError('liveness: true needs an engine with anti-spoofing models (models.antispoof)');
    if (liveness === 'active' && mode !== 'verify') throw optionError("liveness: 'active' is for verify sessions");
    for (const k of ACTIVE_OPTION_KEYS) if (o[k] !== undefined && liveness !== 'active') throw optionError(`${k} is an active-liveness option: pass it with liveness: 'active'`);
    if (liveness === 'active') {
      // the check validates its own options (E_OPTION) and draws the prompts now (fails here without a secure random source)
      this.activeOptions = Object.fromEntries(ACTIVE_OPTION_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
      this.active = new ActiveLivenessCheck(this.activeOptions);
    } else this.activeOptions = null;
    this.useLiveness = liveness === 'active' ? hasModels : liveness ?? hasModels;
    // an active session's default budget: every challenge's time, and 2 s to settle in front of the camera
    const defaultBudget = this.active ? 2000 + this.active.prompts.length * this.active.challengeMs : 5000;
    this.budgetMs = budgetMs === undefined ? defaultBudget : numberIn(budgetMs, 'budgetMs', SESSION_LIMITS.budgetMs[0], SESSION_LIMITS.budgetMs[1], false);
    this.maxFrames = this.need + Math.ceil((this.budgetMs / 1000) * MAX_SESSION_FRAME_RATE);
    if (earlyMargin === undefined) this.margin = 0.02;
    else if (typeof earlyMargin !== 'number' || Number.isNaN(earlyMargin) || earlyMargin < 0 || earlyMargin === -Infinity) throw optionError(`earlyMargin must be a number >= 0 (Infinity disables the early decision), got ${describeValue(earlyMargin)}`);
    else this.margin = earlyMargin;
    let fromPoint: number | undefined;
    if (operatingPoint !== undefined) {
      if (typeof operatingPoint !== 'string' || !operatingPoint) throw optionError(`operatingPoint must be the name of one of the engine's operating points, got ${describeValue(operatingPoint)}`);
      fromPoint = engine.threshold(operatingPoint); // throws E_OPERATING_POINT for unknown names
      if (typeof fromPoint !== 'number' || !(fromPoint >= -1 && fromPoint <= 1)) throw optionError(`operatingPoint ${describeValue(operatingPoint)} is not an operating point of this engine`);
    }
    if (threshold !== undefined) this.threshold = numberIn(threshold, 'threshold', -1, 1, false);
    else this.threshold = fromPoint ?? engine.threshold('far1e-3');
    if (now !== undefined && typeof now !== 'function') throw optionError(`now must be a function returning the time in ms, got ${describeValue(now)}`);
    this.now = (now as (() => number) | undefined) ?? defaultClock;
  }

  /** A clock reading, or why it cannot be used (the session then ends). */
  private read(): number | string {
    let t: unknown;
    try { t = this.now(); } catch (e) { return `the session clock threw (${e instanceof Error ? e.message : describeValue(e)})`; }
    if (typeof t !== 'number' || !Number.isFinite(t)) return `the session clock returned ${describeValue(t)}, not a finite time in ms`;
    if (t < this.lastReading) return `the session clock went backwards (${this.lastReading} to ${t})`;
    this.lastReading = t;
    return t;
  }

  /** Processes one frame. */
  push(image: ImageInput): SessionUpdate {
    if (this.final) return this.final;
    const t0 = this.read();
    if (typeof t0 === 'number' && Number.isNaN(this.started)) this.started = t0;
    this.total++;
    const verify = this.mode === 'verify';
    const a: FrameAnalysis = this.engine.analyze(image, { embed: true, liveness: this.useLiveness && verify });
    const t1 = typeof t0 === 'number' ? this.read() : t0;
    const guidance = a.quality.guidance.map((g) => GUIDANCE_TEXT[g]);
    if (typeof t1 !== 'number') {
      // a clock that cannot be read ends the session: no decision on a frame it cannot time
      return this.finish({ quality: a.quality, guidance, frames: this.total, goodFrames: this.good, elapsedMs: this.lastElapsed, state: 'timeout', done: true, reason: `${t1}: pass a monotonic now()` });
    }
    const elapsedMs = t1 - this.started;
    this.lastElapsed = elapsedMs;
    const tracked = this.active ? this.trackActive(a, image, t1) : undefined, challenge = tracked?.challenge;
    // active mode: the passive score counts where its patches fit, and close range is judged by the challenge
    const usable = a.quality.ok && a.embedding !== null && (!this.useLiveness || !verify || this.active !== null || a.liveness?.reliable === true);
    if (usable) {
      this.good++;
      this.fused ??= new Float64Array(a.embedding!.length);
      a.embedding!.forEach((v, i) => { this.fused![i] += v; });
    }
    if (usable && a.liveness && (this.active === null || a.liveness.reliable)) this.live.push(a.liveness.score);
    if (!usable && a.quality.ok && a.liveness && !a.liveness.reliable && !this.active) guidance.push(a.liveness.reason ?? GUIDANCE_TEXT['move-back']);
    if (challenge && !challenge.passed) guidance.unshift(challenge.text);
    const base = { quality: a.quality, guidance, frames: this.total, goodFrames: this.good, elapsedMs, ...(challenge && { challenge }) };
    // a move not made in time is a timeout (try again); a flat or wrong move is a spoof
    if (tracked?.failed) return this.finish({ ...base, state: tracked.timedOut ? 'timeout' : 'spoof', done: true, reason: tracked.failed });
    // the budget, or the frame limit when the clock stands still
    const over = elapsedMs > this.budgetMs || this.total >= this.maxFrames;
    const reason = elapsedMs > this.budgetMs ? undefined : this.total >= this.maxFrames ? `${this.total} frames without a decision: the frame limit for a ${this.budgetMs} ms budget (is the clock advancing?)` : undefined;

    if (!verify) {
      if (this.good >= this.need) return this.finish({ ...base, state: 'enrolled', done: true, template: new Template(this.engine.models.embedder, this.unit(), this.good) });
      if (over) return this.finish({ ...base, state: 'timeout', done: true, ...(reason && { reason }) });
      return { ...base, state: 'collecting', done: false };
    }

    const score = this.good ? this.engine.compareEmbeddings(this.unit(), this.templateEmbedding!) : undefined;
    const liveness = this.live.length ? this.live.reduce((s, v) => s + v, 0) / this.live.length : undefined;
    const livenessThreshold = this.engine.livenessThreshold;
    const decide = (): SessionUpdate => {
      // active mode: the challenge passed; a passive score, where there is one, can still say spoof
      const passiveSpoof = this.active ? liveness !== undefined && liveness < livenessThreshold : this.useLiveness && (liveness ?? 0) < livenessThreshold;
      if (passiveSpoof) return this.finish({ ...base, state: 'spoof', done: true, score, liveness, reason: 'the anti-spoofing models judged the face not live' });
      return this.finish({ ...base, state: score! >= this.threshold ? 'match' : 'no-match', done: true, score, liveness });
    };
    if (this.active && !this.activePassed) {
      if (over) return this.finish({ ...base, state: 'timeout', done: true, score, liveness, reason: reason ?? 'the liveness challenge was not completed within the budget' });
      return { ...base, state: 'collecting', done: false, score, liveness };
    }
    if (!this.active && this.good === 1 && score! >= this.threshold + this.margin && (!this.useLiveness || (liveness ?? 0) >= Math.min(0.99, livenessThreshold + 0.3))) return decide();
    if (this.good >= this.need) return decide();
    if (over) return this.good ? decide() : this.finish({ ...base, state: 'timeout', done: true, ...(reason && { reason }) });
    return { ...base, state: 'collecting', done: false, score, liveness };
  }

  /**
   * Active liveness on this frame: follows the largest face (a jump to another place restarts the
   * challenge and the fused frames, so the person matched is the person who moved), and feeds the
   * check its landmarks and the frame's luma.
   */
  private trackActive(a: FrameAnalysis, image: ImageInput, t: number): { challenge: NonNullable<SessionUpdate['challenge']>; failed?: string; timedOut?: boolean } {
    const f = a.face;
    if (f) {
      const [re, le] = f.landmarks, iod = Math.hypot(le[0] - re[0], le[1] - re[1]);
      const x = f.landmarks.reduce((s, p) => s + p[0], 0) / 5, y = f.landmarks.reduce((s, p) => s + p[1], 0) / 5;
      const last = this.lastFace;
      if (last && Math.hypot(x - last.x, y - last.y) > MAX_FACE_JUMP_IOD * Math.max(iod, last.iod)) {
        this.active = new ActiveLivenessCheck(this.activeOptions!);
        this.activePassed = false;
        this.fused = null; this.good = 0; this.live = [];
      }
      this.lastFace = { x, y, iod };
    }
    const check = this.active!;
    const u = check.push(f ? { landmarks: f.landmarks, luma: lumaOf(image) } : null, t);
    if (u.state === 'passed') this.activePassed = true;
    return {
      challenge: { prompt: u.challenge ?? null, text: u.text, index: u.index, total: u.total, progress: u.progress, passed: u.state === 'passed' },
      ...(u.state === 'failed' && { failed: `active liveness: ${u.reason ?? 'failed'}`, timedOut: u.failure === 'timeout' }),
    };
  }

  private unit(): Float32Array {
    const f = this.fused!;
    let n = 0;
    for (const v of f) n += v * v;
    n = Math.sqrt(n);
    return Float32Array.from(f, (v) => v / n);
  }

  private finish(u: SessionUpdate): SessionUpdate {
    this.final = u;
    return u;
  }
}
