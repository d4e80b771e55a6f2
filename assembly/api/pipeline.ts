// Checked entry points of the pipeline steps between the models: detector decoding + NMS, face
// alignment, anti-spoofing patches, softmax, flips, embedding fusion and gallery matching.

import { OK, E_BOUNDS, E_SHAPE, E_PARAM, E_SCRATCH, E_NAN } from "../core/status";
import { owned } from "../core/alloc";
import { dimOk } from "../core/bounds";
import { yunetDecode, FACE_FLOATS } from "../pipeline/detect";
import { similarity, alignLevels as levelsFor, alignScratchBytes as scratchFor, alignWarp as warpRun } from "../pipeline/align";
import { patchRect as rectRun, cropPatch as cropRun, cropScratchBytes, softmax as softmaxRun } from "../pipeline/liveness";
import { dotScores, topK } from "../pipeline/match";
import { flipHorizontal as flipRun, pasteImage as pasteRun } from "../image/convert";
import { cropQuality as qualityRun } from "../image/quality";

/**
 * Decodes YuNet's outputs (12 f32 array pointers at `outs`, see pipeline/detect.ts) into at most
 * maxOut faces of 15 f32 at dst. `work` holds maxCandidates faces. Returns the count or a status.
 */
export function detectDecode(outs: usize, inW: i32, inH: i32, threshold: f32, nmsIou: f32, scale: f32, offX: f32, offY: f32,
                             work: usize, maxCandidates: i32, dst: usize, maxOut: i32, fuse: bool): i32 {
  if (!dimOk(inW) || !dimOk(inH) || (inW & 31) != 0 || (inH & 31) != 0) return E_SHAPE;
  if (maxCandidates < 1 || maxCandidates > 100000 || maxOut < 1 || maxOut > 10000) return E_PARAM;
  if (!isFinite(threshold) || !isFinite(nmsIou) || !isFinite(scale) || !isFinite(offX) || !isFinite(offY)) return E_NAN;
  if (!owned(outs, 48) || !owned(work, <u64>maxCandidates * FACE_FLOATS * 4) || !owned(dst, <u64>maxOut * FACE_FLOATS * 4)) return E_BOUNDS;
  for (let level = 0; level < 3; level++) {
    const anchors = <u64>(inW >> (3 + level)) * <u64>(inH >> (3 + level));
    for (let kind = 0; kind < 4; kind++) {
      const floats: u64 = kind < 2 ? 1 : kind == 2 ? 4 : 10; // cls, obj, bbox, kps values per anchor
      if (!owned(load<usize>(outs + (<usize>(kind * 3 + level) << 2)), anchors * floats * 4)) return E_BOUNDS;
    }
  }
  return yunetDecode(outs, inW, inH, threshold, nmsIou, scale, offX, offY, work, maxCandidates, dst, maxOut, fuse);
}

/** Least-squares similarity from n landmark points to n template points (f32 pairs) -> 4 f64 at out. */
export function alignEstimate(src: usize, dst: usize, n: i32, out: usize): i32 {
  if (n < 2 || n > 68) return E_SHAPE;
  if (!owned(src, <u64>n * 8) || !owned(dst, <u64>n * 8) || !owned(out, 32)) return E_BOUNDS;
  return similarity(src, dst, n, out) ? OK : E_NAN;
}

export function alignLevels(a: f64, b: f64): i32 {
  return isFinite(a) && isFinite(b) && a * a + b * b > 0 ? levelsFor(a, b) : E_NAN;
}

export function alignScratchBytes(w: i32, h: i32, levels: i32): f64 {
  return dimOk(w) && dimOk(h) && levels >= 0 && levels <= 12 ? <f64>scratchFor(w, h, levels) : -1;
}

export function alignWarp(rgb: usize, w: i32, h: i32, m: usize, levels: i32, scratch: usize, scratchLen: i32,
                          dst: usize, outW: i32, outH: i32, border: i32): i32 {
  if (!dimOk(w) || !dimOk(h) || !dimOk(outW) || !dimOk(outH) || levels < 0 || levels > 12) return E_SHAPE;
  if ((w >> levels) < 1 || (h >> levels) < 1) return E_SHAPE;
  if (border < 0 || border > 255) return E_PARAM;
  if (!owned(m, 32)) return E_BOUNDS;
  for (let i = 0; i < 4; i++) if (!isFinite(load<f64>(m + (<usize>i << 3)))) return E_NAN;
  const a = load<f64>(m), b = load<f64>(m, 8);
  if (!(a * a + b * b > 1e-12)) return E_NAN;
  const need = scratchFor(w, h, levels);
  if (<u64>scratchLen < need) return E_SCRATCH;
  if (!owned(rgb, <u64>w * h * 3) || !owned(dst, <u64>outW * outH * 3) || (need > 0 && !owned(scratch, need))) return E_BOUNDS;
  warpRun(rgb, w, h, m, levels, scratch, dst, outW, outH, border);
  return OK;
}

