// Model loading: every byte of a .wfm file is validated before anything is trusted (header, SHA-256,
// tensor and op records, shapes, parameters, data references, the 7-bit promises), then the buffers
// are planned once (one activation arena shared by all tensors by lifetime, plus scratch) and the
// weights are packed in the kernels' order. A hostile file yields E_FORMAT with a detail code
// (format.ts FE_*) and the index of the offending record; it never traps or reads outside the file.
//
// After loading, the model owns two regions: `core` (its tables, the handle JS holds) and `weights`
// (packed layers and small tables). The file itself can be freed.

import * as F from "./format";
import { sha256 } from "./sha256";
import { alloc, allocBytes, free, owned } from "../core/alloc";
import { dimOk, isInt8, roundUp } from "../core/bounds";
import { shiftOk, wideShiftOk } from "../core/requant";
import { gemmPack, gemmPackedSize, gemmKp, GEMM_MAX_K } from "../kernels/gemm";
import { dwPack, dwPackedSize, dwScratchSize, dwWeightsOk } from "../kernels/depthwise";
import { convScratchSize } from "../kernels/conv";
import { ADD_MULT_MAX } from "../kernels/eltwise";
import { OK, E_FORMAT, E_NOMEM } from "../core/status";

export const MAX_KERNEL: i32 = 32;
export const MAX_STRIDE: i32 = 8;

// ---- runtime structures (inside the `core` region) ----
export const CORE_TAG: u32 = 0x524d4657; // "WFMR"
export const M_TAG = 0;
export const M_TENSOR_COUNT = 4;
export const M_OP_COUNT = 8;
export const M_INPUT = 12;
export const M_PERM = 16;
export const M_OUTPUT_COUNT = 20;
export const M_DYNAMIC = 24;
export const M_ARENA_BYTES = 28;
export const M_SCRATCH_OFF = 32;
export const M_TENSORS = 36;      // ptr to runtime tensor table
export const M_OPS = 40;          // ptr to runtime op table
export const M_OUTPUTS = 44;      // ptr to u32 tensor ids
export const M_LUT = 48;          // ptr to 768-byte input table
export const M_WEIGHTS = 52;      // ptr to the weights region (0 when none)
export const M_CUR_H = 56;        // input size the tensor shapes currently describe
export const M_CUR_W = 60;
export const M_PLAN_H = 64;
export const M_PLAN_W = 68;
export const CORE_HEADER = 128;

// runtime tensor record
export const RT_SIZE = 32;
export const RT_H = 0;
export const RT_W = 4;
export const RT_C = 8;
export const RT_ZP = 12;
export const RT_SCALE = 16;
export const RT_FLAGS = 20;
export const RT_OFFSET = 24;      // byte offset in the arena
export const RT_PRODUCER = 28;    // op index, or -1 for the input

// runtime op record: the file's record, then resolved pointers
export const RO_SIZE = 128;
export const RO_PACKED = 96;      // packed weights (conv, depthwise, fc) or table copy (lut, avgpool mults)

let lastError: i32 = 0;

/** Detail of the last E_FORMAT: FE_* code | (record index << 8). */
export function modelLastError(): i32 { return lastError; }

@inline function fail(code: i32, index: i32): i32 {
  lastError = code | (index << 8);
  return E_FORMAT;
}

@inline function u32At(p: usize, off: i32): u32 { return load<u32>(p + <usize>off); }
@inline function i32At(p: usize, off: i32): i32 { return load<i32>(p + <usize>off); }
/** Parameter k of the op record at o. */
@inline export function param(o: usize, k: i32): i32 { return load<i32>(o + F.O_PARAMS + (<usize>k << 2)); }

const shapeTmp = memory.data(8);

// Live model handles: an entry point only accepts a handle listed here, so a stale or made-up
// number can never make the runner read tables from arbitrary memory.
const MAX_MODELS: i32 = 64;
const handles = memory.data(MAX_MODELS * 4);

/** True when [off, off+len) lies inside [0, size). */
@inline function within(off: i64, len: i64, size: i64): bool {
  return off >= 0 && len >= 0 && off + len <= size;
}

// Shape helpers shared with the runner (run.ts recomputes shapes for dynamic inputs with these).
@inline export function windowOut(size: i32, k: i32, stride: i32, before: i32, after: i32): i32 {
  const span = size + before + after - k;
  return span < 0 ? 0 : span / stride + 1;
}

export function isWindowOp(type: i32): bool {
  return type == F.OP_CONV2D || type == F.OP_DEPTHWISE || type == F.OP_MAXPOOL || type == F.OP_AVGPOOL;
}

