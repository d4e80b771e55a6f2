// js/node/decode.ts against hostile and damaged files: PNG decoded by our own inflate/unfilter path
// (checked against pngjs and against the samples the test wrote, for every colour type, bit depth,
// filter and Adam7), incomplete zlib streams, illegal headers and chunk orders, size bombs, JPEG
// scans missing or cut, and seeded property/fuzz loops (prefixes, corruption, random bytes).
// Fixtures are generated here: a small PNG writer and a DC-only JPEG writer (baseline,
// one-scan-per-component and progressive), plus jpeg-js's encoder.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { mulberry32 } from '../../tools/rng.js';
import { PNG } from 'pngjs';
import { decodeImage, ImageDecodeError, MAX_DECODE_PIXELS, MAX_DECODE_SIDE, MAX_JPEG_SCANS, type DecodeOptions, type ImageDecodeReason } from '../../js/node/decode.js';
import { OptionError } from '../../js/errors.js';
import { MAX_IMAGE_SIDE } from '../../js/image.js';

// ---------------------------------------------------------------------------------------------
// Every test body runs in a worker thread, under a deadline. node:test's `timeout` cannot
// interrupt synchronous code (it needs the event loop), so a decoder stuck in a loop would spin
// forever and then be reported as passing; a worker can be terminated mid-loop. The worker loads
// this same file (through tsx's API: tsx's --import hooks do not reach worker threads on Node 20),
// which registers the bodies, and runs the ones it is sent; one worker serves every test until a
// deadline passes.

const bodies = new Map<string, () => void>();

function test(name: string, deadlineMs: number, body: () => void): void {
  bodies.set(name, body);
  if (isMainThread) nodeTest(name, { timeout: deadlineMs + 10_000 }, () => inWorker(name, deadlineMs));
}

if (!isMainThread) {
  parentPort!.on('message', (name: string) => {
    let error: { message: string; stack?: string } | undefined;
    try {
      bodies.get(name)!();
    } catch (e) {
      error = e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) };
    }
    parentPort!.postMessage({ name, error });
  });
}

let worker: Worker | undefined;

function inWorker(name: string, deadlineMs: number): Promise<void> {
  if (!worker) {
    const self = JSON.stringify(import.meta.url);
    worker = new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${self}, ${self}))`, { eval: true });
    worker.unref(); // a running test's timer keeps the process alive; after the last one it exits
  }
  const w = worker;
  return new Promise((resolve, reject) => {
    const finish = (error?: Error, broken = false) => {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (broken) {
        if (worker === w) worker = undefined;
        void w.terminate();
      }
      if (error) reject(error); else resolve();
    };
    const onMessage = (m: { name: string; error?: { message: string; stack?: string } }) => {
      if (m.name !== name) return;
      finish(m.error && Object.assign(new Error(m.error.message), { stack: m.error.stack }));
    };
    const onError = (e: Error) => finish(e, true);
    const onExit = (code: number) => finish(new Error(`test worker exited with code ${code}`), true);
    const timer = setTimeout(() => finish(new Error(`no result after ${deadlineMs} ms: decodeImage or a generator of this test does not terminate`), true), deadlineMs);
    w.on('message', onMessage).on('error', onError).on('exit', onExit);
    w.postMessage(name);
  });
}

// ---------------------------------------------------------------------------------------------
// helpers

const rng = mulberry32;
const randInt = (r: () => number, n: number) => Math.floor(r() * n);

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function decodeError(bytes: Uint8Array, options?: DecodeOptions): ImageDecodeError | undefined {
  try {
    decodeImage(bytes, options);
    return undefined;
  } catch (e) {
    if (e instanceof ImageDecodeError) return e;
    throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of an ImageDecodeError`);
  }
}

function assertRefused(bytes: Uint8Array, reasons: ImageDecodeReason | ImageDecodeReason[], what: string, pattern?: RegExp, options?: DecodeOptions) {
  const e = decodeError(bytes, options);
  assert.ok(e, `${what}: decoded without an error`);
  const allowed = Array.isArray(reasons) ? reasons : [reasons];
  assert.ok(allowed.includes(e.reason), `${what}: reason ${e.reason} (${e.message}), expected ${allowed.join(' or ')}`);
  assert.equal(e.code, 'E_IMAGE_DECODE');
  if (pattern) assert.match(e.message, pattern, what);
}

// ---------------------------------------------------------------------------------------------
// PNG writer: any colour type / depth (legal or not), every filter, Adam7, arbitrary chunks

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let crc = 0xffffffff;
  for (const v of b) crc = CRC_TABLE[(crc ^ v) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: ArrayLike<number> = []): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const pngFile = (...chunks: Uint8Array[]) => concat(PNG_SIGNATURE, ...chunks);
function ihdrChunk(w: number, h: number, depth: number, colorType: number, interlace = 0, compression = 0, filter = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, w); v.setUint32(4, h);
  d.set([depth, colorType, compression, filter, interlace], 8);
  return chunk('IHDR', d);
}
const IEND = chunk('IEND');

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const LEGAL_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** Passes as [x0, y0, dx, dy, passWidth, passHeight], empty passes left out. */
function passes(w: number, h: number, interlace: boolean): number[][] {
  if (!interlace) return [[0, 0, 1, 1, w, h]];
  return ADAM7.map(([x0, y0, dx, dy]) => [x0, y0, dx, dy, Math.ceil(Math.max(0, w - x0) / dx), Math.ceil(Math.max(0, h - y0) / dy)])
    .filter((p) => p[4] > 0 && p[5] > 0);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * The filtered scanlines (before zlib) of an image whose samples are sample(x, y, channel); row r
 * of each pass uses filter filterOf(r) (0..4).
 */
function scanlines(w: number, h: number, colorType: number, depth: number, interlace: boolean,
  sample: (x: number, y: number, c: number) => number, filterOf: (row: number) => number = (r) => r % 5): Uint8Array {
  const channels = CHANNELS[colorType] ?? 1;
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, Math.ceil(bitsPerPixel / 8));
  const out: number[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy, pw, ph] of passes(w, h, interlace)) {
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
    let prior = new Uint8Array(rowBytes);
    for (let r = 0; r < ph; r++) {
      const line = new Uint8Array(rowBytes);
      let bit = 0;
      for (let i = 0; i < pw; i++) for (let c = 0; c < channels; c++) {
        const v = sample(x0 + i * dx, y0 + r * dy, c);
        if (depth === 16) { line[bit >> 3] = v >> 8; line[(bit >> 3) + 1] = v & 0xff; } else if (depth === 8) line[bit >> 3] = v;
        else line[bit >> 3] |= v << (8 - depth - (bit & 7));
        bit += depth;
      }
      const f = filterOf(rowIndex++);
      out.push(f);
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? line[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
        const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
        out.push((line[i] - pred) & 0xff);
      }
      prior = line;
    }
  }
  return Uint8Array.from(out);
}

