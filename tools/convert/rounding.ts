// Data-aware rounding of int8 weights: instead of rounding every weight to its nearest level, choose
// the levels that keep each layer's OUTPUT closest to float on calibration inputs.
//
// For one output channel with float weights w (K taps), its fixed scale s and inputs x, the output
// error of integer weights q is e = (w - s q) . x, and E[e^2] = (w - s q)^T H (w - s q) with
// H = E[x x^T] the second moment of the layer's input patches. Nearest rounding minimises the
// diagonal part only; layers whose taps are strongly correlated (a depthwise kernel on an input
// with a large common offset, first layers on raw pixels) lose much more through the off-diagonal
// part. Two standard solvers of this objective:
// - K <= EXHAUSTIVE_TAPS (3x3 depthwise kernels): every floor/ceil combination is tried, the exact
//   optimum of the neighbourhood (the objective of AdaRound, Nagel et al., ICML 2020, solved exactly);
// - otherwise GPTQ / OBQ (Frantar et al., ICLR 2023): columns are rounded in order and the rounding
//   error of each is compensated on the columns not yet rounded through the inverse of H
//   (Cholesky form), which is exact for one column at a time.
// Scales stay max|w| / 127 (the file records nothing new), and every computation is plain float64
// in a fixed order: the result is deterministic.
import { isLinear, type Graph, type LinearNode as Linear } from './ir.js';
import { windowOut } from './shapes.js';


/** Depthwise kernels with at most this many taps are rounded exhaustively (2^K combinations). */
export const EXHAUSTIVE_TAPS = 10;
/** Observations per tap below which a layer keeps nearest rounding (its moments would be overfitted). */
export const MIN_SAMPLES_PER_TAP = 2;
/** GPTQ dampening: this fraction of the mean diagonal of H is added to its diagonal. */
export const DAMP = 0.01;

/**
 * Second moments of the input patches of conv / depthwise / fc nodes, from float runs
 * (runFloat keepAll on the prepared graph; the calibration pass feeds them here). Conv and fc:
 * one K x K matrix (K = kh*kw*C, taps in OHWI order); depthwise: one kh*kw square per channel.
 * Padding taps count as zeros, as in the int8 kernels.
 */
export class InputMoments {
  private readonly sums = new Map<string, Float64Array>();
  private readonly counts = new Map<string, number>();
  /**
   * `select`: the layers to observe; `maxPositions`: at most this many output positions per image
   * and layer (a fixed stride over them), to bound the cost on large layers.
   */
  constructor(readonly graph: Graph, readonly select: (n: Linear) => boolean = () => true, readonly maxPositions = Infinity) {
    if (graph.input.dynamic) throw new Error('weight rounding: static input size only');
  }

