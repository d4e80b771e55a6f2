// Empirical bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization and
// Bias Correction", ICCV 2019, section 4.2; the empirical variant of Finkelstein et al. 2019 and
// AIMET): quantisation shifts the mean of a layer's output; for every conv / depthwise / fc, the
// per-channel mean of its pre-activation output in the int8 model (the exact integer accumulator,
// dequantised) is compared with the float model's on calibration data, and the difference is folded
// into the int32 bias. Layers are corrected in graph order and every later layer is measured on the
// int8 outputs of the corrected earlier ones, so each correction also absorbs the drift its inputs
// carry.
//
// Means are exact and cheap: the mean over output positions of a conv's pre-activation output is
// bias + W . m, where m is the mean of each kernel tap's input value over the output positions
// (zero where the tap falls into the padding), so only these tap means are accumulated, never the
// outputs themselves. Everything is plain float64 arithmetic in a fixed order: the result is
// deterministic.
import { isLinear, type Graph, type LinearNode as Linear } from './ir.js';
import { quantizeInput, runOp, type QTensor } from './int8-exec.js';
import type { Rgb } from './image.js';
import type { Quantized } from './quantize.js';
import { windowOut } from './shapes.js';
import type { WfmModel } from './wfm.js';



export interface BiasCorrectionOptions {
  /**
   * Fraction of the measured mean shift folded into the bias (1 = the full correction). Less than 1
   * shrinks the correction of channels whose mean is estimated from few positions (fc layers).
   */
  strength?: number;
  /** Only layers whose output has at least this many positions per image (fc: 1). Default 1. */
  minPositions?: number;
  /** Called once per corrected layer. */
  onLayer?: () => void;
}

export interface BiasCorrectionReport {
  /** Layers whose bias changed. */
  layers: number;
  /** Mean over layers of the relative mean shift removed: mean |shift| / rms(float output mean). */
  meanRelShift: number;
  /** Largest relative shift and its layer. */
  worst: { tensor: string; relShift: number };
}

/**
 * Mean of every kernel tap over the output positions (HWC taps: [ky][kx][c]) of a conv or
 * depthwise window on one input; `x` is indexed HWC and taps outside the input count as 0.
 */
export function tapMeans(x: ArrayLike<number>, h: number, w: number, c: number, n: { kh: number; kw: number; strideH: number; strideW: number; padTop: number; padLeft: number }, oh: number, ow: number, offset = 0): Float64Array {
  const out = new Float64Array(n.kh * n.kw * c);
  const col = new Float64Array(c);
  for (let ky = 0; ky < n.kh; ky++) {
    for (let kx = 0; kx < n.kw; kx++) {
      col.fill(0);
      for (let oy = 0; oy < oh; oy++) {
        const iy = oy * n.strideH - n.padTop + ky;
        if (iy < 0 || iy >= h) continue;
        for (let ox = 0; ox < ow; ox++) {
          const ix = ox * n.strideW - n.padLeft + kx;
          if (ix < 0 || ix >= w) continue;
          const b = (iy * w + ix) * c;
          for (let ch = 0; ch < c; ch++) col[ch] += x[b + ch] - offset;
        }
      }
      const t = (ky * n.kw + kx) * c;
      for (let ch = 0; ch < c; ch++) out[t + ch] = col[ch] / (oh * ow);
    }
  }
  return out;
}

/** Tap means of a linear node's input (fc: the input vector itself). */
function nodeTapMeans(n: Linear, x: ArrayLike<number>, [h, w, c]: [number, number, number], offset = 0): Float64Array {
  if (n.op === 'fc') return Float64Array.from(x as ArrayLike<number>, (v) => v - offset);
  const oh = windowOut(h, n.kh, n.strideH, n.padTop, n.padBottom), ow = windowOut(w, n.kw, n.strideW, n.padLeft, n.padRight);
  return tapMeans(x, h, w, c, n, oh, ow, offset);
}

/** Per-output-channel mean of weights . tapMeans (without bias). */
function linearMeans(n: Linear, weights: ArrayLike<number>, m: Float64Array, oc: number): Float64Array {
  const out = new Float64Array(oc);
  if (n.op === 'depthwise') {
    for (let t = 0; t < m.length; t++) out[t % oc] += weights[t] * m[t];
  } else {
    const K = m.length;
    for (let o = 0; o < oc; o++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += weights[o * K + k] * m[k];
      out[o] = s;
    }
  }
  return out;
}

/**
 * Float side: per-channel pre-activation output means of every conv / depthwise / fc, accumulated
 * from float runs (runFloat keepAll on the prepared graph: the calibration pass feeds them here).
 */
