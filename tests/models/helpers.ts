// Shared pieces of the model tests: a synthetic graph with every op type, its quantisation.
import { runFloat } from '../../tools/convert/float-exec.js';
import type { Activation, Graph, Node, Shape } from '../../tools/convert/ir.js';
import { CalibrationStats, prepareGraph, quantize, type QuantizeOptions } from '../../tools/convert/quantize.js';
import { inferShapes } from '../../tools/convert/shapes.js';
import { rng } from '../../tools/convert/calibration.js';
import { readWfm } from '../../tools/convert/wfm-reader.js';
import { writeWfm } from '../../tools/convert/wfm-writer.js';

const WIN0 = { strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 };
const NONE: Activation = { kind: 'none' };

/** A small graph that uses every op type (and ReLU/ReLU6/PReLU fusions, a standalone PReLU, SE fc). */
export function allOpsGraph(seed = 7): Graph {
  const rand = rng(seed);
  const randn = () => { let s = 0; for (let i = 0; i < 4; i++) s += rand(); return (s - 2) * 1.7; };
  const randArray = (n: number, k = 0.4) => Float32Array.from({ length: n }, () => randn() * k);
  const nodes: Node[] = [];
  const conv = (input: string, output: string, ic: number, oc: number, k: number, stride: number, pad: number, act: Activation = NONE): Node =>
    ({ op: 'conv2d', input, output, weights: randArray(oc * k * k * ic, 0.5 / Math.sqrt(k * k * ic)), bias: randArray(oc, 0.2), kh: k, kw: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad, act });
  const slopes = Float32Array.from({ length: 8 }, () => 0.1 + rand() * 0.4);
  nodes.push(conv('input', 'a', 3, 8, 3, 1, 1));
  nodes.push(conv('a', 'b_pre', 8, 8, 3, 2, 1));
  nodes.push({ op: 'prelu', input: 'b_pre', output: 'b', slopes });
  nodes.push({ op: 'depthwise', input: 'a', output: 'c_pre', weights: randArray(9 * 8, 0.5), bias: randArray(8, 0.1), kh: 3, kw: 3, ...WIN0, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, act: NONE });
  nodes.push({ op: 'relu6', input: 'c_pre', output: 'c' });
  nodes.push({ op: 'add', inputs: ['a', 'c'], output: 'd_pre', act: NONE });
  nodes.push({ op: 'relu', input: 'd_pre', output: 'd' });
  nodes.push({ op: 'maxpool', input: 'd', output: 'e', kh: 3, kw: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 });
  nodes.push({ op: 'avgpool', input: 'd', output: 'f', kh: 3, kw: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, countIncludePad: false });
  nodes.push({ op: 'avgpool', input: 'a', output: 'f2', kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, countIncludePad: true });
  nodes.push({ op: 'concat', inputs: ['e', 'f'], output: 'h' });
  nodes.push({ op: 'global_avgpool', input: 'h', output: 'i' });
  nodes.push(conv('i', 'j', 16, 4, 1, 1, 0, { kind: 'relu' })); // SE squeeze: becomes fc
  nodes.push({ op: 'fc', input: 'j', output: 'k', weights: randArray(16 * 4, 0.8), bias: randArray(16, 0.5), act: NONE });
  nodes.push({ op: 'sigmoid', input: 'k', output: 's' });
  nodes.push({ op: 'channel_mul', input: 'h', scale: 's', output: 'l' });
  nodes.push({ op: 'pad', input: 'l', output: 'm', channels: 4, bottom: 1, right: 1 });
  nodes.push({ op: 'upsample_nearest', input: 'm', output: 'n', factor: 2 });
  nodes.push(conv('n', 'o', 20, 4, 1, 1, 0));
  nodes.push({ op: 'add', inputs: ['e', 'f'], output: 'p_pre', act: NONE });
  nodes.push({ op: 'prelu', input: 'p_pre', output: 'p', slopes });
  const input = { name: 'input', shape: [12, 12, 3] as Shape, colorOrder: 'rgb' as const, mean: [128, 128, 128] as [number, number, number], scale: [1 / 64, 1 / 64, 1 / 64] as [number, number, number] };
  return { id: 'all-ops', input, outputs: ['o', 'b', 'p', 'f2'], nodes, tensors: inferShapes({ nodes, input }), source: { file: '-', sha256: '-', licence: '-', url: '-' } };
}

export function randomImages(n: number, seed = 11): Uint8Array[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => Uint8Array.from({ length: 12 * 12 * 3 }, () => Math.floor(rand() * 256)));
}

export function build(options: QuantizeOptions, seed = 7) {
  const { graph } = prepareGraph(allOpsGraph(seed));
  const stats = new CalibrationStats();
  for (const img of randomImages(16, seed + 1)) stats.observe(runFloat(graph, toInput(img), undefined, { keepAll: true }));
  const q = quantize(graph, stats, options);
  const model = readWfm(writeWfm({ ...q.model, meta: { id: 'all-ops' } }));
  // names are not stored in the file: carry them over for messages
  model.ops.forEach((o, i) => { o.name = q.model.ops[i].name; });
  model.tensors.forEach((t, i) => { t.name = q.model.tensors[i].name; });
  return { graph, q, model };
}

export const toInput = (img: Uint8Array) => Float32Array.from(img, (v) => (v - 128) / 64);