interface PngSpec {
  width: number; height: number; colorType: number; depth: number; interlace?: boolean;
  sample: (x: number, y: number, c: number) => number;
  palette?: number[][]; trns?: number[]; filterOf?: (row: number) => number;
  /** How many IDAT chunks the zlib stream is split over (default 3). */
  idatParts?: number;
}
function encodePng(s: PngSpec): Uint8Array {
  const raw = scanlines(s.width, s.height, s.colorType, s.depth, !!s.interlace, s.sample, s.filterOf);
  return pngFile(
    ihdrChunk(s.width, s.height, s.depth, s.colorType, s.interlace ? 1 : 0),
    ...(s.palette ? [chunk('PLTE', s.palette.flat())] : []),
    ...(s.trns ? [chunk('tRNS', s.trns)] : []),
    // split the zlib stream over several IDAT chunks, as real writers do
    ...splitIdat(deflateSync(raw), s.idatParts),
    IEND);
}
function splitIdat(z: Uint8Array, parts = 3): Uint8Array[] {
  const step = Math.max(1, Math.ceil(z.length / parts));
  const out: Uint8Array[] = [];
  for (let at = 0; at < z.length; at += step) out.push(chunk('IDAT', z.subarray(at, at + step)));
  return out;
}

/** A PNG spec with deterministic pseudo-random samples (few distinct values, so tRNS matches some). */
function randomPngSpec(seed: number, width: number, height: number, colorType: number, depth: number, interlace: boolean, withTrns: boolean): PngSpec {
  const r = rng(seed);
  const max = (1 << depth) - 1;
  const paletteSize = colorType === 3 ? Math.min(1 << depth, 1 + randInt(r, 256)) : 0;
  const levels = [0, max, randInt(r, max + 1), randInt(r, max + 1)];
  const values = new Map<string, number>();
  const sample = (x: number, y: number, c: number) => {
    const key = `${x},${y},${c}`;
    if (!values.has(key)) {
      const v = colorType === 3 ? randInt(r, paletteSize) : r() < 0.5 ? levels[randInt(r, levels.length)] : randInt(r, max + 1);
      values.set(key, v);
    }
    return values.get(key)!;
  };
  const spec: PngSpec = { width, height, colorType, depth, interlace, sample };
  if (colorType === 3) spec.palette = Array.from({ length: paletteSize }, () => [randInt(r, 256), randInt(r, 256), randInt(r, 256)]);
  if (withTrns) {
    const word = (v: number) => [v >> 8, v & 0xff];
    if (colorType === 0) spec.trns = word(levels[2]);
    if (colorType === 2) spec.trns = [...word(levels[2]), ...word(levels[2]), ...word(levels[2])];
    if (colorType === 3) spec.trns = Array.from({ length: randInt(r, paletteSize + 1) }, () => randInt(r, 256));
  }
  return spec;
}

/** RGBA the test expects, computed from the samples it wrote (PNG spec, 8-bit output rounded). */
function expectedRgba(s: PngSpec): Uint8Array {
  const out = new Uint8Array(s.width * s.height * 4);
  const max = (1 << s.depth) - 1;
  const scale = (v: number) => Math.floor((v * 255) / max + 0.5);
  const trns = s.trns && (s.colorType === 0 ? [(s.trns[0] << 8) | s.trns[1]] : s.colorType === 2 ? [0, 2, 4].map((i) => (s.trns![i] << 8) | s.trns![i + 1]) : undefined);
  for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) {
    const v = Array.from({ length: CHANNELS[s.colorType] }, (_, c) => s.sample(x, y, c));
    let px: number[];
    if (s.colorType === 3) px = [...s.palette![v[0]], s.trns?.[v[0]] ?? 255];
    else if (s.colorType === 0) px = [scale(v[0]), scale(v[0]), scale(v[0]), trns && trns[0] === v[0] ? 0 : 255];
    else if (s.colorType === 2) px = [...v.map(scale), trns && trns.every((t, i) => t === v[i]) ? 0 : 255];
    else if (s.colorType === 4) px = [scale(v[0]), scale(v[0]), scale(v[0]), scale(v[1])];
    else px = v.map(scale);
    out.set(px, (y * s.width + x) * 4);
  }
  return out;
}

/**
 * pngjs's RGBA for a file. pngjs turns a colour-keyed (tRNS) pixel into 0,0,0,0 where the PNG spec
 * (and decodeImage) keep its colour with alpha 0: given `ours`, such pixels must be 0,0,0,0 in
 * pngjs's output and take our colour for the comparison.
 */
function pngjsRgba(file: Uint8Array, ours?: Uint8Array): Uint8Array {
  const ref = Uint8Array.from(PNG.sync.read(Buffer.from(file)).data);
  if (ours) for (let p = 0; p < ref.length; p += 4) {
    if (ours[p + 3] !== 0) continue;
    assert.deepEqual(Array.from(ref.subarray(p, p + 4)), [0, 0, 0, 0], `pngjs pixel ${p >> 2} of a colour-keyed transparent pixel`);
    ref.set(ours.subarray(p, p + 4), p);
  }
  return ref;
}

function firstMismatch(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  const i = a.findIndex((v, k) => v !== b[k]);
  return i < 0 ? 'none' : `byte ${i} (pixel ${i >> 2}, channel ${i & 3}): ${a[i]} vs ${b[i]}`;
}

/** A PNG with these IHDR fields and the given (unchecked) scanline bytes. */
function pngWithRaw(w: number, h: number, depth: number, colorType: number, raw: Uint8Array, extra: { before?: Uint8Array[]; interlace?: number } = {}): Uint8Array {
  return pngFile(ihdrChunk(w, h, depth, colorType, extra.interlace ?? 0), ...(extra.before ?? []), chunk('IDAT', deflateSync(raw)), IEND);
}

// ---------------------------------------------------------------------------------------------
// JPEG writer: flat 8x8 blocks, DC coefficients only, quantiser 8 (so a block of value v decodes to v)

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], AC_VALUES = [0x00]; // only EOB (EOBRUN 1 when progressive)

function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) codes.set(values[k++], [code++, len]);
    code <<= 1;
  }
  return codes;
}
const DC_CODES = huffmanCodes(DC_BITS, DC_VALUES), AC_CODES = huffmanCodes(AC_BITS, AC_VALUES);

class BitWriter {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, length: number) {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte() {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0; this.n = 0;
  }
  finish(): number[] {
    while (this.n) this.put(1, 1);
    return this.bytes;
  }
  restart(index: number) {
    this.finish();
    this.bytes.push(0xff, 0xd0 + (index % 8));
  }
}
function putDc(w: BitWriter, diff: number) {
  const size = diff === 0 ? 0 : 32 - Math.clz32(Math.abs(diff));
  const [code, len] = DC_CODES.get(size)!;
  w.put(code, len);
  if (size) w.put(diff < 0 ? diff - 1 + (1 << size) : diff, size);
}
const segment = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];