export function inputCountOk(type: i32, n: u32): bool {
  if (type == F.OP_ADD || type == F.OP_CHANNEL_MUL) return n == 2;
  if (type == F.OP_CONCAT) return n >= 1 && n <= 4;
  return n == 1;
}

/**
 * Output shape of op `o` (runtime op record) from its inputs' current shapes, written to out[0..2].
 * Returns false when the inputs cannot produce a valid output (too small for the window, mismatch).
 */
export function opOutShape(o: usize, tensors: usize, out: usize): bool {
  const type = i32At(o, F.O_TYPE);
  const p = o + F.O_PARAMS;
  const t0 = tensors + <usize>u32At(o, F.O_INPUTS) * RT_SIZE;
  const h = i32At(t0, RT_H), w = i32At(t0, RT_W), c = i32At(t0, RT_C);
  let oh = h, ow = w;
  if (isWindowOp(type)) {
    oh = windowOut(h, load<i32>(p + F.P_KH * 4), load<i32>(p + F.P_SH * 4), load<i32>(p + F.P_PAD_TOP * 4), load<i32>(p + F.P_PAD_BOTTOM * 4));
    ow = windowOut(w, load<i32>(p + F.P_KW * 4), load<i32>(p + F.P_SW * 4), load<i32>(p + F.P_PAD_LEFT * 4), load<i32>(p + F.P_PAD_RIGHT * 4));
    if (oh < 1 || ow < 1) return false;
  } else if (type == F.OP_FC) {
    if (h != 1 || w != 1) return false;
  } else if (type == F.OP_GLOBAL_AVGPOOL) {
    oh = 1; ow = 1;
  } else if (type == F.OP_PAD) {
    oh = h + load<i32>(p + F.P_PAD_ROWS * 4); ow = w + load<i32>(p + F.P_PAD_COLS * 4);
  } else if (type == F.OP_UPSAMPLE) {
    const f = load<i32>(p + F.P_FACTOR * 4);
    oh = h * f; ow = w * f;
  }
  const n = <i32>u32At(o, F.O_INPUT_COUNT);
  for (let i = 1; i < n; i++) {
    const t = tensors + <usize>u32At(o, F.O_INPUTS + 4 * i) * RT_SIZE;
    if (type == F.OP_CHANNEL_MUL) {
      if (i32At(t, RT_H) != 1 || i32At(t, RT_W) != 1 || i32At(t, RT_C) != c) return false;
    } else if (i32At(t, RT_H) != h || i32At(t, RT_W) != w) {
      return false;
    } else if (type == F.OP_ADD && i32At(t, RT_C) != c) {
      return false;
    }
  }
  if (!dimOk(oh) || !dimOk(ow)) return false;
  store<i32>(out, oh);
  store<i32>(out + 4, ow);
  return true;
}

// Scratch bytes an op needs at the current shapes.
export function opScratch(o: usize, tensors: usize): u64 {
  const type = i32At(o, F.O_TYPE);
  const p = o + F.O_PARAMS;
  const tin = tensors + <usize>u32At(o, F.O_INPUTS) * RT_SIZE;
  const tout = tensors + <usize>u32At(o, F.O_OUTPUT) * RT_SIZE;
  const c = i32At(tin, RT_C);
  if (type == F.OP_CONV2D) {
    return convScratchSize(i32At(tout, RT_W), load<i32>(p + F.P_KH * 4), load<i32>(p + F.P_KW * 4),
      load<i32>(p + F.P_SH * 4), load<i32>(p + F.P_SW * 4), c);
  }
  if (type == F.OP_DEPTHWISE) return dwScratchSize(c, load<i32>(p + F.P_KH * 4), load<i32>(p + F.P_KW * 4));
  if (type == F.OP_FC) return gemmKp(c) == c ? 0 : <u64>gemmKp(c);
  return 0;
}

/** Bytes of packed weights / tables op `o` keeps after loading. */
function opPackedBytes(o: usize, tensors: usize): u64 {
  const type = i32At(o, F.O_TYPE);
  const p = o + F.O_PARAMS;
  const tin = tensors + <usize>u32At(o, F.O_INPUTS) * RT_SIZE;
  const tout = tensors + <usize>u32At(o, F.O_OUTPUT) * RT_SIZE;
  const c = i32At(tin, RT_C), oc = i32At(tout, RT_C);
  const kh = load<i32>(p + F.P_KH * 4), kw = load<i32>(p + F.P_KW * 4);
  if (type == F.OP_CONV2D) return gemmPackedSize(oc, kh * kw * c);
  if (type == F.OP_FC) return gemmPackedSize(oc, c);
  if (type == F.OP_DEPTHWISE) return dwPackedSize(c, kh, kw);
  if (type == F.OP_LUT) return 256;
  if (type == F.OP_AVGPOOL) return <u64>(kh * kw + 1) * 4;
  return 0;
}

