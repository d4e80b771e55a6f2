// Every quantised op type, as the quantiser builds it, run by int8-exec and compared with a float64
// evaluation of the same quantised op (dequantised int8 inputs, dequantised int8 weights, real
// scales): within 1 LSB everywhere (the only differences are the integer multipliers' rounding and
// half-up vs nearest rounding); data-movement ops and maxpool are exact. Synthetic graph, random
// inputs: needs nothing from ../shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../assembly/graph/format.js';
import { requantRef } from '../../js/quant.js';
import { runFloat } from '../../tools/convert/float-exec.js';
import { dequantize, requant, runInt8Tensor, type QTensor } from '../../tools/convert/int8-exec.js';
import type { Activation, Graph, Node, Shape } from '../../tools/convert/ir.js';
import { quantizeWeights, type QuantizeOptions } from '../../tools/convert/quantize.js';
import { rng } from '../../tools/convert/calibration.js';
import { build, randomImages } from './helpers.js';

/** Float64 evaluation of one quantised op: real inputs from the int8 ones, real (dequantised) weights. */
function reference(node: Node, ins: Float64Array[], shapes: Record<string, Shape>, inScale: number, op: { bias?: Int32Array }): Float64Array {
  const [oh, ow, oc] = shapes[node.output];
  const out = new Float64Array(oh * ow * oc);
  const act = (v: number, a: Activation, ch: number) => a.kind === 'relu' ? Math.max(v, 0) : a.kind === 'relu6' ? Math.min(Math.max(v, 0), 6) : a.kind === 'prelu' ? (v >= 0 ? v : v * a.slopes[ch]) : v;
  switch (node.op) {
    case 'conv2d': case 'depthwise': {
      const [h, w, c] = shapes[node.input];
      const dw = node.op === 'depthwise';
      const { wq, sw } = quantizeWeights(node.weights, dw ? c : oc, dw);
      for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let o = 0; o < oc; o++) {
        let s = op.bias![o] * inScale * sw[o];
        for (let ky = 0; ky < node.kh; ky++) for (let kx = 0; kx < node.kw; kx++) {
          const iy = oy * node.strideH - node.padTop + ky, ix = ox * node.strideW - node.padLeft + kx;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          if (dw) s += ins[0][(iy * w + ix) * c + o] * wq[(ky * node.kw + kx) * c + o] * sw[o];
          else for (let i = 0; i < c; i++) s += ins[0][(iy * w + ix) * c + i] * wq[((o * node.kh + ky) * node.kw + kx) * c + i] * sw[o];
        }
        out[(oy * ow + ox) * oc + o] = act(s, node.act, o);
      }
      return out;
    }
    case 'fc': {
      const k = ins[0].length;
      const { wq, sw } = quantizeWeights(node.weights, oc, false);
      for (let n = 0; n < oc; n++) {
        let s = op.bias![n] * inScale * sw[n];
        for (let i = 0; i < k; i++) s += ins[0][i] * wq[n * k + i] * sw[n];
        out[n] = act(s, node.act, n);
      }
      return out;
    }
    case 'add': for (let i = 0; i < out.length; i++) out[i] = act(ins[0][i] + ins[1][i], node.act, i % oc); return out;
    case 'channel_mul': for (let i = 0; i < out.length; i++) out[i] = ins[0][i] * ins[1][i % oc]; return out;
    case 'sigmoid': for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-ins[0][i])); return out;
    case 'relu': case 'relu6': case 'prelu': {
      const a: Activation = node.op === 'prelu' ? { kind: 'prelu', slopes: node.slopes! } : { kind: node.op };
      for (let i = 0; i < out.length; i++) out[i] = act(ins[0][i], a, i % oc);
      return out;
    }
    default: {
      // pools and data movement: the float executor on the dequantised inputs (float64 -> float32 is exact
      // for maxpool/concat/pad/upsample values; avgpool sums of a few values lose nothing that matters at 1 LSB)
      const names = node.op === 'concat' ? node.inputs : [(node as { input: string }).input];
      const g: Graph = { id: 'one', input: { name: names[0], shape: shapes[names[0]], colorOrder: 'rgb', mean: [0, 0, 0], scale: [1, 1, 1] }, outputs: [node.output], nodes: [node], tensors: shapes, source: { file: '', sha256: '', licence: '', url: '' } };
      if (node.op === 'concat') {
        // runFloat takes one input: evaluate concat directly
        let at = 0;
        const cs = names.map((t) => shapes[t][2]);
        for (let p = 0; p < oh * ow; p++) names.forEach((_, k) => { for (let ch = 0; ch < cs[k]; ch++) out[at++] = ins[k][p * cs[k] + ch]; });
        return out;
      }
      const r = runFloat(g, Float32Array.from(ins[0]), { h: shapes[names[0]][0], w: shapes[names[0]][1] });
      out.set(r[node.output]);
      return out;
    }
  }
}

