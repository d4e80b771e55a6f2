// gzip decompression inside the wasm (assembly/util/inflate.ts, assembly/api/inflate.ts, js/gzip.ts):
// round trips against node:zlib on every build (levels, strategies, window sizes, header fields,
// multi-block streams, the shipped models), hand-made streams for every status code (checked
// against zlib's verdict too), argument validation, and a seeded fuzz of mutated and truncated
// streams: status codes only, no traps, no writes outside the output buffer, nothing leaked.
// WASMFACE_GZIP_FUZZ_CASES raises the number of fuzz cases per build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync, gunzipSync, deflateRawSync, inflateRawSync, crc32, constants } from 'node:zlib';
import { loadBuilds, rng } from '../helpers/builds.js';
import type { WasmExports } from '../../js/wasm-abi.js';
import { isGzip, gunzipInWasm, gzipStatus, MAX_GUNZIP_BYTES } from '../../js/gzip.js';
import { ModelFormatError } from '../../js/errors.js';

const builds = await loadBuilds();
const FUZZ_CASES = Number(process.env.WASMFACE_GZIP_FUZZ_CASES ?? 3000);

// status codes of assembly/util/inflate.ts
const S = {
  MAGIC: -20, METHOD: -21, FLAGS: -22, HEADER: -23, HCRC: -24, BTYPE: -25, STORED: -26, COUNTS: -27,
  OVERSUB: -28, INCOMPLETE: -29, REPEAT: -30, NO_EOB: -31, SYMBOL: -32, DIST_SYMBOL: -33, DIST_FAR: -34,
  TRUNCATED: -35, OVERFLOW: -36, CRC: -37, ISIZE: -38, TRAILING: -39,
} as const;
const STREAM_CODES = new Set<number>(Object.values(S));

// ---- calling the wasm ----

interface Result { status: number; out?: Uint8Array; size: number }

/**
 * gunzip(src) with an output buffer of `cap` bytes (default: the trailer's ISIZE), every buffer
 * followed by freed memory holding a canary; checks the canaries, the input, and frees everything.
 */
function gunzipChecked(x: WasmExports, gz: Uint8Array, cap?: number): Result {
  const bufs: number[] = [], guards: number[] = [];
  const take = (n: number) => { const p = x.alloc(Math.max(1, n)); assert.ok(p, 'alloc'); bufs.push(p); guards.push(x.alloc(64)); return p; };
  const src = take(gz.length);
  new Uint8Array(x.memory.buffer, src, gz.length).set(gz);
  const isize = x.gunzipSize(src, gz.length);
  const dstCap = cap ?? (isize >= 0 && isize <= 1 << 26 ? isize : 1 << 16);
  const dst = take(dstCap);
  const scratchBytes = x.inflateScratchBytes();
  const scratch = take(scratchBytes);
  for (const g of guards) { x.free(g); new Uint8Array(x.memory.buffer, g, 64).fill(0xa5); }
  let status: number;
  try {
    status = x.gunzip(src, gz.length, dst, dstCap, scratch, scratchBytes);
  } catch (e) {
    assert.fail(`gunzip trapped on a ${gz.length}-byte stream: ${(e as Error).message}`);
  }
  for (const g of guards) assert.ok(new Uint8Array(x.memory.buffer, g, 64).every((v) => v === 0xa5), 'gunzip wrote outside its buffers');
  assert.ok(Buffer.from(x.memory.buffer, src, gz.length).equals(gz), 'gunzip modified its input');
  const out = status >= 0 ? new Uint8Array(x.memory.buffer, dst, status).slice() : undefined;
  for (const p of bufs) assert.equal(x.free(p), 1);
  return { status, out, size: isize };
}

function roundTrip(x: WasmExports, data: Uint8Array, gz: Uint8Array, label: string): void {
  const r = gunzipChecked(x, gz);
  assert.equal(r.size, data.length, `${label}: gunzipSize`);
  assert.equal(r.status, data.length, `${label}: status ${r.status} (${gzipStatus(r.status).code})`);
  assert.ok(Buffer.from(r.out!).equals(data), `${label}: output differs`);
}

// ---- gzip framing helpers ----

function gzipWrap(deflate: Uint8Array, data: Uint8Array, header: Uint8Array = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)): Uint8Array {
  const t = new Uint8Array(8);
  new DataView(t.buffer).setUint32(0, crc32(data) >>> 0, true);
  new DataView(t.buffer).setUint32(4, data.length >>> 0, true);
  return Buffer.concat([header, deflate, t]);
}

