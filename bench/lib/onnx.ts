// ONNX models for the onnxruntime-web peers, written in JS (protobufjs, the converter's onnx.proto subset):
// - exportIrToOnnx: the face-api.js recognition net has no ONNX original (TF.js weights + code), so the
//   float IR the converter builds from those weights (batch-norm/scale layers folded, nothing else
//   changed) is written out as an NCHW ONNX graph. Checked against tfjs in the worker (cosine).
// - quantizeQdq: static int8 quantisation in QDQ format, done the way onnxruntime's Python
//   `quantize_static(quant_format=QDQ)` does it (which is not available here): MinMax calibration of
//   every float activation on real inputs, uint8 asymmetric activations, int8 symmetric weights
//   (per output channel for Conv, per tensor for MatMul/Gemm), int32 biases at s_in * s_w.
//   onnxruntime's graph optimiser then fuses DQ -> op -> Q groups into QLinearConv / QGemm / QLinearAdd
//   etc. at session creation, so the timing is onnxruntime's own int8 kernels.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { Graph } from '../../tools/convert/ir.js';

const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7;

let modelType: protobuf.Type | undefined;
function type(): protobuf.Type {
  if (!modelType) {
    const schema = readFileSync(new URL('../../tools/convert/onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(schema, { keepCase: false }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type OnnxModel = any;
export interface Attr { name: string; type: number; i?: number; f?: number; ints?: number[]; floats?: number[]; s?: Uint8Array }

export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  return type().toObject(type().decode(bytes), { longs: Number, defaults: false, arrays: true });
}
export function encodeOnnx(model: OnnxModel): Uint8Array {
  return type().encode(type().fromObject(model)).finish();
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
export function tensor(name: string, dims: number[], data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): OnnxModel {
  const dataType = data instanceof Float32Array ? FLOAT : data instanceof Int8Array ? INT8 : data instanceof Uint8Array ? UINT8 : data instanceof Int32Array ? INT32 : INT64;
  return { name, dims, dataType, rawData: bytesOf(data) };
}
const attrI = (name: string, i: number): Attr => ({ name, type: 2, i });
const attrF = (name: string, f: number): Attr => ({ name, type: 1, f });
const attrInts = (name: string, ints: number[]): Attr => ({ name, type: 7, ints });
const node = (opType: string, input: string[], output: string[], attribute: Attr[] = [], name = output[0]) => ({ opType, input, output, attribute, name });
const valueInfo = (name: string, dims: (number | string)[], elemType = FLOAT) => ({
  name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/**
 * IR (NHWC, OHWI weights) -> ONNX (NCHW, OIHW). Input: float [1,3,H,W] raw pixels in the graph's
 * colour order; the graph's mean/scale become Sub/Mul nodes, as in the original network.
 */
export function exportIrToOnnx(g: Graph): Uint8Array {
  const nodes: any[] = [], inits: any[] = [];
  const [H, W] = g.input.shape;
  const init = (name: string, dims: number[], data: Float32Array | BigInt64Array) => { inits.push(tensor(name, dims, data)); return name; };
  let k = 0;
  const uniq = (s: string) => `${s}__${k++}`;
  // preprocessing
  nodes.push(node('Sub', ['input', init('input_mean', [1, 3, 1, 1], Float32Array.from(g.input.mean))], ['input_centred']));
  nodes.push(node('Mul', ['input_centred', init('input_scale', [1, 3, 1, 1], Float32Array.from(g.input.scale))], [g.input.name === 'input' ? 'input_norm' : g.input.name]));
  const rename = (t: string) => (t === 'input' && g.input.name === 'input' ? 'input_norm' : t);
  const withAct = (out: string, act: { kind: string }) => {
    if (act.kind === 'none') return out;
    if (act.kind !== 'relu') throw new Error(`exportIrToOnnx: activation ${act.kind} not supported`);
    const pre = uniq(`${out}_pre`);
    nodes.push(node('Relu', [pre], [out]));
    return pre;
  };
  for (const n of g.nodes) {
    switch (n.op) {
      case 'conv2d': {
        const ic = g.tensors[n.input][2], oc = n.bias.length;
        const w = new Float32Array(n.weights.length);
        for (let o = 0; o < oc; o++) for (let y = 0; y < n.kh; y++) for (let x = 0; x < n.kw; x++) for (let i = 0; i < ic; i++) {
          w[((o * ic + i) * n.kh + y) * n.kw + x] = n.weights[((o * n.kh + y) * n.kw + x) * ic + i];
        }
        const out = withAct(n.output, n.act);
        nodes.push(node('Conv', [rename(n.input), init(`${n.output}/W`, [oc, ic, n.kh, n.kw], w), init(`${n.output}/B`, [oc], n.bias)], [out], [
          attrInts('kernel_shape', [n.kh, n.kw]), attrInts('strides', [n.strideH, n.strideW]), attrInts('pads', [n.padTop, n.padLeft, n.padBottom, n.padRight]),
          attrInts('dilations', [1, 1]), attrI('group', 1)]));
        break;
      }
      case 'relu': nodes.push(node('Relu', [rename(n.input)], [n.output])); break;
      case 'add': nodes.push(node('Add', n.inputs.map(rename), [withAct(n.output, n.act)])); break;
      case 'maxpool': case 'avgpool':
        nodes.push(node(n.op === 'maxpool' ? 'MaxPool' : 'AveragePool', [rename(n.input)], [n.output], [
          attrInts('kernel_shape', [n.kh, n.kw]), attrInts('strides', [n.strideH, n.strideW]), attrInts('pads', [n.padTop, n.padLeft, n.padBottom, n.padRight]),
          ...(n.op === 'avgpool' ? [attrI('count_include_pad', n.countIncludePad ? 1 : 0)] : [])]));
        break;
      case 'pad':
        nodes.push(node('Pad', [rename(n.input), init(`${n.output}/pads`, [8], BigInt64Array.from([0, 0, 0, 0, 0, n.channels, n.bottom, n.right].map(BigInt)))], [n.output], [{ name: 'mode', type: 3, s: new TextEncoder().encode('constant') }]));
        break;
      case 'global_avgpool': nodes.push(node('GlobalAveragePool', [rename(n.input)], [n.output])); break;
      case 'fc': {
        const [h, w] = g.tensors[n.input];
        if (h !== 1 || w !== 1) throw new Error('exportIrToOnnx: fc only after a global pool (NHWC and NCHW flatten orders differ otherwise)');
        const flat = uniq(`${n.output}_flat`);
        nodes.push(node('Flatten', [rename(n.input)], [flat], [attrI('axis', 1)]));
        const kk = n.weights.length / n.bias.length;
        nodes.push(node('Gemm', [flat, init(`${n.output}/W`, [n.bias.length, kk], n.weights), init(`${n.output}/B`, [n.bias.length], n.bias)], [withAct(n.output, n.act)], [attrI('transB', 1), attrF('alpha', 1), attrF('beta', 1)]));
        break;
      }
      default: throw new Error(`exportIrToOnnx: op ${n.op} not supported`);
    }
  }
  const model = {
    irVersion: 7, producerName: 'wasmface-bench', producerVersion: '1', opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: g.id, node: nodes, initializer: inits,
      input: [valueInfo('input', [1, 3, H, W])],
      output: g.outputs.map((o) => valueInfo(o, [1, g.tensors[o][2]])),
    },
  };
  return encodeOnnx(model);
}

// ---------------------------------------------------------------------------------------------
// QDQ quantisation

/** Float activations of a model: the graph input and every node output except constants. */
function floatActivations(m: OnnxModel): string[] {
  const nonFloat = new Set<string>();
  for (const n of m.graph.node) {
    if (n.opType === 'Constant' || n.opType === 'Shape') n.output.forEach((o: string) => nonFloat.add(o));
  }
  const inits = new Set(m.graph.initializer.map((t: any) => t.name));
  const out = [m.graph.input[0].name];
  for (const n of m.graph.node) for (const o of n.output) if (o && !nonFloat.has(o) && !inits.has(o)) out.push(o);
  return out;
}

/** The model with every float activation added as a graph output (for calibration). */
export function withAllOutputs(bytes: Uint8Array): { bytes: Uint8Array; names: string[] } {
  const m = decodeOnnx(bytes);
  const names = floatActivations(m).filter((t) => t !== m.graph.input[0].name);
  const have = new Set(m.graph.output.map((o: any) => o.name));
  for (const t of names) if (!have.has(t)) m.graph.output.push({ name: t, type: { tensorType: { elemType: FLOAT } } });
  return { bytes: encodeOnnx(m), names };
}

export type Ranges = Map<string, { min: number; max: number }>;

function floatData(t: any): Float32Array {
  if (t.dataType !== FLOAT) throw new Error(`initializer ${t.name} is not float`);
  if (t.rawData?.length) { const b = Uint8Array.from(t.rawData); return new Float32Array(b.buffer, 0, b.length / 4); }
  return Float32Array.from(t.floatData ?? []);
}

/** uint8 asymmetric parameters covering [min, max] (and 0), as onnxruntime's MinMax calibrator. */
function u8Params(r: { min: number; max: number }): { scale: number; zp: number } {
  const lo = Math.min(0, r.min), hi = Math.max(0, r.max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zp: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/**
 * Inserts QuantizeLinear/DequantizeLinear pairs as onnxruntime's QDQ quantiser does. `ranges` holds
 * the calibrated min/max of the float activations (the graph input included).
 */
export function quantizeQdq(bytes: Uint8Array, ranges: Ranges): Uint8Array {
  const m = decodeOnnx(bytes);
  const g = m.graph;
  // per-axis QuantizeLinear/DequantizeLinear need opset 13; every op in these models means the same at 13
  m.opsetImport = [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }];
  if (m.irVersion < 7) m.irVersion = 7;
  const inits = new Map<string, any>(g.initializer.map((t: any) => [t.name, t]));
  const consumers = new Map<string, any[]>();
  for (const n of g.node) n.input.forEach((t: string) => { if (!consumers.has(t)) consumers.set(t, []); consumers.get(t)!.push(n); });
  const outputs = new Set(g.output.map((o: any) => o.name));
  const added: any[] = [], newInits: any[] = [];
  const params = new Map<string, { scale: number; zp: number }>();

  // activations: T -> Q -> DQ -> consumers (a pre-ReLU conv output is left float: Relu -> Q with
  // zero point 0 lets onnxruntime drop the Relu and fuse DQ -> Conv -> Q into QLinearConv)
  const acts = floatActivations(m);
  for (const t of acts) {
    const r = ranges.get(t);
    const users = consumers.get(t) ?? [];
    if (!r || !users.length) continue;
    if (users.every((u) => u.opType === 'Relu')) continue;
    const p = u8Params(r);
    params.set(t, p);
    newInits.push(tensor(`${t}/q_scale`, [], Float32Array.of(p.scale)), tensor(`${t}/q_zp`, [], Uint8Array.of(p.zp)));
    added.push(node('QuantizeLinear', [t, `${t}/q_scale`, `${t}/q_zp`], [`${t}/q`]), node('DequantizeLinear', [`${t}/q`, `${t}/q_scale`, `${t}/q_zp`], [`${t}/dq`]));
    for (const u of users) u.input = u.input.map((x: string, i: number) => (x === t && !(u.opType === 'Reshape' && i === 1) ? `${t}/dq` : x));
  }
  void outputs;

  // weights and biases of Conv / Gemm / MatMul
  for (const n of g.node) {
    const kind = n.opType;
    if (kind !== 'Conv' && kind !== 'Gemm' && kind !== 'MatMul') continue;
    const wName = n.input[1], w = inits.get(wName);
    if (!w) continue;
    const inP = params.get(n.input[0].replace(/\/dq$/, ''));
    if (!inP) continue;
    const data = floatData(w), dims = w.dims.map(Number);
    const perChannel = kind === 'Conv';
    const channels = perChannel ? dims[0] : 1, per = data.length / channels;
    const scales = new Float32Array(channels), q = new Int8Array(data.length);
    for (let c = 0; c < channels; c++) {
      let mx = 0;
      for (let i = 0; i < per; i++) mx = Math.max(mx, Math.abs(data[c * per + i]));
      scales[c] = mx > 0 ? mx / 127 : 1;
      for (let i = 0; i < per; i++) q[c * per + i] = Math.max(-127, Math.min(127, Math.round(data[c * per + i] / scales[c])));
    }
    const sDims = perChannel ? [channels] : [];
    newInits.push(tensor(`${wName}/q`, dims, q), tensor(`${wName}/q_scale`, sDims, scales), tensor(`${wName}/q_zp`, sDims, new Int8Array(channels)));
    added.push(node('DequantizeLinear', [`${wName}/q`, `${wName}/q_scale`, `${wName}/q_zp`], [`${wName}/dq`], perChannel ? [attrI('axis', 0)] : []));
    n.input[1] = `${wName}/dq`;
    const bName = n.input[2], b = bName ? inits.get(bName) : undefined;
    if (b) {
      const bd = floatData(b), bs = new Float32Array(bd.length), bq = new Int32Array(bd.length);
      for (let i = 0; i < bd.length; i++) { bs[i] = inP.scale * scales[perChannel ? i : 0]; bq[i] = Math.round(bd[i] / bs[i]); }
      const bsDims = [bd.length];
      newInits.push(tensor(`${bName}/q`, b.dims.map(Number), bq), tensor(`${bName}/q_scale`, bsDims, bs), tensor(`${bName}/q_zp`, bsDims, new Int32Array(bd.length)));
      added.push(node('DequantizeLinear', [`${bName}/q`, `${bName}/q_scale`, `${bName}/q_zp`], [`${bName}/dq`], [attrI('axis', 0)]));
      n.input[2] = `${bName}/dq`;
    }
  }
  // topological order: weight DQs first, then each activation's Q/DQ right after its producer
  const producers = new Map<string, number>();
  g.node.forEach((n: any, i: number) => n.output.forEach((o: string) => producers.set(o, i)));
  const after = new Map<number, any[]>();
  const first: any[] = [];
  for (const a of added) {
    const src = a.input[0].replace(/\/q$/, '');
    const p = a.opType === 'QuantizeLinear' ? producers.get(a.input[0]) : producers.get(src);
    if (p === undefined) first.push(a);
    else { if (!after.has(p)) after.set(p, []); after.get(p)!.push(a); }
  }
  const ordered: any[] = [...first];
  g.node.forEach((n: any, i: number) => { ordered.push(n, ...(after.get(i) ?? [])); });
  g.node = ordered;
  const used = new Set(ordered.flatMap((n: any) => n.input));
  g.initializer = [...g.initializer.filter((t: any) => used.has(t.name)), ...newInits];
  return encodeOnnx(m);
}
