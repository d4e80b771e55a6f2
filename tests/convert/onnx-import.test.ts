// ONNX importer on small synthetic models (no ../shared needed): 4-D BatchNorm folding into
// plain and depthwise convs checked against onnxruntime, and the loud failures for what the IR
// cannot express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { importOnnx, type OnnxImportMeta } from '../../tools/convert/onnx-import.js';
import { runFloat } from '../../tools/convert/float-exec.js';
import { hwcToNchw, maxAbsDiff } from './helpers.js';

const ModelProto = protobuf.loadSync(fileURLToPath(new URL('../../tools/convert/onnx.proto', import.meta.url))).lookupType('onnx.ModelProto');

const META: OnnxImportMeta = {
  id: 'synthetic', colorOrder: 'rgb', mean: [0, 0, 0], scale: [1, 1, 1],
  source: { file: 'synthetic.onnx', licence: 'none', url: 'none' },
};

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;

interface NodeSpec { op: string; inputs: string[]; output: string; name?: string; attrs?: Record<string, number | number[] | string> }

function tensor(name: string, dims: number[], values?: number[]) {
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType: 1, floatData: values ?? Array.from({ length: count }, rand) };
}

function attribute(name: string, v: number | number[] | string) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
}

function model(input: number[], nodes: NodeSpec[], initializers: ReturnType<typeof tensor>[], outputs: string[], opset = 13): Uint8Array {
  const valueInfo = (name: string, dims?: number[]) => ({
    name, type: { tensorType: { elemType: 1, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined } },
  });
  const message = ModelProto.fromObject({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: nodes.map((n, i) => ({
        opType: n.op, input: n.inputs, output: [n.output], name: n.name ?? `${n.op}_${i}`,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: initializers,
      input: [valueInfo('x', input)],
      output: outputs.map((o) => valueInfo(o)),
    },
  });
  return ModelProto.encode(message).finish();
}

const conv = (x: string, w: string, b: string | undefined, out: string, attrs: NodeSpec['attrs']): NodeSpec =>
  ({ op: 'Conv', inputs: b ? [x, w, b] : [x, w], output: out, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], ...attrs } });

function bn(prefix: string, c: number) {
  return [tensor(`${prefix}.g`, [c]), tensor(`${prefix}.b`, [c]), tensor(`${prefix}.m`, [c]),
    tensor(`${prefix}.v`, [c], Array.from({ length: c }, () => 0.5 + Math.abs(rand())))];
}

