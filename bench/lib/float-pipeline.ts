// The verify pipeline of js/engine.ts, written the way a user of onnxruntime-web / tfjs would write
// it in plain JavaScript around the float models: resize + letterbox into a float NCHW canvas,
// YuNet, decoding + NMS, a padded retry for tight crops, 5-point similarity alignment to the same
// 150x150 "fa150" template, the embedder, the two MiniFASNet patches (upstream's box scaling), and
// cosine matching. Same images, same sizes, same rules as the engine; only the arithmetic differs.
import { FA150_TEMPLATE, EMBED_SIZE } from '../../js/engine.js';
import { softmax } from '../../tools/convert/evaluate.js';

export interface Rgba { data: Uint8Array | Uint8ClampedArray; width: number; height: number }
export interface Face { x: number; y: number; w: number; h: number; score: number; lm: number[] }

export interface FloatModels {
  /** YuNet on a BGR NCHW float canvas of w x h; the 12 outputs by name. */
  detect(canvas: Float32Array, w: number, h: number): Promise<Record<string, Float32Array>>;
  /** 128-d descriptor of an aligned 150x150 RGB crop. */
  embed(crop: Uint8Array): Promise<Float32Array>;
  /** Logits of anti-spoofing model i on an 80x80 BGR NCHW patch. */
  antispoof(i: number, patch: Float32Array): Promise<Float32Array>;
}

export const ANTISPOOF_SCALES = [2.7, 4.0];
const MAX_SIDE = 640, SCORE = 0.6, NMS_IOU = 0.3;

export interface DetectRun { w: number; h: number; ms: number }

/**
 * Scales the (optionally padded) image into a w x h canvas top-left, bilinear, straight from RGBA to
 * BGR planar float (the pad is black, as the engine's).
 */
function canvasOf(img: Rgba, pad: number): { canvas: Float32Array; inW: number; inH: number; scale: number } {
  const cw = img.width + 2 * pad, ch = img.height + 2 * pad;
  const scale = Math.min(1, MAX_SIDE / Math.max(cw, ch));
  const dw = Math.max(1, Math.round(cw * scale)), dh = Math.max(1, Math.round(ch * scale));
  const inW = Math.min(640, Math.max(32, Math.ceil(dw / 32) * 32)), inH = Math.min(640, Math.max(32, Math.ceil(dh / 32) * 32));
  const plane = inW * inH, canvas = new Float32Array(3 * plane);
  const { data, width, height } = img;
  if (dw === cw && dh === ch) {
    // no scaling: copy the pixels into place (the pad stays black)
    for (let y = 0; y < height; y++) {
      const row = (y + pad) * inW + pad;
      for (let x = 0, s = y * width * 4; x < width; x++, s += 4) {
        canvas[2 * plane + row + x] = data[s]; canvas[plane + row + x] = data[s + 1]; canvas[row + x] = data[s + 2];
      }
    }
    return { canvas, inW, inH, scale: 1 };
  }
  // per column: the two source columns (byte offsets, -1 outside the image) and the weight of the second
  const cx0 = new Int32Array(dw), cx1 = new Int32Array(dw), cwx = new Float32Array(dw);
  for (let x = 0; x < dw; x++) {
    const fx = Math.min(Math.max((x + 0.5) * (cw / dw) - 0.5 - pad, -1), width);
    const x0 = Math.floor(fx);
    cx0[x] = x0 >= 0 && x0 < width ? x0 * 4 : -1;
    cx1[x] = x0 + 1 >= 0 && x0 + 1 < width ? (x0 + 1) * 4 : -1;
    cwx[x] = fx - x0;
  }
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (ch / dh) - 0.5 - pad, -1), height);
    const y0 = Math.floor(fy), wy = fy - y0;
    const r0 = y0 >= 0 && y0 < height ? y0 * width * 4 : -1, r1 = y0 + 1 >= 0 && y0 + 1 < height ? (y0 + 1) * width * 4 : -1;
    const row = y * inW;
    for (let x = 0; x < dw; x++) {
      const a = cx0[x], b = cx1[x], wx = cwx[x];
      for (let c = 0; c < 3; c++) {
        const p00 = r0 >= 0 && a >= 0 ? data[r0 + a + c] : 0, p01 = r0 >= 0 && b >= 0 ? data[r0 + b + c] : 0;
        const p10 = r1 >= 0 && a >= 0 ? data[r1 + a + c] : 0, p11 = r1 >= 0 && b >= 0 ? data[r1 + b + c] : 0;
        canvas[(2 - c) * plane + row + x] = (p00 + (p01 - p00) * wx) * (1 - wy) + (p10 + (p11 - p10) * wx) * wy; // BGR
      }
    }
  }
  return { canvas, inW, inH, scale: dw / cw };
}

