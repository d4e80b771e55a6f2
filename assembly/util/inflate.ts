// gzip (RFC 1952) and DEFLATE decompression (RFC 1951) on raw linear memory, for compressed model
// files in every engine (bare JS shells have no DecompressionStream, WASI runtimes no zlib).
//
// One-shot: the whole input and the whole output buffer are in memory, so the output buffer is the
// LZ77 window and nothing is buffered. Never reads outside [src, srcEnd) and never writes outside
// [dst, dstEnd); every malformed stream ends with one of the negative status codes below.
//
// Decoding (RFC 1951 3.2.2-3.2.7) is table driven:
//  * bit buffer: a 64-bit accumulator, filled LSB first (3.1.1). While 8 input bytes remain, a refill
//    is one unaligned u64 load OR-ed in above the valid bits; the input pointer advances by the whole
//    bytes that fitted (bits above the count are the next bytes again, so OR-ing them twice is
//    harmless). Near the end it goes byte by byte and then appends virtual zero bytes, counted in
//    `over`: the stream is truncated exactly when some of those were consumed (bit count < over * 8).
//    After a refill at least 56 bits are valid: a literal/length code with its extra bits and a
//    distance code with its extra bits take at most 15 + 5 + 15 + 13 = 48.
//  * Huffman tables: a 2^ROOT-entry primary table indexed by the next ROOT bits (bit-reversed
//    canonical codes, 3.2.2), each code replicated over the entries it prefixes; codes longer than
//    ROOT go to a secondary table per ROOT-bit prefix, sized for the longest code in it, reached
//    through a pointer entry. Literal/length root 10 bits, distance 8, code-length code 7.
//  * table entry (u32): bits 0-4 code length, 8-11 extra bits (or a secondary table's index bits),
//    12 SUB (pointer), 13 BAD (unused code or invalid symbol), 14 EOB, 15 LIT, 16-31 value (literal
//    byte, length/distance base, code-length symbol, or a secondary table's offset in entries).
//  * fixed-code tables (3.2.6) are built once into static memory; dynamic ones (3.2.7) go to the
//    caller's scratch (INFLATE_SCRATCH bytes), with the builder's temporaries.
//  * CRC-32 (RFC 1952 section 8) by slicing-by-8 over an 8 KB table computed on first use.
//
// Code lengths are accepted as zlib accepts them: over-subscribed sets are refused; incomplete sets
// only for a literal/length or distance code that is a single code of length 1 (or a distance code
// with no codes at all, for blocks without matches); the code-length code must be complete.
// A gzip file must be a single member (RFC 1952 2.2 allows several; bytes after the first member's
// trailer are refused), and bits after the last block up to the byte boundary are ignored.

// ---- status codes (distinct from core/status.ts: -20 ... -39) ----
/** ID1/ID2 are not 0x1f 0x8b: not a gzip stream. */
export const GZ_E_MAGIC: i32 = -20;
/** CM is not 8 (deflate). */
export const GZ_E_METHOD: i32 = -21;
/** Reserved FLG bits are set. */
export const GZ_E_FLAGS: i32 = -22;
/** The header (FEXTRA, FNAME, FCOMMENT or FHCRC field) runs past the end of the input. */
export const GZ_E_HEADER: i32 = -23;
/** The header CRC16 (FHCRC) does not match. */
export const GZ_E_HCRC: i32 = -24;
/** A block has the reserved type 3. */
export const INF_E_BTYPE: i32 = -25;
/** A stored block's LEN is not the complement of NLEN. */
export const INF_E_STORED: i32 = -26;
/** A dynamic block declares more than 286 literal/length or 30 distance codes. */
export const INF_E_COUNTS: i32 = -27;
/** Code lengths are over-subscribed (more codes than the lengths can hold). */
export const INF_E_OVERSUB: i32 = -28;
/** Code lengths are incomplete (allowed only for a single code of length 1). */
export const INF_E_INCOMPLETE: i32 = -29;
/** A code-length repeat has no previous length or runs past the number of codes. */
export const INF_E_REPEAT: i32 = -30;
/** The literal/length code has no end-of-block symbol. */
export const INF_E_NO_EOB: i32 = -31;
/** An invalid literal/length symbol (286, 287, or a code the lengths leave unused). */
export const INF_E_SYMBOL: i32 = -32;
/** An invalid distance symbol (30, 31, or an unused code). */
export const INF_E_DIST_SYMBOL: i32 = -33;
/** A distance reaches back before the start of the output. */
export const INF_E_DIST_FAR: i32 = -34;
/** The input ends before the stream does. */
export const INF_E_TRUNCATED: i32 = -35;
/** The output does not fit in the buffer given. */
export const INF_E_OVERFLOW: i32 = -36;
/** The CRC-32 in the trailer does not match the data. */
export const GZ_E_CRC: i32 = -37;
/** ISIZE in the trailer does not match the output length. */
export const GZ_E_ISIZE: i32 = -38;
/** Bytes follow the gzip member's trailer. */
export const GZ_E_TRAILING: i32 = -39;

