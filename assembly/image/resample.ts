// Resampling of packed u8 images (any channel count): bilinear resize with half-pixel centres
// (cv2.resize INTER_LINEAR convention), 2x2 box halving (applied first when shrinking by more than
// 2x, so small outputs of big photos do not alias), and affine warp with bilinear sampling (the
// 5-point face alignment). Source coordinates are computed in f64 (IEEE, identical on every engine);
// interpolation weights are 11-bit fixed point and the blend is integer.

const WBITS: i32 = 11;
const ONE: i32 = 1 << WBITS;

@inline function blend(p00: i32, p01: i32, p10: i32, p11: i32, fx: i32, fy: i32): u8 {
  const top = p00 * (ONE - fx) + p01 * fx;
  const bot = p10 * (ONE - fx) + p11 * fx;
  return <u8>((top * (ONE - fy) + bot * fy + (1 << (2 * WBITS - 1))) >> (2 * WBITS));
}

/** Source coordinate table for one axis: i32 index of the left/top tap, i32 weight of the right/bottom one. */
function axisTable(srcLen: i32, dstLen: i32, table: usize): void {
  const scale = <f64>srcLen / <f64>dstLen;
  for (let d = 0; d < dstLen; d++) {
    let s = (<f64>d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    let i0 = <i32>Math.floor(s);
    let f = <i32>Math.round((s - <f64>i0) * <f64>ONE);
    if (i0 >= srcLen - 1) { i0 = srcLen - 1; f = 0; }
    if (f >= ONE) { i0 += 1; f = 0; }
    store<i32>(table + (<usize>d << 3), i0);
    store<i32>(table + (<usize>d << 3), f, 4);
  }
}

/** Scratch bytes resizeBilinear needs: the two axis tables. */
export function resizeScratchSize(dw: i32, dh: i32): u64 {
  return (<u64>dw + <u64>dh) * 8;
}

/** `srcStride`: bytes from one source row to the next (0: sw * c), so a sub-image resizes in place. */
export function resizeBilinear(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32, scratch: usize, srcStride: usize = 0): void {
  const tx = scratch, ty = scratch + (<usize>dw << 3);
  axisTable(sw, dw, tx);
  axisTable(sh, dh, ty);
  const stride = srcStride ? srcStride : <usize>sw * c;
  for (let y = 0; y < dh; y++) {
    const y0 = load<i32>(ty + (<usize>y << 3)), fy = load<i32>(ty + (<usize>y << 3), 4);
    const r0 = src + <usize>y0 * stride, r1 = y0 + 1 < sh ? r0 + stride : r0;
    const o = dst + <usize>y * dw * c;
    for (let x = 0; x < dw; x++) {
      const x0 = load<i32>(tx + (<usize>x << 3)), fx = load<i32>(tx + (<usize>x << 3), 4);
      const a = <usize>x0 * c, b = x0 + 1 < sw ? a + c : a;
      for (let k = 0; k < c; k++) {
        store<u8>(o + <usize>x * c + k, blend(load<u8>(r0 + a + k), load<u8>(r0 + b + k), load<u8>(r1 + a + k), load<u8>(r1 + b + k), fx, fy));
      }
    }
  }
}

/** 2x2 box average: dst is floor(sw/2) x floor(sh/2) (an odd last row/column is dropped). */
export function halve(src: usize, sw: i32, sh: i32, c: i32, dst: usize): void {
  const dw = sw >> 1, dh = sh >> 1, stride = <usize>sw * c;
  for (let y = 0; y < dh; y++) {
    const r0 = src + <usize>(2 * y) * stride, r1 = r0 + stride;
    for (let x = 0; x < dw; x++) {
      for (let k = 0; k < c; k++) {
        const i = <usize>(2 * x) * c + k;
        const s = <i32>load<u8>(r0 + i) + <i32>load<u8>(r0 + i + c) + <i32>load<u8>(r1 + i) + <i32>load<u8>(r1 + i + c);
        store<u8>(dst + (<usize>y * dw + x) * c + k, <u8>((s + 2) >> 2));
      }
    }
  }
}

/**
 * Affine warp: dst(x, y) = src(m0*x + m1*y + m2, m3*x + m4*y + m5) sampled bilinearly, for pixel
 * centres at integer coordinates (cv2.warpAffine with WARP_INVERSE_MAP). Taps outside the source
 * read `border`.
 */
export function warpAffine(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32,
                           m0: f64, m1: f64, m2: f64, m3: f64, m4: f64, m5: f64, border: i32): void {
  const stride = <usize>sw * c;
  const bv = <i32>(<u8>border);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const sx = m0 * <f64>x + m1 * <f64>y + m2;
      const sy = m3 * <f64>x + m4 * <f64>y + m5;
      const o = dst + (<usize>y * dw + x) * c;
      // far outside (or NaN): border everywhere; keeps the integer conversion below in range
      if (!(sx > -2 && sy > -2 && sx < <f64>sw + 1 && sy < <f64>sh + 1)) {
        memory.fill(o, <u8>border, c);
        continue;
      }
      const fx0 = Math.floor(sx), fy0 = Math.floor(sy);
      const x0 = <i32>fx0, y0 = <i32>fy0;
      let fx = <i32>Math.round((sx - fx0) * <f64>ONE), fy = <i32>Math.round((sy - fy0) * <f64>ONE);
      const in00 = x0 >= 0 && x0 < sw && y0 >= 0 && y0 < sh;
      const in01 = x0 + 1 >= 0 && x0 + 1 < sw && y0 >= 0 && y0 < sh;
      const in10 = x0 >= 0 && x0 < sw && y0 + 1 >= 0 && y0 + 1 < sh;
      const in11 = x0 + 1 >= 0 && x0 + 1 < sw && y0 + 1 >= 0 && y0 + 1 < sh;
      const p = src + <usize>y0 * stride + <usize>x0 * c;
      for (let k = 0; k < c; k++) {
        const p00 = in00 ? <i32>load<u8>(p + k) : bv;
        const p01 = in01 ? <i32>load<u8>(p + c + k) : bv;
        const p10 = in10 ? <i32>load<u8>(p + stride + k) : bv;
        const p11 = in11 ? <i32>load<u8>(p + stride + c + k) : bv;
        store<u8>(o + k, blend(p00, p01, p10, p11, fx, fy));
      }
    }
  }
}
