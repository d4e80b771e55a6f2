// Photometric quality of an aligned face crop, in integer arithmetic (identical on every engine):
// sharpness as the variance of the 4-neighbour Laplacian of the luma, mean luma, and the shares of
// pixels clipped to black and to white (kept apart: the border of a tight crop's warp is black
// padding, not under-exposure). Luma is BT.601 in 8-bit fixed point.

/** Writes [laplacianVariance, meanLuma, darkShare, brightShare] as 4 f64 at out. */
export function cropQuality(rgb: usize, w: i32, h: i32, out: usize): void {
  let sum: i64 = 0, dark: i64 = 0, bright: i64 = 0;
  for (let i: usize = 0; i < <usize>(w * h); i++) {
    const y = luma(rgb + i * 3);
    sum += y;
    if (y < 16) dark++;
    else if (y > 239) bright++;
  }
  let ls: i64 = 0, lsq: i64 = 0, n: i64 = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const p = rgb + (<usize>y * w + x) * 3;
      const l = 4 * luma(p) - luma(p - 3) - luma(p + 3) - luma(p - <usize>w * 3) - luma(p + <usize>w * 3);
      ls += l;
      lsq += <i64>l * l;
      n++;
    }
  }
  const px = <f64>(w * h);
  const mean = n > 0 ? <f64>ls / <f64>n : 0;
  store<f64>(out, n > 0 ? <f64>lsq / <f64>n - mean * mean : 0);
  store<f64>(out, <f64>sum / px, 8);
  store<f64>(out, <f64>dark / px, 16);
  store<f64>(out, <f64>bright / px, 24);
}

@inline function luma(p: usize): i32 {
  return (77 * <i32>load<u8>(p) + 150 * <i32>load<u8>(p, 1) + 29 * <i32>load<u8>(p, 2) + 128) >> 8;
}