/** Checks one op record against the tensors defined so far; returns 0 or an FE_* code. */
function checkOp(o: usize, index: i32, tensors: usize, tensorCount: u32, defined: usize, dataSize: i64, data: usize, dynamic: bool): i32 {
  const type = i32At(o, F.O_TYPE);
  if (type < 1 || type >= F.OP_TYPE_COUNT) return F.FE_OP_TYPE;
  const n = u32At(o, F.O_INPUT_COUNT);
  if (!inputCountOk(type, n)) return F.FE_OP_TYPE;
  for (let i: u32 = 0; i < 4; i++) {
    const id = u32At(o, F.O_INPUTS + 4 * i);
    if (i >= n) { if (id != 0) return F.FE_OP_REF; continue; }
    if (id >= tensorCount || load<u8>(defined + id) == 0) return F.FE_OP_REF;
  }
  const outId = u32At(o, F.O_OUTPUT);
  if (outId >= tensorCount || load<u8>(defined + outId) != 0) return F.FE_OP_REF;
  const tin = tensors + <usize>u32At(o, F.O_INPUTS) * RT_SIZE;
  const tout = tensors + <usize>outId * RT_SIZE;
  const h = i32At(tin, RT_H), w = i32At(tin, RT_W), c = i32At(tin, RT_C);
  const oc = i32At(tout, RT_C);

  // window parameters
  if (isWindowOp(type)) {
    const kh = param(o, F.P_KH), kw = param(o, F.P_KW), sh = param(o, F.P_SH), sw = param(o, F.P_SW);
    if (kh < 1 || kw < 1 || kh > MAX_KERNEL || kw > MAX_KERNEL || sh < 1 || sw < 1 || sh > MAX_STRIDE || sw > MAX_STRIDE) return F.FE_OP_PARAM;
    for (let k = F.P_PAD_TOP; k <= F.P_PAD_RIGHT; k++) {
      const pad = param(o, k);
      if (pad < 0 || pad >= ((k == F.P_PAD_TOP || k == F.P_PAD_BOTTOM) ? kh : kw)) return F.FE_OP_PARAM;
    }
  } else if (type == F.OP_PAD) {
    if (param(o, F.P_PAD_CHANNELS) < 0 || param(o, F.P_PAD_ROWS) < 0 || param(o, F.P_PAD_COLS) < 0
      || param(o, F.P_PAD_CHANNELS) > 16384 || param(o, F.P_PAD_ROWS) > 16384 || param(o, F.P_PAD_COLS) > 16384) return F.FE_OP_PARAM;
  } else if (type == F.OP_UPSAMPLE) {
    if (param(o, F.P_FACTOR) < 1 || param(o, F.P_FACTOR) > 16) return F.FE_OP_PARAM;
  }
  if (dynamic && type == F.OP_GLOBAL_AVGPOOL) return F.FE_OP_PARAM; // its multiplier assumes one pixel count

  // shapes
  if (!opOutShape(o, tensors, shapeTmp)) return F.FE_OP_SHAPE;
  if (load<i32>(shapeTmp) != i32At(tout, RT_H) || load<i32>(shapeTmp, 4) != i32At(tout, RT_W)) return F.FE_OP_SHAPE;
  let wantC = c;
  if (type == F.OP_CONV2D || type == F.OP_FC) wantC = oc; // free
  else if (type == F.OP_PAD) wantC = c + param(o, F.P_PAD_CHANNELS);
  else if (type == F.OP_CONCAT) {
    wantC = 0;
    for (let i: u32 = 0; i < n; i++) wantC += i32At(tensors + <usize>u32At(o, F.O_INPUTS + 4 * i) * RT_SIZE, RT_C);
  }
  if (oc != wantC) return F.FE_OP_SHAPE;
  if (type == F.OP_CONV2D && param(o, F.P_KH) * param(o, F.P_KW) * c > GEMM_MAX_K) return F.FE_OP_SHAPE;
  if (type == F.OP_FC && c > GEMM_MAX_K) return F.FE_OP_SHAPE;

  // requantisation parameters
  const requantising = type == F.OP_CONV2D || type == F.OP_DEPTHWISE || type == F.OP_FC || type == F.OP_ADD
    || type == F.OP_CHANNEL_MUL || type == F.OP_AVGPOOL || type == F.OP_GLOBAL_AVGPOOL;
  if (requantising) {
    const qmin = param(o, F.P_QMIN), qmax = param(o, F.P_QMAX), shift = param(o, F.P_SHIFT);
    if (!isInt8(qmin) || !isInt8(qmax) || qmin > qmax) return F.FE_OP_PARAM;
    if (type == F.OP_ADD) {
      if (shift < 1 || shift > 31) return F.FE_OP_PARAM;
      const ma = param(o, F.P_MA), mb = param(o, F.P_MB);
      if (ma <= -ADD_MULT_MAX || ma >= ADD_MULT_MAX || mb <= -ADD_MULT_MAX || mb >= ADD_MULT_MAX) return F.FE_OP_PARAM;
    } else if (type == F.OP_CHANNEL_MUL) {
      if (!wideShiftOk(shift, 255 * 255)) return F.FE_OP_PARAM;
    } else if (type == F.OP_AVGPOOL) {
      if (!wideShiftOk(shift, <u64>255 * param(o, F.P_KH) * param(o, F.P_KW))) return F.FE_OP_PARAM;
    } else if (type == F.OP_GLOBAL_AVGPOOL) {
      if (!wideShiftOk(shift, <u64>255 * h * w)) return F.FE_OP_PARAM;
    } else if (!shiftOk(shift)) {
      return F.FE_OP_PARAM;
    }
  }

  // data references
  if (type == F.OP_CONV2D || type == F.OP_DEPTHWISE || type == F.OP_FC) {
    const taps = type == F.OP_FC ? 1 : param(o, F.P_KH) * param(o, F.P_KW);
    const wBytes: i64 = type == F.OP_DEPTHWISE ? <i64>taps * c : <i64>taps * c * oc;
    if (!within(param(o, F.P_WEIGHTS), wBytes, dataSize)) return F.FE_OP_DATA;
    if (!within(param(o, F.P_BIAS), <i64>oc * 4, dataSize) || !within(param(o, F.P_MULT), <i64>oc * 4, dataSize)) return F.FE_OP_DATA;
    if (param(o, F.P_MULT_NEG) != -1 && !within(param(o, F.P_MULT_NEG), <i64>oc * 4, dataSize)) return F.FE_OP_DATA;
    // symmetric int8 weights: the depthwise SIMD kernel sums two products in i16 (depthwise.ts)
    if (type == F.OP_DEPTHWISE && !dwWeightsOk(data + <usize>param(o, F.P_WEIGHTS), <u64>wBytes)) return F.FE_OP_QUANT;
  } else if (type == F.OP_LUT) {
    if (!within(param(o, F.P_TABLE), 256, dataSize)) return F.FE_OP_DATA;
  } else if (type == F.OP_AVGPOOL) {
    if (!within(param(o, F.P_MULTS), <i64>(param(o, F.P_KH) * param(o, F.P_KW) + 1) * 4, dataSize)) return F.FE_OP_DATA;
    if (param(o, F.P_COUNT_INCLUDE_PAD) != 0 && param(o, F.P_COUNT_INCLUDE_PAD) != 1) return F.FE_OP_PARAM;
  }
  // unused parameter slots must be zero, so a file means one thing only
  for (let k = 0; k < F.PARAM_COUNT; k++) if (!paramUsed(type, k) && param(o, k) != 0) return F.FE_OP_PARAM;

  // quantisation consistency
  if (type == F.OP_CONCAT || type == F.OP_PAD || type == F.OP_UPSAMPLE || type == F.OP_MAXPOOL) {
    for (let i: u32 = 0; i < n; i++) {
      const t = tensors + <usize>u32At(o, F.O_INPUTS + 4 * i) * RT_SIZE;
      if (i32At(t, RT_ZP) != i32At(tout, RT_ZP) || load<u32>(t + RT_SCALE) != load<u32>(tout + RT_SCALE)) return F.FE_OP_QUANT;
    }
  }
  if (i32At(tout, RT_FLAGS) & F.TF_U7) {
    // the 7-bit promise: the producer must make every value land in [0, 127]
    if (requantising) {
      if (param(o, F.P_QMIN) < 0) return F.FE_OP_QUANT;
    } else if (type == F.OP_LUT) {
      for (let i = 0; i < 256; i++) if (load<i8>(data + <usize>param(o, F.P_TABLE) + i) < 0) return F.FE_OP_QUANT;
    } else {
      for (let i: u32 = 0; i < n; i++) {
        if (!(i32At(tensors + <usize>u32At(o, F.O_INPUTS + 4 * i) * RT_SIZE, RT_FLAGS) & F.TF_U7)) return F.FE_OP_QUANT;
      }
    }
  }
  return 0;
}

