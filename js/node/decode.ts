// Image files -> RGBA pixels for the Node CLI: JPEG and PNG, upright per the EXIF orientation,
// every failure an ImageDecodeError saying what was wrong. Fail closed: a file that is cut short,
// has more or less image data than its header declares, breaks the format's rules, or declares
// more pixels than the limits below is refused, never decoded to a partial picture.
//
// PNG is decoded here: chunk walk (CRC of every chunk, chunk order and contents per the PNG
// spec), node:zlib inflate bounded to exactly the byte count the header implies, unfiltering and
// conversion to RGBA into zero-initialised memory that every pixel of the file is written to.
// JPEG goes to jpeg-js only after a walk over every marker segment and scan has proved the file
// complete (every component, and for progressive files every coefficient bit, present; tables
// defined; restart markers all there) and its scan data long enough for the declared size; jpeg-js's
// own resolution and memory limits are set from that size.
//
// Node-only (node:zlib); the browser tsconfig of js/ leaves js/node out. The caller reads the
// file and passes its bytes.
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { OptionError, WasmfaceError } from '../errors.js';
import { describeValue, optBoolean, optNumber, optionsObject } from '../options.js';

/**
 * Default pixel limit of decodeImage: 40 megapixels. Covers what a face SDK is given (12 MP phone
 * photos, 24-36 MP camera images) with room to spare; a 48 MP or larger photo must be downscaled
 * first, or passed with a higher `maxPixels`. Peak memory of a decode at the limit, which a
 * hostile file can also reach: PNG about 12 bytes per pixel (output + inflated data, held twice
 * while zlib assembles it; 20 for 16-bit RGBA), i.e. 0.5-0.8 GB; JPEG up to 4 + 6 x components
 * bytes per pixel inside jpeg-js, about 0.9 GB for a 4:4:4 colour JPEG (less when subsampled).
 * A JPEG must carry at least one bit of scan data per 8x8 block (80-240 KB at 40 MP), so a
 * tiny file cannot declare a huge size; a PNG's inflated data must be exactly the declared size.
 */
export const MAX_DECODE_PIXELS = 40_000_000;

/** Longest side decodeImage accepts, whatever `maxPixels` says; the same as MAX_IMAGE_SIDE of js/image.ts. */
export const MAX_DECODE_SIDE = 16384;

export interface DecodedImage {
  /** RGBA, 4 bytes per pixel, rows top to bottom, already upright. */
  data: Uint8Array;
  width: number;
  height: number;
  /** EXIF orientation found in the file (1..8; 1 when absent or invalid), already applied if `applyOrientation`. */
  orientation: number;
  format: 'jpeg' | 'png';
}

/** Scans a JPEG may have (a standard progressive script has about 10). */
export const MAX_JPEG_SCANS = 100;

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
  /**
   * Refuse images with more pixels than this, from the header, before decoding anything
   * (default MAX_DECODE_PIXELS, 40 million). Either side above MAX_DECODE_SIDE (16384) is refused
   * regardless. Raising it raises the memory a hostile file can make the decoder use.
   */
  maxPixels?: number;
}

/** Decodes JPEG or PNG bytes (detected by signature, not file name). */
export function decodeImage(bytes: Uint8Array, options?: DecodeOptions): DecodedImage {
  if (!(bytes instanceof Uint8Array)) throw new OptionError(`decodeImage expects the file contents as a Uint8Array (or Buffer), got ${describeValue(bytes)}`);
  const opts = optionsObject<DecodeOptions>(options, 'decodeImage options', ['applyOrientation', 'maxPixels']);
  const maxPixels = optNumber(opts.maxPixels, 'maxPixels', 1, Infinity) ?? MAX_DECODE_PIXELS;
  const orient = optBoolean(opts.applyOrientation, 'applyOrientation') ?? true;
  if (bytes.length === 0) throw new ImageDecodeError('empty', 'image file is empty');
  if (isSignaturePrefix(bytes)) throw new ImageDecodeError('truncated', `image file is truncated (${bytes.length} bytes)`);
  const format = sniffFormat(bytes);
  let image: DecodedImage;
  if (format === 'jpeg') image = decodeJpeg(bytes, maxPixels);
  else if (format === 'png') image = decodePng(bytes, maxPixels);
  else throw new ImageDecodeError('unsupported-format', format ? `unsupported image format ${format} (JPEG and PNG are supported)` : 'not a JPEG or PNG file (unrecognised signature)');
  return orient ? applyOrientation(image, image.orientation) : image;
}

