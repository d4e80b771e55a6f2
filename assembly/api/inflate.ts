// Checked entry points for gzip decompression (util/inflate.ts): compressed model files load in
// every engine, without DecompressionStream or a host zlib.

import { owned } from "../core/alloc";
import { E_BOUNDS, E_SHAPE, E_PARAM, E_SCRATCH } from "../core/status";
import { gzipSize, gunzipRaw, INFLATE_SCRATCH } from "../util/inflate";

/** Scratch bytes gunzip() needs (decoding tables). */
export function inflateScratchBytes(): i32 { return INFLATE_SCRATCH; }

/**
 * ISIZE from the trailer of the gzip member at [src, src+srcLen): the decompressed length mod 2^32,
 * a hint for sizing the output (gunzip checks it). Negative status when the input is not gzip.
 */
export function gunzipSize(src: usize, srcLen: i32): f64 {
  if (srcLen < 0) return E_SHAPE;
  if (!owned(src, <u64>srcLen)) return E_BOUNDS;
  return <f64>gzipSize(src, <usize>srcLen);
}

@inline function disjoint(a: usize, an: usize, b: usize, bn: usize): bool {
  return <u64>a + an <= <u64>b || <u64>b + bn <= <u64>a;
}

/**
 * Decompresses the gzip member at [src, src+srcLen) into [dst, dst+dstCap). Returns the bytes
 * written, or a negative status: core/status.ts codes for bad buffers, util/inflate.ts codes
 * (-20 ... -39) for a malformed stream. Bytes of dst past the returned length may be overwritten.
 */
export function gunzip(src: usize, srcLen: i32, dst: usize, dstCap: i32, scratch: usize, scratchLen: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return E_SHAPE;
  if (scratchLen < INFLATE_SCRATCH) return E_SCRATCH;
  if (!owned(src, <u64>srcLen) || !owned(dst, <u64>dstCap) || !owned(scratch, <u64>INFLATE_SCRATCH)) return E_BOUNDS;
  const sl = <usize>srcLen, dl = <usize>dstCap, kl = <usize>INFLATE_SCRATCH;
  if (!disjoint(src, sl, dst, dl) || !disjoint(src, sl, scratch, kl) || !disjoint(dst, dl, scratch, kl)) return E_PARAM;
  return <i32>gunzipRaw(src, sl, dst, dl, scratch);
}