/** Patch rectangle for the anti-spoofing models: 4 i32 [x0, y0, x1, y1] inclusive at out. */
export function patchRect(imgW: i32, imgH: i32, bx: f32, by: f32, bw: f32, bh: f32, scale: f32, out: usize): i32 {
  if (!dimOk(imgW) || !dimOk(imgH) || imgW < 2 || imgH < 2) return E_SHAPE;
  if (!(scale > 0) || !isFinite(scale)) return E_PARAM;
  if (!owned(out, 16)) return E_BOUNDS;
  return rectRun(imgW, imgH, bx, by, bw, bh, scale, out) ? OK : E_NAN;
}

export function cropPatchScratchBytes(cw: i32, ch: i32, outW: i32, outH: i32): f64 {
  return <f64>cropScratchBytes(cw, ch, outW, outH);
}

export function cropPatch(rgb: usize, w: i32, h: i32, x0: i32, y0: i32, x1: i32, y1: i32, dst: usize, outW: i32, outH: i32,
                          scratch: usize, scratchLen: i32): i32 {
  if (!dimOk(w) || !dimOk(h) || !dimOk(outW) || !dimOk(outH)) return E_SHAPE;
  if (x0 < 0 || y0 < 0 || x1 < x0 || y1 < y0 || x1 >= w || y1 >= h) return E_PARAM;
  const need = cropScratchBytes(x1 - x0 + 1, y1 - y0 + 1, outW, outH);
  if (<u64>scratchLen < need) return E_SCRATCH;
  if (!owned(rgb, <u64>w * h * 3) || !owned(dst, <u64>outW * outH * 3) || !owned(scratch, need)) return E_BOUNDS;
  cropRun(rgb, w, x0, y0, x1, y1, dst, outW, outH, scratch);
  return OK;
}

export function softmax(v: usize, n: i32): i32 {
  if (n < 1 || n > 65536) return E_SHAPE;
  if (!owned(v, <u64>n * 4)) return E_BOUNDS;
  for (let i = 0; i < n; i++) if (!isFinite(load<f32>(v + (<usize>i << 2)))) return E_NAN;
  softmaxRun(v, n);
  return OK;
}

export function flipHorizontal(src: usize, w: i32, h: i32, c: i32, dst: usize): i32 {
  if (!dimOk(w) || !dimOk(h) || c < 1 || c > 4) return E_SHAPE;
  if (!owned(src, <u64>w * h * c) || !owned(dst, <u64>w * h * c) || src == dst) return E_BOUNDS;
  flipRun(src, w, h, c, dst);
  return OK;
}

/** out[i] = a[i] + b[i] (f32): fuses the embeddings of a crop and its mirror before normalising. */
export function vecAdd(a: usize, b: usize, n: i32, out: usize): i32 {
  if (n < 1 || n > 65536) return E_SHAPE;
  if (!owned(a, <u64>n * 4) || !owned(b, <u64>n * 4) || !owned(out, <u64>n * 4)) return E_BOUNDS;
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) + load<f32>(b + (<usize>i << 2)));
  return OK;
}

/** scores[i] = query . gallery[i]; count rows of dim f32. */
export function matchScores(query: usize, gallery: usize, count: i32, dim: i32, scores: usize): i32 {
  if (count < 0 || count > 10000000 || dim < 1 || dim > 4096) return E_SHAPE;
  if (count == 0) return OK;
  if (!owned(query, <u64>dim * 4) || !owned(gallery, <u64>count * dim * 4) || !owned(scores, <u64>count * 4)) return E_BOUNDS;
  dotScores(query, gallery, count, dim, scores);
  return OK;
}

/** Indices of the k best scores (i32, best first) at out; returns how many. */
export function matchTopK(scores: usize, count: i32, k: i32, out: usize): i32 {
  if (count < 0 || count > 10000000 || k < 1 || k > 10000000) return E_SHAPE;
  if (count == 0) return 0;
  if (!owned(scores, <u64>count * 4) || !owned(out, <u64>min(k, count) * 4)) return E_BOUNDS;
  return topK(scores, count, k, out);
}

export function pasteImage(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32, x: i32, y: i32, fill: i32): i32 {
  if (!dimOk(sw) || !dimOk(sh) || !dimOk(dw) || !dimOk(dh) || c < 1 || c > 4) return E_SHAPE;
  if (x < -16384 || x > 16384 || y < -16384 || y > 16384 || fill < 0 || fill > 255) return E_PARAM;
  if (!owned(src, <u64>sw * sh * c) || !owned(dst, <u64>dw * dh * c)) return E_BOUNDS;
  pasteRun(src, sw, sh, c, dst, dw, dh, x, y, <u8>fill);
  return OK;
}

/** Sharpness (Laplacian variance), mean luma, dark and bright clipped shares of an RGB crop: 4 f64 at out. */
export function cropQuality(rgb: usize, w: i32, h: i32, out: usize): i32 {
  if (w < 3 || h < 3 || !dimOk(w) || !dimOk(h)) return E_SHAPE;
  if (!owned(rgb, <u64>w * h * 3) || !owned(out, 32)) return E_BOUNDS;
  qualityRun(rgb, w, h, out);
  return OK;
}
