// Plain integer reference executor of a .wfm model: the semantics the wasm graph runner must match
// bit for bit. Written from the op definitions (assembly/graph/format.ts, assembly/core/requant.ts,
// assembly/kernels/*.ts), not from the converter, and kept simple: scalar loops over typed arrays.
//
// requant(acc, m, s, zp, qmin, qmax) = clamp(floor((acc*m + 2^(s-1)) / 2^s) + zp, qmin, qmax), exact.
// acc*m can reach 2^62, beyond float64's 53 bits, so it is split (see requant below); every other
// sum here stays far below 2^53 and is exact in plain JS numbers.
import * as F from '../../assembly/graph/format.js';
import { opOutputShape, type WfmModel, type WfmOp, type WfmTensor } from './wfm.js';

/** An int8 activation, HWC. */
export interface QTensor { h: number; w: number; c: number; data: Int8Array }

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/**
 * Exact requantisation for shifts 17..62 without BigInt: with m = mh*2^16 + ml (0 <= ml < 2^16),
 * acc*m = (acc*mh + floor(acc*ml / 2^16)) * 2^16 + r, 0 <= r < 2^16; both partial products are
 * below 2^47, and since 2^(s-1) is a multiple of 2^16 the remainder r cannot carry into the floor:
 * floor((acc*m + 2^(s-1)) / 2^s) = floor((acc*mh + floor(acc*ml/2^16) + 2^(s-17)) / 2^(s-16)).
 */
export function requant(acc: number, m: number, s: number, zp: number, qmin: number, qmax: number): number {
  if (s < 17 || s > 62) throw new Error(`requant: shift ${s} outside 17..62`);
  const ml = m & 0xffff;
  const mh = (m - ml) / 65536;
  const a = acc * mh + Math.floor((acc * ml) / 65536);
  const y = Math.floor((a + POW2[s - 17]) / POW2[s - 16]) + zp;
  return y < qmin ? qmin : y > qmax ? qmax : y;
}

function shapeOk(t: QTensor, what: string) {
  if (t.data.length !== t.h * t.w * t.c) throw new Error(`${what}: ${t.data.length} values for ${t.h}x${t.w}x${t.c}`);
}

/** x - zp as Int16 (so padding taps, left at 0, contribute nothing). */
function centred(x: QTensor, zp: number): Int16Array {
  const out = new Int16Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] - zp;
  return out;
}

/**
 * Runs one op. `inputs` are the op's input tensors, `records` the model's tensor table (zero
 * points, scales, output channel counts).
 */
