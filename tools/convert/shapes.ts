// Shape inference for the float IR. The importers use it to fill `graph.tensors` at the planned
// input size; the float executor uses it again for any other input size of a dynamic graph.
import type { Graph, Node, Shape } from './ir.js';

/** Output length of a window op along one axis (floor mode, as ONNX/TF 'VALID' after explicit padding). */
export function windowOut(size: number, k: number, stride: number, padA: number, padB: number): number {
  return Math.floor((size + padA + padB - k) / stride) + 1;
}

/** Tensors a node reads, in order. */
export function nodeInputs(node: Node): string[] {
  switch (node.op) {
    case 'add': return [...node.inputs];
    case 'concat': return [...node.inputs];
    case 'channel_mul': return [node.input, node.scale];
    default: return [node.input];
  }
}

function fail(node: Node, msg: string): never {
  throw new Error(`${node.op} -> ${node.output}: ${msg}`);
}

function same(a: Shape, b: Shape): boolean { return a[0] === b[0] && a[1] === b[1] && a[2] === b[2]; }

/** Output shape of one node given its input shapes; checks weight sizes against the input. */
export function nodeOutputShape(node: Node, shapeOf: (tensor: string) => Shape): Shape {
  switch (node.op) {
    case 'conv2d': {
      const [h, w, c] = shapeOf(node.input);
      const oc = node.bias.length;
      if (node.weights.length !== oc * node.kh * node.kw * c) fail(node, `weights ${node.weights.length} != ${oc}x${node.kh}x${node.kw}x${c}`);
      const oh = windowOut(h, node.kh, node.strideH, node.padTop, node.padBottom);
      const ow = windowOut(w, node.kw, node.strideW, node.padLeft, node.padRight);
      if (oh < 1 || ow < 1) fail(node, `input ${h}x${w} too small for the ${node.kh}x${node.kw} window`);
      return [oh, ow, oc];
    }
    case 'depthwise': {
      const [h, w, c] = shapeOf(node.input);
      if (node.bias.length !== c || node.weights.length !== node.kh * node.kw * c) fail(node, `weights/bias do not match ${c} channels`);
      const oh = windowOut(h, node.kh, node.strideH, node.padTop, node.padBottom);
      const ow = windowOut(w, node.kw, node.strideW, node.padLeft, node.padRight);
      if (oh < 1 || ow < 1) fail(node, `input ${h}x${w} too small for the ${node.kh}x${node.kw} window`);
      return [oh, ow, c];
    }
    case 'maxpool': case 'avgpool': {
      const [h, w, c] = shapeOf(node.input);
      const oh = windowOut(h, node.kh, node.strideH, node.padTop, node.padBottom);
      const ow = windowOut(w, node.kw, node.strideW, node.padLeft, node.padRight);
      if (oh < 1 || ow < 1) fail(node, `input ${h}x${w} too small for the ${node.kh}x${node.kw} window`);
      return [oh, ow, c];
    }
    case 'fc': {
      const [h, w, c] = shapeOf(node.input);
      const k = h * w * c, n = node.bias.length;
      if (node.weights.length !== n * k) fail(node, `weights ${node.weights.length} != ${n}x${k} (input ${h}x${w}x${c})`);
      return [1, 1, n];
    }
    case 'add': {
      const a = shapeOf(node.inputs[0]), b = shapeOf(node.inputs[1]);
      if (!same(a, b)) fail(node, `operand shapes differ: ${a} vs ${b}`);
      return [...a];
    }
    case 'channel_mul': {
      const x = shapeOf(node.input), s = shapeOf(node.scale);
      if (s[0] !== 1 || s[1] !== 1 || s[2] !== x[2]) fail(node, `scale ${s} is not [1,1,${x[2]}]`);
      return [...x];
    }
    case 'sigmoid': case 'relu': case 'relu6': case 'prelu': {
      const x = shapeOf(node.input);
      if (node.op === 'prelu' && node.slopes?.length !== x[2]) fail(node, `needs ${x[2]} slopes, has ${node.slopes?.length}`);
      return [...x];
    }
    case 'global_avgpool': { const [, , c] = shapeOf(node.input); return [1, 1, c]; }
    case 'concat': {
      const shapes = node.inputs.map(shapeOf);
      const [h, w] = shapes[0];
      if (shapes.some((s) => s[0] !== h || s[1] !== w)) fail(node, 'inputs differ in H/W');
      return [h, w, shapes.reduce((n, s) => n + s[2], 0)];
    }
    case 'pad': { const [h, w, c] = shapeOf(node.input); return [h + node.bottom, w + node.right, c + node.channels]; }
    case 'upsample_nearest': { const [h, w, c] = shapeOf(node.input); return [h * node.factor, w * node.factor, c]; }
    case 'softmax': {
      const s = shapeOf(node.input);
      if (s[0] !== 1 || s[1] !== 1) fail(node, `softmax needs a [1,1,C] vector, has ${s}`);
      return [...s];
    }
  }
}

/** Shapes of every tensor for a given input shape (nodes must be topologically ordered). */
export function inferShapes(graph: Pick<Graph, 'nodes' | 'input'>, inputShape: Shape = graph.input.shape): Record<string, Shape> {
  const shapes: Record<string, Shape> = { [graph.input.name]: inputShape };
  const shapeOf = (t: string): Shape => {
    const s = shapes[t];
    if (!s) throw new Error(`tensor ${t} is used before it is produced`);
    return s;
  };
  for (const node of graph.nodes) {
    if (shapes[node.output]) throw new Error(`tensor ${node.output} is produced twice`);
    shapes[node.output] = nodeOutputShape(node, shapeOf);
  }
  return shapes;
}
