// js/node/decode.ts: EXIF orientation (all 8, checked against the EXIF 2.3 table of where the
// stored 0th row and 0th column go), greyscale and palette PNGs, and typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, ImageDecodeError, type ImageDecodeReason } from '../../js/node/decode.js';
import { WasmfaceError } from '../../js/errors.js';
import { sharedPath } from '../../tools/convert/models.js';
import { SKIP_NO_SHARED } from './helpers.js';

type Rgb = [number, number, number];
const RED: Rgb = [255, 0, 0], GREEN: Rgb = [0, 255, 0], BLUE: Rgb = [0, 0, 255], WHITE: Rgb = [255, 255, 255];

/** 32x16 picture whose quadrants are red (top-left), green (top-right), blue (bottom-left), white. */
function quadrantJpeg(): Uint8Array {
  const w = 32, h = 16;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = y < h / 2 ? (x < w / 2 ? RED : GREEN) : (x < w / 2 ? BLUE : WHITE);
    data.set([...c, 255], (y * w + x) * 4);
  }
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 95).data);
}

/** APP1 Exif segment holding only IFD0 with the orientation tag. */
function exifSegment(orientation: number, bigEndian = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const v = new DataView(tiff.buffer);
  const le = !bigEndian;
  tiff.set(bigEndian ? [0x4d, 0x4d] : [0x49, 0x49]);
  v.setUint16(2, 42, le);
  v.setUint32(4, 8, le);
  v.setUint16(8, 1, le);
  v.setUint16(10, 0x0112, le); // Orientation
  v.setUint16(12, 3, le); // SHORT
  v.setUint32(14, 1, le);
  v.setUint16(18, orientation, le);
  const body = [...'Exif\0\0'].map((c) => c.charCodeAt(0)).concat(...tiff);
  const len = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, len >> 8, len & 0xff, ...body]);
}

function withExif(jpg: Uint8Array, segment: Uint8Array): Uint8Array {
  const out = new Uint8Array(jpg.length + segment.length);
  out.set(jpg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpg.subarray(2), 2 + segment.length);
  return out;
}

function nearest(data: Uint8Array, width: number, x: number, y: number): Rgb {
  const p = (y * width + x) * 4;
  const px = [data[p], data[p + 1], data[p + 2]];
  const dist = (c: Rgb) => c.reduce((s, v, i) => s + (v - px[i]) ** 2, 0);
  return [RED, GREEN, BLUE, WHITE].reduce((best, c) => (dist(c) < dist(best) ? c : best));
}

// EXIF 2.3 Orientation: the visual side where the stored 0th row lies, then the stored 0th column.
const SIDES: Record<number, [string, string]> = {
  1: ['top', 'left'], 2: ['top', 'right'], 3: ['bottom', 'right'], 4: ['bottom', 'left'],
  5: ['left', 'top'], 6: ['right', 'top'], 7: ['right', 'bottom'], 8: ['left', 'bottom'],
};
const OPPOSITE: Record<string, string> = { top: 'bottom', bottom: 'top', left: 'right', right: 'left' };

/** Displayed corner ("top-left", ...) of the stored corner at (lastRow?, lastColumn?). */
function displayedCorner(orientation: number, lastRow: boolean, lastColumn: boolean): string {
  const [rowSide, colSide] = SIDES[orientation];
  const sides = [lastRow ? OPPOSITE[rowSide] : rowSide, lastColumn ? OPPOSITE[colSide] : colSide];
  const vertical = sides.find((s) => s === 'top' || s === 'bottom')!;
  const horizontal = sides.find((s) => s === 'left' || s === 'right')!;
  return `${vertical}-${horizontal}`;
}