  observe(values: Record<string, ArrayLike<number>>): void {
    for (const n of this.graph.nodes) {
      if (!isLinear(n) || !this.select(n)) continue;
      const x = values[n.input];
      if (!x) throw new Error(`weight rounding: no float values for ${n.input}`);
      const [h, w, c] = this.graph.tensors[n.input];
      if (n.op === 'fc') {
        const K = x.length;
        const H = this.matrix(n.output, K * K);
        for (let i = 0; i < K; i++) { const xi = x[i]; if (xi === 0) continue; for (let j = i; j < K; j++) H[i * K + j] += xi * x[j]; }
        this.counts.set(n.output, (this.counts.get(n.output) ?? 0) + 1);
        continue;
      }
      const oh = windowOut(h, n.kh, n.strideH, n.padTop, n.padBottom), ow = windowOut(w, n.kw, n.strideW, n.padLeft, n.padRight);
      const T = n.kh * n.kw;
      const K = n.op === 'depthwise' ? T : T * c;
      const H = this.matrix(n.output, n.op === 'depthwise' ? c * T * T : K * K);
      const p = new Float64Array(T * c);
      const stride = Math.max(1, Math.ceil((oh * ow) / this.maxPositions));
      let used = 0;
      for (let pos = 0; pos < oh * ow; pos += stride) {
        const oy = Math.floor(pos / ow), ox = pos % ow;
        used++;
        p.fill(0);
        for (let ky = 0; ky < n.kh; ky++) {
          const iy = oy * n.strideH - n.padTop + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < n.kw; kx++) {
            const ix = ox * n.strideW - n.padLeft + kx;
            if (ix < 0 || ix >= w) continue;
            const src = (iy * w + ix) * c, dst = (ky * n.kw + kx) * c;
            for (let ch = 0; ch < c; ch++) p[dst + ch] = x[src + ch];
          }
        }
        if (n.op === 'depthwise') {
          for (let ch = 0; ch < c; ch++) {
            const base = ch * T * T;
            for (let i = 0; i < T; i++) { const pi = p[i * c + ch]; if (pi === 0) continue; for (let j = i; j < T; j++) H[base + i * T + j] += pi * p[j * c + ch]; }
          }
        } else {
          for (let i = 0; i < K; i++) { const pi = p[i]; if (pi === 0) continue; const row = i * K; for (let j = i; j < K; j++) H[row + j] += pi * p[j]; }
        }
      }
      this.counts.set(n.output, (this.counts.get(n.output) ?? 0) + used);
    }
  }

  private readonly rounded = new Map<string, Int8Array>();

  /** roundWeights(n, sw, this), computed once per layer (the scales follow from the weights alone). */
  round(n: Linear, sw: Float64Array): Int8Array {
    let r = this.rounded.get(n.output);
    if (!r) this.rounded.set(n.output, (r = roundWeights(n, sw, this)));
    return r.slice();
  }

  private matrix(name: string, size: number): Float64Array {
    let m = this.sums.get(name);
    if (!m) this.sums.set(name, (m = new Float64Array(size)));
    return m;
  }

  /**
   * Whether the node writing `tensor` has enough observations for its K x K moments to be trusted
   * out of sample: at least MIN_SAMPLES_PER_TAP samples per tap (fc layers on few images do not).
   */
  usable(tensor: string): boolean {
    const s = this.sums.get(tensor), count = this.counts.get(tensor) ?? 0;
    if (!s) return false;
    const n = this.graph.nodes.find((x) => x.output === tensor) as Linear;
    const K = n.op === 'depthwise' ? n.kh * n.kw : Math.round(Math.sqrt(s.length));
    return count >= MIN_SAMPLES_PER_TAP * K;
  }

  /** E[x x^T] (symmetric, full) of the node writing `tensor`; depthwise: `c` blocks of T x T. */
  moments(tensor: string): Float64Array {
    const s = this.sums.get(tensor), count = this.counts.get(tensor);
    if (!s || !count) throw new Error(`weight rounding: no input statistics for ${tensor}`);
    const n = this.graph.nodes.find((x) => x.output === tensor) as Linear;
    const K = n.op === 'depthwise' ? n.kh * n.kw : Math.round(Math.sqrt(s.length));
    const blocks = s.length / (K * K);
    const H = new Float64Array(s.length);
    for (let b = 0; b < blocks; b++) {
      const o = b * K * K;
      for (let i = 0; i < K; i++) for (let j = i; j < K; j++) H[o + i * K + j] = H[o + j * K + i] = s[o + i * K + j] / count;
    }
    return H;
  }
}

/** (w - s q)^T H (w - s q) for one channel (H full K x K at offset `ho`). */
function quadratic(d: Float64Array, H: Float64Array, ho: number, K: number): number {
  let e = 0;
  for (let i = 0; i < K; i++) {
    let r = 0;
    for (let j = 0; j < K; j++) r += H[ho + i * K + j] * d[j];
    e += d[i] * r;
  }
  return e;
}

const clampQ = (v: number) => (v < -127 ? -127 : v > 127 ? 127 : v);

/**
 * Exhaustive floor/ceil search for one channel's K weights (w, scale s, H full K x K at `ho`);
 * writes the integers into q.
 */
function roundExhaustive(w: Float64Array, s: number, H: Float64Array, ho: number, q: Int32Array): void {
  const K = w.length;
  const lo = Int32Array.from(w, (v) => clampQ(Math.floor(v / s)));
  const hi = Int32Array.from(w, (v) => clampQ(Math.floor(v / s) + 1));
  const d = new Float64Array(K);
  // start from nearest rounding: it wins ties
  for (let i = 0; i < K; i++) q[i] = clampQ(Math.round(w[i] / s));
  for (let i = 0; i < K; i++) d[i] = w[i] - s * q[i];
  let best = quadratic(d, H, ho, K);
  const cand = new Int32Array(K);
  for (let mask = 0; mask < 1 << K; mask++) {
    for (let i = 0; i < K; i++) { cand[i] = (mask >> i) & 1 ? hi[i] : lo[i]; d[i] = w[i] - s * cand[i]; }
    const e = quadratic(d, H, ho, K);
    if (e < best * (1 - 1e-12)) { best = e; q.set(cand); }
  }
}

/**
 * Upper Cholesky factor U of H^-1 (H^-1 = U^T U), as GPTQ uses it; H is K x K, positive definite
 * after dampening. Returns undefined when it is not. With V = U^-1 (upper), H = V V^T: V is the
 * lower Cholesky factor of H with rows and columns reversed, so one Cholesky and one triangular
 * inversion suffice.
 */