// ---- table entries ----
const F_SUB: u32 = 0x1000;
const F_BAD: u32 = 0x2000;
const F_EOB: u32 = 0x4000;
const F_LIT: u32 = 0x8000;

const KIND_PRE: i32 = 0;
const KIND_LIT: i32 = 1;
const KIND_DIST: i32 = 2;

const LROOT: u32 = 10;
const DROOT: u32 = 8;
const PROOT: u32 = 7;
const LMASK: usize = (1 << LROOT) - 1;
const DMASK: usize = (1 << DROOT) - 1;
const PMASK: usize = (1 << PROOT) - 1;
// Entries a table can need: the primary table plus secondary tables. A secondary table of 2^s
// entries holds a complete subtree of depth s, so at least s + 1 codes: with s <= 15 - ROOT, at most
// 32/6 entries per code for literal/length (286 codes: 1024 + 1525) and 128/8 for distance
// (30 codes: 256 + 480). The builder still checks the capacity.
const LIT_CAP: u32 = 2560;
const DIST_CAP: u32 = 768;
const PRE_CAP: u32 = 1 << PROOT;

// scratch layout (bytes)
const S_LIT: usize = 0;
const S_DIST: usize = S_LIT + LIT_CAP * 4;
const S_PRE: usize = S_DIST + DIST_CAP * 4;
const S_LENS: usize = S_PRE + PRE_CAP * 4;     // 286 + 30 code lengths (u8), padded
const S_CODES: usize = S_LENS + 320;            // bit-reversed code per symbol (u16), 288 of them
const S_PREF: usize = S_CODES + 288 * 2;        // longest code per primary prefix (u8), 1 << LROOT
const S_COUNT: usize = S_PREF + (1 << LROOT);   // codes per length (u16 x 16)
const S_NEXT: usize = S_COUNT + 32;             // next code per length (u16 x 16)
/** Bytes of scratch inflate() needs. */
export const INFLATE_SCRATCH: i32 = <i32>((S_NEXT + 32 + 1023) & ~1023);

// Fixed-code tables (3.2.6) and the CRC-32 table, computed on first use.
const FIXED_LIT: usize = memory.data(<i32>(1 << LROOT) * 4, 16);
const FIXED_DIST: usize = memory.data(<i32>(1 << DROOT) * 4, 16);
let fixedReady: bool = false;
const CRC_TABLE: usize = memory.data(8 * 256 * 4, 16);
let crcReady: bool = false;

// Order of the code-length code lengths in a dynamic block header (3.2.7).
const CL_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

// ---- bit input (for headers; the block decoder keeps these in locals) ----
let ip: usize = 0;
let inEnd: usize = 0;
let bitBuf: u64 = 0;
let bitCount: u32 = 0;
let over: u32 = 0;
let outPtr: usize = 0;

/** Tops the bit buffer up to at least 56 valid bits. */
function refill(): void {
  if (ip + 8 <= inEnd) {
    bitBuf |= load<u64>(ip) << <u64>bitCount;
    ip += <usize>((63 - bitCount) >> 3);
    bitCount |= 56;
    return;
  }
  while (bitCount <= 55) {
    if (ip < inEnd) { bitBuf |= <u64>load<u8>(ip) << <u64>bitCount; ip++; } else over++;
    bitCount += 8;
  }
}