test('JPEG EXIF orientations 1-8 come out upright', () => {
  const base = quadrantJpeg();
  const plain = decodeImage(base);
  assert.deepEqual([plain.width, plain.height, plain.orientation], [32, 16, 1]);
  for (let o = 1; o <= 8; o++) {
    for (const bigEndian of [false, true]) {
      const img = decodeImage(withExif(base, exifSegment(o, bigEndian)));
      assert.equal(img.orientation, o);
      assert.deepEqual([img.width, img.height], o >= 5 ? [16, 32] : [32, 16], `orientation ${o} size`);
      const at = (corner: string) => {
        const [v, h] = corner.split('-');
        return nearest(img.data, img.width, h === 'left' ? img.width / 4 : (3 * img.width) / 4, v === 'top' ? img.height / 4 : (3 * img.height) / 4);
      };
      assert.deepEqual(at(displayedCorner(o, false, false)), RED, `orientation ${o}: stored top-left`);
      assert.deepEqual(at(displayedCorner(o, false, true)), GREEN, `orientation ${o}: stored top-right`);
      assert.deepEqual(at(displayedCorner(o, true, false)), BLUE, `orientation ${o}: stored bottom-left`);
      assert.deepEqual(at(displayedCorner(o, true, true)), WHITE, `orientation ${o}: stored bottom-right`);
    }
    const raw = decodeImage(withExif(base, exifSegment(o)), { applyOrientation: false });
    assert.deepEqual([raw.width, raw.height, raw.orientation], [32, 16, o]);
  }
});

test('JPEG with a damaged or out-of-range EXIF block decodes unrotated', () => {
  const base = quadrantJpeg();
  const bad = exifSegment(6);
  new DataView(bad.buffer).setUint32(4 + 6 + 4, 0xfffff, true); // IFD0 offset beyond the block
  assert.equal(decodeImage(withExif(base, bad)).orientation, 1);
  assert.equal(decodeImage(withExif(base, exifSegment(9))).orientation, 1);
});

