// Anti-spoofing patches and score fusion, as upstream Silent-Face-Anti-Spoofing does it
// (src/generate_patches.py CropImage._get_new_box, test.py): the face box is scaled about its centre
// by 2.7 (MiniFASNetV2) or 4.0 (MiniFASNetV1SE), the scale capped so the patch fits the image,
// shifted back inside, cropped (integer corners, inclusive) and resized to 80x80 bilinearly.

import { resizeBilinear, resizeScratchSize } from "../image/resample";

/** Writes the patch rectangle [x0, y0, x1, y1] (inclusive, i32) for a box and scale; false if degenerate. */
export function patchRect(imgW: i32, imgH: i32, bx: f32, by: f32, bw: f32, bh: f32, scale: f32, out: usize): bool {
  if (!(bw > 0 && bh > 0) || !isFinite(bx) || !isFinite(by) || !isFinite(bw) || !isFinite(bh)) return false;
  const sw = <f64>imgW, sh = <f64>imgH;
  let s = min(<f64>scale, min((sh - 1) / <f64>bh, (sw - 1) / <f64>bw));
  const nw = <f64>bw * s, nh = <f64>bh * s;
  const cx = <f64>bw / 2 + <f64>bx, cy = <f64>bh / 2 + <f64>by;
  let x0 = cx - nw / 2, y0 = cy - nh / 2, x1 = cx + nw / 2, y1 = cy + nh / 2;
  if (x0 < 0) { x1 -= x0; x0 = 0; }
  if (y0 < 0) { y1 -= y0; y0 = 0; }
  if (x1 > sw - 1) { x0 -= x1 - sw + 1; x1 = sw - 1; }
  if (y1 > sh - 1) { y0 -= y1 - sh + 1; y1 = sh - 1; }
  // Python int() truncates toward zero
  let ix0 = <i32>x0, iy0 = <i32>y0, ix1 = <i32>x1, iy1 = <i32>y1;
  ix0 = max(ix0, 0); iy0 = max(iy0, 0); ix1 = min(ix1, imgW - 1); iy1 = min(iy1, imgH - 1);
  if (ix1 < ix0 || iy1 < iy0) return false;
  store<i32>(out, ix0); store<i32>(out, iy0, 4); store<i32>(out, ix1, 8); store<i32>(out, iy1, 12);
  return true;
}

/** Scratch for cropPatch: the resize tables (the crop is read in place, not copied). */
export function cropScratchBytes(cropW: i32, cropH: i32, outW: i32, outH: i32): u64 {
  return resizeScratchSize(outW, outH);
}

/** Crops [x0..x1] x [y0..y1] of an RGB image and resizes it to outW x outH. */
export function cropPatch(rgb: usize, w: i32, x0: i32, y0: i32, x1: i32, y1: i32, dst: usize, outW: i32, outH: i32, scratch: usize): void {
  resizeBilinear(rgb + (<usize>y0 * w + x0) * 3, x1 - x0 + 1, y1 - y0 + 1, 3, dst, outW, outH, scratch, <usize>w * 3);
}

/** Softmax of n f32 logits in place (max-subtracted, f64 accumulation). */
export function softmax(v: usize, n: i32): void {
  let m = load<f32>(v);
  for (let i = 1; i < n; i++) m = max(m, load<f32>(v + (<usize>i << 2)));
  let s: f64 = 0;
  for (let i = 0; i < n; i++) { const e = Math.exp(<f64>(load<f32>(v + (<usize>i << 2)) - m)); store<f32>(v + (<usize>i << 2), <f32>e); s += e; }
  for (let i = 0; i < n; i++) store<f32>(v + (<usize>i << 2), <f32>(<f64>load<f32>(v + (<usize>i << 2)) / s));
}
