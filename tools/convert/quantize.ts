// Float IR + calibration statistics -> quantised int8 model (WfmModel without meta).
//
// Steps:
//   prepareGraph   float-equivalent rewrites: drop softmax heads, fold the input mean into a
//                  padding-free first conv, fuse ReLU/ReLU6/PReLU into their producers, turn 1x1
//                  convs on [1,1,C] (squeeze-excitation) into fc. Calibrate on the prepared graph:
//                  its tensors are exactly the ones that get quantised.
//   Histogram      per-tensor value distribution (power-of-two range, merged bins when it grows).
//   quantize       activation ranges by min-max, percentile or MSE; per-output-channel symmetric
//                  int8 weights; int32 bias; multipliers via js/quant.ts quantizeMultipliers;
//                  sigmoid and other unary functions as 256-entry tables; shared quantisation
//                  for maxpool/pad/upsample/concat chains; optional 7-bit (u7) post-ReLU tensors.
import * as F from '../../assembly/graph/format.js';
import { quantizeMultipliers, SHIFT_MIN, SHIFT_MIN_WIDE } from '../../js/quant.js';
import { isLinear, type LinearNode, type Activation, type Conv2dNode, type Graph, type Node, type UnaryNode } from './ir.js';
import type { InputMoments } from './rounding.js';
import { inferShapes, nodeInputs, windowOut } from './shapes.js';
import type { WfmModel, WfmOp, WfmTensor } from './wfm.js';

// ---------------------------------------------------------------------------------------------
// 1. Float graph preparation

export interface Prepared { graph: Graph; notes: string[] }

/** Float-equivalent rewrites (the source graph is not modified). */
export function prepareGraph(source: Graph): Prepared {
  const notes: string[] = [];
  let nodes: Node[] = source.nodes.map((n) => ({ ...n } as Node));
  let outputs = [...source.outputs];
  const input = { ...source.input, mean: [...source.input.mean] as Graph['input']['mean'] };
  const consumersOf = (t: string) => nodes.filter((n) => nodeInputs(n).includes(t));

  // Softmax heads run in float on the JS side (on the dequantised logits).
  for (const n of nodes.filter((x) => x.op === 'softmax')) {
    const i = outputs.indexOf(n.output);
    if (i < 0 || consumersOf(n.output).length) throw new Error(`${source.id}: softmax ${n.output} is not a graph head`);
    outputs[i] = (n as { input: string }).input;
    nodes = nodes.filter((x) => x !== n);
    notes.push(`softmax head ${n.output} dropped: output ${outputs[i]} is the logits (apply softmax after dequantising)`);
  }

  // Input: q = pixel - 128 is exact when every channel has the same scale and the same integer
  // mean (zero point mean - 128). Otherwise, when every consumer of the input is a conv without
  // padding, compute on (pixel - 128) * scale and fold (128 - mean[c]) * scale into the bias:
  // exact because every tap of such a conv lies inside the image.
  const sameScale = input.scale.every((s) => s === input.scale[0]);
  const exact = sameScale && input.mean.every((m) => m === input.mean[0] && Number.isInteger(m) && m >= 0 && m <= 255);
  if (!exact && sameScale) {
    const users = consumersOf(input.name);
    const foldable = users.length > 0 && users.every((n) => n.op === 'conv2d' && !n.padTop && !n.padLeft && !n.padBottom && !n.padRight);
    if (foldable) {
      const shift = input.mean.map((m) => (128 - m) * input.scale[0]);
      nodes = nodes.map((n) => {
        if (!users.includes(n)) return n;
        const conv = n as Conv2dNode;
        const c = 3, perOut = conv.kh * conv.kw * c;
        const bias = Float32Array.from(conv.bias, (b, o) => {
          let s = b;
          for (let t = 0; t < perOut; t++) s += conv.weights[o * perOut + t] * shift[t % c];
          return s;
        });
        return { ...conv, bias };
      });
      notes.push(`input mean [${input.mean}] folded into the bias of ${users.map((n) => n.output).join(', ')} (padding-free conv): input is exactly (pixel - 128) * ${input.scale[0]}`);
      input.mean = [128, 128, 128];
    } else {
      notes.push('input mean/scale cannot be represented exactly: input lookup table rounds');
    }
  }

  // Activation fusion into the single producer (conv/depthwise/fc: any; add: ReLU/ReLU6).
  for (const act of nodes.filter((n) => n.op === 'relu' || n.op === 'relu6' || n.op === 'prelu')) {
    const a = act as UnaryNode;
    const producer = nodes.find((n) => n.output === a.input);
    if (!producer || consumersOf(a.input).length !== 1 || outputs.includes(a.input)) continue;
    const fusable = isLinear(producer) || (producer.op === 'add' && a.op !== 'prelu');
    if (!fusable || (producer as { act: Activation }).act.kind !== 'none') continue;
    const activation: Activation = a.op === 'prelu' ? { kind: 'prelu', slopes: a.slopes! } : { kind: a.op as 'relu' | 'relu6' };
    nodes = nodes.filter((n) => n !== act).map((n) => (n === producer ? ({ ...producer, act: activation, output: a.output } as Node) : n));
  }

  // 1x1 convs on [1,1,C] (squeeze-excitation) are fully connected layers: same [n][k] weights.
  if (!input.dynamic) {
    const shapes = inferShapes({ nodes, input });
    nodes = nodes.map((n) => {
      if (n.op !== 'conv2d' || n.kh !== 1 || n.kw !== 1 || n.padTop || n.padLeft || n.padBottom || n.padRight) return n;
      const [h, w] = shapes[n.input];
      if (h !== 1 || w !== 1) return n;
      return { op: 'fc', input: n.input, output: n.output, weights: n.weights, bias: n.bias, act: n.act };
    });
  }

  const graph: Graph = { ...source, input, outputs, nodes, tensors: inferShapes({ nodes, input }) };
  return { graph, notes };
}

