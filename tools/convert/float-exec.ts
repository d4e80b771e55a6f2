// Plain float reference executor of the IR: the ground truth the int8 pipeline is measured
// against. Written for readability, not speed: every sum accumulates in float64 and tensors are
// stored as float32 (the precision of the source models).
import type { Activation, Graph, InputSpec, Node, Shape } from './ir.js';
import { inferShapes } from './shapes.js';

export interface RunOptions {
  /** Return every tensor (calibration, debugging), not only the graph outputs. */
  keepAll?: boolean;
  /** Replaces a node's output before later nodes read it (fake quantisation, sensitivity studies). */
  after?: (tensor: string, value: Float32Array) => Float32Array | undefined;
}

/**
 * Runs `graph` on one input in network space (HWC, after colour order and mean/scale).
 * `dims` gives H and W for dynamic graphs; it defaults to the planned input shape.
 */
export function runFloat(graph: Graph, input: Float32Array, dims?: { h: number; w: number }, options: RunOptions = {}): Record<string, Float32Array> {
  const [ph, pw, c] = graph.input.shape;
  const h = dims?.h ?? ph, w = dims?.w ?? pw;
  if (h !== ph || w !== pw) {
    const dyn = graph.input.dynamic;
    if (!dyn) throw new Error(`${graph.id}: input is fixed at ${ph}x${pw}, got ${h}x${w}`);
    if (h % dyn.multipleOf || w % dyn.multipleOf) throw new Error(`${graph.id}: input ${h}x${w} is not a multiple of ${dyn.multipleOf}`);
  }
  if (input.length !== h * w * c) throw new Error(`${graph.id}: input has ${input.length} values, expected ${h}x${w}x${c}`);
  const shapes = inferShapes(graph, [h, w, c]);
  const values = new Map<string, Float32Array>([[graph.input.name, input]]);
  const get = (t: string) => {
    const v = values.get(t);
    if (!v) throw new Error(`tensor ${t} not computed`);
    return v;
  };
  for (const node of graph.nodes) {
    const v = runNode(node, get, (t) => shapes[t]);
    values.set(node.output, options.after?.(node.output, v) ?? v);
  }
  const names = options.keepAll ? [...values.keys()] : graph.outputs;
  const out: Record<string, Float32Array> = {};
  for (const name of names) out[name] = get(name);
  return out;
}

