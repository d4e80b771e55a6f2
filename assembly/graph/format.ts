// The wasmface model file (.wfm), version 1. This file is the single definition of the format: the
// wasm reader (assembly/graph/model.ts) and the TypeScript writer (tools/convert/wfm-writer.ts) both
// import it, so it holds only untyped integer constants that are valid AssemblyScript and TypeScript.
//
// All integers little-endian. Offsets are from the start of the file unless noted "data-relative".
//
// Layout: [header 128 B][tensor table][op table][outputs][data][meta JSON], sections 16-byte aligned.
// The SHA-256 in the header covers every byte after the header; the reader checks it before anything
// else in the content is trusted.
//
// Quantisation conventions (see assembly/core/requant.ts): tensors are int8 with a zero point and a
// float32 scale (real = (q - zp) * scale); conv/depthwise/fc carry int8 OHWI / HWC / [n][k] weights,
// int32 bias, per-channel int32 multipliers (and optional negative-side multipliers for PReLU) and one
// shift. A tensor flagged U7 holds only values in [0, 127] (guaranteed by its producer's clamp), which
// lets the relaxed build use its 7-bit dot product on it.

export const MAGIC = 0x314d4657; // bytes "WFM1"
export const VERSION = 1;
export const HEADER_SIZE = 128;
export const MAX_FILE_SIZE = 268435456; // 256 MiB
export const MAX_TENSORS = 4096;
export const MAX_OPS = 4096;
export const MAX_OUTPUTS = 64;

// ---- header fields (byte offsets) ----
export const H_MAGIC = 0;          // u32 MAGIC
export const H_VERSION = 4;        // u32 VERSION
export const H_FILE_SIZE = 8;      // u32 total bytes
export const H_FLAGS = 12;         // u32, 0
export const H_SHA256 = 16;        // 32 bytes: SHA-256 of bytes [HEADER_SIZE, fileSize)
export const H_TENSORS_OFF = 48;   // u32
export const H_TENSOR_COUNT = 52;  // u32
export const H_OPS_OFF = 56;       // u32
export const H_OP_COUNT = 60;      // u32
export const H_DATA_OFF = 64;      // u32
export const H_DATA_SIZE = 68;     // u32
export const H_META_OFF = 72;      // u32 UTF-8 JSON (id, source, licence, input/output spec; read by JS)
export const H_META_SIZE = 76;     // u32
export const H_INPUT_TENSOR = 80;  // u32 tensor id of the network input (h, w, 3)
export const H_INPUT_PERM = 84;    // u32 bytes 0..2: RGB source channel of network channel 0..2
export const H_INPUT_LUT = 88;     // u32 data-relative offset of 3 x 256 int8: quantised value per channel per pixel value
export const H_OUTPUT_COUNT = 92;  // u32
export const H_OUTPUTS_OFF = 96;   // u32 offset of outputCount u32 tensor ids
export const H_DYNAMIC = 100;      // u32 0: fixed input size; m > 0: H and W may be any multiples of m up to the planned size
// 104..128 reserved, zero

// ---- tensor record ----
export const TENSOR_SIZE = 32;
export const T_H = 0;              // i32
export const T_W = 4;              // i32
export const T_C = 8;              // i32
export const T_ZP = 12;            // i32, int8 range
export const T_SCALE = 16;         // f32 > 0
export const T_FLAGS = 20;         // u32
export const TF_U7 = 1;            // every value in [0, 127]
// 24..32 reserved, zero

// ---- op record ----
export const OP_SIZE = 96;
export const O_TYPE = 0;           // u32 op type below
export const O_INPUT_COUNT = 4;    // u32 1..4
export const O_INPUTS = 8;         // u32[4] tensor ids
export const O_OUTPUT = 24;        // u32 tensor id
export const O_PARAMS = 28;        // i32[17]
export const PARAM_COUNT = 17;

// op types
export const OP_CONV2D = 1;
export const OP_DEPTHWISE = 2;
export const OP_FC = 3;            // input [1, 1, k] -> output [1, 1, n]
export const OP_ADD = 4;           // inputs a, b (same shape)
export const OP_CHANNEL_MUL = 5;   // inputs x [h, w, c], s [1, 1, c]
export const OP_LUT = 6;           // element-wise table (sigmoid...)
export const OP_MAXPOOL = 7;
export const OP_AVGPOOL = 8;
export const OP_GLOBAL_AVGPOOL = 9; // -> [1, 1, c]
export const OP_CONCAT = 10;       // channels; inputs share zp and scale with the output
export const OP_PAD = 11;          // zero (= zp) channels appended, rows at bottom, columns at right
export const OP_UPSAMPLE = 12;     // nearest, integer factor
export const OP_TYPE_COUNT = 13;

// params (index into the op's i32[17])
// window ops (conv2d, depthwise, maxpool, avgpool):
export const P_KH = 0;
export const P_KW = 1;
export const P_SH = 2;
export const P_SW = 3;
export const P_PAD_TOP = 4;
export const P_PAD_LEFT = 5;
export const P_PAD_BOTTOM = 6;
export const P_PAD_RIGHT = 7;
// requantising ops (conv2d, depthwise, fc, add, channel_mul, avgpool, global_avgpool):
export const P_SHIFT = 8;
export const P_QMIN = 9;
export const P_QMAX = 10;
// conv2d, depthwise, fc: data-relative offsets of int8 weights, i32 bias, i32 mult, i32 multNeg (-1: none)
export const P_WEIGHTS = 11;
export const P_BIAS = 12;
export const P_MULT = 13;
export const P_MULT_NEG = 14;
// add: P_MA, P_MB multipliers; channel_mul and global_avgpool: P_MA is the multiplier
export const P_MA = 0;
export const P_MB = 1;
// lut: data-relative offset of 256 int8 entries (index = q + 128)
export const P_TABLE = 11;
// avgpool: data-relative offset of i32[kh*kw + 1] multipliers by tap count; count-include-pad flag
export const P_MULTS = 11;
export const P_COUNT_INCLUDE_PAD = 12;
// pad
export const P_PAD_CHANNELS = 0;
export const P_PAD_ROWS = 1;
export const P_PAD_COLS = 2;
// upsample
export const P_FACTOR = 0;

// ---- reader error details (E_FORMAT): modelLastError() returns code | (op or tensor index << 8) ----
export const FE_MAGIC = 1;          // not a wasmface model file
export const FE_VERSION = 2;        // format version this build cannot read
export const FE_SIZE = 3;           // file truncated or sizes inconsistent
export const FE_CHECKSUM = 4;       // SHA-256 mismatch: corrupted or tampered
export const FE_SECTION = 5;        // a section lies outside the file or overlaps the header
export const FE_TENSOR = 6;         // tensor record invalid (shape, zero point, scale, flags)
export const FE_OP_TYPE = 7;        // unknown op type or input count
export const FE_OP_REF = 8;         // op refers to a tensor out of range, not yet computed, or writes one twice
export const FE_OP_SHAPE = 9;       // op shapes inconsistent (window, channels, output size)
export const FE_OP_PARAM = 10;      // op parameter out of range (shift, clamp, stride, padding...)
export const FE_OP_DATA = 11;       // op data (weights, bias, tables) outside the data section
export const FE_OP_QUANT = 12;      // quantisation inconsistent (concat scales, 7-bit promise not kept, depthwise weight -128)
export const FE_INPUT = 13;         // input tensor, permutation or lookup table invalid
export const FE_OUTPUT = 14;        // output list invalid
export const FE_MEMORY = 15;        // plan exceeds the memory limit
