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
import { WasmfaceError } from './errors.js';

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
  /** Require a live judgement: true or false (default: when the engine has anti-spoofing models; true needs them). */
  liveness?: boolean;
  /** Decide on the first good frame when it is this far above the threshold: a number >= 0, or Infinity to disable (default 0.02). */
  earlyMargin?: number;
  /**
   * Clock (ms), a function (default performance.now). A reading that is not a finite number, that
   * goes backwards, or a now() that throws ends the session ('timeout', with `reason`).
   */
  now?: () => number;
}

/** Option keys a session takes. */
export const SESSION_OPTION_KEYS = ['mode', 'template', 'operatingPoint', 'threshold', 'frames', 'budgetMs', 'liveness', 'earlyMargin', 'now'] as const;
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
  /** Why a session ended without its budget running out on a valid clock (broken clock, frame limit). */
  reason?: string;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return Object.prototype.toString.call(v);
}

const optionError = (message: string) => new WasmfaceError('E_OPTION', `session option ${message}`);

function numberIn(v: unknown, name: string, lo: number, hi: number, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw optionError(`${name} must be ${integer ? 'an integer' : 'a finite number'} in [${lo}, ${hi}], got ${describe(v)}`);
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
  private readonly templateEmbedding: Float32Array | null;
  private readonly now: () => number;

  /** Checks every option (see SessionOptions) and copies them: later changes to `options` change nothing. */
  constructor(private readonly engine: FaceEngine, options: SessionOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new WasmfaceError('E_OPTION', `session options must be an object, got ${describe(options)}`);
    const o = options as unknown as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(SESSION_OPTION_KEYS as readonly string[]).includes(k)) throw new WasmfaceError('E_OPTION', `session options have no option '${k}' (known: ${SESSION_OPTION_KEYS.join(', ')})`);
    }
    const { mode, template, operatingPoint, threshold, frames, budgetMs, liveness, earlyMargin, now } = o;
    if (mode !== 'verify' && mode !== 'enroll') throw optionError(`mode must be 'verify' or 'enroll', got ${describe(mode)}`);
    this.mode = mode;
    if (mode === 'verify') {
      if (template === undefined) throw optionError('template: a verify session needs a template (a Template from FaceEngine.enroll, Template.fromBytes or an enrol session)');
      if (!(template instanceof Template)) throw optionError(`template must be a Template instance (use Template.fromBytes for stored bytes), got ${describe(template)}`);
      if (template.modelId !== engine.models.embedder) {
        throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${template.modelId}', this engine uses '${engine.models.embedder}': re-enrol the person`);
      }
      this.templateEmbedding = template.embedding;
    } else {
      if (template !== undefined) throw optionError(`template is for verify sessions (an enroll session makes one), got ${describe(template)}`);
      this.templateEmbedding = null;
    }
    this.need = frames === undefined ? (mode === 'enroll' ? 5 : 3) : numberIn(frames, 'frames', SESSION_LIMITS.frames[0], SESSION_LIMITS.frames[1], true);
    this.budgetMs = budgetMs === undefined ? 5000 : numberIn(budgetMs, 'budgetMs', SESSION_LIMITS.budgetMs[0], SESSION_LIMITS.budgetMs[1], false);
    this.maxFrames = this.need + Math.ceil((this.budgetMs / 1000) * MAX_SESSION_FRAME_RATE);
    if (earlyMargin === undefined) this.margin = 0.02;
    else if (typeof earlyMargin !== 'number' || Number.isNaN(earlyMargin) || earlyMargin < 0 || earlyMargin === -Infinity) throw optionError(`earlyMargin must be a number >= 0 (Infinity disables the early decision), got ${describe(earlyMargin)}`);
    else this.margin = earlyMargin;
    let fromPoint: number | undefined;
    if (operatingPoint !== undefined) {
      if (typeof operatingPoint !== 'string' || !operatingPoint) throw optionError(`operatingPoint must be the name of one of the engine's operating points, got ${describe(operatingPoint)}`);
      fromPoint = engine.threshold(operatingPoint); // throws E_OPERATING_POINT for unknown names
      if (typeof fromPoint !== 'number' || !(fromPoint >= -1 && fromPoint <= 1)) throw optionError(`operatingPoint ${describe(operatingPoint)} is not an operating point of this engine`);
    }
    if (threshold !== undefined) this.threshold = numberIn(threshold, 'threshold', -1, 1, false);
    else this.threshold = fromPoint ?? engine.threshold('far1e-3');
    if (liveness !== undefined && typeof liveness !== 'boolean') throw optionError(`liveness must be true or false, got ${describe(liveness)}`);
    const hasModels = engine.models.antispoof.length > 0;
    if (liveness === true && !hasModels && mode === 'verify') throw optionError('liveness: true needs an engine with anti-spoofing models (models.antispoof)');
    this.useLiveness = liveness ?? hasModels;
    if (now !== undefined && typeof now !== 'function') throw optionError(`now must be a function returning the time in ms, got ${describe(now)}`);
    this.now = (now as (() => number) | undefined) ?? defaultClock;
  }

  /** A clock reading, or why it cannot be used (the session then ends). */
  private read(): number | string {
    let t: unknown;
    try { t = this.now(); } catch (e) { return `the session clock threw (${e instanceof Error ? e.message : describe(e)})`; }
    if (typeof t !== 'number' || !Number.isFinite(t)) return `the session clock returned ${describe(t)}, not a finite time in ms`;
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
    const usable = a.quality.ok && a.embedding !== null && (!this.useLiveness || !verify || a.liveness?.reliable === true);
    if (usable) {
      this.good++;
      this.fused ??= new Float64Array(a.embedding!.length);
      a.embedding!.forEach((v, i) => { this.fused![i] += v; });
      if (a.liveness) this.live.push(a.liveness.score);
    }
    const elapsedMs = t1 - this.started;
    this.lastElapsed = elapsedMs;
    if (!usable && a.quality.ok && a.liveness && !a.liveness.reliable) guidance.push(a.liveness.reason ?? GUIDANCE_TEXT['move-back']);
    const base = { quality: a.quality, guidance, frames: this.total, goodFrames: this.good, elapsedMs };
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
      if (this.useLiveness && (liveness ?? 0) < livenessThreshold) return this.finish({ ...base, state: 'spoof', done: true, score, liveness });
      return this.finish({ ...base, state: score! >= this.threshold ? 'match' : 'no-match', done: true, score, liveness });
    };
    if (this.good === 1 && score! >= this.threshold + this.margin && (!this.useLiveness || (liveness ?? 0) >= Math.min(0.99, livenessThreshold + 0.3))) return decide();
    if (this.good >= this.need) return decide();
    if (over) return this.good ? decide() : this.finish({ ...base, state: 'timeout', done: true, ...(reason && { reason }) });
    return { ...base, state: 'collecting', done: false, score, liveness };
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
