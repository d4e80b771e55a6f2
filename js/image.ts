// Images as the API accepts them: raw pixel buffers in the formats browsers and camera stacks hand
// out, plus helpers for browser objects. Validation here gives ImageFormatError with an actionable
// message before anything reaches wasm.

import { WasmfaceError } from './errors.js';
import { PixelFormat, type PixelFormatName } from './kernels.js';
import { isByteArray } from './bytes.js';

/** An image in memory. `data` length must match the format (see imageByteLength). */
export interface ImageInput {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** Default 'rgba' (ImageData, canvas). Camera frames: 'nv21' (Android), 'i420', 'nv12'. */
  format?: PixelFormatName;
}

/** The image is not usable: wrong size, unknown format, empty, or too large. */
export class ImageFormatError extends WasmfaceError {
  constructor(message: string) {
    super('E_IMAGE_FORMAT', message);
  }
}

export const MAX_IMAGE_SIDE = 16384;

export function imageByteLength(format: PixelFormatName, width: number, height: number): number {
  const px = width * height, chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  switch (format) {
    case 'rgba': case 'bgra': return px * 4;
    case 'rgb': case 'bgr': return px * 3;
    case 'gray': return px;
    default: return px + 2 * chroma;
  }
}

/** Checks an ImageInput and returns its format; throws ImageFormatError saying what is wrong. */
export function checkImage(image: ImageInput): PixelFormatName {
  if (!image || typeof image !== 'object') throw new ImageFormatError('expected an image { data, width, height, format }');
  const { data, width, height } = image;
  const format = image.format ?? 'rgba';
  if (typeof format !== 'string' || !Object.prototype.hasOwnProperty.call(PixelFormat, format)) throw new ImageFormatError(`unknown pixel format '${String(format)}' (use one of ${Object.keys(PixelFormat).join(', ')})`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageFormatError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw new ImageFormatError(`image ${width}x${height} exceeds ${MAX_IMAGE_SIDE} pixels on a side`);
  if (!isByteArray(data)) throw new ImageFormatError('image data must be a Uint8Array or Uint8ClampedArray');
  const want = imageByteLength(format, width, height);
  if (data.length !== want) {
    throw new ImageFormatError(`${format} image of ${width}x${height} needs ${want} bytes, got ${data.length}`);
  }
  return format;
}

// ---- browser helpers (no-ops where the objects do not exist) ----

/** From an ImageData (canvas getImageData, OffscreenCanvas). */
export function fromImageData(img: { data: Uint8ClampedArray; width: number; height: number }): ImageInput {
  return { data: img.data, width: img.width, height: img.height, format: 'rgba' };
}

type Drawable = CanvasImageSource & { width?: number; height?: number; videoWidth?: number; videoHeight?: number; displayWidth?: number; displayHeight?: number };

/** From anything a canvas can draw: ImageBitmap, HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, VideoFrame. */
export function fromDrawable(source: Drawable): ImageInput {
  const width = source.videoWidth || source.displayWidth || source.width || 0;
  const height = source.videoHeight || source.displayHeight || source.height || 0;
  if (!width || !height) throw new ImageFormatError('the source has no size yet (video not playing, image not loaded?)');
  const canvas: OffscreenCanvas | HTMLCanvasElement = typeof OffscreenCanvas !== 'undefined'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new ImageFormatError('no 2D canvas context available in this environment');
  ctx.drawImage(source, 0, 0, width, height);
  return fromImageData(ctx.getImageData(0, 0, width, height));
}

/** From a WebCodecs VideoFrame in its own pixel format when we read it (NV12, I420, RGBA, BGRA), else via a canvas. */
export async function fromVideoFrame(frame: VideoFrame): Promise<ImageInput> {
  const formats: Record<string, PixelFormatName> = { NV12: 'nv12', I420: 'i420', RGBA: 'rgba', RGBX: 'rgba', BGRA: 'bgra', BGRX: 'bgra' };
  const format = frame.format ? formats[frame.format] : undefined;
  if (!format) return fromDrawable(frame as unknown as Drawable);
  const width = frame.visibleRect?.width ?? frame.codedWidth, height = frame.visibleRect?.height ?? frame.codedHeight;
  const data = new Uint8Array(imageByteLength(format, width, height));
  await frame.copyTo(data);
  return { data, width, height, format };
}
