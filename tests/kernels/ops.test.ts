// Element-wise, pooling, layout, image and tensor kernels: every build against plain JS references
// (exact for integer ops; within 1 LSB of float64 for requantised ones), on seeded random shapes
// with channel counts that are and are not multiples of 16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuilds, rng } from '../helpers/builds.js';
import { firstDiff } from '../helpers/reference.js';
import { quantizeMultipliers, requantRef, SHIFT_MIN_WIDE } from '../../js/quant.js';
import { outSize } from '../../js/kernels.js';

const builds = await loadBuilds();
const CHANNELS = [1, 3, 15, 16, 17, 31, 32, 64, 70];
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

for (const b of builds) {
  const skip = b.skip;
  const k = () => b.kernels!;

  test(`add with two input scales [${b.backend}]`, { skip }, () => {
    const r = rng(11);
    for (let t = 0; t < 40; t++) {
      const n = r.pick([1, 15, 16, 17, 100, 1000]);
      const sa = 0.01 + r.next() * 0.1, sb = 0.01 + r.next() * 0.1, so = 0.02 + r.next() * 0.2;
      // multipliers as the converter derives them: max(|ma|,|mb|) in [2^19, 2^20]
      let shift = 1;
      while (Math.max(sa, sb) / so * 2 ** (shift + 1) <= 2 ** 20 && shift < 31) shift++;
      const ma = Math.round(sa / so * 2 ** shift), mb = Math.round(sb / so * 2 ** shift);
      const za = r.int(-128, 127), zb = r.int(-128, 127), zpOut = r.int(-50, 50), qmin = r.next() < 0.5 ? zpOut : -128;
      const a = r.i8(n), bb = r.i8(n);
      const got = k().add(a, bb, { za, ma, zb, mb, shift, zpOut, qmin, qmax: 127 });
      const exact = Int8Array.from(a, (x, i) => clamp(((x - za) * ma + (bb[i] - zb) * mb + 2 ** (shift - 1)) / 2 ** shift, -1e9, 1e9));
      for (let i = 0; i < n; i++) exact[i] = clamp(Math.floor(((a[i] - za) * ma + (bb[i] - zb) * mb + 2 ** (shift - 1)) / 2 ** shift) + zpOut, qmin, 127);
      const real = Int8Array.from(a, (x, i) => clamp(Math.round(((x - za) * sa + (bb[i] - zb) * sb) / so) + zpOut, qmin, 127));
      assert.equal(firstDiff(got, exact), -1, `exact, case ${t} n=${n}`);
      assert.equal(firstDiff(got, real, 1), -1, `float64, case ${t} n=${n}`);
    }
  });

  test(`channel multiply (squeeze-excitation) [${b.backend}]`, { skip }, () => {
    const r = rng(12);
    for (let t = 0; t < 30; t++) {
      const c = r.pick(CHANNELS), pixels = r.pick([1, 2, 9, 25]);
      const x = r.i8(pixels * c), sc = r.i8(c);
      const zx = r.int(-128, 127), zs = -128, zpOut = r.int(-10, 10);
      const real = 1 / 256 * (0.5 + r.next());
      const q = quantizeMultipliers([real]);
      const got = k().channelMul(x, sc, { zx, zs, mult: q.mult[0], shift: q.shift, zpOut });
      const want = Int8Array.from(x, (v, i) => requantRef((v - zx) * (sc[i % c] - zs), q.mult[0], q.shift, zpOut, -128, 127));
      assert.equal(firstDiff(got, want), -1, `case ${t} c=${c}`);
    }
  });

  test(`lookup table [${b.backend}]`, { skip }, () => {
    const r = rng(13);
    const table = r.i8(256);
    for (const n of [1, 15, 16, 17, 255, 256, 1000]) {
      const x = r.i8(n);
      assert.deepEqual(k().lut(x, table), Int8Array.from(x, (v) => table[v + 128]), `n=${n}`);
    }
  });

  test(`max pool and average pool [${b.backend}]`, { skip }, () => {
    const r = rng(14);
    for (let t = 0; t < 40; t++) {
      const kh = r.pick([2, 3]), kw = kh, s = r.pick([1, 2]);
      const h = r.int(1, 12), w = r.next() < 0.2 ? 1 : r.int(1, 12), c = r.pick(CHANNELS);
      const pt = r.int(0, kh - 1), pl = r.int(0, kw - 1), pb = r.int(0, kh - 1), pr = r.int(0, kw - 1);
      if (h + pt + pb < kh || w + pl + pr < kw) { t--; continue; }
      const oh = outSize(h, kh, s, pt, pb), ow = outSize(w, kw, s, pl, pr);
      const x = r.i8(h * w * c);
      const win = { h, w, c, kh, kw, strideH: s, strideW: s, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr };
      const taps = (oy: number, ox: number, ch: number) => {
        const v: number[] = [];
        for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
          const iy = oy * s - pt + ky, ix = ox * s - pl + kx;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) v.push(x[(iy * w + ix) * c + ch]);
        }
        return v;
      };
      const maxWant = new Int8Array(oh * ow * c), avgWant = new Int8Array(oh * ow * c), avgReal = new Int8Array(oh * ow * c);
      const zpIn = r.int(-128, 127), zpOut = r.int(-20, 20), sIn = 0.05, sOut = 0.05 * (0.5 + r.next());
      const realScales = Array.from({ length: kh * kw + 1 }, (_, n) => (n === 0 ? 0 : sIn / (sOut * n)));
      const q = quantizeMultipliers(realScales, undefined, SHIFT_MIN_WIDE);
      for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
        const v = taps(oy, ox, ch), i = (oy * ow + ox) * c + ch;
        maxWant[i] = v.length ? Math.max(...v) : -128;
        const sum = v.reduce((a, q0) => a + q0 - zpIn, 0);
        avgWant[i] = v.length ? requantRef(sum, q.mult[v.length], q.shift, zpOut, -128, 127) : zpOut;
        avgReal[i] = v.length ? clamp(Math.round(sum * realScales[v.length]) + zpOut, -128, 127) : zpOut;
      }
      const ctx = JSON.stringify({ t, ...win });
      assert.equal(firstDiff(k().maxPool(x, win), maxWant), -1, `maxPool ${ctx}`);
      const avg = k().avgPool(x, { ...win, mults: q.mult, shift: q.shift, zpIn, zpOut });
      assert.equal(firstDiff(avg, avgWant), -1, `avgPool exact ${ctx}`);
      assert.equal(firstDiff(avg, avgReal, 1), -1, `avgPool float64 ${ctx}`);
    }
  });

  test(`global average pool [${b.backend}]`, { skip }, () => {
    const r = rng(15);
    for (const [pixels, c] of [[1, 3], [25, 17], [49, 64], [5625, 32], [4, 256]]) {
      const x = r.i8(pixels * c), zpIn = r.int(-128, 127), zpOut = 3;
      const q = quantizeMultipliers([1 / pixels * 0.9], undefined, SHIFT_MIN_WIDE);
      const got = k().globalAvgPool(x, c, { mult: q.mult[0], shift: q.shift, zpIn, zpOut });
      const want = new Int8Array(c), exact = new Int8Array(c);
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let p = 0; p < pixels; p++) sum += x[p * c + ch] - zpIn;
        want[ch] = clamp(Math.round(sum * 0.9 / pixels) + zpOut, -128, 127);
        exact[ch] = requantRef(sum, q.mult[0], q.shift, zpOut, -128, 127);
      }
      assert.equal(firstDiff(got, exact), -1, `exact: pixels=${pixels} c=${c}`);
      assert.equal(firstDiff(got, want, 1), -1, `float64: pixels=${pixels} c=${c}`);
      assert.ok(got.some((v, i) => v !== zpOut), 'not all zero point');
    }
  });

  test(`concat, zero padding and nearest upsampling [${b.backend}]`, { skip }, () => {
    const r = rng(16);
    const h = 3, w = 5, a = r.i8(h * w * 3), bb = r.i8(h * w * 17);
    const cat = k().concat([{ data: a, c: 3 }, { data: bb, c: 17 }]);
    for (let p = 0; p < h * w; p++) {
      assert.deepEqual(cat.subarray(p * 20, p * 20 + 3), a.subarray(p * 3, p * 3 + 3));
      assert.deepEqual(cat.subarray(p * 20 + 3, p * 20 + 20), bb.subarray(p * 17, p * 17 + 17));
    }
    const padded = k().padZero(a, h, w, 3, { channels: 2, bottom: 1, right: 1 }, -7);
    for (let y = 0; y <= h; y++) for (let x = 0; x <= w; x++) for (let ch = 0; ch < 5; ch++) {
      const want = y < h && x < w && ch < 3 ? a[(y * w + x) * 3 + ch] : -7;
      assert.equal(padded[(y * (w + 1) + x) * 5 + ch], want, `pad y=${y} x=${x} ch=${ch}`);
    }
    const up = k().upsampleNearest(bb, h, w, 17, 2);
    for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) {
      assert.deepEqual(up.subarray((y * 2 * w + x) * 17, (y * 2 * w + x + 1) * 17), bb.subarray(((y >> 1) * w + (x >> 1)) * 17, ((y >> 1) * w + (x >> 1) + 1) * 17));
    }
  });

  test(`pixel formats to RGB [${b.backend}]`, { skip }, () => {
    const r = rng(17);
    const w = 5, h = 3; // odd sizes: chroma planes are ceil(w/2) x ceil(h/2)
    const rgba = Uint8Array.from({ length: w * h * 4 }, () => r.int(0, 255));
    const rgb = k().toRgb(rgba, 'rgba', w, h);
    for (let i = 0; i < w * h; i++) assert.deepEqual([...rgb.subarray(i * 3, i * 3 + 3)], [...rgba.subarray(i * 4, i * 4 + 3)]);
    const bgra = k().toRgb(rgba, 'bgra', w, h);
    for (let i = 0; i < w * h; i++) assert.deepEqual([...bgra.subarray(i * 3, i * 3 + 3)], [rgba[i * 4 + 2], rgba[i * 4 + 1], rgba[i * 4]]);
    const gray = Uint8Array.from({ length: w * h }, () => r.int(0, 255));
    const g3 = k().toRgb(gray, 'gray', w, h);
    for (let i = 0; i < w * h; i++) assert.deepEqual([...g3.subarray(i * 3, i * 3 + 3)], [gray[i], gray[i], gray[i]]);
    // YUV: float64 BT.601 full range within 1 (the kernel uses Q16 coefficients)
    const cw = 3, ch = 2;
    const Y = Uint8Array.from({ length: w * h }, () => r.int(0, 255));
    const U = Uint8Array.from({ length: cw * ch }, () => r.int(0, 255)), V = Uint8Array.from({ length: cw * ch }, () => r.int(0, 255));
    const i420 = new Uint8Array([...Y, ...U, ...V]);
    const nv21 = new Uint8Array(w * h + 2 * cw * ch), nv12 = new Uint8Array(w * h + 2 * cw * ch);
    nv21.set(Y); nv12.set(Y);
    for (let i = 0; i < cw * ch; i++) { nv21[w * h + 2 * i] = V[i]; nv21[w * h + 2 * i + 1] = U[i]; nv12[w * h + 2 * i] = U[i]; nv12[w * h + 2 * i + 1] = V[i]; }
    const outs = [k().toRgb(i420, 'i420', w, h), k().toRgb(nv21, 'nv21', w, h), k().toRgb(nv12, 'nv12', w, h)];
    assert.deepEqual(outs[1], outs[0]);
    assert.deepEqual(outs[2], outs[0]);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const c = (y >> 1) * cw + (x >> 1), yy = Y[y * w + x], u = U[c] - 128, v = V[c] - 128;
      const want = [yy + 1.402 * v, yy - 0.344136 * u - 0.714136 * v, yy + 1.772 * u].map((q) => clamp(Math.round(q), 0, 255));
      const got = [...outs[0].subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(got[j] - want[j]) <= 1, `yuv pixel ${x},${y}: ${got} vs ${want}`);
    }
  });

  test(`bilinear resize, halving and affine warp [${b.backend}]`, { skip }, () => {
    const r = rng(18);
    const sw = 13, sh = 9, c = 3;
    const src = Uint8Array.from({ length: sw * sh * c }, () => r.int(0, 255));
    const at = (x: number, y: number, ch: number) => src[(y * sw + x) * c + ch];
    // float64 bilinear with the same half-pixel convention, within 1
    for (const [dw, dh] of [[7, 5], [26, 18], [13, 9], [1, 1]]) {
      const got = k().resizeBilinear(src, sw, sh, c, dw, dh);
      for (let y = 0; y < dh; y++) for (let x = 0; x < dw; x++) for (let ch = 0; ch < c; ch++) {
        const fx = Math.min(Math.max((x + 0.5) * sw / dw - 0.5, 0), sw - 1), fy = Math.min(Math.max((y + 0.5) * sh / dh - 0.5, 0), sh - 1);
        const x0 = Math.floor(fx), y0 = Math.floor(fy), x1 = Math.min(x0 + 1, sw - 1), y1 = Math.min(y0 + 1, sh - 1);
        const ax = fx - x0, ay = fy - y0;
        const want = (at(x0, y0, ch) * (1 - ax) + at(x1, y0, ch) * ax) * (1 - ay) + (at(x0, y1, ch) * (1 - ax) + at(x1, y1, ch) * ax) * ay;
        assert.ok(Math.abs(got[(y * dw + x) * c + ch] - want) <= 1, `resize ${dw}x${dh} at ${x},${y},${ch}: ${got[(y * dw + x) * c + ch]} vs ${want}`);
      }
    }
    const half = k().halve(src, sw, sh, c);
    assert.equal(half.length, 6 * 4 * 3);
    assert.equal(half[0], Math.floor((at(0, 0, 0) + at(1, 0, 0) + at(0, 1, 0) + at(1, 1, 0) + 2) / 4));
    // identity warp reproduces the image; a 1-pixel shift moves it; outside is the border value
    assert.deepEqual(k().warpAffine(src, sw, sh, c, sw, sh, [1, 0, 0, 0, 1, 0]), src);
    const shifted = k().warpAffine(src, sw, sh, c, sw, sh, [1, 0, 1, 0, 1, 0], 9);
    for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
      const want = x + 1 < sw ? at(x + 1, y, 0) : 9;
      assert.equal(shifted[(y * sw + x) * c], want, `shift at ${x},${y}`);
    }
    // rotation by 90 degrees about the origin then translated: exact on integer grid
    const rot = k().warpAffine(src, sw, sh, c, sh, sw, [0, 1, 0, -1, 0, sh - 1]);
    for (let y = 0; y < sw; y++) for (let x = 0; x < sh; x++) assert.equal(rot[(y * sh + x) * c], at(y, sh - 1 - x, 0));
  });

  test(`image quantisation, dequantisation and L2 normalisation [${b.backend}]`, { skip }, () => {
    const r = rng(19);
    const rgb = Uint8Array.from({ length: 10 * 3 }, () => r.int(0, 255));
    const table = r.i8(768);
    const q = k().quantizeImage(rgb, table, [2, 1, 0]);
    for (let p = 0; p < 10; p++) for (let j = 0; j < 3; j++) assert.equal(q[p * 3 + j], table[j * 256 + rgb[p * 3 + 2 - j]]);
    const x = r.i8(37);
    const f = k().dequantize(x, -3, 0.125);
    for (let i = 0; i < 37; i++) assert.equal(f[i], (x[i] + 3) * 0.125);
    const v = Float32Array.from({ length: 128 }, () => r.next() - 0.5);
    const { vector, norm } = k().l2Normalize(v);
    const want = Math.sqrt(v.reduce((s, q0) => s + q0 * q0, 0));
    assert.ok(Math.abs(norm - want) < 1e-12);
    for (let i = 0; i < 128; i++) assert.equal(vector[i], Math.fround(v[i] / want));
    assert.throws(() => k().l2Normalize(new Float32Array(8)), /E_NAN|NaN/);
    assert.throws(() => k().l2Normalize(Float32Array.from([1, NaN])), /E_NAN|NaN/);
  });
}