interface JpegSpec {
  width: number; height: number; components: 1 | 3;
  mode: 'baseline' | 'separate-scans' | 'progressive';
  /** Successive approximation of the progressive DC scan (refined down to 0 in later scans). */
  dcAl?: number;
  value: (component: number, bx: number, by: number) => number;
  omit?: 'DQT' | 'DHT';
  /** DRI interval in MCUs, with RSTn markers in the scans (baseline and separate-scans modes). */
  restartInterval?: number;
  /** Progressive: the AC spectral bands of each component's scans (default [1, 5] and [6, 63]). */
  acBands?: [number, number][];
}
/** Returns the file and the byte offset of each SOS marker. */
function encodeJpeg(s: JpegSpec): { file: Uint8Array; scans: number[] } {
  const bw = Math.ceil(s.width / 8), bh = Math.ceil(s.height / 8);
  const nc = s.components;
  const coef = (c: number, b: number) => s.value(c, b % bw, Math.floor(b / bw)) - 128;
  const head: number[] = [0xff, 0xd8];
  if (s.omit !== 'DQT') head.push(...segment(0xdb, [0x00, ...new Array(64).fill(8)]));
  head.push(...segment(s.mode === 'progressive' ? 0xc2 : 0xc0, [8, s.height >> 8, s.height & 0xff, s.width >> 8, s.width & 0xff, nc,
    ...Array.from({ length: nc }, (_, c) => [c + 1, 0x11, 0]).flat()]));
  if (s.omit !== 'DHT') head.push(...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES]));
  const ri = s.restartInterval ?? 0;
  if (ri) head.push(...segment(0xdd, [ri >> 8, ri & 0xff]));
  const parts: number[][] = [head];
  const scan = (comps: number[], ss: number, se: number, ah: number, al: number, body: (w: BitWriter) => void) => {
    const w = new BitWriter();
    body(w);
    parts.push([...segment(0xda, [comps.length, ...comps.flatMap((c) => [c + 1, 0x00]), ss, se, (ah << 4) | al]), ...w.finish()]);
  };
  const dcScan = (comps: number[], al: number, withEob: boolean) => scan(comps, 0, withEob ? 63 : 0, 0, al, (w) => {
    const pred = new Array(nc).fill(0);
    for (let b = 0; b < bw * bh; b++) for (const c of comps) {
      if (ri && b > 0 && b % ri === 0 && c === comps[0]) { w.restart(b / ri - 1); pred.fill(0); }
      const v = coef(c, b) >> al;
      putDc(w, v - pred[c]);
      pred[c] = v;
      if (withEob) w.put(...AC_CODES.get(0)!);
    }
  });
  const all = Array.from({ length: nc }, (_, c) => c);
  if (s.mode === 'baseline') dcScan(all, 0, true);
  else if (s.mode === 'separate-scans') for (const c of all) dcScan([c], 0, true);
  else {
    const al0 = s.dcAl ?? 0;
    dcScan(all, al0, false);
    for (let al = al0 - 1; al >= 0; al--) {
      scan(all, 0, 0, al + 1, al, (w) => { for (let b = 0; b < bw * bh; b++) for (const c of all) w.put((coef(c, b) >> al) & 1, 1); });
    }
    for (const c of all) for (const [ss, se] of s.acBands ?? [[1, 5], [6, 63]]) {
      scan([c], ss, se, 0, 0, (w) => { for (let b = 0; b < bw * bh; b++) w.put(...AC_CODES.get(0)!); });
    }
  }
  parts.push([0xff, 0xd9]);
  const scans: number[] = [];
  let at = 0;
  for (const p of parts) { if (p[1] === 0xda) scans.push(at); at += p.length; }
  return { file: concat(...parts), scans };
}

const blockValue = (c: number, bx: number, by: number) => (40 + 50 * c + 37 * bx + 23 * by) % 256;

function jpegJsFile(width = 32, height = 16, seed = 1): Uint8Array {
  const r = rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([(p * 7) & 255, randInt(r, 256), ((p >> 3) * 29) & 255, 255], p * 4);
  return new Uint8Array(jpeg.encode({ data, width, height }, 90).data);
}

/** Offset of the first marker FF mm at or after `from`, or -1. */
function markerAt(b: Uint8Array, marker: number, from = 0): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === marker) return i;
  return -1;
}

function sharedFace(relative: string): Uint8Array | undefined {
  const path = new URL(`../../../shared/faces/${relative}`, import.meta.url);
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
}

// ---------------------------------------------------------------------------------------------
// PNG: valid files decode exactly as the spec (and pngjs) says

/** Decodes the file of `spec` and checks it against the samples written and against pngjs. */
function assertDecodesAsWritten(spec: PngSpec, what: string): void {
  const { width: w, height: h, colorType, trns } = spec;
  const file = encodePng(spec);
  const ours = decodeImage(file, { applyOrientation: false });
  assert.deepEqual([ours.width, ours.height, ours.format], [w, h, 'png'], what);
  const want = expectedRgba(spec);
  assert.ok(Buffer.from(ours.data).equals(Buffer.from(want)), `${what}: differs from the samples written at ${firstMismatch(ours.data, want)}`);
  const reference = pngjsRgba(file, trns && (colorType === 0 || colorType === 2) ? ours.data : undefined);
  assert.ok(Buffer.from(ours.data).equals(Buffer.from(reference)), `${what}: differs from pngjs at ${firstMismatch(ours.data, reference)}`);
  assert.equal(ours.data.buffer.byteLength, w * h * 4, `${what}: pixels are a view into a larger buffer`);
}

test('PNG: every colour type, bit depth, filter and Adam7 decodes to the samples written, identical to pngjs', 30_000, () => {
  let count = 0;
  for (const colorType of [0, 2, 3, 4, 6]) for (const depth of LEGAL_DEPTHS[colorType]) for (const interlace of [false, true]) {
    for (const [w, h] of [[1, 1], [1, 9], [3, 5], [9, 2], [17, 11], [33, 8]]) for (const withTrns of colorType <= 3 ? [false, true] : [false]) {
      const spec = randomPngSpec(++count, w, h, colorType, depth, interlace, withTrns);
      assertDecodesAsWritten(spec, `type ${colorType} depth ${depth} ${w}x${h}${interlace ? ' Adam7' : ''}${withTrns ? ' tRNS' : ''}`);
    }
  }
  assert.ok(count > 300, `only ${count} combinations`);
});

test('property: random valid PNGs (seeded: colour type, depth, Adam7, per-row filters, sizes from 1, IDAT split) decode as written and as pngjs does', 30_000, () => {
  const r = rng(31337);
  for (let i = 0; i < 400; i++) {
    const colorType = [0, 2, 3, 4, 6][randInt(r, 5)];
    const depth = LEGAL_DEPTHS[colorType][randInt(r, LEGAL_DEPTHS[colorType].length)];
    // width 1 (and height 1) often: the edge cases of filters, sub-byte packing and empty Adam7 passes
    const width = r() < 0.25 ? 1 : 1 + randInt(r, 48), height = r() < 0.15 ? 1 : 1 + randInt(r, 24);
    const interlace = r() < 0.5, withTrns = colorType <= 3 && r() < 0.3;
    const spec = randomPngSpec(randInt(r, 2 ** 31), width, height, colorType, depth, interlace, withTrns);
    const filters = Array.from({ length: 32 }, () => randInt(r, 5));
    spec.filterOf = (row) => filters[row % filters.length];
    spec.idatParts = 1 + randInt(r, 6);
    assertDecodesAsWritten(spec, `#${i}: type ${colorType} depth ${depth} ${width}x${height}${interlace ? ' Adam7' : ''}${withTrns ? ' tRNS' : ''}`);
  }
});