/** Refuses a declared size above the side limit or the pixel limit; called as soon as the header is read. */
function checkSize(format: string, width: number, height: number, maxPixels: number): void {
  if (width > MAX_DECODE_SIDE || height > MAX_DECODE_SIDE) {
    throw new ImageDecodeError('too-large', `${format} is ${width}x${height}, more than ${MAX_DECODE_SIDE} pixels on a side: downscale it to at most ${MAX_DECODE_SIDE}x${MAX_DECODE_SIDE} before passing it`);
  }
  if (width * height > maxPixels) {
    throw new ImageDecodeError('too-large', `${format} is ${width}x${height} (${width * height} pixels), more than the ${maxPixels} pixel limit: downscale it, or pass a higher maxPixels to decodeImage if this much memory is acceptable`);
  }
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

interface JpegComponent { id: number; h: number; v: number; tq: number }
interface JpegFrame {
  width: number; height: number; progressive: boolean; components: JpegComponent[];
  maxH: number; maxV: number; mcusX: number; mcusY: number;
}
interface JpegInfo { frame: JpegFrame; orientation: number; end: number }

const corrupt = (message: string) => new ImageDecodeError('corrupt', message);

function decodeJpeg(bytes: Uint8Array, maxPixels: number): DecodedImage {
  const { frame, orientation, end } = scanJpeg(bytes, maxPixels);
  const { width, height, components } = frame;
  // what jpeg-js accounts for this frame: 64 Int32 coefficients and 64 samples per allocated
  // block, the component planes and the RGBA output; plus its tables (at most 4 bytes per file byte)
  let budget = width * height * (components.length + 4) + 4 * end + (1 << 20);
  for (const c of components) budget += frame.mcusX * c.h * frame.mcusY * c.v * (256 + 64);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes.subarray(0, end), {
      useTArray: true, formatAsRGBA: true,
      // the walk above proved the structure; tolerance would only paper over damaged entropy data
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil(budget / (1 << 20)),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/maxMemoryUsageInMB|maxResolutionInMP|allocate/.test(message)) throw new ImageDecodeError('too-large', `JPEG needs more memory than its ${width}x${height} size allows: ${message}`);
    throw corrupt(`JPEG could not be decoded: ${message}`);
  }
  if (decoded.width !== width || decoded.height !== height || decoded.data.length !== width * height * 4) {
    throw corrupt(`JPEG decoded to ${decoded.width}x${decoded.height}, header says ${width}x${height}`);
  }
  return { data: decoded.data, width, height, orientation, format: 'jpeg' };
}

/**
 * Walks every marker segment and every scan up to EOI: frame size (checked against the limits at
 * once), EXIF orientation (first APP1 "Exif" segment), tables, scan parameters and whether the
 * scans together deliver the whole image. Entropy-coded data is skipped by looking for the next
 * marker (FF followed by neither 00, a stuffed byte, nor RST0-7), and counted: a scan that codes
 * DC coefficients needs at least one bit per block, so a tiny file cannot declare a huge size.
 */