export function runOp(op: WfmOp, inputs: QTensor[], records: WfmTensor[]): QTensor {
  const p = op.params;
  inputs.forEach((t, i) => shapeOk(t, `op input ${i}`));
  const inRec = records[op.inputs[0]], outRec = records[op.output];
  const [oh, ow, oc] = opOutputShape(op, inputs.map((t) => [t.h, t.w, t.c]), outRec.c);
  if (oh < 1 || ow < 1) throw new Error(`op ${op.name ?? op.type}: input ${inputs[0].h}x${inputs[0].w} gives an empty output`);
  const out: QTensor = { h: oh, w: ow, c: oc, data: new Int8Array(oh * ow * oc) };
  const o = out.data;
  const x = inputs[0];
  const { h, w, c } = x;
  const shift = p[F.P_SHIFT], qmin = p[F.P_QMIN], qmax = p[F.P_QMAX], zpOut = outRec.zp;
  const kh = p[F.P_KH], kw = p[F.P_KW], sh = p[F.P_SH], sw = p[F.P_SW], pt = p[F.P_PAD_TOP], pl = p[F.P_PAD_LEFT];

  switch (op.type) {
    case F.OP_CONV2D: {
      const xs = centred(x, inRec.zp);
      const wt = op.weights!, bias = op.bias!, mult = op.mult!, multNeg = op.multNeg ?? mult;
      const K = kh * kw * c;
      if (wt.length !== oc * K) throw new Error('conv2d: weight count');
      const patch = new Int16Array(K);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          patch.fill(0);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              patch.set(xs.subarray((iy * w + ix) * c, (iy * w + ix + 1) * c), (ky * kw + kx) * c);
            }
          }
          const base = (oy * ow + ox) * oc;
          for (let oo = 0; oo < oc; oo++) {
            let acc = bias[oo];
            const wb = oo * K;
            for (let k = 0; k < K; k++) acc += patch[k] * wt[wb + k];
            o[base + oo] = requant(acc, acc < 0 ? multNeg[oo] : mult[oo], shift, zpOut, qmin, qmax);
          }
        }
      }
      return out;
    }
    case F.OP_DEPTHWISE: {
      const xs = centred(x, inRec.zp);
      const wt = op.weights!, bias = op.bias!, mult = op.mult!, multNeg = op.multNeg ?? mult;
      const acc = new Float64Array(c);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          acc.set(bias);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx;
              if (ix < 0 || ix >= w) continue;
              const xb = (iy * w + ix) * c, wb = (ky * kw + kx) * c;
              for (let ch = 0; ch < c; ch++) acc[ch] += xs[xb + ch] * wt[wb + ch];
            }
          }
          const base = (oy * ow + ox) * c;
          for (let ch = 0; ch < c; ch++) o[base + ch] = requant(acc[ch], acc[ch] < 0 ? multNeg[ch] : mult[ch], shift, zpOut, qmin, qmax);
        }
      }
      return out;
    }
    case F.OP_FC: {
      const xs = centred(x, inRec.zp);
      const wt = op.weights!, bias = op.bias!, mult = op.mult!, multNeg = op.multNeg ?? mult;
      const k = xs.length;
      for (let n = 0; n < oc; n++) {
        let acc = bias[n];
        for (let i = 0; i < k; i++) acc += xs[i] * wt[n * k + i];
        o[n] = requant(acc, acc < 0 ? multNeg[n] : mult[n], shift, zpOut, qmin, qmax);
      }
      return out;
    }
    case F.OP_ADD: {
      const a = x.data, b = inputs[1].data;
      const za = inRec.zp, zb = records[op.inputs[1]].zp, ma = p[F.P_MA], mb = p[F.P_MB];
      if (shift < 1 || shift > 31) throw new Error(`add: shift ${shift}`);
      const rnd = POW2[shift - 1], div = POW2[shift];
      for (let i = 0; i < o.length; i++) {
        const y = zpOut + Math.floor(((a[i] - za) * ma + (b[i] - zb) * mb + rnd) / div);
        o[i] = y < qmin ? qmin : y > qmax ? qmax : y;
      }
      return out;
    }
    case F.OP_CHANNEL_MUL: {
      const s = inputs[1].data, zs = records[op.inputs[1]].zp, zx = inRec.zp, m = p[F.P_MA];
      for (let px = 0; px < h * w; px++) {
        for (let ch = 0; ch < c; ch++) {
          const i = px * c + ch;
          o[i] = requant((x.data[i] - zx) * (s[ch] - zs), m, shift, zpOut, qmin, qmax);
        }
      }
      return out;
    }
    case F.OP_LUT: {
      const table = op.table!;
      for (let i = 0; i < o.length; i++) o[i] = table[x.data[i] + 128];
      return out;
    }
    case F.OP_MAXPOOL: case F.OP_AVGPOOL: {
      const isMax = op.type === F.OP_MAXPOOL;
      const zpIn = inRec.zp, includePad = p[F.P_COUNT_INCLUDE_PAD] !== 0, mults = op.mults;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          for (let ch = 0; ch < c; ch++) {
            let best = -128, sum = 0, taps = 0;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - pt + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pl + kx;
                if (ix < 0 || ix >= w) continue;
                const v = x.data[(iy * w + ix) * c + ch];
                if (v > best) best = v;
                sum += v - zpIn;
                taps++;
              }
            }
            const i = (oy * ow + ox) * c + ch;
            if (isMax) { o[i] = best; continue; }
            const count = includePad ? kh * kw : taps;
            o[i] = requant(sum, count > 0 ? mults![count] : 0, shift, zpOut, qmin, qmax);
          }
        }
      }
      return out;
    }
    case F.OP_GLOBAL_AVGPOOL: {
      const zpIn = inRec.zp, m = p[F.P_MA];
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let px = 0; px < h * w; px++) sum += x.data[px * c + ch] - zpIn;
        o[ch] = requant(sum, m, shift, zpOut, qmin, qmax);
      }
      return out;
    }
    case F.OP_CONCAT: {
      for (let px = 0; px < oh * ow; px++) {
        let at = px * oc;
        for (const t of inputs) { o.set(t.data.subarray(px * t.c, (px + 1) * t.c), at); at += t.c; }
      }
      return out;
    }
    case F.OP_PAD: {
      o.fill(zpOut);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) o.set(x.data.subarray((y * w + xx) * c, (y * w + xx + 1) * c), (y * ow + xx) * oc);
      return out;
    }
    case F.OP_UPSAMPLE: {
      const f = p[F.P_FACTOR];
      for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
        const src = (Math.floor(y / f) * w + Math.floor(xx / f)) * c;
        o.set(x.data.subarray(src, src + c), (y * ow + xx) * c);
      }
      return out;
    }
    default:
      throw new Error(`unknown op type ${op.type}`);
  }
}