test('PNG: files written by pngjs (all its output colour types) round-trip', 30_000, () => {
  const r = rng(7);
  const data = Uint8Array.from({ length: 21 * 13 * 4 }, () => randInt(r, 256));
  for (const [colorType, bitDepth] of [[0, 8], [0, 16], [2, 8], [2, 16], [4, 8], [6, 8], [6, 16]]) {
    const file = PNG.sync.write({ width: 21, height: 13, data: Buffer.from(data) }, { colorType, bitDepth, inputHasAlpha: true });
    const ours = decodeImage(file);
    const reference = PNG.sync.read(Buffer.from(file));
    assert.ok(Buffer.from(ours.data).equals(Buffer.from(reference.data)), `pngjs colour type ${colorType} depth ${bitDepth}: ${firstMismatch(ours.data, reference.data)}`);
  }
});

// ---------------------------------------------------------------------------------------------
// PNG: incomplete or surplus image data

const GREY_SPEC = (interlace = false): PngSpec => randomPngSpec(99, 40, 30, 2, 8, interlace, false);

test('PNG whose zlib stream stops early (IDAT cut, CRCs fixed) is refused as truncated', 30_000, () => {
  // 80x70 RGB needs 16870 bytes, more than zlib's smallest output chunk: the inflate buffer is then
  // exactly the image size, so a stream cut after its last data byte fills it completely
  for (const spec of [GREY_SPEC(false), GREY_SPEC(true), randomPngSpec(98, 80, 70, 2, 8, false, false)]) {
    const { width, height, interlace = false } = spec;
    const z = deflateSync(scanlines(width, height, 2, 8, interlace, spec.sample));
    for (const keep of [2, 10, z.length >> 2, z.length >> 1, z.length - 6, z.length - 5, z.length - 4, z.length - 3, z.length - 1]) {
      const file = pngFile(ihdrChunk(width, height, 8, 2, interlace ? 1 : 0), chunk('IDAT', z.subarray(0, keep)), IEND);
      assertRefused(file, 'truncated', `${width}x${height} zlib stream cut to ${keep} of ${z.length} bytes${interlace ? ' (Adam7)' : ''}`, /zlib|image data/);
    }
  }
});

test('PNG with garbage in place of its zlib stream is refused, every time', 30_000, () => {
  const r = rng(3);
  for (let i = 0; i < 200; i++) {
    const garbage = Uint8Array.from({ length: 1 + randInt(r, 600) }, () => randInt(r, 256));
    if (i % 2) garbage.set([0x78, 0x9c]); // a plausible zlib header in front of the garbage
    const file = pngFile(ihdrChunk(40, 30, 8, 2), chunk('IDAT', garbage), IEND);
    assertRefused(file, ['corrupt', 'truncated'], `garbage zlib data #${i}`);
  }
});

test('PNG whose complete zlib stream holds too few or too many bytes, or is followed by more data, is refused', 30_000, () => {
  const spec = GREY_SPEC();
  const raw = scanlines(spec.width, spec.height, 2, 8, false, spec.sample);
  const rowBytes = 1 + spec.width * 3;
  const head = ihdrChunk(spec.width, spec.height, 8, 2);
  const cases: [string, Uint8Array, RegExp][] = [
    ['one row missing', deflateSync(raw.subarray(0, raw.length - rowBytes)), /rows|short|bytes/],
    ['one byte missing', deflateSync(raw.subarray(0, raw.length - 1)), /rows|short|bytes/],
    ['one byte extra', deflateSync(concat(raw, [0])), /more|extra|bytes/],
    ['an extra row', deflateSync(concat(raw, raw.subarray(0, rowBytes))), /more|extra|bytes/],
    ['bytes after the zlib stream', concat(deflateSync(raw), [1, 2, 3]), /after|trailing/],
    ['a second zlib stream', concat(deflateSync(raw), deflateSync(raw)), /after|trailing/],
  ];
  for (const [what, z, pattern] of cases) assertRefused(pngFile(head, chunk('IDAT', z), IEND), 'corrupt', what, pattern);
  // Adam7: the sum over the seven passes, not height x row bytes
  const interlaced = scanlines(spec.width, spec.height, 2, 8, true, spec.sample);
  const ihdr7 = ihdrChunk(spec.width, spec.height, 8, 2, 1);
  assertRefused(pngFile(ihdr7, chunk('IDAT', deflateSync(interlaced.subarray(0, interlaced.length - 1))), IEND), 'corrupt', 'Adam7 one byte short');
  assertRefused(pngFile(ihdr7, chunk('IDAT', deflateSync(raw)), IEND), 'corrupt', 'Adam7 header with non-interlaced data');
});

test('PNG: an adler32 mismatch (zlib payload altered, chunk CRC fixed up) is refused', 30_000, () => {
  const spec = GREY_SPEC();
  const z = new Uint8Array(deflateSync(scanlines(spec.width, spec.height, 2, 8, false, spec.sample)));
  z[z.length - 1] ^= 0x01;
  assertRefused(pngFile(ihdrChunk(spec.width, spec.height, 8, 2), chunk('IDAT', z), IEND), 'corrupt', 'adler32 flipped');
});

test('PNG: unknown filter type bytes are refused, in any row and Adam7 pass', 30_000, () => {
  const raw = scanlines(4, 3, 0, 8, false, (x, y) => x * 10 + y, () => 0);
  for (const [at, value] of [[0, 5], [5, 5], [10, 255], [5, 0x80]]) {
    const bad = new Uint8Array(raw);
    bad[at] = value; // the filter byte of row at / 5
    assertRefused(pngWithRaw(4, 3, 8, 0, bad), 'corrupt', `filter type ${value} in row ${at / 5}`, /filter/);
  }
  const interlaced = new Uint8Array(scanlines(9, 9, 0, 8, true, (x, y) => x + y, () => 1));
  interlaced[interlaced.length - 10] = 7; // filter byte of the last row of pass 7 (9 bytes of data each)
  assertRefused(pngWithRaw(9, 9, 8, 0, interlaced, { interlace: 1 }), 'corrupt', 'filter type 7 in the last Adam7 pass', /filter/);
});

/** What decoding gives, as a comparable string: the error, or the size and a hash of the pixels. */
function outcome(bytes: Uint8Array): string {
  try {
    const img = decodeImage(bytes);
    return `${img.width}x${img.height} ${createHash('sha256').update(img.data).digest('hex')}`;
  } catch (e) {
    return e instanceof ImageDecodeError ? `${e.reason}: ${e.message}` : `not an ImageDecodeError: ${String(e)}`;
  }
}