export class LinearMeans {
  private readonly sums = new Map<string, Float64Array>();
  images = 0;
  constructor(readonly graph: Graph) {
    if (graph.input.dynamic) throw new Error('bias correction: static input size only');
  }

  observe(values: Record<string, ArrayLike<number>>): void {
    for (const n of this.graph.nodes) {
      if (!isLinear(n)) continue;
      const x = values[n.input];
      if (!x) throw new Error(`bias correction: no float values for ${n.input}`);
      const m = nodeTapMeans(n, x, this.graph.tensors[n.input]);
      const s = linearMeans(n, n.weights, m, n.bias.length);
      let acc = this.sums.get(n.output);
      if (!acc) this.sums.set(n.output, (acc = new Float64Array(n.bias.length)));
      for (let o = 0; o < s.length; o++) acc[o] += s[o] + n.bias[o];
    }
    this.images++;
  }

  /** Mean pre-activation output per channel of the node writing `tensor`. */
  mean(tensor: string): Float64Array {
    const s = this.sums.get(tensor);
    if (!s || !this.images) throw new Error(`bias correction: no float statistics for ${tensor}`);
    return s.map((v) => v / this.images);
  }
}

/**
 * Corrects the int32 biases of `q` (in place) so that on `images` every conv / depthwise / fc output
 * has the float means of `target` (observed on the same images). `graph` is the prepared float graph
 * `q` was quantised from.
 */
export function correctBiases(graph: Graph, q: Quantized, images: Rgb[], target: LinearMeans, options: BiasCorrectionOptions = {}): BiasCorrectionReport {
  const strength = options.strength ?? 1;
  const minPositions = options.minPositions ?? 1;
  if (target.graph !== graph) throw new Error('bias correction: float statistics of another graph');
  const model: Omit<WfmModel, 'meta'> = q.model;
  const nodes = graph.nodes;
  if (model.ops.length !== nodes.length) throw new Error('bias correction: one op per graph node expected');
  const linear = nodes.map((n, i) => (isLinear(n) && graph.tensors[n.output][0] * graph.tensors[n.output][1] >= minPositions ? i : -1)).filter((i) => i >= 0);
  const N = images.length;
  if (!N) throw new Error('bias correction: no images');

  // ---- int8, op by op over all images (so each layer sees the corrected earlier layers)
  const lastUse = new Map<number, number>();
  model.ops.forEach((op, k) => op.inputs.forEach((t) => lastUse.set(t, k)));
  const values: (QTensor | undefined)[][] = images.map((img) => {
    const a: (QTensor | undefined)[] = new Array(model.tensors.length);
    a[model.input] = quantizeInput(model as WfmModel, img.data, img.width, img.height);
    return a;
  });
  let layers = 0, relSum = 0;
  let worst = { tensor: '', relShift: 0 };
  const isCorrected = new Set(linear);
  model.ops.forEach((op, k) => {
    if (isCorrected.has(k)) {
      const n = nodes[k] as Linear;
      const oc = n.bias.length;
      const inRec = model.tensors[op.inputs[0]];
      const sw = q.weightScales.get(n.output)!;
      const qm = new Float64Array(oc);
      for (const a of values) {
        const x = a[op.inputs[0]]!;
        const m = nodeTapMeans(n, x.data, [x.h, x.w, x.c], inRec.zp);
        const s = linearMeans(n, op.weights!, m, oc);
        for (let o = 0; o < oc; o++) qm[o] += s[o] / N;
      }
      const fm = target.mean(n.output);
      const bias = op.bias!;
      let shift2 = 0, ref2 = 0, changed = false;
      for (let o = 0; o < oc; o++) {
        const unit = inRec.scale * sw[o]; // one accumulator step in real units
        const want = fm[o] / unit - qm[o]; // the bias that makes the int8 mean equal the float mean
        const next = Math.max(-(2 ** 30), Math.min(2 ** 30, Math.round(bias[o] + strength * (want - bias[o]))));
        shift2 += ((next - bias[o]) * unit) ** 2;
        ref2 += fm[o] ** 2;
        if (next !== bias[o]) changed = true;
        bias[o] = next;
      }
      if (changed) layers++;
      const rel = Math.sqrt(shift2 / Math.max(ref2, 1e-30));
      relSum += rel;
      if (rel > worst.relShift) worst = { tensor: n.output, relShift: rel };
      options.onLayer?.();
    }
    for (const a of values) {
      a[op.output] = runOp(op, op.inputs.map((t) => a[t]!), model.tensors);
      for (const t of op.inputs) if (lastUse.get(t) === k && t !== model.input) a[t] = undefined;
    }
  });
  return { layers, meanRelShift: linear.length ? relSum / linear.length : 0, worst };
}