/** A header with the optional fields of RFC 1952 2.3.1. */
function header(opts: { extra?: Uint8Array; name?: string; comment?: string; hcrc?: boolean; text?: boolean }): Uint8Array {
  const flg = (opts.text ? 1 : 0) | (opts.hcrc ? 2 : 0) | (opts.extra ? 4 : 0) | (opts.name !== undefined ? 8 : 0) | (opts.comment !== undefined ? 16 : 0);
  const parts: Uint8Array[] = [Uint8Array.of(0x1f, 0x8b, 8, flg, 0x78, 0x56, 0x34, 0x12, 2, 3)];
  if (opts.extra) parts.push(Uint8Array.of(opts.extra.length & 255, opts.extra.length >> 8), opts.extra);
  if (opts.name !== undefined) parts.push(Buffer.from(opts.name + '\0', 'latin1'));
  if (opts.comment !== undefined) parts.push(Buffer.from(opts.comment + '\0', 'latin1'));
  let h: Uint8Array = Buffer.concat(parts);
  if (opts.hcrc) { const c = crc32(h) & 0xffff; h = Buffer.concat([h, Uint8Array.of(c & 255, c >> 8)]); }
  return h;
}

// ---- a DEFLATE bit writer (RFC 1951 3.1.1: LSB first; Huffman codes MSB first) ----

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  bits(v: number, len: number): this {
    for (let i = 0; i < len; i++) {
      this.acc |= ((v >>> i) & 1) << this.n;
      if (++this.n === 8) { this.bytes.push(this.acc); this.acc = 0; this.n = 0; }
    }
    return this;
  }
  code(c: number, len: number): this { for (let i = len - 1; i >= 0; i--) this.bits((c >>> i) & 1, 1); return this; }
  align(): this { if (this.n) { this.bytes.push(this.acc); this.acc = 0; this.n = 0; } return this; }
  raw(b: ArrayLike<number>): this { this.align(); for (let i = 0; i < b.length; i++) this.bytes.push(b[i]); return this; }
  done(): Uint8Array { this.align(); return Uint8Array.from(this.bytes); }
}

/** Canonical Huffman codes for code lengths (RFC 1951 3.2.2). */
function canonical(lens: number[]): number[] {
  const count = new Array(16).fill(0), next = new Array(16).fill(0);
  for (const l of lens) if (l) count[l]++;
  for (let l = 1, c = 0; l < 16; l++) { c = (c + count[l - 1]) << 1; next[l] = c; }
  return lens.map((l) => (l ? next[l]++ : -1));
}

const fixedLit = (s: number): [number, number] => (s < 144 ? [0x30 + s, 8] : s < 256 ? [0x190 + s - 144, 9] : s < 280 ? [s - 256, 7] : [0xc0 + s - 280, 8]);
type Sym = number | [number, number]; // a code-length-code symbol (0..15), or [16/17/18, value of its extra bits]

/** A fixed-code block (3.2.6): symbols are literal/length symbols or [lengthSym, extra, distSym, extra]. */
function fixedBlock(w: BitWriter, final: boolean, syms: (number | [number, number, number, number])[]): BitWriter {
  w.bits(final ? 1 : 0, 1).bits(1, 2);
  for (const s of syms) {
    if (typeof s === 'number') { w.code(...fixedLit(s)); continue; }
    const [ls, lx, ds, dx] = s;
    w.code(...fixedLit(ls));
    if (ls >= 265 && ls < 285) w.bits(lx, Math.floor((ls - 261) / 4));
    w.code(ds, 5);
    if (ds >= 4) w.bits(dx, (ds >> 1) - 1);
  }
  return w.code(0, 7); // end of block
}

/**
 * A dynamic block (3.2.7) with explicit header fields: the code-length code's lengths `pre` (19,
 * symbol order), the code-length symbols `cl` coded with it, then literal/length symbols coded with
 * the lengths `lit` (and distance symbols with `dist`) as given in `body`.
 */
function dynamicBlock(w: BitWriter, final: boolean, o: { hlit: number; hdist: number; pre: number[]; cl: Sym[]; lit?: number[]; dist?: number[];
  body?: (number | ['d', number])[] }): BitWriter {
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  let hclen = 19;
  while (hclen > 4 && !o.pre[order[hclen - 1]]) hclen--;
  w.bits(final ? 1 : 0, 1).bits(2, 2).bits(o.hlit - 257, 5).bits(o.hdist - 1, 5).bits(hclen - 4, 4);
  for (let i = 0; i < hclen; i++) w.bits(o.pre[order[i]], 3);
  const pc = canonical(o.pre);
  for (const s of o.cl) {
    const [sym, extra] = typeof s === 'number' ? [s, 0] : s;
    w.code(pc[sym], o.pre[sym]);
    if (sym === 16) w.bits(extra, 2); else if (sym === 17) w.bits(extra, 3); else if (sym === 18) w.bits(extra, 7);
  }
  if (o.body && o.lit) {
    const lc = canonical(o.lit), dc = canonical(o.dist ?? []);
    for (const s of o.body) {
      if (typeof s === 'number') w.code(lc[s], o.lit[s]); // literal/length symbols without extra bits
      else w.code(dc[s[1]], o.dist![s[1]]);               // distance symbols 0..3 (no extra bits)
    }
  }
  return w;
}