test('PNG: the same bytes give the same result every time, also for damaged files (no uninitialised memory)', 30_000, () => {
  for (const interlace of [false, true]) {
    const spec = randomPngSpec(5, 30, 20, 6, 8, interlace, false);
    const raw = scanlines(30, 20, 6, 8, interlace, spec.sample);
    const z = deflateSync(raw);
    const withData = (data: Uint8Array) => pngFile(ihdrChunk(30, 20, 8, 6, interlace ? 1 : 0), chunk('IDAT', data), IEND);
    const damaged = [
      withData(z.subarray(0, 2)), withData(z.subarray(0, z.length >> 1)), withData(z.subarray(0, z.length - 4)),
      withData(deflateSync(raw.subarray(0, raw.length - 121))), // the last row (30 RGBA pixels and its filter byte) missing
    ];
    const what = interlace ? 'Adam7' : 'non-interlaced';
    for (const bytes of [encodePng(spec), ...damaged]) {
      const first = outcome(bytes);
      for (let i = 0; i < 6; i++) {
        // churn the heap (and Buffer's pool) between decodes: memory a decoder left unwritten would now hold other bytes
        for (const size of [64, 2048, 4096, 1 << 16, 1 << 20]) Buffer.allocUnsafe(size).fill(i * 51 + 7);
        assert.equal(outcome(bytes), first, `${what}: decode #${i + 2} of the same ${bytes.length} bytes`);
      }
    }
    assert.match(outcome(encodePng(spec)), /^30x20 /, what);
    damaged.forEach((bytes, i) => assert.match(outcome(bytes), /^(truncated|corrupt): /, `${what} damaged file #${i}`));
  }
});

// ---------------------------------------------------------------------------------------------
// PNG: illegal headers and chunk sequences

test('PNG: every illegal bit depth / colour type combination and method byte is refused', 30_000, () => {
  for (const colorType of [0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 255]) for (const depth of [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 32, 255]) {
    if (LEGAL_DEPTHS[colorType]?.includes(depth)) continue;
    // data sized for the depth/channels pngjs would assume, so only the header is wrong
    const bitsPerPixel = (CHANNELS[colorType] ?? 1) * Math.max(depth, 1);
    const raw = new Uint8Array(4 * (1 + Math.ceil((4 * bitsPerPixel) / 8)));
    const extra = colorType === 3 ? { before: [chunk('PLTE', new Array(3 * 256).fill(7))] } : {};
    assertRefused(pngWithRaw(4, 4, depth, colorType, raw, extra), ['corrupt', 'unsupported-format'], `colour type ${colorType} depth ${depth}`);
  }
  const raw = new Uint8Array(4 * 5);
  const idat = chunk('IDAT', deflateSync(raw));
  assertRefused(pngFile(ihdrChunk(4, 4, 8, 0, 0, 1, 0), idat, IEND), ['corrupt', 'unsupported-format'], 'compression method 1');
  assertRefused(pngFile(ihdrChunk(4, 4, 8, 0, 0, 0, 1), idat, IEND), ['corrupt', 'unsupported-format'], 'filter method 1');
  assertRefused(pngFile(ihdrChunk(4, 4, 8, 0, 2), idat, IEND), ['corrupt', 'unsupported-format'], 'interlace method 2');
  assertRefused(pngFile(ihdrChunk(0x80000000, 1, 8, 0), idat, IEND), ['corrupt', 'too-large'], 'width 2^31');
  assertRefused(pngFile(ihdrChunk(0, 4, 8, 0), idat, IEND), 'corrupt', 'width 0', /size/);
  assertRefused(pngFile(ihdrChunk(4, 0, 8, 0), idat, IEND), 'corrupt', 'height 0', /size/);
});

test('PNG: a bad CRC in any chunk (critical or ancillary, before or after the image data) is refused', 30_000, () => {
  const chunks = [ihdrChunk(4, 2, 8, 0), chunk('tEXt', [0x61, 0, 0x62]), chunk('IDAT', deflateSync(new Uint8Array(2 * 5))), chunk('tIME', [7, 0xe8, 1, 1, 0, 0, 0]), IEND];
  assert.equal(decodeImage(pngFile(...chunks)).width, 4);
  chunks.forEach((c, i) => {
    const bad = new Uint8Array(c);
    bad[bad.length - 1] ^= 0x01;
    assertRefused(pngFile(...chunks.slice(0, i), bad, ...chunks.slice(i + 1)), 'corrupt', `CRC of chunk ${i}`, /CRC/);
  });
});

test('PNG: palette images without PLTE, or with indices beyond it, are refused', 30_000, () => {
  const raw = Uint8Array.from([0, 0x01, 0x23, 0, 0x32, 0x10]); // 4x2, 4-bit indices 0..3
  assertRefused(pngWithRaw(4, 2, 4, 3, raw), 'corrupt', 'no PLTE', /PLTE|palette/);
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [chunk('PLTE', [1, 2, 3, 4, 5, 6, 7, 8, 9])] }), 'corrupt', 'index 3 with 3 entries', /palette|index/);
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [chunk('PLTE', [])] }), 'corrupt', 'empty PLTE');
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [chunk('PLTE', [1, 2, 3, 4])] }), 'corrupt', 'PLTE length not a multiple of 3');
  assertRefused(pngWithRaw(1, 1, 8, 3, Uint8Array.from([0, 0]), { before: [chunk('PLTE', new Array(3 * 257).fill(1))] }), 'corrupt', 'PLTE with 257 entries');
  const plte4 = chunk('PLTE', new Array(12).fill(9));
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [plte4, chunk('tRNS', [1, 2, 3, 4, 5])] }), 'corrupt', 'tRNS longer than PLTE');
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [chunk('tRNS', [1]), plte4] }), 'corrupt', 'tRNS before PLTE');
  assertRefused(pngWithRaw(4, 2, 4, 3, raw, { before: [plte4, plte4] }), 'corrupt', 'two PLTE chunks');
  // still fine: all indices inside the palette
  assert.equal(decodeImage(pngWithRaw(4, 2, 4, 3, raw, { before: [plte4] })).width, 4);
});

test('PNG: chunks out of order, misplaced or malformed are refused', 30_000, () => {
  const raw = new Uint8Array(2 * 5); // 4x2 greyscale 8-bit, filter 0
  const idat = chunk('IDAT', deflateSync(raw));
  const ihdr = ihdrChunk(4, 2, 8, 0);
  const half = [chunk('IDAT', deflateSync(raw).subarray(0, 6)), chunk('IDAT', deflateSync(raw).subarray(6))];
  const cases: [string, Uint8Array][] = [
    ['IHDR twice', pngFile(ihdr, ihdr, idat, IEND)],
    ['IHDR of 14 bytes', pngFile(chunk('IHDR', [0, 0, 0, 4, 0, 0, 0, 2, 8, 0, 0, 0, 0, 0]), idat, IEND)],
    ['no IDAT', pngFile(ihdr, IEND)],
    ['IDAT chunks not consecutive', pngFile(ihdr, half[0], chunk('tEXt', [0x61, 0, 0x62]), half[1], IEND)],
    ['PLTE in a greyscale image', pngFile(ihdr, chunk('PLTE', [1, 2, 3]), idat, IEND)],
    ['PLTE after IDAT', pngFile(ihdrChunk(4, 2, 8, 2), chunk('IDAT', deflateSync(new Uint8Array(2 * 13))), chunk('PLTE', [1, 2, 3]), IEND)],
    ['tRNS of 6 bytes in a greyscale image', pngFile(ihdr, chunk('tRNS', [0, 1, 0, 2, 0, 3]), idat, IEND)],
    ['tRNS in an RGBA image', pngFile(ihdrChunk(1, 1, 8, 6), chunk('tRNS', [0, 1]), chunk('IDAT', deflateSync(new Uint8Array(5))), IEND)],
    ['tRNS after IDAT', pngFile(ihdr, idat, chunk('tRNS', [0, 1]), IEND)],
    ['unknown critical chunk', pngFile(ihdr, chunk('ABCD', [1]), idat, IEND)],
    ['chunk type not letters', pngFile(ihdr, chunk('a1c!', [1]), idat, IEND)],
    ['IEND with data', pngFile(ihdr, idat, chunk('IEND', [0]))],
  ];
  for (const [what, file] of cases) assertRefused(file, ['corrupt', 'unsupported-format'], what);
  // and what is allowed: ancillary chunks anywhere, IDAT split, a suggested palette in RGB
  assert.equal(decodeImage(pngFile(ihdr, chunk('tEXt', [0x61, 0, 0x62]), ...half, chunk('tIME', [7, 0xe8, 1, 1, 0, 0, 0]), IEND)).height, 2);
  assert.equal(decodeImage(pngFile(ihdrChunk(4, 2, 8, 2), chunk('PLTE', [1, 2, 3]), chunk('IDAT', deflateSync(new Uint8Array(2 * 13))), IEND)).height, 2);
});

