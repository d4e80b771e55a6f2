// ONNX -> float IR. Covers exactly the operators of the models we ship (YuNet 2023mar,
// MiniFASNet V2 / V1SE exports); anything else throws naming the op type and node, so a new model
// fails loudly instead of converting into something subtly different.
//
// Layout: ONNX activations are NCHW; the IR is NHWC. Each ONNX value remembers how its row-major
// order relates to the IR tensor holding it:
//   'nchw'     ONNX [1,C,H,W] of IR [H,W,C] (what convolutions produce);
//   'rowmajor' ONNX dims whose row-major flattening is the IR tensor's NHWC order (after
//              Transpose(0,2,3,1), or a Reshape that cannot change the order).
// Transpose/Reshape/Flatten therefore become aliases, not nodes. Graph outputs keep their ONNX
// names and are the IR (NHWC) tensors: for YuNet's Transpose(0,2,3,1)+Reshape heads and
// MiniFASNet's [1,3] logits that is exactly ONNX's element order.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { isLinear, type Activation, type Graph, type InputSpec, type Node, type Shape } from './ir.js';
import { nodeOutputShape } from './shapes.js';

// ---------------------------------------------------------------------------------------------
// Protobuf decoding (schema subset in onnx.proto)

interface OnnxTensor {
  name?: string; dims: number[]; dataType?: number;
  floatData: number[]; int32Data: number[]; int64Data: number[]; doubleData: number[]; rawData?: Uint8Array;
}
interface OnnxAttribute { name: string; f?: number; i?: number; s?: Uint8Array; t?: OnnxTensor; floats: number[]; ints: number[]; type?: number }
interface OnnxNode { input: string[]; output: string[]; name?: string; opType: string; attribute: OnnxAttribute[]; domain?: string }
interface OnnxValueInfo { name: string; type?: { tensorType?: { elemType?: number; shape?: { dim: { dimValue?: number; dimParam?: string }[] } } } }
interface OnnxGraph { node: OnnxNode[]; name?: string; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] }
interface OnnxModel { irVersion?: number; producerName?: string; graph?: OnnxGraph; opsetImport: { domain?: string; version?: number }[] }

let modelType: protobuf.Type | undefined;

function decodeModel(bytes: Uint8Array): OnnxModel {
  if (!modelType) {
    const schema = readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(schema, { keepCase: false }).root.lookupType('onnx.ModelProto');
  }
  const message = modelType.decode(bytes);
  // longs as JS numbers (dims, ints and int64 data fit easily); bytes stay Uint8Array
  return modelType.toObject(message, { longs: Number, arrays: true }) as OnnxModel;
}

const ELEM_FLOAT = 1, ELEM_INT32 = 6, ELEM_INT64 = 7, ELEM_DOUBLE = 11;

/** Tensor data as float64 numbers (int64 values are exact below 2^53, plenty for shapes). */
function tensorValues(t: OnnxTensor): Float64Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  const out = new Float64Array(count);
  const type = t.dataType ?? 0;
  if (raw) {
    const size = type === ELEM_FLOAT || type === ELEM_INT32 ? 4 : type === ELEM_INT64 || type === ELEM_DOUBLE ? 8 : 0;
    if (!size) throw new Error(`tensor ${t.name}: unsupported data type ${type}`);
    if (raw.byteLength !== count * size) throw new Error(`tensor ${t.name}: ${raw.byteLength} bytes for ${count} values of type ${type}`);
    for (let i = 0; i < count; i++) {
      out[i] = type === ELEM_FLOAT ? raw.getFloat32(i * 4, true) : type === ELEM_INT32 ? raw.getInt32(i * 4, true)
        : type === ELEM_INT64 ? Number(raw.getBigInt64(i * 8, true)) : raw.getFloat64(i * 8, true);
    }
    return out;
  }
  const list = type === ELEM_FLOAT ? t.floatData : type === ELEM_INT32 ? t.int32Data : type === ELEM_INT64 ? t.int64Data : type === ELEM_DOUBLE ? t.doubleData : undefined;
  if (!list) throw new Error(`tensor ${t.name}: unsupported data type ${type}`);
  if (list.length !== count) throw new Error(`tensor ${t.name}: ${list.length} values for dims [${t.dims}]`);
  out.set(list);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Import

