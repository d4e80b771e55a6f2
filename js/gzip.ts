// gzip-compressed model files, decompressed inside the wasm (assembly/util/inflate.ts), so they load
// in every engine: bare JS shells have no DecompressionStream and WASI hosts no zlib.

import type { WasmExports } from './wasm-abi.js';
import { ModelFormatError, OutOfMemoryError } from './errors.js';
import { isUint8Array } from './bytes.js';

/**
 * Largest decompressed size accepted (ISIZE in the gzip trailer, and bytes actually inflated): 64 MiB,
 * ten times the largest shipped model; a bomb is refused from its trailer, or at the first byte past it.
 */
export const MAX_GUNZIP_BYTES = 64 * 1024 * 1024;

/** Status codes of assembly/util/inflate.ts (and the buffer checks of assembly/api/inflate.ts). */
const GZIP_ERRORS: Record<number, [string, string]> = {
  [-1]: ['E_BOUNDS', 'a buffer lies outside wasm memory allocated for it'],
  [-2]: ['E_SHAPE', 'negative buffer length'],
  [-3]: ['E_PARAM', 'input, output and scratch buffers overlap'],
  [-4]: ['E_SCRATCH', 'scratch buffer too small'],
  [-20]: ['E_GZIP_MAGIC', 'not a gzip stream (bad magic bytes)'],
  [-21]: ['E_GZIP_METHOD', 'gzip compression method is not deflate'],
  [-22]: ['E_GZIP_FLAGS', 'gzip header has reserved flag bits set'],
  [-23]: ['E_GZIP_HEADER', 'gzip header fields run past the end of the file'],
  [-24]: ['E_GZIP_HCRC', 'gzip header checksum mismatch'],
  [-25]: ['E_INFLATE_BTYPE', 'deflate block of the reserved type 3'],
  [-26]: ['E_INFLATE_STORED', 'stored block length does not match its complement'],
  [-27]: ['E_INFLATE_COUNTS', 'dynamic block declares too many literal/length or distance codes'],
  [-28]: ['E_INFLATE_OVERSUBSCRIBED', 'over-subscribed Huffman code lengths'],
  [-29]: ['E_INFLATE_INCOMPLETE', 'incomplete Huffman code lengths'],
  [-30]: ['E_INFLATE_REPEAT', 'code length repeat without a previous length or past the last code'],
  [-31]: ['E_INFLATE_NO_EOB', 'Huffman code without an end-of-block symbol'],
  [-32]: ['E_INFLATE_SYMBOL', 'invalid literal/length code'],
  [-33]: ['E_INFLATE_DIST_SYMBOL', 'invalid distance code'],
  [-34]: ['E_INFLATE_DIST_FAR', 'distance reaches back before the start of the data'],
  [-35]: ['E_INFLATE_TRUNCATED', 'compressed data truncated'],
  [-36]: ['E_INFLATE_OVERFLOW', 'decompressed data longer than the size recorded in the gzip trailer'],
  [-37]: ['E_GZIP_CRC', 'CRC-32 mismatch: the decompressed data is corrupted'],
  [-38]: ['E_GZIP_ISIZE', 'decompressed length does not match the size recorded in the gzip trailer'],
  [-39]: ['E_GZIP_TRAILING', 'data after the end of the gzip stream (multi-member gzip files are not supported)'],
};

/** The stable code and message for a gunzip status (exported for tests). */
export function gzipStatus(status: number): { code: string; message: string } {
  const [code, message] = GZIP_ERRORS[status] ?? ['E_GZIP', `gunzip status ${status}`];
  return { code, message };
}

function fail(status: number): never {
  const { code, message } = gzipStatus(status);
  throw new ModelFormatError(`invalid gzip-compressed model: ${message}`, { code });
}

/** True when `bytes` starts with the gzip magic number (RFC 1952: 0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a gzip file into a new wasm allocation (CRC-32 and length checked) and returns it;
 * the caller frees `ptr`. Throws ModelFormatError naming what is wrong for a malformed stream or a
 * decompressed size above MAX_GUNZIP_BYTES, OutOfMemoryError when the buffers do not fit.
 */