/** Code-length symbols spelling out `lens` with literal lengths only (code-length code: 0..15 at 4 bits). */
const PRE_FLAT = Array.from({ length: 19 }, (_, s) => (s < 16 ? 4 : 0));
const spell = (lens: number[]): Sym[] => lens.slice();
function lensFor(n: number, set: Record<number, number>): number[] {
  const l = new Array(n).fill(0);
  for (const [s, v] of Object.entries(set)) l[Number(s)] = v;
  return l;
}

// ---- data sets ----

const r0 = rng(1951);
const random1M = Uint8Array.from({ length: 1 << 20 }, () => r0.int(0, 255));
const repetitive = (() => {
  const a = new Uint8Array(3 << 20);
  for (let i = 0; i < a.length; i++) a[i] = i < 1 << 20 ? 0 : i < 2 << 20 ? (i % 7) * 31 : ((i >> 12) & 1 ? 0x55 : i % 251);
  return a;
})();
const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i}: the quick brown fox ${i % 13 ? 'jumps' : 'sleeps'} over ${i * 7919 % 1000} lazy dogs\n`).join(''));
const models = readdirSync(new URL('../../models/', import.meta.url)).filter((f) => f.endsWith('.wfm')).sort()
  .map((f) => ({ name: f, data: new Uint8Array(readFileSync(new URL(`../../models/${f}`, import.meta.url))) }));
const datasets: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)], ['1 byte', Uint8Array.of(0x42)], ['text', text], ['1 MB random', random1M], ['3 MB repetitive', repetitive],
];

// Compressed once, decompressed by every build.
const LEVELS = [0, 1, 6, 9];
const streams: { label: string; data: Uint8Array; gz: Uint8Array }[] = [];
for (const [name, data] of datasets) {
  for (const level of LEVELS) {
    const gz = gzipSync(data, { level });
    streams.push({ label: `${name} level ${level}`, data, gz });
    // the same stream with FNAME (as gzip(1) writes it)
    streams.push({ label: `${name} level ${level} FNAME`, data, gz: Buffer.concat([header({ name: `${name}.bin` }), gz.subarray(10)]) });
  }
}
for (const [name, data] of [['text', text], ['1 MB random', random1M.subarray(0, 100000)], ['3 MB repetitive', repetitive]] as [string, Uint8Array][]) {
  for (const [s, strategy] of [['fixed', constants.Z_FIXED], ['huffman only', constants.Z_HUFFMAN_ONLY], ['rle', constants.Z_RLE], ['filtered', constants.Z_FILTERED]] as const) {
    streams.push({ label: `${name} ${s}`, data, gz: gzipSync(data, { strategy }) });
  }
  for (const windowBits of [9, 10, 12]) streams.push({ label: `${name} window 2^${windowBits}`, data, gz: gzipSync(data, { windowBits, memLevel: 1 }) });
  // many blocks: pieces ending in sync-flush markers (empty stored blocks), levels and strategies mixed
  const pieces: Uint8Array[] = [];
  const cuts = [0, 1, 100, 5000, 20000, 65535 + 20000, data.length].filter((c) => c <= data.length);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const last = i + 2 === cuts.length;
    pieces.push(deflateRawSync(data.subarray(cuts[i], cuts[i + 1]), { level: [0, 1, 9, 6][i % 4], strategy: i === 2 ? constants.Z_FIXED : 0,
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH }));
  }
  streams.push({ label: `${name} multi-block`, data, gz: gzipWrap(Buffer.concat(pieces), data) });
}
const tA = text.subarray(0, 3000);
streams.push({ label: 'FEXTRA FNAME FCOMMENT FHCRC FTEXT', data: tA,
  gz: gzipWrap(deflateRawSync(tA), tA, header({ extra: Uint8Array.of(65, 66, 4, 0, 1, 2, 3, 4), name: 'a.txt', comment: 'comment', hcrc: true, text: true })) });
streams.push({ label: 'FEXTRA empty, FNAME empty', data: tA, gz: gzipWrap(deflateRawSync(tA), tA, header({ extra: new Uint8Array(0), name: '' })) });
const modelStreams = models.map(({ name, data }) => ({ label: name, data, gz: gzipSync(data, { level: 9 }) }));
streams.push(...modelStreams);
for (const { name, data } of models) for (const level of [0, 1, 6]) streams.push({ label: `${name} level ${level}`, data, gz: gzipSync(data, { level }) });

// ---- round trips ----

for (const b of builds) {
  test(`gunzip round trips node:zlib streams bit-exactly [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    for (const s of streams) roundTrip(x, s.data, s.gz, s.label);
    assert.equal(x.liveRegions(), 0, 'no leaked regions');
  });

  test(`gunzipInWasm: shipped models, size limit, typed errors [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    for (const { label, data, gz } of modelStreams) {
      assert.ok(isGzip(gz) && !isGzip(data), label);
      const t0 = performance.now();
      const out = gunzipInWasm(x, gz);
      const ms = performance.now() - t0;
      assert.ok(Buffer.from(out).equals(data), label);
      if (label.startsWith('faceapi')) console.log(`gunzip ${b.backend}: ${label} ${(data.length / 1e6).toFixed(2)} MB in ${ms.toFixed(1)} ms (first call), level 9`);
    }
    assert.equal(isGzip(Uint8Array.of(0x1f)), false);
    // ISIZE above MAX_GUNZIP_BYTES (64 MiB) is refused before any output buffer is allocated
    const big = Buffer.concat([gzipSync(random1M.subarray(0, 300000), { level: 1 })]);
    assert.ok(big.length * 1032 > MAX_GUNZIP_BYTES);
    big.writeUInt32LE(MAX_GUNZIP_BYTES + 1, big.length - 4);
    assert.throws(() => gunzipInWasm(x, big), (e: unknown) => e instanceof ModelFormatError && e.detail.code === 'E_GZIP_SIZE' && e.message.includes(String(MAX_GUNZIP_BYTES + 1)));
    const bad = Buffer.from(gzipSync(text));
    bad[bad.length - 8] ^= 1;
    assert.throws(() => gunzipInWasm(x, bad), (e: unknown) => e instanceof ModelFormatError && e.detail.code === 'E_GZIP_CRC' && /CRC-32/.test(e.message));
    // a cut file: the last 4 bytes are no trailer, and the size they give is impossible for its length
    assert.throws(() => gunzipInWasm(x, gzipSync(text).subarray(0, 500)), (e: unknown) => e instanceof ModelFormatError && e.detail.code === 'E_GZIP_ISIZE' && /truncated/.test(e.message));
    // a stored block missing 100 bytes: found truncated inside the wasm
    const stored = gzipSync(text.subarray(0, 1000), { level: 0 });
    assert.throws(() => gunzipInWasm(x, Buffer.concat([stored.subarray(0, 100), stored.subarray(200)])),
      (e: unknown) => e instanceof ModelFormatError && e.detail.code === 'E_INFLATE_TRUNCATED' && /truncated/.test(e.message));
    assert.throws(() => gunzipInWasm(x, Uint8Array.of(1, 2, 3)), (e: unknown) => e instanceof ModelFormatError && e.detail.code === 'E_GZIP_MAGIC');
    assert.equal(x.liveRegions(), 0, 'no leaked regions');
  });
}

test('gunzip throughput on the embedder model [simd]', { skip: builds[1].skip }, () => {
  const x = builds[1].kernels!.wasm;
  const m = models.find((f) => f.name.startsWith('faceapi'));
  if (!m) return;
  for (const level of [6, 9]) {
    const gz = gzipSync(m.data, { level });
    const src = x.alloc(gz.length), dst = x.alloc(m.data.length), sb = x.inflateScratchBytes(), sc = x.alloc(sb);
    new Uint8Array(x.memory.buffer, src, gz.length).set(gz);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      assert.equal(x.gunzip(src, gz.length, dst, m.data.length, sc, sb), m.data.length);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[times.length >> 1];
    console.log(`gunzip throughput (simd, ${m.name}, level ${level}, ${(gz.length / 1e6).toFixed(2)} MB -> ${(m.data.length / 1e6).toFixed(2)} MB): ` +
      `${ms.toFixed(1)} ms median, ${(m.data.length / ms / 1e3).toFixed(0)} MB/s output`);
    x.free(src); x.free(dst); x.free(sc);
  }
});

// ---- hand-made streams: one per status code ----

const blk = () => new BitWriter();
const lit4 = lensFor(258, { 97: 2, 98: 2, 256: 2, 257: 2 }); // 'a', 'b', end of block, length 3: complete
const cases: { name: string; gz: Uint8Array; status: number; out?: string; cap?: number }[] = [];
const GZ_HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255);
/** A case wrapping a DEFLATE stream in gzip (its trailer from zlib's output when zlib can inflate it). */
const add = (name: string, deflate: Uint8Array, status: number, out?: string, opts: { cap?: number } = {}) => {
  let data: Uint8Array = new Uint8Array(0);
  try { data = inflateRawSync(deflate); } catch { /* invalid: trailer of empty data */ }
  if (out !== undefined) assert.equal(Buffer.from(data).toString('latin1'), out, `${name}: zlib's reading of the hand-made stream`);
  cases.push({ name, gz: gzipWrap(deflate, data), status, out, cap: opts.cap ?? (status < 0 ? 1000 : undefined) });
};
/** A case whose gzip file ends right after the deflate data given (no trailer). */
const addCut = (name: string, deflate: Uint8Array, status: number) => cases.push({ name, gz: Buffer.concat([GZ_HEADER, deflate]), status, cap: 1000 });

