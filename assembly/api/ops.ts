// Checked entry points for the element-wise, pooling, layout and image kernels (see api/kernels.ts
// for the convention: validate everything, return a status, then run the unchecked kernel).

import { OK, E_BOUNDS, E_SHAPE, E_PARAM, E_SCRATCH, E_NAN } from "../core/status";
import { owned } from "../core/alloc";
import { dimOk, isInt8, MAX_DIM } from "../core/bounds";
import { wideShiftOk } from "../core/requant";
import { add as addRun, channelMul as channelMulRun, lut as lutRun, ADD_MULT_MAX } from "../kernels/eltwise";
import { maxPool as maxPoolRun, avgPool as avgPoolRun, globalAvgPool as globalAvgPoolRun } from "../kernels/pool";
import { copyChannels as copyChannelsRun, padZero as padZeroRun, upsampleNearest as upsampleRun } from "../kernels/layout";
import { toRgb as toRgbRun, imageBytes, FMT_COUNT } from "../image/convert";
import { resizeBilinear as resizeRun, resizeScratchSize, halve as halveRun, warpAffine as warpRun } from "../image/resample";
import { quantizeImage as quantizeImageRun, dequantize as dequantizeRun, l2Normalize as l2Run } from "../image/tensor";
import { MAX_KERNEL, MAX_STRIDE } from "./kernels";

const MAX_ELEMS: u64 = 1 << 30;

function clampOk(zp: i32, qmin: i32, qmax: i32): bool {
  return isInt8(zp) && isInt8(qmin) && isInt8(qmax) && qmin <= qmax;
}

function poolWindowOk(h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): bool {
  return dimOk(h) && dimOk(w) && dimOk(c) && dimOk(oh) && dimOk(ow)
    && kh >= 1 && kw >= 1 && kh <= MAX_KERNEL && kw <= MAX_KERNEL
    && sh >= 1 && sw >= 1 && sh <= MAX_STRIDE && sw <= MAX_STRIDE
    && pt >= 0 && pl >= 0 && pt < kh && pl < kw
    && (oh - 1) * sh - pt <= h - 1 && (ow - 1) * sw - pl <= w - 1;
}

export function add(a: usize, b: usize, out: usize, n: i32, za: i32, ma: i32, zb: i32, mb: i32,
                    shift: i32, zpOut: i32, qmin: i32, qmax: i32): i32 {
  if (n < 1 || <u64>n > MAX_ELEMS) return E_SHAPE;
  if (!isInt8(za) || !isInt8(zb) || !clampOk(zpOut, qmin, qmax)) return E_PARAM;
  if (shift < 1 || shift > 31 || ma <= -ADD_MULT_MAX || ma >= ADD_MULT_MAX || mb <= -ADD_MULT_MAX || mb >= ADD_MULT_MAX) return E_PARAM;
  if (!owned(a, n) || !owned(b, n) || !owned(out, n)) return E_BOUNDS;
  addRun(a, b, out, n, za, ma, zb, mb, shift, zpOut, qmin, qmax);
  return OK;
}

export function channelMul(x: usize, pixels: i32, c: i32, s: usize, zx: i32, zs: i32, mult: i32, shift: i32,
                           zpOut: i32, qmin: i32, qmax: i32, out: usize): i32 {
  if (pixels < 1 || <u64>pixels > MAX_ELEMS || !dimOk(c)) return E_SHAPE;
  if (!isInt8(zx) || !isInt8(zs) || !clampOk(zpOut, qmin, qmax) || !wideShiftOk(shift, 255 * 255)) return E_PARAM;
  if (!owned(x, <u64>pixels * c) || !owned(s, c) || !owned(out, <u64>pixels * c)) return E_BOUNDS;
  channelMulRun(x, pixels, c, s, zx, zs, mult, shift, zpOut, qmin, qmax, out);
  return OK;
}

export function lut(x: usize, n: i32, table: usize, out: usize): i32 {
  if (n < 1 || <u64>n > MAX_ELEMS) return E_SHAPE;
  if (!owned(x, n) || !owned(table, 256) || !owned(out, n)) return E_BOUNDS;
  lutRun(x, n, table, out);
  return OK;
}

