// Float scales -> the integer requantisation parameters the kernels use (assembly/core/requant.ts):
// y = clamp(((acc * mult + 2^(shift-1)) >> shift) + zp, qmin, qmax), |mult| < 2^31, shift in [32, 62].
// Only exact float operations are used (multiplying by powers of two, Math.round), so every engine
// derives the same integers from the same scales.

import { WasmfaceError } from './errors.js';

export const SHIFT_MIN = 32;
export const SHIFT_MAX = 62;
/** Lowest shift of the ops with small accumulators (pools, channel multiply): scales up to 2^11. */
export const SHIFT_MIN_WIDE = 20;

export interface Requant {
  /** One multiplier per channel (or one for per-tensor ops). */
  mult: Int32Array;
  /** Multipliers for negative accumulators (PReLU: mult * slope), same length as mult. */
  multNeg: Int32Array;
  shift: number;
}

/**
 * Layer-wide shift with per-channel multipliers for the real scales `pos` (and optionally `neg`,
 * the negative-branch scales of a PReLU). The shift is chosen so the largest |scale| uses 31 bits.
 * `minShift` is SHIFT_MIN for conv/fc/depthwise, SHIFT_MIN_WIDE for pools and channel multiply.
 */
export function quantizeMultipliers(pos: ArrayLike<number>, neg?: ArrayLike<number>, minShift = SHIFT_MIN): Requant {
  let max = 0;
  for (let i = 0; i < pos.length; i++) max = Math.max(max, Math.abs(pos[i]), neg ? Math.abs(neg[i]) : 0);
  for (let i = 0; i < pos.length; i++) {
    if (!Number.isFinite(pos[i]) || (neg && !Number.isFinite(neg[i]))) {
      throw new WasmfaceError('E_SCALE', `requantisation scale ${i} is not finite`);
    }
  }
  if (Math.round(max * 2 ** minShift) >= 2 ** 31) {
    const limit = 2 ** (31 - minShift);
    throw new WasmfaceError('E_SCALE', `requantisation scale ${max} is >= ${limit}; this op needs |scale| < ${limit} (widen the output range)`);
  }
  let shift = minShift;
  // largest shift keeping round(max * 2^shift) < 2^31
  while (shift < SHIFT_MAX && max > 0 && Math.round(max * 2 ** (shift + 1)) < 2 ** 31) shift++;
  const toInt = (s: number) => {
    const m = Math.round(s * 2 ** shift);
    return Math.max(-(2 ** 31 - 1), Math.min(2 ** 31 - 1, m));
  };
  const mult = Int32Array.from(pos, toInt);
  const multNeg = neg ? Int32Array.from(neg, toInt) : mult.slice();
  return { mult, multNeg, shift };
}

/** Integer reference of the requantisation (BigInt: exact on every engine). */
export function requantRef(acc: number, mult: number, shift: number, zp: number, qmin: number, qmax: number): number {
  const y = Number((BigInt(acc) * BigInt(mult) + (1n << BigInt(shift - 1))) >> BigInt(shift)) + zp;
  return y < qmin ? qmin : y > qmax ? qmax : y;
}
