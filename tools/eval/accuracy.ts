// Agreement of OUR int8 models, run by OUR wasm runtime, with the float originals run by independent
// engines (tools/eval/references.ts). Shared by tools/eval/eval-models.ts (full and quick runs) and
// tests/models/accuracy.test.ts (a CI-sized subset).
//
// The int8 side is the product: FaceEngine from js/node.ts (createNodeEngine, bundled models, flip
// fusion off) for detection, embeddings and fused liveness, plus separate Model instances of the same
// files in the same wasm instance for per-model outputs. Both sides get the same bytes: the engine's
// letterboxed detector canvas, its fa150 crop, its anti-spoofing patches, reproduced with the same
// wasm calls (tools/eval/wasm-steps.ts) and checked against the engine's own results.
import { readFileSync } from 'node:fs';
import { bundledModels, createNodeEngine, readImageFile, NoFaceError, ImageDecodeError, type FaceEngine, type DetectedFace } from '../../js/node.js';
import type { Backend } from '../../js/loader.js';
import { Model, Arena } from '../../js/model.js';
import { sha256Hex } from '../../js/engine.js';
import { computeMetrics, thresholdAtFar } from '../../js/cli/metrics.js';
import { DEFAULT_OPERATING_POINTS } from '../../js/operating-points.js';
import type { ImageInput } from '../../js/image.js';
import { sharedPath } from '../convert/models.js';
import { mulberry32 as rng } from '../rng.js';
import { similarity, TEMPLATE_112 } from '../convert/image.js';
import { decodeYunet, iou, type Detection } from '../convert/yunet-decode.js';
import { FloatEmbedder, FloatMiniFas, FloatYunet, softmax, unit, ortVersion } from './references.js';
import { largestFace, WasmSteps, type Canvas } from './wasm-steps.js';

// ---------------------------------------------------------------------------------------------
// Targets (issue text)

export const TARGETS = {
  embedderMeanCosine: 0.99,
  embedderP1Cosine: 0.97,
  pairAgreement: 0.999,
  detectorIou: 0.9,
  detectorLandmark112: 2,
  fusedLiveDiff: 0.02,
};

/** The engine's detector score threshold; decoding for the comparison keeps faces down to FLOOR. */
export const DETECT_THRESHOLD = 0.6;
/** Weighted box fusion in NMS, as the engine decodes by default (FaceEngineOptions.detector.fuse); WASMFACE_EVAL_FUSE=0 compares plain NMS. */
const FUSE = process.env.WASMFACE_EVAL_FUSE !== '0';
/**
 * Decoding floor. With fusion the candidates a face averages over must be the engine's (score >= its
 * threshold), so the floor is the threshold; with plain NMS a lower floor also catches faces that
 * land on opposite sides of the threshold in float and int8.
 */
const DECODE_FLOOR = FUSE ? DETECT_THRESHOLD : 0.5;
const MATCH_IOU = 0.5;

// ---------------------------------------------------------------------------------------------
// Data selection (seeded; identical on every platform)

export interface Pair { a: string; b: string; same: boolean }
export interface Scene { path: string; identity: string; source: string; tight: boolean }

export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items], r = rng(seed);
  for (let i = out.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return out;
}

export function readPairs(): Pair[] {
  return readFileSync(sharedPath('faces/pairs.csv'), 'utf8').trim().split(/\r?\n/).slice(1)
    .map((l) => { const [a, b, s] = l.split(','); return { a, b, same: s.trim() === '1' }; });
}

function manifest(): Scene[] {
  return readFileSync(sharedPath('faces/manifest.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => {
    const [path, identity, source] = l.split(',');
    const tight = source === 'lfw' || (source === 'face-api.js' && !identity.startsWith('_'));
    return { path, identity, source, tight };
  });
}

/**
 * Images of the pairs file: all of them, or a seeded subset of at most `maxImages` built by taking
 * genuine and impostor pairs alternately (so both kinds are covered), then every pair of the file
 * whose two images are in the subset.
 */
export function selectPairs(maxImages: number | undefined, seed: number, excluded: ReadonlySet<string> = new Set()): { images: string[]; pairs: Pair[] } {
  // pairs touching an excluded picture (e.g. a converter's calibration pictures) are never chosen
  const all = readPairs().filter((p) => !excluded.has(p.a) && !excluded.has(p.b));
  if (!maxImages) return { images: [...new Set(all.flatMap((p) => [p.a, p.b]))], pairs: all };
  const G = shuffle(all.filter((p) => p.same), seed), I = shuffle(all.filter((p) => !p.same), seed + 1);
  const chosen = new Set<string>();
  for (let gi = 0, ii = 0, turn = 0; chosen.size < maxImages && (gi < G.length || ii < I.length); turn++) {
    const p = (turn % 2 === 0 && gi < G.length) || ii >= I.length ? G[gi++] : I[ii++];
    const add = [p.a, p.b].filter((x) => !chosen.has(x));
    if (chosen.size + add.length <= maxImages) for (const x of add) chosen.add(x);
  }
  return { images: [...chosen], pairs: all.filter((p) => chosen.has(p.a) && chosen.has(p.b)) };
}

