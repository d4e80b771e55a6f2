// In-memory form of a .wfm v1 model (assembly/graph/format.ts is the byte-level definition). The
// quantiser builds it, wfm-writer.ts serialises it, wfm-reader.ts parses it back and int8-exec.ts
// runs it. Op data (weights, bias, multipliers, tables) is held beside the params; the data-offset
// param slots are filled by the writer and hold the file's offsets after reading.
import * as F from '../../assembly/graph/format.js';

export interface WfmTensor {
  /** Planned shape (the largest input for dynamic models). */
  h: number; w: number; c: number;
  zp: number;
  /** A float32 value (real = (q - zp) * scale). */
  scale: number;
  /** F.TF_U7 or 0. */
  flags: number;
  /** Not stored in the file: a name for reports and meta (the float IR tensor). */
  name?: string;
}

export interface WfmOpData {
  weights?: Int8Array;   // conv OHWI, depthwise HWC, fc [n][k]
  bias?: Int32Array;
  mult?: Int32Array;
  multNeg?: Int32Array;  // absent: P_MULT_NEG = -1 (multNeg = mult)
  table?: Int8Array;     // lut: 256 entries, index q + 128
  mults?: Int32Array;    // avgpool: kh*kw + 1 multipliers indexed by tap count
}

export interface WfmOp extends WfmOpData {
  type: number;
  inputs: number[];
  output: number;
  /** F.PARAM_COUNT values. */
  params: Int32Array;
  /** Not stored in the file: the float IR node's output name, for reports. */
  name?: string;
}

export interface WfmMeta {
  id: string;
  [key: string]: unknown;
}

export interface WfmModel {
  tensors: WfmTensor[];
  ops: WfmOp[];
  input: number;
  /** Network channel j reads RGB channel perm[j]. */
  perm: [number, number, number];
  /** 3 x 256 int8: quantised value of network channel j for pixel value v at [j * 256 + v]. */
  inputLut: Int8Array;
  outputs: number[];
  /** 0: fixed input size; m > 0: H and W may be any multiple of m up to the planned size. */
  dynamic: number;
  meta: WfmMeta;
}

export const OP_NAMES: Record<number, string> = {
  [F.OP_CONV2D]: 'conv2d', [F.OP_DEPTHWISE]: 'depthwise', [F.OP_FC]: 'fc', [F.OP_ADD]: 'add',
  [F.OP_CHANNEL_MUL]: 'channel_mul', [F.OP_LUT]: 'lut', [F.OP_MAXPOOL]: 'maxpool', [F.OP_AVGPOOL]: 'avgpool',
  [F.OP_GLOBAL_AVGPOOL]: 'global_avgpool', [F.OP_CONCAT]: 'concat', [F.OP_PAD]: 'pad', [F.OP_UPSAMPLE]: 'upsample',
};

/** The data blobs an op type carries, in file order, with their element counts. */
export function opDataLayout(op: Pick<WfmOp, 'type' | 'inputs' | 'output' | 'params'>, tensors: WfmTensor[]): { slot: number; key: keyof WfmOpData; bytes: number; optional?: boolean }[] {
  const p = op.params;
  const inT = tensors[op.inputs[0]], outT = tensors[op.output];
  switch (op.type) {
    case F.OP_CONV2D: case F.OP_DEPTHWISE: case F.OP_FC: {
      const n = outT.c;
      const wCount = op.type === F.OP_CONV2D ? n * p[F.P_KH] * p[F.P_KW] * inT.c
        : op.type === F.OP_DEPTHWISE ? p[F.P_KH] * p[F.P_KW] * n : n * inT.h * inT.w * inT.c;
      return [
        { slot: F.P_WEIGHTS, key: 'weights', bytes: wCount },
        { slot: F.P_BIAS, key: 'bias', bytes: n * 4 },
        { slot: F.P_MULT, key: 'mult', bytes: n * 4 },
        { slot: F.P_MULT_NEG, key: 'multNeg', bytes: n * 4, optional: true },
      ];
    }
    case F.OP_LUT: return [{ slot: F.P_TABLE, key: 'table', bytes: 256 }];
    case F.OP_AVGPOOL: return [{ slot: F.P_MULTS, key: 'mults', bytes: (p[F.P_KH] * p[F.P_KW] + 1) * 4 }];
    default: return [];
  }
}

export const align16 = (n: number) => (n + 15) & ~15;

/** Output length of a window op along one axis (floor mode). */
export const windowOut = (size: number, k: number, stride: number, padA: number, padB: number) =>
  Math.floor((size + padA + padB - k) / stride) + 1;

/** Output shape of an op for given input shapes (any input size of a dynamic model). */
export function opOutputShape(op: Pick<WfmOp, 'type' | 'params'>, inputs: [number, number, number][], outC: number): [number, number, number] {
  const p = op.params;
  const [h, w, c] = inputs[0];
  switch (op.type) {
    case F.OP_CONV2D: case F.OP_DEPTHWISE: case F.OP_MAXPOOL: case F.OP_AVGPOOL:
      return [windowOut(h, p[F.P_KH], p[F.P_SH], p[F.P_PAD_TOP], p[F.P_PAD_BOTTOM]),
        windowOut(w, p[F.P_KW], p[F.P_SW], p[F.P_PAD_LEFT], p[F.P_PAD_RIGHT]), op.type === F.OP_CONV2D ? outC : c];
    case F.OP_FC: return [1, 1, outC];
    case F.OP_GLOBAL_AVGPOOL: return [1, 1, c];
    case F.OP_CONCAT: return [h, w, inputs.reduce((s, t) => s + t[2], 0)];
    case F.OP_PAD: return [h + p[F.P_PAD_ROWS], w + p[F.P_PAD_COLS], c + p[F.P_PAD_CHANNELS]];
    case F.OP_UPSAMPLE: return [h * p[F.P_FACTOR], w * p[F.P_FACTOR], c];
    default: return [h, w, c]; // add, channel_mul, lut
  }
}