test('the upstream liveness samples (EXIF orientation 6) decode to 480x640 portraits', { skip: SKIP_NO_SHARED }, () => {
  const bytes = readFileSync(sharedPath('faces/spoof/silent-face-anti-spoofing/image_F1.jpg'));
  const stored = decodeImage(bytes, { applyOrientation: false });
  const upright = decodeImage(bytes);
  assert.deepEqual([stored.width, stored.height, stored.orientation], [640, 480, 6]);
  assert.deepEqual([upright.width, upright.height], [480, 640]);
  // rotated 90 degrees clockwise: the stored bottom-left pixel is now top-left
  const px = (img: typeof stored, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
  assert.deepEqual(px(upright, 0, 0), px(stored, 0, 479));
  assert.deepEqual(px(upright, 479, 0), px(stored, 0, 0));
  assert.deepEqual(px(upright, 100, 300), px(stored, 300, 479 - 100));
});

test('greyscale PNGs expand to RGBA', { skip: SKIP_NO_SHARED }, () => {
  const img = decodeImage(readFileSync(sharedPath('faces/face-api.js/amy/amy1.png')));
  assert.deepEqual([img.width, img.height, img.format], [150, 150, 'png']);
  let distinct = 0;
  for (let p = 0; p < 150 * 150; p++) {
    const [r, g, b, a] = img.data.subarray(p * 4, p * 4 + 4);
    assert.ok(r === g && g === b && a === 255, `pixel ${p} is not opaque grey`);
    if (r !== img.data[0]) distinct++;
  }
  assert.ok(distinct > 1000, 'the picture is not flat');
});

test('8-bit greyscale PNG written by pngjs', () => {
  const grey = Uint8Array.from({ length: 6 * 3 }, (_, i) => i * 14);
  const file = PNG.sync.write({ width: 6, height: 3, data: grey }, { colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  const img = decodeImage(file);
  assert.deepEqual([img.width, img.height], [6, 3]);
  for (let i = 0; i < 18; i++) assert.deepEqual(Array.from(img.data.subarray(i * 4, i * 4 + 4)), [i * 14, i * 14, i * 14, 255]);
});

// minimal PNG writer for what pngjs cannot write (palette, eXIf)
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  let crc = 0xffffffff;
  for (const b of out.subarray(4, 8 + data.length)) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  v.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}
function png(chunks: Uint8Array[]): Uint8Array {
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function ihdr(w: number, h: number, depth: number, colorType: number): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, w); v.setUint32(4, h);
  d.set([depth, colorType, 0, 0, 0], 8);
  return chunk('IHDR', d);
}

test('4-bit palette PNG with transparency expands to RGBA', () => {
  const palette = [[10, 20, 30], [200, 100, 0], [0, 0, 0], [255, 255, 255]];
  // 4x2, filter byte 0 then two 4-bit indices per byte
  const rows = [[0, 1, 2, 3], [3, 2, 1, 0]];
  const raw = Uint8Array.from(rows.flatMap((r) => [0, (r[0] << 4) | r[1], (r[2] << 4) | r[3]]));
  const file = png([ihdr(4, 2, 4, 3), chunk('PLTE', Uint8Array.from(palette.flat())), chunk('tRNS', Uint8Array.from([255, 128])),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
  const img = decodeImage(file);
  assert.deepEqual([img.width, img.height], [4, 2]);
  const alpha = [255, 128, 255, 255];
  rows.flat().forEach((index, p) => assert.deepEqual(Array.from(img.data.subarray(p * 4, p * 4 + 4)), [...palette[index], alpha[index]], `pixel ${p}`));
});

test('PNG eXIf orientation is applied; trailing bytes after IEND are tolerated', () => {
  const rgb = Uint8Array.from([0, 255, 0, 0, 0, 0, 255]); // 2x1 RGB: filter byte, red, blue
  const tiff = exifSegment(8).subarray(4 + 6);
  const file = png([ihdr(2, 1, 8, 2), chunk('eXIf', tiff), chunk('IDAT', deflateSync(rgb)), chunk('IEND', new Uint8Array(0))]);
  const img = decodeImage(Uint8Array.from([...file, 0, 0, 0]));
  // 2 wide, 1 high, rotated 90 degrees counter-clockwise: the right pixel (blue) goes on top, red below
  assert.deepEqual([img.width, img.height, img.orientation], [1, 2, 8]);
  assert.deepEqual(Array.from(img.data), [0, 0, 255, 255, 255, 0, 0, 255]);
});

function assertDecodeError(bytes: Uint8Array, reason: ImageDecodeReason, pattern?: RegExp, options?: Parameters<typeof decodeImage>[1]) {
  assert.throws(() => decodeImage(bytes, options), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, `not an ImageDecodeError: ${e}`);
    assert.ok(e instanceof WasmfaceError);
    assert.equal(e.code, 'E_IMAGE_DECODE');
    assert.equal(e.reason, reason, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('truncated, empty, foreign and oversized files throw ImageDecodeError', () => {
  const jpg = quadrantJpeg();
  assertDecodeError(new Uint8Array(0), 'empty');
  assertDecodeError(jpg.subarray(0, 2), 'truncated');
  assertDecodeError(jpg.subarray(0, 40), 'truncated');
  assertDecodeError(jpg.subarray(0, jpg.length - 2), 'truncated', /end-of-image/);
  assertDecodeError(jpg.subarray(0, jpg.length >> 1), 'truncated');
  const grey = PNG.sync.write({ width: 8, height: 8, data: new Uint8Array(64) }, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
  assertDecodeError(grey.subarray(0, grey.length - 6), 'truncated');
  assertDecodeError(grey.subarray(0, 30), 'truncated');
  assertDecodeError(Uint8Array.from([...'RIFF\0\0\0\0WEBPVP8 '].map((c) => c.charCodeAt(0))), 'unsupported-format', /WebP/);
  assertDecodeError(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'unsupported-format');
  assertDecodeError(jpg, 'too-large', /pixel limit/, { maxPixels: 100 });
  const lossless = new Uint8Array(jpg);
  const sof = lossless.findIndex((b, i) => b === 0xff && lossless[i + 1] === 0xc0);
  lossless[sof + 1] = 0xc3;
  assertDecodeError(lossless, 'unsupported-format', /lossless/);
  const corruptPng = new Uint8Array(grey);
  corruptPng[grey.length - 20] ^= 0xff; // inside IDAT
  assertDecodeError(corruptPng, 'corrupt', /CRC/);
});

test('a real truncated JPEG and a WebP named .jpg in ../shared/faces', { skip: SKIP_NO_SHARED }, () => {
  const bytes = readFileSync(sharedPath('faces/spoof/silent-face-anti-spoofing/image_T1.jpg'));
  assertDecodeError(bytes.subarray(0, Math.floor(bytes.length * 0.7)), 'truncated');
  assertDecodeError(readFileSync(sharedPath('faces/deepface/p03/img47.jpg')), 'unsupported-format', /WebP/);
});