// ---------------------------------------------------------------------------------------------
// Size limits

test('pixel and side limits: documented constants, checked before decoding, for PNG and JPEG', 30_000, () => {
  assert.equal(MAX_DECODE_PIXELS, 40_000_000);
  assert.equal(MAX_DECODE_SIDE, 16384);
  const t0 = performance.now();
  // 69-byte PNG declaring 9999x9999 (1e8 pixels)
  const bomb = pngFile(ihdrChunk(9999, 9999, 8, 0), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND);
  assert.ok(bomb.length < 80, `bomb is ${bomb.length} bytes`);
  assertRefused(bomb, 'too-large', '9999x9999 PNG', /40000000 pixel limit: downscale it, or pass a higher maxPixels/);
  // the same under the limit but with almost no data: refused for the data, cheaply
  assertRefused(pngFile(ihdrChunk(6000, 6000, 8, 6), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND), 'corrupt', '6000x6000 PNG with 10 bytes of data');
  assertRefused(pngFile(ihdrChunk(6400, 6300, 8, 0), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND), 'too-large', '40.3 MP PNG');
  assertRefused(pngFile(ihdrChunk(MAX_DECODE_SIDE + 1, 1, 8, 0), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND), 'too-large', 'PNG 16385 wide', /side: downscale it to at most 16384x16384/);
  assertRefused(pngFile(ihdrChunk(1, 20000, 8, 0), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND), 'too-large', 'PNG 20000 high', /side/, { maxPixels: 1e9 });
  // JPEG: a small file whose frame header says 9999x9999
  const jpg = jpegJsFile();
  const sof = markerAt(jpg, 0xc0);
  const big = new Uint8Array(jpg);
  big.set([9999 >> 8, 9999 & 0xff, 9999 >> 8, 9999 & 0xff], sof + 5);
  assert.ok(big.length < 2000, `JPEG bomb is ${big.length} bytes`);
  assertRefused(big, 'too-large', '9999x9999 JPEG', /40000000 pixel limit: downscale it, or pass a higher maxPixels/);
  const wide = new Uint8Array(jpg);
  wide.set([0, 16, 0x40, 0x01], sof + 5); // 16385 x 16
  assertRefused(wide, 'too-large', 'JPEG 16385 wide', /side/);
  // under the limit, but far too little scan data for 6000x6000: refused before jpeg-js allocates
  const under = new Uint8Array(jpg);
  under.set([6000 >> 8, 6000 & 0xff, 6000 >> 8, 6000 & 0xff], sof + 5);
  assertRefused(under, 'truncated', `6000x6000 JPEG of ${under.length} bytes`, /too short|too little/);
  assert.ok(performance.now() - t0 < 2000, `size checks took ${performance.now() - t0} ms`);
  // maxPixels is honoured both ways
  assertRefused(encodePng(GREY_SPEC()), 'too-large', 'maxPixels 1000', /pixel limit/, { maxPixels: 1000 });
  assert.equal(decodeImage(encodePng(GREY_SPEC()), { maxPixels: 1200 }).width, 40);
  // options are checked like every public call's
  for (const options of [{ maxPixels: -1 }, { maxPixels: 0 }, { maxPixels: NaN }, { maxPixels: '1e6' }, { applyOrientation: 'no' }, { maxpixels: 10 }]) {
    assert.throws(() => decodeImage(jpg, options as DecodeOptions), OptionError, JSON.stringify(options));
  }
  assert.throws(() => decodeImage([1, 2, 3] as unknown as Uint8Array), OptionError);
});

test('MAX_DECODE_SIDE matches the API limit MAX_IMAGE_SIDE', 30_000, () => {
  assert.equal(MAX_DECODE_SIDE, MAX_IMAGE_SIDE);
});

// ---------------------------------------------------------------------------------------------
// JPEG: missing scans and tables

test('generated DC-only JPEGs (baseline, one scan per component, progressive) decode to their block values', 30_000, () => {
  for (const mode of ['baseline', 'separate-scans', 'progressive'] as const) for (const dcAl of mode === 'progressive' ? [0, 2] : [0]) {
    const { file } = encodeJpeg({ width: 24, height: 16, components: 1, mode, dcAl, value: blockValue });
    const img = decodeImage(file);
    assert.deepEqual([img.width, img.height], [24, 16]);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 24; x++) {
      const want = blockValue(0, x >> 3, y >> 3), got = img.data[(y * 24 + x) * 4];
      assert.ok(Math.abs(got - want) <= 1, `${mode} Al ${dcAl} pixel ${x},${y}: ${got}, want ${want}`);
    }
    assert.equal(decodeImage(encodeJpeg({ width: 20, height: 12, components: 3, mode, dcAl, value: blockValue }).file).width, 20);
  }
});

test('JPEG cut after any scan, with an end-of-image marker appended, is refused (baseline, per-component, progressive)', 30_000, () => {
  for (const mode of ['separate-scans', 'progressive'] as const) for (const components of [1, 3] as const) {
    const { file, scans } = encodeJpeg({ width: 24, height: 16, components, mode, dcAl: 1, value: blockValue });
    for (const at of scans.slice(1)) assertRefused(concat(file.subarray(0, at), [0xff, 0xd9]), 'truncated', `${mode} ${components} components cut before the scan at ${at}`, /scan|coefficient|component/);
  }
  const progressive = sharedFace('face-api.js/_unlabelled/angry.jpg');
  if (progressive) {
    const scans: number[] = [];
    for (let i = markerAt(progressive, 0xda); i >= 0; i = markerAt(progressive, 0xda, i + 2)) scans.push(i);
    assert.ok(scans.length > 5, `${scans.length} scans`);
    assert.equal(decodeImage(progressive).width, 300);
    for (const at of scans.slice(1)) assertRefused(concat(progressive.subarray(0, at), [0xff, 0xd9]), 'truncated', `angry.jpg cut before the scan at ${at}`);
  }
});