/** The next n bits (n <= 16), LSB first. */
function getBits(n: u32): u32 {
  if (bitCount < n) refill();
  const v = <u32>bitBuf & ((1 << n) - 1);
  bitBuf >>= <u64>n;
  bitCount -= n;
  return v;
}

/** True when bits past the end of the input have been consumed. */
@inline function overran(): bool { return bitCount < over << 3; }

/**
 * Drops the bits up to the next byte boundary and returns the input position of the next unread
 * byte, leaving the bit buffer empty; 0 when the stream already ran past the input.
 */
function alignToByte(): usize {
  bitCount &= ~7;
  const k = bitCount >> 3;
  if (k < over) return 0;
  const pos = ip - <usize>(k - over);
  bitBuf = 0; bitCount = 0; over = 0; ip = pos;
  return pos;
}

// ---- Huffman tables (RFC 1951 3.2.2) ----

/** The table entry for symbol `sym` with a code of `len` bits. */
function entryFor(kind: i32, sym: u32, len: u32): u32 {
  if (kind == KIND_PRE) return sym << 16 | len;
  if (kind == KIND_LIT) {
    if (sym < 256) return F_LIT | sym << 16 | len;
    if (sym == 256) return F_EOB | len;
    const i = sym - 257;
    if (i >= 29) return F_BAD | len;                // 286, 287 (fixed code only)
    if (i < 8) return (i + 3) << 16 | len;           // 3.2.5: lengths 3..10, no extra bits
    if (i == 28) return 258 << 16 | len;
    const x = (i - 4) >> 2;
    return (((4 + (i & 3)) << x) + 3) << 16 | x << 8 | len;
  }
  if (sym >= 30) return F_BAD | len;                 // distance 30, 31 (fixed code only)
  if (sym < 4) return (sym + 1) << 16 | len;         // 3.2.5: distances 1..4, no extra bits
  const x = (sym >> 1) - 1;
  return (((2 + (sym & 1)) << x) + 1) << 16 | x << 8 | len;
}

/**
 * Builds the decoding table for code lengths lens[0..n) (u8, each <= 15) at `table` (capacity `cap`
 * entries, primary table of 2^root). Returns the entries used or a negative status.
 */