/** Largest |value| per channel of every tensor over some float runs (keepAll). */
export function channelRanges(graph: Graph, runs: Record<string, ArrayLike<number>>[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const run of runs) for (const [name, v] of Object.entries(run)) {
    const c = graph.tensors[name]?.[2];
    if (!c) continue;
    let m = out.get(name);
    if (!m) out.set(name, (m = new Float64Array(c)));
    for (let i = 0; i < v.length; i++) { const a = Math.abs(v[i]); if (a > m[i % c]) m[i % c] = a; }
  }
  return out;
}

/**
 * Range equalisation in front of depthwise convolutions (cross-layer scaling as in Nagel et al.,
 * "Data-Free Quantization Through Weight Equalization and Bias Correction", ICCV 2019, restricted
 * to the case that costs nothing): when a conv/depthwise/fc output (act none, ReLU or PReLU, all
 * commute with a positive per-channel scale) feeds only a depthwise conv, channel c is scaled up
 * by g_c = max_k r_k / r_c (capped at 16) in the producer (weights row and bias) and down in the
 * depthwise weights. Both are quantised per channel, so their int8 weights keep their precision,
 * while every channel of the per-tensor-quantised activation now uses the full int8 range.
 */
export function equalizeDepthwiseInputs(graph: Graph, ranges: Map<string, Float64Array>): Prepared {
  return equalizeInputs(graph, ranges, 'depthwise', 1);
}

/**
 * Range equalisation in front of convs and fully connected layers (the same cross-layer scaling,
 * the case that is not free): when a conv/depthwise/fc output (act none, ReLU or PReLU) feeds only
 * a conv or fc, channel c is scaled up by g_c = (max_k r_k / r_c)^alpha (capped at 16) in the
 * producer, whose weights are quantised per output channel (no loss there), and the consumer's
 * input column c is scaled down by g_c. The activation, quantised per tensor, gets a finer step
 * relative to its small channels; the consumer's rows keep their largest weight or lose it
 * (their step never grows), but the scaled-down columns are held with fewer levels: alpha trades
 * the two (1: activation ranges fully equalised; 0.5: geometric mean, as SmoothQuant's 0.5).
 */
export function equalizeConsumerInputs(graph: Graph, ranges: Map<string, Float64Array>, alpha: number): Prepared {
  return equalizeInputs(graph, ranges, 'conv', alpha);
}