export function gunzipToWasm(wasm: WasmExports, bytes: Uint8Array): { ptr: number; length: number } {
  if (!isUint8Array(bytes)) throw new ModelFormatError('gzip data must be given as a Uint8Array');
  if (bytes.length > 0x7fffffff) throw new ModelFormatError(`gzip file too large (${bytes.length} bytes)`, { code: 'E_GZIP_SIZE' });
  const src = wasm.alloc(Math.max(1, bytes.length));
  if (!src) throw new OutOfMemoryError(bytes.length);
  let dst = 0, scratch = 0, ok = false;
  try {
    new Uint8Array(wasm.memory.buffer, src, bytes.length).set(bytes);
    const size = wasm.gunzipSize(src, bytes.length);
    if (size < 0) fail(size);
    // DEFLATE codes at most 258 bytes in 2 bits (a length and a distance code of one bit each)
    if (size > bytes.length * 1032) {
      throw new ModelFormatError(`the gzip trailer records ${size} decompressed bytes, impossible for ${bytes.length} compressed bytes: the file is truncated or corrupted`, { code: 'E_GZIP_ISIZE' });
    }
    if (size > MAX_GUNZIP_BYTES) {
      throw new ModelFormatError(`gzip trailer records ${size} decompressed bytes, more than the ${MAX_GUNZIP_BYTES} accepted`, { code: 'E_GZIP_SIZE' });
    }
    const scratchBytes = wasm.inflateScratchBytes();
    dst = wasm.alloc(Math.max(1, size));
    if (!dst) throw new OutOfMemoryError(size);
    scratch = wasm.alloc(scratchBytes);
    if (!scratch) throw new OutOfMemoryError(scratchBytes);
    const n = wasm.gunzip(src, bytes.length, dst, size, scratch, scratchBytes);
    if (n < 0) fail(n);
    ok = true;
    return { ptr: dst, length: n };
  } finally {
    if (scratch) wasm.free(scratch);
    if (dst && !ok) wasm.free(dst);
    wasm.free(src);
  }
}

/** gunzipToWasm, copied out to JS and freed. */
export function gunzipInWasm(wasm: WasmExports, bytes: Uint8Array): Uint8Array {
  const { ptr, length } = gunzipToWasm(wasm, bytes);
  try {
    return new Uint8Array(wasm.memory.buffer, ptr, length).slice();
  } finally {
    wasm.free(ptr);
  }
}

/** ISIZE of a gzip file: the decompressed length mod 2^32, from the last 4 bytes. */
function gzipTrailerSize(bytes: Uint8Array): number {
  const n = bytes.length;
  return n < 18 ? -1 : (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
}

/**
 * Decompresses with the platform's DecompressionStream when it has one (browsers, workers, Node 18+),
 * so only the decompressed model is copied into wasm memory (a lower peak than gunzipToWasm, which
 * holds both). Returns null where the platform has none (bare JS shells), or for a stream it cannot
 * read: Model.load then inflates in wasm and reports precisely what is wrong. Refuses (ModelFormatError
 * E_GZIP_SIZE) a trailer recording more than `limit` bytes before inflating anything, and stops at the
 * first byte past the recorded size, so a decompression bomb costs neither time nor memory.
 */
export async function gunzipNative(bytes: Uint8Array, limit = MAX_GUNZIP_BYTES): Promise<Uint8Array | null> {
  const declared = gzipTrailerSize(bytes);
  if (declared > limit) throw new ModelFormatError(`gzip trailer records ${declared} decompressed bytes, more than the ${limit} accepted`, { code: 'E_GZIP_SIZE' });
  if (declared > bytes.length * 1032) return null; // impossible ratio: the wasm inflater names the damage
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (typeof DS !== 'function' || typeof Blob === 'undefined' || declared < 0) return null;
  const out = new Uint8Array(declared);
  let got = 0;
  try {
    const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DS('gzip')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (got + value.length > declared) { await reader.cancel(); return null; } // longer than its trailer says
      out.set(value, got);
      got += value.length;
    }
  } catch {
    return null;
  }
  return got === declared ? out : null;
}