function activate(x: number, act: Activation, channel: number): number {
  switch (act.kind) {
    case 'none': return x;
    case 'relu': return x > 0 ? x : 0;
    case 'relu6': return x < 0 ? 0 : x > 6 ? 6 : x;
    case 'prelu': return x >= 0 ? x : x * act.slopes[channel];
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function runNode(node: Node, get: (t: string) => Float32Array, shapeOf: (t: string) => Shape): Float32Array {
  const outShape = shapeOf(node.output);
  const [oh, ow, oc] = outShape;
  const out = new Float32Array(oh * ow * oc);
  switch (node.op) {
    case 'conv2d': {
      const x = get(node.input);
      const [h, w, c] = shapeOf(node.input);
      const acc = new Float64Array(oc);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          acc.set(node.bias);
          for (let ky = 0; ky < node.kh; ky++) {
            const iy = oy * node.strideH - node.padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < node.kw; kx++) {
              const ix = ox * node.strideW - node.padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              const xBase = (iy * w + ix) * c;
              for (let o = 0; o < oc; o++) {
                const wBase = ((o * node.kh + ky) * node.kw + kx) * c;
                let s = 0;
                for (let i = 0; i < c; i++) s += x[xBase + i] * node.weights[wBase + i];
                acc[o] += s;
              }
            }
          }
          const base = (oy * ow + ox) * oc;
          for (let o = 0; o < oc; o++) out[base + o] = activate(acc[o], node.act, o);
        }
      }
      return out;
    }
    case 'depthwise': {
      const x = get(node.input);
      const [h, w, c] = shapeOf(node.input);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          for (let ch = 0; ch < c; ch++) {
            let s = node.bias[ch];
            for (let ky = 0; ky < node.kh; ky++) {
              const iy = oy * node.strideH - node.padTop + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < node.kw; kx++) {
                const ix = ox * node.strideW - node.padLeft + kx;
                if (ix < 0 || ix >= w) continue;
                s += x[(iy * w + ix) * c + ch] * node.weights[(ky * node.kw + kx) * c + ch];
              }
            }
            out[(oy * ow + ox) * c + ch] = activate(s, node.act, ch);
          }
        }
      }
      return out;
    }
    case 'fc': {
      const x = get(node.input);
      const k = x.length;
      for (let n = 0; n < oc; n++) {
        let s = node.bias[n];
        for (let i = 0; i < k; i++) s += x[i] * node.weights[n * k + i];
        out[n] = activate(s, node.act, n);
      }
      return out;
    }
    case 'add': {
      const a = get(node.inputs[0]), b = get(node.inputs[1]);
      for (let i = 0; i < out.length; i++) out[i] = activate(a[i] + b[i], node.act, i % oc);
      return out;
    }
    case 'channel_mul': {
      const x = get(node.input), s = get(node.scale);
      for (let i = 0; i < out.length; i++) out[i] = x[i] * s[i % oc];
      return out;
    }
    case 'sigmoid': case 'relu': case 'relu6': case 'prelu': {
      const x = get(node.input);
      const act: Activation = node.op === 'sigmoid' ? { kind: 'none' }
        : node.op === 'prelu' ? { kind: 'prelu', slopes: node.slopes! } : { kind: node.op };
      for (let i = 0; i < out.length; i++) out[i] = node.op === 'sigmoid' ? sigmoid(x[i]) : activate(x[i], act, i % oc);
      return out;
    }
    case 'maxpool': case 'avgpool': {
      const x = get(node.input);
      const [h, w, c] = shapeOf(node.input);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          for (let ch = 0; ch < c; ch++) {
            let best = -Infinity, sum = 0, taps = 0;
            for (let ky = 0; ky < node.kh; ky++) {
              const iy = oy * node.strideH - node.padTop + ky;
              for (let kx = 0; kx < node.kw; kx++) {
                const ix = ox * node.strideW - node.padLeft + kx;
                const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                if (inside) {
                  const v = x[(iy * w + ix) * c + ch];
                  if (v > best) best = v;
                  sum += v; taps++;
                } else if (node.countIncludePad) {
                  taps++; // a padded tap is a zero that still counts in the divisor
                }
              }
            }
            out[(oy * ow + ox) * c + ch] = node.op === 'maxpool' ? best : sum / taps;
          }
        }
      }
      return out;
    }
    case 'global_avgpool': {
      const x = get(node.input);
      const [h, w, c] = shapeOf(node.input);
      const sum = new Float64Array(c);
      for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) sum[ch] += x[p * c + ch];
      for (let ch = 0; ch < c; ch++) out[ch] = sum[ch] / (h * w);
      return out;
    }
    case 'concat': {
      const parts = node.inputs.map((t) => ({ x: get(t), c: shapeOf(t)[2] }));
      for (let p = 0; p < oh * ow; p++) {
        let o = p * oc;
        for (const part of parts) for (let ch = 0; ch < part.c; ch++) out[o++] = part.x[p * part.c + ch];
      }
      return out;
    }
    case 'pad': {
      const x = get(node.input);
      const [h, w, c] = shapeOf(node.input);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) out[(y * ow + xx) * oc + ch] = x[(y * w + xx) * c + ch];
      return out;
    }
    case 'upsample_nearest': {
      const x = get(node.input);
      const [, w, c] = shapeOf(node.input);
      const f = node.factor;
      for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let ch = 0; ch < c; ch++) {
        out[(y * ow + xx) * c + ch] = x[(Math.floor(y / f) * w + Math.floor(xx / f)) * c + ch];
      }
      return out;
    }
    case 'softmax': {
      const x = get(node.input);
      let max = -Infinity;
      for (const v of x) if (v > max) max = v;
      let sum = 0;
      const e = Array.from(x, (v) => { const t = Math.exp(v - max); sum += t; return t; });
      for (let i = 0; i < oc; i++) out[i] = e[i] / sum;
      return out;
    }
  }
}

/**
 * Converts packed 8-bit pixels (RGB, or RGBA whose alpha is ignored; channels inferred from the
 * length) into the network's HWC float input: channel order per `spec.colorOrder`, then
 * (pixel - mean[c]) * scale[c] with c the network channel.
 */
export function preprocess(pixels: Uint8Array, width: number, height: number, spec: InputSpec): Float32Array {
  const n = width * height;
  const stride = pixels.length === n * 3 ? 3 : pixels.length === n * 4 ? 4 : 0;
  if (!stride || n === 0) throw new Error(`preprocess: ${pixels.length} bytes is neither RGB nor RGBA for ${width}x${height}`);
  if (spec.shape[2] !== 3) throw new Error(`preprocess: network takes ${spec.shape[2]} channels, not 3`);
  const source = spec.colorOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = (pixels[p * stride + source[c]] - spec.mean[c]) * spec.scale[c];
  }
  return out;
}