export interface OnnxImportMeta {
  /** Stable graph id, e.g. "yunet-2023mar". */
  id: string;
  colorOrder: InputSpec['colorOrder'];
  mean: InputSpec['mean'];
  scale: InputSpec['scale'];
  /** Buffers are planned for this [H,W,C]; required when the ONNX input has symbolic H/W. */
  planShape?: Shape;
  dynamic?: InputSpec['dynamic'];
  source: { file: string; licence: string; url: string };
}

type Value =
  | { kind: 'const'; dims: number[]; data: Float64Array }
  | { kind: 'act'; ir: string; layout: 'nchw' }
  | { kind: 'act'; ir: string; layout: 'rowmajor'; dims: number[] };

type ActValue = Extract<Value, { kind: 'act' }>;

const NONE: Activation = { kind: 'none' };

export function importOnnx(bytes: Uint8Array, meta: OnnxImportMeta): Graph {
  const model = decodeModel(bytes);
  const g = model.graph;
  if (!g) throw new Error(`${meta.id}: ONNX file has no graph`);
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;

  const values = new Map<string, Value>();
  for (const t of g.initializer) values.set(t.name!, { kind: 'const', dims: t.dims, data: tensorValues(t) });

  const graphInputs = g.input.filter((i) => !values.has(i.name));
  if (graphInputs.length !== 1) throw new Error(`${meta.id}: expected one graph input, found ${graphInputs.map((i) => i.name).join(', ')}`);
  const inputInfo = graphInputs[0];
  const inputShape = resolveInputShape(inputInfo, meta);
  values.set(inputInfo.name, { kind: 'act', ir: inputInfo.name, layout: 'nchw' });

  const shapes: Record<string, Shape> = { [inputInfo.name]: inputShape };
  const nodes: Node[] = [];
  const consumers = new Map<string, number>();
  for (const n of g.node) for (const i of n.input) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const producerOf = new Map<string, Node>();

  const emit = (node: Node) => {
    shapes[node.output] = nodeOutputShape(node, (t) => shapes[t]);
    producerOf.set(node.output, node);
    nodes.push(node);
  };

  for (const n of g.node) {
    const where = `${n.opType} node "${n.name || n.output[0]}"`;
    const fail = (msg: string): never => { throw new Error(`${meta.id}: ${where}: ${msg}`); };
    if (n.domain && n.domain !== 'ai.onnx') fail(`unsupported domain ${n.domain}`);
    const attrs = new Map(n.attribute.map((a) => [a.name, a]));
    const known = (...names: string[]) => {
      for (const a of attrs.keys()) if (!names.includes(a)) fail(`unsupported attribute ${a}`);
    };
    const attrInts = (name: string, fallback: number[]) => attrs.get(name)?.ints ?? fallback;
    const attrInt = (name: string, fallback: number) => attrs.get(name)?.i ?? fallback;
    const attrString = (name: string, fallback: string) => {
      const s = attrs.get(name)?.s;
      return s ? new TextDecoder().decode(s) : fallback;
    };
    const value = (i: number): Value => {
      const name = n.input[i];
      const v = name ? values.get(name) : undefined;
      if (!v) fail(`input ${i} (${name || 'absent'}) is not available`);
      return v!;
    };
    const act = (i: number): ActValue => {
      const v = value(i);
      if (v.kind !== 'act') fail(`input ${i} is a constant; only activations are supported there`);
      return v as ActValue;
    };
    const nchw = (i: number) => {
      const v = act(i);
      if (v.layout !== 'nchw') fail(`input ${i} must be a 4-D NCHW activation`);
      return v.ir;
    };
    const constant = (i: number) => {
      const v = value(i);
      if (v.kind !== 'const') fail(`input ${i} must be a constant initializer`);
      return v as Extract<Value, { kind: 'const' }>;
    };
    const single = () => { if (n.output.length !== 1) fail(`${n.output.length} outputs; only one is supported`); return n.output[0]; };
    const setAct = (ir: string) => values.set(single(), { kind: 'act', ir, layout: 'nchw' });
    const window = (x: string) => {
      const kernel = attrInts('kernel_shape', []);
      const strides = attrInts('strides', [1, 1]);
      const pads = attrInts('pads', [0, 0, 0, 0]);
      const autoPad = attrString('auto_pad', 'NOTSET');
      if (autoPad !== 'NOTSET') fail(`auto_pad=${autoPad} is not supported`);
      if (attrInts('dilations', [1, 1]).some((d) => d !== 1)) fail('dilation is not supported');
      if (kernel.length !== 2 || strides.length !== 2 || pads.length !== 4) fail('only 2-D windows are supported');
      // ONNX pads are [y_begin, x_begin, y_end, x_end]
      return { x, kh: kernel[0], kw: kernel[1], strideH: strides[0], strideW: strides[1], padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3] };
    };
    /** The IR node producing `ir` if it is a conv/fc nobody else reads, so BN can fold into it. */
    const foldTarget = (onnxName: string, ir: string) => {
      const p = producerOf.get(ir);
      const alone = (consumers.get(onnxName) ?? 0) === 1 && !graphOutputs.has(onnxName);
      return p && alone && isLinear(p) ? p : undefined;
    };

    switch (n.opType) {
      case 'Conv': {
        known('kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad');
        const x = nchw(0);
        const wt = constant(1);
        const bias = n.input[2] ? constant(2).data : undefined;
        const [, , cin] = shapes[x];
        const [oc, icPerGroup, kh, kw] = wt.dims;
        const win = window(x);
        if (wt.dims.length !== 4 || kh !== win.kh || kw !== win.kw) fail(`weights [${wt.dims}] do not match kernel_shape [${win.kh},${win.kw}]`);
        const group = attrInt('group', 1);
        const biasArray = Float32Array.from(bias ?? new Float64Array(oc));
        if (biasArray.length !== oc) fail(`bias has ${biasArray.length} values for ${oc} filters`);
        const common = { input: x, output: single(), bias: biasArray, kh, kw, strideH: win.strideH, strideW: win.strideW,
          padTop: win.padTop, padLeft: win.padLeft, padBottom: win.padBottom, padRight: win.padRight, act: NONE };
        if (group === 1) {
          if (icPerGroup !== cin) fail(`weights expect ${icPerGroup} input channels, input has ${cin}`);
          // OIHW -> OHWI
          const w = new Float32Array(oc * kh * kw * cin);
          for (let o = 0; o < oc; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) {
            w[((o * kh + y) * kw + xx) * cin + i] = wt.data[((o * cin + i) * kh + y) * kw + xx];
          }
          emit({ op: 'conv2d', weights: w, ...common });
        } else if (group === cin && oc === cin && icPerGroup === 1) {
          // [C,1,KH,KW] -> HWC
          const w = new Float32Array(kh * kw * cin);
          for (let ch = 0; ch < cin; ch++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) {
            w[(y * kw + xx) * cin + ch] = wt.data[(ch * kh + y) * kw + xx];
          }
          emit({ op: 'depthwise', weights: w, ...common });
        } else {
          fail(`group=${group} with ${cin} input / ${oc} output channels is neither a plain nor a depthwise convolution`);
        }
        setAct(n.output[0]);
        break;
      }
      case 'BatchNormalization': {
        known('epsilon', 'momentum', 'spatial', 'training_mode');
        if (attrInt('spatial', 1) !== 1) fail('spatial=0 is not supported');
        if (attrInt('training_mode', 0) !== 0) fail('training_mode=1 is not supported');
        if (n.output.filter(Boolean).length !== 1) fail('training outputs (mean/var) are not supported');
        const x = act(0);
        const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constant(i).data);
        const eps = attrs.get('epsilon')?.f ?? 1e-5;
        const target = foldTarget(n.input[0], x.ir);
        if (!target) fail('can only fold into a Conv/MatMul whose output nothing else reads');
        const channels = target!.bias.length;
        if (gamma.length !== channels) fail(`${gamma.length} channels, producer has ${channels}`);
        const perOut = target!.op === 'depthwise' ? 1 : target!.weights.length / channels;
        for (let o = 0; o < channels; o++) {
          // computed in float64 then stored once as float32
          const k = gamma[o] / Math.sqrt(variance[o] + eps);
          target!.bias[o] = (target!.bias[o] - mean[o]) * k + beta[o];
          if (target!.op === 'depthwise') {
            for (let t = o; t < target!.weights.length; t += channels) target!.weights[t] *= k;
          } else {
            for (let t = 0; t < perOut; t++) target!.weights[o * perOut + t] *= k;
          }
        }
        values.set(single(), x);
        break;
      }
      case 'Relu': case 'Sigmoid': {
        known();
        const x = act(0);
        const out = single();
        emit({ op: n.opType === 'Relu' ? 'relu' : 'sigmoid', input: x.ir, output: out });
        values.set(out, { ...x, ir: out });
        break;
      }
      case 'Clip': {
        // ReLU6 (MobileNetV2-style exports) and ReLU: Clip to [0, 6] or [0, +inf). Bounds are
        // inputs 1/2 (opset 11+, constants) or attributes min/max (opset 6..10).
        known('min', 'max');
        const x = act(0);
        const bound = (i: number, attr: string, fallback: number) => {
          if (n.input[i]) { const c = constant(i).data; if (c.length !== 1) fail(`${attr} must be a scalar`); return c[0]; }
          return attrs.get(attr)?.f ?? fallback;
        };
        const lo = bound(1, 'min', -Infinity), hi = bound(2, 'max', Infinity);
        if (lo !== 0 || (hi !== 6 && hi !== Infinity)) fail(`only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are supported, not [${lo}, ${hi}]`);
        const out = single();
        emit({ op: hi === 6 ? 'relu6' : 'relu', input: x.ir, output: out });
        values.set(out, { ...x, ir: out });
        break;
      }
      case 'PRelu': {
        known();
        const x = act(0);
        const slope = constant(1);
        const c = shapes[x.ir][2];
        // per-channel slopes only: [C,1,1] / [1,C,1,1] against NCHW, [C] against [1,C], or one scalar
        const perChannel = x.layout === 'nchw'
          ? slope.dims.length >= 3 && slope.dims.slice(-2).every((d) => d === 1) && slope.data.length === c
          : x.dims.length === 2 && slope.data.length === c && slope.dims[slope.dims.length - 1] === c;
        if (!perChannel && slope.data.length !== 1) fail(`slope shape [${slope.dims}] is not per-channel for ${c} channels`);
        const slopes = slope.data.length === 1 ? new Float32Array(c).fill(slope.data[0]) : Float32Array.from(slope.data);
        const out = single();
        emit({ op: 'prelu', input: x.ir, output: out, slopes });
        values.set(out, { ...x, ir: out });
        break;
      }
      case 'Add': {
        known();
        const a = act(0), b = act(1);
        if (a.layout !== b.layout || shapes[a.ir].join() !== shapes[b.ir].join()) fail('only same-shape additions are supported (no broadcasting)');
        const out = single();
        emit({ op: 'add', inputs: [a.ir, b.ir], output: out, act: NONE });
        values.set(out, { ...a, ir: out });
        break;
      }
      case 'Mul': {
        known();
        // squeeze-excitation: [1,C,H,W] * [1,C,1,1] in either operand order
        const a = nchw(0), b = nchw(1);
        const isVector = (t: string) => shapes[t][0] === 1 && shapes[t][1] === 1;
        const [x, s] = isVector(b) && shapes[a][2] === shapes[b][2] ? [a, b] : isVector(a) && shapes[a][2] === shapes[b][2] ? [b, a] : [undefined, undefined];
        if (!x || !s) fail('only per-channel scaling ([1,C,H,W] * [1,C,1,1]) is supported');
        emit({ op: 'channel_mul', input: x!, scale: s!, output: single() });
        setAct(n.output[0]);
        break;
      }
      case 'MaxPool': {
        known('kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'auto_pad', 'storage_order');
        if (attrInt('ceil_mode', 0) !== 0) fail('ceil_mode=1 is not supported');
        if (attrInt('storage_order', 0) !== 0) fail('storage_order=1 is not supported');
        if (n.output.length !== 1) fail('the indices output is not supported');
        const { x, ...win } = window(nchw(0));
        emit({ op: 'maxpool', input: x, output: n.output[0], ...win });
        setAct(n.output[0]);
        break;
      }
      case 'GlobalAveragePool': {
        known();
        emit({ op: 'global_avgpool', input: nchw(0), output: single() });
        setAct(n.output[0]);
        break;
      }
      case 'Resize': {
        known('mode', 'coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value');
        const x = nchw(0);
        const mode = attrString('mode', 'nearest');
        if (mode !== 'nearest') fail(`mode=${mode} is not supported`);
        const coord = attrString('coordinate_transformation_mode', 'half_pixel');
        const rounding = attrString('nearest_mode', 'round_prefer_floor');
        // opset 11+ inputs: X, roi (ignored unless tf_crop_and_resize), scales[, sizes]
        if (opset < 11) fail(`opset ${opset} Resize is not supported`);
        if (n.input[3]) fail('the sizes input is not supported (use scales)');
        const scales = constant(2).data;
        const factor = scales[2];
        if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1 || scales[3] !== factor || !Number.isInteger(factor) || factor < 1) {
          fail(`scales [${Array.from(scales)}] are not an integer spatial factor`);
        }
        // only a mode that maps output i to input floor(i/factor) is a plain nearest upsample
        const [h, w] = shapes[x];
        if (!isPlainNearest(coord, rounding, factor, Math.max(h, w, 64))) fail(`coordinate_transformation_mode=${coord} with nearest_mode=${rounding} does not replicate pixels`);
        emit({ op: 'upsample_nearest', input: x, output: single(), factor });
        setAct(n.output[0]);
        break;
      }
      case 'Transpose': {
        known('perm');
        const x = act(0);
        const perm = attrInts('perm', []);
        const out = single();
        if (x.layout === 'nchw' && perm.join() === '0,2,3,1') {
          const [h, w, c] = shapes[x.ir];
          values.set(out, { kind: 'act', ir: x.ir, layout: 'rowmajor', dims: [1, h, w, c] });
        } else if (perm.every((p, i) => p === i)) {
          values.set(out, x);
        } else {
          fail(`perm [${perm}] is not supported`);
        }
        break;
      }
      case 'Reshape': case 'Flatten': {
        const x = act(0);
        const count = shapes[x.ir].reduce((a, b) => a * b, 1);
        const dims = x.layout === 'nchw' ? [1, shapes[x.ir][2], shapes[x.ir][0], shapes[x.ir][1]] : x.dims;
        let target: number[];
        if (n.opType === 'Flatten') {
          known('axis');
          const axis = attrInt('axis', 1);
          if (axis < 0 || axis > dims.length) fail(`axis=${axis} is not supported`);
          target = [dims.slice(0, axis).reduce((a, b) => a * b, 1), dims.slice(axis).reduce((a, b) => a * b, 1)];
        } else {
          known('allowzero');
          if (attrInt('allowzero', 0) !== 0) fail('allowzero=1 is not supported');
          target = resolveReshape(Array.from(constant(1).data), dims, count, fail);
        }
        // NCHW flattening equals NHWC order only when H*W == 1 or C == 1
        const [h, w, c] = shapes[x.ir];
        if (x.layout === 'nchw' && !(h * w === 1 || c === 1) && target.join() !== dims.join()) {
          fail(`reshaping NCHW ${c}x${h}x${w} would need a channel-major order the NHWC IR does not have`);
        }
        values.set(single(), x.layout === 'nchw' && target.join() === dims.join() ? x : { kind: 'act', ir: x.ir, layout: 'rowmajor', dims: target });
        break;
      }
      case 'MatMul': {
        known();
        const x = act(0);
        const b = constant(1);
        const rows = x.layout === 'rowmajor' ? x.dims.slice(0, -1).reduce((p, d) => p * d, 1) : 0;
        if (x.layout !== 'rowmajor' || rows !== 1 || b.dims.length !== 2) fail('only [1,K] x [K,N] (a flattened vector times a constant) is supported');
        const [k, nOut] = b.dims;
        const xk = (x as Extract<ActValue, { layout: 'rowmajor' }>).dims.at(-1)!;
        if (xk !== k) fail(`input has ${xk} features, weights expect ${k}`);
        const w = new Float32Array(nOut * k); // [K][N] -> [N][K]
        for (let i = 0; i < k; i++) for (let o = 0; o < nOut; o++) w[o * k + i] = b.data[i * nOut + o];
        const out = single();
        emit({ op: 'fc', input: x.ir, output: out, weights: w, bias: new Float32Array(nOut), act: NONE });
        values.set(out, { kind: 'act', ir: out, layout: 'rowmajor', dims: [1, nOut] });
        break;
      }
      case 'Constant': {
        known('value');
        const t = attrs.get('value')?.t;
        if (!t) fail('only the tensor `value` form is supported');
        values.set(single(), { kind: 'const', dims: t!.dims, data: tensorValues(t!) });
        break;
      }
      default:
        fail('unsupported operator');
    }
  }

  // Graph outputs keep their ONNX names: rename the IR tensor each one aliases.
  const rename = new Map<string, string>();
  const claimed = new Set<string>();
  for (const o of g.output) {
    const v = values.get(o.name);
    if (!v || v.kind !== 'act') throw new Error(`${meta.id}: graph output ${o.name} is not a computed activation`);
    if (v.ir === inputInfo.name) throw new Error(`${meta.id}: graph output ${o.name} is the input itself`);
    if (claimed.has(v.ir)) throw new Error(`${meta.id}: graph output ${o.name} shares its tensor with another output`);
    claimed.add(v.ir);
    if (v.ir !== o.name) rename.set(v.ir, o.name);
  }
  const r = (t: string) => rename.get(t) ?? t;
  for (const node of nodes) {
    node.output = r(node.output);
    if (node.op === 'add') node.inputs = [r(node.inputs[0]), r(node.inputs[1])];
    else if (node.op === 'concat') node.inputs = node.inputs.map(r);
    else if (node.op === 'channel_mul') { node.input = r(node.input); node.scale = r(node.scale); }
    else node.input = r(node.input);
  }
  const tensors: Record<string, Shape> = {};
  for (const [name, shape] of Object.entries(shapes)) tensors[r(name)] = shape;

  return {
    id: meta.id,
    input: { name: inputInfo.name, shape: inputShape, dynamic: meta.dynamic, colorOrder: meta.colorOrder, mean: meta.mean, scale: meta.scale },
    outputs: g.output.map((o) => o.name),
    nodes,
    tensors,
    source: { ...meta.source, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
}

function resolveInputShape(info: OnnxValueInfo, meta: OnnxImportMeta): Shape {
  const dims = info.type?.tensorType?.shape?.dim ?? [];
  if (info.type?.tensorType?.elemType !== ELEM_FLOAT) throw new Error(`${meta.id}: input ${info.name} is not float32`);
  if (dims.length !== 4) throw new Error(`${meta.id}: input ${info.name} is not 4-D NCHW`);
  const [n, c, h, w] = dims.map((d) => d.dimValue);
  if (n !== undefined && n !== 1) throw new Error(`${meta.id}: batch ${n} is not supported`);
  if (c === undefined) throw new Error(`${meta.id}: input channels are symbolic`);
  if (meta.planShape) {
    const [ph, pw, pc] = meta.planShape;
    if (pc !== c || (h !== undefined && h !== ph) || (w !== undefined && w !== pw)) {
      throw new Error(`${meta.id}: plan shape ${meta.planShape} contradicts the declared input [${dims.map((d) => d.dimValue ?? d.dimParam)}]`);
    }
    if (meta.dynamic && (ph % meta.dynamic.multipleOf || pw % meta.dynamic.multipleOf)) throw new Error(`${meta.id}: plan shape is not a multiple of ${meta.dynamic.multipleOf}`);
    return [ph, pw, pc];
  }
  if (h === undefined || w === undefined) throw new Error(`${meta.id}: input H/W are symbolic; give meta.planShape`);
  return [h, w, c];
}

function resolveReshape(spec: number[], dims: number[], count: number, fail: (m: string) => never): number[] {
  const out = spec.map((d, i) => (d === 0 ? dims[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = out.filter((d) => d === -1).length;
  if (free > 1 || out.some((d) => d < -1 || d === undefined)) fail(`shape [${spec}] is invalid`);
  if (free) out[out.indexOf(-1)] = count / known;
  if (out.reduce((a, b) => a * b, 1) !== count || out.some((d) => !Number.isInteger(d))) fail(`shape [${spec}] does not hold ${count} values`);
  return out;
}

/** True when ONNX Resize (opset 11+) nearest maps every output index i to input floor(i/factor). */
function isPlainNearest(coord: string, rounding: string, factor: number, size: number): boolean {
  const outSize = size * factor;
  for (let i = 0; i < outSize; i++) {
    let x: number;
    switch (coord) {
      case 'asymmetric': x = i / factor; break;
      case 'half_pixel': x = (i + 0.5) / factor - 0.5; break;
      case 'pytorch_half_pixel': x = outSize > 1 ? (i + 0.5) / factor - 0.5 : 0; break;
      case 'align_corners': x = outSize > 1 ? (i * (size - 1)) / (outSize - 1) : 0; break;
      default: return false;
    }
    let src: number;
    switch (rounding) {
      case 'floor': src = Math.floor(x); break;
      case 'ceil': src = Math.ceil(x); break;
      case 'round_prefer_floor': src = x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x); break;
      case 'round_prefer_ceil': src = x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x); break;
      default: return false;
    }
    src = Math.min(Math.max(src, 0), size - 1);
    if (src !== Math.floor(i / factor)) return false;
  }
  return true;
}
