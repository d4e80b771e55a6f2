// A loaded int8 model: the file is validated, planned and packed inside the wasm (assembly/graph/);
// this class holds the handle, reads the JSON metadata, and runs the model on an RGB image with an
// arena shared by every model of one wasm instance.

import type { WasmExports } from './wasm-abi.js';
import * as F from '../assembly/graph/format.js';
import { ModelFormatError, OutOfMemoryError, check, KernelError } from './errors.js';
import { utf8Decode } from './utf8.js';
import { isGzip, gunzipToWasm } from './gzip.js';
import { isUint8Array } from './bytes.js';

const FORMAT_ERRORS: Record<number, string> = {
  [F.FE_MAGIC]: 'not a wasmface model file (bad magic number)',
  [F.FE_VERSION]: 'model format version not supported by this wasmface build',
  [F.FE_SIZE]: 'file truncated or its recorded size does not match',
  [F.FE_CHECKSUM]: 'SHA-256 checksum mismatch: the file is corrupted or was modified',
  [F.FE_SECTION]: 'a section lies outside the file',
  [F.FE_TENSOR]: 'invalid tensor record',
  [F.FE_OP_TYPE]: 'unknown operator type or wrong input count',
  [F.FE_OP_REF]: 'operator refers to a tensor that does not exist or is not computed yet',
  [F.FE_OP_SHAPE]: 'operator shapes are inconsistent',
  [F.FE_OP_PARAM]: 'operator parameter out of range',
  [F.FE_OP_DATA]: 'operator data lies outside the data section',
  [F.FE_OP_QUANT]: 'inconsistent quantisation (shared scales, 7-bit promise, or a depthwise weight of -128)',
  [F.FE_INPUT]: 'invalid input specification',
  [F.FE_OUTPUT]: 'invalid output list',
  [F.FE_MEMORY]: 'the model needs more memory than allowed',
};
const RECORD: Record<number, string> = { [F.FE_TENSOR]: 'tensor', [F.FE_OUTPUT]: 'output' };

export interface ModelMeta {
  id: string;
  source?: { file: string; sha256: string; licence: string; url: string };
  input: { width: number; height: number; colorOrder: 'rgb' | 'bgr'; dynamic?: { multipleOf: number } };
  outputs: { name: string; tensor: number; shape: number[]; zp: number; scale: number }[];
  [key: string]: unknown;
}

export interface ModelOutput {
  name: string;
  /** Height, width, channels at the current input size. */
  shape: [number, number, number];
  zp: number;
  scale: number;
  /** Dequantised values (copied out of the arena). */
  data: Float32Array;
}

/** Owns the arena every model of one wasm instance runs in (models run one at a time). */
export class Arena {
  ptr = 0;
  bytes = 0;
  constructor(private readonly wasm: WasmExports) {}
  ensure(bytes: number): void {
    if (bytes <= this.bytes) return;
    if (this.ptr) this.wasm.free(this.ptr);
    this.ptr = this.wasm.alloc(bytes);
    this.bytes = this.ptr ? bytes : 0;
    if (!this.ptr) throw new OutOfMemoryError(bytes);
  }
  dispose(): void {
    if (this.ptr) this.wasm.free(this.ptr);
    this.ptr = 0;
    this.bytes = 0;
  }
}

export class Model {
  private handle: number;
  private rgbPtr = 0;
  private rgbBytes = 0;
  private outPtr = 0;
  private outBytes = 0;

  /**
   * `sha256`: the content checksum stored in the header (of every byte after it). `pin`: SHA-256 of
   * the 128-byte header, which embeds that checksum, so it identifies the whole file (compressed or
   * not) without hashing megabytes again: this is what FaceEngine's pinned-model check compares.
   */
  private constructor(private readonly wasm: WasmExports, private readonly arena: Arena, handle: number, readonly meta: ModelMeta,
                      readonly sha256: string, readonly pin: string, readonly byteLength: number) {
    this.handle = handle;
  }

  /**
   * Model.load, hashing the content with the platform's SHA-256 (WebCrypto) where there is one: the
   * wasm then compares that digest with the header instead of hashing megabytes itself. Same checks,
   * same result; a faster cold start.
   */
  static async loadAsync(wasm: WasmExports, arena: Arena, bytes: Uint8Array): Promise<Model> {
    return Model.load(wasm, arena, bytes, await Model.contentDigest(bytes));
  }