add('fixed: literal, match at distance 1', fixedBlock(blk(), true, [97, [258, 0, 0, 0]]).done(), 5, 'aaaaa');
add('fixed: length 258 (symbol 285), distance with extra bits', fixedBlock(blk(), true, [97, 98, 99, 100, 101, [285, 0, 4, 0], [266, 1, 5, 1]]).done(), 5 + 258 + 14);
add('fixed: symbol 286', fixedBlock(blk(), true, [97, 286]).done(), S.SYMBOL);
add('fixed: symbol 287', fixedBlock(blk(), true, [287]).done(), S.SYMBOL);
add('fixed: distance symbol 30', fixedBlock(blk(), true, [97, [257, 0, 30, 0]]).done(), S.DIST_SYMBOL);
add('fixed: distance symbol 31', fixedBlock(blk(), true, [97, [257, 0, 31, 0]]).done(), S.DIST_SYMBOL);
add('fixed: distance 2 after 1 byte', fixedBlock(blk(), true, [97, [257, 0, 1, 0]]).done(), S.DIST_FAR);
add('fixed: distance 1 at the start', fixedBlock(blk(), true, [[257, 0, 0, 0]]).done(), S.DIST_FAR);
add('block type 3', blk().bits(1, 1).bits(3, 2).done(), S.BTYPE);
add('stored: LEN/NLEN mismatch', blk().bits(1, 1).bits(0, 2).raw([5, 0, 0xfa, 0xfe, 1, 2, 3, 4, 5]).done(), S.STORED);
addCut('stored: data past the input', blk().bits(1, 1).bits(0, 2).raw([5, 0, 0xfa, 0xff, 1, 2, 3]).done(), S.TRUNCATED);
addCut('stored: LEN cut', blk().bits(1, 1).bits(0, 2).raw([5, 0, 0xfa]).done(), S.TRUNCATED);
add('stored, empty, then fixed', fixedBlock(blk().bits(0, 1).bits(0, 2).raw([0, 0, 0xff, 0xff]), true, [120]).done(), 1, 'x');
add('dynamic: 287 literal/length codes', blk().bits(1, 1).bits(2, 2).bits(30, 5).bits(0, 5).bits(0, 4).bits(0, 12).done(), S.COUNTS);
add('dynamic: 31 distance codes', blk().bits(1, 1).bits(2, 2).bits(0, 5).bits(30, 5).bits(0, 4).bits(0, 12).done(), S.COUNTS);
add('dynamic: code-length code over-subscribed', dynamicBlock(blk(), true, { hlit: 257, hdist: 1, pre: new Array(19).fill(1), cl: [] }).done(), S.OVERSUB);
add('dynamic: code-length code incomplete', dynamicBlock(blk(), true, { hlit: 257, hdist: 1, pre: lensFor(19, { 0: 1 }), cl: [] }).done(), S.INCOMPLETE);
add('dynamic: code-length code empty', dynamicBlock(blk(), true, { hlit: 257, hdist: 1, pre: new Array(19).fill(0), cl: [] }).done(), S.INCOMPLETE);
add('dynamic: repeat with no previous length', dynamicBlock(blk(), true, { hlit: 257, hdist: 1, pre: lensFor(19, { 16: 1, 0: 2, 1: 2 }), cl: [[16, 0]] }).done(), S.REPEAT);
add('dynamic: zero run past the last code', dynamicBlock(blk(), true, { hlit: 257, hdist: 1, pre: lensFor(19, { 18: 1, 0: 2, 1: 2 }),
  cl: [[18, 127], [18, 127], [18, 0]] }).done(), S.REPEAT);
