// Entry points for models: load (validate, plan, pack), query, run, dequantise outputs, unload.

import * as F from "../graph/format";
import {
  loadModel, unloadModel, isModel, modelLastError as lastError,
  M_ARENA_BYTES, M_OUTPUT_COUNT, M_OUTPUTS, M_TENSORS, M_CUR_H, M_CUR_W, M_PLAN_H, M_PLAN_W, M_DYNAMIC, M_OP_COUNT,
  RT_SIZE, RT_H, RT_W, RT_C, RT_ZP, RT_SCALE, RT_OFFSET,
} from "../graph/model";
import { runModel, setInputSize } from "../graph/run";
import { sha256 } from "../graph/sha256";
import { owned } from "../core/alloc";
import { OK, E_BOUNDS, E_PARAM } from "../core/status";
import { dequantize } from "../image/tensor";

/** Loads a .wfm file held at [file, file+len). Returns a handle > 0 or a negative status. */
export function modelLoad(file: usize, len: u32): i32 {
  if (!owned(file, len)) return E_BOUNDS;
  return loadModel(file, len);
}

/**
 * modelLoad with the SHA-256 of [file+128, file+len) computed by the host (32 bytes at digest, e.g.
 * by WebCrypto, several times faster than hashing in wasm); it is compared with the file's header
 * exactly as a digest computed here would be.
 */
export function modelLoadDigest(file: usize, len: u32, digest: usize): i32 {
  if (!owned(file, len) || !owned(digest, 32)) return E_BOUNDS;
  return loadModel(file, len, digest);
}

/** Detail of the last E_FORMAT from modelLoad: FE_* code | (record index << 8). */
export function modelLastError(): i32 { return lastError(); }

export function modelFree(handle: usize): i32 { return unloadModel(handle) ? 1 : 0; }

/** Arena bytes modelRun needs (planned at the largest input size), or E_PARAM. */
export function modelArenaBytes(handle: usize): i32 {
  return isModel(handle) ? <i32>load<u32>(handle + M_ARENA_BYTES) : E_PARAM;
}

/** 0: current width, 1: current height, 2: planned width, 3: planned height, 4: size step (0 = fixed), 5: op count. */
export function modelInputInfo(handle: usize, field: i32): i32 {
  if (!isModel(handle)) return E_PARAM;
  switch (field) {
    case 0: return load<i32>(handle + M_CUR_W);
    case 1: return load<i32>(handle + M_CUR_H);
    case 2: return load<i32>(handle + M_PLAN_W);
    case 3: return load<i32>(handle + M_PLAN_H);
    case 4: return <i32>load<u32>(handle + M_DYNAMIC);
    case 5: return <i32>load<u32>(handle + M_OP_COUNT);
    default: return E_PARAM;
  }
}

export function modelSetInputSize(handle: usize, w: i32, h: i32): i32 { return setInputSize(handle, w, h); }

export function modelRun(handle: usize, rgb: usize, w: i32, h: i32, arena: usize, arenaLen: u32): i32 {
  return runModel(handle, rgb, w, h, arena, arenaLen);
}

export function modelOutputCount(handle: usize): i32 {
  return isModel(handle) ? <i32>load<u32>(handle + M_OUTPUT_COUNT) : E_PARAM;
}

function outputTensor(handle: usize, i: i32): usize {
  if (!isModel(handle) || i < 0 || <u32>i >= load<u32>(handle + M_OUTPUT_COUNT)) return 0;
  return load<usize>(handle + M_TENSORS) + <usize>load<u32>(load<usize>(handle + M_OUTPUTS) + (<usize>i << 2)) * RT_SIZE;
}

/** Output i: 0 arena offset, 1 height, 2 width, 3 channels, 4 zero point (current input size). */
export function modelOutputInfo(handle: usize, i: i32, field: i32): i32 {
  const t = outputTensor(handle, i);
  if (!t) return E_PARAM;
  switch (field) {
    case 0: return load<i32>(t + RT_OFFSET);
    case 1: return load<i32>(t + RT_H);
    case 2: return load<i32>(t + RT_W);
    case 3: return load<i32>(t + RT_C);
    case 4: return load<i32>(t + RT_ZP);
    default: return E_PARAM;
  }
}

export function modelOutputScale(handle: usize, i: i32): f32 {
  const t = outputTensor(handle, i);
  return t ? load<f32>(t + RT_SCALE) : -1;
}

/** Writes output i of the last run, dequantised, as f32 to dst (h*w*c*4 bytes). */
export function modelDequantizeOutput(handle: usize, i: i32, arena: usize, arenaLen: u32, dst: usize): i32 {
  const t = outputTensor(handle, i);
  if (!t) return E_PARAM;
  const n = <u64>load<i32>(t + RT_H) * load<i32>(t + RT_W) * load<i32>(t + RT_C);
  if (arenaLen < load<u32>(handle + M_ARENA_BYTES) || !owned(arena, load<u32>(handle + M_ARENA_BYTES)) || !owned(dst, n * 4)) return E_BOUNDS;
  dequantize(arena + <usize>load<i32>(t + RT_OFFSET), <i32>n, load<i32>(t + RT_ZP), load<f32>(t + RT_SCALE), dst);
  return OK;
}

/** SHA-256 of [p, p+len) into out (32 bytes). */
export function sha256Digest(p: usize, len: u32, out: usize): i32 {
  if ((len > 0 && !owned(p, len)) || !owned(out, 32)) return E_BOUNDS;
  sha256(p, len, out);
  return OK;
}

// keep the format's header size visible to JS callers that pre-check files
export function modelHeaderSize(): i32 { return F.HEADER_SIZE; }
