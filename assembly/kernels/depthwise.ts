// Depthwise conv2d, NHWC int8: one filter per channel, any kernel size / stride / padding
// (3x3 s1/s2 in MiniFASNet and YuNet, the 5x5 "global" depthwise at the end of MiniFASNet).
//
// Packed layout (dwPack): [kh*kw taps][cp] int8 weights (cp = roundUp(c, 8), zero tail),
//   then i32 bias'[cp] (= bias - zpIn * sum over taps), i32 multPos[cp], i32 multNeg[cp].
// Taps outside the image read a row of zpIn bytes (the "zero row" in scratch): they add
// zpIn * w, which the bias fold removes exactly, so border and interior pixels share one loop.
//
// SIMD: 8 channels per step, x and w sign-extended to i16. Weights are symmetric int8 in
// [-127, 127] (TFLite's int8 spec; dwWeightsOk, checked where weights enter), so one product is at
// most 128 * 127 = 16256 in magnitude and two taps' products add up to at most 32512: exact in
// i16. Taps are therefore multiplied with i16x8.mul in pairs, summed in i16 and widened to i32
// once per pair (about half the instructions of extmul per tap, as V8 lowers those to three).
// Channels past the last multiple of 8 run the scalar loop, so no load crosses a pixel.

import { SIMD } from "../core/features";
import { requantPrelu, requantLanesPrelu, packClamp8 } from "../core/requant";
import { roundUp } from "../core/bounds";

@inline export function dwCp(c: i32): i32 { return roundUp(c, 8); }

/** Whether the n weight bytes at w are symmetric int8 (no -128): the SIMD kernel relies on it. */
export function dwWeightsOk(w: usize, n: u64): bool {
  for (let i: u64 = 0; i < n; i++) if (load<i8>(w + <usize>i) == -128) return false;
  return true;
}

export function dwPackedSize(c: i32, kh: i32, kw: i32): u64 {
  const cp = <u64>dwCp(c);
  return cp * <u64>(kh * kw) + cp * 12;
}

/** Scratch: a zero row (cp bytes, rounded to 16) and the per-pixel tap pointer table. */
export function dwScratchSize(c: i32, kh: i32, kw: i32): u64 {
  return <u64>roundUp(dwCp(c), 16) + <u64>(kh * kw) * 4;
}

/**
 * Packs weights given as [kh][kw][c] int8 (TFLite's depthwise order with multiplier 1),
 * bias i32[c] (or 0), multipliers i32[c] (multNeg 0 = same as multPos).
 */
export function dwPack(w: usize, c: i32, kh: i32, kw: i32, bias: usize, multPos: usize, multNeg: usize, zpIn: i32, dst: usize): void {
  const cp = dwCp(c), taps = kh * kw;
  memory.fill(dst, 0, <usize>cp * taps);
  const tail = dst + <usize>cp * taps;
  for (let ch = 0; ch < cp; ch++) {
    let sum = 0;
    if (ch < c) {
      for (let t = 0; t < taps; t++) {
        const v = <i32>load<i8>(w + <usize>t * c + ch);
        sum += v;
        store<i8>(dst + <usize>t * cp + ch, <i8>v);
      }
    }
    const mp = ch < c ? load<i32>(multPos + (<usize>ch << 2)) : 0;
    const mn = ch < c ? (multNeg ? load<i32>(multNeg + (<usize>ch << 2)) : mp) : 0;
    const b = ch < c && bias ? load<i32>(bias + (<usize>ch << 2)) : 0;
    store<i32>(tail + (<usize>ch << 2), b - zpIn * sum);
    store<i32>(tail + <usize>cp * 4 + (<usize>ch << 2), mp);
    store<i32>(tail + <usize>cp * 8 + (<usize>ch << 2), mn);
  }
}

export function dwconv(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, ldo: i32,
                       kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                       packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, scratch: usize): void {
  if (SIMD) dwconvSimd(input, h, w, c, out, oh, ow, ldo, kh, kw, sh, sw, padTop, padLeft, packed, shift, zpIn, zpOut, qmin, qmax, scratch);
  else dwconvScalar(input, h, w, c, out, oh, ow, ldo, kh, kw, sh, sw, padTop, padLeft, packed, shift, zpIn, zpOut, qmin, qmax);
}

/** Plain reference, bounds-checked per tap (independent of the pointer table the fast path uses). */
export function dwconvScalar(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, ldo: i32,
                             kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                             packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  const cp = dwCp(c), taps = kh * kw;
  const bias = packed + <usize>cp * taps, mpos = bias + <usize>cp * 4, mneg = mpos + <usize>cp * 4;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const o = out + (<usize>oy * ow + ox) * ldo;
      for (let ch = 0; ch < c; ch++) {
        let acc = load<i32>(bias + (<usize>ch << 2));
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx;
            const x = iy >= 0 && iy < h && ix >= 0 && ix < w ? <i32>load<i8>(input + (<usize>iy * w + ix) * c + ch) : zpIn;
            acc += x * <i32>load<i8>(packed + <usize>(ky * kw + kx) * cp + ch);
          }
        }
        store<i8>(o + ch, <i8>requantPrelu(acc, load<i32>(mpos + (<usize>ch << 2)), load<i32>(mneg + (<usize>ch << 2)), shift, zpOut, qmin, qmax));
      }
    }
  }
}