/** Detector / liveness pictures: `whole` of the non-LFW dev pictures (all: undefined) and `lfw` LFW crops, seeded. */
export function selectScenes(whole: number | undefined, lfw: number, seed: number): Scene[] {
  const rows = manifest().filter((r) => !r.path.startsWith('spoof/'));
  const other = shuffle(rows.filter((r) => r.source !== 'lfw'), seed);
  const l = shuffle(rows.filter((r) => r.source === 'lfw'), seed + 2);
  return [...other.slice(0, whole ?? other.length), ...l.slice(0, lfw)];
}

export function spoofScenes(): Scene[] {
  return manifest().filter((r) => r.path.startsWith('spoof/'));
}

// ---------------------------------------------------------------------------------------------
// Statistics

export interface Stats { n: number; mean: number; min: number; max: number; p1: number; p5: number; p50: number; p95: number; p99: number }

/** Nearest-rank percentile, p in 0..100. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function stats(values: number[]): Stats {
  const s = Float64Array.from(values).sort();
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, mean, min: s.length ? s[0] : NaN, max: s.length ? s[s.length - 1] : NaN,
    p1: percentile(s, 1), p5: percentile(s, 5), p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
}

const share = (values: number[], ok: (v: number) => boolean) => (values.length ? values.filter(ok).length / values.length : NaN);

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i] * b[i];
  return d;
}

// ---------------------------------------------------------------------------------------------
// The evaluator: int8 engine + separate int8 model instances + float references

export interface ModelInfo { id: string; file: string; sha256: string; bytes: number }

export class Evaluator {
  private constructor(
    readonly engine: FaceEngine,
    readonly steps: WasmSteps,
    private readonly arena: Arena,
    readonly int8: { detector: Model; embedder: Model; antispoof: Model[] },
    readonly float: { yunet: FloatYunet; embedder: FloatEmbedder; antispoof: FloatMiniFas[] },
    readonly antispoofScales: number[],
    readonly models: ModelInfo[],
  ) {}

  static async create(options: { backend?: Backend } = {}): Promise<Evaluator> {
    // the evaluator's copies of the engine's buffers live in the same instance: more than the default 256 MiB for large photos
    // maxFrameSide 0: the evaluator feeds the models the full-resolution frame, and its consistency
    // check compares with an engine that does the same (frame halving is the engine's, not the models')
    const engine = await createNodeEngine({ backend: options.backend, embedder: { flip: false }, memoryLimitMB: 1024, maxFrameSide: 0 });
    // bundledModels() reads the same files createNodeEngine just loaded (js/node.ts: Buffers from readFileSync)
    const files = bundledModels();
    const bytes = (s: unknown): Uint8Array => { if (!(s instanceof Uint8Array)) throw new Error('bundledModels() gave no bytes'); return s; };
    const x = engine.wasm, arena = new Arena(x);
    const load = (s: unknown) => Model.load(x, arena, bytes(s));
    const detector = load(files.detector), embedder = load(files.embedder);
    const antispoof = (files.antispoof ?? []).map(load);
    const ids = engine.models;
    if (detector.id !== ids.detector || embedder.id !== ids.embedder || antispoof.map((m) => m.id).join() !== ids.antispoof.join()) {
      throw new Error('the bundled models changed between engine creation and the evaluator\'s own load');
    }
    const scales = antispoof.map((m) => Number((m.meta as { patchScale?: number }).patchScale ?? /-(\d+(?:\.\d+)?)$/.exec(m.id)?.[1]));
    const info = (m: Model, s: unknown): ModelInfo => ({ id: m.id, file: `models/${m.id}.wfm`, sha256: sha256Hex(x, bytes(s)), bytes: bytes(s).length });
    const models = [info(detector, files.detector), info(embedder, files.embedder), ...antispoof.map((m, i) => info(m, files.antispoof![i]))];
    const float = {
      yunet: await FloatYunet.create(),
      embedder: await FloatEmbedder.create(),
      antispoof: await Promise.all(antispoof.map((m) => FloatMiniFas.create(m.id))),
    };
    return new Evaluator(engine, new WasmSteps(x), arena, { detector, embedder, antispoof }, float, scales, models);
  }

  get backend(): string { return this.engine.backend; }
  get versions(): Record<string, string> {
    return { node: process.version, onnxruntimeWeb: ortVersion(), tfjs: this.float.embedder.tfVersion, tfjsBackend: this.float.embedder.backend, wasmface: this.engine.backend };
  }

  async dispose(): Promise<void> {
    for (const m of [this.int8.detector, this.int8.embedder, ...this.int8.antispoof]) m.dispose();
    this.arena.dispose();
    this.steps.dispose();
    this.engine.dispose();
    await this.float.yunet.release();
    for (const f of this.float.antispoof) await f.release();
  }

  // ---- detector on one canvas

  int8Detections(c: Canvas): Detection[] {
    const m = this.int8.detector;
    m.setInputSize(c.inW, c.inH);
    m.run(c.rgb);
    const out: Record<string, Float32Array> = {};
    for (let i = 0; i < m.outputCount; i++) { const o = m.output(i); out[o.name] = o.data; }
    return decodeYunet(out, c.inH, c.inW, DECODE_FLOOR, 0.3, FUSE);
  }

  async floatDetections(c: Canvas): Promise<Detection[]> {
    return decodeYunet(await this.float.yunet.run(c.rgb, c.inW, c.inH), c.inH, c.inW, DECODE_FLOOR, 0.3, FUSE);
  }

  // ---- anti-spoofing on one face

  /** Softmax vectors of every anti-spoofing model, int8 and float, on the engine's patches of `face`. */
  async liveness(rgb: number, w: number, h: number, face: DetectedFace): Promise<{ int8: number[][]; float: number[][]; contexts: number[] }> {
    const int8: number[][] = [], float: number[][] = [], contexts: number[] = [];
    for (const [i, m] of this.int8.antispoof.entries()) {
      const { width: pw, height: ph } = m.inputSize;
      const p = this.steps.patch(rgb, w, h, face, this.antispoofScales[i], pw, ph);
      m.run(p.rgb);
      int8.push(softmax(m.output(0).data));
      float.push(await this.float.antispoof[i].probs(p.rgb, pw));
      contexts.push(p.context);
    }
    return { int8, float, contexts };
  }
}

