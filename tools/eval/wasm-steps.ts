// The engine's image stages reproduced with the same exported wasm calls, in the same order and with
// the same arguments as js/engine.ts (FaceEngine.toRgb, detectOn, align, livenessOf), so that the
// float references can be fed exactly the bytes the int8 models see: the letterboxed detector canvas,
// the fa150 aligned crop and the anti-spoofing patches. Everything runs in the engine's own wasm
// instance; the results are copied out. The eval checks that these reproductions give the engine's
// own results (detections, embeddings, fused live scores), so a drift in js/engine.ts shows up there.
import type { WasmExports } from '../../js/wasm-abi.js';
import { check, KernelError } from '../../js/errors.js';
import { EMBED_SIZE, FA150_TEMPLATE, type DetectedFace } from '../../js/engine.js';
import { PixelFormat } from '../../js/kernels.js';
import type { ImageInput } from '../../js/image.js';
import { WasmBuffer } from '../../js/wasm-buffer.js';
import { detectorCanvas } from '../../js/detector-canvas.js';

/** A detector input as js/engine.ts detectOn builds it. */
export interface Canvas {
  /** Packed RGB, inW x inH, the image scaled to dw x dh at the top left, zeros elsewhere. */
  rgb: Uint8Array;
  inW: number; inH: number;
  /** Size of the (padded) image on the canvas. */
  dw: number; dh: number;
  /** Where the image starts on the canvas, in image pixels: the zero border of the engine's retry for tight crops (0 without). */
  pad: number;
  /** Detector pixels per image pixel (the engine maps back with 1 / effective for both axes). */
  effective: number;
}

export class WasmSteps {
  private readonly bufs = new Map<string, WasmBuffer>();
  constructor(readonly x: WasmExports, private readonly maxSide = 640) {}

  private b(name: string): WasmBuffer {
    let b = this.bufs.get(name);
    if (!b) this.bufs.set(name, (b = new WasmBuffer(this.x)));
    return b;
  }

  /** Image -> packed RGB in wasm (FaceEngine.toRgb); the pointer stays valid until the next call. */
  toRgb(image: ImageInput): { rgb: number; w: number; h: number } {
    const x = this.x, w = image.width, h = image.height;
    const src = this.b('src').get(image.data.length);
    new Uint8Array(x.memory.buffer, src, image.data.length).set(image.data);
    const rgb = this.b('rgb').get(w * h * 3);
    check('image conversion', x.toRgb(src, image.data.length, PixelFormat[image.format ?? 'rgba'], w, h, rgb));
    return { rgb, w, h };
  }

  /** The detector canvas of FaceEngine.detectOn(rgb, w, h, pad). */
  detectorCanvas(rgb: number, w: number, h: number, pad: number): Canvas {
    const x = this.x;
    const { canvas, inW, inH, dw, dh, effective, offset } = detectorCanvas(x, (name) => this.b(name), rgb, w, h, pad, this.maxSide);
    return { rgb: new Uint8Array(x.memory.buffer, canvas, inW * inH * 3).slice(), inW, inH, dw, dh, pad: offset, effective };
  }

  /**
   * The aligned crop of FaceEngine.align (RGB bytes): by default its 150x150 fa150 crop; another
   * 5-point template and size give that embedder's crop with the same calls (the ArcFace 112).
   */
  align(rgb: number, w: number, h: number, face: DetectedFace, template: ArrayLike<number> = FA150_TEMPLATE, size = EMBED_SIZE): Uint8Array {
    const x = this.x;
    const lm = this.b('landmarks').get(40), tpl = this.b('template').get(40), m = this.b('similarity').get(32);
    new Float32Array(x.memory.buffer, lm, 10).set(face.landmarks.flat());
    new Float32Array(x.memory.buffer, tpl, 10).set(template);
    const st = x.alignEstimate(lm, tpl, 5, m);
    if (st !== 0) throw new KernelError('alignment: degenerate landmarks', st);
    const [a, b] = new Float64Array(x.memory.buffer, m, 2);
    const levels = x.alignLevels(a, b);
    const sb = x.alignScratchBytes(w, h, Math.max(0, levels));
    const crop = this.b('crop').get(size * size * 3);
    check('alignment', x.alignWarp(rgb, w, h, m, Math.max(0, levels), this.b('alignScratch').get(Math.max(16, sb)), sb, crop, size, size, 0));
    return new Uint8Array(x.memory.buffer, crop, size * size * 3).slice();
  }

  /** An anti-spoofing patch as FaceEngine.livenessOf cuts it, and the share of the requested context it got. */
  patch(rgb: number, w: number, h: number, face: DetectedFace, scale: number, pw: number, ph: number): { rgb: Uint8Array; context: number } {
    const x = this.x;
    const rect = this.b('rect').get(16);
    check('anti-spoof patch', x.patchRect(w, h, face.box.x, face.box.y, face.box.width, face.box.height, scale, rect));
    const [x0, y0, x1, y1] = new Int32Array(x.memory.buffer, rect, 4);
    const context = Math.min(1, Math.min((x1 - x0 + 1) / face.box.width, (y1 - y0 + 1) / face.box.height) / scale);
    const sb = x.cropPatchScratchBytes(x1 - x0 + 1, y1 - y0 + 1, pw, ph);
    const patch = this.b('patch').get(pw * ph * 3);
    check('anti-spoof crop', x.cropPatch(rgb, w, h, x0, y0, x1, y1, patch, pw, ph, this.b('patchScratch').get(sb), sb));
    return { rgb: new Uint8Array(x.memory.buffer, patch, pw * ph * 3).slice(), context };
  }

  dispose(): void {
    for (const b of this.bufs.values()) b.dispose();
    this.bufs.clear();
  }
}

/** FaceEngine.pick: the largest face by box area (the first of equals, faces being best-first). */
export function largestFace(faces: DetectedFace[]): DetectedFace {
  return faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
}
