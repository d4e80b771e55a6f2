// int8 GEMM with per-output-channel requantisation: the engine of conv2d (through im2col),
// 1x1 convolution and fully connected layers.
//
//   out[m*ldo + n] = requant(bias'[n] + sum_k a[m*lda + k] * w[n][k])
//
// Weights are packed once, at load time, in the order the kernel reads them ("c16" blocks):
//   [np/4 blocks][kp/16 chunks][4 channels][16 int8]   np = roundUp(n, 4), kp = roundUp(k, 16)
//   i32 bias'[np]   = bias - zpIn * sum_k w   (folds the input zero point out of the inner loop)
//   i32 multPos[np], i32 multNeg[np]          (see core/requant.ts; multNeg = multPos * PReLU slope)
// Padding channels and the k tail are zero, so rows of `a` only need kp readable bytes and
// whatever they hold past k (im2col writes zeros there) is multiplied by zero.
//
// Accumulators cannot overflow for k <= 2^16: |sum| <= 2^16 * 128 * 127 < 2^30.
// Variants: scalar reference (every build), SIMD 2x4 tile with i32x4.dot_i16x8_s on sign-extended
// halves, and in the relaxed build a 2x4 tile with i16x8.relaxed_dot_i8x16_i7x16_s for 7-bit inputs
// (every a value in [0, 127]: the relaxed dot is exact and identical on every engine only then).

import { SIMD, RELAXED } from "../core/features";
import { requantPrelu, requantLanes, requantLanesPrelu, packClamp8 } from "../core/requant";
import { roundUp } from "../core/bounds";

export const GEMM_NR: i32 = 4;
export const GEMM_KC: i32 = 16;
export const GEMM_MAX_K: i32 = 65536;

@inline export function gemmKp(k: i32): i32 { return roundUp(k, GEMM_KC); }
@inline export function gemmNp(n: i32): i32 { return roundUp(n, GEMM_NR); }

export function gemmPackedSize(n: i32, k: i32): u64 {
  const np = <u64>gemmNp(n);
  return np * <u64>gemmKp(k) + np * 12;
}

@inline function biasOf(packed: usize, np: i32, kp: i32): usize { return packed + <usize>np * kp; }

/**
 * Packs row-major weights w[n][k] (int8) with their bias (i32[n], or 0 for none) and multipliers
 * (i32[n]; multNeg 0 means "same as multPos") into `dst` (gemmPackedSize bytes).
 * The same packing serves conv2d with k = kh*kw*c in (ky, kx, c) order.
 */
export function gemmPack(w: usize, n: i32, k: i32, bias: usize, multPos: usize, multNeg: usize, zpIn: i32, dst: usize): void {
  const np = gemmNp(n), kp = gemmKp(k);
  memory.fill(dst, 0, <usize>np * kp);
  const k16 = k & ~15;
  for (let j = 0; j < n; j++) {
    const row = w + <usize>j * k;
    const blk = dst + <usize>(j >> 2) * 4 * kp + (j & 3) * GEMM_KC;
    // whole 16-byte chunks move as two u64 (load time matters: the embedder has 5.6 M weights)
    for (let i = 0; i < k16; i += 16) {
      const d = blk + <usize>(i >> 4) * 64;
      store<u64>(d, load<u64>(row + i));
      store<u64>(d, load<u64>(row + i, 8), 8);
    }
    for (let i = k16; i < k; i++) store<i8>(blk + <usize>(i >> 4) * 64 + (i & 15), load<i8>(row + i));
    const b = bias ? load<i32>(bias + (<usize>j << 2)) : 0;
    const mp = load<i32>(multPos + (<usize>j << 2));
    store<i32>(biasOf(dst, np, kp) + (<usize>j << 2), b - zpIn * rowSum(row, k));
    store<i32>(dst + <usize>np * kp + <usize>np * 4 + (<usize>j << 2), mp);
    store<i32>(dst + <usize>np * kp + <usize>np * 8 + (<usize>j << 2), multNeg ? load<i32>(multNeg + (<usize>j << 2)) : mp);
  }
  for (let j = n; j < np; j++) {
    store<i32>(biasOf(dst, np, kp) + (<usize>j << 2), 0);
    store<i32>(dst + <usize>np * kp + <usize>np * 4 + (<usize>j << 2), 0);
    store<i32>(dst + <usize>np * kp + <usize>np * 8 + (<usize>j << 2), 0);
  }
}

