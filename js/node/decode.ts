// Image files -> RGBA pixels for the Node CLI: JPEG (jpeg-js) and PNG (pngjs), upright per the
// EXIF orientation, every failure an ImageDecodeError saying what was wrong.
//
// Node-only (pngjs needs Node's Buffer), but typed without Node's types so that the browser
// tsconfig of js/ still accepts this file; the caller reads the file and passes its bytes.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WasmfaceError } from '../errors.js';

export interface DecodedImage {
  /** RGBA, 4 bytes per pixel, rows top to bottom, already upright. */
  data: Uint8Array;
  width: number;
  height: number;
  /** EXIF orientation found in the file (1..8; 1 when absent or invalid), already applied if `applyOrientation`. */
  orientation: number;
  format: 'jpeg' | 'png';
}

export type ImageDecodeReason = 'empty' | 'unsupported-format' | 'truncated' | 'corrupt' | 'too-large';

/** The bytes are not an image we can decode; `reason` says why. */
export class ImageDecodeError extends WasmfaceError {
  constructor(readonly reason: ImageDecodeReason, message: string) {
    super('E_IMAGE_DECODE', message);
  }
}

export interface DecodeOptions {
  /** Rotate/flip to the EXIF orientation (default true). */
  applyOrientation?: boolean;
  /** Refuse images with more pixels than this before decoding (default 100 million). */
  maxPixels?: number;
}

/** Decodes JPEG or PNG bytes (detected by signature, not file name). */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedImage {
  const maxPixels = options.maxPixels ?? 100_000_000;
  if (bytes.length === 0) throw new ImageDecodeError('empty', 'image file is empty');
  if (isSignaturePrefix(bytes)) throw new ImageDecodeError('truncated', `image file is truncated (${bytes.length} bytes)`);
  const format = sniffFormat(bytes);
  let image: DecodedImage;
  if (format === 'jpeg') image = decodeJpeg(bytes, maxPixels);
  else if (format === 'png') image = decodePng(bytes, maxPixels);
  else throw new ImageDecodeError('unsupported-format', format ? `unsupported image format ${format} (JPEG and PNG are supported)` : 'not a JPEG or PNG file (unrecognised signature)');
  return options.applyOrientation === false ? image : applyOrientation(image, image.orientation);
}

/** A file shorter than its JPEG/PNG signature, but matching as far as it goes. */
function isSignaturePrefix(b: Uint8Array): boolean {
  const signatures = [[0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]];
  return signatures.some((sig) => b.length < sig.length && Array.prototype.every.call(b, (v: number, i: number) => v === sig[i]));
}

function sniffFormat(b: Uint8Array): string | undefined {
  const ascii = (at: number, s: string) => b.length >= at + s.length && [...s].every((ch, i) => b[at + i] === ch.charCodeAt(0));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'GIF8')) return 'GIF';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (ascii(0, 'BM')) return 'BMP';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'TIFF';
  if (ascii(4, 'ftyp')) return ascii(8, 'avif') ? 'AVIF' : 'HEIF/ISO-BMFF';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// JPEG

const JPEG_SOF_HUFFMAN = new Set([0xc0, 0xc1, 0xc2]); // baseline, extended, progressive: what jpeg-js decodes
const JPEG_SOF_OTHER = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function decodeJpeg(bytes: Uint8Array, maxPixels: number): DecodedImage {
  const info = scanJpeg(bytes);
  if (info.width * info.height > maxPixels) {
    throw new ImageDecodeError('too-large', `JPEG is ${info.width}x${info.height}, more than the ${maxPixels} pixel limit`);
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true, formatAsRGBA: true,
      // we verified the structure above; tolerance only papers over damaged entropy data
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((maxPixels * 12) / (1 << 20)) + 64,
    });
  } catch (e) {
    throw new ImageDecodeError('corrupt', `JPEG could not be decoded: ${(e as Error).message}`);
  }
  if (decoded.width !== info.width || decoded.height !== info.height || decoded.data.length !== decoded.width * decoded.height * 4) {
    throw new ImageDecodeError('corrupt', `JPEG decoded to ${decoded.width}x${decoded.height}, header says ${info.width}x${info.height}`);
  }
  return { data: decoded.data, width: decoded.width, height: decoded.height, orientation: info.orientation, format: 'jpeg' };
}

