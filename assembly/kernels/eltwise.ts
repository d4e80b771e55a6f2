// Element-wise int8 kernels: residual add (two input scales), squeeze-excitation channel multiply,
// and 256-entry lookup tables (sigmoid and any other unary function, baked at conversion time).

import { SIMD } from "../core/features";
import { requant, requantLanes, packClamp16, preShift, postShift } from "../core/requant";

// ---- add ----
// y = clamp(zpOut + (((a - za) * ma + (b - zb) * mb + 2^(shift-1)) >> shift), qmin, qmax)
// |ma|, |mb| < 2^21 and shift in [1, 31]: |sum + rounding| < 2^30 + 2^30, so i32 arithmetic is exact
// (validated at the entry point; the converter picks shift so that max(|ma|, |mb|) is in [2^19, 2^20]).

export const ADD_MULT_MAX: i32 = 1 << 21;

export function add(a: usize, b: usize, out: usize, n: i32, za: i32, ma: i32, zb: i32, mb: i32,
                    shift: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  let i = 0;
  if (SIMD) {
    const vza = i16x8.splat(<i16>za), vzb = i16x8.splat(<i16>zb);
    const vma = i32x4.splat(ma), vmb = i32x4.splat(mb), rnd = i32x4.splat(1 << (shift - 1));
    const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
    for (; i + 16 <= n; i += 16) {
      const va = v128.load(a + i), vb = v128.load(b + i);
      const a0 = i16x8.sub(i16x8.extend_low_i8x16_s(va), vza), a1 = i16x8.sub(i16x8.extend_high_i8x16_s(va), vza);
      const b0 = i16x8.sub(i16x8.extend_low_i8x16_s(vb), vzb), b1 = i16x8.sub(i16x8.extend_high_i8x16_s(vb), vzb);
      const y0 = addLanes(i32x4.extend_low_i16x8_s(a0), i32x4.extend_low_i16x8_s(b0), vma, vmb, rnd, shift);
      const y1 = addLanes(i32x4.extend_high_i16x8_s(a0), i32x4.extend_high_i16x8_s(b0), vma, vmb, rnd, shift);
      const y2 = addLanes(i32x4.extend_low_i16x8_s(a1), i32x4.extend_low_i16x8_s(b1), vma, vmb, rnd, shift);
      const y3 = addLanes(i32x4.extend_high_i16x8_s(a1), i32x4.extend_high_i16x8_s(b1), vma, vmb, rnd, shift);
      v128.store(out + i, packClamp16(y0, y1, y2, y3, zp16, qmin8, qmax8));
    }
  }
  addScalar(a + i, b + i, out + i, n - i, za, ma, zb, mb, shift, zpOut, qmin, qmax);
}

/** Scalar reference of one element (before the zero point). */
@inline export function addOne(x: i32, y: i32, za: i32, ma: i32, zb: i32, mb: i32, shift: i32): i32 {
  return ((x - za) * ma + (y - zb) * mb + (1 << (shift - 1))) >> shift;
}

@inline function addLanes(a: v128, b: v128, ma: v128, mb: v128, rnd: v128, shift: i32): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.add(i32x4.mul(a, ma), i32x4.mul(b, mb)), rnd), shift);
}

export function addScalar(a: usize, b: usize, out: usize, n: i32, za: i32, ma: i32, zb: i32, mb: i32,
                          shift: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  for (let i = 0; i < n; i++) {
    const y = addOne(<i32>load<i8>(a + i), <i32>load<i8>(b + i), za, ma, zb, mb, shift) + zpOut;
    store<i8>(out + i, <i8>(y < qmin ? qmin : y > qmax ? qmax : y));
  }
}

// ---- channel multiply (squeeze-excitation) ----
// out[p][c] = requant((x[p][c] - zx) * (s[c] - zs), mult, shift, zpOut); |product| <= 2^16, so wide
// shifts (down to 20, see core/requant.ts) are allowed.