test('JPEG cut inside its scan data, with an end-of-image marker appended, is refused', 30_000, () => {
  const jpg = jpegJsFile(64, 48);
  const start = markerAt(jpg, 0xda), end = jpg.length - 2;
  for (let cut = start + 20; cut < end - 1; cut += 3) assertRefused(concat(jpg.subarray(0, cut), [0xff, 0xd9]), ['corrupt', 'truncated'], `cut at ${cut} of ${jpg.length}`);
});

test('JPEG with restart intervals: cut at a restart marker (EOI appended), missing or out-of-order RSTn, is refused', 30_000, () => {
  for (const mode of ['baseline', 'separate-scans'] as const) {
    // 15 MCUs, interval 3 (jpeg-js cannot decode a one-component scan whose block count is not a multiple of the interval)
    const { file } = encodeJpeg({ width: 40, height: 24, components: 3, mode, restartInterval: 3, value: blockValue });
    const img = decodeImage(file);
    assert.deepEqual([img.width, img.height], [40, 24], mode);
    const rsts: number[] = [];
    for (let i = 0; i + 1 < file.length; i++) if (file[i] === 0xff && file[i + 1] >= 0xd0 && file[i + 1] <= 0xd7) rsts.push(i);
    assert.ok(rsts.length >= 4, `${mode}: ${rsts.length} restart markers`);
    // jpeg-js stops a scan at any non-RST marker it meets at an interval boundary, so these would decode half-empty
    for (const at of rsts) assertRefused(concat(file.subarray(0, at), [0xff, 0xd9]), 'truncated', `${mode} cut at the restart marker at ${at}`, /restart|scan|component/);
    const dropped = concat(file.subarray(0, rsts[1]), file.subarray(rsts[1] + 2));
    assertRefused(dropped, ['corrupt', 'truncated'], `${mode} without its second restart marker`);
    const swapped = new Uint8Array(file);
    swapped[rsts[0] + 1] = 0xd3;
    assertRefused(swapped, 'corrupt', `${mode} RST3 in place of RST0`, /restart/);
  }
});

test('JPEG without quantisation or Huffman tables, with a second frame, or with bad scan parameters is refused', 30_000, () => {
  for (const omit of ['DQT', 'DHT'] as const) {
    const { file } = encodeJpeg({ width: 16, height: 16, components: 1, mode: 'baseline', value: blockValue, omit });
    assertRefused(file, 'corrupt', `no ${omit}`, /table/);
  }
  const { file, scans } = encodeJpeg({ width: 16, height: 16, components: 1, mode: 'progressive', dcAl: 1, value: blockValue });
  // the DC refinement scan (Ah 1, Al 0) repeated instead of the first AC scan
  const refine = file.subarray(scans[1], scans[2]);
  assertRefused(concat(file.subarray(0, scans[2]), refine, file.subarray(scans[3])), 'corrupt', 'DC refined twice', /successive|scan/);
  const sof = markerAt(file, 0xc2);
  const sofSegment = file.subarray(sof, sof + 2 + ((file[sof + 2] << 8) | file[sof + 3]));
  assertRefused(concat(file.subarray(0, scans[0]), sofSegment, file.subarray(scans[0])), 'corrupt', 'second frame header', /frame/);
  const badComponent = new Uint8Array(file);
  badComponent[scans[0] + 5] = 9; // scan selects component 9, the frame has only 1
  assertRefused(badComponent, 'corrupt', 'scan of an unknown component', /component/);
  const twelveBit = new Uint8Array(file);
  twelveBit[sof + 4] = 12;
  assertRefused(twelveBit, 'unsupported-format', '12-bit precision', /precision/);
});

// ---------------------------------------------------------------------------------------------
// Properties (seeded)

function pngSamples(): [string, Uint8Array][] {
  return [
    ['RGBA 8x6 Adam7', encodePng(randomPngSpec(11, 8, 6, 6, 8, true, false))],
    ['palette 4-bit 13x7', encodePng(randomPngSpec(12, 13, 7, 3, 4, false, true))],
    ['grey 16-bit 64x48', encodePng(randomPngSpec(13, 64, 48, 0, 16, false, true))],
    ['RGB 8-bit 96x80 Adam7', encodePng(randomPngSpec(14, 96, 80, 2, 8, true, false))],
  ];
}
function jpegSamples(): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [
    ['jpeg-js 32x16', jpegJsFile()],
    ['progressive grey 24x16', encodeJpeg({ width: 24, height: 16, components: 1, mode: 'progressive', dcAl: 1, value: blockValue }).file],
    ['separate scans 3 components', encodeJpeg({ width: 16, height: 8, components: 3, mode: 'separate-scans', value: blockValue }).file],
    ['jpeg-js 120x90', jpegJsFile(120, 90, 5)],
  ];
  const face = sharedFace('face-api.js/_unlabelled/angry.jpg');
  if (face) out.push(['angry.jpg (progressive)', face]);
  return out;
}
/** Every length for a small file, 300 sampled lengths (and the last 30) for a larger one. */
function prefixLengths(n: number, r: () => number): number[] {
  if (n <= 1500) return Array.from({ length: n }, (_, i) => i);
  const lengths = new Set<number>(Array.from({ length: 30 }, (_, i) => n - 1 - i));
  while (lengths.size < 330) lengths.add(randInt(r, n));
  return [...lengths];
}

/** The image data cut to `keep` bytes, inside a well-formed chunk sequence with good CRCs and IEND. */
function pngWithIdatCut(file: Uint8Array, keep: number): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const before: Uint8Array[] = [], idat: Uint8Array[] = [];
  for (let at = 8; at < file.length;) {
    const len = view.getUint32(at), type = String.fromCharCode(...file.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(file.subarray(at + 8, at + 8 + len));
    else if (type !== 'IEND') before.push(file.subarray(at, at + 12 + len));
    at += 12 + len;
  }
  return pngFile(...before, chunk('IDAT', concat(...idat).subarray(0, keep)), IEND);
}

test('property: every strict prefix of a valid PNG or JPEG is an ImageDecodeError, also with a fake ending', 60_000, () => {
  const r = rng(2024);
  let checked = 0;
  for (const [name, file] of pngSamples()) {
    assert.ok(decodeImage(file).width > 0, name);
    for (const n of prefixLengths(file.length, r)) {
      const e = decodeError(file.subarray(0, n));
      assert.ok(e, `${name}: prefix of ${n}/${file.length} bytes decoded`);
      checked++;
    }
    const zlen = idatLength(file);
    for (let keep = 0; keep < zlen; keep += Math.max(1, zlen >> 6)) {
      assertRefused(pngWithIdatCut(file, keep), ['truncated', 'corrupt'], `${name}: IDAT cut to ${keep}/${zlen} (CRC fixed, IEND appended)`);
      checked++;
    }
  }
  for (const [name, file] of jpegSamples()) {
    assert.ok(decodeImage(file).width > 0, name);
    for (const n of prefixLengths(file.length, r)) {
      assert.ok(decodeError(file.subarray(0, n)), `${name}: prefix of ${n}/${file.length} bytes decoded`);
      checked++;
    }
  }
  assert.ok(checked > 2000, `${checked} prefixes`);
});
function idatLength(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let n = 0;
  for (let at = 8; at < file.length; at += 12 + view.getUint32(at)) if (String.fromCharCode(...file.subarray(at + 4, at + 8)) === 'IDAT') n += view.getUint32(at);
  return n;
}

