// Float intermediate representation the importers produce and the quantiser consumes.
//
// Conventions (fixed; importers convert into them):
// - Batch 1, activations NHWC. A 4-D activation is [H, W, C]; a vector is [1, 1, C].
// - Weights: conv OHWI [oc][kh][kw][ic]; depthwise HWC [kh][kw][c]; fc [n][k] (k in the NHWC
//   flatten order of its input). float32 data.
// - Batch-norm, scale layers and biases are folded into the producing conv/fc by the importer or a
//   later pass; activations are separate nodes until the fusion pass attaches them.
// - Every tensor name is unique; `graph.tensors` holds shapes for all of them (inferred by the importer).

export type Shape = [number, number, number]; // H, W, C

export type Activation =
  | { kind: 'none' }
  | { kind: 'relu' }
  | { kind: 'relu6' }
  | { kind: 'prelu'; slopes: Float32Array }; // one slope per channel

export interface Conv2dNode {
  op: 'conv2d';
  input: string; output: string;
  weights: Float32Array; // OHWI
  bias: Float32Array;    // [oc]
  kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  act: Activation;
}

export interface DepthwiseNode {
  op: 'depthwise';
  input: string; output: string;
  weights: Float32Array; // HWC
  bias: Float32Array;    // [c]
  kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  act: Activation;
}

export interface FullyConnectedNode {
  op: 'fc';
  input: string; output: string;
  weights: Float32Array; // [n][k]
  bias: Float32Array;    // [n]
  act: Activation;
}

/** Element-wise sum of two same-shape tensors. */
export interface AddNode { op: 'add'; inputs: [string, string]; output: string; act: Activation }

/** x[h][w][c] * s[c]: squeeze-excitation scaling; `scale` is a [1,1,C] tensor. */
export interface ChannelMulNode { op: 'channel_mul'; input: string; scale: string; output: string }

/** Element-wise unary function (becomes a 256-entry lookup table in int8). */
export interface UnaryNode { op: 'sigmoid' | 'relu' | 'relu6' | 'prelu'; input: string; output: string; slopes?: Float32Array }

export interface PoolNode {
  op: 'maxpool' | 'avgpool';
  input: string; output: string;
  kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  /** avgpool only: whether padded taps count in the divisor (ONNX count_include_pad). */
  countIncludePad?: boolean;
}

export interface GlobalAvgPoolNode { op: 'global_avgpool'; input: string; output: string }

/** Concatenation along channels. */
export interface ConcatNode { op: 'concat'; inputs: string[]; output: string }

/** Zero padding: channels appended at the end, rows/columns at bottom/right (ResNet shortcuts). */
export interface PadNode { op: 'pad'; input: string; output: string; channels: number; bottom: number; right: number }

/** Nearest-neighbour upsampling by an integer factor. */
export interface UpsampleNode { op: 'upsample_nearest'; input: string; output: string; factor: number }

/** Softmax over channels of a [1,1,C] tensor (heads; runs in float at the output). */
export interface SoftmaxNode { op: 'softmax'; input: string; output: string }

export type Node =
  | Conv2dNode | DepthwiseNode | FullyConnectedNode | AddNode | ChannelMulNode | UnaryNode
  | PoolNode | GlobalAvgPoolNode | ConcatNode | PadNode | UpsampleNode | SoftmaxNode;

/** The nodes with weights and a bias: conv2d, depthwise and fully connected. */
export type LinearNode = Conv2dNode | DepthwiseNode | FullyConnectedNode;
export const isLinear = (n: Node): n is LinearNode => n.op === 'conv2d' || n.op === 'depthwise' || n.op === 'fc';

export interface InputSpec {
  name: string;
  /** Shape the buffers are planned for (the largest input when spatial dims are dynamic). */
  shape: Shape;
  /** Set when H and W may vary at run time (YuNet: any multiple of 32 up to `shape`). */
  dynamic?: { multipleOf: number };
  /** Channel order the network expects. */
  colorOrder: 'rgb' | 'bgr';
  /** Network input value = (pixel - mean[c]) * scale[c], pixel in 0..255. */
  mean: [number, number, number];
  scale: [number, number, number];
}

export interface Graph {
  /** Stable id, e.g. "yunet-2023mar". */
  id: string;
  input: InputSpec;
  outputs: string[];
  /** Topologically ordered. */
  nodes: Node[];
  tensors: Record<string, Shape>;
  /** Provenance for the model card: source file, its sha256, licence. */
  source: { file: string; sha256: string; licence: string; url: string };
}