add('dynamic: no end-of-block code', dynamicBlock(blk(), true, { hlit: 258, hdist: 1, pre: PRE_FLAT, cl: spell([...lensFor(258, { 97: 1, 257: 1 }), 1]) }).done(), S.NO_EOB);
add('dynamic: literal/length lengths over-subscribed', dynamicBlock(blk(), true, { hlit: 258, hdist: 1, pre: PRE_FLAT,
  cl: spell([...lensFor(258, { 97: 1, 256: 1, 257: 1 }), 1]) }).done(), S.OVERSUB);
add('dynamic: literal/length lengths incomplete', dynamicBlock(blk(), true, { hlit: 258, hdist: 1, pre: PRE_FLAT,
  cl: spell([...lensFor(258, { 97: 2, 256: 2, 257: 2 }), 1]) }).done(), S.INCOMPLETE);
add('dynamic: distance lengths over-subscribed', dynamicBlock(blk(), true, { hlit: 258, hdist: 3, pre: PRE_FLAT,
  cl: spell([...lit4, 1, 1, 1]) }).done(), S.OVERSUB);
add('dynamic: distance lengths incomplete', dynamicBlock(blk(), true, { hlit: 258, hdist: 3, pre: PRE_FLAT,
  cl: spell([...lit4, 2, 2, 0]) }).done(), S.INCOMPLETE);
{
  // valid: a single distance code of length 1 (incomplete, as zlib allows), then its unused code
  const o = { hlit: 258, hdist: 1, pre: PRE_FLAT, cl: spell([...lit4, 1]), lit: lit4, dist: [1] };
  add('dynamic: single distance code', dynamicBlock(blk(), true, { ...o, body: [97, 98, 257, ['d', 0], 256] }).done(), 5, 'abbbb');
  const w = dynamicBlock(blk(), true, { ...o, body: [97, 257] });
  add('dynamic: unused half of a single distance code', w.bits(1, 1).done(), S.DIST_SYMBOL);
  // valid: no distance codes at all (literals only); a length then has no distance to use
  const o0 = { hlit: 258, hdist: 1, pre: PRE_FLAT, cl: spell([...lit4, 0]), lit: lit4, dist: [0] };
  add('dynamic: no distance codes', dynamicBlock(blk(), true, { ...o0, body: [98, 97, 256] }).done(), 2, 'ba');
  add('dynamic: length without distance codes', dynamicBlock(blk(), true, { ...o0, body: [98, 257] }).bits(0, 8).done(), S.DIST_SYMBOL);
  // valid: a single literal/length code (end of block only), then the unused code
  const oe = { hlit: 257, hdist: 1, pre: PRE_FLAT, cl: spell([...lensFor(257, { 256: 1 }), 0]), lit: lensFor(257, { 256: 1 }) };
  add('dynamic: end of block as the only code', dynamicBlock(blk(), true, { ...oe, body: [256] }).done(), 0, '');
  add('dynamic: unused half of a single literal/length code', dynamicBlock(blk(), true, oe).bits(1, 1).done(), S.SYMBOL);
  // repeats: 16 (copy previous), 17 and 18 (zeros), the last one crossing from literal/length into distance lengths
  const lit = lensFor(258, { 97: 2, 98: 2, 256: 2, 257: 2 }), dist = [2, 2, 2, 2];
  const cl: Sym[] = [[18, 86], 2, 2, [17, 7], [18, 127], [17, 6], 2, [16, 2]];
  add('dynamic: repeat codes', dynamicBlock(blk(), true, { hlit: 258, hdist: 4, pre: lensFor(19, { 2: 2, 16: 2, 17: 2, 18: 2 }), cl, lit, dist,
    body: [97, 98, 257, ['d', 1], 257, ['d', 3], 256] }).done(), 8, 'abababab');
}
addCut('truncated in a fixed block', fixedBlock(blk(), true, [97, 98, 99, 100]).done().subarray(0, 2), S.TRUNCATED);
addCut('truncated before the end-of-block code', fixedBlock(blk(), true, [97, 98, 99, 100]).done().subarray(0, 4), S.TRUNCATED);
addCut('truncated: no final block', fixedBlock(blk(), false, [97]).done(), S.TRUNCATED);
addCut('truncated in a dynamic header', dynamicBlock(blk(), true, { hlit: 258, hdist: 1, pre: PRE_FLAT, cl: spell([...lit4, 1]) }).done().subarray(0, 20), S.TRUNCATED);
add('output longer than the buffer', fixedBlock(blk(), true, [97, [258, 0, 0, 0]]).done(), S.OVERFLOW, 'aaaaa', { cap: 4 });
add('literal past the buffer', fixedBlock(blk(), true, [97, 98]).done(), S.OVERFLOW, 'ab', { cap: 1 });
add('stored block past the buffer', blk().bits(1, 1).bits(0, 2).raw([3, 0, 0xfc, 0xff, 1, 2, 3]).done(), S.OVERFLOW, '\x01\x02\x03', { cap: 2 });
{
  const ok = gzipSync(text.subarray(0, 1000));
  const mod = (f: (b: Buffer) => void) => { const c = Buffer.from(ok); f(c); return c; };
  cases.push({ name: 'bad magic', gz: mod((c) => { c[1] = 0x8c; }), status: S.MAGIC });
  cases.push({ name: 'method 7', gz: mod((c) => { c[2] = 7; }), status: S.METHOD });
  cases.push({ name: 'reserved flag', gz: mod((c) => { c[3] = 0x20; }), status: S.FLAGS });
  cases.push({ name: 'FNAME without terminator', gz: Buffer.concat([Uint8Array.of(0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3), Buffer.alloc(12, 65)]), status: S.HEADER });
  cases.push({ name: 'FEXTRA longer than the file', gz: Buffer.concat([Uint8Array.of(0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 200, 0), Buffer.alloc(20)]), status: S.HEADER });
  cases.push({ name: 'FHCRC past the end', gz: Uint8Array.of(0x1f, 0x8b, 8, 2, 0, 0, 0, 0, 0, 3, 1), status: S.HEADER });
  const h = header({ name: 'x', hcrc: true });
  h[h.length - 1] ^= 0x40;
  cases.push({ name: 'header CRC mismatch', gz: Buffer.concat([h, ok.subarray(10)]), status: S.HCRC });
  cases.push({ name: 'CRC-32 mismatch', gz: mod((c) => { c[c.length - 6] ^= 4; }), status: S.CRC });
  cases.push({ name: 'ISIZE mismatch', gz: mod((c) => { c[c.length - 4] ^= 1; }), status: S.ISIZE, cap: 2000 });
  cases.push({ name: 'trailing byte', gz: Buffer.concat([ok, Uint8Array.of(0)]), status: S.TRAILING, cap: 1000 });
  cases.push({ name: 'second member', gz: Buffer.concat([ok, ok]), status: S.TRAILING, cap: 1000 });
  cases.push({ name: 'trailer cut', gz: ok.subarray(0, ok.length - 1), status: S.TRUNCATED, cap: 1000 });
  cases.push({ name: 'header only', gz: ok.subarray(0, 10), status: S.TRUNCATED, cap: 1000 });
  cases.push({ name: '19 bytes', gz: ok.subarray(0, 19), status: S.TRUNCATED, cap: 1000 });
  cases.push({ name: 'empty', gz: new Uint8Array(0), status: S.TRUNCATED, cap: 16 });
}