/** Whether param slot k means something for op type `type` (others must be zero). */
function paramUsed(type: i32, k: i32): bool {
  if (isWindowOp(type) && k <= F.P_PAD_RIGHT) return true;
  if (type == F.OP_CONV2D || type == F.OP_DEPTHWISE || type == F.OP_FC) return (k >= F.P_SHIFT && k <= F.P_MULT_NEG);
  if (type == F.OP_ADD) return k == F.P_MA || k == F.P_MB || (k >= F.P_SHIFT && k <= F.P_QMAX);
  if (type == F.OP_CHANNEL_MUL || type == F.OP_GLOBAL_AVGPOOL) return k == F.P_MA || (k >= F.P_SHIFT && k <= F.P_QMAX);
  if (type == F.OP_LUT) return k == F.P_TABLE;
  if (type == F.OP_AVGPOOL) return k >= F.P_SHIFT && k <= F.P_COUNT_INCLUDE_PAD;
  if (type == F.OP_PAD) return k <= F.P_PAD_COLS;
  if (type == F.OP_UPSAMPLE) return k == F.P_FACTOR;
  return false;
}

/**
 * Validates the file at [file, file+len), plans and packs. Returns the model handle (> 0) or a
 * negative status (E_FORMAT with modelLastError() detail, E_NOMEM).
 */