export function maxPool(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32,
                        kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): i32 {
  if (!poolWindowOk(h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft)) return E_SHAPE;
  if (!owned(input, <u64>h * w * c) || !owned(out, <u64>oh * ow * c)) return E_BOUNDS;
  maxPoolRun(input, h, w, c, out, oh, ow, kh, kw, sh, sw, padTop, padLeft);
  return OK;
}

export function avgPool(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32,
                        kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, countIncludePad: bool,
                        mults: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): i32 {
  if (!poolWindowOk(h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft)) return E_SHAPE;
  if (!isInt8(zpIn) || !clampOk(zpOut, qmin, qmax) || !wideShiftOk(shift, <u64>255 * kh * kw)) return E_PARAM;
  if (!owned(input, <u64>h * w * c) || !owned(out, <u64>oh * ow * c) || !owned(mults, <u64>(kh * kw + 1) * 4)) return E_BOUNDS;
  avgPoolRun(input, h, w, c, out, oh, ow, kh, kw, sh, sw, padTop, padLeft, countIncludePad, mults, shift, zpIn, zpOut, qmin, qmax);
  return OK;
}

export function globalAvgPool(input: usize, pixels: i32, c: i32, out: usize, mult: i32, shift: i32,
                              zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): i32 {
  // pixels * 255 must fit the i32 sum
  if (pixels < 1 || pixels > (1 << 22) || !dimOk(c)) return E_SHAPE;
  if (!isInt8(zpIn) || !clampOk(zpOut, qmin, qmax) || !wideShiftOk(shift, <u64>255 * pixels)) return E_PARAM;
  if (!owned(input, <u64>pixels * c) || !owned(out, c)) return E_BOUNDS;
  globalAvgPoolRun(input, pixels, c, out, mult, shift, zpIn, zpOut, qmin, qmax);
  return OK;
}

export function copyChannels(input: usize, pixels: i32, c: i32, out: usize, ldo: i32, offset: i32): i32 {
  if (pixels < 1 || <u64>pixels > MAX_ELEMS || !dimOk(c) || offset < 0 || ldo < offset + c || ldo > 65536) return E_SHAPE;
  if (!owned(input, <u64>pixels * c) || !owned(out, <u64>(pixels - 1) * ldo + offset + c)) return E_BOUNDS;
  copyChannelsRun(input, pixels, c, out, ldo, offset);
  return OK;
}

export function padZero(input: usize, h: i32, w: i32, c: i32, out: usize, channels: i32, bottom: i32, right: i32, zp: i32): i32 {
  if (!dimOk(h) || !dimOk(w) || !dimOk(c) || channels < 0 || bottom < 0 || right < 0) return E_SHAPE;
  if (channels > MAX_DIM || bottom > MAX_DIM || right > MAX_DIM) return E_SHAPE;
  if (!isInt8(zp)) return E_PARAM;
  if (!owned(input, <u64>h * w * c) || !owned(out, <u64>(h + bottom) * (w + right) * (c + channels))) return E_BOUNDS;
  padZeroRun(input, h, w, c, out, channels, bottom, right, zp);
  return OK;
}

export function upsampleNearest(input: usize, h: i32, w: i32, c: i32, factor: i32, out: usize): i32 {
  if (!dimOk(h) || !dimOk(w) || !dimOk(c) || factor < 1 || factor > 16 || !dimOk(h * factor) || !dimOk(w * factor)) return E_SHAPE;
  if (!owned(input, <u64>h * w * c) || !owned(out, <u64>h * w * c * factor * factor)) return E_BOUNDS;
  upsampleRun(input, h, w, c, factor, out);
  return OK;
}

// ---- image ----

export function imageByteSize(format: i32, w: i32, h: i32): f64 {
  return format >= 0 && format < FMT_COUNT && dimOk(w) && dimOk(h) ? <f64>imageBytes(format, w, h) : -1;
}