/** Sum of k int8 values (for the zero-point fold). */
function rowSum(p: usize, k: i32): i32 {
  let sum = 0, i = 0;
  if (SIMD) {
    let acc = i32x4.splat(0);
    for (; i + 16 <= k; i += 16) acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(p + i))));
    sum = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  }
  for (; i < k; i++) sum += <i32>load<i8>(p + i);
  return sum;
}

/**
 * Runs the GEMM. `kp` is the packed depth (multiple of 16); `a` rows hold kp readable bytes.
 * Requantisation: shift in [32, 62], zpOut/qmin/qmax int8. `u7` promises every a value is in [0, 127].
 */
export function gemm(a: usize, lda: i32, m: i32, kp: i32, packed: usize, n: i32, out: usize, ldo: i32,
                     shift: i32, zpOut: i32, qmin: i32, qmax: i32, u7: bool): void {
  if (RELAXED) {
    if (u7) { gemmTiled<i8>(a, lda, m, kp, packed, n, out, ldo, shift, zpOut, qmin, qmax); return; }
  }
  if (SIMD) gemmTiled<i16>(a, lda, m, kp, packed, n, out, ldo, shift, zpOut, qmin, qmax);
  else gemmScalar(a, lda, m, kp, packed, n, out, ldo, shift, zpOut, qmin, qmax);
}

/** Plain reference: the truth the SIMD variants are tested against, bit for bit. */
export function gemmScalar(a: usize, lda: i32, m: i32, kp: i32, packed: usize, n: i32, out: usize, ldo: i32,
                           shift: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  const np = gemmNp(n);
  const bias = biasOf(packed, np, kp), mpos = bias + <usize>np * 4, mneg = mpos + <usize>np * 4;
  for (let j = 0; j < n; j++) {
    const wb = packed + <usize>(j >> 2) * 4 * kp + (j & 3) * GEMM_KC;
    const b = load<i32>(bias + (<usize>j << 2));
    const mp = load<i32>(mpos + (<usize>j << 2)), mn = load<i32>(mneg + (<usize>j << 2));
    for (let r = 0; r < m; r++) {
      const row = a + <usize>r * lda;
      let acc = b;
      for (let i = 0; i < kp; i++) {
        acc += <i32>load<i8>(row + i) * <i32>load<i8>(wb + <usize>(i >> 4) * 64 + (i & 15));
      }
      store<i8>(out + <usize>r * ldo + j, <i8>requantPrelu(acc, mp, mn, shift, zpOut, qmin, qmax));
    }
  }
}

// Sum of each of four i32x4 vectors, as one i32x4 [sum(a), sum(b), sum(c), sum(d)].
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

// Stores the 4 int8 results of row `half` (0: bytes 0-3, 1: bytes 4-7) of q, min(4, nleft) of them.
@inline function store4(dst: usize, q: v128, half: i32, nleft: i32): void {
  if (nleft >= 4) {
    if (half == 0) v128.store32_lane(dst, q, 0); else v128.store32_lane(dst, q, 1);
  } else {
    const b = half * 4;
    store<i8>(dst, i8x16.extract_lane_s(v128.swizzle(q, i8x16.splat(<i8>b)), 0));
    if (nleft > 1) store<i8>(dst, i8x16.extract_lane_s(v128.swizzle(q, i8x16.splat(<i8>(b + 1))), 0), 1);
    if (nleft > 2) store<i8>(dst, i8x16.extract_lane_s(v128.swizzle(q, i8x16.splat(<i8>(b + 2))), 0), 2);
  }
}