for (const b of builds) {
  test(`hand-made streams give their status codes, as zlib judges them [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    for (const c of cases) {
      const r = gunzipChecked(x, c.gz, c.cap);
      assert.equal(r.status, c.status, `${c.name}: got ${r.status} (${gzipStatus(r.status).code}), expected ${c.status} (${gzipStatus(c.status).code})`);
      if (c.out !== undefined && r.status >= 0) assert.equal(Buffer.from(r.out!).toString('latin1'), c.out, c.name);
      // zlib agrees on validity (the TRAILING cases aside: node accepts concatenated members and ignores trailing zeros)
      let zlibOut: Buffer | null = null;
      try { zlibOut = gunzipSync(c.gz); } catch { /* rejected */ }
      if (r.status >= 0) assert.ok(zlibOut && zlibOut.equals(r.out!), `${c.name}: zlib disagrees`);
      else if (r.status !== S.TRAILING && r.status !== S.OVERFLOW) assert.equal(zlibOut, null, `${c.name}: zlib accepts it`);
      if (r.status < 0) assert.ok(gzipStatus(r.status).code.startsWith('E_G') || gzipStatus(r.status).code.startsWith('E_INFLATE'), c.name);
    }
    assert.equal(x.liveRegions(), 0, 'no leaked regions');
  });

  test(`gunzip entry points validate their arguments [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    const gz = gzipSync(text.subarray(0, 100)), sb = x.inflateScratchBytes();
    assert.ok(sb > 0 && sb <= 1 << 16);
    const src = x.alloc(gz.length), dst = x.alloc(100), sc = x.alloc(sb);
    new Uint8Array(x.memory.buffer, src, gz.length).set(gz);
    assert.equal(x.gunzipSize(src, gz.length), 100);
    assert.equal(x.gunzipSize(src, gz.length + 16), -1, 'E_BOUNDS past the region');
    assert.equal(x.gunzipSize(src, -1), -2);
    assert.equal(x.gunzipSize(src, 1), S.TRUNCATED);
    assert.equal(x.gunzipSize(dst, 100), S.MAGIC);
    assert.equal(x.gunzip(src, gz.length, dst, 100, sc, sb), 100);
    assert.equal(x.gunzip(src, gz.length, dst, 113, sc, sb), -1, 'output past its region (100 bytes, rounded up to 112)');
    assert.equal(x.gunzip(src, gz.length + 16, dst, 100, sc, sb), -1, 'input past its region');
    assert.equal(x.gunzip(src, gz.length, dst, 100, sc + 16, sb), -1, 'scratch past its region');
    assert.equal(x.gunzip(src, gz.length, dst, 100, sc, sb - 1), -4);
    assert.equal(x.gunzip(src, gz.length, dst, 100, 0, sb), -1);
    assert.equal(x.gunzip(src, -5, dst, 100, sc, sb), -2);
    assert.equal(x.gunzip(src, gz.length, dst, -1, sc, sb), -2);
    assert.equal(x.gunzip(src, gz.length, src, gz.length, sc, sb), -3, 'output overlaps input');
    const big = x.alloc(sb + 200);
    assert.equal(x.gunzip(src, gz.length, big, 100, big + 50, sb), -3, 'scratch overlaps output');
    assert.equal(x.gunzip(src, gz.length, big, 100, big + 112, sb), 100);
    for (const p of [src, dst, sc, big]) x.free(p);
    assert.equal(x.liveRegions(), 0);
  });
}

