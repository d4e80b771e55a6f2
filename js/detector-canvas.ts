// The detector's input, built in wasm from packed RGB: optional zero border (the retry for tight
// crops), shrink to at most maxSide (halving while the shrink exceeds 2x, then bilinear, so large
// photos do not alias), and letterbox at the top left of a canvas padded to multiples of 32 (YuNet's
// strides), at most 640. One implementation for the engine and the evaluator (tools/eval), which
// must feed the float reference exactly the bytes the int8 detector sees.
import type { WasmExports } from './wasm-abi.js';
import { check } from './errors.js';
import type { WasmBuffer } from './wasm-buffer.js';

/** Named reusable wasm buffers (FaceEngine.b, WasmSteps.b). */
export type Buffers = (name: string) => WasmBuffer;

export interface DetectorCanvas {
  /** Packed RGB, inW x inH: the (padded) image scaled to dw x dh at the top left, zeros elsewhere. */
  canvas: number;
  inW: number; inH: number;
  dw: number; dh: number;
  /** Detector pixels per image pixel, on both axes. */
  effective: number;
  /** Where the image starts on the canvas, in image pixels (the scaled border; 0 without one). */
  offset: number;
}

/** Resizes an RGB image in wasm to dw x dh, halving first while the shrink exceeds 2x. */
export function resizeRgb(x: WasmExports, b: Buffers, src: number, w: number, h: number, dw: number, dh: number, dst: number): void {
  let cur = src, cw = w, ch = h, flipFlop = 0;
  while (cw >= 2 * dw * 2 && ch >= 2 * dh * 2) {
    const next = b(flipFlop ? 'halfB' : 'halfA').get((cw >> 1) * (ch >> 1) * 3);
    check('halve', x.halve(cur, cw, ch, 3, next));
    cur = next; cw >>= 1; ch >>= 1; flipFlop ^= 1;
  }
  const sb = x.resizeScratchBytes(dw, dh);
  check('resize', x.resizeBilinear(cur, cw, ch, 3, dst, dw, dh, b('resizeScratch').get(sb), sb));
}

/**
 * The detector canvas for the w x h RGB image at `rgb` with a zero border of `pad` pixels. The border
 * is added at detector scale: the image is scaled as the bordered frame would be, then placed `pad`
 * (scaled) from the corner, so the retry for tight crops never holds a full-resolution bordered copy
 * (a 1280x960 frame needed 17 MB for it, a 1x10000 strip 600 MB). The scaled image goes to buffer
 * 'frameScratch' (unbordered) or 'detSmall'; the result lives in 'detCanvas' until the next call.
 */
export function detectorCanvas(x: WasmExports, b: Buffers, rgb: number, w: number, h: number, pad: number, maxSide: number): DetectorCanvas {
  const scale = Math.min(1, maxSide / Math.max(w + 2 * pad, h + 2 * pad));
  const ps = Math.floor(pad * scale);
  const iw = Math.max(1, Math.min(maxSide - 2 * ps, Math.round(w * scale))), ih = Math.max(1, Math.min(maxSide - 2 * ps, Math.round(h * scale)));
  const dw = iw + 2 * ps, dh = ih + 2 * ps;
  const inW = Math.min(640, Math.max(32, Math.ceil(dw / 32) * 32)), inH = Math.min(640, Math.max(32, Math.ceil(dh / 32) * 32));
  const canvas = b('detCanvas').get(inW * inH * 3);
  let src = rgb;
  if (iw !== w || ih !== h) {
    // the scaled image borrows frameScratch (free between pixel conversion and alignment)
    src = b(pad > 0 ? 'detSmall' : 'frameScratch').get(iw * ih * 3);
    resizeRgb(x, b, rgb, w, h, iw, ih, src);
  }
  check('letterbox', x.pasteImage(src, iw, ih, 3, canvas, inW, inH, ps, ps, 0));
  const effective = iw / w;
  return { canvas, inW, inH, dw, dh, effective, offset: ps / effective };
}