function buildTable(lens: usize, n: u32, table: usize, root: u32, cap: u32, kind: i32, scratch: usize): i32 {
  const count = scratch + S_COUNT, next = scratch + S_NEXT, codes = scratch + S_CODES, pref = scratch + S_PREF;
  memory.fill(count, 0, 32);
  for (let s: u32 = 0; s < n; s++) {
    const l = <usize>load<u8>(lens + s);
    store<u16>(count + (l << 1), load<u16>(count + (l << 1)) + 1);
  }
  // Kraft inequality: `left` is the number of unused codes of the current length.
  let left: i32 = 1;
  let maxLen: u32 = 0;
  for (let l: u32 = 1; l <= 15; l++) {
    const c = <i32>load<u16>(count + (<usize>l << 1));
    left = (left << 1) - c;
    if (left < 0) return INF_E_OVERSUB;
    if (c) maxLen = l;
  }
  const rootSize: u32 = 1 << root;
  const bad = F_BAD;
  for (let i: u32 = 0; i < rootSize; i++) store<u32>(table + (<usize>i << 2), bad);
  if (maxLen == 0) return kind == KIND_PRE ? INF_E_INCOMPLETE : <i32>rootSize; // no codes: every lookup is BAD
  if (left > 0 && (kind == KIND_PRE || maxLen != 1)) return INF_E_INCOMPLETE;
  // first code of each length (3.2.2 step 2)
  let code: u32 = 0;
  store<u16>(next, 0);
  for (let l: u32 = 1; l <= 15; l++) {
    code = (code + <u32>load<u16>(count + (<usize>(l - 1) << 1))) << 1;
    store<u16>(next + (<usize>l << 1), <u16>code);
  }
  // codes in increasing order per length (step 3), stored bit-reversed: the stream sends a code's
  // most significant bit first, and the bit buffer is read from its least significant end
  if (maxLen > root) memory.fill(pref, 0, rootSize);
  for (let s: u32 = 0; s < n; s++) {
    const l = <u32>load<u8>(lens + s);
    if (!l) continue;
    const c = <u32>load<u16>(next + (<usize>l << 1));
    store<u16>(next + (<usize>l << 1), <u16>(c + 1));
    let r: u32 = 0;
    for (let b: u32 = 0; b < l; b++) r |= ((c >> b) & 1) << (l - 1 - b);
    store<u16>(codes + (<usize>s << 1), <u16>r);
    if (l > root) {
      const p = pref + <usize>(r & (rootSize - 1));
      if (<u32>load<u8>(p) < l) store<u8>(p, <u8>l);
    }
  }
  // secondary tables, one per primary prefix of longer codes
  let used: u32 = rootSize;
  if (maxLen > root) {
    for (let p: u32 = 0; p < rootSize; p++) {
      const l = <u32>load<u8>(pref + p);
      if (!l) continue;
      const bits = l - root, size: u32 = 1 << bits;
      if (used + size > cap) return INF_E_OVERSUB; // unreachable for a valid set of lengths
      store<u32>(table + (<usize>p << 2), used << 16 | bits << 8 | F_SUB);
      for (let i: u32 = 0; i < size; i++) store<u32>(table + (<usize>(used + i) << 2), bad);
      used += size;
    }
  }
  for (let s: u32 = 0; s < n; s++) {
    const l = <u32>load<u8>(lens + s);
    if (!l) continue;
    const r = <u32>load<u16>(codes + (<usize>s << 1));
    const e = entryFor(kind, s, l);
    if (l <= root) {
      for (let i = r; i < rootSize; i += 1 << l) store<u32>(table + (<usize>i << 2), e);
    } else {
      const ptr = load<u32>(table + (<usize>(r & (rootSize - 1)) << 2));
      const sub = table + (<usize>(ptr >> 16) << 2), size: u32 = 1 << ((ptr >> 8) & 15);
      for (let i = r >> root; i < size; i += 1 << (l - root)) store<u32>(sub + (<usize>i << 2), e);
    }
  }
  return <i32>used;
}

function buildFixed(scratch: usize): void {
  const lens = scratch + S_LENS;
  memory.fill(lens, 8, 144);
  memory.fill(lens + 144, 9, 112);
  memory.fill(lens + 256, 7, 24);
  memory.fill(lens + 280, 8, 8);
  buildTable(lens, 288, FIXED_LIT, LROOT, 1 << LROOT, KIND_LIT, scratch);
  memory.fill(lens, 5, 32);
  buildTable(lens, 32, FIXED_DIST, DROOT, 1 << DROOT, KIND_DIST, scratch);
  fixedReady = true;
}

/** Reads a dynamic block's code lengths (3.2.7) and builds its tables in scratch. */
function readDynamic(scratch: usize): i32 {
  const hlit = getBits(5) + 257, hdist = getBits(5) + 1, hclen = getBits(4) + 4;
  if (hlit > 286 || hdist > 30) return INF_E_COUNTS;
  const lens = scratch + S_LENS, pre = scratch + S_PRE;
  memory.fill(lens, 0, 19);
  for (let i: u32 = 0; i < hclen; i++) store<u8>(lens + <usize>load<u8>(CL_ORDER + i), <u8>getBits(3));
  if (overran()) return INF_E_TRUNCATED;
  let st = buildTable(lens, 19, pre, PROOT, PRE_CAP, KIND_PRE, scratch);
  if (st < 0) return st;
  const total = hlit + hdist;
  let i: u32 = 0;
  while (i < total) {
    if (bitCount < 14) refill();
    const e = load<u32>(pre + ((<usize>bitBuf & PMASK) << 2));
    const l = e & 31;
    bitBuf >>= <u64>l; bitCount -= l;
    const sym = e >> 16;
    if (sym < 16) { store<u8>(lens + i, <u8>sym); i++; continue; }
    let v: u8 = 0, r: u32;
    if (sym == 16) {
      if (i == 0) return INF_E_REPEAT;
      v = load<u8>(lens + i - 1);
      r = 3 + getBits(2);
    } else if (sym == 17) r = 3 + getBits(3);
    else r = 11 + getBits(7);
    if (r > total - i) return INF_E_REPEAT;
    memory.fill(lens + i, v, r);
    i += r;
  }
  if (overran()) return INF_E_TRUNCATED;
  if (!load<u8>(lens + 256)) return INF_E_NO_EOB;
  st = buildTable(lens, hlit, scratch + S_LIT, LROOT, LIT_CAP, KIND_LIT, scratch);
  if (st < 0) return st;
  // the distance lengths follow the literal/length ones; the codes table is free again
  st = buildTable(lens + hlit, hdist, scratch + S_DIST, DROOT, DIST_CAP, KIND_DIST, scratch);
  return st < 0 ? st : 0;
}