// ---- fuzz ----

/** Few-KB streams of varied content, levels, strategies and block types. */
function fuzzBases(): Uint8Array[] {
  const r = rng(7);
  const out: Uint8Array[] = [];
  for (let i = 0; i < 24; i++) {
    const n = r.int(0, 6000);
    const kind = i % 4;
    const data = Uint8Array.from({ length: n }, (_, j) => (kind === 0 ? r.int(0, 255) : kind === 1 ? text[(j * 7) % text.length] : kind === 2 ? (j >> r.int(0, 6)) & 0xff : r.int(0, 3) * 60));
    const strategy = [0, constants.Z_FIXED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE][(i >> 2) % 4];
    const gz = gzipSync(data, { level: [0, 1, 6, 9][i % 4 === 0 ? (i >> 2) % 4 : 2 + (i & 1)], strategy });
    out.push(i % 5 === 0 ? Buffer.concat([header({ name: 'n', comment: 'c', extra: Uint8Array.of(1, 2, 3), hcrc: true }), gz.subarray(10)]) : gz);
  }
  return out;
}

function mutate(base: Uint8Array, r: ReturnType<typeof rng>): Uint8Array {
  let b = Buffer.from(base);
  const kind = r.int(-1, 9);
  if (kind < 0) return b; // intact: exercises success and output-buffer sizes
  if (kind <= 3) { // flip bits, mostly in the deflate data
    for (let k = r.int(1, 4); k > 0; k--) { const i = r.int(0, b.length - 1); b[i] ^= 1 << r.int(0, 7); }
  } else if (kind <= 5) { // overwrite bytes
    for (let k = r.int(1, 3); k > 0; k--) b[r.int(0, b.length - 1)] = r.pick([0, 0xff, r.int(0, 255)]);
  } else if (kind === 6) { // truncate
    b = b.subarray(0, r.int(0, b.length - 1));
  } else if (kind === 7) { // delete or insert a run
    const i = r.int(0, b.length), n = r.int(1, 16);
    b = r.next() < 0.5 ? Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + n))]) : Buffer.concat([b.subarray(0, i), Buffer.from(Array.from({ length: n }, () => r.int(0, 255))), b.subarray(i)]);
  } else if (kind === 8) { // random bytes after a valid header
    b = Buffer.concat([b.subarray(0, 10), Buffer.from(Array.from({ length: r.int(0, 3000) }, () => r.int(0, 255)))]);
  } else { // header and trailer fields
    const i = r.pick([2, 3, 3, b.length - 8, b.length - 5, b.length - 4, b.length - 1]);
    if (i >= 0 && i < b.length) b[i] = r.int(0, 255);
  }
  return b;
}

