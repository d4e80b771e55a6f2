// conv2d, NHWC int8, any kernel size / stride / padding, as im2col of one output row + GEMM.
// The im2col row costs kh*kw*c bytes of copying per output pixel against kh*kw*c*oc MACs, i.e.
// under 4 % once oc >= 32; in exchange every shape (3x3 s1/s2, the ResNet's 7x7 s2 stem, 1x1) runs
// through the one tuned GEMM tile. 1x1 stride-1 convolutions whose channel count is a multiple of 16
// skip the copy and read the input rows in place.
//
// Padding taps read the input zero point (they contribute (zp - zp) * w = 0 after the bias fold in
// gemmPack); the tail of each im2col row up to kp is 0 (multiplied by zero weights).

import { gemm, gemmKp } from "./gemm";


/** Output size along one axis for the given padding (pads on both sides given explicitly). */
@inline export function convOutSize(in_: i32, k: i32, stride: i32, padBefore: i32, padAfter: i32): i32 {
  return (in_ + padBefore + padAfter - k) / stride + 1;
}

/** True when conv2d can read input rows in place (no im2col). */
@inline export function convDirect(kh: i32, kw: i32, sh: i32, sw: i32, c: i32): bool {
  return kh == 1 && kw == 1 && sh == 1 && sw == 1 && (c & 15) == 0;
}

/** Scratch bytes conv2d needs: one im2col row of ow pixels (0 when it reads in place). */
export function convScratchSize(ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, c: i32): u64 {
  return convDirect(kh, kw, sh, sw, c) ? 0 : <u64>ow * <u64>gemmKp(kh * kw * c);
}

/**
 * Copies n bytes without a memory.copy call: the stems' tap rows are 9-21 bytes (3x3 or 7x7 taps of
 * 3 channels), where the call costs more than the copy. Reads and writes exactly n bytes.
 */
@inline function copySmall(dst: usize, src: usize, n: usize): void {
  if (n > 32) { memory.copy(dst, src, n); return; }
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + i, load<u64>(src + i));
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
}

/** Writes the im2col matrix of output row `oy` into dst (ow rows of kp bytes). */
export function im2colRow(input: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32,
                          padTop: i32, padLeft: i32, oy: i32, ow: i32, zpIn: i32, kp: i32, dst: usize): void {
  const k = kh * kw * c;
  const rowBytes = <usize>w * c;
  for (let ox = 0; ox < ow; ox++) {
    let d = dst + <usize>ox * kp;
    const ix0 = ox * sw - padLeft;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      if (iy < 0 || iy >= h) {
        memory.fill(d, <u8>zpIn, <usize>kw * c);
      } else {
        const src = input + <usize>iy * rowBytes;
        if (ix0 >= 0 && ix0 + kw <= w) {
          copySmall(d, src + <usize>ix0 * c, <usize>kw * c);
        } else {
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= w) memory.fill(d + <usize>kx * c, <u8>zpIn, c);
            else copySmall(d + <usize>kx * c, src + <usize>ix * c, c);
          }
        }
      }
      d += <usize>kw * c;
    }
    if (kp > k) memory.fill(dst + <usize>ox * kp + k, 0, kp - k);
  }
}

/**
 * conv2d over validated arguments. `packed` comes from gemmPack with k = kh*kw*c (OHWI order),
 * `scratch` holds convScratchSize bytes. Output channels are written at stride ldo (>= oc), which
 * lets a conv write straight into a channel slice of a concatenated tensor.
 */
export function conv2d(input: usize, h: i32, w: i32, c: i32, out: usize, oh: i32, ow: i32, oc: i32, ldo: i32,
                       kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                       packed: usize, shift: i32, zpIn: i32, zpOut: i32, qmin: i32, qmax: i32,
                       u7: bool, scratch: usize): void {
  const kp = gemmKp(kh * kw * c);
  if (convDirect(kh, kw, sh, sw, c)) {
    // rows of the input are the GEMM's rows; one call covers the whole image
    gemm(input, c, h * w, kp, packed, oc, out, ldo, shift, zpOut, qmin, qmax, u7);
    return;
  }
  for (let oy = 0; oy < oh; oy++) {
    im2colRow(input, h, w, c, kh, kw, sh, sw, padTop, padLeft, oy, ow, zpIn, kp, scratch);
    gemm(scratch, kp, ow, kp, packed, oc, out + <usize>oy * ow * ldo, ldo, shift, zpOut, qmin, qmax, u7);
  }
}
