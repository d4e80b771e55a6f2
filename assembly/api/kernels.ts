// Checked entry points for standalone kernel use. Each validates every dimension, parameter and
// buffer (each buffer must lie inside one live allocation) and returns a status code; only then does
// it call the unchecked kernel. The graph runner validates once at load time and calls kernels directly.

import { OK, E_BOUNDS, E_SHAPE, E_PARAM, E_SCRATCH, E_RANGE } from "../core/status";
import { owned } from "../core/alloc";
import { dimOk, isInt8 } from "../core/bounds";
import { shiftOk } from "../core/requant";
import { gemm, gemmPack, gemmPackedSize, gemmKp, GEMM_MAX_K } from "../kernels/gemm";
import { conv2d as conv2dRun, convScratchSize } from "../kernels/conv";
import { dwconv as dwconvRun, dwPack, dwPackedSize, dwScratchSize, dwWeightsOk } from "../kernels/depthwise";

export const MAX_KERNEL: i32 = 32;
export const MAX_STRIDE: i32 = 8;

// ---- shared checks ----

function quantOk(shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): bool {
  return shiftOk(shift) && isInt8(zpIn) && isInt8(zpOut) && isInt8(qmin) && isInt8(qmax) && qmin <= qmax;
}

function windowOk(h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): bool {
  if (!(dimOk(h) && dimOk(w) && dimOk(oh) && dimOk(ow))) return false;
  if (kh < 1 || kw < 1 || kh > MAX_KERNEL || kw > MAX_KERNEL) return false;
  if (sh < 1 || sw < 1 || sh > MAX_STRIDE || sw > MAX_STRIDE) return false;
  if (padTop < 0 || padLeft < 0 || padTop >= kh || padLeft >= kw) return false;
  // implied padding after the image is at most kernel-1, like padding before it
  return (oh - 1) * sh - padTop <= h - 1 && (ow - 1) * sw - padLeft <= w - 1;
}

/** Every int8 value in [0, 127]: the promise a 7-bit (u7) input makes. */
function allU7(p: usize, n: u64): bool {
  for (let i: u64 = 0; i < n; i++) if (load<i8>(p + <usize>i) < 0) return false;
  return true;
}

// ---- GEMM / fully connected ----

export function gemmPackedBytes(n: i32, k: i32): f64 {
  return dimOk(n) && k >= 1 && k <= GEMM_MAX_K ? <f64>gemmPackedSize(n, k) : -1;
}

/** Packs fully connected / 1x1 / conv weights w[n][k]; see kernels/gemm.ts for the layout. */
export function gemmPackWeights(w: usize, n: i32, k: i32, bias: usize, multPos: usize, multNeg: usize, zpIn: i32, dst: usize): i32 {
  if (!dimOk(n) || k < 1 || k > GEMM_MAX_K) return E_SHAPE;
  if (!isInt8(zpIn)) return E_PARAM;
  if (!owned(w, <u64>n * k) || !owned(multPos, <u64>n * 4) || !owned(dst, gemmPackedSize(n, k))) return E_BOUNDS;
  if (bias && !owned(bias, <u64>n * 4)) return E_BOUNDS;
  if (multNeg && !owned(multNeg, <u64>n * 4)) return E_BOUNDS;
  gemmPack(w, n, k, bias, multPos, multNeg, zpIn, dst);
  return OK;
}

/**
 * Fully connected: out[m][n] = requant(in[m][k] . w[n] + bias[n]). Rows of `input` are k bytes
 * apart; when k is not a multiple of 16, rows are staged through `scratch` (m * kp bytes).
 */
export function fullyConnected(input: usize, m: i32, k: i32, packed: usize, n: i32, out: usize,
                               shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, u7: bool,
                               scratch: usize, scratchLen: i32): i32 {
  if (!dimOk(m) || !dimOk(n) || k < 1 || k > GEMM_MAX_K) return E_SHAPE;
  if (!quantOk(shift, zpIn, zpOut, qmin, qmax)) return E_PARAM;
  const kp = gemmKp(k);
  if (!owned(input, <u64>m * k) || !owned(packed, gemmPackedSize(n, k)) || !owned(out, <u64>m * n)) return E_BOUNDS;
  if (u7 && !allU7(input, <u64>m * k)) return E_RANGE;
  if (kp == k) {
    gemm(input, k, m, kp, packed, n, out, n, shift, zpOut, qmin, qmax, u7);
    return OK;
  }
  const need = <u64>m * kp;
  if (<u64>scratchLen < need) return E_SCRATCH;
  if (!owned(scratch, need)) return E_BOUNDS;
  for (let r = 0; r < m; r++) {
    memory.copy(scratch + <usize>r * kp, input + <usize>r * k, k);
    memory.fill(scratch + <usize>r * kp + k, 0, kp - k);
  }
  gemm(scratch, kp, m, kp, packed, n, out, n, shift, zpOut, qmin, qmax, u7);
  return OK;
}

