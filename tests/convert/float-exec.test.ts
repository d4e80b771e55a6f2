// Float executor ops the three models do not exercise (concat, softmax, relu6, padded avgpool,
// fused activations), on hand-computed cases; and preprocess().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preprocess, runFloat } from '../../tools/convert/float-exec.js';
import type { Graph, InputSpec, Node } from '../../tools/convert/ir.js';
import { inferShapes } from '../../tools/convert/shapes.js';

const SPEC: InputSpec = { name: 'x', shape: [2, 2, 2], colorOrder: 'rgb', mean: [0, 0, 0], scale: [1, 1, 1] };

function graph(nodes: Node[], outputs: string[], input: InputSpec = SPEC): Graph {
  const g = { id: 'unit', input, outputs, nodes, tensors: {}, source: { file: '', sha256: '', licence: '', url: '' } };
  return { ...g, tensors: inferShapes(g) };
}

const close = (a: ArrayLike<number>, b: number[]) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `[${i}] ${a[i]} vs ${b[i]}`);
};

// x: 2x2 pixels, 2 channels: channel 0 = 1,2,3,4; channel 1 = -1,-2,-3,-4
const X = Float32Array.from([1, -1, 2, -2, 3, -3, 4, -4]);
const WINDOW = { kh: 3, kw: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 };

test('avgpool counts padded taps only when countIncludePad', () => {
  const g = graph([
    { op: 'avgpool', input: 'x', output: 'a', ...WINDOW, countIncludePad: false },
    { op: 'avgpool', input: 'x', output: 'b', ...WINDOW, countIncludePad: true },
    { op: 'maxpool', input: 'x', output: 'm', ...WINDOW },
  ], ['a', 'b', 'm']);
  const out = runFloat(g, X);
  close(out.a, [2.5, -2.5, 2.5, -2.5, 2.5, -2.5, 2.5, -2.5]);
  close(out.b, Array.from({ length: 8 }, (_, i) => (i % 2 ? -10 : 10) / 9));
  close(out.m, [4, -1, 4, -1, 4, -1, 4, -1]);
});

test('concat, pad, upsample, global mean, channel_mul, softmax', () => {
  const g = graph([
    { op: 'concat', inputs: ['x', 'x'], output: 'cat' },
    { op: 'pad', input: 'x', output: 'pad', channels: 1, bottom: 1, right: 0 },
    { op: 'upsample_nearest', input: 'x', output: 'up', factor: 2 },
    { op: 'global_avgpool', input: 'x', output: 'mean' },
    { op: 'channel_mul', input: 'x', scale: 'mean', output: 'scaled' },
    { op: 'softmax', input: 'mean', output: 'prob' },
  ], ['cat', 'pad', 'up', 'mean', 'scaled', 'prob']);
  const out = runFloat(g, X);
  close(out.cat, [1, -1, 1, -1, 2, -2, 2, -2, 3, -3, 3, -3, 4, -4, 4, -4]);
  close(out.pad, [1, -1, 0, 2, -2, 0, 3, -3, 0, 4, -4, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(g.tensors.up, [4, 4, 2]);
  close(out.up.subarray(0, 8), [1, -1, 1, -1, 2, -2, 2, -2]);
  close(out.mean, [2.5, -2.5]);
  close(out.scaled, [2.5, 2.5, 5, 5, 7.5, 7.5, 10, 10]);
  close(out.prob, [1 / (1 + Math.exp(-5)), Math.exp(-5) / (1 + Math.exp(-5))]);
});

test('fused activations on conv, depthwise, fc and add', () => {
  const ident = { weights: Float32Array.from([1, 0, 0, 1]), bias: Float32Array.from([5, 0.5]) };
  const one = { kh: 1, kw: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 };
  const g = graph([
    { op: 'conv2d', input: 'x', output: 'c', ...ident, ...one, act: { kind: 'relu6' } },
    { op: 'depthwise', input: 'x', output: 'd', weights: Float32Array.from([2, 2]), bias: new Float32Array(2), ...one, act: { kind: 'prelu', slopes: Float32Array.from([0.1, 0.25]) } },
    { op: 'add', inputs: ['x', 'x'], output: 's', act: { kind: 'relu' } },
    { op: 'fc', input: 'x', output: 'f', weights: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1]), bias: Float32Array.from([1]), act: { kind: 'none' } },
    { op: 'prelu', input: 'x', output: 'p', slopes: Float32Array.from([0.5, 0.5]) },
  ], ['c', 'd', 's', 'f', 'p']);
  const out = runFloat(g, X);
  close(out.c, [6, 0, 6, 0, 6, 0, 6, 0]);
  close(out.d, [2, -0.5, 4, -1, 6, -1.5, 8, -2]);
  close(out.s, [2, 0, 4, 0, 6, 0, 8, 0]);
  close(out.f, [1]);
  close(out.p, [1, -0.5, 2, -1, 3, -1.5, 4, -2]);
});

test('shape errors name the node; fixed graphs refuse other sizes', () => {
  assert.throws(() => graph([{ op: 'add', inputs: ['x', 'u'], output: 'y', act: { kind: 'none' } }, { op: 'upsample_nearest', input: 'x', output: 'u', factor: 2 }], ['y']), /used before/);
  assert.throws(() => graph([{ op: 'maxpool', input: 'x', output: 'y', ...WINDOW, padTop: 0, padBottom: 0 }], ['y']), /maxpool -> y: input 2x2 too small/);
  const g = graph([{ op: 'relu', input: 'x', output: 'y' }], ['y']);
  assert.throws(() => runFloat(g, new Float32Array(32), { h: 4, w: 4 }), /fixed at 2x2/);
  assert.equal(runFloat(g, X, undefined, { keepAll: true }).x, X);
});

test('preprocess applies colour order, mean and scale; RGB or RGBA input', () => {
  const bgr: InputSpec = { ...SPEC, shape: [1, 2, 3], colorOrder: 'bgr', mean: [10, 20, 30], scale: [0.5, 1, 2] };
  const rgba = Uint8Array.from([100, 150, 200, 255, 0, 50, 250, 0]);
  close(preprocess(rgba, 2, 1, bgr), [(200 - 10) * 0.5, 150 - 20, (100 - 30) * 2, (250 - 10) * 0.5, 50 - 20, (0 - 30) * 2]);
  const rgb = Uint8Array.from([100, 150, 200, 0, 50, 250]);
  close(preprocess(rgb, 2, 1, { ...bgr, colorOrder: 'rgb' }), [(100 - 10) * 0.5, 150 - 20, (200 - 30) * 2, (0 - 10) * 0.5, 50 - 20, (250 - 30) * 2]);
  assert.throws(() => preprocess(new Uint8Array(5), 2, 1, bgr), /neither RGB nor RGBA/);
});
