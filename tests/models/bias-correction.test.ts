// Bias correction (tools/convert/bias-correction.ts), weight rounding (tools/convert/rounding.ts)
// and consumer range equalisation on small synthetic graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFloat } from '../../tools/convert/float-exec.js';
import type { Activation, Graph, Node, Shape } from '../../tools/convert/ir.js';
import { CalibrationStats, channelRanges, equalizeConsumerInputs, prepareGraph, quantize, quantizeWeights, type Quantized } from '../../tools/convert/quantize.js';
import { correctBiases, LinearMeans, tapMeans } from '../../tools/convert/bias-correction.js';
import { InputMoments, outputError, roundWeights } from '../../tools/convert/rounding.js';
import { dequantize, runInt8 } from '../../tools/convert/int8-exec.js';
import { inferShapes } from '../../tools/convert/shapes.js';
import { rng } from '../../tools/convert/calibration.js';
import type { Rgb } from '../../tools/convert/image.js';
import { allOpsGraph } from './helpers.js';

const NONE: Activation = { kind: 'none' };
const SIZE = 12;

/**
 * conv 3x3 (PReLU) -> depthwise 3x3 (ReLU) -> conv 1x1 -> global pool -> fc: small enough to run
 * in a test, with the ingredients that shift int8 means (a large common input offset, kernels of
 * mixed sign, activations with a nonzero mean).
 */
function chainGraph(seed = 3): Graph {
  const rand = rng(seed);
  const randn = () => { let s = 0; for (let i = 0; i < 4; i++) s += rand(); return (s - 2) * 1.7; };
  const arr = (n: number, k: number, offset = 0) => Float32Array.from({ length: n }, () => randn() * k + offset);
  const win = (k: number, stride: number, pad: number) => ({ kh: k, kw: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad });
  const nodes: Node[] = [
    { op: 'conv2d', input: 'input', output: 'a', weights: arr(8 * 9 * 3, 0.3), bias: arr(8, 0.2), ...win(3, 1, 1), act: { kind: 'prelu', slopes: Float32Array.from({ length: 8 }, () => 0.1 + rand() * 0.3) } },
    { op: 'depthwise', input: 'a', output: 'b', weights: arr(9 * 8, 0.6), bias: arr(8, 0.1), ...win(3, 2, 1), act: { kind: 'relu' } },
    { op: 'conv2d', input: 'b', output: 'c', weights: arr(12 * 8, 0.4), bias: arr(12, 0.1), ...win(1, 1, 0), act: NONE },
    { op: 'global_avgpool', input: 'c', output: 'g' },
    { op: 'fc', input: 'g', output: 'y', weights: arr(4 * 12, 0.5), bias: arr(4, 0.1), act: NONE },
  ];
  const input = { name: 'input', shape: [SIZE, SIZE, 3] as Shape, colorOrder: 'rgb' as const, mean: [0, 0, 0] as [number, number, number], scale: [1 / 64, 1 / 64, 1 / 64] as [number, number, number] };
  return { id: 'chain', input, outputs: ['y'], nodes, tensors: inferShapes({ nodes, input }), source: { file: '-', sha256: '-', licence: '-', url: '-' } };
}

/** Smooth random pictures (a gradient plus noise), so neighbouring taps correlate as in photos. */
function pictures(n: number, seed: number, size = SIZE): Rgb[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => {
    const base = 60 + rand() * 140, gx = (rand() - 0.5) * 12, gy = (rand() - 0.5) * 12;
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
      data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + gx * x + gy * y + (rand() - 0.5) * 40 + c * 10)));
    }
    return { data, width: size, height: size };
  });
}

const netInput = (g: Graph, img: Rgb) => Float32Array.from(img.data, (v, i) => (v - g.input.mean[i % 3]) * g.input.scale[i % 3]);

function setup(graph: Graph, images: Rgb[]) {
  const stats = new CalibrationStats();
  const means = new LinearMeans(graph);
  const moments = new InputMoments(graph);
  for (const img of images) {
    const v = runFloat(graph, netInput(graph, img), undefined, { keepAll: true });
    stats.observe(v);
    means.observe(v);
    moments.observe(v);
  }
  return { stats, means, moments };
}