/** Both equalisations: producer rows x g_c, consumer input columns / g_c, g_c = (max r / r_c)^alpha <= 16. */
function equalizeInputs(graph: Graph, ranges: Map<string, Float64Array>, into: 'depthwise' | 'conv', alpha: number): Prepared {
  const notes: string[] = [];
  const count = new Map<string, number>();
  for (const n of graph.nodes) for (const t of nodeInputs(n)) count.set(t, (count.get(t) ?? 0) + 1);
  const nodes = graph.nodes.map((n) => ({ ...n } as Node));
  const isConsumer = (n: Node): n is LinearNode => isLinear(n) && (n.op === 'depthwise') === (into === 'depthwise');
  let pairs = 0;
  for (const p of nodes) {
    if (!isLinear(p) || p.act.kind === 'relu6') continue;
    const t = p.output;
    if (count.get(t) !== 1 || graph.outputs.includes(t)) continue;
    const ci = nodes.findIndex((n) => isConsumer(n) && n.input === t);
    const r = ranges.get(t);
    if (ci < 0 || !r) continue;
    const max = Math.max(...r);
    if (!(max > 0)) continue;
    const g = Array.from(r, (v) => (v > 0 ? Math.min(alpha === 1 ? max / v : (max / v) ** alpha, 16) : 1));
    if (g.every((v) => v < 1.05)) continue;
    const c = g.length;
    const weights = Float32Array.from(p.weights);
    if (p.op === 'depthwise') for (let i = 0; i < weights.length; i++) weights[i] *= g[i % c];
    else { const per = weights.length / c; for (let i = 0; i < weights.length; i++) weights[i] *= g[Math.floor(i / per)]; }
    Object.assign(p, { weights, bias: Float32Array.from(p.bias, (b, k) => b * g[k]) });
    // depthwise [kh][kw][c], conv OHWI and fc [n][k] over an NHWC flatten: the input channel is the index modulo c
    const consumer = nodes[ci] as LinearNode;
    nodes[ci] = { ...consumer, weights: Float32Array.from(consumer.weights, (w, i) => w / g[i % c]) } as Node;
    pairs++;
  }
  if (pairs) {
    notes.push(into === 'depthwise'
      ? `${pairs} producer/depthwise pairs range-equalised per channel (exact in float; see quantize.ts equalizeDepthwiseInputs)`
      : `${pairs} producer/conv-or-fc pairs range-equalised per channel with exponent ${alpha} (exact in float; see quantize.ts equalizeConsumerInputs)`);
  }
  return { graph: { ...graph, nodes }, notes };
}

// ---------------------------------------------------------------------------------------------
// 2. Calibration statistics

/**
 * Histogram over [-R, R) with R a power of two that doubles (merging bin pairs) when a value
 * reaches it; min/max are exact. Large tensors are sampled with a fixed stride (deterministic).
 */
export class Histogram {
  static readonly BINS = 8192;
  static readonly MAX_SAMPLES = 1 << 18;
  counts = new Float64Array(Histogram.BINS);
  R = 0;
  min = Infinity;
  max = -Infinity;
  total = 0;

