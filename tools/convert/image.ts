// Packed-RGB image helpers for calibration and evaluation: load, resize, pad, crop, 5-point
// similarity alignment. Float arithmetic rounded to 8 bits (the product does the same steps in wasm
// with fixed-point weights; calibration only needs realistic inputs, not bit-exact ones).
import { readFileSync } from 'node:fs';
import { decodeImage } from '../../js/node/decode.js';

export interface Rgb { data: Uint8Array; width: number; height: number }

export function loadRgb(path: string): Rgb {
  const img = decodeImage(readFileSync(path));
  const n = img.width * img.height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) { data[p * 3] = img.data[p * 4]; data[p * 3 + 1] = img.data[p * 4 + 1]; data[p * 3 + 2] = img.data[p * 4 + 2]; }
  return { data, width: img.width, height: img.height };
}

/** 2x2 box average (odd last row/column dropped), as assembly/image/resample.ts halve(). */
function halve(img: Rgb): Rgb {
  const w = img.width >> 1, h = img.height >> 1, s = img.width * 3;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) {
    const i = 2 * y * s + 2 * x * 3 + k;
    data[(y * w + x) * 3 + k] = (img.data[i] + img.data[i + 3] + img.data[i + s] + img.data[i + s + 3] + 2) >> 2;
  }
  return { data, width: w, height: h };
}

/**
 * Bilinear resize with half-pixel centres (cv2 INTER_LINEAR). With `antialias` (default) it first
 * halves while the image is more than twice the target, as the product's resize does; without it
 * it is plain cv2.resize (what upstream MiniFASNet preprocessing uses).
 */
export function resize(img: Rgb, outW: number, outH: number, antialias = true): Rgb {
  while (antialias && img.width > 2 * outW && img.height > 2 * outH) img = halve(img);
  const { width: w, height: h } = img;
  const data = new Uint8Array(outW * outH * 3);
  const axis = (d: number, scale: number, size: number) => {
    let f = Math.max((d + 0.5) * scale - 0.5, 0);
    let i = Math.floor(f);
    f -= i;
    if (i >= size - 1) { i = size - 1; f = 0; }
    return { i, j: Math.min(i + 1, size - 1), f };
  };
  const ax = Array.from({ length: outW }, (_, x) => axis(x, w / outW, w));
  for (let y = 0; y < outH; y++) {
    const ay = axis(y, h / outH, h);
    for (let x = 0; x < outW; x++) {
      const a = ax[x];
      for (let k = 0; k < 3; k++) {
        const at = (yy: number, xx: number) => img.data[(yy * w + xx) * 3 + k];
        const top = at(ay.i, a.i) * (1 - a.f) + at(ay.i, a.j) * a.f;
        const bottom = at(ay.j, a.i) * (1 - a.f) + at(ay.j, a.j) * a.f;
        data[(y * outW + x) * 3 + k] = Math.round(top * (1 - ay.f) + bottom * ay.f);
      }
    }
  }
  return { data, width: outW, height: outH };
}

/** Adds borders of `value` (OpenCV BORDER_CONSTANT). */
export function pad(img: Rgb, top: number, left: number, bottom: number, right: number, value = 0): Rgb {
  const width = img.width + left + right, height = img.height + top + bottom;
  const data = new Uint8Array(width * height * 3).fill(value);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * width + left) * 3);
  return { data, width, height };
}

/** Rows [y0, y1) and columns [x0, x1), inside the image. */
export function crop(img: Rgb, x0: number, y0: number, x1: number, y1: number): Rgb {
  const width = x1 - x0, height = y1 - y0;
  if (x0 < 0 || y0 < 0 || x1 > img.width || y1 > img.height || width < 1 || height < 1) throw new Error(`crop [${x0},${y0})-[${x1},${y1}) outside ${img.width}x${img.height}`);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x1) * 3), y * width * 3);
  return { data, width, height };
}