/** Packed RGB (3 bytes per pixel) -> the network's int8 input (channel permutation + lookup table). */
export function quantizeInput(model: WfmModel, rgb: Uint8Array, width: number, height: number): QTensor {
  const n = width * height;
  if (rgb.length !== n * 3) throw new Error(`input: ${rgb.length} bytes for ${width}x${height} RGB`);
  const data = new Int8Array(n * 3);
  const [p0, p1, p2] = model.perm, lut = model.inputLut;
  for (let i = 0; i < n; i++) {
    data[i * 3] = lut[rgb[i * 3 + p0]];
    data[i * 3 + 1] = lut[256 + rgb[i * 3 + p1]];
    data[i * 3 + 2] = lut[512 + rgb[i * 3 + p2]];
  }
  return { h: height, w: width, c: 3, data };
}

export interface Int8Run {
  /** Graph outputs in model.outputs order. */
  outputs: QTensor[];
  /** Every tensor by id (keepAll only). */
  all?: (QTensor | undefined)[];
}

/** Runs the model on an int8 input tensor (for dynamic models any multiple of `dynamic`). */
export function runInt8Tensor(model: WfmModel, input: QTensor, options: { keepAll?: boolean } = {}): Int8Run {
  const rec = model.tensors[model.input];
  if (input.c !== rec.c) throw new Error(`input has ${input.c} channels, model takes ${rec.c}`);
  if (model.dynamic) {
    if (input.h % model.dynamic || input.w % model.dynamic) throw new Error(`input ${input.h}x${input.w} is not a multiple of ${model.dynamic}`);
  } else if (input.h !== rec.h || input.w !== rec.w) {
    throw new Error(`input ${input.h}x${input.w}, model is fixed at ${rec.h}x${rec.w}`);
  }
  const values: (QTensor | undefined)[] = new Array(model.tensors.length);
  values[model.input] = input;
  // free each tensor after its last reader unless everything is kept
  const lastUse = new Map<number, number>();
  model.ops.forEach((op, i) => op.inputs.forEach((t) => lastUse.set(t, i)));
  const keep = new Set(model.outputs);
  model.ops.forEach((op, i) => {
    const ins = op.inputs.map((t) => {
      const v = values[t];
      if (!v) throw new Error(`op ${i}: tensor ${t} is not computed`);
      return v;
    });
    if (values[op.output]) throw new Error(`op ${i}: tensor ${op.output} written twice`);
    values[op.output] = runOp(op, ins, model.tensors);
    if (!options.keepAll) for (const t of op.inputs) if (lastUse.get(t) === i && !keep.has(t)) values[t] = undefined;
  });
  return { outputs: model.outputs.map((t) => values[t]!), all: options.keepAll ? values : undefined };
}

/** Runs the model on packed RGB pixels. */
export function runInt8(model: WfmModel, rgb: Uint8Array, width: number, height: number, options: { keepAll?: boolean } = {}): Int8Run {
  return runInt8Tensor(model, quantizeInput(model, rgb, width, height), options);
}

/** (q - zp) * scale. */
export function dequantize(t: QTensor, rec: Pick<WfmTensor, 'zp' | 'scale'>): Float32Array {
  return Float32Array.from(t.data, (q) => (q - rec.zp) * rec.scale);
}
