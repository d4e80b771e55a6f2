// Face alignment: the least-squares similarity transform (rotation, uniform scale, translation)
// from the five detected landmarks to the embedder's template, and the warp that produces the
// aligned crop. Shrinking by more than 2x first halves the source with a 2x2 box filter (as often as
// needed), so a large face does not alias into the small crop.

import { halve, warpAffine } from "../image/resample";

/**
 * Writes the forward similarity [a, b, tx, ty] (dst = [a -b; b a] * src + t) minimising the squared
 * distance of n point pairs (f32 x, y interleaved), as 4 f64 at out. Returns false when the source
 * points are degenerate (all equal) or not finite.
 */
export function similarity(src: usize, dstPts: usize, n: i32, out: usize): bool {
  let sx: f64 = 0, sy: f64 = 0, dx: f64 = 0, dy: f64 = 0;
  for (let i = 0; i < n; i++) {
    sx += <f64>load<f32>(src + (<usize>i << 3)); sy += <f64>load<f32>(src + (<usize>i << 3), 4);
    dx += <f64>load<f32>(dstPts + (<usize>i << 3)); dy += <f64>load<f32>(dstPts + (<usize>i << 3), 4);
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let norm: f64 = 0, num_a: f64 = 0, num_b: f64 = 0;
  for (let i = 0; i < n; i++) {
    const px = <f64>load<f32>(src + (<usize>i << 3)) - sx, py = <f64>load<f32>(src + (<usize>i << 3), 4) - sy;
    const qx = <f64>load<f32>(dstPts + (<usize>i << 3)) - dx, qy = <f64>load<f32>(dstPts + (<usize>i << 3), 4) - dy;
    norm += px * px + py * py;
    num_a += px * qx + py * qy;
    num_b += px * qy - py * qx;
  }
  if (!(norm > 1e-9) || !isFinite(norm) || !isFinite(num_a) || !isFinite(num_b)) return false;
  const a = num_a / norm, b = num_b / norm;
  store<f64>(out, a);
  store<f64>(out, b, 8);
  store<f64>(out, dx - (a * sx - b * sy), 16);
  store<f64>(out, dy - (b * sx + a * sy), 24);
  return true;
}

/** Number of 2x halvings before warping with the forward scale sqrt(a^2 + b^2). */
export function alignLevels(a: f64, b: f64): i32 {
  let shrink = 1 / Math.sqrt(a * a + b * b); // source pixels per output pixel
  let levels = 0;
  while (shrink > 2 && levels < 12) { shrink *= 0.5; levels++; }
  return levels;
}

/** Bytes of scratch alignWarp needs for a w x h RGB source and `levels` halvings. */
export function alignScratchBytes(w: i32, h: i32, levels: i32): u64 {
  let total: u64 = 0;
  for (let l = 0; l < levels; l++) { w >>= 1; h >>= 1; total += (<u64>w * h * 3 + 15) & ~15; }
  return total;
}

/**
 * Warps an RGB image to an outW x outH crop with the forward similarity at `m` (4 f64), after
 * `levels` halvings into scratch. Pixels falling outside the image read `border`.
 */
export function alignWarp(rgb: usize, w: i32, h: i32, m: usize, levels: i32, scratch: usize, dst: usize, outW: i32, outH: i32, border: i32): void {
  let a = load<f64>(m), b = load<f64>(m, 8), tx = load<f64>(m, 16), ty = load<f64>(m, 24);
  let src = rgb, sw = w, sh = h, at = scratch;
  for (let l = 0; l < levels; l++) {
    halve(src, sw, sh, 3, at);
    src = at; sw >>= 1; sh >>= 1;
    at += <usize>(((<u64>sw * sh * 3) + 15) & ~15);
    // level pixel centre (i + 0.5) * 2 - 0.5 in the finer level: p_fine = 2 p + 0.5
    tx += a * 0.5 - b * 0.5; ty += b * 0.5 + a * 0.5;
    a *= 2; b *= 2;
  }
  // inverse of dst = [a -b; b a] src + t
  const d = a * a + b * b;
  const ia = a / d, ib = b / d;
  warpAffine(src, sw, sh, 3, dst, outW, outH, ia, ib, -(ia * tx + ib * ty), -ib, ia, ib * tx - ia * ty, border);
}