for (const b of builds) {
  test(`fuzzed gzip streams return status codes and stay inside their buffers [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    const bases = fuzzBases();
    const r = rng(1952);
    const seen = new Map<number, number>();
    let ok = 0;
    for (let i = 0; i < FUZZ_CASES; i++) {
      const base = bases[i % bases.length];
      const gz = mutate(base, r);
      const size = gz.length >= 4 ? new DataView(gz.buffer, gz.byteOffset).getUint32(gz.length - 4, true) : 0;
      const cap = r.pick([size, size, Math.max(0, size - r.int(1, 300)), size + r.int(1, 300), r.int(0, 20000)]);
      const res = gunzipChecked(x, gz, Math.min(cap, 1 << 20));
      seen.set(res.status < 0 ? res.status : 0, (seen.get(res.status < 0 ? res.status : 0) ?? 0) + 1);
      if (res.status >= 0) {
        ok++;
        // anything accepted is what zlib makes of it
        const z = gunzipSync(gz);
        assert.ok(z.equals(res.out!), `case ${i}: accepted output differs from zlib's`);
      } else {
        assert.ok(STREAM_CODES.has(res.status), `case ${i}: unexpected status ${res.status}`);
      }
    }
    assert.equal(x.liveRegions(), 0, 'no leaked regions');
    // still decompresses correctly afterwards
    roundTrip(x, text, gzipSync(text), 'after fuzzing');
    assert.ok(seen.size >= 12, `fuzz reached only ${seen.size} outcomes`);
    console.log(`gzip fuzz ${b.backend}: ${FUZZ_CASES} streams, ${ok} decoded, outcomes ${[...seen].sort((p, q) => q[0] - p[0]).map(([s, n]) => `${s ? gzipStatus(s).code : 'OK'} ${n}`).join(', ')}`);
  });
}