export function toRgb(src: usize, srcLen: i32, format: i32, w: i32, h: i32, dst: usize): i32 {
  if (format < 0 || format >= FMT_COUNT) return E_PARAM;
  if (!dimOk(w) || !dimOk(h)) return E_SHAPE;
  if (<u64>srcLen != imageBytes(format, w, h)) return E_SHAPE;
  if (!owned(src, <u64>srcLen) || !owned(dst, <u64>w * h * 3)) return E_BOUNDS;
  toRgbRun(src, format, w, h, dst);
  return OK;
}

export function resizeScratchBytes(dw: i32, dh: i32): f64 { return <f64>resizeScratchSize(dw, dh); }

export function resizeBilinear(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32, scratch: usize, scratchLen: i32): i32 {
  if (!dimOk(sw) || !dimOk(sh) || !dimOk(dw) || !dimOk(dh) || c < 1 || c > 4) return E_SHAPE;
  if (<u64>scratchLen < resizeScratchSize(dw, dh)) return E_SCRATCH;
  if (!owned(src, <u64>sw * sh * c) || !owned(dst, <u64>dw * dh * c) || !owned(scratch, resizeScratchSize(dw, dh))) return E_BOUNDS;
  resizeRun(src, sw, sh, c, dst, dw, dh, scratch);
  return OK;
}

export function halve(src: usize, sw: i32, sh: i32, c: i32, dst: usize): i32 {
  if (sw < 2 || sh < 2 || !dimOk(sw) || !dimOk(sh) || c < 1 || c > 4) return E_SHAPE;
  if (!owned(src, <u64>sw * sh * c) || !owned(dst, <u64>(sw >> 1) * (sh >> 1) * c)) return E_BOUNDS;
  halveRun(src, sw, sh, c, dst);
  return OK;
}

export function warpAffine(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32,
                           m0: f64, m1: f64, m2: f64, m3: f64, m4: f64, m5: f64, border: i32): i32 {
  if (!dimOk(sw) || !dimOk(sh) || !dimOk(dw) || !dimOk(dh) || c < 1 || c > 4) return E_SHAPE;
  if (!(isFinite(m0) && isFinite(m1) && isFinite(m2) && isFinite(m3) && isFinite(m4) && isFinite(m5))) return E_NAN;
  if (border < 0 || border > 255) return E_PARAM;
  if (!owned(src, <u64>sw * sh * c) || !owned(dst, <u64>dw * dh * c)) return E_BOUNDS;
  warpRun(src, sw, sh, c, dst, dw, dh, m0, m1, m2, m3, m4, m5, border);
  return OK;
}

export function quantizeImage(src: usize, pixels: i32, perm: i32, table: usize, out: usize): i32 {
  if (pixels < 1 || <u64>pixels > MAX_ELEMS) return E_SHAPE;
  if ((perm & 0xff) > 2 || ((perm >> 8) & 0xff) > 2 || ((perm >> 16) & 0xff) > 2 || (perm >>> 24) != 0) return E_PARAM;
  if (!owned(src, <u64>pixels * 3) || !owned(table, 768) || !owned(out, <u64>pixels * 3)) return E_BOUNDS;
  quantizeImageRun(src, pixels, perm, table, out);
  return OK;
}

export function dequantize(x: usize, n: i32, zp: i32, scale: f32, out: usize): i32 {
  if (n < 1 || <u64>n > MAX_ELEMS) return E_SHAPE;
  if (!isInt8(zp) || !isFinite(scale)) return E_PARAM;
  if (!owned(x, n) || !owned(out, <u64>n * 4)) return E_BOUNDS;
  dequantizeRun(x, n, zp, scale, out);
  return OK;
}

/** Returns the norm (> 0) or a negative status. */
export function l2Normalize(v: usize, n: i32): f64 {
  if (n < 1 || <u64>n > MAX_ELEMS) return E_SHAPE;
  if (!owned(v, <u64>n * 4)) return E_BOUNDS;
  const norm = l2Run(v, n);
  return norm < 0 ? <f64>E_NAN : norm;
}
