// Shared pieces of the converter tests: the shared-folder check, image loading and resampling,
// onnxruntime-web glue and comparison statistics.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { decodeImage } from '../../js/node/decode.js';
import { haveSharedModels, sharedPath } from '../../tools/convert/models.js';

/** `false`, or the reason every test needing ../shared is skipped. */
export const SKIP_NO_SHARED: string | false = haveSharedModels()
  ? false
  : `../shared (models and faces) not found at ${sharedPath('')}; these tests need the shared model/face folder beside the repository`;

export interface Rgba { data: Uint8Array; width: number; height: number }

/** A face image from ../shared/faces, upright, RGBA. */
export function loadFace(relative: string): Rgba {
  return decodeImage(readFileSync(sharedPath(`faces/${relative}`)));
}

/** RGBA -> packed RGB. */
export function toRgb(img: Rgba): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = img.data[p * 4 + c];
  return out;
}

/**
 * Bilinear resize of a region of an RGBA image with OpenCV's INTER_LINEAR sampling (half-pixel
 * centres, clamped at the border, no antialiasing), in float and rounded to 8 bits.
 */
export function resizeBilinear(img: Rgba, x0: number, y0: number, w: number, h: number, outW: number, outH: number): Rgba {
  const out = new Uint8Array(outW * outH * 4);
  const sx = w / outW, sy = h / outH;
  const axis = (d: number, scale: number, size: number) => {
    let f = (d + 0.5) * scale - 0.5;
    let i = Math.floor(f);
    f -= i;
    if (i < 0) { i = 0; f = 0; }
    if (i >= size - 1) { i = size - 1; f = 0; }
    return { i, j: Math.min(i + 1, size - 1), f };
  };
  for (let y = 0; y < outH; y++) {
    const ay = axis(y, sy, h);
    for (let x = 0; x < outW; x++) {
      const ax = axis(x, sx, w);
      for (let c = 0; c < 4; c++) {
        const at = (yy: number, xx: number) => img.data[((y0 + yy) * img.width + x0 + xx) * 4 + c];
        const top = at(ay.i, ax.i) * (1 - ax.f) + at(ay.i, ax.j) * ax.f;
        const bottom = at(ay.j, ax.i) * (1 - ax.f) + at(ay.j, ax.j) * ax.f;
        out[(y * outW + x) * 4 + c] = Math.round(top * (1 - ay.f) + bottom * ay.f);
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Places the image top-left on a zero canvas (OpenCV FaceDetectorYN's padding to a multiple of 32). */
export function padTo(img: Rgba, width: number, height: number): Rgba {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < Math.min(height, img.height); y++) {
    out.set(img.data.subarray(y * img.width * 4, (y * img.width + Math.min(width, img.width)) * 4), y * width * 4);
  }
  return { data: out, width, height };
}

/** HWC -> NCHW for onnxruntime. */
export function hwcToNchw(hwc: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = hwc[p * c + ch];
  return out;
}

// onnxruntime-web (wasm execution provider) in Node, one thread: no native binary, no CUDA download at install
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** Runs an ONNX model from ../shared/models on an HWC input; returns its outputs by name. */
export async function runOrt(model: string, hwc: Float32Array, h: number, w: number): Promise<Record<string, Float32Array>> {
  let session = sessions.get(model);
  if (!session) {
    session = ort.InferenceSession.create(sharedPath(`models/${model}`), { executionProviders: ['wasm'] });
    sessions.set(model, session);
  }
  const s = await session;
  const result = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', hwcToNchw(hwc, h, w, 3), [1, 3, h, w]) });
  const out: Record<string, Float32Array> = {};
  for (const [name, tensor] of Object.entries(result)) out[name] = tensor.data as Float32Array;
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export interface Face { x: number; y: number; w: number; h: number; score: number }

/**
 * YuNet outputs -> faces with score >= threshold, best first (decoding per the YuNet README in
 * ../shared/models/yunet; no NMS, the tests only need the best box).
 */
export function yunetFaces(out: Record<string, ArrayLike<number>>, height: number, width: number, threshold = 0.9): Face[] {
  const faces: Face[] = [];
  for (const s of [8, 16, 32]) {
    const cols = width / s, rows = height / s;
    const cls = out[`cls_${s}`], obj = out[`obj_${s}`], bbox = out[`bbox_${s}`];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const clamp = (v: number) => Math.min(Math.max(v, 0), 1);
      const score = Math.sqrt(clamp(cls[i]) * clamp(obj[i]));
      if (score < threshold) continue;
      const cx = (c + bbox[i * 4]) * s, cy = (r + bbox[i * 4 + 1]) * s;
      const w = Math.exp(bbox[i * 4 + 2]) * s, h = Math.exp(bbox[i * 4 + 3]) * s;
      faces.push({ x: cx - w / 2, y: cy - h / 2, w, h, score });
    }
  }
  return faces.sort((a, b) => b.score - a.score);
}

export const fmt = (x: number) => x.toExponential(2);