function tryRead(path: string): ImageInput | undefined {
  try {
    return readImageFile(sharedPath(`faces/${path}`));
  } catch (e) {
    if (e instanceof ImageDecodeError) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Embedder

export interface EmbedderResult {
  id: string;
  images: number;
  embedded: number;
  noFace: string[];
  unreadable: string[];
  /** cosine(int8, float) per embedded image. */
  cosine: Stats;
  /** On the consistency subset: cosine(int8, @vladmandic's own /255 preprocessing), and cosine(int8, the /256 reference) on the same faces. */
  cosineAsIs255?: { asIs: Stats; reference: Stats };
  /** The evaluator's crop through a separate Model instance gives the engine's embedding (max |difference|). */
  consistency: { checked: number; maxAbsDiff: number };
  worst: { path: string; cosine: number }[];
  pairs: PairResult;
  ms: { int8: number; float: number };
}

export interface PairResult {
  total: number;
  /** Pairs where both images gave a face (the others are left out). */
  used: number;
  genuine: number;
  impostor: number;
  floatThreshold: number;
  int8Threshold: number;
  /** Share of pairs where float (at its own FAR-1e-3 threshold) and int8 (at its own) decide alike. */
  agreement: number;
  disagreements: { genuine: number; impostor: number; examples: { a: string; b: string; same: boolean; float: number; int8: number }[] };
  /** The same with the int8 side at the shipped far1e-3 operating point (calibrated WITH flip fusion). */
  shipped: { threshold: number; agreement: number };
  /** Both sides at the float threshold: what score changes alone do, without the threshold moving. */
  sharedThreshold: { agreement: number; differ: number };
  tarAtFar: { float: Record<string, number>; int8: Record<string, number> };
  /** Score differences int8 - float over the used pairs. */
  scoreDiff: Stats;
}

export async function evalEmbedder(ev: Evaluator, images: string[], pairs: Pair[], opts: { consistency?: number; onEach?: () => void } = {}): Promise<EmbedderResult> {
  const f = new Map<string, Float64Array>(), q = new Map<string, Float64Array>();
  const noFace: string[] = [], unreadable: string[] = [], cos: number[] = [], asIs: number[] = [], asIsRef: number[] = [], perImage: { path: string; cosine: number }[] = [];
  let checked = 0, maxAbsDiff = 0, tInt8 = 0, tFloat = 0;
  const consistency = opts.consistency ?? 25;
  for (const path of images) {
    const img = tryRead(path);
    if (!img) { unreadable.push(path); opts.onEach?.(); continue; }
    const t0 = performance.now();
    let r;
    try { r = ev.engine.embed(img); } catch (e) {
      if (!(e instanceof NoFaceError)) throw e;
      noFace.push(path); opts.onEach?.(); continue;
    }
    const t1 = performance.now();
    const { rgb, w, h } = ev.steps.toRgb(img);
    const crop = ev.steps.align(rgb, w, h, r.face);
    const t2 = performance.now();
    const fe = await ev.float.embedder.embed(crop);
    tInt8 += t1 - t0; tFloat += performance.now() - t2;
    const qe = Float64Array.from(r.embedding);
    f.set(path, fe); q.set(path, qe);
    const c = dot(fe, qe);
    cos.push(c); perImage.push({ path, cosine: c });
    if (checked < consistency) {
      const m = ev.int8.embedder;
      m.run(crop);
      const mine = unit(m.output(0).data);
      for (let i = 0; i < mine.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(mine[i] - qe[i]));
      asIs.push(dot(await ev.float.embedder.embed(crop, true), qe));
      asIsRef.push(c);
      checked++;
    }
    opts.onEach?.();
  }
  const embedded = cos.length;
  return {
    id: ev.engine.models.embedder, images: images.length, embedded, noFace, unreadable,
    cosine: stats(cos), cosineAsIs255: asIs.length ? { asIs: stats(asIs), reference: stats(asIsRef) } : undefined,
    consistency: { checked, maxAbsDiff },
    worst: perImage.sort((a, b) => a.cosine - b.cosine).slice(0, 5),
    pairs: comparePairs(pairs, f, q, ev.engine.models.embedder),
    ms: { int8: embedded ? tInt8 / embedded : NaN, float: embedded ? tFloat / embedded : NaN },
  };
}

export function comparePairs(pairs: Pair[], f: Map<string, Float64Array>, q: Map<string, Float64Array>, embedderId: string): PairResult {
  const used = pairs.filter((p) => f.has(p.a) && f.has(p.b));
  const sf = used.map((p) => dot(f.get(p.a)!, f.get(p.b)!)), sq = used.map((p) => dot(q.get(p.a)!, q.get(p.b)!));
  const thr = (scores: number[]) => thresholdAtFar(Float64Array.from(scores.filter((_, i) => !used[i].same)).sort().reverse(), 1e-3);
  const tf = thr(sf), tq = thr(sq);
  const shippedT = DEFAULT_OPERATING_POINTS[embedderId]?.['far1e-3'] ?? NaN;
  let agree = 0, agreeShipped = 0, agreeShared = 0;
  const dis = { genuine: 0, impostor: 0, examples: [] as PairResult['disagreements']['examples'] };
  used.forEach((p, i) => {
    const df = sf[i] >= tf;
    if (df === (sq[i] >= tq)) agree++;
    else {
      if (p.same) dis.genuine++; else dis.impostor++;
      if (dis.examples.length < 10) dis.examples.push({ a: p.a, b: p.b, same: p.same, float: sf[i], int8: sq[i] });
    }
    if (df === (sq[i] >= shippedT)) agreeShipped++;
    if (df === (sq[i] >= tf)) agreeShared++;
  });
  const metrics = (s: number[]) => computeMetrics(s.filter((_, i) => used[i].same), s.filter((_, i) => !used[i].same), 0.5).tar_at_far;
  return {
    total: pairs.length, used: used.length, genuine: used.filter((p) => p.same).length, impostor: used.filter((p) => !p.same).length,
    floatThreshold: tf, int8Threshold: tq, agreement: used.length ? agree / used.length : NaN, disagreements: dis,
    shipped: { threshold: shippedT, agreement: used.length ? agreeShipped / used.length : NaN },
    sharedThreshold: { agreement: used.length ? agreeShared / used.length : NaN, differ: used.length - agreeShared },
    tarAtFar: { float: metrics(sf), int8: metrics(sq) },
    scoreDiff: stats(sq.map((v, i) => v - sf[i])),
  };
}

// ---------------------------------------------------------------------------------------------
// Detector

export type CanvasKind = 'picture' | 'tight crop' | 'tight crop, padded';

export interface FaceMatch {
  path: string; pad: number; kind: CanvasKind;
  /** This canvas is the one engine.detect used for the picture (pad 0, or the padded retry when pad 0 gave no face). */
  engineCanvas: boolean;
  /** Stride of the anchor each side kept after NMS, and whether both kept the same anchor. */
  floatStride: number; int8Stride: number; sameAnchor: boolean;
  iou: number; landmarks112: number[]; floatScore: number; int8Score: number;
}

export interface FaceGroup { faces: number; iouMin: number; iouMean: number; iouShare: number; lmkMean: number; lmkP99: number; lmkMax: number; lmkShare: number }

export interface DetectorResult {
  id: string;
  images: number;
  unreadable: string[];
  canvases: number;
  /** Faces either side reports at the engine threshold and the other found (at >= 0.5) at IoU >= 0.5. */
  matched: number;
  /** Float faces >= 0.6 the int8 model did not find, and int8 faces >= 0.6 float did not. */
  missed: { path: string; score: number }[];
  extra: { path: string; score: number }[];
  /** Matched faces that only one side scores >= the engine threshold. */
  thresholdFlips: number;
  iou: Stats;
  iouShareAtTarget: number;
  /** Per landmark, px at 112x112 scale (the alignment scale: similarity from the float landmarks to the 112 template). */
  landmark112: Stats;
  landmarkShareAtTarget: number;
  /** Per face: the worst of its 5 landmarks, and the share of faces with all 5 within the target. */
  faceWorstLandmark112: Stats;
  faceShareAtTarget: number;
  scoreDiff: Stats;
  worst: FaceMatch[];
  /** The same figures per kind of canvas, and over the canvases the engine itself used. */
  groups: Record<string, FaceGroup>;
  /** The evaluator's canvas + int8 run reproduce engine.detect (faces, max coordinate difference in px). */
  consistency: { images: number; sameCount: number; maxCoordDiff: number };
  sizes: Record<string, number>;
  ms: { int8: number; float: number };
}

/** Greedy one-to-one matching by IoU of float and int8 faces (both decoded at >= DECODE_FLOOR). */
export function matchFaces(fl: Detection[], q: Detection[]) {
  const cand: { i: number; j: number; v: number }[] = [];
  fl.forEach((a, i) => q.forEach((b, j) => { const v = iou(a, b); if (v >= MATCH_IOU) cand.push({ i, j, v }); }));
  cand.sort((x, y) => y.v - x.v);
  const usedF = new Set<number>(), usedQ = new Set<number>(), pairs: { a: Detection; b: Detection; v: number }[] = [];
  for (const c of cand) if (!usedF.has(c.i) && !usedQ.has(c.j)) { usedF.add(c.i); usedQ.add(c.j); pairs.push({ a: fl[c.i], b: q[c.j], v: c.v }); }
  const counted = pairs.filter((p) => Math.max(p.a.score, p.b.score) >= DETECT_THRESHOLD);
  return {
    matched: counted,
    missed: fl.filter((a, i) => !usedF.has(i) && a.score >= DETECT_THRESHOLD),
    extra: q.filter((b, j) => !usedQ.has(j) && b.score >= DETECT_THRESHOLD),
    flips: counted.filter((p) => (p.a.score >= DETECT_THRESHOLD) !== (p.b.score >= DETECT_THRESHOLD)).length,
  };
}

/** Landmark errors at 112 scale: distances times the scale of the similarity taking the float landmarks to the 112 template. */
export function landmarkErrors112(a: Detection, b: Detection): number[] {
  const m = similarity(a.landmarks, TEMPLATE_112);
  const k = Math.hypot(m[0], m[3]);
  return a.landmarks.map(([x, y], n) => Math.hypot(x - b.landmarks[n][0], y - b.landmarks[n][1]) * k);
}

export interface SceneAccumulator {
  det: { canvases: number; matches: FaceMatch[]; missed: { path: string; score: number }[]; extra: { path: string; score: number }[]; flips: number;
    scoreDiff: number[]; sizes: Record<string, number>; consistency: { images: number; same: number; maxDiff: number }; tInt8: number; tFloat: number; n: number };
  live: LiveSample[];
  unreadable: string[];
  images: number;
}

/** One face's liveness: live probability per model (int8, float), fused scores, upstream fused class (argmax of the summed softmax vectors; 1 = live). */
export interface LiveSample {
  path: string; label: string; int8: number[]; float: number[]; fusedInt8: number; fusedFloat: number; int8Class: number; floatClass: number;
  engine: number; engineLive: boolean; reliable: boolean; contexts: number[];
}

export function newAccumulator(): SceneAccumulator {
  return { det: { canvases: 0, matches: [], missed: [], extra: [], flips: 0, scoreDiff: [], sizes: {}, consistency: { images: 0, same: 0, maxDiff: 0 }, tInt8: 0, tFloat: 0, n: 0 }, live: [], unreadable: [], images: 0 };
}

/**
 * One picture: the detector on the engine's canvas (pad 0, and for tight crops also the padded
 * canvas of the engine's retry), then, if the engine finds a face, liveness on its largest face.
 */
export async function evalScene(ev: Evaluator, scene: Scene, acc: SceneAccumulator, opts: { detector?: boolean; liveness?: boolean } = {}): Promise<void> {
  const img = tryRead(scene.path);
  acc.images++;
  if (!img) { acc.unreadable.push(scene.path); return; }
  const engineFaces = ev.engine.detect(img);
  const { rgb, w, h } = ev.steps.toRgb(img);
  if (opts.detector !== false) {
    const d = acc.det;
    const pads = scene.tight ? [0, Math.round(Math.max(w, h) / 2)] : [0];
    const int8AtPad = new Map<number, { c: Canvas; faces: Detection[] }>();
    let padZeroFound = true;
    for (const pad of pads) {
      const c = ev.steps.detectorCanvas(rgb, w, h, pad);
      const t0 = performance.now();
      const q = ev.int8Detections(c);
      const t1 = performance.now();
      const fl = await ev.floatDetections(c);
      d.tInt8 += t1 - t0; d.tFloat += performance.now() - t1; d.n++;
      d.canvases++;
      const key = `${c.inW}x${c.inH}`;
      d.sizes[key] = (d.sizes[key] ?? 0) + 1;
      int8AtPad.set(pad, { c, faces: q });
      if (pad === 0) padZeroFound = q.some((f) => f.score >= DETECT_THRESHOLD);
      const kind: CanvasKind = !scene.tight ? 'picture' : pad ? 'tight crop, padded' : 'tight crop';
      const m = matchFaces(fl, q);
      for (const p of m.matched) {
        d.matches.push({ path: scene.path, pad, kind, engineCanvas: pad === 0 ? padZeroFound : !padZeroFound,
          floatStride: p.a.stride, int8Stride: p.b.stride, sameAnchor: p.a.stride === p.b.stride && p.a.anchor === p.b.anchor, iou: p.v, landmarks112: landmarkErrors112(p.a, p.b), floatScore: p.a.score, int8Score: p.b.score });
        d.scoreDiff.push(p.b.score - p.a.score);
      }
      d.missed.push(...m.missed.map((a) => ({ path: `${scene.path}${pad ? ' (padded)' : ''}`, score: a.score })));
      d.extra.push(...m.extra.map((b) => ({ path: `${scene.path}${pad ? ' (padded)' : ''}`, score: b.score })));
      d.flips += m.flips;
    }
    // consistency with engine.detect: it uses pad 0, or the padded canvas when pad 0 finds nothing
    let mine = (int8AtPad.get(0)?.faces ?? []).filter((f) => f.score >= DETECT_THRESHOLD), from = int8AtPad.get(0)!.c;
    if (!mine.length && pads.length > 1) { const p = int8AtPad.get(pads[1])!; mine = p.faces.filter((f) => f.score >= DETECT_THRESHOLD); from = p.c; }
    if (mine.length || engineFaces.length) {
      d.consistency.images++;
      if (mine.length === engineFaces.length) {
        d.consistency.same++;
        const k = 1 / from.effective;
        mine.forEach((f, i) => {
          const e = engineFaces[i];
          const coords = [[f.x * k - from.pad, e.box.x], [f.y * k - from.pad, e.box.y], [f.w * k, e.box.width], [f.h * k, e.box.height],
            ...f.landmarks.flatMap(([lx, ly], n) => [[lx * k - from.pad, e.landmarks[n][0]], [ly * k - from.pad, e.landmarks[n][1]]])];
          for (const [a, b] of coords) d.consistency.maxDiff = Math.max(d.consistency.maxDiff, Math.abs(a - b));
        });
      }
    }
  }
  if (opts.liveness !== false && engineFaces.length && ev.int8.antispoof.length) {
    const face = largestFace(engineFaces);
    const live = ev.engine.liveness(img)!;
    const r = await ev.liveness(rgb, w, h, face); // rgb: the evaluator's own buffer, untouched by the engine and the canvases
    const fuse = (v: number[][]) => v.reduce((s, p) => s.map((x, k) => x + p[k]), [0, 0, 0]);
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    const fi = fuse(r.int8), ff = fuse(r.float);
    acc.live.push({ path: scene.path, label: scene.identity, int8: r.int8.map((p) => p[1]), float: r.float.map((p) => p[1]),
      fusedInt8: fi[1] / r.int8.length, fusedFloat: ff[1] / r.float.length, int8Class: argmax(fi), floatClass: argmax(ff),
      engine: live.score, engineLive: live.live, reliable: live.reliable, contexts: r.contexts });
  }
  if (w * h > 1 << 20) ev.steps.dispose(); // do not keep a large photo's buffers for the next picture
}

function group(ms: FaceMatch[]): FaceGroup {
  const ious = ms.map((m) => m.iou), lm = stats(ms.flatMap((m) => m.landmarks112)), io = stats(ious);
  return { faces: ms.length, iouMin: io.min, iouMean: io.mean, iouShare: share(ious, (v) => v >= TARGETS.detectorIou),
    lmkMean: lm.mean, lmkP99: lm.p99, lmkMax: lm.max, lmkShare: share(ms.flatMap((m) => m.landmarks112), (v) => v <= TARGETS.detectorLandmark112) };
}

export function detectorResult(ev: Evaluator, acc: SceneAccumulator): DetectorResult {
  const d = acc.det;
  const ious = d.matches.map((m) => m.iou), lm = d.matches.flatMap((m) => m.landmarks112), worstLm = d.matches.map((m) => Math.max(...m.landmarks112));
  const badness = (m: FaceMatch) => Math.max((TARGETS.detectorIou - m.iou) / 0.1, (Math.max(...m.landmarks112) - TARGETS.detectorLandmark112) / 2);
  return {
    id: ev.engine.models.detector, images: acc.images, unreadable: acc.unreadable, canvases: d.canvases, matched: d.matches.length,
    missed: d.missed, extra: d.extra, thresholdFlips: d.flips,
    iou: stats(ious), iouShareAtTarget: share(ious, (v) => v >= TARGETS.detectorIou),
    landmark112: stats(lm), landmarkShareAtTarget: share(lm, (v) => v <= TARGETS.detectorLandmark112),
    faceWorstLandmark112: stats(worstLm), faceShareAtTarget: share(worstLm, (v) => v <= TARGETS.detectorLandmark112), scoreDiff: stats(d.scoreDiff),
    worst: [...d.matches].sort((a, b) => badness(b) - badness(a)).slice(0, 5),
    groups: Object.fromEntries([...(['picture', 'tight crop', 'tight crop, padded'] as CanvasKind[]).map((k) => [k, group(d.matches.filter((m) => m.kind === k))]),
      ['canvases the engine used', group(d.matches.filter((m) => m.engineCanvas))],
      ...[8, 16, 32].map((st) => [`same anchor, stride ${st}`, group(d.matches.filter((m) => m.sameAnchor && m.int8Stride === st))]),
      ['different anchors kept by NMS', group(d.matches.filter((m) => !m.sameAnchor))]].filter(([, g]) => (g as FaceGroup).faces > 0)),
    consistency: { images: d.consistency.images, sameCount: d.consistency.same, maxCoordDiff: d.consistency.maxDiff },
    sizes: d.sizes, ms: { int8: d.n ? d.tInt8 / d.n : NaN, float: d.n ? d.tFloat / d.n : NaN },
  };
}

// ---------------------------------------------------------------------------------------------
// Anti-spoofing

export interface AntispoofResult {
  ids: string[];
  /** Dev faces (largest face of each picture with one). */
  faces: number;
  reliable: number;
  perModel: { id: string; liveDiff: Stats; labelAgreement: number }[];
  /** |fused live score int8 - float|: all faces, and the faces whose patches had enough context. */
  fused: Stats;
  fusedReliable: Stats;
  fusedShareAtTarget: number;
  /** The evaluator's patches through separate Model instances give engine.liveness's score (max |difference|). */
  consistency: { checked: number; maxAbsDiff: number };
  worst: { path: string; int8: number; float: number; reliable: boolean }[];
  spoof: { path: string; label: string; expectLive: boolean; float: number; int8: number; engineLive: boolean; reliable: boolean;
    floatClass: number; int8Class: number; kept: boolean; perModel: { id: string; float: number; int8: number }[] }[];
}

export function antispoofResult(ev: Evaluator, devLive: LiveSample[], spoof: LiveSample[]): AntispoofResult {
  const ids = ev.engine.models.antispoof;
  const diff = (s: LiveSample) => Math.abs(s.fusedInt8 - s.fusedFloat);
  const all = [...devLive, ...spoof];
  let maxAbsDiff = 0;
  for (const s of all) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(s.fusedInt8 - s.engine));
  const d = all.map(diff);
  return {
    ids, faces: devLive.length, reliable: devLive.filter((s) => s.reliable).length,
    perModel: ids.map((id, i) => ({ id, liveDiff: stats(all.map((s) => Math.abs(s.int8[i] - s.float[i]))), labelAgreement: share(all.map((s) => ((s.int8[i] >= 0.5) === (s.float[i] >= 0.5) ? 1 : 0)), (v) => v === 1) })),
    fused: stats(d), fusedReliable: stats(all.filter((s) => s.reliable).map(diff)), fusedShareAtTarget: share(d, (v) => v <= TARGETS.fusedLiveDiff),
    consistency: { checked: all.length, maxAbsDiff },
    worst: [...all].sort((a, b) => diff(b) - diff(a)).slice(0, 5).map((s) => ({ path: s.path, int8: s.fusedInt8, float: s.fusedFloat, reliable: s.reliable })),
    spoof: spoof.map((s) => {
      // kept: the upstream fused class (argmax of the summed softmax vectors, class 1 = live) of float
      // and of int8, and the engine's own live decision, all say what the sample is
      const expectLive = s.label === '_live';
      return { path: s.path, label: s.label, expectLive, float: s.fusedFloat, int8: s.fusedInt8, engineLive: s.engineLive, reliable: s.reliable,
        floatClass: s.floatClass, int8Class: s.int8Class,
        kept: (s.floatClass === 1) === expectLive && (s.int8Class === 1) === expectLive && s.engineLive === expectLive,
        perModel: ids.map((id, i) => ({ id, float: s.float[i], int8: s.int8[i] })) };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Verdicts

export interface Verdict { model: string; what: string; target: string; measured: string; value: number; pass: boolean }

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

export function verdicts(e?: EmbedderResult, d?: DetectorResult, a?: AntispoofResult): Verdict[] {
  const out: Verdict[] = [];
  if (e) {
    out.push({ model: e.id, what: 'cosine(int8, float), mean', target: `>= ${TARGETS.embedderMeanCosine}`, measured: `${f4(e.cosine.mean)} (${e.cosine.n} faces)`, value: e.cosine.mean, pass: e.cosine.mean >= TARGETS.embedderMeanCosine });
    out.push({ model: e.id, what: 'cosine(int8, float), 1st percentile', target: `>= ${TARGETS.embedderP1Cosine}`, measured: `${f4(e.cosine.p1)} (min ${f4(e.cosine.min)})`, value: e.cosine.p1, pass: e.cosine.p1 >= TARGETS.embedderP1Cosine });
    const p = e.pairs;
    out.push({ model: e.id, what: 'same/different decisions agree (each at its own FAR 1e-3, no flip)', target: `>= ${TARGETS.pairAgreement * 100} %`,
      measured: `${(p.agreement * 100).toFixed(3)} % of ${p.used} pairs (${p.disagreements.genuine + p.disagreements.impostor} differ)`, value: p.agreement, pass: p.agreement >= TARGETS.pairAgreement });
  }
  if (d) {
    out.push({ model: d.id, what: 'box IoU vs float, every matched face', target: `>= ${TARGETS.detectorIou}`,
      measured: `min ${f4(d.iou.min)}, mean ${f4(d.iou.mean)}; ${(d.iouShareAtTarget * 100).toFixed(1)} % of ${d.matched} faces`, value: d.iou.min, pass: d.iou.min >= TARGETS.detectorIou });
    out.push({ model: d.id, what: 'landmark error at 112x112 (alignment scale), every landmark', target: `<= ${TARGETS.detectorLandmark112} px`,
      measured: `max ${d.landmark112.max.toFixed(2)}, p99 ${d.landmark112.p99.toFixed(2)}, mean ${d.landmark112.mean.toFixed(2)} px; ${(d.landmarkShareAtTarget * 100).toFixed(1)} % within`,
      value: d.landmark112.max, pass: d.landmark112.max <= TARGETS.detectorLandmark112 });
  }
  if (a) {
    out.push({ model: a.ids.join(' + '), what: '|fused live score int8 - float|, every face', target: `<= ${TARGETS.fusedLiveDiff}`,
      measured: `max ${f4(a.fused.max)}, p95 ${f4(a.fused.p95)}, mean ${f4(a.fused.mean)}; ${(a.fusedShareAtTarget * 100).toFixed(1)} % of ${a.fused.n} within`,
      value: a.fused.max, pass: a.fused.max <= TARGETS.fusedLiveDiff });
    const kept = a.spoof.filter((s) => s.kept).length;
    out.push({ model: a.ids.join(' + '), what: 'upstream samples keep their labels (F1 print, F2 replay spoof; T1 live)', target: `${a.spoof.length}/${a.spoof.length}`,
      measured: `${kept}/${a.spoof.length}`, value: kept, pass: a.spoof.length === 3 && kept === a.spoof.length });
  }
  return out;
}