// One output pixel with any window, through a table of tap pointers (padding taps -> zero row).
@inline function dwPixelGeneral(input: usize, h: i32, w: i32, c: i32, oy: i32, ox: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                                padTop: i32, padLeft: i32, packed: usize, cp: i32, o: usize, ptrs: usize, zeroRow: usize,
                                shift: i32, zpOut: i32, qmin: i32, qmax: i32,
                                rnd: v128, sh32: i32, zp16: v128, qmin8: v128, qmax8: v128): void {
  const taps = kh * kw;
  for (let ky = 0; ky < kh; ky++) {
    const iy = oy * sh - padTop + ky;
    for (let kx = 0; kx < kw; kx++) {
      const ix = ox * sw - padLeft + kx;
      const p = iy >= 0 && iy < h && ix >= 0 && ix < w ? input + (<usize>iy * w + ix) * c : zeroRow;
      store<usize>(ptrs + (<usize>(ky * kw + kx) << 2), p);
    }
  }
  const bias = packed + <usize>cp * taps, mpos = bias + <usize>cp * 4, mneg = mpos + <usize>cp * 4;
  const c8 = c & ~7;
  let ch = 0;
  for (; ch < c8; ch += 8) {
    let a0 = v128.load(bias + (<usize>ch << 2)), a1 = v128.load(bias + (<usize>ch << 2), 16);
    let wp = packed + ch;
    let t = 0;
    for (; t + 1 < taps; t += 2) {
      const xa = v128.load8x8_s(load<usize>(ptrs + (<usize>t << 2)) + ch);
      const xb = v128.load8x8_s(load<usize>(ptrs + (<usize>t << 2), 4) + ch);
      const s = i16x8.add(i16x8.mul(xa, v128.load8x8_s(wp)), i16x8.mul(xb, v128.load8x8_s(wp + cp)));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s));
      a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
      wp += 2 * cp;
    }
    if (t < taps) {
      const s = i16x8.mul(v128.load8x8_s(load<usize>(ptrs + (<usize>t << 2)) + ch), v128.load8x8_s(wp));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s));
      a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
    }
    storeChannels8(o + ch, a0, a1, mpos + (<usize>ch << 2), mneg + (<usize>ch << 2), rnd, sh32, zp16, qmin8, qmax8);
  }
  for (; ch < c; ch++) {
    let acc = load<i32>(bias + (<usize>ch << 2));
    for (let t = 0; t < taps; t++) {
      acc += <i32>load<i8>(load<usize>(ptrs + (<usize>t << 2)) + ch) * <i32>load<i8>(packed + <usize>t * cp + ch);
    }
    store<i8>(o + ch, <i8>requantPrelu(acc, load<i32>(mpos + (<usize>ch << 2)), load<i32>(mneg + (<usize>ch << 2)), shift, zpOut, qmin, qmax));
  }
}

@inline function storeChannels8(o: usize, a0: v128, a1: v128, mp: usize, mn: usize, rnd: v128, sh32: i32,
                                zp16: v128, qmin8: v128, qmax8: v128): void {
  const y0 = requantLanesPrelu(a0, v128.load(mp), v128.load(mn), rnd, sh32);
  const y1 = requantLanesPrelu(a1, v128.load(mp, 16), v128.load(mn, 16), rnd, sh32);
  v128.store64_lane(o, packClamp8(y0, y1, zp16, qmin8, qmax8), 0);
}

