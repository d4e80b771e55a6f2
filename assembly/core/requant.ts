// Integer-only requantisation, shared by every kernel that turns an int32 accumulator into int8.
//
//   y = clamp(((acc * mult + 2^(shift-1)) >> shift) + zp, qmin, qmax)
//
// `mult` is a signed Q31-style multiplier (|mult| < 2^31), `shift` is in [32, 62], so the effective
// scale mult / 2^shift is below 0.5 in magnitude (conv, FC and pooling scales are far below that; the
// converter rejects a layer that is not). The product fits in i64 (|acc*mult| < 2^62) and the result
// of the shift fits in i32. Rounding is half-up (toward +inf) with a single rounding step, so it is
// within 0.5 LSB of the float64 result before the multiplier's own rounding (< 2^-30 relative).
//
// PReLU (and leaky ReLU) is folded in by giving negative accumulators their own multiplier
// (`mult` times the channel's slope): the sign of acc is the sign of the real pre-activation value.
// ReLU and ReLU6 are just qmin/qmax.
//
// The SIMD form computes the same value: it takes the high 32 bits of (acc*mult + 2^(shift-1))
// (an exact floor division by 2^32) and shifts them by shift-32; floor(floor(x/2^32)/2^r) equals
// floor(x/2^(32+r)). Its saturating narrows to i16 and i8 followed by the clamp give the same result
// as one clamp because qmin, qmax and zp all lie in [-128, 127].

export const SHIFT_MIN: i32 = 32;
export const SHIFT_MAX: i32 = 62;

@inline export function shiftOk(shift: i32): bool {
  return shift >= SHIFT_MIN && shift <= SHIFT_MAX;
}

// Ops whose accumulators are small by construction (pooling sums, squeeze-excitation products) also
// accept shifts down to SHIFT_MIN_WIDE, i.e. scales up to 2^11 (average pooling with equal in/out
// scales has scale 1/count, often 1): the accumulator is first shifted left by 32 - shift, which the
// entry point proves cannot overflow, and requantised with shift 32.
export const SHIFT_MIN_WIDE: i32 = 20;

@inline export function wideShiftOk(shift: i32, accBound: u64): bool {
  return shift >= SHIFT_MIN_WIDE && shift <= SHIFT_MAX && (accBound << <u64>preShift(shift)) < (<u64>1 << 31);
}

/** Left shift applied to the accumulator before requantisation. */
@inline export function preShift(shift: i32): i32 { return shift < SHIFT_MIN ? SHIFT_MIN - shift : 0; }

/** Shift used by the requantisation proper. */
@inline export function postShift(shift: i32): i32 { return shift < SHIFT_MIN ? SHIFT_MIN : shift; }

/** Scalar reference requantisation of one accumulator. */
@inline export function requant(acc: i32, mult: i32, shift: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  let y = <i32>((<i64>acc * <i64>mult + (<i64>1 << (shift - 1))) >> shift) + zp;
  return y < qmin ? qmin : y > qmax ? qmax : y;
}

/** As requant() with the PReLU choice of multiplier. */
@inline export function requantPrelu(acc: i32, multPos: i32, multNeg: i32, shift: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  return requant(acc, acc < 0 ? multNeg : multPos, shift, zp, qmin, qmax);
}

// ---- SIMD (only compiled into the simd and relaxed builds) ----

/**
 * Four lanes of ((acc * mult + rnd) >> shift) as i32x4, before the zero point.
 * `rnd` is i64x2.splat(1 << (shift-1)); `sh` is shift - 32.
 */
@inline export function requantLanes(acc: v128, mult: v128, rnd: v128, sh: i32): v128 {
  const lo = i64x2.add(i64x2.extmul_low_i32x4_s(acc, mult), rnd);
  const hi = i64x2.add(i64x2.extmul_high_i32x4_s(acc, mult), rnd);
  return i32x4.shr_s(v128.shuffle<i32>(lo, hi, 1, 3, 5, 7), sh);
}

/** requantLanes() with the multiplier chosen per lane by the sign of acc (PReLU). */
@inline export function requantLanesPrelu(acc: v128, multPos: v128, multNeg: v128, rnd: v128, sh: i32): v128 {
  const neg = i32x4.lt_s(acc, i32x4.splat(0));
  return requantLanes(acc, v128.bitselect(multNeg, multPos, neg), rnd, sh);
}

/** Packs two i32x4 results to 8 int8 lanes (low half of the vector), adds zp and clamps. */
@inline export function packClamp8(y0: v128, y1: v128, zp16: v128, qmin8: v128, qmax8: v128): v128 {
  const h = i16x8.add_sat_s(i16x8.narrow_i32x4_s(y0, y1), zp16);
  const b = i8x16.narrow_i16x8_s(h, h);
  return i8x16.min_s(i8x16.max_s(b, qmin8), qmax8);
}

/** Packs four i32x4 results to 16 int8 lanes, adds zp and clamps. */
@inline export function packClamp16(y0: v128, y1: v128, y2: v128, y3: v128, zp16: v128, qmin8: v128, qmax8: v128): v128 {
  const h0 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(y0, y1), zp16);
  const h1 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(y2, y3), zp16);
  return i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(h0, h1), qmin8), qmax8);
}
