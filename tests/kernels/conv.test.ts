// conv2d, depthwise conv2d and fully connected: every build against the integer reference
// (bit-exact), against the float64 reference (within 1 LSB), and against each other, on seeded
// random shapes including the awkward ones (channels 1, 3, 17, 31; width 1; stride 2 with odd
// sizes; padding on every edge; 7-bit inputs that take the relaxed dot product).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuilds, rng } from '../helpers/builds.js';
import { convAcc, dwAcc, requantInt, requantReal, firstDiff, type Window } from '../helpers/reference.js';
import { quantizeMultipliers } from '../../js/quant.js';
import { outSize, type Conv2dParams } from '../../js/kernels.js';

const builds = await loadBuilds();
const CASES = Number(process.env.WASMFACE_CASES ?? 60);
const AWKWARD_C = [1, 3, 8, 16, 17, 31, 32, 48, 64];

function randomQuant(r: ReturnType<typeof rng>, oc: number, k: number, prelu: boolean) {
  // scales that put typical accumulators (~sqrt(k) * 64 * 64) around +-64 LSB of the output
  const base = 64 / (Math.sqrt(k) * 64 * 64);
  const scale = Float64Array.from({ length: oc }, () => base * (0.25 + r.next() * 2));
  const scaleNeg = prelu ? Float64Array.from(scale, (s) => s * (r.next() * 1.5 - 0.5)) : scale.slice();
  const q = quantizeMultipliers(scale, scaleNeg);
  const zpIn = r.int(-128, 127), zpOut = r.int(-20, 20);
  const relu = r.next() < 0.3;
  return { scale, scaleNeg, q, zpIn, zpOut, qmin: relu ? zpOut : -128, qmax: r.next() < 0.2 ? 100 : 127 };
}

function describe(o: object) { return JSON.stringify(o); }