export function loadModel(file: usize, len: u32, hostDigest: usize = 0): i32 {
  lastError = 0;
  if (len < <u32>F.HEADER_SIZE) return fail(F.FE_SIZE, 0);
  if (u32At(file, F.H_MAGIC) != <u32>F.MAGIC) return fail(F.FE_MAGIC, 0);
  if (u32At(file, F.H_VERSION) != <u32>F.VERSION) return fail(F.FE_VERSION, 0);
  if (u32At(file, F.H_FILE_SIZE) != len || len > <u32>F.MAX_FILE_SIZE) return fail(F.FE_SIZE, 0);
  if (u32At(file, F.H_FLAGS) != 0) return fail(F.FE_VERSION, 0);
  for (let off = 104; off < F.HEADER_SIZE; off += 4) if (u32At(file, off) != 0) return fail(F.FE_VERSION, 0);
  // the checksum first: nothing after the header is trusted before it matches. A host with a native
  // SHA-256 (WebCrypto) may pass the digest it computed over the same bytes; else we hash here.
  let digest = hostDigest;
  if (!digest) {
    digest = memory.data(32);
    sha256(file + F.HEADER_SIZE, len - F.HEADER_SIZE, digest);
  }
  for (let i = 0; i < 32; i += 4) if (load<u32>(digest + i) != u32At(file, F.H_SHA256 + i)) return fail(F.FE_CHECKSUM, 0);

  const size = <i64>len;
  const tensorCount = u32At(file, F.H_TENSOR_COUNT), opCount = u32At(file, F.H_OP_COUNT);
  const outputCount = u32At(file, F.H_OUTPUT_COUNT);
  if (tensorCount < 2 || tensorCount > <u32>F.MAX_TENSORS || opCount < 1 || opCount > <u32>F.MAX_OPS) return fail(F.FE_SECTION, 0);
  if (outputCount < 1 || outputCount > <u32>F.MAX_OUTPUTS) return fail(F.FE_OUTPUT, 0);
  const tensorsOff = <i64>u32At(file, F.H_TENSORS_OFF), opsOff = <i64>u32At(file, F.H_OPS_OFF);
  const dataOff = <i64>u32At(file, F.H_DATA_OFF), dataSize = <i64>u32At(file, F.H_DATA_SIZE);
  const outputsOff = <i64>u32At(file, F.H_OUTPUTS_OFF);
  const metaOff = <i64>u32At(file, F.H_META_OFF), metaSize = <i64>u32At(file, F.H_META_SIZE);
  if (tensorsOff < F.HEADER_SIZE || opsOff < F.HEADER_SIZE || dataOff < F.HEADER_SIZE || outputsOff < F.HEADER_SIZE || metaOff < F.HEADER_SIZE) return fail(F.FE_SECTION, 0);
  if (!within(tensorsOff, <i64>tensorCount * F.TENSOR_SIZE, size) || !within(opsOff, <i64>opCount * F.OP_SIZE, size)
    || !within(dataOff, dataSize, size) || !within(outputsOff, <i64>outputCount * 4, size) || !within(metaOff, metaSize, size)) return fail(F.FE_SECTION, 0);
  const dynamic = u32At(file, F.H_DYNAMIC);
  if (dynamic > 1024) return fail(F.FE_INPUT, 0);
  const data = file + <usize>dataOff;

  // runtime tables in a temporary planning region: tensors, ops, outputs, lut, flags, lifetimes
  const coreBytes = <u64>CORE_HEADER + <u64>tensorCount * RT_SIZE + <u64>opCount * RO_SIZE + <u64>outputCount * 4 + 768;
  const core = allocBytes(coreBytes);
  if (!core) return E_NOMEM;
  const tensors = core + CORE_HEADER;
  const ops = tensors + <usize>tensorCount * RT_SIZE;
  const outputs = ops + <usize>opCount * RO_SIZE;
  const lut = outputs + <usize>outputCount * 4;
  const scratchTables = alloc(tensorCount * 13 + 16);
  if (!scratchTables) { free(core); return E_NOMEM; }
  const defined = scratchTables;                          // u8 per tensor
  const def = scratchTables + roundUp(tensorCount, 4);    // i32 per tensor: producing op (-1 input)
  const last = def + <usize>tensorCount * 4;              // i32 per tensor: last op reading it
  const status = buildModel(file, size, data, dataSize, dynamic, tensorCount, opCount, outputCount,
    <usize>tensorsOff, <usize>opsOff, <usize>outputsOff, core, tensors, ops, outputs, lut, defined, def, last);
  free(scratchTables);
  if (status != OK) {
    const weights = load<usize>(core + M_WEIGHTS);
    if (weights) free(weights);
    free(core);
    return status;
  }
  let slot = -1;
  for (let i = 0; i < MAX_MODELS; i++) if (load<usize>(handles + (<usize>i << 2)) == 0) { slot = i; break; }
  if (slot < 0) { destroy(core); return E_NOMEM; }
  store<usize>(handles + (<usize>slot << 2), core);
  return <i32>core;
}

