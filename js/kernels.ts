// Standalone use of the int8 kernels: one call copies typed arrays into wasm memory, packs the
// weights, runs the kernel and copies the result out. Convenient for tests, tools and experiments;
// the model runner keeps everything resident instead.

import type { WasmExports } from './wasm-abi.js';
import { check, OutOfMemoryError } from './errors.js';
import { loadWasm, type LoadOptions, type Backend } from './loader.js';

export interface QuantParams {
  /** Layer-wide requantisation shift, 32..62 (see quantizeMultipliers). */
  shift: number;
  /** Per-output-channel multipliers. */
  mult: Int32Array;
  /** Multipliers for negative accumulators (PReLU); default: same as mult. */
  multNeg?: Int32Array;
  zpIn: number;
  zpOut: number;
  /** Clamp bounds of the output (fused ReLU / ReLU6); default -128..127. */
  qmin?: number;
  qmax?: number;
}

export interface Conv2dParams extends QuantParams {
  /** Input height, width, channels (NHWC, batch 1). */
  h: number; w: number; c: number;
  /** Output channels. */
  oc: number;
  kh: number; kw: number;
  strideH?: number; strideW?: number;
  padTop?: number; padLeft?: number; padBottom?: number; padRight?: number;
  /** Every input value is in [0, 127]: lets the relaxed build use its 7-bit dot product. */
  u7?: boolean;
}

export type DepthwiseParams = Omit<Conv2dParams, 'oc' | 'u7'>;

export interface FullyConnectedParams extends QuantParams {
  m: number; k: number; n: number;
  u7?: boolean;
}

export const outSize = (size: number, k: number, stride: number, before: number, after: number) =>
  Math.floor((size + before + after - k) / stride) + 1;

export class Kernels {
  private constructor(readonly wasm: WasmExports, readonly backend: Backend) {}

  static async create(options: LoadOptions): Promise<Kernels> {
    const { exports, backend } = await loadWasm(options);
    return new Kernels(exports, backend);
  }

  static fromExports(exports: WasmExports, backend: Backend): Kernels {
    return new Kernels(exports, backend);
  }

  /** Allocates wasm memory (zero-filled); throws OutOfMemoryError. */
  alloc(bytes: number): number {
    const p = this.wasm.alloc(Math.max(1, bytes));
    if (p === 0) throw new OutOfMemoryError(bytes);
    return p;
  }

  free(ptr: number): void { this.wasm.free(ptr); }

  /** Copies `data` into a new allocation and returns its pointer. */
  put(data: Int8Array | Uint8Array | Int32Array | Float32Array): number {
    const p = this.alloc(data.byteLength);
    new Uint8Array(this.wasm.memory.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return p;
  }

  i8(ptr: number, length: number): Int8Array { return new Int8Array(this.wasm.memory.buffer, ptr, length); }

  /** Runs fn with allocations freed afterwards, whatever happens. */
  private scoped<T>(fn: (take: (p: number) => number) => T): T {
    const owned: number[] = [];
    try {
      return fn((p) => { owned.push(p); return p; });
    } finally {
      for (const p of owned) this.free(p);
    }
  }

  conv2d(input: Int8Array, weightsOHWI: Int8Array, bias: Int32Array | null, p: Conv2dParams): Int8Array {
    const x = this.wasm;
    const sh = p.strideH ?? 1, sw = p.strideW ?? 1, pt = p.padTop ?? 0, pl = p.padLeft ?? 0;
    const oh = outSize(p.h, p.kh, sh, pt, p.padBottom ?? 0), ow = outSize(p.w, p.kw, sw, pl, p.padRight ?? 0);
    const k = p.kh * p.kw * p.c;
    return this.scoped((take) => {
      const packedBytes = x.gemmPackedBytes(p.oc, k);
      if (packedBytes < 0) check('conv2d', -2);
      const packed = take(this.alloc(packedBytes));
      check('conv2d pack', x.gemmPackWeights(take(this.put(weightsOHWI)), p.oc, k, bias ? take(this.put(bias)) : 0,
        take(this.put(p.mult)), p.multNeg ? take(this.put(p.multNeg)) : 0, p.zpIn, packed));
      const scratchBytes = x.conv2dScratchBytes(ow, p.kh, p.kw, sh, sw, p.c);
      const scratch = scratchBytes > 0 ? take(this.alloc(scratchBytes)) : 0;
      const out = take(this.alloc(oh * ow * p.oc));
      check('conv2d', x.conv2d(take(this.put(input)), p.h, p.w, p.c, out, oh, ow, p.oc, p.oc, p.kh, p.kw, sh, sw, pt, pl,
        packed, p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127, p.u7 ? 1 : 0, scratch, scratchBytes));
      return this.i8(out, oh * ow * p.oc).slice();
    });
  }

  depthwiseConv2d(input: Int8Array, weightsHWC: Int8Array, bias: Int32Array | null, p: DepthwiseParams): Int8Array {
    const x = this.wasm;
    const sh = p.strideH ?? 1, sw = p.strideW ?? 1, pt = p.padTop ?? 0, pl = p.padLeft ?? 0;
    const oh = outSize(p.h, p.kh, sh, pt, p.padBottom ?? 0), ow = outSize(p.w, p.kw, sw, pl, p.padRight ?? 0);
    return this.scoped((take) => {
      const packedBytes = x.dwPackedBytes(p.c, p.kh, p.kw);
      if (packedBytes < 0) check('depthwiseConv2d', -2);
      const packed = take(this.alloc(packedBytes));
      check('depthwiseConv2d pack', x.dwPackWeights(take(this.put(weightsHWC)), p.c, p.kh, p.kw, bias ? take(this.put(bias)) : 0,
        take(this.put(p.mult)), p.multNeg ? take(this.put(p.multNeg)) : 0, p.zpIn, packed));
      const scratchBytes = x.dwScratchBytes(p.c, p.kh, p.kw);
      const scratch = take(this.alloc(scratchBytes));
      const out = take(this.alloc(oh * ow * p.c));
      check('depthwiseConv2d', x.depthwiseConv2d(take(this.put(input)), p.h, p.w, p.c, out, oh, ow, p.c, p.kh, p.kw, sh, sw, pt, pl,
        packed, p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127, scratch, scratchBytes));
      return this.i8(out, oh * ow * p.c).slice();
    });
  }

  fullyConnected(input: Int8Array, weights: Int8Array, bias: Int32Array | null, p: FullyConnectedParams): Int8Array {
    const x = this.wasm;
    return this.scoped((take) => {
      const packedBytes = x.gemmPackedBytes(p.n, p.k);
      if (packedBytes < 0) check('fullyConnected', -2);
      const packed = take(this.alloc(packedBytes));
      check('fullyConnected pack', x.gemmPackWeights(take(this.put(weights)), p.n, p.k, bias ? take(this.put(bias)) : 0,
        take(this.put(p.mult)), p.multNeg ? take(this.put(p.multNeg)) : 0, p.zpIn, packed));
      const scratchBytes = x.fullyConnectedScratchBytes(p.m, p.k);
      const scratch = scratchBytes > 0 ? take(this.alloc(scratchBytes)) : 0;
      const out = take(this.alloc(p.m * p.n));
      check('fullyConnected', x.fullyConnected(take(this.put(input)), p.m, p.k, packed, p.n, out, p.shift, p.zpIn, p.zpOut,
        p.qmin ?? -128, p.qmax ?? 127, p.u7 ? 1 : 0, scratch, scratchBytes));
      return this.i8(out, p.m * p.n).slice();
    });
  }
}
