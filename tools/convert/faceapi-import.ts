// face-api.js FaceRecognitionNet (dlib's ResNet face descriptor, 128-d) -> float IR.
//
// The weights are a TF.js manifest; the topology exists only as code, reproduced here from
// github.com/justadudewhohacks/face-api.js at a86f011d72124e5fb93e59d5c4ab98f699dd5c9c:
//   src/faceRecognitionNet/FaceRecognitionNet.ts   forwardInput: normalise, layer sequence, mean, fc
//   src/faceRecognitionNet/convLayer.ts            conv -> +bias -> scale layer [-> relu];
//                                                  conv/convNoRelu: stride 1 'same'; convDown: stride 2 'valid'
//   src/faceRecognitionNet/scaleLayer.ts           x * weights + biases (per channel)
//   src/faceRecognitionNet/residualLayer.ts        residual / residualDown (avgPool shortcut)
//   src/faceRecognitionNet/extractParamsFromWeigthMap.ts   weight names
//   src/ops/normalize.ts                           subtract the per-channel mean RGB
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Activation, Graph, Node, Shape } from './ir.js';
import { nodeOutputShape } from './shapes.js';
import { decodeTfjsWeights, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.js';

export interface FaceApiImportOptions {
  /**
   * Divisor applied after the mean subtraction. face-api.js at the pinned commit (and dlib's
   * input_rgb_image, which trained the weights) divide by 256; @vladmandic/face-api 1.7 divides
   * by 255. Default 256; pass 255 to reproduce @vladmandic/face-api bit for bit.
   */
  inputDivisor?: number;
}

export const FACEAPI_MANIFEST = 'face_recognition_model-weights_manifest.json';
const MEAN_RGB: [number, number, number] = [122.782, 117.001, 104.298]; // FaceRecognitionNet.ts
const INPUT_SIZE = 150; // toBatchTensor(150, true)
const NONE: Activation = { kind: 'none' };

/** Reads the manifest and shards from `dir` and builds the graph. */
export function importFaceApiRecognition(dir: string, options: FaceApiImportOptions = {}): Graph {
  const base = dir.replace(/\/?$/, '/');
  const manifestBytes = readFileSync(base + FACEAPI_MANIFEST);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as TfjsWeightGroup[];
  const hash = createHash('sha256').update(manifestBytes);
  const weights = decodeTfjsWeights(manifest, (path) => {
    const shard = readFileSync(base + path);
    hash.update(shard);
    return shard;
  });
  return buildFaceApiRecognition(weights, options, hash.digest('hex'));
}

/**
 * Builds the IR from decoded weights. `sha256` identifies the source (here: of the manifest
 * followed by the shards, in manifest order).
 */
export function buildFaceApiRecognition(weights: Map<string, DecodedWeight>, options: FaceApiImportOptions = {}, sha256 = ''): Graph {
  const divisor = options.inputDivisor ?? 256;
  const nodes: Node[] = [];
  const tensors: Record<string, Shape> = { input: [INPUT_SIZE, INPUT_SIZE, 3] };
  const used = new Set<string>();
  const emit = (node: Node) => {
    tensors[node.output] = nodeOutputShape(node, (t) => tensors[t]);
    nodes.push(node);
    return node.output;
  };
  const weight = (name: string, shape: number[]) => {
    const w = weights.get(name);
    if (!w) throw new Error(`face-api recognition net: weight ${name} is missing`);
    if (w.shape.join() !== shape.join()) throw new Error(`face-api recognition net: ${name} has shape [${w.shape}], expected [${shape}]`);
    used.add(name);
    return w.data;
  };

  /** convLayer.ts: tf.conv2d -> add bias -> scale layer; the scale layer folds into the conv. */
  const convLayer = (x: string, prefix: string, stride: number, padding: 'same' | 'valid', withRelu: boolean, out: string) => {
    const [h, w, cin] = tensors[x];
    const [kh, kw, ic, oc] = filterShape(prefix, weights);
    const filters = weight(`${prefix}/conv/filters`, [kh, kw, ic, oc]);
    if (ic !== cin) throw new Error(`face-api recognition net: ${prefix} expects ${ic} channels, input has ${cin}`);
    const bias = weight(`${prefix}/conv/bias`, [oc]);
    const scaleW = weight(`${prefix}/scale/weights`, [oc]);
    const scaleB = weight(`${prefix}/scale/biases`, [oc]);
    // (conv(x) + bias) * s + b == conv_{W*s}(x) + (bias*s + b); TF filters are HWIO -> OHWI
    const folded = new Float32Array(oc * kh * kw * ic);
    for (let o = 0; o < oc; o++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) for (let i = 0; i < ic; i++) {
      folded[((o * kh + y) * kw + xx) * ic + i] = filters[((y * kw + xx) * ic + i) * oc + o] * scaleW[o];
    }
    const foldedBias = Float32Array.from(bias, (b, o) => b * scaleW[o] + scaleB[o]);
    const [padTop, padBottom] = padding === 'same' ? tfSamePads(h, kh, stride) : [0, 0];
    const [padLeft, padRight] = padding === 'same' ? tfSamePads(w, kw, stride) : [0, 0];
    const conv = emit({
      op: 'conv2d', input: x, output: withRelu ? `${out}/pre_relu` : out, weights: folded, bias: foldedBias,
      kh, kw, strideH: stride, strideW: stride, padTop, padLeft, padBottom, padRight, act: NONE,
    });
    return withRelu ? emit({ op: 'relu', input: conv, output: out }) : conv;
  };

  /** residualLayer.ts `residual`: conv -> convNoRelu -> + x -> relu. */
  const residual = (x: string, prefix: string) => {
    const a = convLayer(x, `${prefix}/conv1`, 1, 'same', true, `${prefix}/conv1`);
    const b = convLayer(a, `${prefix}/conv2`, 1, 'same', false, `${prefix}/conv2`);
    const sum = emit({ op: 'add', inputs: [b, x], output: `${prefix}/add`, act: NONE });
    return emit({ op: 'relu', input: sum, output: `${prefix}/out` });
  };

  /**
   * residualLayer.ts `residualDown`: convDown (3x3 stride 2 'valid') -> convNoRelu; shortcut
   * avgPool 2x2/2 'valid'. When the pooled map is one larger than the conv path
   * ("isAdjustShape"), one zero row is appended at the bottom of the conv path, then one zero
   * column at the right (after its bias/scale, so they are true zeros). When the channel counts
   * differ ("isPad") the pooled map gets as many zero channels appended as it has.
   */
  const residualDown = (x: string, prefix: string) => {
    const a = convLayer(x, `${prefix}/conv1`, 2, 'valid', true, `${prefix}/conv1`);
    let b = convLayer(a, `${prefix}/conv2`, 1, 'same', false, `${prefix}/conv2`);
    let pooled = emit({ op: 'avgpool', input: x, output: `${prefix}/pool`, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, countIncludePad: false });
    const [bh, bw, bc] = tensors[b];
    const [ph, pw, pc] = tensors[pooled];
    if (ph !== bh || pw !== bw) {
      if (ph !== bh + 1 || pw !== bw + 1) throw new Error(`face-api recognition net: ${prefix} shortcut ${ph}x${pw} vs conv path ${bh}x${bw} cannot be adjusted by one row and column`);
      b = emit({ op: 'pad', input: b, output: `${prefix}/conv2_adjusted`, channels: 0, bottom: 1, right: 1 });
    }
    if (pc !== bc) {
      if (bc !== 2 * pc) throw new Error(`face-api recognition net: ${prefix} shortcut has ${pc} channels, conv path ${bc} (not twice)`);
      pooled = emit({ op: 'pad', input: pooled, output: `${prefix}/pool_padded`, channels: pc, bottom: 0, right: 0 });
    }
    const sum = emit({ op: 'add', inputs: [pooled, b], output: `${prefix}/add`, act: NONE });
    return emit({ op: 'relu', input: sum, output: `${prefix}/out` });
  };

  // FaceRecognitionNet.ts forwardInput
  let x = convLayer('input', 'conv32_down', 2, 'valid', true, 'conv32_down');
  x = emit({ op: 'maxpool', input: x, output: 'pool', kh: 3, kw: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 });
  x = residual(x, 'conv32_1');
  x = residual(x, 'conv32_2');
  x = residual(x, 'conv32_3');
  x = residualDown(x, 'conv64_down');
  x = residual(x, 'conv64_1');
  x = residual(x, 'conv64_2');
  x = residual(x, 'conv64_3');
  x = residualDown(x, 'conv128_down');
  x = residual(x, 'conv128_1');
  x = residual(x, 'conv128_2');
  x = residualDown(x, 'conv256_down');
  x = residual(x, 'conv256_1');
  x = residual(x, 'conv256_2');
  x = residualDown(x, 'conv256_down_out');
  x = emit({ op: 'global_avgpool', input: x, output: 'global_mean' }); // out.mean([1, 2])
  const k = tensors[x][2];
  const fc = weight('fc', [k, 128]); // tf.matMul(globalAvg, fc): [K][N] -> [N][K]
  const fcWeights = new Float32Array(128 * k);
  for (let i = 0; i < k; i++) for (let o = 0; o < 128; o++) fcWeights[o * k + i] = fc[i * 128 + o];
  emit({ op: 'fc', input: x, output: 'descriptor', weights: fcWeights, bias: new Float32Array(128), act: NONE });

  const unused = [...weights.keys()].filter((n) => !used.has(n));
  if (unused.length) throw new Error(`face-api recognition net: weights not used by the topology: ${unused.join(', ')}`);

  return {
    id: divisor === 256 ? 'faceapi-recognition' : `faceapi-recognition-div${divisor}`,
    input: {
      name: 'input', shape: [INPUT_SIZE, INPUT_SIZE, 3], colorOrder: 'rgb',
      mean: MEAN_RGB, scale: [1 / divisor, 1 / divisor, 1 / divisor],
    },
    outputs: ['descriptor'],
    nodes,
    tensors,
    source: {
      file: FACEAPI_MANIFEST, sha256, licence: 'MIT (face-api.js); weights: dlib, public domain',
      url: 'https://github.com/justadudewhohacks/face-api.js/tree/a86f011d72124e5fb93e59d5c4ab98f699dd5c9c/weights',
    },
  };
}

function filterShape(prefix: string, weights: Map<string, DecodedWeight>): number[] {
  const w = weights.get(`${prefix}/conv/filters`);
  if (!w) throw new Error(`face-api recognition net: weight ${prefix}/conv/filters is missing`);
  if (w.shape.length !== 4) throw new Error(`face-api recognition net: ${prefix}/conv/filters is not 4-D`);
  return w.shape;
}

/** TF 'SAME' padding: total = max((ceil(in/s) - 1) * s + k - in, 0), the odd pixel at the end. */
export function tfSamePads(size: number, k: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}