  add(values: ArrayLike<number>): void {
    const n = values.length;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) { const v = values[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(lo <= hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error('calibration: non-finite activation');
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    this.cover(Math.max(-lo, hi));
    const B = Histogram.BINS, R = this.R, k = B / (2 * R);
    const stride = Math.ceil(n / Histogram.MAX_SAMPLES);
    const weight = stride; // each sample stands for `stride` values
    for (let i = 0; i < n; i += stride) {
      let b = Math.floor((values[i] + R) * k);
      if (b >= B) b = B - 1;
      this.counts[b] += weight;
    }
    this.total += Math.ceil(n / stride) * weight;
  }

  private cover(a: number): void {
    const B = Histogram.BINS;
    if (this.R === 0) {
      this.R = 2 ** Math.ceil(Math.log2(Math.max(a, 2 ** -40)));
      if (this.R <= a) this.R *= 2;
      return;
    }
    while (a >= this.R) {
      const merged = new Float64Array(B);
      for (let i = 0; i < B; i++) merged[B / 4 + (i >> 1)] += this.counts[i];
      this.counts = merged;
      this.R *= 2;
    }
  }

  center(i: number): number { return -this.R + (i + 0.5) * (2 * this.R) / Histogram.BINS; }

  /** Value below which `fraction` of the values lie (linear within a bin, clamped to [min, max]). */
  quantile(fraction: number): number {
    const target = fraction * this.total, w = (2 * this.R) / Histogram.BINS;
    let cum = 0;
    for (let i = 0; i < Histogram.BINS; i++) {
      const c = this.counts[i];
      if (cum + c >= target && c > 0) {
        const v = -this.R + (i + (target - cum) / c) * w;
        return Math.min(Math.max(v, this.min), this.max);
      }
      cum += c;
    }
    return this.max;
  }
}

export class CalibrationStats {
  readonly tensors = new Map<string, Histogram>();
  images = 0;

  /** Adds one float run (runFloat keepAll on the prepared graph). */
  observe(values: Record<string, ArrayLike<number>>): void {
    for (const [name, v] of Object.entries(values)) {
      let h = this.tensors.get(name);
      if (!h) this.tensors.set(name, (h = new Histogram()));
      h.add(v);
    }
    this.images++;
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Range selection

export type RangeMethod = 'minmax' | 'percentile' | 'mse';

export interface QuantizeOptions {
  method: RangeMethod;
  /**
   * Round the weights of the layers these moments cover to minimise each layer's output error on
   * the calibration inputs (rounding.ts) instead of to the nearest level.
   */
  rounding?: InputMoments;
  /** Percentile method: the kept fraction of each tail side (default 0.9999). */
  percentile?: number;
  /** 7-bit post-ReLU activations: zp 0, scale max/127, qmin 0, flagged U7. */
  u7?: boolean;
}

/** Quantisation error (sum of squares) of the histogram for the grid [lo, hi] with `levels` steps. */
function gridError(h: Histogram, lo: number, hi: number, levels: number): number {
  const s = (hi - lo) / levels;
  if (!(s > 0)) return Infinity;
  const zpf = Math.round(-lo / s); // lo + zpf*s is the real zero
  let err = 0;
  for (let i = 0; i < Histogram.BINS; i++) {
    const n = h.counts[i];
    if (!n) continue;
    const v = Math.min(Math.max(h.center(i), h.min), h.max);
    let q = Math.round(v / s) + zpf;
    if (q < 0) q = 0; else if (q > levels) q = levels;
    const d = v - (q - zpf) * s;
    err += n * d * d;
  }
  return err;
}

/** Real range [lo, hi] (lo <= 0 <= hi) of a tensor's values by the chosen method. */
export function selectRange(h: Histogram, options: QuantizeOptions, nonneg: boolean, levels: number): [number, number] {
  const min = nonneg ? 0 : Math.min(h.min, 0), max = Math.max(h.max, 0);
  switch (options.method) {
    case 'minmax': return [min, max];
    case 'percentile': {
      const p = options.percentile ?? 0.9999;
      const lo = nonneg || h.min >= 0 ? 0 : Math.min(h.quantile(1 - p), 0);
      return [lo, Math.max(h.quantile(p), 0)];
    }
    case 'mse': {
      // coordinate descent over geometric grids of each end (0.97^k of the extreme, down to ~9 %)
      let lo = min, hi = max;
      const candidates = (extreme: number) => Array.from({ length: 81 }, (_, k) => extreme * 0.97 ** k);
      for (let round = 0; round < 2; round++) {
        if (hi > 0) {
          let best = Infinity;
          for (const c of candidates(max)) { const e = gridError(h, lo, c, levels); if (e < best) { best = e; hi = c; } }
        }
        if (lo < 0) {
          let best = Infinity;
          for (const c of candidates(min)) { const e = gridError(h, c, hi, levels); if (e < best) { best = e; lo = c; } }
        }
      }
      return [lo, hi];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Quantisation

export interface LayerInfo { name: string; op: string; shift?: number; note?: string }

export interface Quantized {
  model: Omit<WfmModel, 'meta'>;
  /** Tensor id by float IR name. */
  tensorIds: Map<string, number>;
  notes: string[];
  layers: LayerInfo[];
  /** Per-output-channel weight scales of every conv / depthwise / fc, by output tensor. */
  weightScales: Map<string, Float64Array>;
}

const f32 = Math.fround;

interface TQ { zp: number; scale: number; u7: boolean }

export function quantize(prepared: Graph, stats: CalibrationStats, options: QuantizeOptions): Quantized {
  const g = prepared;
  const notes: string[] = [];
  const layers: LayerInfo[] = [];
  const weightScales = new Map<string, Float64Array>();
  const names = [g.input.name, ...g.nodes.map((n) => n.output)];
  const ids = new Map(names.map((n, i) => [n, i]));
  const producer = new Map(g.nodes.map((n) => [n.output, n]));

  // ---- post-ReLU (non-negative by construction) tensors
  const postRelu = new Map<string, boolean>([[g.input.name, false]]);
  for (const n of g.nodes) {
    let v = false;
    switch (n.op) {
      case 'conv2d': case 'depthwise': case 'fc': case 'add': v = n.act.kind === 'relu' || n.act.kind === 'relu6'; break;
      case 'relu': case 'relu6': v = true; break;
      case 'maxpool': case 'avgpool': case 'global_avgpool': case 'pad': case 'upsample_nearest': v = postRelu.get(n.input)!; break;
      case 'concat': v = n.inputs.every((t) => postRelu.get(t)); break;
      default: v = false;
    }
    postRelu.set(n.output, v);
  }
  const relu6 = (t: string) => { const n = producer.get(t); return !!n && ((n.op === 'relu6') || ('act' in n && n.act.kind === 'relu6')); };

  // ---- groups sharing one quantisation (ops that move values without requantising)
  const parent = new Map(names.map((n) => [n, n]));
  const find = (t: string): string => { let r = t; while (parent.get(r) !== r) r = parent.get(r)!; parent.set(t, r); return r; };
  const unite = (a: string, b: string) => { const ra = find(a), rb = find(b); if (ra !== rb) parent.set(rb, ra); };
  for (const n of g.nodes) {
    if (n.op === 'maxpool' || n.op === 'pad' || n.op === 'upsample_nearest') unite(n.input, n.output);
    if (n.op === 'concat') for (const t of n.inputs) unite(t, n.output);
  }
  const members = new Map<string, string[]>();
  for (const t of names) { const r = find(t); members.set(r, [...(members.get(r) ?? []), t]); }

  // ---- input quantisation
  const { mean, scale: inScale } = g.input;
  const lut = new Int8Array(768);
  let inQ: TQ;
  const exactInput = inScale.every((s) => s === inScale[0]) && mean.every((m) => m === mean[0] && Number.isInteger(m)) && f32(inScale[0]) === inScale[0];
  if (exactInput) {
    inQ = { zp: mean[0] - 128, scale: inScale[0], u7: false };
    for (let j = 0; j < 3; j++) for (let v = 0; v < 256; v++) lut[j * 256 + v] = v - 128;
  } else {
    const vals = [0, 1, 2].flatMap((j) => [(0 - mean[j]) * inScale[j], (255 - mean[j]) * inScale[j]]);
    const lo = Math.min(0, ...vals), hi = Math.max(0, ...vals);
    inQ = toQuant(lo, hi, false);
    for (let j = 0; j < 3; j++) for (let v = 0; v < 256; v++) {
      lut[j * 256 + v] = clamp8(Math.round(((v - mean[j]) * inScale[j]) / inQ.scale) + inQ.zp);
    }
    notes.push(`input quantised by a rounded table (scale ${inQ.scale}, zp ${inQ.zp})`);
  }

  function toQuant(lo: number, hi: number, u7: boolean): TQ {
    if (u7) {
      const scale = f32(Math.max(hi, 1e-6) / 127);
      return { zp: 0, scale, u7: true };
    }
    lo = Math.min(lo, 0); hi = Math.max(hi, 0);
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    const scale = f32((hi - lo) / 255);
    const zp = clamp8(Math.round(-128 - lo / scale));
    return { zp, scale, u7: false };
  }

  // ---- activation quantisation per group
  const quant = new Map<string, TQ>();
  const tableRange = (n: UnaryNode, q: TQ) => {
    let lo = Infinity, hi = -Infinity;
    for (let v = -128; v < 128; v++) { const y = unary(n, (v - q.zp) * q.scale); lo = Math.min(lo, y); hi = Math.max(hi, y); }
    return [lo, hi] as [number, number];
  };
  const quantOf = (t: string): TQ => {
    const root = find(t);
    const known = quant.get(root);
    if (known) return known;
    const group = members.get(root)!;
    let q: TQ;
    if (group.includes(g.input.name)) {
      q = inQ;
    } else {
      const u7 = !!options.u7 && group.every((m) => postRelu.get(m));
      const nonneg = group.every((m) => postRelu.get(m));
      let lo = 0, hi = 0;
      for (const m of group) {
        const n = producer.get(m)!;
        let r: [number, number];
        if (group.length === 1 && (n.op === 'sigmoid' || n.op === 'relu' || n.op === 'relu6' || n.op === 'prelu') && !(n.op === 'prelu' && !uniform(n.slopes!))) {
          r = tableRange(n, quantOf(n.input)); // exact output range of the table
        } else {
          const h = stats.tensors.get(m);
          if (!h) throw new Error(`no calibration statistics for tensor ${m}`);
          r = selectRange(h, options, postRelu.get(m)!, u7 ? 127 : 255);
        }
        if (relu6(m)) r[1] = Math.min(r[1], 6);
        lo = Math.min(lo, r[0]); hi = Math.max(hi, r[1]);
      }
      q = toQuant(nonneg ? 0 : lo, hi, u7);
    }
    quant.set(root, q);
    return q;
  };

  const tensors: WfmTensor[] = names.map((name) => {
    const [h, w, c] = g.tensors[name];
    const q = quantOf(name);
    return { h, w, c, zp: q.zp, scale: q.scale, flags: q.u7 ? F.TF_U7 : 0, name };
  });
  const T = (name: string) => tensors[ids.get(name)!];

  // ---- ops
  const ops: WfmOp[] = [];
  for (const n of g.nodes) {
    const params = new Int32Array(F.PARAM_COUNT);
    const out = T(n.output);
    const op: WfmOp = { type: 0, inputs: nodeInputs(n).map((t) => ids.get(t)!), output: ids.get(n.output)!, params, name: n.output };
    const clampFor = (act: Activation | undefined) => {
      let qmin = -128, qmax = 127;
      if (act && (act.kind === 'relu' || act.kind === 'relu6')) qmin = out.zp;
      if (act && act.kind === 'relu6') qmax = Math.min(127, Math.round(6 / out.scale) + out.zp);
      if (out.flags & F.TF_U7) qmin = Math.max(qmin, 0);
      params[F.P_QMIN] = qmin;
      params[F.P_QMAX] = qmax;
    };
    const window = (m: { kh: number; kw: number; strideH: number; strideW: number; padTop: number; padLeft: number; padBottom: number; padRight: number }) => {
      const [ih, iw] = g.tensors[nodeInputs(n)[0]];
      if (m.padTop >= m.kh || m.padLeft >= m.kw || m.padBottom >= m.kh || m.padRight >= m.kw) throw new Error(`${n.output}: padding must be smaller than the window`);
      const oh = windowOut(ih, m.kh, m.strideH, m.padTop, m.padBottom), ow = windowOut(iw, m.kw, m.strideW, m.padLeft, m.padRight);
      if ((oh - 1) * m.strideH - m.padTop > ih - 1 || (ow - 1) * m.strideW - m.padLeft > iw - 1) throw new Error(`${n.output}: a window starts beyond the input`);
      params[F.P_KH] = m.kh; params[F.P_KW] = m.kw; params[F.P_SH] = m.strideH; params[F.P_SW] = m.strideW;
      params[F.P_PAD_TOP] = m.padTop; params[F.P_PAD_LEFT] = m.padLeft; params[F.P_PAD_BOTTOM] = m.padBottom; params[F.P_PAD_RIGHT] = m.padRight;
    };
    switch (n.op) {
      case 'conv2d': case 'depthwise': case 'fc': {
        op.type = n.op === 'conv2d' ? F.OP_CONV2D : n.op === 'depthwise' ? F.OP_DEPTHWISE : F.OP_FC;
        if (n.op !== 'fc') window(n);
        const inT = T(n.input);
        const oc = n.bias.length;
        let { wq, sw } = quantizeWeights(n.weights, oc, n.op === 'depthwise');
        if (options.rounding?.usable(n.output)) wq = options.rounding.round(n, sw);
        weightScales.set(n.output, sw);
        const sIn = inT.scale;
        const bias = new Int32Array(oc);
        let clipped = 0;
        for (let o = 0; o < oc; o++) {
          const b = Math.round(n.bias[o] / (sIn * sw[o]));
          if (Math.abs(b) > 2 ** 30) clipped++;
          bias[o] = Math.max(-(2 ** 30), Math.min(2 ** 30, b));
        }
        if (clipped) notes.push(`${n.output}: ${clipped} bias values clipped to 2^30`);
        const pos = Array.from(sw, (s) => (sIn * s) / out.scale);
        const neg = n.act.kind === 'prelu' ? pos.map((m, o) => m * (n.act as { slopes: Float32Array }).slopes[o]) : undefined;
        const rq = quantizeMultipliers(pos, neg, SHIFT_MIN);
        Object.assign(op, { weights: wq, bias, mult: rq.mult, multNeg: neg ? rq.multNeg : undefined });
        params[F.P_SHIFT] = rq.shift;
        clampFor(n.act);
        layers.push({ name: n.output, op: n.op, shift: rq.shift });
        break;
      }
      case 'add': {
        op.type = F.OP_ADD;
        const a = T(n.inputs[0]), b = T(n.inputs[1]);
        const ra = a.scale / out.scale, rb = b.scale / out.scale;
        const r = Math.max(ra, rb);
        // largest shift in [1, 31] keeping round(max ratio * 2^shift) <= 2^20
        let shift = 31;
        while (shift > 1 && Math.round(r * 2 ** shift) > 2 ** 20) shift--;
        const ma = Math.round(ra * 2 ** shift), mb = Math.round(rb * 2 ** shift);
        if (Math.max(Math.abs(ma), Math.abs(mb)) >= 2 ** 21) throw new Error(`${n.output}: add ratio ${r} too large`);
        params[F.P_MA] = ma; params[F.P_MB] = mb; params[F.P_SHIFT] = shift;
        clampFor(n.act);
        layers.push({ name: n.output, op: 'add', shift });
        break;
      }
      case 'channel_mul': {
        op.type = F.OP_CHANNEL_MUL;
        const x = T(n.input), s = T(n.scale);
        const rq = quantizeMultipliers([(x.scale * s.scale) / out.scale], undefined, SHIFT_MIN_WIDE);
        checkWide(n.output, rq.shift, 255 * 255);
        params[F.P_MA] = rq.mult[0]; params[F.P_SHIFT] = rq.shift;
        clampFor(undefined);
        layers.push({ name: n.output, op: 'channel_mul', shift: rq.shift });
        break;
      }
      case 'sigmoid': case 'relu': case 'relu6': case 'prelu': {
        if (n.op === 'prelu' && !uniform(n.slopes!)) {
          // per-channel slopes cannot be one table: a 1x1 depthwise identity with the PReLU multipliers
          const c = g.tensors[n.input][2];
          const inT = T(n.input);
          op.type = F.OP_DEPTHWISE;
          window({ kh: 1, kw: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 });
          const pos = new Array(c).fill((inT.scale / 127) / out.scale);
          const rq = quantizeMultipliers(pos, pos.map((m, ch) => m * n.slopes![ch]), SHIFT_MIN);
          Object.assign(op, { weights: new Int8Array(c).fill(127), bias: new Int32Array(c), mult: rq.mult, multNeg: rq.multNeg });
          params[F.P_SHIFT] = rq.shift;
          clampFor(undefined);
          notes.push(`${n.output}: standalone per-channel PReLU as a 1x1 depthwise identity`);
          layers.push({ name: n.output, op: 'depthwise', shift: rq.shift, note: 'PReLU' });
          break;
        }
        op.type = F.OP_LUT;
        const inT = T(n.input);
        const table = new Int8Array(256);
        const qmin = out.flags & F.TF_U7 ? 0 : -128;
        for (let v = -128; v < 128; v++) {
          const y = unary(n, (v - inT.zp) * inT.scale);
          table[v + 128] = Math.max(qmin, clamp8(Math.round(y / out.scale) + out.zp));
        }
        op.table = table;
        layers.push({ name: n.output, op: 'lut', note: n.op });
        break;
      }
      case 'maxpool': case 'avgpool': {
        window(n);
        if (n.op === 'maxpool') { op.type = F.OP_MAXPOOL; layers.push({ name: n.output, op: 'maxpool' }); break; }
        op.type = F.OP_AVGPOOL;
        const inT = T(n.input);
        const taps = n.kh * n.kw;
        const rq = quantizeMultipliers(Array.from({ length: taps }, (_, i) => inT.scale / (out.scale * (i + 1))), undefined, SHIFT_MIN_WIDE);
        checkWide(n.output, rq.shift, 255 * taps);
        const mults = new Int32Array(taps + 1);
        mults.set(rq.mult, 1);
        op.mults = mults;
        params[F.P_SHIFT] = rq.shift;
        params[F.P_COUNT_INCLUDE_PAD] = n.countIncludePad ? 1 : 0;
        clampFor(undefined);
        layers.push({ name: n.output, op: 'avgpool', shift: rq.shift });
        break;
      }
      case 'global_avgpool': {
        op.type = F.OP_GLOBAL_AVGPOOL;
        const inT = T(n.input);
        if (g.input.dynamic) throw new Error(`${n.output}: global average pool in a dynamic model (its multiplier depends on the input size)`);
        const pixels = inT.h * inT.w;
        const rq = quantizeMultipliers([inT.scale / (out.scale * pixels)], undefined, SHIFT_MIN_WIDE);
        checkWide(n.output, rq.shift, 255 * pixels);
        params[F.P_MA] = rq.mult[0]; params[F.P_SHIFT] = rq.shift;
        clampFor(undefined);
        layers.push({ name: n.output, op: 'global_avgpool', shift: rq.shift });
        break;
      }
      case 'concat': op.type = F.OP_CONCAT; layers.push({ name: n.output, op: 'concat' }); break;
      case 'pad':
        op.type = F.OP_PAD;
        params[F.P_PAD_CHANNELS] = n.channels; params[F.P_PAD_ROWS] = n.bottom; params[F.P_PAD_COLS] = n.right;
        layers.push({ name: n.output, op: 'pad' });
        break;
      case 'upsample_nearest':
        op.type = F.OP_UPSAMPLE;
        params[F.P_FACTOR] = n.factor;
        layers.push({ name: n.output, op: 'upsample' });
        break;
      case 'softmax':
        throw new Error(`${n.output}: softmax must be removed by prepareGraph`);
    }
    ops.push(op);
  }

  // concat inputs must carry the output's quantisation exactly (they are one group)
  for (const n of g.nodes) if (n.op === 'concat') for (const t of n.inputs) {
    const o = T(n.output);
    if (T(t).zp !== o.zp || T(t).scale !== o.scale) throw new Error(`${n.output}: concat input ${t} quantised differently`);
  }

  const perm: [number, number, number] = g.input.colorOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  return {
    model: {
      tensors, ops, input: ids.get(g.input.name)!, perm, inputLut: lut,
      outputs: g.outputs.map((t) => ids.get(t)!), dynamic: g.input.dynamic?.multipleOf ?? 0,
    },
    tensorIds: ids, notes, layers, weightScales,
  };
}

function clamp8(v: number): number { return v < -128 ? -128 : v > 127 ? 127 : v; }

function uniform(a: Float32Array): boolean { return a.every((v) => v === a[0]); }

function unary(n: UnaryNode, x: number): number {
  switch (n.op) {
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'relu': return Math.max(x, 0);
    case 'relu6': return Math.min(Math.max(x, 0), 6);
    case 'prelu': return x >= 0 ? x : x * n.slopes![0];
  }
}

/** The wide-shift precondition the kernels check (core/requant.ts wideShiftOk). */
function checkWide(name: string, shift: number, accBound: number) {
  const pre = shift < 32 ? 32 - shift : 0;
  if (accBound * 2 ** pre >= 2 ** 31) throw new Error(`${name}: shift ${shift} would overflow the pre-shifted accumulator (bound ${accBound})`);
}

/**
 * Per-output-channel symmetric int8: scale = max|w_c| / 127, q = round(w / scale) in [-127, 127].
 * Channels whose weights are all zero get the median scale of the others (their bias still needs one).
 */
export function quantizeWeights(w: Float32Array, channels: number, depthwise: boolean): { wq: Int8Array; sw: Float64Array } {
  const maxAbs = new Float64Array(channels);
  const per = w.length / channels;
  const chOf = (i: number) => (depthwise ? i % channels : Math.floor(i / per));
  for (let i = 0; i < w.length; i++) { const c = chOf(i); maxAbs[c] = Math.max(maxAbs[c], Math.abs(w[i])); }
  const live = Array.from(maxAbs).filter((m) => m > 0).sort((a, b) => a - b);
  const fallback = live.length ? live[live.length >> 1] / 127 : 1 / 127;
  const sw = Float64Array.from(maxAbs, (m) => (m > 0 ? m / 127 : fallback));
  const wq = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) wq[i] = Math.max(-127, Math.min(127, Math.round(w[i] / sw[chOf(i)])));
  return { wq, sw };
}

