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

export interface SessionOptions {
  /** 'verify' decides match / no-match / spoof against `template`; 'enroll' builds a template. */
  mode: 'verify' | 'enroll';
  template?: Template;
  /** Named match threshold (default 'far1e-3') or an explicit one. */
  operatingPoint?: string;
  threshold?: number;
  /** Good frames fused before deciding (default 3; enrolment default 5). */
  frames?: number;
  /** Time budget in ms from the first frame (default 5000). */
  budgetMs?: number;
  /** Require a live judgement (default: when the engine has anti-spoofing models). */
  liveness?: boolean;
  /** Decide on the first good frame when it is this far above the threshold (default 0.02; Infinity disables). */
  earlyMargin?: number;
  /** Clock (ms). */
  now?: () => number;
}

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
}

export class FaceSession {
  private fused: Float64Array | null = null;
  private live: number[] = [];
  private good = 0;
  private total = 0;
  private started = -1;
  private final: SessionUpdate | null = null;
  private readonly need: number;
  private readonly threshold: number;
  private readonly useLiveness: boolean;
  private readonly now: () => number;

  constructor(private readonly engine: FaceEngine, private readonly options: SessionOptions) {
    if (options.mode === 'verify') {
      if (!options.template) throw new WasmfaceError('E_OPTION', 'a verify session needs a template');
      if (options.template.modelId !== engine.models.embedder) {
        throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${options.template.modelId}', this engine uses '${engine.models.embedder}': re-enrol the person`);
      }
    }
    this.need = Math.max(1, options.frames ?? (options.mode === 'enroll' ? 5 : 3));
    this.threshold = options.threshold ?? engine.threshold(options.operatingPoint ?? 'far1e-3');
    this.useLiveness = options.liveness ?? engine.models.antispoof.length > 0;
    this.now = options.now ?? (() => (typeof performance !== 'undefined' ? performance.now() : Date.now()));
  }

  /** Processes one frame. */
  push(image: ImageInput): SessionUpdate {
    if (this.final) return this.final;
    const t = this.now();
    if (this.started < 0) this.started = t;
    this.total++;
    const a: FrameAnalysis = this.engine.analyze(image, { embed: true, liveness: this.useLiveness && this.options.mode === 'verify' });
    const usable = a.quality.ok && a.embedding !== null && (!this.useLiveness || this.options.mode === 'enroll' || a.liveness?.reliable === true);
    if (usable) {
      this.good++;
      this.fused ??= new Float64Array(a.embedding!.length);
      a.embedding!.forEach((v, i) => { this.fused![i] += v; });
      if (a.liveness) this.live.push(a.liveness.score);
    }
    const elapsedMs = this.now() - this.started;
    const guidance = a.quality.guidance.map((g) => GUIDANCE_TEXT[g]);
    if (!usable && a.quality.ok && a.liveness && !a.liveness.reliable) guidance.push(a.liveness.reason ?? GUIDANCE_TEXT['move-back']);
    const base = { quality: a.quality, guidance, frames: this.total, goodFrames: this.good, elapsedMs };

    if (this.options.mode === 'enroll') {
      if (this.good >= this.need) return this.finish({ ...base, state: 'enrolled', done: true, template: new Template(this.engine.models.embedder, this.unit(), this.good) });
      if (elapsedMs > (this.options.budgetMs ?? 5000)) return this.finish({ ...base, state: 'timeout', done: true });
      return { ...base, state: 'collecting', done: false };
    }

    const score = this.good ? this.engine.compareEmbeddings(this.unit(), this.options.template!.embedding) : undefined;
    const liveness = this.live.length ? this.live.reduce((s, v) => s + v, 0) / this.live.length : undefined;
    const livenessThreshold = this.engine.livenessThreshold;
    const decide = (): SessionUpdate => {
      if (this.useLiveness && (liveness ?? 0) < livenessThreshold) return this.finish({ ...base, state: 'spoof', done: true, score, liveness });
      return this.finish({ ...base, state: score! >= this.threshold ? 'match' : 'no-match', done: true, score, liveness });
    };
    const margin = this.options.earlyMargin ?? 0.02;
    if (this.good === 1 && score! >= this.threshold + margin && (!this.useLiveness || (liveness ?? 0) >= Math.min(0.99, livenessThreshold + 0.3))) return decide();
    if (this.good >= this.need) return decide();
    if (elapsedMs > (this.options.budgetMs ?? 5000)) return this.good ? decide() : this.finish({ ...base, state: 'timeout', done: true });
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