function inverseCholeskyUpper(H: Float64Array, K: number): Float64Array | undefined {
  // M M^T = J H J (J reverses the order), M lower
  const M = new Float64Array(K * K);
  const h = (i: number, j: number) => H[(K - 1 - i) * K + (K - 1 - j)];
  for (let j = 0; j < K; j++) {
    let s = h(j, j);
    for (let k = 0; k < j; k++) s -= M[j * K + k] * M[j * K + k];
    if (!(s > 0)) return undefined;
    const d = Math.sqrt(s);
    M[j * K + j] = d;
    for (let i = j + 1; i < K; i++) {
      let t = h(i, j);
      const ri = i * K, rj = j * K;
      for (let k = 0; k < j; k++) t -= M[ri + k] * M[rj + k];
      M[ri + j] = t / d;
    }
  }
  // Mi = M^-1 (lower), U = V^-1 = J Mi J (upper)
  const Mi = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    Mi[i * K + i] = 1 / M[i * K + i];
    for (let j = 0; j < i; j++) {
      let t = 0;
      for (let k = j; k < i; k++) t -= M[i * K + k] * Mi[k * K + j];
      Mi[i * K + j] = t / M[i * K + i];
    }
  }
  const U = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) U[i * K + j] = Mi[(K - 1 - i) * K + (K - 1 - j)];
  return U;
}

/** H with dead inputs (zero diagonal) made harmless and DAMP of the mean diagonal added. */
function damped(H: Float64Array, ho: number, K: number): Float64Array {
  const out = H.slice(ho, ho + K * K);
  let mean = 0;
  for (let i = 0; i < K; i++) mean += out[i * K + i] / K;
  if (!(mean > 0)) mean = 1;
  for (let i = 0; i < K; i++) {
    if (!(out[i * K + i] > 0)) { for (let j = 0; j < K; j++) out[i * K + j] = out[j * K + i] = 0; out[i * K + i] = mean; }
    out[i * K + i] += DAMP * mean;
  }
  return out;
}

/**
 * GPTQ over rows sharing one H (K x K at `ho`): w is rows x K (modified: holds the compensated
 * weights afterwards), scales per row; writes integers into q (rows x K).
 */
function roundGptq(w: Float64Array, rows: number, K: number, scales: ArrayLike<number>, H: Float64Array, ho: number, q: Int32Array): boolean {
  const U = inverseCholeskyUpper(damped(H, ho, K), K);
  if (!U) return false;
  for (let j = 0; j < K; j++) {
    const ujj = U[j * K + j];
    for (let r = 0; r < rows; r++) {
      const s = scales[r], v = w[r * K + j];
      const qi = clampQ(Math.round(v / s));
      q[r * K + j] = qi;
      const e = (v - qi * s) / ujj;
      if (e === 0) continue;
      for (let k = j + 1; k < K; k++) w[r * K + k] -= e * U[j * K + k];
    }
  }
  return true;
}

/**
 * Integer weights of `n` for the per-channel scales `sw` (max|w| / 127, from quantizeWeights),
 * rounded to minimise the output error on the observed inputs. Layout as the node's weights.
 */
export function roundWeights(n: Linear, sw: Float64Array, moments: InputMoments): Int8Array {
  const oc = n.bias.length;
  const H = moments.moments(n.output);
  const out = new Int8Array(n.weights.length);
  if (n.op === 'depthwise') {
    const T = n.kh * n.kw;
    const w = new Float64Array(T), q = new Int32Array(T);
    for (let c = 0; c < oc; c++) {
      for (let t = 0; t < T; t++) w[t] = n.weights[t * oc + c];
      if (T <= EXHAUSTIVE_TAPS) roundExhaustive(w, sw[c], H, c * T * T, q);
      else if (!roundGptq(w.slice(), 1, T, [sw[c]], H, c * T * T, q)) for (let t = 0; t < T; t++) q[t] = clampQ(Math.round(w[t] / sw[c]));
      for (let t = 0; t < T; t++) out[t * oc + c] = q[t];
    }
    return out;
  }
  const K = n.weights.length / oc;
  const w = Float64Array.from(n.weights), q = new Int32Array(n.weights.length);
  if (!roundGptq(w, oc, K, sw, H, 0, q)) for (let i = 0; i < q.length; i++) q[i] = clampQ(Math.round(n.weights[i] / sw[Math.floor(i / K)]));
  out.set(q);
  return out;
}

/** Mean output error E[((w - s q) . x)^2] summed over channels (for reports and tests). */
export function outputError(n: Linear, wq: Int8Array, sw: Float64Array, moments: InputMoments): number {
  const oc = n.bias.length;
  const H = moments.moments(n.output);
  let e = 0;
  if (n.op === 'depthwise') {
    const T = n.kh * n.kw, d = new Float64Array(T);
    for (let c = 0; c < oc; c++) {
      for (let t = 0; t < T; t++) d[t] = n.weights[t * oc + c] - sw[c] * wq[t * oc + c];
      e += quadratic(d, H, c * T * T, T);
    }
    return e;
  }
  const K = n.weights.length / oc, d = new Float64Array(K);
  for (let o = 0; o < oc; o++) {
    for (let k = 0; k < K; k++) d[k] = n.weights[o * K + k] - sw[o] * wq[o * K + k];
    e += quadratic(d, H, 0, K);
  }
  return e;
}