export function fullyConnectedScratchBytes(m: i32, k: i32): f64 {
  const kp = gemmKp(k);
  return kp == k ? 0 : <f64>m * kp;
}

// ---- conv2d ----

export function conv2dScratchBytes(ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, c: i32): f64 {
  return <f64>convScratchSize(ow, kh, kw, sh, sw, c);
}

export function conv2d(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, oc: i32, ldo: i32,
                       kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                       packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, u7: bool,
                       scratch: usize, scratchLen: i32): i32 {
  if (!dimOk(c) || !dimOk(oc) || ldo < oc || ldo > 65536) return E_SHAPE;
  if (!windowOk(h, w, oh, ow, kh, kw, sh, sw, padTop, padLeft)) return E_SHAPE;
  const k = kh * kw * c;
  if (k > GEMM_MAX_K) return E_SHAPE;
  if (!quantOk(shift, zpIn, zpOut, qmin, qmax)) return E_PARAM;
  if (u7 && zpIn < 0) return E_PARAM;
  const inBytes = <u64>h * w * c;
  if (!owned(input, inBytes) || !owned(packed, gemmPackedSize(oc, k))) return E_BOUNDS;
  if (!owned(out, (<u64>oh * ow - 1) * ldo + oc)) return E_BOUNDS;
  const need = convScratchSize(ow, kh, kw, sh, sw, c);
  if (need > 0) {
    if (<u64>scratchLen < need) return E_SCRATCH;
    if (!owned(scratch, need)) return E_BOUNDS;
  }
  if (u7 && !allU7(input, inBytes)) return E_RANGE;
  conv2dRun(input, h, w, c, out, oh, ow, oc, ldo, kh, kw, sh, sw, padTop, padLeft, packed, shift, zpIn, zpOut, qmin, qmax, u7, scratch);
  return OK;
}

// ---- depthwise conv2d ----

export function dwPackedBytes(c: i32, kh: i32, kw: i32): f64 {
  return dimOk(c) && kh >= 1 && kw >= 1 && kh <= MAX_KERNEL && kw <= MAX_KERNEL ? <f64>dwPackedSize(c, kh, kw) : -1;
}

export function dwScratchBytes(c: i32, kh: i32, kw: i32): f64 {
  return <f64>dwScratchSize(c, kh, kw);
}

export function dwPackWeights(w: usize, c: i32, kh: i32, kw: i32, bias: usize, multPos: usize, multNeg: usize, zpIn: i32, dst: usize): i32 {
  if (!dimOk(c) || kh < 1 || kw < 1 || kh > MAX_KERNEL || kw > MAX_KERNEL) return E_SHAPE;
  if (!isInt8(zpIn)) return E_PARAM;
  if (!owned(w, <u64>kh * kw * c) || !owned(multPos, <u64>c * 4) || !owned(dst, dwPackedSize(c, kh, kw))) return E_BOUNDS;
  if (bias && !owned(bias, <u64>c * 4)) return E_BOUNDS;
  if (multNeg && !owned(multNeg, <u64>c * 4)) return E_BOUNDS;
  if (!dwWeightsOk(w, <u64>kh * kw * c)) return E_PARAM; // symmetric int8 only (-128 is not a weight)
  dwPack(w, c, kh, kw, bias, multPos, multNeg, zpIn, dst);
  return OK;
}

export function depthwiseConv2d(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, ldo: i32,
                                kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                                packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32,
                                scratch: usize, scratchLen: i32): i32 {
  if (!dimOk(c) || ldo < c || ldo > 65536) return E_SHAPE;
  if (!windowOk(h, w, oh, ow, kh, kw, sh, sw, padTop, padLeft)) return E_SHAPE;
  if (!quantOk(shift, zpIn, zpOut, qmin, qmax)) return E_PARAM;
  if (!owned(input, <u64>h * w * c) || !owned(packed, dwPackedSize(c, kh, kw))) return E_BOUNDS;
  if (!owned(out, (<u64>oh * ow - 1) * ldo + c)) return E_BOUNDS;
  const need = dwScratchSize(c, kh, kw);
  if (<u64>scratchLen < need) return E_SCRATCH;
  if (!owned(scratch, need)) return E_BOUNDS;
  dwconvRun(input, h, w, c, out, oh, ow, ldo, kh, kw, sh, sw, padTop, padLeft, packed, shift, zpIn, zpOut, qmin, qmax, scratch);
  return OK;
}
