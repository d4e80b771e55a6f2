// Calibration and evaluation inputs from ../shared/faces (the dev set; never the pairs file):
// - YuNet: whole pictures (faces, groups, no-face negatives), letterboxed to a seeded long side of
//   160..640 and padded bottom/right to multiples of 32; tight 150x150 crops get a 50 % border first.
// - MiniFASNet: 80x80 patches cut around the detected face as upstream does (2.7x for V2, 4.0x for
//   V1SE; Silent-Face-Anti-Spoofing src/generate_patches.py CropImage at b6d5f04).
// - face-api recognition net: 150x150 crops aligned by the 5 YuNet landmarks to the fa150 template.
// Faces are found by the float YuNet run in onnxruntime-node (fast); tight crops that give no face
// are retried with a 50 % zero border. Subsets are seeded and fixed; calibration and evaluation
// subsets are disjoint.
import { existsSync, readFileSync } from 'node:fs';
import { ImageDecodeError } from '../../js/node/decode.js';
import * as ort from 'onnxruntime-node';
import { sharedPath } from './models.js';
import { mulberry32 } from '../rng.js';
import { align, crop, letterbox, loadRgb, pad, resize, TEMPLATE_112, TEMPLATE_FA150, type Rgb } from './image.js';
import { decodeYunet, type Detection } from './yunet-decode.js';

export function haveFaces(): boolean {
  return existsSync(sharedPath('faces/manifest.csv'));
}

export interface DevImage { path: string; identity: string; source: string }

/** manifest.csv rows except the spoof samples (kept for evaluation only). */
export function devImages(): DevImage[] {
  const lines = readFileSync(sharedPath('faces/manifest.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [path, identity, source] = l.split(',');
    return { path, identity, source };
  }).filter((r) => !r.path.startsWith('spoof/'));
}

/** Seeded sampling for calibration subsets (see tools/rng.ts). */
export const rng = mulberry32;

export function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items], r = rng(seed);
  for (let i = out.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return out;
}