// Requantises two rows x four channels of sums (bias included) and stores them. The PReLU choice of
// multiplier is skipped when both multipliers are equal for this channel block (the common case).
@inline function storeRows2(o0: usize, o1: usize, acc0: v128, acc1: v128, mp: v128, mn: v128, prelu: bool,
                            rnd: v128, sh: i32, zp16: v128, qmin8: v128, qmax8: v128, nleft: i32): void {
  const y0 = prelu ? requantLanesPrelu(acc0, mp, mn, rnd, sh) : requantLanes(acc0, mp, rnd, sh);
  const y1 = prelu ? requantLanesPrelu(acc1, mp, mn, rnd, sh) : requantLanes(acc1, mp, rnd, sh);
  const q = packClamp8(y0, y1, zp16, qmin8, qmax8);
  store4(o0, q, 0, nleft);
  store4(o1, q, 1, nleft);
}

@inline function storeRow1(o0: usize, acc0: v128, mp: v128, mn: v128, prelu: bool,
                           rnd: v128, sh: i32, zp16: v128, qmin8: v128, qmax8: v128, nleft: i32): void {
  const y0 = prelu ? requantLanesPrelu(acc0, mp, mn, rnd, sh) : requantLanes(acc0, mp, rnd, sh);
  store4(o0, packClamp8(y0, y0, zp16, qmin8, qmax8), 0, nleft);
}

// Rows per cache block: the block of `a` (MC * kp bytes) stays in L1 while every channel block of the
// packed weights passes over it, instead of re-streaming all of `a` once per channel block.
@inline function rowBlock(kp: i32): i32 {
  const mc = (16384 / kp) & ~1;
  return mc < 2 ? 2 : mc;
}

// relaxed_dot(weights as the signed operand, 7-bit activations as the [0,127] operand): each i16 lane
// is w0*x0 + w1*x1 with |.| <= 2*128*127 < 2^15, so no saturation; extadd widens to i32.
@inline function rdot(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, x)));
}