/**
 * Decodes one Huffman-coded block with tables lt/dt, writing at outPtr (< outEnd). The hot loop:
 * bit state lives in locals and goes back to the globals on exit. Returns 0 at end of block.
 */
function decodeBlock(lt: usize, dt: usize, outStart: usize, outEnd: usize): i32 {
  let p = ip;
  const end = inEnd;
  let bits = bitBuf;
  let nb = bitCount;
  let ov = over;
  let op = outPtr;
  let st: i32 = 0;
  while (true) {
    // refill: at least 56 valid bits afterwards
    if (p + 8 <= end) {
      bits |= load<u64>(p) << <u64>nb;
      p += <usize>((63 - nb) >> 3);
      nb |= 56;
    } else {
      if (nb < ov << 3) { st = INF_E_TRUNCATED; break; }
      while (nb <= 55) {
        if (p < end) { bits |= <u64>load<u8>(p) << <u64>nb; p++; } else ov++;
        nb += 8;
      }
    }
    let e = load<u32>(lt + ((<usize>bits & LMASK) << 2));
    if (e & F_LIT) {
      // up to two literals per refill (2 x 15 bits)
      if (op >= outEnd) { st = INF_E_OVERFLOW; break; }
      store<u8>(op, <u8>(e >> 16));
      op++;
      bits >>= <u64>(e & 31); nb -= e & 31;
      e = load<u32>(lt + ((<usize>bits & LMASK) << 2));
      if (!(e & F_LIT)) continue;
      if (op >= outEnd) { st = INF_E_OVERFLOW; break; }
      store<u8>(op, <u8>(e >> 16));
      op++;
      bits >>= <u64>(e & 31); nb -= e & 31;
      continue;
    }
    if (e & F_SUB) {
      e = load<u32>(lt + ((<usize>(e >> 16) + (<usize>(bits >> <u64>LROOT) & ((<usize>1 << ((e >> 8) & 15)) - 1))) << 2));
      if (e & F_LIT) {
        if (op >= outEnd) { st = INF_E_OVERFLOW; break; }
        store<u8>(op, <u8>(e >> 16));
        op++;
        bits >>= <u64>(e & 31); nb -= e & 31;
        continue;
      }
    }
    if (e & (F_EOB | F_BAD)) {
      if (e & F_BAD) { st = INF_E_SYMBOL; break; }
      bits >>= <u64>(e & 31); nb -= e & 31;
      break;
    }
    // length (3.2.5): base + extra bits
    bits >>= <u64>(e & 31); nb -= e & 31;
    let x = (e >> 8) & 15;
    const len = <usize>((e >> 16) + (<u32>bits & ((1 << x) - 1)));
    bits >>= <u64>x; nb -= x;
    // distance
    let d = load<u32>(dt + ((<usize>bits & DMASK) << 2));
    if (d & F_SUB) d = load<u32>(dt + ((<usize>(d >> 16) + (<usize>(bits >> <u64>DROOT) & ((<usize>1 << ((d >> 8) & 15)) - 1))) << 2));
    if (d & F_BAD) { st = INF_E_DIST_SYMBOL; break; }
    bits >>= <u64>(d & 31); nb -= d & 31;
    x = (d >> 8) & 15;
    const dist = <usize>((d >> 16) + (<u32>bits & ((1 << x) - 1)));
    bits >>= <u64>x; nb -= x;
    if (dist > op - outStart) { st = INF_E_DIST_FAR; break; }
    const room = outEnd - op;
    if (len > room) { st = INF_E_OVERFLOW; break; }
    // copy len bytes from dist back; chunked copies may write up to one chunk past op + len,
    // so they run only when the output has that much room (the bytes are rewritten later)
    let s = op - dist;
    const stop = op + len;
    if (ASC_FEATURE_SIMD && dist >= 16 && room >= len + 16) {
      do { v128.store(op, v128.load(s)); op += 16; s += 16; } while (op < stop);
      op = stop;
    } else if (dist >= 8 && room >= len + 8) {
      do { store<u64>(op, load<u64>(s)); op += 8; s += 8; } while (op < stop);
      op = stop;
    } else if (dist == 1) {
      memory.fill(op, load<u8>(s), len);
      op = stop;
    } else {
      do { store<u8>(op, load<u8>(s)); op++; s++; } while (op < stop);
    }
  }
  ip = p; bitBuf = bits; bitCount = nb; over = ov; outPtr = op;
  return st;
}

