// Standalone use of the int8 kernels: one call copies typed arrays into wasm memory, packs the
// weights, runs the kernel and copies the result out. Convenient for tests, tools and experiments;
// the model runner keeps everything resident instead.

import type { WasmExports } from './wasm-abi.js';
import { check, OutOfMemoryError, KernelError } from './errors.js';
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

export interface Window2d {
  /** Input height, width, channels (NHWC, batch 1). */
  h: number; w: number; c: number;
  kh: number; kw: number;
  strideH?: number; strideW?: number;
  padTop?: number; padLeft?: number; padBottom?: number; padRight?: number;
}

export interface Conv2dParams extends QuantParams, Window2d {
  /** Output channels. */
  oc: number;
  /** Every input value is in [0, 127]: lets the relaxed build use its 7-bit dot product. */
  u7?: boolean;
}

export type DepthwiseParams = QuantParams & Window2d;

export interface FullyConnectedParams extends QuantParams {
  m: number; k: number; n: number;
  u7?: boolean;
}

export interface AddParams {
  za: number; ma: number; zb: number; mb: number; shift: number; zpOut: number; qmin?: number; qmax?: number;
}

export interface AvgPoolParams extends Window2d {
  countIncludePad?: boolean;
  /** Multiplier per tap count (index 0 unused), see quantizeMultipliers. */
  mults: Int32Array;
  shift: number; zpIn: number; zpOut: number; qmin?: number; qmax?: number;
}

/** Pixel formats accepted by toRgb (values shared with assembly/image/convert.ts). */
export const PixelFormat = { rgba: 0, rgb: 1, bgr: 2, gray: 3, nv21: 4, i420: 5, nv12: 6, bgra: 7 } as const;
export type PixelFormatName = keyof typeof PixelFormat;

export const outSize = (size: number, k: number, stride: number, before: number, after: number) =>
  Math.floor((size + before + after - k) / stride) + 1;

function windowOf(p: Window2d) {
  const sh = p.strideH ?? 1, sw = p.strideW ?? 1, pt = p.padTop ?? 0, pl = p.padLeft ?? 0;
  return { sh, sw, pt, pl, oh: outSize(p.h, p.kh, sh, pt, p.padBottom ?? 0), ow: outSize(p.w, p.kw, sw, pl, p.padRight ?? 0) };
}

type Typed = Int8Array | Uint8Array | Int32Array | Float32Array;

