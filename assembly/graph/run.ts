// Executes a loaded model: input image -> quantised input tensor -> every op in file order, each
// reading and writing planned offsets of the caller's arena. No allocation, no validation in the
// loop beyond what changes per call (arena, input size): loadModel proved the rest.

import * as F from "./format";
import {
  isModel, param, opOutShape,
  M_TENSORS, M_OPS, M_INPUT, M_PERM, M_LUT, M_OP_COUNT, M_ARENA_BYTES, M_SCRATCH_OFF, M_DYNAMIC,
  M_CUR_H, M_CUR_W, M_PLAN_H, M_PLAN_W, RT_SIZE, RT_H, RT_W, RT_C, RT_ZP, RT_FLAGS, RT_OFFSET, RO_SIZE, RO_PACKED,
} from "./model";
import { owned } from "../core/alloc";
import { OK, E_PARAM, E_BOUNDS, E_SHAPE } from "../core/status";
import { gemm, gemmKp } from "../kernels/gemm";
import { conv2d } from "../kernels/conv";
import { dwconv } from "../kernels/depthwise";
import { add, channelMul, lut } from "../kernels/eltwise";
import { maxPool, avgPool, globalAvgPool } from "../kernels/pool";
import { copyChannels, padZero, upsampleNearest } from "../kernels/layout";
import { quantizeImage } from "../image/tensor";

const outShape = memory.data(8);

/** Recomputes every tensor's height and width for an input of h x w (dynamic models). */
function inferShapes(m: usize, h: i32, w: i32): bool {
  const tensors = load<usize>(m + M_TENSORS), ops = load<usize>(m + M_OPS);
  const tin = tensors + <usize>load<u32>(m + M_INPUT) * RT_SIZE;
  store<i32>(tin + RT_H, h);
  store<i32>(tin + RT_W, w);
  const n = load<u32>(m + M_OP_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    const o = ops + <usize>i * RO_SIZE;
    if (!opOutShape(o, tensors, outShape)) return false;
    const t = tensors + <usize>load<u32>(o + F.O_OUTPUT) * RT_SIZE;
    store<i32>(t + RT_H, load<i32>(outShape));
    store<i32>(t + RT_W, load<i32>(outShape, 4));
  }
  return true;
}

/**
 * Sets the input size of a dynamic model (multiples of its step, at most the planned size).
 * Fixed-size models accept only their own size. Returns OK or E_SHAPE (shapes stay usable).
 */
export function setInputSize(m: usize, w: i32, h: i32): i32 {
  if (!isModel(m)) return E_PARAM;
  if (h == load<i32>(m + M_CUR_H) && w == load<i32>(m + M_CUR_W)) return OK;
  const step = <i32>load<u32>(m + M_DYNAMIC);
  const ph = load<i32>(m + M_PLAN_H), pw = load<i32>(m + M_PLAN_W);
  if (step == 0 || h < step || w < step || h > ph || w > pw || h % step != 0 || w % step != 0) return E_SHAPE;
  if (!inferShapes(m, h, w)) {
    inferShapes(m, load<i32>(m + M_CUR_H), load<i32>(m + M_CUR_W));
    return E_SHAPE;
  }
  store<i32>(m + M_CUR_H, h);
  store<i32>(m + M_CUR_W, w);
  return OK;
}

/**
 * Runs the model on an RGB u8 image of exactly the current input size (see setInputSize), with the
 * caller's arena (at least modelArenaBytes). Outputs stay in the arena until the next run.
 */
export function runModel(m: usize, rgb: usize, w: i32, h: i32, arena: usize, arenaLen: u32): i32 {
  if (!isModel(m)) return E_PARAM;
  if (w != load<i32>(m + M_CUR_W) || h != load<i32>(m + M_CUR_H)) return E_SHAPE;
  const need = load<u32>(m + M_ARENA_BYTES);
  if (arenaLen < need || !owned(arena, need)) return E_BOUNDS;
  if (!owned(rgb, <u64>w * h * 3)) return E_BOUNDS;
  const tensors = load<usize>(m + M_TENSORS), ops = load<usize>(m + M_OPS);
  const tin = tensors + <usize>load<u32>(m + M_INPUT) * RT_SIZE;
  quantizeImage(rgb, w * h, <i32>load<u32>(m + M_PERM), load<usize>(m + M_LUT), arena + <usize>load<i32>(tin + RT_OFFSET));
  const scratch = arena + <usize>load<u32>(m + M_SCRATCH_OFF);
  const n = load<u32>(m + M_OP_COUNT);
  for (let i: u32 = 0; i < n; i++) runOp(ops + <usize>i * RO_SIZE, tensors, arena, scratch);
  return OK;
}

@inline function tensorAt(tensors: usize, o: usize, slot: i32): usize {
  return tensors + <usize>load<u32>(o + F.O_INPUTS + 4 * slot) * RT_SIZE;
}