/**
 * Walks the marker segments up to the first scan: frame size, EXIF orientation (first APP1
 * "Exif" segment), and whether the file is complete (an EOI marker after the scan data; entropy
 * data cannot contain FF D9 because FF bytes in it are stuffed).
 */
function scanJpeg(b: Uint8Array): { width: number; height: number; orientation: number } {
  let at = 2, width = 0, height = 0, orientation = 1, sawExif = false;
  for (;;) {
    if (at >= b.length) throw new ImageDecodeError('truncated', 'JPEG ends before its image data');
    if (b[at] !== 0xff) throw new ImageDecodeError('corrupt', `JPEG marker expected at byte ${at}`);
    while (at < b.length && b[at] === 0xff) at++; // fill bytes
    if (at >= b.length) throw new ImageDecodeError('truncated', 'JPEG ends before its image data');
    const marker = b[at++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length field
    if (marker === 0xd9) throw new ImageDecodeError('corrupt', 'JPEG ends (EOI) before any image data');
    if (at + 2 > b.length) throw new ImageDecodeError('truncated', 'JPEG ends inside a marker segment');
    const length = (b[at] << 8) | b[at + 1];
    if (length < 2) throw new ImageDecodeError('corrupt', `JPEG segment ${hex(marker)} has length ${length}`);
    if (at + length > b.length) throw new ImageDecodeError('truncated', `JPEG ends inside segment ${hex(marker)}`);
    const body = b.subarray(at + 2, at + length);
    if (JPEG_SOF_HUFFMAN.has(marker)) {
      if (body.length < 6) throw new ImageDecodeError('corrupt', 'JPEG frame header is too short');
      height = (body[1] << 8) | body[2];
      width = (body[3] << 8) | body[4];
      if (!width || !height) throw new ImageDecodeError('corrupt', `JPEG frame size ${width}x${height} is not supported`);
    } else if (JPEG_SOF_OTHER.has(marker)) {
      throw new ImageDecodeError('unsupported-format', `JPEG coding process ${hex(marker)} (lossless, hierarchical or arithmetic-coded) is not supported`);
    } else if (marker === 0xe1 && !sawExif && body.length >= 6 && body[0] === 0x45 && body[1] === 0x78 && body[2] === 0x69 && body[3] === 0x66 && body[4] === 0 && body[5] === 0) {
      sawExif = true;
      orientation = exifOrientation(body.subarray(6));
    } else if (marker === 0xda) {
      if (!width) throw new ImageDecodeError('corrupt', 'JPEG scan before any frame header');
      if (lastIndexOfEoi(b) < at + length) throw new ImageDecodeError('truncated', 'JPEG is truncated (no end-of-image marker after the image data)');
      return { width, height, orientation };
    }
    at += length;
  }
}

function lastIndexOfEoi(b: Uint8Array): number {
  for (let i = b.length - 2; i >= 0; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return i;
  return -1;
}

const hex = (m: number) => `0xFF${m.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block. Malformed or out-of-range
 * data gives 1: a damaged EXIF block should not make a decodable picture fail.
 */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const type = view.getUint16(entry + 2, little);
    // SHORT as the spec says; some writers use LONG
    const value = type === 3 ? view.getUint16(entry + 8, little) : type === 4 ? view.getUint32(entry + 8, little) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------
// PNG

function decodePng(bytes: Uint8Array, maxPixels: number): DecodedImage {
  const info = scanPng(bytes);
  if (info.width * info.height > maxPixels) {
    throw new ImageDecodeError('too-large', `PNG is ${info.width}x${info.height}, more than the ${maxPixels} pixel limit`);
  }
  const NodeBuffer = (globalThis as unknown as { Buffer?: { from(b: ArrayBufferLike, offset: number, length: number): Uint8Array } }).Buffer;
  if (!NodeBuffer) throw new ImageDecodeError('unsupported-format', 'PNG decoding needs Node.js (pngjs uses Buffer)');
  let png: { width: number; height: number; data: Uint8Array };
  try {
    // cut at IEND: pngjs rejects any trailing bytes, which some writers leave
    png = PNG.sync.read(NodeBuffer.from(bytes.buffer, bytes.byteOffset, info.end));
  } catch (e) {
    // the chunk walk already proved the file complete, so what remains is damaged content
    throw new ImageDecodeError('corrupt', `PNG could not be decoded: ${(e as Error).message}`);
  }
  if (png.data.length !== png.width * png.height * 4) throw new ImageDecodeError('corrupt', 'PNG decoded to an unexpected size');
  const data = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  return { data, width: png.width, height: png.height, orientation: info.orientation, format: 'png' };
}

/**
 * Walks the chunks: size from IHDR, orientation from an eXIf chunk, the end of IEND; checks each
 * CRC here because pngjs reports a bad one only as "unrecognised content at end of stream".
 */
function scanPng(b: Uint8Array): { width: number; height: number; orientation: number; end: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 8, width = 0, height = 0, orientation = 1;
  for (;;) {
    if (at + 8 > b.length) throw new ImageDecodeError('truncated', 'PNG is truncated (no IEND chunk)');
    const length = view.getUint32(at);
    const type = String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    const end = at + 12 + length;
    if (length > 0x7fffffff) throw new ImageDecodeError('corrupt', `PNG chunk ${type} has length ${length}`);
    if (end > b.length) throw new ImageDecodeError('truncated', `PNG is truncated (inside chunk ${type})`);
    if (at === 8 && type !== 'IHDR') throw new ImageDecodeError('corrupt', 'PNG does not start with IHDR');
    if (crc32(b, at + 4, end - 4) !== view.getUint32(end - 4)) throw new ImageDecodeError('corrupt', `PNG chunk ${type} fails its CRC check`);
    if (type === 'IHDR') {
      if (length < 8) throw new ImageDecodeError('corrupt', 'PNG IHDR is too short');
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      if (!width || !height) throw new ImageDecodeError('corrupt', `PNG size ${width}x${height} is invalid`);
    } else if (type === 'eXIf') {
      orientation = exifOrientation(b.subarray(at + 8, at + 8 + length));
    } else if (type === 'IEND') {
      return { width, height, orientation, end };
    }
    at = end;
  }
}

let crcTable: Uint32Array | undefined;

function crc32(b: Uint8Array, from: number, to: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = crcTable[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Orientation

/**
 * Returns the upright image for an EXIF orientation (1..8). For each displayed pixel (x, y) the
 * stored pixel it shows, with W x H the stored size (EXIF 2.3, tag 0x0112: where the stored
 * 0th row and 0th column end up):
 *   1 as stored          2 mirrored left-right     3 rotated 180          4 mirrored top-bottom
 *   5 transposed         6 rotated 90 clockwise    7 transversed          8 rotated 90 counter-clockwise
 */
export function applyOrientation(image: DecodedImage, orientation: number): DecodedImage {
  if (orientation <= 1 || orientation > 8) return { ...image, orientation };
  const { width: W, height: H, data } = image;
  const swap = orientation >= 5;
  const width = swap ? H : W, height = swap ? W : H;
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * W + (W - 1 - x),
    3: (x: number, y: number) => (H - 1 - y) * W + (W - 1 - x),
    4: (x: number, y: number) => (H - 1 - y) * W + x,
    5: (x: number, y: number) => x * W + y,
    6: (x: number, y: number) => (H - 1 - x) * W + y,
    7: (x: number, y: number) => (H - 1 - x) * W + (W - 1 - y),
    8: (x: number, y: number) => x * W + (W - 1 - y),
  }[orientation]!;
  const src32 = new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out32 = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out32[y * width + x] = src32[source(x, y)];
  return { ...image, data: new Uint8Array(out32.buffer), width, height, orientation };
}