/** Allocations of one call, freed together. */
class Scope {
  readonly ptrs: number[] = [];
  constructor(private readonly k: Kernels) {}
  alloc(bytes: number): number { const p = this.k.alloc(bytes); this.ptrs.push(p); return p; }
  put(data: Typed): number { const p = this.k.put(data); this.ptrs.push(p); return p; }
  /** Like put, but 0 for a missing optional array. */
  opt(data: Typed | null | undefined): number { return data ? this.put(data) : 0; }
}

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
  put(data: Typed): number {
    const p = this.alloc(data.byteLength);
    new Uint8Array(this.wasm.memory.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return p;
  }

  private read<T extends Typed>(ctor: { new (b: ArrayBuffer, o: number, n: number): T }, ptr: number, n: number): T {
    return new ctor(this.wasm.memory.buffer as ArrayBuffer, ptr, n).slice() as T;
  }

  /** Runs fn with the call's allocations freed afterwards, whatever happens. */
  private scoped<T>(fn: (s: Scope) => T): T {
    const s = new Scope(this);
    try { return fn(s); } finally { for (const p of s.ptrs) this.free(p); }
  }

  private sized(kernel: string, bytes: number): number {
    if (bytes < 0) throw new KernelError(kernel, -2);
    return bytes;
  }

  conv2d(input: Int8Array, weightsOHWI: Int8Array, bias: Int32Array | null, p: Conv2dParams): Int8Array {
    const x = this.wasm, g = windowOf(p), k = p.kh * p.kw * p.c;
    return this.scoped((s) => {
      const packed = s.alloc(this.sized('conv2d', x.gemmPackedBytes(p.oc, k)));
      check('conv2d pack', x.gemmPackWeights(s.put(weightsOHWI), p.oc, k, s.opt(bias), s.put(p.mult), s.opt(p.multNeg), p.zpIn, packed));
      const scratchBytes = x.conv2dScratchBytes(g.ow, p.kh, p.kw, g.sh, g.sw, p.c);
      const scratch = scratchBytes > 0 ? s.alloc(scratchBytes) : 0;
      const out = s.alloc(g.oh * g.ow * p.oc);
      check('conv2d', x.conv2d(s.put(input), p.h, p.w, p.c, out, g.oh, g.ow, p.oc, p.oc, p.kh, p.kw, g.sh, g.sw, g.pt, g.pl,
        packed, p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127, p.u7 ? 1 : 0, scratch, scratchBytes));
      return this.read(Int8Array, out, g.oh * g.ow * p.oc);
    });
  }

  depthwiseConv2d(input: Int8Array, weightsHWC: Int8Array, bias: Int32Array | null, p: DepthwiseParams): Int8Array {
    const x = this.wasm, g = windowOf(p);
    return this.scoped((s) => {
      const packed = s.alloc(this.sized('depthwiseConv2d', x.dwPackedBytes(p.c, p.kh, p.kw)));
      check('depthwiseConv2d pack', x.dwPackWeights(s.put(weightsHWC), p.c, p.kh, p.kw, s.opt(bias), s.put(p.mult), s.opt(p.multNeg), p.zpIn, packed));
      const scratchBytes = x.dwScratchBytes(p.c, p.kh, p.kw);
      const out = s.alloc(g.oh * g.ow * p.c);
      check('depthwiseConv2d', x.depthwiseConv2d(s.put(input), p.h, p.w, p.c, out, g.oh, g.ow, p.c, p.kh, p.kw, g.sh, g.sw, g.pt, g.pl,
        packed, p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127, s.alloc(scratchBytes), scratchBytes));
      return this.read(Int8Array, out, g.oh * g.ow * p.c);
    });
  }

  fullyConnected(input: Int8Array, weights: Int8Array, bias: Int32Array | null, p: FullyConnectedParams): Int8Array {
    const x = this.wasm;
    return this.scoped((s) => {
      const packed = s.alloc(this.sized('fullyConnected', x.gemmPackedBytes(p.n, p.k)));
      check('fullyConnected pack', x.gemmPackWeights(s.put(weights), p.n, p.k, s.opt(bias), s.put(p.mult), s.opt(p.multNeg), p.zpIn, packed));
      const scratchBytes = x.fullyConnectedScratchBytes(p.m, p.k);
      const scratch = scratchBytes > 0 ? s.alloc(scratchBytes) : 0;
      const out = s.alloc(p.m * p.n);
      check('fullyConnected', x.fullyConnected(s.put(input), p.m, p.k, packed, p.n, out, p.shift, p.zpIn, p.zpOut,
        p.qmin ?? -128, p.qmax ?? 127, p.u7 ? 1 : 0, scratch, scratchBytes));
      return this.read(Int8Array, out, p.m * p.n);
    });
  }

  add(a: Int8Array, b: Int8Array, p: AddParams): Int8Array {
    return this.scoped((s) => {
      const out = s.alloc(a.length);
      check('add', this.wasm.add(s.put(a), s.put(b), out, a.length, p.za, p.ma, p.zb, p.mb, p.shift, p.zpOut, p.qmin ?? -128, p.qmax ?? 127));
      return this.read(Int8Array, out, a.length);
    });
  }

  channelMul(x: Int8Array, scale: Int8Array, p: { zx: number; zs: number; mult: number; shift: number; zpOut: number; qmin?: number; qmax?: number }): Int8Array {
    const c = scale.length, pixels = x.length / c;
    return this.scoped((s) => {
      const out = s.alloc(x.length);
      check('channelMul', this.wasm.channelMul(s.put(x), pixels, c, s.put(scale), p.zx, p.zs, p.mult, p.shift, p.zpOut, p.qmin ?? -128, p.qmax ?? 127, out));
      return this.read(Int8Array, out, x.length);
    });
  }

  /** out[i] = table[x[i] + 128]. */
  lut(x: Int8Array, table: Int8Array): Int8Array {
    return this.scoped((s) => {
      const out = s.alloc(x.length);
      check('lut', this.wasm.lut(s.put(x), x.length, s.put(table), out));
      return this.read(Int8Array, out, x.length);
    });
  }

  maxPool(x: Int8Array, p: Window2d): Int8Array {
    const g = windowOf(p);
    return this.scoped((s) => {
      const out = s.alloc(g.oh * g.ow * p.c);
      check('maxPool', this.wasm.maxPool(s.put(x), p.h, p.w, p.c, out, g.oh, g.ow, p.kh, p.kw, g.sh, g.sw, g.pt, g.pl));
      return this.read(Int8Array, out, g.oh * g.ow * p.c);
    });
  }

  avgPool(x: Int8Array, p: AvgPoolParams): Int8Array {
    const g = windowOf(p);
    return this.scoped((s) => {
      const out = s.alloc(g.oh * g.ow * p.c);
      check('avgPool', this.wasm.avgPool(s.put(x), p.h, p.w, p.c, out, g.oh, g.ow, p.kh, p.kw, g.sh, g.sw, g.pt, g.pl,
        p.countIncludePad ? 1 : 0, s.put(p.mults), p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127));
      return this.read(Int8Array, out, g.oh * g.ow * p.c);
    });
  }

  globalAvgPool(x: Int8Array, c: number, p: { mult: number; shift: number; zpIn: number; zpOut: number; qmin?: number; qmax?: number }): Int8Array {
    return this.scoped((s) => {
      const out = s.alloc(c);
      check('globalAvgPool', this.wasm.globalAvgPool(s.put(x), x.length / c, c, out, p.mult, p.shift, p.zpIn, p.zpOut, p.qmin ?? -128, p.qmax ?? 127));
      return this.read(Int8Array, out, c);
    });
  }

  /** Concatenates NHWC tensors (same pixel count) along channels. */
  concat(parts: { data: Int8Array; c: number }[]): Int8Array {
    const pixels = parts[0].data.length / parts[0].c, total = parts.reduce((n, p) => n + p.c, 0);
    return this.scoped((s) => {
      const out = s.alloc(pixels * total);
      let offset = 0;
      for (const part of parts) {
        check('copyChannels', this.wasm.copyChannels(s.put(part.data), pixels, part.c, out, total, offset));
        offset += part.c;
      }
      return this.read(Int8Array, out, pixels * total);
    });
  }

  padZero(x: Int8Array, h: number, w: number, c: number, pad: { channels?: number; bottom?: number; right?: number }, zp: number): Int8Array {
    const ch = pad.channels ?? 0, b = pad.bottom ?? 0, r = pad.right ?? 0, n = (h + b) * (w + r) * (c + ch);
    return this.scoped((s) => {
      const out = s.alloc(n);
      check('padZero', this.wasm.padZero(s.put(x), h, w, c, out, ch, b, r, zp));
      return this.read(Int8Array, out, n);
    });
  }

  upsampleNearest(x: Int8Array, h: number, w: number, c: number, factor: number): Int8Array {
    const n = x.length * factor * factor;
    return this.scoped((s) => {
      const out = s.alloc(n);
      check('upsampleNearest', this.wasm.upsampleNearest(s.put(x), h, w, c, factor, out));
      return this.read(Int8Array, out, n);
    });
  }

  toRgb(data: Uint8Array, format: PixelFormatName, w: number, h: number): Uint8Array {
    return this.scoped((s) => {
      const out = s.alloc(w * h * 3);
      check('toRgb', this.wasm.toRgb(s.put(data), data.length, PixelFormat[format], w, h, out));
      return this.read(Uint8Array, out, w * h * 3);
    });
  }

  resizeBilinear(src: Uint8Array, sw: number, sh: number, c: number, dw: number, dh: number): Uint8Array {
    return this.scoped((s) => {
      const out = s.alloc(dw * dh * c), scratchBytes = this.wasm.resizeScratchBytes(dw, dh);
      check('resizeBilinear', this.wasm.resizeBilinear(s.put(src), sw, sh, c, out, dw, dh, s.alloc(scratchBytes), scratchBytes));
      return this.read(Uint8Array, out, dw * dh * c);
    });
  }

  halve(src: Uint8Array, sw: number, sh: number, c: number): Uint8Array {
    const n = (sw >> 1) * (sh >> 1) * c;
    return this.scoped((s) => {
      const out = s.alloc(n);
      check('halve', this.wasm.halve(s.put(src), sw, sh, c, out));
      return this.read(Uint8Array, out, n);
    });
  }

  /** dst(x, y) = src(m[0]x + m[1]y + m[2], m[3]x + m[4]y + m[5]), bilinear, `border` outside. */
  warpAffine(src: Uint8Array, sw: number, sh: number, c: number, dw: number, dh: number, m: ArrayLike<number>, border = 0): Uint8Array {
    return this.scoped((s) => {
      const out = s.alloc(dw * dh * c);
      check('warpAffine', this.wasm.warpAffine(s.put(src), sw, sh, c, out, dw, dh, m[0], m[1], m[2], m[3], m[4], m[5], border));
      return this.read(Uint8Array, out, dw * dh * c);
    });
  }

  /** RGB u8 -> int8 through a 3x256 table, taking source channels in `perm` order. */
  quantizeImage(rgb: Uint8Array, table: Int8Array, perm: [number, number, number] = [0, 1, 2]): Int8Array {
    const pixels = rgb.length / 3;
    return this.scoped((s) => {
      const out = s.alloc(rgb.length);
      check('quantizeImage', this.wasm.quantizeImage(s.put(rgb), pixels, perm[0] | (perm[1] << 8) | (perm[2] << 16), s.put(table), out));
      return this.read(Int8Array, out, rgb.length);
    });
  }

  dequantize(x: Int8Array, zp: number, scale: number): Float32Array {
    return this.scoped((s) => {
      const out = s.alloc(x.length * 4);
      check('dequantize', this.wasm.dequantize(s.put(x), x.length, zp, scale, out));
      return this.read(Float32Array, out, x.length);
    });
  }

  /** Unit-L2 copy of v (norm accumulated in float64). Throws KernelError E_NAN for a zero or non-finite vector. */
  l2Normalize(v: Float32Array): { vector: Float32Array; norm: number } {
    return this.scoped((s) => {
      const p = s.put(v);
      const norm = this.wasm.l2Normalize(p, v.length);
      if (norm < 0) check('l2Normalize', norm);
      return { vector: this.read(Float32Array, p, v.length), norm };
    });
  }
}