/**
 * Inflates the raw DEFLATE stream starting at src (input ends at srcEnd) into [dst, dstEnd).
 * Returns the position of the first byte after the stream (the stream's last byte is padded to a
 * byte boundary), or a negative status; outPtr holds the end of the output.
 */
function inflateRaw(src: usize, srcEnd: usize, dst: usize, dstEnd: usize, scratch: usize): i64 {
  ip = src; inEnd = srcEnd; bitBuf = 0; bitCount = 0; over = 0; outPtr = dst;
  let final: u32 = 0;
  do {
    final = getBits(1);
    const type = getBits(2);
    let st: i32 = 0;
    if (type == 0) {
      // stored (3.2.4): LEN, NLEN from the next byte boundary, then LEN raw bytes
      const pos = alignToByte();
      if (!pos || srcEnd - pos < 4) return INF_E_TRUNCATED;
      const len = <usize>load<u16>(pos);
      if (len != (<usize>~load<u16>(pos, 2) & 0xffff)) return INF_E_STORED;
      if (srcEnd - pos - 4 < len) return INF_E_TRUNCATED;
      if (dstEnd - outPtr < len) return INF_E_OVERFLOW;
      memory.copy(outPtr, pos + 4, len);
      outPtr += len;
      ip = pos + 4 + len;
    } else if (type == 1) {
      if (!fixedReady) buildFixed(scratch);
      st = decodeBlock(FIXED_LIT, FIXED_DIST, dst, dstEnd);
    } else if (type == 2) {
      st = readDynamic(scratch);
      if (st == 0) st = decodeBlock(scratch + S_LIT, scratch + S_DIST, dst, dstEnd);
    } else {
      return INF_E_BTYPE;
    }
    if (st < 0) return st;
    if (overran()) return INF_E_TRUNCATED;
  } while (!final);
  const pos = alignToByte();
  return pos ? <i64>pos : INF_E_TRUNCATED;
}

// ---- CRC-32 (RFC 1952 section 8: reflected polynomial 0xedb88320) ----

function crcInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(CRC_TABLE + (<usize>n << 2), c);
  }
  // table k: the CRC of a byte followed by k zero bytes (slicing-by-8)
  for (let k: usize = 1; k < 8; k++) {
    for (let n: usize = 0; n < 256; n++) {
      const prev = load<u32>(CRC_TABLE + ((k - 1) << 10) + (n << 2));
      store<u32>(CRC_TABLE + (k << 10) + (n << 2), (prev >>> 8) ^ load<u32>(CRC_TABLE + (<usize>(prev & 0xff) << 2)));
    }
  }
  crcReady = true;
}