test('property: random corruption of a PNG always errors (CRC, adler32, sizes) unless zlib ignores the bits; of a JPEG errors or gives the declared size', 60_000, () => {
  const r = rng(77);
  for (const [name, file] of pngSamples()) {
    for (let i = 0; i < 300; i++) {
      const bad = new Uint8Array(file);
      const flips = 1 + randInt(r, 3);
      for (let k = 0; k < flips; k++) bad[8 + randInt(r, bad.length - 8)] ^= 1 + randInt(r, 255);
      if (bad.every((v, k) => v === file[k])) continue;
      assert.ok(decodeError(bad), `${name}: corruption #${i} decoded`);
    }
    // corruption inside the zlib data with the chunk CRC recomputed: adler32 / zlib / sizes must catch it
    const zlen = idatLength(file);
    const original = decodeImage(file).data;
    let unchanged = 0;
    for (let i = 0; i < 150; i++) {
      const fixed = pngWithIdatCut(file, zlen);
      const view = new DataView(fixed.buffer);
      let at = 8;
      while (String.fromCharCode(...fixed.subarray(at + 4, at + 8)) !== 'IDAT') at += 12 + view.getUint32(at);
      fixed[at + 8 + randInt(r, zlen)] ^= 1 + randInt(r, 255);
      view.setUint32(at + 8 + zlen, crc32(fixed.subarray(at + 4, at + 8 + zlen)));
      if (decodeError(fixed)) continue;
      // only bits zlib itself ignores may change without an error (the padding after a stored
      // block's 3-bit header, FLEVEL in the zlib header): then the pixels must be the original ones
      assert.deepEqual(decodeImage(fixed).data, original, `${name}: IDAT corruption #${i} with CRC fixed decoded to different pixels`);
      unchanged++;
    }
    assert.ok(unchanged < 15, `${name}: ${unchanged} of 150 IDAT corruptions decoded`);
  }
  for (const [name, file] of jpegSamples()) {
    const clean = decodeImage(file, { applyOrientation: false });
    const sof = Math.max(markerAt(file, 0xc0), markerAt(file, 0xc2));
    let errors = 0, resized = 0;
    for (let i = 0; i < 300; i++) {
      const bad = new Uint8Array(file);
      const flips = 1 + randInt(r, 3);
      for (let k = 0; k < flips; k++) bad[2 + randInt(r, bad.length - 2)] ^= 1 + randInt(r, 255);
      const e = (() => { try { return decodeImage(bad, { applyOrientation: false }); } catch (x) { return x; } })();
      if (e instanceof ImageDecodeError) { errors++; continue; }
      assert.ok(!(e instanceof Error), `${name}: corruption #${i} threw ${e}`);
      const img = e as ReturnType<typeof decodeImage>;
      // damage JPEG cannot detect (no checksums): entropy data, table values, or the frame size
      // itself; the pixels are then the size the frame header says, every one present
      const declared = [(bad[sof + 7] << 8) | bad[sof + 8], (bad[sof + 5] << 8) | bad[sof + 6]];
      assert.deepEqual([img.width, img.height], declared, `${name}: corruption #${i} decoded to a size its frame header does not say`);
      if (img.width !== clean.width || img.height !== clean.height) resized++;
      assert.equal(img.data.length, img.width * img.height * 4);
    }
    assert.ok(errors > 0, `${name}: only ${errors} of 300 corruptions detected`);
    assert.ok(resized < 30, `${name}: ${resized} corruptions changed the frame size undetected`);
  }
});

test('fuzz: random bytes behind PNG/JPEG signatures only ever give ImageDecodeError or well-formed pixels', 60_000, () => {
  const r = rng(4242);
  const t0 = performance.now();
  const templates = [...pngSamples(), ...jpegSamples()].map(([, f]) => f);
  for (let i = 0; i < 3000; i++) {
    let bytes: Uint8Array;
    const kind = i % 4;
    if (kind === 0) bytes = concat(PNG_SIGNATURE, Array.from({ length: randInt(r, 300) }, () => randInt(r, 256)));
    else if (kind === 1) bytes = concat([0xff, 0xd8, 0xff], Array.from({ length: randInt(r, 300) }, () => randInt(r, 256)));
    else if (kind === 2) {
      // a real header, then random chunks with valid CRCs
      const ct = [0, 2, 3, 4, 6][randInt(r, 5)];
      const depths = LEGAL_DEPTHS[ct];
      const parts = [ihdrChunk(1 + randInt(r, 40), 1 + randInt(r, 40), depths[randInt(r, depths.length)], ct, randInt(r, 2))];
      for (let k = randInt(r, 4); k >= 0; k--) {
        const type = ['PLTE', 'tRNS', 'IDAT', 'IDAT', 'eXIf'][randInt(r, 5)];
        const body = type === 'IDAT' && r() < 0.5 ? deflateSync(Uint8Array.from({ length: randInt(r, 2000) }, () => randInt(r, 4))) : Uint8Array.from({ length: randInt(r, 100) }, () => randInt(r, 256));
        parts.push(chunk(type, body));
      }
      bytes = pngFile(...parts, IEND);
    } else {
      // a valid file with a random splice
      const t = templates[randInt(r, templates.length)];
      const at = randInt(r, t.length), cut = randInt(r, 64);
      bytes = concat(t.subarray(0, at), Array.from({ length: randInt(r, 16) }, () => randInt(r, 256)), t.subarray(Math.min(t.length, at + cut)));
    }
    try {
      const img = decodeImage(bytes);
      assert.ok(img.width >= 1 && img.height >= 1 && img.width * img.height <= MAX_DECODE_PIXELS, `#${i}: size ${img.width}x${img.height}`);
      assert.equal(img.data.length, img.width * img.height * 4, `#${i}: pixel buffer length`);
      assert.ok(img.data.buffer.byteLength <= img.width * img.height * 4, `#${i}: pixels are a view into a larger buffer`);
    } catch (e) {
      assert.ok(e instanceof ImageDecodeError, `#${i}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
  assert.ok(performance.now() - t0 < 15000, `fuzz took ${Math.round(performance.now() - t0)} ms`);
});

test('a JPEG with more scans than any encoder writes is refused before jpeg-js walks them', 30_000, () => {
  // one scan per AC coefficient and component: legal, but 190 passes over every block
  const bands = Array.from({ length: 63 }, (_, k) => [k + 1, k + 1] as [number, number]);
  const many = encodeJpeg({ width: 16, height: 16, components: 3, mode: 'progressive', value: blockValue, acBands: bands });
  assert.ok(many.scans.length > MAX_JPEG_SCANS, `${many.scans.length} scans`);
  assertRefused(many.file, 'too-large', `${many.scans.length}-scan JPEG`, /more than 100 scans/);
  const few = encodeJpeg({ width: 16, height: 16, components: 3, mode: 'progressive', value: blockValue, acBands: [...bands.slice(0, 20), [21, 63]] });
  assert.ok(few.scans.length <= MAX_JPEG_SCANS);
  assert.equal(decodeImage(few.file).width, 16, `${few.scans.length} scans decode`);
});