for (const options of [{ method: 'minmax' }, { method: 'mse', u7: true }] as QuantizeOptions[]) {
  test(`every quantised op is within 1 LSB of its float64 evaluation (${options.method}${options.u7 ? ', u7' : ''})`, (t) => {
    const { graph, q, model } = build(options);
    const types = new Set(model.ops.map((o) => o.type));
    for (let t = 1; t < F.OP_TYPE_COUNT; t++) assert.ok(types.has(t), `test graph lacks op type ${t}`);
    if (options.u7) assert.ok(model.tensors.some((t) => t.flags & F.TF_U7), 'u7 option flagged no tensor');
    const worst = new Map<string, number>();
    const off = new Map<string, [number, number]>(); // outputs differing at all, outputs
    for (const img of randomImages(4, 3)) {
      const input: QTensor = { h: 12, w: 12, c: 3, data: Int8Array.from(img, (v) => v - 128) };
      const all = runInt8Tensor(model, input, { keepAll: true }).all!;
      graph.nodes.forEach((node, i) => {
        const op = model.ops[i];
        assert.equal(op.name, node.output);
        const ins = op.inputs.map((id) => Float64Array.from(dequantize(all[id]!, model.tensors[id])));
        const outRec = model.tensors[op.output];
        const ref = reference(node, ins, graph.tensors, model.tensors[op.inputs[0]].scale, op);
        const got = all[op.output]!.data;
        const qmin = op.type === F.OP_LUT || op.type === F.OP_MAXPOOL || op.type >= F.OP_CONCAT ? -128 : op.params[F.P_QMIN];
        const qmax = op.type === F.OP_LUT || op.type === F.OP_MAXPOOL || op.type >= F.OP_CONCAT ? 127 : op.params[F.P_QMAX];
        let d = 0, n = 0;
        for (let k = 0; k < got.length; k++) {
          const u = ref[k] / outRec.scale + outRec.zp;
          const q = (v: number) => Math.min(qmax, Math.max(qmin, Math.round(v)));
          const r = q(u);
          d = Math.max(d, Math.abs(r - got[k]));
          // an exact tie (x.5 in LSB units, e.g. an average of 6 integers) may go either way
          if (got[k] !== q(u - 1e-6) && got[k] !== q(u + 1e-6)) n++;
        }
        const key = `${node.op} ${node.output}`;
        const [n0, t0] = off.get(key) ?? [0, 0];
        off.set(key, [n0 + n, t0 + got.length]);
        worst.set(key, Math.max(worst.get(key) ?? 0, d));
      });
    }
    t.diagnostic(`max LSB difference per op: ${[...worst].map(([k, d]) => `${k.split(' ')[1]}=${d}`).join(' ')}`);
    for (const [key, d] of worst) {
      const exact = /^(maxpool|concat|pad|upsample_nearest) /.test(key);
      assert.ok(d <= (exact ? 0 : 1), `${key}: ${d} LSB from the float64 evaluation`);
      // a 1 LSB difference is a rounding tie broken differently, not a systematic offset
      const [n, total] = off.get(key)!;
      assert.ok(n <= Math.max(1, 0.01 * total), `${key}: ${n} of ${total} outputs differ`);
    }
    // U7 promises are kept by construction
    model.tensors.forEach((t, id) => {
      if (!(t.flags & F.TF_U7)) return;
      const producer = model.ops.find((o) => o.output === id)!;
      if (producer.params[F.P_QMIN] !== undefined && [F.OP_CONV2D, F.OP_DEPTHWISE, F.OP_FC, F.OP_ADD, F.OP_AVGPOOL, F.OP_GLOBAL_AVGPOOL, F.OP_CHANNEL_MUL].includes(producer.type)) {
        assert.ok(producer.params[F.P_QMIN] >= 0, `U7 tensor ${t.name} produced with qmin ${producer.params[F.P_QMIN]}`);
      }
    });
    assert.ok(q.layers.length === graph.nodes.length);
  });
}

test('requant is exact against the BigInt reference across the full range', () => {
  const r = rng(99);
  const ints = (lo: number, hi: number) => Math.floor(lo + r() * (hi - lo + 1));
  const edge = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30) - 1, 65535, -65536];
  for (let i = 0; i < 200000; i++) {
    const acc = i < 81 ? edge[i % 9] : ints(-(2 ** 31), 2 ** 31 - 1) >> ints(0, 30);
    const m = i < 81 ? edge[Math.floor(i / 9)] : ints(-(2 ** 31) + 1, 2 ** 31 - 1) >> ints(0, 20);
    const s = ints(20, 62);
    const zp = ints(-128, 127);
    assert.equal(requant(acc, m, s, zp, -128, 127), requantRef(acc, m, s, zp, -128, 127), `acc ${acc} m ${m} shift ${s}`);
  }
});

test('a standalone per-channel PReLU becomes a 1x1 depthwise identity, SE 1x1 convs become fc', () => {
  const { model } = build({ method: 'minmax' });
  const p = model.ops.find((o) => o.name === 'p')!;
  assert.equal(p.type, F.OP_DEPTHWISE);
  assert.ok(p.multNeg, 'PReLU needs negative multipliers');
  assert.equal(model.ops.find((o) => o.name === 'j')!.type, F.OP_FC);
  assert.equal(model.ops.find((o) => o.name === 'b')!.type, F.OP_CONV2D, 'PReLU after a conv fuses');
});