function buildModel(file: usize, size: i64, data: usize, dataSize: i64, dynamic: u32, tensorCount: u32, opCount: u32, outputCount: u32,
                    tensorsOff: usize, opsOff: usize, outputsOff: usize, core: usize, tensors: usize, ops: usize, outputs: usize, lut: usize,
                    defined: usize, def: usize, last: usize): i32 {
  // tensors
  for (let i: u32 = 0; i < tensorCount; i++) {
    const src = file + tensorsOff + <usize>i * F.TENSOR_SIZE, dst = tensors + <usize>i * RT_SIZE;
    const h = i32At(src, F.T_H), w = i32At(src, F.T_W), c = i32At(src, F.T_C), zp = i32At(src, F.T_ZP);
    const scale = load<f32>(src + F.T_SCALE), flags = u32At(src, F.T_FLAGS);
    if (!dimOk(h) || !dimOk(w) || !dimOk(c) || <u64>h * w * c > (<u64>1 << 28)) return fail(F.FE_TENSOR, i);
    if (!isInt8(zp) || !(scale > 0) || !isFinite(scale) || (flags & ~F.TF_U7) != 0) return fail(F.FE_TENSOR, i);
    if ((flags & F.TF_U7) && zp < 0) return fail(F.FE_TENSOR, i);
    if (u32At(src, 24) != 0 || u32At(src, 28) != 0) return fail(F.FE_TENSOR, i);
    store<i32>(dst + RT_H, h); store<i32>(dst + RT_W, w); store<i32>(dst + RT_C, c); store<i32>(dst + RT_ZP, zp);
    store<f32>(dst + RT_SCALE, scale); store<u32>(dst + RT_FLAGS, flags); store<i32>(dst + RT_PRODUCER, -2);
    store<i32>(def + (<usize>i << 2), -2); store<i32>(last + (<usize>i << 2), -1);
  }
  // input
  const input = u32At(file, F.H_INPUT_TENSOR), perm = u32At(file, F.H_INPUT_PERM), lutOff = <i64>u32At(file, F.H_INPUT_LUT);
  if (input >= tensorCount) return fail(F.FE_INPUT, 0);
  const tin = tensors + <usize>input * RT_SIZE;
  if (i32At(tin, RT_C) != 3 || (perm & 0xff) > 2 || ((perm >> 8) & 0xff) > 2 || ((perm >> 16) & 0xff) > 2 || (perm >> 24) != 0) return fail(F.FE_INPUT, 0);
  if (!within(lutOff, 768, dataSize)) return fail(F.FE_INPUT, 0);
  memory.copy(lut, data + <usize>lutOff, 768);
  if (i32At(tin, RT_FLAGS) & F.TF_U7) {
    for (let i = 0; i < 768; i++) if (load<i8>(lut + i) < 0) return fail(F.FE_INPUT, 0);
  }
  if (dynamic > 0 && (i32At(tin, RT_H) % <i32>dynamic != 0 || i32At(tin, RT_W) % <i32>dynamic != 0)) return fail(F.FE_INPUT, 0);
  store<u8>(defined + input, 1);
  store<i32>(def + (<usize>input << 2), -1);
  store<i32>(tin + RT_PRODUCER, -1);

  // ops, in order: each may only read tensors already computed
  for (let i: u32 = 0; i < opCount; i++) {
    const o = ops + <usize>i * RO_SIZE;
    memory.copy(o, file + opsOff + <usize>i * F.OP_SIZE, F.OP_SIZE);
    const code = checkOp(o, i, tensors, tensorCount, defined, dataSize, data, dynamic > 0);
    if (code) return fail(code, i);
    const n = u32At(o, F.O_INPUT_COUNT);
    for (let k: u32 = 0; k < n; k++) store<i32>(last + (<usize>u32At(o, F.O_INPUTS + 4 * k) << 2), i);
    const outId = u32At(o, F.O_OUTPUT);
    store<u8>(defined + outId, 1);
    store<i32>(def + (<usize>outId << 2), i);
    store<i32>(tensors + <usize>outId * RT_SIZE + RT_PRODUCER, i);
  }
  for (let i: u32 = 0; i < tensorCount; i++) if (load<u8>(defined + i) == 0) return fail(F.FE_TENSOR, i); // orphan tensor
  // outputs live to the end
  for (let i: u32 = 0; i < outputCount; i++) {
    const id = u32At(file + outputsOff, i * 4);
    if (id >= tensorCount || load<u8>(defined + id) == 0) return fail(F.FE_OUTPUT, i);
    store<u32>(outputs + (<usize>i << 2), id);
    store<i32>(last + (<usize>id << 2), opCount);
  }

  // arena plan: greedy by size, lowest offset that no lifetime-overlapping tensor occupies
  let arenaEnd: u64 = 0;
  const placed = defined; // reuse: 2 = placed
  for (let round: u32 = 0; round < tensorCount; round++) {
    let best: i32 = -1;
    let bestSize: u64 = 0;
    for (let t: u32 = 0; t < tensorCount; t++) {
      if (load<u8>(placed + t) != 1) continue; // undefined tensors are never placed
      const sz = tensorBytes(tensors + <usize>t * RT_SIZE);
      if (best < 0 || sz > bestSize) { best = t; bestSize = sz; }
    }
    if (best < 0) break;
    const d0 = load<i32>(def + (<usize>best << 2)), l0 = max(load<i32>(last + (<usize>best << 2)), d0);
    let offset: u64 = 0;
    for (let moved = true; moved;) {
      moved = false;
      for (let t: u32 = 0; t < tensorCount; t++) {
        if (load<u8>(placed + t) != 2) continue;
        const d1 = load<i32>(def + (<usize>t << 2)), l1 = max(load<i32>(last + (<usize>t << 2)), d1);
        if (d0 > l1 || d1 > l0) continue;
        const o1 = <u64>load<i32>(tensors + <usize>t * RT_SIZE + RT_OFFSET), s1 = tensorBytes(tensors + <usize>t * RT_SIZE);
        if (offset < o1 + s1 && o1 < offset + bestSize) { offset = o1 + s1; moved = true; }
      }
    }
    store<i32>(tensors + <usize>best * RT_SIZE + RT_OFFSET, <i32>offset);
    store<u8>(placed + best, 2);
    if (offset + bestSize > arenaEnd) arenaEnd = offset + bestSize;
  }
  let scratch: u64 = 0;
  let packedTotal: u64 = 0;
  for (let i: u32 = 0; i < opCount; i++) {
    const o = ops + <usize>i * RO_SIZE;
    const s = opScratch(o, tensors);
    if (s > scratch) scratch = s;
    packedTotal += (opPackedBytes(o, tensors) + 15) & ~15;
  }
  const arenaBytes = arenaEnd + ((scratch + 15) & ~15);
  if (arenaBytes > 0x7fff0000) return fail(F.FE_MEMORY, 0);

  store<u32>(core + M_TAG, CORE_TAG);
  store<u32>(core + M_TENSOR_COUNT, tensorCount);
  store<u32>(core + M_OP_COUNT, opCount);
  store<u32>(core + M_INPUT, input);
  store<u32>(core + M_PERM, perm);
  store<u32>(core + M_OUTPUT_COUNT, outputCount);
  store<u32>(core + M_DYNAMIC, dynamic);
  store<u32>(core + M_ARENA_BYTES, <u32>arenaBytes);
  store<u32>(core + M_SCRATCH_OFF, <u32>arenaEnd);
  store<usize>(core + M_TENSORS, tensors);
  store<usize>(core + M_OPS, ops);
  store<usize>(core + M_OUTPUTS, outputs);
  store<usize>(core + M_LUT, lut);
  store<i32>(core + M_CUR_H, i32At(tin, RT_H));
  store<i32>(core + M_CUR_W, i32At(tin, RT_W));
  store<i32>(core + M_PLAN_H, i32At(tin, RT_H));
  store<i32>(core + M_PLAN_W, i32At(tin, RT_W));

  // pack weights and copy tables
  if (packedTotal > 0) {
    const weights = allocBytes(packedTotal);
    if (!weights) return E_NOMEM;
    store<usize>(core + M_WEIGHTS, weights);
    let at = weights;
    for (let i: u32 = 0; i < opCount; i++) {
      const o = ops + <usize>i * RO_SIZE;
      const bytes = opPackedBytes(o, tensors);
      if (bytes == 0) continue;
      packOp(o, tensors, data, at);
      store<usize>(o + RO_PACKED, at);
      at += <usize>((bytes + 15) & ~15);
    }
  }
  return OK;
}