@inline function dot16(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

/**
 * The 2x4 tile, cache-blocked over rows. The type parameter picks the dot product at compile time:
 * T = i16 sign-extends each 8-byte half to i16 and uses i32x4.dot_i16x8_s (SIMD build); T = i8 uses
 * the 7-bit relaxed dot on whole 16-byte chunks (relaxed build, u7 inputs only). Blocking, bias,
 * requantisation and stores are shared.
 */
function gemmTiled<T>(a: usize, lda: i32, m: i32, kp: i32, packed: usize, n: i32, out: usize, ldo: i32,
                      shift: i32, zpOut: i32, qmin: i32, qmax: i32): void {
  const np = gemmNp(n);
  const bias = biasOf(packed, np, kp), mpos = bias + <usize>np * 4, mneg = mpos + <usize>np * 4;
  const rnd = i64x2.splat(<i64>1 << (shift - 1)), sh = shift - 32;
  const zp16 = i16x8.splat(<i16>zpOut), qmin8 = i8x16.splat(<i8>qmin), qmax8 = i8x16.splat(<i8>qmax);
  const mc = rowBlock(kp);
  for (let m0 = 0; m0 < m; m0 += mc) {
    const m1 = min(m, m0 + mc);
    for (let j = 0; j < n; j += 4) {
      const wb = packed + <usize>j * kp;
      const vb = v128.load(bias + (<usize>j << 2));
      const mp = v128.load(mpos + (<usize>j << 2)), mn = v128.load(mneg + (<usize>j << 2));
      const prelu = !i32x4.all_true(i32x4.eq(mp, mn));
      const nleft = n - j;
      let r = m0;
      for (; r + 2 <= m1; r += 2) {
        const r0 = a + <usize>r * lda, r1 = r0 + lda;
        let c00 = i32x4.splat(0), c01 = c00, c02 = c00, c03 = c00;
        let c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        let w = wb;
        for (let i = 0; i < kp; i += 16) {
          if (sizeof<T>() == 1) {
            const x0 = v128.load(r0 + i), x1 = v128.load(r1 + i);
            const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
            c00 = rdot(c00, w0, x0); c01 = rdot(c01, w1, x0); c02 = rdot(c02, w2, x0); c03 = rdot(c03, w3, x0);
            c10 = rdot(c10, w0, x1); c11 = rdot(c11, w1, x1); c12 = rdot(c12, w2, x1); c13 = rdot(c13, w3, x1);
          } else {
            // two 8-byte halves, written out (a 2-trip loop would stay a loop in V8)
            let x0 = v128.load8x8_s(r0 + i), x1 = v128.load8x8_s(r1 + i);
            let w0 = v128.load8x8_s(w), w1 = v128.load8x8_s(w, 16), w2 = v128.load8x8_s(w, 32), w3 = v128.load8x8_s(w, 48);
            c00 = dot16(c00, x0, w0); c01 = dot16(c01, x0, w1); c02 = dot16(c02, x0, w2); c03 = dot16(c03, x0, w3);
            c10 = dot16(c10, x1, w0); c11 = dot16(c11, x1, w1); c12 = dot16(c12, x1, w2); c13 = dot16(c13, x1, w3);
            x0 = v128.load8x8_s(r0 + i, 8); x1 = v128.load8x8_s(r1 + i, 8);
            w0 = v128.load8x8_s(w, 8); w1 = v128.load8x8_s(w, 24); w2 = v128.load8x8_s(w, 40); w3 = v128.load8x8_s(w, 56);
            c00 = dot16(c00, x0, w0); c01 = dot16(c01, x0, w1); c02 = dot16(c02, x0, w2); c03 = dot16(c03, x0, w3);
            c10 = dot16(c10, x1, w0); c11 = dot16(c11, x1, w1); c12 = dot16(c12, x1, w2); c13 = dot16(c13, x1, w3);
          }
          w += 64;
        }
        const o = out + <usize>r * ldo + j;
        storeRows2(o, o + ldo, i32x4.add(vb, hsum4(c00, c01, c02, c03)), i32x4.add(vb, hsum4(c10, c11, c12, c13)),
          mp, mn, prelu, rnd, sh, zp16, qmin8, qmax8, nleft);
      }
      if (r < m1) {
        const r0 = a + <usize>r * lda;
        let c00 = i32x4.splat(0), c01 = c00, c02 = c00, c03 = c00;
        let w = wb;
        for (let i = 0; i < kp; i += 16) {
          if (sizeof<T>() == 1) {
            const x0 = v128.load(r0 + i);
            c00 = rdot(c00, v128.load(w), x0); c01 = rdot(c01, v128.load(w, 16), x0);
            c02 = rdot(c02, v128.load(w, 32), x0); c03 = rdot(c03, v128.load(w, 48), x0);
          } else {
            let x0 = v128.load8x8_s(r0 + i);
            c00 = dot16(c00, x0, v128.load8x8_s(w)); c01 = dot16(c01, x0, v128.load8x8_s(w, 16));
            c02 = dot16(c02, x0, v128.load8x8_s(w, 32)); c03 = dot16(c03, x0, v128.load8x8_s(w, 48));
            x0 = v128.load8x8_s(r0 + i, 8);
            c00 = dot16(c00, x0, v128.load8x8_s(w, 8)); c01 = dot16(c01, x0, v128.load8x8_s(w, 24));
            c02 = dot16(c02, x0, v128.load8x8_s(w, 40)); c03 = dot16(c03, x0, v128.load8x8_s(w, 56));
          }
          w += 64;
        }
        storeRow1(out + <usize>r * ldo + j, i32x4.add(vb, hsum4(c00, c01, c02, c03)), mp, mn, prelu, rnd, sh, zp16, qmin8, qmax8, nleft);
      }
    }
  }
}