/** YuNet decoding (../shared/models/yunet/README.md) with the engine's score threshold and NMS. */
export function decodeYunet(out: Record<string, Float32Array>, inW: number, inH: number, toImage: (x: number, y: number) => [number, number], scale: number): Face[] {
  const faces: Face[] = [];
  for (const s of [8, 16, 32]) {
    const cols = inW / s, rows = inH / s;
    const cls = out[`cls_${s}`], obj = out[`obj_${s}`], bbox = out[`bbox_${s}`], kps = out[`kps_${s}`];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const clamp = (v: number) => Math.min(Math.max(v, 0), 1);
      const score = Math.sqrt(clamp(cls[i]) * clamp(obj[i]));
      if (score < SCORE) continue;
      const cx = (c + bbox[i * 4]) * s, cy = (r + bbox[i * 4 + 1]) * s;
      const w = Math.exp(bbox[i * 4 + 2]) * s, h = Math.exp(bbox[i * 4 + 3]) * s;
      const [x, y] = toImage(cx - w / 2, cy - h / 2);
      const lm: number[] = [];
      for (let k = 0; k < 5; k++) lm.push(...toImage((kps[i * 10 + 2 * k] + c) * s, (kps[i * 10 + 2 * k + 1] + r) * s));
      faces.push({ x, y, w: w / scale, h: h / scale, score, lm });
    }
  }
  faces.sort((a, b) => b.score - a.score);
  const keep: Face[] = [];
  for (const f of faces) {
    if (keep.every((k) => iou(k, f) <= NMS_IOU)) keep.push(f);
  }
  return keep;
}

function iou(a: Face, b: Face): number {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y), x1 = Math.min(a.x + a.w, b.x + b.w), y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.w * a.h + b.w * b.h - inter);
}

export async function detectFloat(models: FloatModels, img: Rgba, runs?: DetectRun[]): Promise<Face[]> {
  for (const pad of [0, Math.round(Math.max(img.width, img.height) / 2)]) {
    const { canvas, inW, inH, scale } = canvasOf(img, pad);
    const t0 = performance.now();
    const out = await models.detect(canvas, inW, inH);
    runs?.push({ w: inW, h: inH, ms: performance.now() - t0 });
    const faces = decodeYunet(out, inW, inH, (x, y) => [x / scale - pad, y / scale - pad], scale);
    if (faces.length) return faces;
  }
  return [];
}

/** Least-squares similarity transform src -> dst (5 points): [a -b tx; b a ty]. */
export function similarity(src: ArrayLike<number>, dst: ArrayLike<number>): [number, number, number, number] {
  const n = src.length / 2;
  let mx = 0, my = 0, ux = 0, uy = 0;
  for (let i = 0; i < n; i++) { mx += src[2 * i]; my += src[2 * i + 1]; ux += dst[2 * i]; uy += dst[2 * i + 1]; }
  mx /= n; my /= n; ux /= n; uy /= n;
  let num1 = 0, num2 = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const xs = src[2 * i] - mx, ys = src[2 * i + 1] - my, xd = dst[2 * i] - ux, yd = dst[2 * i + 1] - uy;
    num1 += xs * xd + ys * yd; num2 += xs * yd - ys * xd; den += xs * xs + ys * ys;
  }
  const a = num1 / den, b = num2 / den;
  return [a, b, ux - (a * mx - b * my), uy - (b * mx + a * my)];
}