test('Conv/depthwise + 4-D BatchNormalization fold and match onnxruntime', async () => {
  const [h, w] = [9, 7];
  const bytes = model([1, 3, h, w], [
    conv('x', 'w1', 'b1', 'c1', { strides: [2, 2] }),
    { op: 'BatchNormalization', inputs: ['c1', 'bn1.g', 'bn1.b', 'bn1.m', 'bn1.v'], output: 'n1', attrs: { epsilon: 1e-3 } },
    { op: 'Relu', inputs: ['n1'], output: 'r1' },
    conv('r1', 'w2', undefined, 'c2', { group: 8 }),
    { op: 'BatchNormalization', inputs: ['c2', 'bn2.g', 'bn2.b', 'bn2.m', 'bn2.v'], output: 'n2' },
    { op: 'Add', inputs: ['n2', 'r1'], output: 'sum' },
    { op: 'MaxPool', inputs: ['sum'], output: 'pool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
    { op: 'Transpose', inputs: ['pool'], output: 'nhwc', attrs: { perm: [0, 2, 3, 1] } },
    { op: 'Sigmoid', inputs: ['nhwc'], output: 'y' },
  ], [tensor('w1', [8, 3, 3, 3]), tensor('b1', [8]), ...bn('bn1', 8), tensor('w2', [8, 1, 3, 3]), ...bn('bn2', 8)], ['y']);
  const g = importOnnx(bytes, META);
  assert.deepEqual(g.nodes.map((n) => n.op), ['conv2d', 'relu', 'depthwise', 'add', 'maxpool', 'sigmoid']);
  assert.deepEqual(g.tensors.y, [3, 2, 8]);
  const x = Float32Array.from({ length: h * w * 3 }, () => rand() * 100);
  const ours = runFloat(g, x).y;
  const session = await ort.InferenceSession.create(bytes);
  const ref = (await session.run({ x: new ort.Tensor('float32', hwcToNchw(x, h, w, 3), [1, 3, h, w]) })).y.data as Float32Array;
  assert.ok(maxAbsDiff(ours, ref) < 1e-5, `max abs diff ${maxAbsDiff(ours, ref)}`);
});

test('unsupported ops and attribute values throw naming the op type and node', () => {
  const x = [1, 4, 8, 8];
  const throwsFor = (nodes: NodeSpec[], inits: ReturnType<typeof tensor>[], pattern: RegExp, opset?: number) =>
    assert.throws(() => importOnnx(model(x, nodes, inits, [nodes[nodes.length - 1].output], opset), META), pattern);

  throwsFor([{ op: 'LeakyRelu', inputs: ['x'], output: 'y', name: 'leaky_7' }], [], /LeakyRelu node "leaky_7": unsupported operator/);
  throwsFor([{ ...conv('x', 'w', undefined, 'y', { group: 2 }), name: 'grouped' }], [tensor('w', [4, 2, 3, 3])], /Conv node "grouped": group=2/);
  throwsFor([{ ...conv('x', 'w', undefined, 'y', { auto_pad: 'SAME_UPPER' }), name: 'autopad' }], [tensor('w', [4, 4, 3, 3])], /Conv node "autopad": auto_pad=SAME_UPPER/);
  throwsFor([{ ...conv('x', 'w', undefined, 'y', { dilations: [2, 2] }), name: 'dilated' }], [tensor('w', [4, 4, 3, 3])], /Conv node "dilated": dilation/);
  throwsFor([{ op: 'MaxPool', inputs: ['x'], output: 'y', name: 'ceil', attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } }], [], /MaxPool node "ceil": ceil_mode=1/);
  throwsFor([{ op: 'Transpose', inputs: ['x'], output: 'y', name: 'tr', attrs: { perm: [0, 3, 1, 2] } }], [], /Transpose node "tr": perm/);
  throwsFor([{ op: 'Relu', inputs: ['x'], output: 'r' }, { op: 'Reshape', inputs: ['r', 's'], output: 'y', name: 'flat' }],
    [{ name: 's', dims: [2], dataType: 7, int64Data: [1, -1] } as unknown as ReturnType<typeof tensor>], /Reshape node "flat": reshaping NCHW 4x8x8/);
  // BN after an activation has no conv to fold into
  throwsFor([{ op: 'Relu', inputs: ['x'], output: 'r' }, { op: 'BatchNormalization', inputs: ['r', 'g', 'b', 'm', 'v'], output: 'y', name: 'lonely_bn' }],
    bn('', 4).map((t, i) => ({ ...t, name: 'gbmv'[i] })), /BatchNormalization node "lonely_bn": can only fold/);
  // Resize modes that do not simply replicate pixels
  const scales = tensor('scales', [4], [1, 1, 2, 2]);
  const roi = { name: 'roi', dims: [0], dataType: 1, floatData: [] };
  throwsFor([{ op: 'Resize', inputs: ['x', 'roi', 'scales'], output: 'y', name: 'up', attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' } }],
    [roi, scales], /Resize node "up": coordinate_transformation_mode=asymmetric with nearest_mode=round_prefer_ceil/);
  throwsFor([{ op: 'Resize', inputs: ['x', 'roi', 'scales'], output: 'y', name: 'bilinear', attrs: { mode: 'linear' } }], [roi, scales], /Resize node "bilinear": mode=linear/);
  throwsFor([{ op: 'Resize', inputs: ['x', 'roi', 'scales'], output: 'y', name: 'frac', attrs: { mode: 'nearest', nearest_mode: 'floor' } }],
    [roi, tensor('scales', [4], [1, 1, 1.5, 1.5])], /Resize node "frac": scales/);
});

test('Resize nearest with half_pixel + round_prefer_floor is a plain x2 upsample', async () => {
  const bytes = model([1, 2, 3, 4], [{ op: 'Resize', inputs: ['x', 'roi', 'scales'], output: 'y', attrs: { mode: 'nearest' } }],
    [{ name: 'roi', dims: [0], dataType: 1, floatData: [] } as unknown as ReturnType<typeof tensor>, tensor('scales', [4], [1, 1, 2, 2])], ['y']);
  // the graph output is the input upsampled, so it needs a node: the importer makes one
  const g = importOnnx(bytes, META);
  assert.deepEqual(g.nodes.map((n) => n.op), ['upsample_nearest']);
  const x = Float32Array.from({ length: 24 }, rand);
  const session = await ort.InferenceSession.create(bytes);
  const ref = (await session.run({ x: new ort.Tensor('float32', hwcToNchw(x, 3, 4, 2), [1, 2, 3, 4]) })).y.data as Float32Array;
  assert.equal(maxAbsDiff(hwcToNchw(runFloat(g, x).y, 6, 8, 2), ref), 0);
});