export function channelMul(x: usize, pixels: i32, c: i32, s: usize, zx: i32, zs: i32, mult: i32, shift: i32,
                           zpOut: i32, qmin: i32, qmax: i32, out: usize): void {
  if (!SIMD) { channelMulScalar(x, pixels, c, s, zx, zs, mult, shift, zpOut, qmin, qmax, out); return; }
  const ls = preShift(shift), rs = postShift(shift);
  const vzx = i16x8.splat(<i16>zx), vzs = i16x8.splat(<i16>zs), vm = i32x4.splat(mult);
  const rnd = i64x2.splat(<i64>1 << (rs - 1)), sh = rs - 32;
  const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
  const c16 = c & ~15;
  for (let p = 0; p < pixels; p++) {
    const row = x + <usize>p * c, o = out + <usize>p * c;
    let ch = 0;
    for (; ch < c16; ch += 16) {
      const vx = v128.load(row + ch), vs = v128.load(s + ch);
      const x0 = i16x8.sub(i16x8.extend_low_i8x16_s(vx), vzx), x1 = i16x8.sub(i16x8.extend_high_i8x16_s(vx), vzx);
      const s0 = i16x8.sub(i16x8.extend_low_i8x16_s(vs), vzs), s1 = i16x8.sub(i16x8.extend_high_i8x16_s(vs), vzs);
      const y0 = requantLanes(i32x4.shl(i32x4.extmul_low_i16x8_s(x0, s0), ls), vm, rnd, sh);
      const y1 = requantLanes(i32x4.shl(i32x4.extmul_high_i16x8_s(x0, s0), ls), vm, rnd, sh);
      const y2 = requantLanes(i32x4.shl(i32x4.extmul_low_i16x8_s(x1, s1), ls), vm, rnd, sh);
      const y3 = requantLanes(i32x4.shl(i32x4.extmul_high_i16x8_s(x1, s1), ls), vm, rnd, sh);
      v128.store(o + ch, packClamp16(y0, y1, y2, y3, zp16, qmin8, qmax8));
    }
    for (; ch < c; ch++) {
      const acc = (<i32>load<i8>(row + ch) - zx) * (<i32>load<i8>(s + ch) - zs);
      store<i8>(o + ch, <i8>requant(acc << ls, mult, rs, zpOut, qmin, qmax));
    }
  }
}

export function channelMulScalar(x: usize, pixels: i32, c: i32, s: usize, zx: i32, zs: i32, mult: i32, shift: i32,
                                 zpOut: i32, qmin: i32, qmax: i32, out: usize): void {
  for (let p = 0; p < pixels; p++) {
    for (let ch = 0; ch < c; ch++) {
      const acc = (<i32>load<i8>(x + <usize>p * c + ch) - zx) * (<i32>load<i8>(s + ch) - zs);
      store<i8>(out + <usize>p * c + ch, <i8>requant(acc << preShift(shift), mult, postShift(shift), zpOut, qmin, qmax));
    }
  }
}

// ---- lookup table ----
// out[i] = table[x[i] + 128]. SIMD: the 256-entry table is 16 vectors; i8x16.swizzle yields 0 for
// indices >= 16, so OR-ing swizzle(table_j, x - 16j) over j picks exactly one entry per lane.

export function lut(x: usize, n: i32, table: usize, out: usize): void {
  let i = 0;
  if (SIMD) {
    const bias = i8x16.splat(-128), step = i8x16.splat(16);
    for (; i + 16 <= n; i += 16) {
      let idx = i8x16.sub(v128.load(x + i), bias); // x + 128 as u8
      let r = i8x16.swizzle(v128.load(table), idx);
      for (let j = 1; j < 16; j++) {
        idx = i8x16.sub(idx, step);
        r = v128.or(r, i8x16.swizzle(v128.load(table + (<usize>j << 4)), idx));
      }
      v128.store(out + i, r);
    }
  }
  lutScalar(x + i, n - i, table, out + i);
}

export function lutScalar(x: usize, n: i32, table: usize, out: usize): void {
  for (let i = 0; i < n; i++) store<u8>(out + i, load<u8>(table + <usize>(<i32>load<i8>(x + i) + 128)));
}