/** Seeded order that alternates between groups (sources), so small sources are not drowned by LFW. */
function roundRobin(images: DevImage[], key: (d: DevImage) => string, seed: number): DevImage[] {
  const groups = new Map<string, DevImage[]>();
  for (const d of shuffle(images, seed)) groups.set(key(d), [...(groups.get(key(d)) ?? []), d]);
  const lists = [...groups.keys()].sort().map((k) => groups.get(k)!);
  const out: DevImage[] = [];
  for (let i = 0; out.length < images.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** The picture, or undefined when it cannot be decoded (a few dev files are WebP). */
function tryLoad(d: DevImage): Rgb | undefined {
  try {
    return loadRgb(sharedPath(`faces/${d.path}`));
  } catch (e) {
    if (e instanceof ImageDecodeError) return undefined;
    throw e;
  }
}

const isTightCrop = (d: DevImage) => d.source === 'lfw' || (d.source === 'face-api.js' && d.identity !== '_unlabelled' && d.identity !== '_none');

// ---------------------------------------------------------------------------------------------
// YuNet pictures

export interface Picture { file: string; img: Rgb }

/** `count` pictures after skipping `skip` (calibration takes the first ones, evaluation the next). */
export function yunetPictures(count: number, skip: number, seed: number): Picture[] {
  const order = roundRobin(devImages(), (d) => (d.identity === '_none' ? 'negatives' : d.source), seed);
  const sizes = [160, 256, 320, 480, 640];
  const r = rng(seed ^ 0x5eed);
  const out: Picture[] = [];
  for (const d of order.slice(skip, skip + count)) {
    let img = tryLoad(d);
    if (!img) continue;
    if (isTightCrop(d)) img = pad(img, img.height >> 1, img.width >> 1, img.height >> 1, img.width >> 1);
    const size = sizes[Math.floor(r() * sizes.length)];
    out.push({ file: d.path, img: letterbox(img, size).img });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Float YuNet (onnxruntime-node) for finding faces

export class YunetOrt {
  private constructor(private readonly session: ort.InferenceSession, private readonly dynamicSize: boolean) {}

  /** The 2026may file takes any multiple of 32 (same weights as 2023mar); else 2023mar at 640x640. */
  static async create(): Promise<YunetOrt> {
    const dyn = sharedPath('models/yunet/face_detection_yunet_2026may.onnx');
    const fixed = sharedPath('models/yunet/face_detection_yunet_2023mar.onnx');
    const dynamic = existsSync(dyn);
    return new YunetOrt(await ort.InferenceSession.create(dynamic ? dyn : fixed, { intraOpNumThreads: 1 }), dynamic);
  }

  /** Faces in image coordinates, best first (downscaled to 640 on the long side if larger). */
  async detect(img: Rgb, threshold = 0.9): Promise<Detection[]> {
    const k = Math.min(1, 640 / Math.max(img.width, img.height));
    const w = Math.round(img.width * k), h = Math.round(img.height * k);
    const small = k < 1 ? resize(img, w, h) : img;
    const W = this.dynamicSize ? Math.ceil(w / 32) * 32 : 640, H = this.dynamicSize ? Math.ceil(h / 32) * 32 : 640;
    const x = pad(small, 0, 0, H - h, W - w);
    const nchw = new Float32Array(3 * H * W);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) nchw[c * H * W + p] = x.data[p * 3 + 2 - c]; // BGR
    const res = await this.session.run({ [this.session.inputNames[0]]: new ort.Tensor('float32', nchw, [1, 3, H, W]) });
    const out: Record<string, ArrayLike<number>> = {};
    for (const [name, t] of Object.entries(res)) out[name] = t.data as Float32Array;
    const kx = img.width / w, ky = img.height / h;
    return decodeYunet(out, H, W, threshold).map((f) => ({
      ...f, x: f.x * kx, y: f.y * ky, w: f.w * kx, h: f.h * ky,
      landmarks: f.landmarks.map(([lx, ly]) => [lx * kx, ly * ky] as [number, number]),
    }));
  }

  /** Best face; a tight crop without one is retried inside a 50 % zero border. */
  async bestFace(img: Rgb): Promise<Detection | undefined> {
    const faces = await this.detect(img);
    if (faces.length) return faces[0];
    const py = img.height >> 1, px = img.width >> 1;
    const f = (await this.detect(pad(img, py, px, py, px)))[0];
    return f && { ...f, x: f.x - px, y: f.y - py, landmarks: f.landmarks.map(([x, y]) => [x - px, y - py] as [number, number]) };
  }
}

// ---------------------------------------------------------------------------------------------
// Face crops (MiniFASNet patches, aligned embedder inputs)

/**
 * Upstream CropImage._get_new_box + crop: box scaled about its centre (capped to fit the image),
 * shifted back inside, rows/columns [lt, rb] inclusive, cv2.resize to 80x80 (no antialiasing).
 */
export function miniFasPatch(img: Rgb, box: { x: number; y: number; w: number; h: number }, scale: number, size = 80): Rgb {
  // upstream boxes are integer [x, y, w, h] (anti_spoof_predict.py get_bbox)
  const x = Math.trunc(box.x), y = Math.trunc(box.y), bw = Math.trunc(box.w), bh = Math.trunc(box.h);
  const srcW = img.width, srcH = img.height;
  scale = Math.min((srcH - 1) / bh, (srcW - 1) / bw, scale);
  const nw = bw * scale, nh = bh * scale, cx = bw / 2 + x, cy = bh / 2 + y;
  let lx = cx - nw / 2, ly = cy - nh / 2, rx = cx + nw / 2, ry = cy + nh / 2;
  if (lx < 0) { rx -= lx; lx = 0; }
  if (ly < 0) { ry -= ly; ly = 0; }
  if (rx > srcW - 1) { lx -= rx - srcW + 1; rx = srcW - 1; }
  if (ry > srcH - 1) { ly -= ry - srcH + 1; ry = srcH - 1; }
  const [x0, y0, x1, y1] = [lx, ly, rx, ry].map(Math.trunc);
  return resize(crop(img, Math.max(0, x0), Math.max(0, y0), Math.min(srcW, x1 + 1), Math.min(srcH, y1 + 1)), size, size, false);
}

export interface FaceSample {
  file: string;
  face: Detection;
  /** fa150 aligned crop for the recognition net. */
  aligned: Rgb;
  /** 112x112 crop aligned to the ArcFace 5-point template (MobileFaceNet, opt-in: tools/convert/mobilefacenet.ts). */
  aligned112: Rgb;
  /** MiniFASNet inputs: 2.7x (V2) and 4.0x (V1SE) patches. */
  patch27: Rgb;
  patch40: Rgb;
}

/** Faces from labelled dev pictures (seeded, sources alternating), `count` after skipping `skip` found faces. */
export async function faceSamples(count: number, skip: number, seed: number, onProgress?: () => void): Promise<FaceSample[]> {
  const order = roundRobin(devImages().filter((d) => d.identity !== '_none' && d.identity !== '_unlabelled'), (d) => d.source, seed);
  const det = await YunetOrt.create();
  const out: FaceSample[] = [];
  let found = 0;
  for (const d of order) {
    if (out.length >= count) break;
    const img = tryLoad(d);
    const face = img && await det.bestFace(img);
    if (!img || !face) continue;
    if (found++ < skip) continue;
    out.push({
      file: d.path, face,
      aligned: align(img, face.landmarks, TEMPLATE_FA150, 150),
      aligned112: align(img, face.landmarks, TEMPLATE_112, 112),
      patch27: miniFasPatch(img, face, 2.7),
      patch40: miniFasPatch(img, face, 4.0),
    });
    onProgress?.();
  }
  return out;
}

/** The spoof samples (evaluation only): upright image, best face, both patches. */
export async function spoofSamples(): Promise<{ file: string; label: string; patch27: Rgb; patch40: Rgb }[]> {
  const det = await YunetOrt.create();
  const rows = readFileSync(sharedPath('faces/manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter((r) => r[0].startsWith('spoof/'));
  const out = [];
  for (const [path, label] of rows) {
    const img = loadRgb(sharedPath(`faces/${path}`));
    const face = await det.bestFace(img);
    if (!face) continue;
    out.push({ file: path, label, patch27: miniFasPatch(img, face, 2.7), patch40: miniFasPatch(img, face, 4.0) });
  }
  return out;
}