@inline function tab(k: usize, i: u32): u32 { return load<u32>(CRC_TABLE + (k << 10) + (<usize>(i & 0xff) << 2)); }

/** CRC-32 of [p, p+len), continuing from `crc` (0 to start). */
export function crc32(crc: u32, p: usize, len: usize): u32 {
  if (!crcReady) crcInit();
  let c = ~crc;
  const end = p + len;
  while (p + 8 <= end) {
    const a = c ^ load<u32>(p), b = load<u32>(p, 4);
    c = tab(7, a) ^ tab(6, a >> 8) ^ tab(5, a >> 16) ^ tab(4, a >> 24)
      ^ tab(3, b) ^ tab(2, b >> 8) ^ tab(1, b >> 16) ^ tab(0, b >> 24);
    p += 8;
  }
  while (p < end) { c = tab(0, c ^ load<u8>(p)) ^ (c >>> 8); p++; }
  return ~c;
}

// ---- gzip framing (RFC 1952 2.3) ----

const FHCRC: u32 = 2, FEXTRA: u32 = 4, FNAME: u32 = 8, FCOMMENT: u32 = 16;

/** Parses the member header; returns the position of the deflate data or a negative status. */
function gzipHeader(src: usize, end: usize): i64 {
  if (end - src < 10) return end - src >= 2 && load<u16>(src) != 0x8b1f ? GZ_E_MAGIC : INF_E_TRUNCATED;
  if (load<u16>(src) != 0x8b1f) return GZ_E_MAGIC;
  if (load<u8>(src, 2) != 8) return GZ_E_METHOD;
  const flg = <u32>load<u8>(src, 3);
  if (flg & 0xe0) return GZ_E_FLAGS;
  let p = src + 10; // MTIME, XFL and OS are not used
  if (flg & FEXTRA) {
    if (end - p < 2) return GZ_E_HEADER;
    const xlen = <usize>load<u16>(p);
    if (end - p - 2 < xlen) return GZ_E_HEADER;
    p += 2 + xlen;
  }
  if (flg & FNAME) {
    while (p < end && load<u8>(p)) p++;
    if (p >= end) return GZ_E_HEADER;
    p++;
  }
  if (flg & FCOMMENT) {
    while (p < end && load<u8>(p)) p++;
    if (p >= end) return GZ_E_HEADER;
    p++;
  }
  if (flg & FHCRC) {
    if (end - p < 2) return GZ_E_HEADER;
    if ((crc32(0, src, p - src) & 0xffff) != <u32>load<u16>(p)) return GZ_E_HCRC;
    p += 2;
  }
  return <i64>p;
}

/** ISIZE from the trailer (the output length mod 2^32), or a negative status. */
export function gzipSize(src: usize, len: usize): i64 {
  if (len < 2 || load<u16>(src) != 0x8b1f) return len < 2 ? INF_E_TRUNCATED : GZ_E_MAGIC;
  if (len < 20) return INF_E_TRUNCATED; // 10-byte header, 2-byte empty deflate stream, 8-byte trailer
  return <i64>load<u32>(src + len - 4);
}

/**
 * Decompresses the gzip member at [src, src+srcLen) into [dst, dst+dstCap) using `scratch`
 * (INFLATE_SCRATCH bytes). Returns the output length or a negative status. Buffers must not overlap.
 */
export function gunzipRaw(src: usize, srcLen: usize, dst: usize, dstCap: usize, scratch: usize): i64 {
  const end = src + srcLen;
  const start = gzipHeader(src, end);
  if (start < 0) return start;
  const after = inflateRaw(<usize>start, end, dst, dst + dstCap, scratch);
  if (after < 0) return after;
  const t = <usize>after;
  if (end - t < 8) return INF_E_TRUNCATED;
  if (end - t > 8) return GZ_E_TRAILING;
  const n = outPtr - dst;
  if (crc32(0, dst, n) != load<u32>(t)) return GZ_E_CRC;
  if (<u32>n != load<u32>(t, 4)) return GZ_E_ISIZE;
  return <i64>n;
}