/** Aligned 150x150 RGB crop (inverse-mapped bilinear). */
export function alignFloat(img: Rgba, face: Face): Uint8Array {
  const [a, b, tx, ty] = similarity(face.lm, FA150_TEMPLATE);
  const det = a * a + b * b, S = EMBED_SIZE;
  const out = new Uint8Array(S * S * 3);
  const { data, width, height } = img;
  let o = 0;
  for (let v = 0; v < S; v++) {
    for (let u = 0; u < S; u++) {
      const dx = u - tx, dy = v - ty;
      const sx = (a * dx + b * dy) / det, sy = (-b * dx + a * dy) / det;
      const fx = Math.floor(sx), fy = Math.floor(sy), wx = sx - fx, wy = sy - fy;
      const x0 = fx < 0 ? 0 : fx >= width ? width - 1 : fx, x1 = fx + 1 < 0 ? 0 : fx + 1 >= width ? width - 1 : fx + 1;
      const y0 = fy < 0 ? 0 : fy >= height ? height - 1 : fy, y1 = fy + 1 < 0 ? 0 : fy + 1 >= height ? height - 1 : fy + 1;
      const p00 = (y0 * width + x0) * 4, p01 = (y0 * width + x1) * 4, p10 = (y1 * width + x0) * 4, p11 = (y1 * width + x1) * 4;
      for (let c = 0; c < 3; c++) {
        const top = data[p00 + c] + (data[p01 + c] - data[p00 + c]) * wx, bottom = data[p10 + c] + (data[p11 + c] - data[p10 + c]) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}

/** Upstream Silent-Face-Anti-Spoofing `_get_new_box`: the box scaled about its centre, capped and shifted inside the image. */
export function patchRect(w: number, h: number, f: Face, scale: number): [number, number, number, number] {
  const s = Math.min((h - 1) / f.h, (w - 1) / f.w, scale);
  const nw = f.w * s, nh = f.h * s, cx = f.x + f.w / 2, cy = f.y + f.h / 2;
  let x0 = cx - nw / 2, y0 = cy - nh / 2, x1 = cx + nw / 2, y1 = cy + nh / 2;
  if (x0 < 0) { x1 -= x0; x0 = 0; }
  if (y0 < 0) { y1 -= y0; y0 = 0; }
  if (x1 > w - 1) { x0 -= x1 - w + 1; x1 = w - 1; }
  if (y1 > h - 1) { y0 -= y1 - h + 1; y1 = h - 1; }
  return [Math.trunc(x0), Math.trunc(y0), Math.trunc(x1), Math.trunc(y1)];
}

/** Crop [x0..x1] x [y0..y1] resized to 80x80 (cv2 INTER_LINEAR sampling), BGR planar float. */
export function patchFloat(img: Rgba, [x0, y0, x1, y1]: [number, number, number, number], size = 80): Float32Array {
  const w = x1 - x0 + 1, h = y1 - y0 + 1, plane = size * size, out = new Float32Array(3 * plane);
  const { data, width } = img;
  const xa = new Int32Array(size), xb = new Int32Array(size), xw = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    let fx = (x + 0.5) * (w / size) - 0.5; if (fx < 0) fx = 0;
    const xx = Math.min(Math.floor(fx), w - 1);
    xa[x] = (x0 + xx) * 4; xb[x] = (x0 + Math.min(xx + 1, w - 1)) * 4; xw[x] = fx - xx;
  }
  for (let y = 0; y < size; y++) {
    let fy = (y + 0.5) * (h / size) - 0.5; if (fy < 0) fy = 0;
    const yy = Math.min(Math.floor(fy), h - 1), wy = fy - yy;
    const r0 = (y0 + yy) * width * 4, r1 = (y0 + Math.min(yy + 1, h - 1)) * width * 4;
    for (let x = 0; x < size; x++) {
      const a = xa[x], b = xb[x], wx = xw[x];
      for (let c = 0; c < 3; c++) {
        const top = data[r0 + a + c] + (data[r0 + b + c] - data[r0 + a + c]) * wx, bottom = data[r1 + a + c] + (data[r1 + b + c] - data[r1 + a + c]) * wx;
        out[(2 - c) * plane + y * size + x] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

export function unit(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  return Float32Array.from(v, (x) => x / n);
}

export interface FloatVerify {
  score: number; liveness: number | null; faces: number; face: Face | null;
  timingsMs: { detect: number; align: number; embed: number; liveness: number; match: number; total: number; detectModel: number };
  detectRuns: DetectRun[];
  crop: Uint8Array | null;
}

/** One verification: image in, score and liveness out, with the time of every stage. */
export async function verifyFloat(models: FloatModels, img: Rgba, template: Float32Array, opts: { liveness?: boolean } = {}): Promise<FloatVerify> {
  const t0 = performance.now();
  const runs: DetectRun[] = [];
  const faces = await detectFloat(models, img, runs);
  const t1 = performance.now();
  if (!faces.length) throw new Error('no face');
  const face = faces.reduce((a, b) => (b.w * b.h > a.w * a.h ? b : a));
  const crop = alignFloat(img, face);
  const t2 = performance.now();
  const emb = unit(await models.embed(crop));
  const t3 = performance.now();
  let live: number | null = null;
  if (opts.liveness !== false) {
    const sum = [0, 0, 0];
    for (let i = 0; i < ANTISPOOF_SCALES.length; i++) {
      const p = softmax(await models.antispoof(i, patchFloat(img, patchRect(img.width, img.height, face, ANTISPOOF_SCALES[i]))));
      p.forEach((v, k) => { sum[k] += v; });
    }
    live = sum[1] / ANTISPOOF_SCALES.length;
  }
  const t4 = performance.now();
  let score = 0;
  for (let i = 0; i < emb.length; i++) score += emb[i] * template[i];
  const t5 = performance.now();
  return {
    score, liveness: live, faces: faces.length, face, crop, detectRuns: runs,
    timingsMs: { detect: t1 - t0, align: t2 - t1, embed: t3 - t2, liveness: t4 - t3, match: t5 - t4, total: t5 - t0, detectModel: runs.reduce((s, r) => s + r.ms, 0) },
  };
}
