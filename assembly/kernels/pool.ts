// Pooling, NHWC int8: max pool, average pool, global average pool.
// Max pool keeps the input's quantisation (max commutes with the affine map). Average pools sum
// (x - zp) in i32 and requantise once; the multiplier depends on how many taps were summed, so the
// caller passes one multiplier per possible count (index = count, 1..kh*kw). Shifts below 32 are
// allowed here (see core/requant.ts, "wide" shifts): sums are pre-shifted left by 32 - shift.

import { SIMD } from "../core/features";
import { requant, requantLanes, packClamp16, preShift, postShift } from "../core/requant";

export function maxPool(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32,
                        kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): void {
  if (!SIMD) { maxPoolScalar(input, h, w, c, out, oh, ow, kh, kw, sh, sw, padTop, padLeft, 0); return; }
  const c16 = c & ~15;
  for (let oy = 0; oy < oh; oy++) {
    const y0 = max(oy * sh - padTop, 0), y1 = min(oy * sh - padTop + kh, h);
    for (let ox = 0; ox < ow; ox++) {
      const x0 = max(ox * sw - padLeft, 0), x1 = min(ox * sw - padLeft + kw, w);
      const o = out + (<usize>oy * ow + ox) * c;
      for (let ch = 0; ch < c16; ch += 16) {
        let m = i8x16.splat(-128);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) m = i8x16.max_s(m, v128.load(input + (<usize>iy * w + ix) * c + ch));
        }
        v128.store(o + ch, m);
      }
    }
  }
  if (c16 < c) maxPoolScalar(input, h, w, c, out, oh, ow, kh, kw, sh, sw, padTop, padLeft, c16);
}

/** Reference (channels from c0 on). A window entirely in padding gives -128. */
export function maxPoolScalar(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32,
                              kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, c0: i32): void {
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = c0; ch < c; ch++) {
        let m: i32 = -128;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx;
            if (ix < 0 || ix >= w) continue;
            m = max(m, <i32>load<i8>(input + (<usize>iy * w + ix) * c + ch));
          }
        }
        store<i8>(out + (<usize>oy * ow + ox) * c + ch, <i8>m);
      }
    }
  }
}

/**
 * Average pool. `mults` holds i32 multipliers indexed by tap count (entry 0 unused); with
 * countIncludePad the count is always kh*kw. Output = requant(sum(x - zpIn), mults[count], shift, zpOut).
 */
export function avgPool(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32,
                        kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, countIncludePad: bool,
                        mults: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  const ls = preShift(shift), rs = postShift(shift);
  for (let oy = 0; oy < oh; oy++) {
    const y0 = max(oy * sh - padTop, 0), y1 = min(oy * sh - padTop + kh, h);
    for (let ox = 0; ox < ow; ox++) {
      const x0 = max(ox * sw - padLeft, 0), x1 = min(ox * sw - padLeft + kw, w);
      const count = countIncludePad ? kh * kw : (y1 - y0) * (x1 - x0);
      const mult = count > 0 ? load<i32>(mults + (<usize>count << 2)) : 0;
      const taps = (y1 - y0) * (x1 - x0);
      const o = out + (<usize>oy * ow + ox) * c;
      let ch = 0;
      if (SIMD) {
        const rnd = i64x2.splat(<i64>1 << (rs - 1)), sh32 = rs - 32, vm = i32x4.splat(mult);
        const corr = i32x4.splat(-zpIn * taps);
        const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
        for (; ch + 16 <= c; ch += 16) {
          let s0 = corr, s1 = corr, s2 = corr, s3 = corr;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const v = v128.load(input + (<usize>iy * w + ix) * c + ch);
              const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
              s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(lo)); s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(lo));
              s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(hi)); s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(hi));
            }
          }
          s0 = i32x4.shl(s0, ls); s1 = i32x4.shl(s1, ls); s2 = i32x4.shl(s2, ls); s3 = i32x4.shl(s3, ls);
          v128.store(o + ch, packClamp16(requantLanes(s0, vm, rnd, sh32), requantLanes(s1, vm, rnd, sh32),
            requantLanes(s2, vm, rnd, sh32), requantLanes(s3, vm, rnd, sh32), zp16, qmin8, qmax8));
        }
      }
      for (; ch < c; ch++) {
        let s = -zpIn * taps;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) s += <i32>load<i8>(input + (<usize>iy * w + ix) * c + ch);
        }
        store<i8>(o + ch, <i8>requant(s << ls, mult, rs, zpOut, qmin, qmax));
      }
    }
  }
}

/** Global average pool: [h*w][c] -> [c], requant(sum(x - zpIn), mult, shift, zpOut) with mult for h*w taps. */
export function globalAvgPool(input: usize, pixels: i32, c: i32, out: usize, mult: i32, shift: i32,
                              zpIn: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  let ch = 0;
  const ls = preShift(shift), rs = postShift(shift);
  if (SIMD) {
    const rnd = i64x2.splat(<i64>1 << (rs - 1)), sh32 = rs - 32, vm = i32x4.splat(mult);
    const corr = i32x4.splat(-zpIn * pixels);
    const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
    for (; ch + 16 <= c; ch += 16) {
      let s0 = corr, s1 = corr, s2 = corr, s3 = corr;
      for (let p = 0; p < pixels; p++) {
        const v = v128.load(input + <usize>p * c + ch);
        const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
        s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(lo)); s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(lo));
        s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(hi)); s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(hi));
      }
      s0 = i32x4.shl(s0, ls); s1 = i32x4.shl(s1, ls); s2 = i32x4.shl(s2, ls); s3 = i32x4.shl(s3, ls);
      v128.store(out + ch, packClamp16(requantLanes(s0, vm, rnd, sh32), requantLanes(s1, vm, rnd, sh32),
        requantLanes(s2, vm, rnd, sh32), requantLanes(s3, vm, rnd, sh32), zp16, qmin8, qmax8));
    }
  }
  globalAvgPoolScalar(input, pixels, c, out, mult, shift, zpIn, zpOut, qmin, qmax, ch);
}

export function globalAvgPoolScalar(input: usize, pixels: i32, c: i32, out: usize, mult: i32, shift: i32,
                                    zpIn: i32, zpOut: i32, qmin: i32, qmax: i32, c0: i32): void {
  for (let ch = c0; ch < c; ch++) {
    let s = -zpIn * pixels;
    for (let p = 0; p < pixels; p++) s += <i32>load<i8>(input + <usize>p * c + ch);
    store<i8>(out + ch, <i8>requant(s << preShift(shift), mult, postShift(shift), zpOut, qmin, qmax));
  }
}