function runOp(o: usize, tensors: usize, arena: usize, scratch: usize): void {
  const type = load<i32>(o + F.O_TYPE);
  const a = tensorAt(tensors, o, 0);
  const y = tensors + <usize>load<u32>(o + F.O_OUTPUT) * RT_SIZE;
  const ap = arena + <usize>load<i32>(a + RT_OFFSET), yp = arena + <usize>load<i32>(y + RT_OFFSET);
  const h = load<i32>(a + RT_H), w = load<i32>(a + RT_W), c = load<i32>(a + RT_C);
  const oh = load<i32>(y + RT_H), ow = load<i32>(y + RT_W), oc = load<i32>(y + RT_C);
  const zpA = load<i32>(a + RT_ZP), zpY = load<i32>(y + RT_ZP);
  const shift = param(o, F.P_SHIFT), qmin = param(o, F.P_QMIN), qmax = param(o, F.P_QMAX);
  const packed = load<usize>(o + RO_PACKED);
  switch (type) {
    case F.OP_CONV2D: {
      const u7 = (load<u32>(a + RT_FLAGS) & F.TF_U7) != 0;
      conv2d(ap, h, w, c, yp, oh, ow, oc, oc, param(o, F.P_KH), param(o, F.P_KW), param(o, F.P_SH), param(o, F.P_SW),
        param(o, F.P_PAD_TOP), param(o, F.P_PAD_LEFT), packed, shift, zpA, zpY, qmin, qmax, u7, scratch);
      break;
    }
    case F.OP_DEPTHWISE: {
      dwconv(ap, h, w, c, yp, oh, ow, oc, param(o, F.P_KH), param(o, F.P_KW), param(o, F.P_SH), param(o, F.P_SW),
        param(o, F.P_PAD_TOP), param(o, F.P_PAD_LEFT), packed, shift, zpA, zpY, qmin, qmax, scratch);
      break;
    }
    case F.OP_FC: {
      const u7 = (load<u32>(a + RT_FLAGS) & F.TF_U7) != 0;
      const kp = gemmKp(c);
      let src = ap;
      if (kp != c) {
        memory.copy(scratch, ap, c);
        memory.fill(scratch + c, 0, kp - c);
        src = scratch;
      }
      gemm(src, kp, 1, kp, packed, oc, yp, oc, shift, zpY, qmin, qmax, u7);
      break;
    }
    case F.OP_ADD: {
      const b = tensorAt(tensors, o, 1);
      add(ap, arena + <usize>load<i32>(b + RT_OFFSET), yp, h * w * c, zpA, param(o, F.P_MA), load<i32>(b + RT_ZP), param(o, F.P_MB),
        shift, zpY, qmin, qmax);
      break;
    }
    case F.OP_CHANNEL_MUL: {
      const s = tensorAt(tensors, o, 1);
      channelMul(ap, h * w, c, arena + <usize>load<i32>(s + RT_OFFSET), zpA, load<i32>(s + RT_ZP), param(o, F.P_MA), shift, zpY, qmin, qmax, yp);
      break;
    }
    case F.OP_LUT: lut(ap, h * w * c, packed, yp); break;
    case F.OP_MAXPOOL:
      maxPool(ap, h, w, c, yp, oh, ow, param(o, F.P_KH), param(o, F.P_KW), param(o, F.P_SH), param(o, F.P_SW), param(o, F.P_PAD_TOP), param(o, F.P_PAD_LEFT));
      break;
    case F.OP_AVGPOOL:
      avgPool(ap, h, w, c, yp, oh, ow, param(o, F.P_KH), param(o, F.P_KW), param(o, F.P_SH), param(o, F.P_SW), param(o, F.P_PAD_TOP), param(o, F.P_PAD_LEFT),
        param(o, F.P_COUNT_INCLUDE_PAD) != 0, packed, shift, zpA, zpY, qmin, qmax);
      break;
    case F.OP_GLOBAL_AVGPOOL: globalAvgPool(ap, h * w, c, yp, param(o, F.P_MA), shift, zpA, zpY, qmin, qmax); break;
    case F.OP_CONCAT: {
      const n = <i32>load<u32>(o + F.O_INPUT_COUNT);
      let offset = 0;
      for (let i = 0; i < n; i++) {
        const t = tensorAt(tensors, o, i);
        const tc = load<i32>(t + RT_C);
        copyChannels(arena + <usize>load<i32>(t + RT_OFFSET), h * w, tc, yp, oc, offset);
        offset += tc;
      }
      break;
    }
    case F.OP_PAD: padZero(ap, h, w, c, yp, param(o, F.P_PAD_CHANNELS), param(o, F.P_PAD_ROWS), param(o, F.P_PAD_COLS), zpA); break;
    case F.OP_UPSAMPLE: upsampleNearest(ap, h, w, c, param(o, F.P_FACTOR), yp); break;
    default: break;
  }
}