@inline function tensorBytes(t: usize): u64 {
  return (<u64>i32At(t, RT_H) * <u64>i32At(t, RT_W) * <u64>i32At(t, RT_C) + 15) & ~15;
}

function packOp(o: usize, tensors: usize, data: usize, dst: usize): void {
  const type = i32At(o, F.O_TYPE);
  const tin = tensors + <usize>u32At(o, F.O_INPUTS) * RT_SIZE;
  const tout = tensors + <usize>u32At(o, F.O_OUTPUT) * RT_SIZE;
  const c = i32At(tin, RT_C), oc = i32At(tout, RT_C), zpIn = i32At(tin, RT_ZP);
  const multNeg: usize = param(o, F.P_MULT_NEG) == -1 ? 0 : data + <usize>param(o, F.P_MULT_NEG);
  if (type == F.OP_CONV2D || type == F.OP_FC) {
    const k = type == F.OP_FC ? c : param(o, F.P_KH) * param(o, F.P_KW) * c;
    gemmPack(data + <usize>param(o, F.P_WEIGHTS), oc, k, data + <usize>param(o, F.P_BIAS), data + <usize>param(o, F.P_MULT), multNeg, zpIn, dst);
  } else if (type == F.OP_DEPTHWISE) {
    dwPack(data + <usize>param(o, F.P_WEIGHTS), c, param(o, F.P_KH), param(o, F.P_KW), data + <usize>param(o, F.P_BIAS), data + <usize>param(o, F.P_MULT), multNeg, zpIn, dst);
  } else if (type == F.OP_LUT) {
    memory.copy(dst, data + <usize>param(o, F.P_TABLE), 256);
  } else if (type == F.OP_AVGPOOL) {
    memory.copy(dst, data + <usize>param(o, F.P_MULTS), <usize>(param(o, F.P_KH) * param(o, F.P_KW) + 1) * 4);
  }
}

/** True when `handle` is a live model returned by loadModel. */
export function isModel(handle: usize): bool {
  if (handle == 0) return false;
  for (let i = 0; i < MAX_MODELS; i++) if (load<usize>(handles + (<usize>i << 2)) == handle) return load<u32>(handle + M_TAG) == CORE_TAG;
  return false;
}

export function unloadModel(handle: usize): bool {
  if (!isModel(handle)) return false;
  for (let i = 0; i < MAX_MODELS; i++) if (load<usize>(handles + (<usize>i << 2)) == handle) store<usize>(handles + (<usize>i << 2), 0);
  destroy(handle);
  return true;
}

function destroy(core: usize): void {
  const weights = load<usize>(core + M_WEIGHTS);
  store<u32>(core + M_TAG, 0);
  if (weights) free(weights);
  free(core);
}