  /**
   * SHA-256 of a plain .wfm file's content (every byte after the header) by WebCrypto, for
   * Model.load; undefined where there is no WebCrypto or for gzip and too-short input (Model.load
   * then hashes in the wasm, or reports the file). Needs no wasm: it can run while the wasm compiles.
   */
  static async contentDigest(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle || !isUint8Array(bytes) || isGzip(bytes) || bytes.length < F.HEADER_SIZE) return undefined;
    try {
      return new Uint8Array(await subtle.digest('SHA-256', bytes.subarray(F.HEADER_SIZE) as BufferSource));
    } catch {
      return undefined;
    }
  }

  /**
   * Validates and loads a .wfm (or .wfm.gz) file. Throws ModelFormatError naming what is wrong for any malformed,
   * truncated, tampered or hostile file, OutOfMemoryError when it does not fit.
   */
  static load(wasm: WasmExports, arena: Arena, bytes: Uint8Array, contentDigest?: Uint8Array): Model {
    if (!isUint8Array(bytes)) throw new ModelFormatError('model must be given as a Uint8Array of the .wfm (or .wfm.gz) file');
    let file: number, length: number;
    if (isGzip(bytes)) {
      ({ ptr: file, length } = gunzipToWasm(wasm, bytes)); // decompressed in wasm, no copy out
    } else {
      if (bytes.length < F.HEADER_SIZE) throw new ModelFormatError(`file too short (${bytes.length} bytes) to be a wasmface model`, { code: 'FE_SIZE' });
      length = bytes.length;
      file = wasm.alloc(length);
      if (!file) throw new OutOfMemoryError(length);
      new Uint8Array(wasm.memory.buffer, file, length).set(bytes);
    }
    let handle = 0, meta: ModelMeta, sha: string, pin: string;
    try {
      if (length < F.HEADER_SIZE) throw new ModelFormatError(`file too short (${length} bytes) to be a wasmface model`, { code: 'FE_SIZE' });
      if (contentDigest && contentDigest.length === 32) {
        const d = wasm.alloc(32);
        if (!d) throw new OutOfMemoryError(32);
        new Uint8Array(wasm.memory.buffer, d, 32).set(contentDigest);
        handle = wasm.modelLoadDigest(file, length, d);
        wasm.free(d);
      } else {
        handle = wasm.modelLoad(file, length);
      }
      if (handle === -5) throw new OutOfMemoryError(length);
      if (handle < 0) {
        const detail = wasm.modelLastError(), code = detail & 0xff, index = detail >>> 8;
        const what = FORMAT_ERRORS[code] ?? `status ${handle}`;
        const where = code >= F.FE_TENSOR && code <= F.FE_OUTPUT ? ` (${RECORD[code] ?? 'operator'} ${index})` : '';
        handle = 0;
        throw new ModelFormatError(`invalid model file: ${what}${where}`, { code: Object.entries(F).find(([k, v]) => k.startsWith('FE_') && v === code)?.[0] ?? 'E_MODEL_FORMAT', index });
      }
      // validated, checksum included: the metadata and header can be trusted now
      const mem = () => new Uint8Array(wasm.memory.buffer);
      const view = new DataView(wasm.memory.buffer, file, F.HEADER_SIZE);
      const metaOff = view.getUint32(F.H_META_OFF, true), metaSize = view.getUint32(F.H_META_SIZE, true);
      try {
        meta = JSON.parse(utf8Decode(mem().slice(file + metaOff, file + metaOff + metaSize)));
        if (typeof meta?.id !== 'string') throw new Error('no id');
      } catch (e) {
        throw new ModelFormatError(`invalid model metadata: ${(e as Error).message}`, { code: 'E_META' });
      }
      const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      sha = hex(mem().slice(file + F.H_SHA256, file + F.H_SHA256 + 32));
      pin = hex(digest(wasm, file, F.HEADER_SIZE));
    } catch (e) {
      if (handle) wasm.modelFree(handle);
      throw e;
    } finally {
      wasm.free(file);
    }
    const model = new Model(wasm, arena, handle, meta, sha, pin, length);
    arena.ensure(wasm.modelArenaBytes(handle));
    return model;
  }

  get id(): string { return this.meta.id; }
  /** The wasm handle, for the engine's direct calls (throws after dispose). */
  get handleForEngine(): number { return this.live(); }
  private live(): number {
    if (!this.handle) throw new KernelError('model', -3);
    return this.handle;
  }

  /** Current input size (for dynamic models, what setInputSize last chose). */
  get inputSize(): { width: number; height: number; planned: { width: number; height: number }; step: number } {
    const h = this.live(), x = this.wasm;
    return { width: x.modelInputInfo(h, 0), height: x.modelInputInfo(h, 1), planned: { width: x.modelInputInfo(h, 2), height: x.modelInputInfo(h, 3) }, step: x.modelInputInfo(h, 4) };
  }

  setInputSize(width: number, height: number): void {
    check(`model ${this.id}: input size ${width}x${height}`, this.wasm.modelSetInputSize(this.live(), width, height));
  }

  /** Runs the model on an RGB u8 image of the current input size. */
  run(rgb: Uint8Array): void {
    const x = this.wasm;
    const { width, height } = this.inputSize;
    if (rgb.length !== width * height * 3) throw new KernelError(`model ${this.id}: expected ${width}x${height}x3 RGB bytes, got ${rgb.length}`, -2);
    if (rgb.length > this.rgbBytes) {
      if (this.rgbPtr) x.free(this.rgbPtr);
      this.rgbPtr = x.alloc(rgb.length);
      this.rgbBytes = this.rgbPtr ? rgb.length : 0;
      if (!this.rgbPtr) throw new OutOfMemoryError(rgb.length);
    }
    new Uint8Array(x.memory.buffer, this.rgbPtr, rgb.length).set(rgb);
    this.runResident(this.rgbPtr, width, height);
  }

  /** Runs on an RGB image already in wasm memory (no copy). */
  runResident(rgbPtr: number, width: number, height: number): void {
    const h = this.live();
    this.arena.ensure(this.wasm.modelArenaBytes(h));
    check(`model ${this.id}`, this.wasm.modelRun(h, rgbPtr, width, height, this.arena.ptr, this.arena.bytes));
  }

  get outputCount(): number { return this.wasm.modelOutputCount(this.live()); }

  /** Output i of the last run, dequantised in wasm (bit-identical on every engine). */
  output(i: number): ModelOutput {
    const h = this.live(), x = this.wasm;
    const shape: [number, number, number] = [x.modelOutputInfo(h, i, 1), x.modelOutputInfo(h, i, 2), x.modelOutputInfo(h, i, 3)];
    if (shape[0] < 0) throw new KernelError(`model ${this.id}: output ${i}`, -3);
    const n = shape[0] * shape[1] * shape[2];
    if (n * 4 > this.outBytes) {
      if (this.outPtr) x.free(this.outPtr);
      this.outPtr = x.alloc(n * 4);
      this.outBytes = this.outPtr ? n * 4 : 0;
      if (!this.outPtr) throw new OutOfMemoryError(n * 4);
    }
    check(`model ${this.id}: output ${i}`, x.modelDequantizeOutput(h, i, this.arena.ptr, this.arena.bytes, this.outPtr));
    return {
      name: this.meta.outputs?.[i]?.name ?? `output${i}`, shape, zp: x.modelOutputInfo(h, i, 4), scale: x.modelOutputScale(h, i),
      data: new Float32Array(x.memory.buffer, this.outPtr, n).slice(),
    };
  }

  /** Raw int8 output i (a copy). */
  outputInt8(i: number): Int8Array {
    const h = this.live(), x = this.wasm;
    const n = x.modelOutputInfo(h, i, 1) * x.modelOutputInfo(h, i, 2) * x.modelOutputInfo(h, i, 3);
    return new Int8Array(x.memory.buffer, this.arena.ptr + x.modelOutputInfo(h, i, 0), n).slice();
  }

  dispose(): void {
    if (!this.handle) return;
    this.wasm.modelFree(this.handle);
    for (const p of [this.rgbPtr, this.outPtr]) if (p) this.wasm.free(p);
    this.handle = this.rgbPtr = this.outPtr = 0;
  }
}

/** SHA-256 of [p, p+len) of wasm memory, computed in wasm. */
function digest(wasm: WasmExports, p: number, len: number): Uint8Array {
  const out = wasm.alloc(32);
  if (!out) throw new OutOfMemoryError(32);
  try {
    check('sha256', wasm.sha256Digest(p, len, out));
    return new Uint8Array(wasm.memory.buffer, out, 32).slice();
  } finally {
    wasm.free(out);
  }
}
