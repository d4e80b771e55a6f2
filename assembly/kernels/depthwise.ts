// Depthwise conv2d, NHWC int8: one filter per channel, any kernel size / stride / padding
// (3x3 s1/s2 in MiniFASNet and YuNet, the 5x5 "global" depthwise at the end of MiniFASNet).
//
// Packed layout (dwPack): [kh*kw taps][cp] int8 weights (cp = roundUp(c, 8), zero tail),
//   then i32 bias'[cp] (= bias - zpIn * sum over taps), i32 multPos[cp], i32 multNeg[cp].
// Taps outside the image read a row of zpIn bytes (the "zero row" in scratch): they add
// zpIn * w, which the bias fold removes exactly, so border and interior pixels share one loop.
//
// SIMD: 8 channels per step, x and w sign-extended to i16, i32x4.extmul_low/high accumulate.
// Channels past the last multiple of 8 run the scalar loop, so no load crosses a pixel.

import { SIMD } from "../core/features";
import { requantPrelu, requantLanesPrelu, packClamp8 } from "../core/requant";
import { roundUp } from "../core/bounds";

@inline export function dwCp(c: i32): i32 { return roundUp(c, 8); }

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

function dwconvSimd(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, ldo: i32,
                    kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                    packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, scratch: usize): void {
  const cp = dwCp(c), taps = kh * kw;
  const bias = packed + <usize>cp * taps, mpos = bias + <usize>cp * 4, mneg = mpos + <usize>cp * 4;
  const zeroRow = scratch;
  const ptrs = scratch + <usize>roundUp(cp, 16);
  memory.fill(zeroRow, <u8>zpIn, <usize>cp);
  const rnd = i64x2.splat(<i64>1 << (shift - 1)), sh32 = shift - 32;
  const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
  const c8 = c & ~7;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      // pointer table: each tap's input pixel, or the zero row when it falls in the padding
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - padTop + ky;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - padLeft + kx;
          const p = iy >= 0 && iy < h && ix >= 0 && ix < w ? input + (<usize>iy * w + ix) * c : zeroRow;
          store<usize>(ptrs + (<usize>(ky * kw + kx) << 2), p);
        }
      }
      const o = out + (<usize>oy * ow + ox) * ldo;
      let ch = 0;
      for (; ch < c8; ch += 8) {
        let a0 = v128.load(bias + (<usize>ch << 2)), a1 = v128.load(bias + (<usize>ch << 2), 16);
        let wp = packed + ch;
        for (let t = 0; t < taps; t++) {
          const x = v128.load8x8_s(load<usize>(ptrs + (<usize>t << 2)) + ch);
          const k = v128.load8x8_s(wp);
          a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, k));
          a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, k));
          wp += cp;
        }
        const y0 = requantLanesPrelu(a0, v128.load(mpos + (<usize>ch << 2)), v128.load(mneg + (<usize>ch << 2)), rnd, sh32);
        const y1 = requantLanesPrelu(a1, v128.load(mpos + (<usize>ch << 2), 16), v128.load(mneg + (<usize>ch << 2), 16), rnd, sh32);
        v128.store64_lane(o + ch, packClamp8(y0, y1, zp16, qmin8, qmax8), 0);
      }
      for (; ch < c; ch++) {
        let acc = load<i32>(bias + (<usize>ch << 2));
        for (let t = 0; t < taps; t++) {
          acc += <i32>load<i8>(load<usize>(ptrs + (<usize>t << 2)) + ch) * <i32>load<i8>(packed + <usize>t * cp + ch);
        }
        store<i8>(o + ch, <i8>requantPrelu(acc, load<i32>(mpos + (<usize>ch << 2)), load<i32>(mneg + (<usize>ch << 2)), shift, zpOut, qmin, qmax));
      }
    }
  }
}
