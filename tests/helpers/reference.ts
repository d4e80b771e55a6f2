// Independent references for the kernels: plain loops over unpacked NHWC data, no shared code with
// the wasm. `int` references are exact (integer accumulation + BigInt requantisation); `real`
// references accumulate in float64 and round once, to check the fixed-point path within 1 LSB.
import { requantRef } from '../../js/quant.js';

export interface Window {
  h: number; w: number; c: number; kh: number; kw: number;
  sh: number; sw: number; pt: number; pl: number; oh: number; ow: number;
}

/** Integer accumulators of conv2d (OHWI weights), padding taps contributing zero. */
export function convAcc(x: Int8Array, wts: Int8Array, bias: Int32Array | null, oc: number, g: Window, zpIn: number): Int32Array {
  const acc = new Int32Array(g.oh * g.ow * oc);
  for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) for (let o = 0; o < oc; o++) {
    let s = bias ? bias[o] : 0;
    for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) {
      const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      for (let ci = 0; ci < g.c; ci++) {
        s += (x[(iy * g.w + ix) * g.c + ci] - zpIn) * wts[((o * g.kh + ky) * g.kw + kx) * g.c + ci];
      }
    }
    acc[(oy * g.ow + ox) * oc + o] = s;
  }
  return acc;
}

/** Integer accumulators of depthwise conv2d (HWC weights). */
export function dwAcc(x: Int8Array, wts: Int8Array, bias: Int32Array | null, g: Window, zpIn: number): Int32Array {
  const acc = new Int32Array(g.oh * g.ow * g.c);
  for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) for (let ch = 0; ch < g.c; ch++) {
    let s = bias ? bias[ch] : 0;
    for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) {
      const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      s += (x[(iy * g.w + ix) * g.c + ch] - zpIn) * wts[(ky * g.kw + kx) * g.c + ch];
    }
    acc[(oy * g.ow + ox) * g.c + ch] = s;
  }
  return acc;
}

/** Exact integer requantisation of per-channel accumulators (channel = index % channels). */
export function requantInt(acc: Int32Array, channels: number, mult: Int32Array, multNeg: Int32Array, shift: number,
                           zp: number, qmin: number, qmax: number): Int8Array {
  return Int8Array.from(acc, (a, i) => requantRef(a, a < 0 ? multNeg[i % channels] : mult[i % channels], shift, zp, qmin, qmax));
}

/** float64 requantisation from the real scales: round(acc * scale) + zp, clamped. */
export function requantReal(acc: Int32Array, channels: number, scale: Float64Array, scaleNeg: Float64Array,
                            zp: number, qmin: number, qmax: number): Int8Array {
  return Int8Array.from(acc, (a, i) => {
    const y = Math.round(a * (a < 0 ? scaleNeg[i % channels] : scale[i % channels])) + zp;
    return Math.min(qmax, Math.max(qmin, y));
  });
}

export function firstDiff(a: Int8Array, b: Int8Array, tolerance = 0): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > tolerance) return i;
  return -1;
}