function scanJpeg(b: Uint8Array, maxPixels: number): JpegInfo {
  let at = 2, orientation = 1, sawExif = false, restartInterval = 0, scans = 0;
  let frame: JpegFrame | undefined;
  const quantTables = new Set<number>(), dcTables = new Set<number>(), acTables = new Set<number>();
  // per component: sent (sequential), or per coefficient the last successive-approximation bit (progressive; -1 = none yet)
  let sent: boolean[] = [];
  let coefBits = new Int8Array(0);
  for (;;) {
    if (at >= b.length) {
      throw new ImageDecodeError('truncated', frame && scans ? 'JPEG is truncated (no end-of-image marker after the image data)' : 'JPEG ends before its image data');
    }
    if (b[at] !== 0xff) throw corrupt(`JPEG marker expected at byte ${at}`);
    while (at < b.length && b[at] === 0xff) at++; // fill bytes
    if (at >= b.length) throw new ImageDecodeError('truncated', 'JPEG ends inside a marker');
    const marker = b[at++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length field
    if (marker === 0x00) throw corrupt(`JPEG marker expected at byte ${at - 2}`);
    if (marker === 0xd8) throw corrupt('JPEG has a second start-of-image marker');
    if (marker === 0xd9) {
      if (!frame || !scans) throw corrupt('JPEG ends (EOI) before any image data');
      checkJpegComplete(frame, sent, coefBits);
      return { frame, orientation, end: at };
    }
    if (at + 2 > b.length) throw new ImageDecodeError('truncated', 'JPEG ends inside a marker segment');
    const length = (b[at] << 8) | b[at + 1];
    if (length < 2) throw corrupt(`JPEG segment ${hex(marker)} has length ${length}`);
    if (at + length > b.length) throw new ImageDecodeError('truncated', `JPEG ends inside segment ${hex(marker)}`);
    const body = b.subarray(at + 2, at + length);
    if (JPEG_SOF_HUFFMAN.has(marker)) {
      if (frame) throw corrupt('JPEG has a second frame header (only single-frame files are supported)');
      frame = parseJpegFrame(body, marker === 0xc2, maxPixels);
      sent = frame.components.map(() => false);
      coefBits = new Int8Array(frame.components.length * 64).fill(-1);
    } else if (JPEG_SOF_OTHER.has(marker)) {
      throw new ImageDecodeError('unsupported-format', `JPEG coding process ${hex(marker)} (lossless, hierarchical or arithmetic-coded) is not supported`);
    } else if (marker === 0xdb) {
      for (let i = 0; i < body.length;) {
        const pq = body[i] >> 4, tq = body[i] & 15;
        if (pq > 1 || tq > 3) throw corrupt(`JPEG quantisation table header ${body[i]} is invalid`);
        i += 1 + 64 * (pq + 1);
        if (i > body.length) throw corrupt('JPEG quantisation table segment is too short');
        quantTables.add(tq);
      }
    } else if (marker === 0xc4) {
      for (let i = 0; i < body.length;) {
        const tc = body[i] >> 4, th = body[i] & 15;
        if (tc > 1 || th > 3) throw corrupt(`JPEG Huffman table header ${body[i]} is invalid`);
        if (i + 17 > body.length) throw corrupt('JPEG Huffman table segment is too short');
        let count = 0;
        for (let k = 1; k <= 16; k++) count += body[i + k];
        if (count === 0 || count > 256) throw corrupt(`JPEG Huffman table has ${count} codes`);
        i += 17 + count;
        if (i > body.length) throw corrupt('JPEG Huffman table segment is too short');
        (tc === 0 ? dcTables : acTables).add(th);
      }
    } else if (marker === 0xdd) {
      if (body.length !== 2) throw corrupt(`JPEG restart interval segment has length ${length}`);
      restartInterval = (body[0] << 8) | body[1];
    } else if (marker === 0xe1 && !sawExif && body.length >= 6 && body[0] === 0x45 && body[1] === 0x78 && body[2] === 0x69 && body[3] === 0x66 && body[4] === 0 && body[5] === 0) {
      sawExif = true;
      orientation = exifOrientation(body.subarray(6));
    } else if (marker === 0xda) {
      if (!frame) throw corrupt('JPEG scan before any frame header');
      const scan = parseJpegScan(body, frame, quantTables, dcTables, acTables, sent, coefBits);
      // jpeg-js walks every block once per scan: thousands of legal refinement scans would cost
      // minutes at the pixel limit; encoders write about 10 (libjpeg's progressive script: 10)
      if (++scans > MAX_JPEG_SCANS) throw new ImageDecodeError('too-large', `JPEG has more than ${MAX_JPEG_SCANS} scans: re-encode it (baseline, or a standard progressive script)`);
      at = skipJpegScanData(b, at + length, frame, scan, restartInterval);
      continue;
    } else if (!((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe || marker === 0xdc)) {
      // APPn, COM and DNL are skipped; anything else is a marker jpeg-js does not know either
      throw corrupt(`JPEG has unknown marker ${hex(marker)}`);
    }
    at += length;
  }
}

function parseJpegFrame(body: Uint8Array, progressive: boolean, maxPixels: number): JpegFrame {
  if (body.length < 6) throw corrupt('JPEG frame header is too short');
  const precision = body[0];
  const height = (body[1] << 8) | body[2];
  const width = (body[3] << 8) | body[4];
  const count = body[5];
  if (!width || !height) throw corrupt(`JPEG frame size ${width}x${height} is not supported`);
  checkSize('JPEG', width, height, maxPixels);
  if (precision !== 8) throw new ImageDecodeError('unsupported-format', `JPEG sample precision ${precision} bits is not supported (8 only)`);
  if (body.length !== 6 + 3 * count) throw corrupt(`JPEG frame header has ${body.length} bytes for ${count} components`);
  if (count !== 1 && count !== 3 && count !== 4) throw new ImageDecodeError('unsupported-format', `JPEG with ${count} colour components is not supported (1, 3 or 4)`);
  const components: JpegComponent[] = [];
  for (let i = 0; i < count; i++) {
    const id = body[6 + 3 * i], h = body[7 + 3 * i] >> 4, v = body[7 + 3 * i] & 15, tq = body[8 + 3 * i];
    if (h < 1 || h > 4 || v < 1 || v > 4) throw corrupt(`JPEG component ${id} has sampling factors ${h}x${v}`);
    if (tq > 3) throw corrupt(`JPEG component ${id} uses quantisation table ${tq}`);
    if (components.some((c) => c.id === id)) throw corrupt(`JPEG frame lists component ${id} twice`);
    components.push({ id, h, v, tq });
  }
  const maxH = Math.max(...components.map((c) => c.h)), maxV = Math.max(...components.map((c) => c.v));
  return { width, height, progressive, components, maxH, maxV, mcusX: Math.ceil(width / (8 * maxH)), mcusY: Math.ceil(height / (8 * maxV)) };
}

interface JpegScan { components: number[]; ss: number; codesDc: boolean }

function parseJpegScan(body: Uint8Array, frame: JpegFrame, quantTables: Set<number>, dcTables: Set<number>, acTables: Set<number>,
  sent: boolean[], coefBits: Int8Array): JpegScan {
  const count = body[0] ?? 0;
  if (count < 1 || count > 4 || body.length !== 4 + 2 * count) throw corrupt(`JPEG scan header is malformed (${count} components in ${body.length} bytes)`);
  const ss = body[1 + 2 * count], se = body[2 + 2 * count], ah = body[3 + 2 * count] >> 4, al = body[3 + 2 * count] & 15;
  const components: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = body[1 + 2 * i], td = body[2 + 2 * i] >> 4, ta = body[2 + 2 * i] & 15;
    const index = frame.components.findIndex((c) => c.id === id);
    if (index < 0) throw corrupt(`JPEG scan refers to component ${id}, which the frame does not have`);
    if (components.includes(index)) throw corrupt(`JPEG scan lists component ${id} twice`);
    components.push(index);
    const { tq } = frame.components[index];
    if (!quantTables.has(tq)) throw corrupt(`JPEG component ${id} uses quantisation table ${tq}, which is not defined before its scan`);
    if (ss === 0 && ah === 0 && !dcTables.has(td)) throw corrupt(`JPEG scan uses DC Huffman table ${td}, which is not defined`);
    if (se > 0 && !acTables.has(ta)) throw corrupt(`JPEG scan uses AC Huffman table ${ta}, which is not defined`);
  }
  if (count > 1 && components.reduce((n, i) => n + frame.components[i].h * frame.components[i].v, 0) > 10) {
    throw corrupt('JPEG scan interleaves more than 10 blocks per MCU');
  }
  if (!frame.progressive) {
    if (ss !== 0 || se !== 63 || ah !== 0 || al !== 0) throw corrupt(`JPEG sequential scan has spectral selection ${ss}..${se} / successive approximation ${ah},${al}`);
    for (const i of components) {
      if (sent[i]) throw corrupt(`JPEG sends component ${frame.components[i].id} in two scans`);
      sent[i] = true;
    }
    return { components, ss, codesDc: true };
  }
  if (ss > se || se > 63 || al > 13 || (ss === 0 && se !== 0) || (ss > 0 && count !== 1) || (ah !== 0 && al !== ah - 1)) {
    throw corrupt(`JPEG progressive scan has invalid parameters (spectral selection ${ss}..${se}, successive approximation ${ah},${al}, ${count} components)`);
  }
  for (const i of components) {
    const id = frame.components[i].id;
    if (ss > 0 && coefBits[i * 64] < 0) throw corrupt(`JPEG progressive scan sends AC coefficients of component ${id} before its DC`);
    for (let k = ss; k <= se; k++) {
      const bits = coefBits[i * 64 + k];
      if (ah === 0 ? bits !== -1 : bits !== ah) {
        throw corrupt(`JPEG progressive scan of component ${id}, coefficient ${k}: successive approximation ${ah}->${al} does not follow ${bits < 0 ? 'nothing' : `bit ${bits}`}`);
      }
      coefBits[i * 64 + k] = al;
    }
  }
  return { components, ss, codesDc: ss === 0 };
}

/** Every component sent (sequential), or every bit of every coefficient of every component (progressive). */
function checkJpegComplete(frame: JpegFrame, sent: boolean[], coefBits: Int8Array): void {
  frame.components.forEach((c, i) => {
    if (!frame.progressive) {
      if (!sent[i]) throw new ImageDecodeError('truncated', `JPEG has no scan for component ${c.id} (the file is truncated or incomplete)`);
      return;
    }
    for (let k = 0; k < 64; k++) {
      const bits = coefBits[i * 64 + k];
      if (bits !== 0) {
        throw new ImageDecodeError('truncated', `JPEG progressive scans stop before coefficient ${k} of component ${c.id} is complete (${bits < 0 ? 'never sent' : `down to bit ${bits}`}; the file is truncated or incomplete)`);
      }
    }
  });
}

/**
 * Skips a scan's entropy-coded data; returns the offset of the marker after it. Checks the
 * restart markers (RST0..7 in turn, exactly one per restart interval boundary: jpeg-js stops a
 * scan without complaint at any other marker met at a boundary) and that the data holds at least
 * one bit per block when the scan codes DC coefficients.
 */
function skipJpegScanData(b: Uint8Array, start: number, frame: JpegFrame, scan: JpegScan, restartInterval: number): number {
  let i = start, overhead = 0, restarts = 0;
  for (;;) {
    const ff = b.indexOf(0xff, i);
    if (ff < 0 || ff + 1 >= b.length) throw new ImageDecodeError('truncated', 'JPEG is truncated inside its scan data (no end-of-image marker after the image data)');
    const next = b[ff + 1];
    if (next === 0x00) { overhead++; i = ff + 2; continue; }
    if (next >= 0xd0 && next <= 0xd7) {
      if (next - 0xd0 !== restarts % 8) throw corrupt(`JPEG restart marker RST${next - 0xd0} out of sequence (expected RST${restarts % 8})`);
      restarts++; overhead += 2; i = ff + 2;
      continue;
    }
    i = ff;
    break;
  }
  const single = scan.components.length === 1 ? frame.components[scan.components[0]] : undefined;
  // units (MCUs, or blocks of a non-interleaved scan) as jpeg-js counts them, and blocks
  const blocksX = (c: JpegComponent) => Math.ceil(Math.ceil(frame.width * c.h / frame.maxH) / 8);
  const blocksY = (c: JpegComponent) => Math.ceil(Math.ceil(frame.height * c.v / frame.maxV) / 8);
  const units = single ? blocksX(single) * blocksY(single) : frame.mcusX * frame.mcusY;
  const blocks = single ? units : units * scan.components.reduce((n, k) => n + frame.components[k].h * frame.components[k].v, 0);
  if (restartInterval > 0) {
    const expected = Math.ceil(units / restartInterval) - 1;
    if (restarts !== expected) {
      throw new ImageDecodeError(restarts < expected ? 'truncated' : 'corrupt', `JPEG scan has ${restarts} restart markers, ${expected} expected for its ${units} units (interval ${restartInterval})`);
    }
  }
  const dataBits = (i - start - overhead) * 8;
  if (scan.codesDc && dataBits < blocks) {
    throw new ImageDecodeError('truncated', `JPEG scan data is too short for a ${frame.width}x${frame.height} image (${dataBits >> 3} bytes for ${blocks} blocks)`);
  }
  return i;
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

/** Channels per colour type, and the bit depths the PNG spec allows for it. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7 passes as [x0, y0, dx, dy]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

interface PngInfo {
  width: number; height: number; depth: number; colorType: number; interlace: boolean;
  palette?: Uint8Array; trns?: Uint8Array; idat: Uint8Array[]; orientation: number;
}

function decodePng(bytes: Uint8Array, maxPixels: number): DecodedImage {
  const info = scanPng(bytes, maxPixels);
  const { width, height, depth, colorType } = info;
  const bitsPerPixel = PNG_CHANNELS[colorType] * depth;
  // [x0, y0, dx, dy, width, height] of each non-empty pass, and the exact inflated size they need
  const passes = info.interlace
    ? ADAM7.map(([x0, y0, dx, dy]) => [x0, y0, dx, dy, Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy)]).filter((p) => p[4] > 0 && p[5] > 0)
    : [[0, 0, 1, 1, width, height]];
  const expected = passes.reduce((n, p) => n + p[5] * (1 + Math.ceil((p[4] * bitsPerPixel) / 8)), 0);
  const raw = inflatePng(info.idat, expected, width, height);
  const out = new Uint8Array(width * height * 4); // zero-filled; every pixel is written below
  const convert = rowConverter(info);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let pos = 0;
  for (const [x0, y0, dx, dy, pw, ph] of passes) {
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8), stride = rowBytes + 1;
    for (let r = 0; r < ph; r++, pos += stride) {
      const filter = raw[pos];
      if (filter > 4) throw corrupt(`PNG row ${r}${info.interlace ? ' of an Adam7 pass' : ''} uses unknown filter type ${filter}`);
      unfilterRow(raw, filter, pos + 1, r > 0 ? pos + 1 - stride : -1, rowBytes, bpp);
      convert(raw, pos + 1, pw, out, ((y0 + r * dy) * width + x0) * 4, dx * 4);
    }
  }
  return { data: out, width, height, orientation: info.orientation, format: 'png' };
}

/**
 * Inflates the concatenated IDAT data; the result must be one complete zlib stream (adler32
 * checked by zlib), nothing after it, and exactly `expected` bytes. zlib stops at the first
 * output chunk past `expected`, so a small file cannot make this allocate more than the header
 * implies.
 */
function inflatePng(idat: Uint8Array[], expected: number, width: number, height: number): Uint8Array {
  let z: Uint8Array;
  if (idat.length === 1) z = idat[0];
  else {
    z = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of idat) { z.set(c, at); at += c.length; }
  }
  let raw: Uint8Array, consumed: number;
  try {
    const result = inflateSync(z, { maxOutputLength: expected, chunkSize: Math.min(Math.max(expected, 1 << 14), 1 << 22), info: true }) as unknown as
      { buffer: Uint8Array; engine: { bytesWritten: number } };
    raw = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (e) {
    const { code, message } = e as { code?: string; message?: string };
    if (code === 'ERR_BUFFER_TOO_LARGE') throw corrupt(`PNG image data inflates to more than the ${expected} bytes a ${width}x${height} image needs`);
    if (code === 'Z_BUF_ERROR') throw new ImageDecodeError('truncated', `PNG image data ends early (zlib stream incomplete: ${message})`);
    throw corrupt(`PNG image data is not a valid zlib stream (${message ?? String(e)})`);
  }
  if (consumed !== z.length) throw corrupt(`PNG image data has ${z.length - consumed} bytes after the end of its zlib stream (trailing data)`);
  if (raw.length !== expected) throw corrupt(`PNG image data holds ${raw.length} bytes, ${expected} expected for ${width}x${height} (rows missing)`);
  return raw;
}

/** Undoes PNG filter `filter` (0..4) in place on d[s, s + n), the row before at p (-1: none). */
function unfilterRow(d: Uint8Array, filter: number, s: number, p: number, n: number, bpp: number): void {
  let i = 0;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (i = bpp; i < n; i++) d[s + i] += d[s + i - bpp];
      return;
    case 2:
      if (p >= 0) for (i = 0; i < n; i++) d[s + i] += d[p + i];
      return;
    case 3:
      if (p < 0) {
        for (i = bpp; i < n; i++) d[s + i] += d[s + i - bpp] >> 1;
      } else {
        for (i = 0; i < bpp; i++) d[s + i] += d[p + i] >> 1;
        for (; i < n; i++) d[s + i] += (d[s + i - bpp] + d[p + i]) >> 1;
      }
      return;
    default: // 4, Paeth
      if (p < 0) {
        for (i = bpp; i < n; i++) d[s + i] += d[s + i - bpp]; // predictor is the left byte when there is no row above
      } else {
        for (i = 0; i < bpp; i++) d[s + i] += d[p + i];
        for (; i < n; i++) {
          const a = d[s + i - bpp], b = d[p + i], c = d[p + i - bpp];
          let pa = b - c, pb = a - c, pc = pa + pb;
          if (pa < 0) pa = -pa;
          if (pb < 0) pb = -pb;
          if (pc < 0) pc = -pc;
          d[s + i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
      }
  }
}

type RowConverter = (src: Uint8Array, s: number, n: number, out: Uint8Array, o: number, step: number) => void;

/**
 * Unfiltered row (n pixels from src[s]) -> RGBA at out[o], out[o + step], ... Samples are scaled
 * to 8 bits as round(v * 255 / (2^depth - 1)); tRNS makes matching pixels transparent (their
 * colour is kept); palette indices beyond PLTE are an error.
 */
function rowConverter(info: PngInfo): RowConverter {
  const { depth, colorType, trns } = info;
  const word = (i: number) => (trns![i] << 8) | trns![i + 1];
  if (colorType === 3) {
    const entries = info.palette!.length / 3;
    const table = new Uint8Array(entries * 4);
    for (let k = 0; k < entries; k++) {
      table.set(info.palette!.subarray(k * 3, k * 3 + 3), k * 4);
      table[k * 4 + 3] = trns && k < trns.length ? trns[k] : 255;
    }
    const mask = (1 << depth) - 1;
    return (src, s, n, out, o, step) => {
      for (let x = 0; x < n; x++, o += step) {
        const index = depth === 8 ? src[s + x] : (src[s + ((x * depth) >> 3)] >> (8 - depth - ((x * depth) & 7))) & mask;
        if (index >= entries) throw corrupt(`PNG pixel uses palette index ${index}, the palette (PLTE) has ${entries} entries`);
        const t = index * 4;
        out[o] = table[t]; out[o + 1] = table[t + 1]; out[o + 2] = table[t + 2]; out[o + 3] = table[t + 3];
      }
    };
  }
  if (depth < 8) { // greyscale 1, 2, 4 bits
    const mask = (1 << depth) - 1, scale = 255 / mask, key = trns ? word(0) : -1;
    return (src, s, n, out, o, step) => {
      for (let x = 0; x < n; x++, o += step) {
        const v = (src[s + ((x * depth) >> 3)] >> (8 - depth - ((x * depth) & 7))) & mask;
        out[o] = out[o + 1] = out[o + 2] = v * scale;
        out[o + 3] = v === key ? 0 : 255;
      }
    };
  }
  if (depth === 8) {
    switch (colorType) {
      case 0: {
        const key = trns ? word(0) : -1;
        return (src, s, n, out, o, step) => {
          for (let x = 0; x < n; x++, o += step) {
            const v = src[s + x];
            out[o] = out[o + 1] = out[o + 2] = v;
            out[o + 3] = v === key ? 0 : 255;
          }
        };
      }
      case 2: {
        const [kr, kg, kb] = trns ? [word(0), word(2), word(4)] : [-1, -1, -1];
        return (src, s, n, out, o, step) => {
          for (let x = 0; x < n; x++, o += step, s += 3) {
            const r = src[s], g = src[s + 1], b = src[s + 2];
            out[o] = r; out[o + 1] = g; out[o + 2] = b;
            out[o + 3] = r === kr && g === kg && b === kb ? 0 : 255;
          }
        };
      }
      case 4:
        return (src, s, n, out, o, step) => {
          for (let x = 0; x < n; x++, o += step, s += 2) {
            out[o] = out[o + 1] = out[o + 2] = src[s];
            out[o + 3] = src[s + 1];
          }
        };
      default: // 6
        return (src, s, n, out, o, step) => {
          if (step === 4) { out.set(src.subarray(s, s + n * 4), o); return; }
          for (let x = 0; x < n; x++, o += step, s += 4) {
            out[o] = src[s]; out[o + 1] = src[s + 1]; out[o + 2] = src[s + 2]; out[o + 3] = src[s + 3];
          }
        };
    }
  }
  // 16 bits per sample: transparency compares the full sample, then 8 bits as round(v / 257)
  const channels = PNG_CHANNELS[colorType];
  const keys = trns ? (colorType === 0 ? [word(0)] : [word(0), word(2), word(4)]) : undefined;
  const scale16 = (v: number) => Math.floor((v * 255) / 65535 + 0.5);
  return (src, s, n, out, o, step) => {
    for (let x = 0; x < n; x++, o += step, s += channels * 2) {
      const v0 = (src[s] << 8) | src[s + 1];
      if (channels <= 2) {
        out[o] = out[o + 1] = out[o + 2] = scale16(v0);
        out[o + 3] = channels === 2 ? scale16((src[s + 2] << 8) | src[s + 3]) : keys && v0 === keys[0] ? 0 : 255;
      } else {
        const v1 = (src[s + 2] << 8) | src[s + 3], v2 = (src[s + 4] << 8) | src[s + 5];
        out[o] = scale16(v0); out[o + 1] = scale16(v1); out[o + 2] = scale16(v2);
        out[o + 3] = channels === 4 ? scale16((src[s + 6] << 8) | src[s + 7]) : keys && v0 === keys[0] && v1 === keys[1] && v2 === keys[2] ? 0 : 255;
      }
    }
  };
}

/**
 * Walks the chunks up to IEND (bytes after it are ignored, as some writers leave them): CRC of
 * every chunk; IHDR first, once, 13 bytes, with a legal colour type / bit depth and method bytes,
 * and within the size limits (checked at once, before anything else is read); PLTE at most once,
 * before IDAT, 1..256 entries, absent in greyscale, present for palette images; tRNS at most once,
 * before IDAT, after PLTE, of the length its colour type needs, absent with an alpha channel;
 * IDAT chunks consecutive; IEND empty; unknown critical chunks refused. Orientation from the first eXIf.
 */
function scanPng(b: Uint8Array, maxPixels: number): PngInfo {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 8, orientation = 1, sawExif = false, idatState = 0; // 0 none yet, 1 in the IDAT run, 2 after it
  let header: { width: number; height: number; depth: number; colorType: number; interlace: boolean } | undefined;
  let palette: Uint8Array | undefined, trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (at + 8 > b.length) throw new ImageDecodeError('truncated', 'PNG is truncated (no IEND chunk)');
    const length = view.getUint32(at);
    const typeBytes = b.subarray(at + 4, at + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!typeBytes.every((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) throw corrupt(`PNG chunk type at byte ${at + 4} is not four letters`);
    if (length > 0x7fffffff) throw corrupt(`PNG chunk ${type} has length ${length}`);
    const end = at + 12 + length;
    if (end > b.length) throw new ImageDecodeError('truncated', `PNG is truncated (inside chunk ${type})`);
    if (at === 8 && type !== 'IHDR') throw corrupt('PNG does not start with IHDR');
    if (crc32(b, at + 4, end - 4) !== view.getUint32(end - 4)) throw corrupt(`PNG chunk ${type} fails its CRC check`);
    const body = b.subarray(at + 8, at + 8 + length);
    if (idatState === 1 && type !== 'IDAT') idatState = 2;
    const colorType = header?.colorType ?? -1;
    switch (type) {
      case 'IHDR': {
        if (header) throw corrupt('PNG has a second IHDR chunk');
        if (length !== 13) throw corrupt(`PNG IHDR has ${length} bytes, not 13`);
        header = parsePngHeader(body, maxPixels);
        break;
      }
      case 'PLTE':
        if (palette) throw corrupt('PNG has two PLTE chunks');
        if (idatState) throw corrupt('PNG PLTE chunk comes after the image data');
        if (colorType === 0 || colorType === 4) throw corrupt('PNG greyscale image has a PLTE chunk');
        if (length === 0 || length % 3 || length > 3 * 256) throw corrupt(`PNG PLTE chunk has ${length} bytes (must be 3 x 1..256)`);
        palette = body;
        break;
      case 'tRNS':
        if (trns) throw corrupt('PNG has two tRNS chunks');
        if (idatState) throw corrupt('PNG tRNS chunk comes after the image data');
        if (colorType === 4 || colorType === 6) throw corrupt('PNG image with an alpha channel has a tRNS chunk');
        if (colorType === 0 && length !== 2) throw corrupt(`PNG greyscale tRNS chunk has ${length} bytes, not 2`);
        if (colorType === 2 && length !== 6) throw corrupt(`PNG RGB tRNS chunk has ${length} bytes, not 6`);
        if (colorType === 3) {
          if (!palette) throw corrupt('PNG tRNS chunk comes before PLTE');
          if (length > palette.length / 3) throw corrupt(`PNG tRNS chunk has ${length} entries, the palette ${palette.length / 3}`);
        }
        trns = body;
        break;
      case 'IDAT':
        if (idatState === 2) throw corrupt('PNG IDAT chunks are not consecutive');
        idatState = 1;
        idat.push(body);
        break;
      case 'IEND':
        if (length !== 0) throw corrupt(`PNG IEND chunk has ${length} bytes of data`);
        if (!idat.length) throw corrupt('PNG has no image data (IDAT)');
        if (colorType === 3 && !palette) throw corrupt('PNG palette image has no PLTE chunk');
        return { ...header!, palette: colorType === 3 ? palette : undefined, trns, idat, orientation };
      case 'eXIf':
        if (!sawExif) orientation = exifOrientation(body);
        sawExif = true;
        break;
      default:
        if (!(typeBytes[0] & 0x20)) throw new ImageDecodeError('unsupported-format', `PNG has critical chunk ${type}, which this decoder does not know`);
    }
    at = end;
  }
}

function parsePngHeader(d: Uint8Array, maxPixels: number): { width: number; height: number; depth: number; colorType: number; interlace: boolean } {
  const width = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
  const height = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
  const [depth, colorType, compression, filter, interlace] = d.subarray(8, 13);
  if (!width || !height || width > 0x7fffffff || height > 0x7fffffff) throw corrupt(`PNG size ${width}x${height} is invalid`);
  checkSize('PNG', width, height, maxPixels);
  if (!(colorType in PNG_DEPTHS)) throw corrupt(`PNG colour type ${colorType} does not exist (0, 2, 3, 4 or 6)`);
  if (!PNG_DEPTHS[colorType].includes(depth)) throw corrupt(`PNG colour type ${colorType} cannot have bit depth ${depth} (only ${PNG_DEPTHS[colorType].join(', ')})`);
  if (compression !== 0) throw corrupt(`PNG compression method ${compression} does not exist (0)`);
  if (filter !== 0) throw corrupt(`PNG filter method ${filter} does not exist (0)`);
  if (interlace > 1) throw corrupt(`PNG interlace method ${interlace} does not exist (0 or 1)`);
  return { width, height, depth, colorType, interlace: interlace === 1 };
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