// A run of interior output pixels [ox0, ox1) of row oy (every tap inside the image) for a 3x3 window:
// channel blocks outermost so the block's nine weight vectors stay in registers along the row.
function dw3x3Run(input: usize, w: i32, c: i32, iy0: i32, ox0: i32, ox1: i32, sw: i32, padLeft: i32,
                  packed: usize, cp: i32, o: usize, ldo: i32, rnd: v128, sh32: i32, zp16: v128, qmin8: v128, qmax8: v128): void {
  const bias = packed + <usize>cp * 9, mpos = bias + <usize>cp * 4, mneg = mpos + <usize>cp * 4;
  const rs = <usize>w * c, step = <usize>sw * c;
  const c8 = c & ~7;
  for (let ch = 0; ch < c8; ch += 8) {
    const wp = packed + ch;
    const k0 = v128.load8x8_s(wp), k1 = v128.load8x8_s(wp + cp), k2 = v128.load8x8_s(wp + 2 * cp);
    const k3 = v128.load8x8_s(wp + 3 * cp), k4 = v128.load8x8_s(wp + 4 * cp), k5 = v128.load8x8_s(wp + 5 * cp);
    const k6 = v128.load8x8_s(wp + 6 * cp), k7 = v128.load8x8_s(wp + 7 * cp), k8 = v128.load8x8_s(wp + 8 * cp);
    const b0 = v128.load(bias + (<usize>ch << 2)), b1 = v128.load(bias + (<usize>ch << 2), 16);
    let p = input + (<usize>iy0 * w + ox0 * sw - padLeft) * c + ch;
    let dst = o + <usize>ox0 * ldo + ch;
    for (let ox = ox0; ox < ox1; ox++) {
      // taps (0,1), (2,3), (4,5), (6,7) summed in i16, then 8 alone
      let s = i16x8.add(i16x8.mul(v128.load8x8_s(p), k0), i16x8.mul(v128.load8x8_s(p + c), k1));
      let a0 = i32x4.add(b0, i32x4.extend_low_i16x8_s(s)), a1 = i32x4.add(b1, i32x4.extend_high_i16x8_s(s));
      s = i16x8.add(i16x8.mul(v128.load8x8_s(p + 2 * c), k2), i16x8.mul(v128.load8x8_s(p + rs), k3));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s)); a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
      s = i16x8.add(i16x8.mul(v128.load8x8_s(p + rs + c), k4), i16x8.mul(v128.load8x8_s(p + rs + 2 * c), k5));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s)); a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
      s = i16x8.add(i16x8.mul(v128.load8x8_s(p + 2 * rs), k6), i16x8.mul(v128.load8x8_s(p + 2 * rs + c), k7));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s)); a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
      s = i16x8.mul(v128.load8x8_s(p + 2 * rs + 2 * c), k8);
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(s)); a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(s));
      storeChannels8(dst, a0, a1, mpos + (<usize>ch << 2), mneg + (<usize>ch << 2), rnd, sh32, zp16, qmin8, qmax8);
      p += step;
      dst += ldo;
    }
  }
}

function dwconvSimd(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, ldo: i32,
                    kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                    packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, scratch: usize): void {
  const cp = dwCp(c);
  const zeroRow = scratch;
  const ptrs = scratch + <usize>roundUp(cp, 16);
  memory.fill(zeroRow, <u8>zpIn, <usize>cp);
  const rnd = i64x2.splat(<i64>1 << (shift - 1)), sh32 = shift - 32;
  const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
  // interior columns: every tap of [ox*sw - padLeft, +kw) inside [0, w)
  const oxa = min((padLeft + sw - 1) / sw, ow);
  const oxb = max(oxa, min(ow, w - kw + padLeft >= 0 ? (w - kw + padLeft) / sw + 1 : 0));
  const fast3x3 = kh == 3 && kw == 3 && c >= 8;
  for (let oy = 0; oy < oh; oy++) {
    const iy0 = oy * sh - padTop;
    const o = out + <usize>oy * ow * ldo;
    const interiorRow = iy0 >= 0 && iy0 + kh <= h;
    const runs = fast3x3 && interiorRow && oxa < oxb;
    if (runs) dw3x3Run(input, w, c, iy0, oxa, oxb, sw, padLeft, packed, cp, o, ldo, rnd, sh32, zp16, qmin8, qmax8);
    for (let ox = 0; ox < ow; ox++) {
      if (runs && ox >= oxa && ox < oxb) {
        if ((c & 7) == 0) { ox = oxb - 1; continue; }
        // channels past the last multiple of 8 of the run's pixels
        dwTailChannels(input, w, c, iy0, ox * sw - padLeft, packed, cp, o + <usize>ox * ldo, shift, zpOut, qmin, qmax);
        continue;
      }
      dwPixelGeneral(input, h, w, c, oy, ox, kh, kw, sh, sw, padTop, padLeft, packed, cp, o + <usize>ox * ldo, ptrs, zeroRow,
        shift, zpOut, qmin, qmax, rnd, sh32, zp16, qmin8, qmax8);
    }
  }
}

// Channels [c & ~7, c) of one interior 3x3 pixel (scalar).
function dwTailChannels(input: usize, w: i32, c: i32, iy0: i32, ix0: i32, packed: usize, cp: i32, o: usize,
                        shift: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  const bias = packed + <usize>cp * 9, mpos = bias + <usize>cp * 4, mneg = mpos + <usize>cp * 4;
  for (let ch = c & ~7; ch < c; ch++) {
    let acc = load<i32>(bias + (<usize>ch << 2));
    for (let ky = 0; ky < 3; ky++) {
      for (let kx = 0; kx < 3; kx++) {
        acc += <i32>load<i8>(input + (<usize>(iy0 + ky) * w + ix0 + kx) * c + ch) * <i32>load<i8>(packed + <usize>(ky * 3 + kx) * cp + ch);
      }
    }
    store<i8>(o + ch, <i8>requantPrelu(acc, load<i32>(mpos + (<usize>ch << 2)), load<i32>(mneg + (<usize>ch << 2)), shift, zpOut, qmin, qmax));
  }
}