/** Per-channel int8 pre-activation means (real units) of every linear layer on `images`. */
function int8Means(graph: Graph, q: Quantized, images: Rgb[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const model = { ...q.model, meta: { id: 'x' } };
  for (const img of images) {
    const all = runInt8(model, img.data, img.width, img.height, { keepAll: true }).all!;
    graph.nodes.forEach((n, k) => {
      if (n.op !== 'conv2d' && n.op !== 'depthwise' && n.op !== 'fc') return;
      const op = q.model.ops[k], inRec = q.model.tensors[op.inputs[0]], x = all[op.inputs[0]]!;
      const oc = n.bias.length, sw = q.weightScales.get(n.output)!;
      const m = n.op === 'fc' ? Float64Array.from(x.data, (v) => v - inRec.zp) : tapMeans(x.data, x.h, x.w, x.c, n, graph.tensors[n.output][0], graph.tensors[n.output][1], inRec.zp);
      let acc = out.get(n.output);
      if (!acc) out.set(n.output, (acc = new Float64Array(oc)));
      for (let o = 0; o < oc; o++) {
        let s = op.bias![o];
        if (n.op === 'depthwise') for (let t = 0; t < m.length / oc; t++) s += op.weights![t * oc + o] * m[t * oc + o];
        else { const K = m.length; for (let k2 = 0; k2 < K; k2++) s += op.weights![o * K + k2] * m[k2]; }
        acc[o] += (s * inRec.scale * sw[o]) / images.length;
      }
    });
  }
  return out;
}

/** Mean over the output's channels of |mean(int8 - float)| and the mean squared error, on `images`. */
function outputBias(graph: Graph, q: Quantized, images: Rgb[]): { bias: number; mse: number } {
  const model = { ...q.model, meta: { id: 'x' } };
  const id = q.tensorIds.get(graph.outputs[0])!;
  let sumD: Float64Array | undefined, se = 0, count = 0;
  for (const img of images) {
    const f = runFloat(graph, netInput(graph, img))[graph.outputs[0]];
    const r = runInt8(model, img.data, img.width, img.height, { keepAll: true }).all![id]!;
    const d = dequantize(r, model.tensors[id]);
    sumD ??= new Float64Array(f.length);
    for (let i = 0; i < f.length; i++) { sumD[i] += d[i] - f[i]; se += (d[i] - f[i]) ** 2; count++; }
  }
  return { bias: sumD!.reduce((s, v) => s + Math.abs(v), 0) / sumD!.length / images.length, mse: se / count };
}

test('bias correction: every corrected layer has the float per-channel mean on the calibration images', () => {
  const { graph } = prepareGraph(chainGraph());
  const cal = pictures(24, 5);
  const { stats, means } = setup(graph, cal);
  const q = quantize(graph, stats, { method: 'minmax' });
  const before = int8Means(graph, q, cal);
  const report = correctBiases(graph, q, cal, means);
  assert.ok(report.layers >= 3, `${report.layers} layers corrected`);
  const after = int8Means(graph, q, cal);
  let gapBefore = 0, gapAfter = 0;
  for (const n of graph.nodes) {
    if (n.op !== 'conv2d' && n.op !== 'depthwise' && n.op !== 'fc') continue;
    const f = means.mean(n.output), sw = q.weightScales.get(n.output)!;
    const k = graph.nodes.indexOf(n);
    const inScale = q.model.tensors[q.model.ops[k].inputs[0]].scale;
    for (let o = 0; o < f.length; o++) {
      const unit = inScale * sw[o];
      // after correction only the rounding of the int32 bias remains (half a step), up to float noise
      assert.ok(Math.abs(after.get(n.output)![o] - f[o]) <= unit * 0.5 + 1e-9 * Math.abs(f[o]) + 1e-12, `${n.output}[${o}]: int8 mean ${after.get(n.output)![o]}, float ${f[o]}`);
      gapBefore += Math.abs(before.get(n.output)![o] - f[o]);
      gapAfter += Math.abs(after.get(n.output)![o] - f[o]);
    }
  }
  assert.ok(gapAfter < gapBefore, `mean gap ${gapAfter} after vs ${gapBefore} before`);
});

test('bias correction: the output mean error shrinks on held-out images, and the result is deterministic', () => {
  const { graph } = prepareGraph(chainGraph());
  const cal = pictures(32, 5), held = pictures(16, 99);
  const { stats, means } = setup(graph, cal);
  const plain = quantize(graph, stats, { method: 'minmax' });
  const a = quantize(graph, stats, { method: 'minmax' });
  const b = quantize(graph, stats, { method: 'minmax' });
  correctBiases(graph, a, cal, means);
  correctBiases(graph, b, cal, means);
  a.model.ops.forEach((op, i) => assert.deepEqual(op.bias, b.model.ops[i].bias, `op ${i} bias differs between runs`));
  const x = outputBias(graph, plain, held), y = outputBias(graph, a, held);
  assert.ok(y.bias < x.bias, `held-out output bias ${y.bias} after vs ${x.bias} before`);
  assert.ok(y.mse < x.mse, `held-out output MSE ${y.mse} after vs ${x.mse} before`);
});

test('bias correction: only biases change; fc layers can be left out (minPositions)', () => {
  const { graph } = prepareGraph(chainGraph());
  const cal = pictures(12, 8);
  const { stats, means } = setup(graph, cal);
  const plain = quantize(graph, stats, { method: 'percentile' });
  const q = quantize(graph, stats, { method: 'percentile' });
  correctBiases(graph, q, cal, means, { minPositions: 2 });
  q.model.ops.forEach((op, i) => {
    assert.deepEqual(op.weights, plain.model.ops[i].weights);
    assert.deepEqual(op.mult, plain.model.ops[i].mult);
    assert.deepEqual(op.params, plain.model.ops[i].params);
  });
  const fc = graph.nodes.findIndex((n) => n.output === 'y');
  assert.deepEqual(q.model.ops[fc].bias, plain.model.ops[fc].bias, 'the fc layer (1 position) is not corrected');
  assert.notDeepEqual(q.model.ops[0].bias, plain.model.ops[0].bias);
  assert.deepEqual(q.model.tensors, plain.model.tensors);
});

test('bias correction runs on the all-ops graph (pools, concat, SE, standalone PReLU) without touching other ops', () => {
  const { graph } = prepareGraph(allOpsGraph());
  const images = pictures(8, 21, 12);
  const { stats, means } = setup(graph, images);
  const q = quantize(graph, stats, { method: 'mse' });
  const r = correctBiases(graph, q, images, means);
  assert.ok(r.layers > 0);
  assert.ok(Number.isFinite(r.meanRelShift));
});

test('weight rounding: output error never above nearest rounding, deterministic, same scales', () => {
  const { graph } = prepareGraph(chainGraph());
  const { moments, stats } = setup(graph, pictures(24, 5));
  for (const n of graph.nodes) {
    if (n.op !== 'conv2d' && n.op !== 'depthwise' && n.op !== 'fc') continue;
    const { wq, sw } = quantizeWeights(n.weights, n.bias.length, n.op === 'depthwise');
    const r1 = roundWeights(n, sw, moments), r2 = roundWeights(n, sw, moments);
    assert.deepEqual(r1, r2);
    const near = outputError(n, wq, sw, moments), opt = outputError(n, r1, sw, moments);
    assert.ok(opt <= near * (1 + 1e-9), `${n.output}: ${opt} > nearest ${near}`);
    // every integer is within one level of the scaled float weight
    const per = n.weights.length / n.bias.length;
    for (let i = 0; i < r1.length; i++) {
      const c = n.op === 'depthwise' ? i % n.bias.length : Math.floor(i / per);
      assert.ok(Math.abs(r1[i] - n.weights[i] / sw[c]) < 1 + 1e-9 || n.op !== 'depthwise', `${n.output}[${i}]`);
      assert.ok(r1[i] >= -127 && r1[i] <= 127);
    }
  }
  // quantize() with the moments: the conv and depthwise layers get the rounded weights; the fc (24 samples for 12 taps) too
  const q = quantize(graph, stats, { method: 'minmax', rounding: moments });
  const dw = graph.nodes.findIndex((n) => n.op === 'depthwise');
  const n = graph.nodes[dw] as Extract<Node, { op: 'depthwise' }>;
  assert.deepEqual(q.model.ops[dw].weights, roundWeights(n, q.weightScales.get(n.output)!, moments));
});

test('weight rounding lowers the error of the whole int8 model on held-out images', () => {
  const { graph } = prepareGraph(chainGraph());
  const { moments, stats } = setup(graph, pictures(32, 5));
  const held = pictures(16, 99);
  const near = outputBias(graph, quantize(graph, stats, { method: 'minmax' }), held);
  const opt = outputBias(graph, quantize(graph, stats, { method: 'minmax', rounding: moments }), held);
  assert.ok(opt.mse < near.mse, `held-out MSE ${opt.mse} with rounding vs ${near.mse} nearest`);
});

test('consumer range equalisation is exact in float', () => {
  const { graph } = prepareGraph(chainGraph());
  const images = pictures(6, 5);
  const runs = images.map((img) => runFloat(graph, netInput(graph, img), undefined, { keepAll: true }));
  for (const alpha of [0.5, 1]) {
    const eq = equalizeConsumerInputs(graph, channelRanges(graph, runs), alpha);
    assert.equal(eq.notes.length, 1, 'the depthwise -> 1x1 conv pair (and others) are equalised');
    for (const img of images) {
      const a = runFloat(graph, netInput(graph, img)).y, b = runFloat(eq.graph, netInput(eq.graph, img)).y;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(a[i])), `alpha ${alpha}: ${a[i]} vs ${b[i]}`);
    }
  }
});