for (const b of builds) {
  test(`conv2d matches the integer and float64 references [${b.backend}]`, { skip: b.skip }, () => {
    const k = b.kernels!;
    const r = rng(1001);
    for (let t = 0; t < CASES; t++) {
      const kh = r.pick([1, 1, 3, 3, 5, 7]), kw = r.next() < 0.8 ? kh : r.pick([1, 3]);
      const sh = r.pick([1, 2]), sw = r.next() < 0.8 ? sh : r.pick([1, 2]);
      const h = r.int(Math.max(1, kh - 2), 19), w = r.next() < 0.15 ? 1 : r.int(Math.max(1, kw - 2), 19);
      const c = r.next() < 0.6 ? r.pick(AWKWARD_C) : r.int(1, 40), oc = r.pick([1, 3, 4, 5, 8, 17, 32]);
      const pt = r.int(0, kh - 1), pb = r.int(0, kh - 1), pl = r.int(0, kw - 1), pr = r.int(0, kw - 1);
      if (h + pt + pb < kh || w + pl + pr < kw) { t--; continue; }
      const oh = outSize(h, kh, sh, pt, pb), ow = outSize(w, kw, sw, pl, pr);
      const u7 = r.next() < 0.4;
      const qp = randomQuant(r, oc, kh * kw * c, r.next() < 0.5);
      const zpIn = u7 ? r.int(0, 127) : qp.zpIn;
      const x = u7 ? r.i8(h * w * c, 0, 127) : r.i8(h * w * c);
      const wts = r.i8(oc * kh * kw * c, -127, 127);
      const bias = r.next() < 0.8 ? Int32Array.from({ length: oc }, () => r.int(-5000, 5000)) : null;
      const p: Conv2dParams = { h, w, c, oc, kh, kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
        shift: qp.q.shift, mult: qp.q.mult, multNeg: qp.q.multNeg, zpIn, zpOut: qp.zpOut, qmin: qp.qmin, qmax: qp.qmax, u7 };
      const got = k.conv2d(x, wts, bias, p);
      const g: Window = { h, w, c, kh, kw, sh, sw, pt, pl, oh, ow };
      const acc = convAcc(x, wts, bias, oc, g, zpIn);
      const exact = requantInt(acc, oc, qp.q.mult, qp.q.multNeg, qp.q.shift, qp.zpOut, qp.qmin, qp.qmax);
      const real = requantReal(acc, oc, qp.scale, qp.scaleNeg, qp.zpOut, qp.qmin, qp.qmax);
      const ctx = describe({ case: t, h, w, c, oc, kh, kw, sh, sw, pt, pb, pl, pr, u7, shift: qp.q.shift });
      assert.equal(firstDiff(got, exact), -1, `differs from integer reference: ${ctx}`);
      assert.equal(firstDiff(got, real, 1), -1, `more than 1 LSB from float64 reference: ${ctx}`);
    }
  });

  test(`depthwise conv2d matches the integer and float64 references [${b.backend}]`, { skip: b.skip }, () => {
    const k = b.kernels!;
    const r = rng(2002);
    for (let t = 0; t < CASES; t++) {
      const kh = r.pick([3, 3, 3, 5, 1, 7]), kw = r.next() < 0.85 ? kh : r.pick([1, 3]);
      const sh = r.pick([1, 2]), sw = r.next() < 0.85 ? sh : r.pick([1, 2]);
      const h = r.int(1, 17), w = r.next() < 0.15 ? 1 : r.int(1, 17);
      const c = r.next() < 0.6 ? r.pick(AWKWARD_C) : r.int(1, 70);
      const pt = r.int(0, kh - 1), pb = r.int(0, kh - 1), pl = r.int(0, kw - 1), pr = r.int(0, kw - 1);
      if (h + pt + pb < kh || w + pl + pr < kw) { t--; continue; }
      const oh = outSize(h, kh, sh, pt, pb), ow = outSize(w, kw, sw, pl, pr);
      const qp = randomQuant(r, c, kh * kw, r.next() < 0.5);
      const x = r.i8(h * w * c), wts = r.i8(kh * kw * c, -127, 127);
      const bias = r.next() < 0.8 ? Int32Array.from({ length: c }, () => r.int(-3000, 3000)) : null;
      const got = k.depthwiseConv2d(x, wts, bias, { h, w, c, kh, kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
        shift: qp.q.shift, mult: qp.q.mult, multNeg: qp.q.multNeg, zpIn: qp.zpIn, zpOut: qp.zpOut, qmin: qp.qmin, qmax: qp.qmax });
      const g: Window = { h, w, c, kh, kw, sh, sw, pt, pl, oh, ow };
      const acc = dwAcc(x, wts, bias, g, qp.zpIn);
      const ctx = describe({ case: t, h, w, c, kh, kw, sh, sw, pt, pb, pl, pr });
      assert.equal(firstDiff(got, requantInt(acc, c, qp.q.mult, qp.q.multNeg, qp.q.shift, qp.zpOut, qp.qmin, qp.qmax)), -1, `differs from integer reference: ${ctx}`);
      assert.equal(firstDiff(got, requantReal(acc, c, qp.scale, qp.scaleNeg, qp.zpOut, qp.qmin, qp.qmax), 1), -1, `more than 1 LSB from float64: ${ctx}`);
    }
  });

  test(`depthwise conv2d at the extremes of int8 (products summed in i16 pairs stay exact); a -128 weight is refused [${b.backend}]`, { skip: b.skip }, () => {
    const k = b.kernels!;
    const r = rng(2003);
    for (const [xv, wv] of [[-128, -127], [-128, 127], [127, 127], [127, -127]]) {
      for (const [kh, s, c] of [[3, 1, 16], [3, 2, 24], [5, 1, 9], [1, 1, 8]] as const) {
        const h = 7, w = 9, zpIn = r.pick([0, xv, -xv >> 1]);
        const qp = randomQuant(r, c, kh * kh, false);
        const x = new Int8Array(h * w * c).fill(xv), wts = new Int8Array(kh * kh * c).fill(wv);
        const pad = (kh - 1) >> 1;
        const p = { h, w, c, kh, kw: kh, strideH: s, strideW: s, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad,
          shift: qp.q.shift, mult: qp.q.mult, multNeg: qp.q.multNeg, zpIn, zpOut: qp.zpOut, qmin: qp.qmin, qmax: qp.qmax };
        const got = k.depthwiseConv2d(x, wts, null, p);
        const oh = outSize(h, kh, s, pad, pad), ow = outSize(w, kh, s, pad, pad);
        const acc = dwAcc(x, wts, null, { h, w, c, kh, kw: kh, sh: s, sw: s, pt: pad, pl: pad, oh, ow }, zpIn);
        assert.equal(firstDiff(got, requantInt(acc, c, qp.q.mult, qp.q.multNeg, qp.q.shift, qp.zpOut, qp.qmin, qp.qmax)), -1,
          `x ${xv}, w ${wv}, ${kh}x${kh}/${s}, c ${c}`);
        const bad = wts.slice(); bad[bad.length - 1] = -128;
        assert.throws(() => k.depthwiseConv2d(x, bad, null, p), /depthwiseConv2d pack/);
      }
    }
  });

  test(`fully connected matches the integer reference [${b.backend}]`, { skip: b.skip }, () => {
    const k = b.kernels!;
    const r = rng(3003);
    for (let t = 0; t < CASES; t++) {
      const m = r.pick([1, 2, 3, 7]), kk = r.pick([1, 15, 16, 17, 100, 256, 300]), n = r.pick([1, 2, 4, 5, 128, 131]);
      const u7 = r.next() < 0.5;
      const qp = randomQuant(r, n, kk, r.next() < 0.3);
      const zpIn = u7 ? r.int(0, 127) : qp.zpIn;
      const x = u7 ? r.i8(m * kk, 0, 127) : r.i8(m * kk);
      const wts = r.i8(n * kk, -127, 127);
      const bias = Int32Array.from({ length: n }, () => r.int(-5000, 5000));
      const got = k.fullyConnected(x, wts, bias, { m, k: kk, n, shift: qp.q.shift, mult: qp.q.mult, multNeg: qp.q.multNeg,
        zpIn, zpOut: qp.zpOut, qmin: qp.qmin, qmax: qp.qmax, u7 });
      const g: Window = { h: m, w: 1, c: kk, kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0, oh: m, ow: 1 };
      const acc = convAcc(x, wts, bias, n, g, zpIn);
      assert.equal(firstDiff(got, requantInt(acc, n, qp.q.mult, qp.q.multNeg, qp.q.shift, qp.zpOut, qp.qmin, qp.qmax)), -1,
        `differs from integer reference: ${describe({ case: t, m, k: kk, n, u7 })}`);
    }
  });
}

test('all builds produce identical bytes on the same random conv', async () => {
  const ran = builds.filter((b) => b.kernels);
  assert.ok(ran.length >= 2, 'need at least the scalar and simd builds');
  const r = rng(4004);
  for (let t = 0; t < 20; t++) {
    const c = r.pick(AWKWARD_C), oc = r.pick([3, 16, 33]), h = r.int(3, 12), w = r.int(1, 12);
    const qp = randomQuant(r, oc, 9 * c, true);
    const x = r.i8(h * w * c, 0, 127), wts = r.i8(oc * 9 * c, -127, 127);
    const p: Conv2dParams = { h, w, c, oc, kh: 3, kw: 3, strideH: 1 + (t & 1), strideW: 1 + (t & 1), padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
      shift: qp.q.shift, mult: qp.q.mult, multNeg: qp.q.multNeg, zpIn: 5, zpOut: qp.zpOut, qmin: qp.qmin, qmax: qp.qmax, u7: true };
    const outs = ran.map((b) => b.kernels!.conv2d(x, wts, null, p));
    for (let i = 1; i < outs.length; i++) assert.deepEqual(outs[i], outs[0], `${ran[i].backend} differs from ${ran[0].backend}`);
  }
});