/** Scales to fit `size` on the long side, then pads bottom/right with zeros to multiples of `multiple`. */
export function letterbox(img: Rgb, size: number, multiple = 32): { img: Rgb; scale: number } {
  const scale = size / Math.max(img.width, img.height);
  const w = Math.max(1, Math.round(img.width * scale)), h = Math.max(1, Math.round(img.height * scale));
  const r = resize(img, w, h);
  const up = (n: number) => Math.ceil(n / multiple) * multiple;
  return { img: pad(r, 0, 0, up(h) - h, up(w) - w), scale };
}

/**
 * Least-squares similarity transform (Umeyama 1991, no reflection) mapping `src` points onto `dst`:
 * returns [a, -b, tx, b, a, ty] with dst = [[a, -b], [b, a]] * src + t.
 */
export function similarity(src: [number, number][], dst: [number, number][]): number[] {
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) { sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1]; }
  sx /= n; sy /= n; dx /= n; dy /= n;
  // for 2-D similarities the least-squares solution is closed form: a = sum(p.q)/|p|^2, b = sum(p x q)/|p|^2
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - sx, py = src[i][1] - sy, qx = dst[i][0] - dx, qy = dst[i][1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  const a = dot / norm, b = cross / norm;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/** Inverse of a similarity [a, -b, tx, b, a, ty]. */
export function invertSimilarity(m: number[]): number[] {
  const [a, , tx, b, , ty] = m;
  const d = a * a + b * b;
  const ia = a / d, ib = -b / d;
  return [ia, -ib, -(ia * tx - ib * ty), ib, ia, -(ib * tx + ia * ty)];
}

/** dst(x, y) = src(m0 x + m1 y + m2, m3 x + m4 y + m5), bilinear, pixel centres at integers, `border` outside. */
export function warpAffine(img: Rgb, m: number[], width: number, height: number, border = 0): Rgb {
  const data = new Uint8Array(width * height * 3);
  const at = (x: number, y: number, k: number) => (x >= 0 && y >= 0 && x < img.width && y < img.height ? img.data[(y * img.width + x) * 3 + k] : border);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
    const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
    for (let k = 0; k < 3; k++) {
      const top = at(x0, y0, k) * (1 - fx) + at(x0 + 1, y0, k) * fx;
      const bottom = at(x0, y0 + 1, k) * (1 - fx) + at(x0 + 1, y0 + 1, k) * fx;
      data[(y * width + x) * 3 + k] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return { data, width, height };
}

/**
 * The standard 112x112 five-point template (ArcFace/SFace alignment; right eye, left eye, nose,
 * right mouth corner, left mouth corner as seen in the image, i.e. YuNet's landmark order).
 */
export const TEMPLATE_112: [number, number][] = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/**
 * The "fa150" framing for the face-api recognition net (../shared/models/faceapi-recognition/README.md):
 * face-api.js's own crop rule expressed in the 112 template frame is the square at (6.74, 22.80)
 * of side 98.5, mapped to 150x150.
 */
export const TEMPLATE_FA150: [number, number][] = TEMPLATE_112.map(([x, y]) => [(x - 6.74) * 150 / 98.5, (y - 22.8) * 150 / 98.5]);

/** Aligned crop: warps so that `landmarks` land on `template`. */
export function align(img: Rgb, landmarks: [number, number][], template: [number, number][], size: number): Rgb {
  return warpAffine(img, invertSimilarity(similarity(landmarks, template)), size, size, 0);
}

/** HWC float network input from packed RGB: channel order and (pixel - mean) * scale. */
export function toNetworkInput(img: Rgb, spec: { colorOrder: 'rgb' | 'bgr'; mean: number[]; scale: number[] }): Float32Array {
  const n = img.width * img.height;
  const src = spec.colorOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = (img.data[p * 3 + src[c]] - spec.mean[c]) * spec.scale[c];
  return out;
}
