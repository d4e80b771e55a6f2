// The pipeline steps between the models, against plain JS references: YuNet decoding and NMS,
// the similarity fit and aligned warp, anti-spoofing patch rectangles (a port of upstream's Python),
// crops, softmax and gallery matching; and the same bytes from every build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuilds, rng } from '../helpers/builds.js';
import type { Kernels } from '../../js/kernels.js';

const builds = await loadBuilds();
const ready = builds.filter((b) => b.kernels);
const F32 = (a: ArrayLike<number>) => Float32Array.from(a);

function withBufs<T>(k: Kernels, fn: (put: (d: Float32Array | Uint8Array | Int32Array) => number, alloc: (n: number) => number) => T): T {
  const ptrs: number[] = [];
  try {
    return fn((d) => { const p = k.put(d); ptrs.push(p); return p; }, (n) => { const p = k.alloc(n); ptrs.push(p); return p; });
  } finally { for (const p of ptrs) k.free(p); }
}

// ---- YuNet decode ----
function decodeRef(outs: Float32Array[], W: number, H: number, thr: number, nmsIou: number) {
  type Face = { box: number[]; score: number; lm: number[] };
  const cand: Face[] = [];
  for (let l = 0; l < 3; l++) {
    const s = 8 << l, cols = W / s, rows = H / s;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const cls = Math.min(1, Math.max(0, outs[l][i])), obj = Math.min(1, Math.max(0, outs[3 + l][i]));
      const score = Math.sqrt(cls * obj);
      if (score < thr) continue;
      const b = outs[6 + l].subarray(i * 4), k = outs[9 + l].subarray(i * 10);
      const cx = (c + b[0]) * s, cy = (r + b[1]) * s, w = Math.exp(b[2]) * s, h = Math.exp(b[3]) * s;
      cand.push({ box: [cx - w / 2, cy - h / 2, w, h], score, lm: Array.from({ length: 10 }, (_, n) => (k[n] + (n % 2 ? r : c)) * s) });
    }
  }
  const iou = (a: number[], b: number[]) => {
    const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]), ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    return (iw * ih) / (a[2] * a[3] + b[2] * b[3] - iw * ih);
  };
  const out: Face[] = [];
  const alive = cand.map(() => true);
  for (;;) {
    let best = -1;
    cand.forEach((f, i) => { if (alive[i] && (best < 0 || f.score > cand[best].score)) best = i; });
    if (best < 0) break;
    out.push(cand[best]);
    cand.forEach((f, i) => { if (alive[i] && (i === best || iou(cand[best].box, f.box) > nmsIou)) alive[i] = false; });
  }
  return out;
}

test('YuNet decoding and NMS match a JS reference', () => {
  const k = ready[ready.length - 1].kernels!;
  const r = rng(5);
  const W = 96, H = 64;
  const outs: Float32Array[] = [];
  for (const per of [1, 1, 4, 10]) for (let l = 0; l < 3; l++) {
    const n = (W >> (3 + l)) * (H >> (3 + l)) * per;
    outs.push(Float32Array.from({ length: n }, () => (per === 1 ? r.next() * 1.2 - 0.1 : r.next() * 2 - 1)));
  }
  const ref = decodeRef(outs, W, H, 0.6, 0.3);
  withBufs(k, (put, alloc) => {
    const ptrs = Int32Array.from(outs.map((o) => put(o)));
    const table = put(ptrs), work = alloc(500 * 60), dst = alloc(50 * 60);
    const n = k.wasm.detectDecode(table, W, H, 0.6, 0.3, 1, 0, 0, work, 500, dst, 50, 0);
    assert.equal(n, Math.min(ref.length, 50));
    const got = new Float32Array(k.wasm.memory.buffer, dst, n * 15);
    ref.slice(0, n).forEach((f, i) => {
      const g = got.subarray(i * 15, i * 15 + 15);
      const want = [...f.box, f.score, ...f.lm];
      want.forEach((v, j) => assert.ok(Math.abs(g[j] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `face ${i} value ${j}: ${g[j]} vs ${v}`));
    });
    // a mapping into the caller's frame scales and offsets everything but the score
    const n2 = k.wasm.detectDecode(table, W, H, 0.6, 0.3, 2, 10, 20, work, 500, dst, 50, 0);
    assert.equal(n2, n);
    const g2 = new Float32Array(k.wasm.memory.buffer, dst, 15);
    assert.ok(Math.abs(g2[0] - (ref[0].box[0] * 2 + 10)) < 1e-3 && Math.abs(g2[5] - (ref[0].lm[0] * 2 + 10)) < 1e-3);
    assert.equal(k.wasm.detectDecode(table, 100, 64, 0.6, 0.3, 1, 0, 0, work, 500, dst, 50, 0), -2, 'input size must be a multiple of 32');
  });
});

test('similarity fit recovers a known transform and the aligned warp samples the right place', () => {
  const k = ready[ready.length - 1].kernels!;
  const template = F32([38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041]);
  // landmarks = inverse similarity applied to the template (as if the face were rotated, scaled, moved in the photo)
  const ang = 0.3, sc = 2.5, tx = 140, ty = 60;
  const lm = new Float32Array(10);
  for (let i = 0; i < 5; i++) {
    const x = template[2 * i], y = template[2 * i + 1];
    lm[2 * i] = sc * (Math.cos(ang) * x - Math.sin(ang) * y) + tx;
    lm[2 * i + 1] = sc * (Math.sin(ang) * x + Math.cos(ang) * y) + ty;
  }
  withBufs(k, (put, alloc) => {
    const out = alloc(32);
    assert.equal(k.wasm.alignEstimate(put(lm), put(template), 5, out), 0);
    const [a, b, ox, oy] = new Float64Array(k.wasm.memory.buffer, out, 4);
    const ia = Math.cos(-ang) / sc, ib = Math.sin(-ang) / sc;
    assert.ok(Math.abs(a - ia) < 1e-6 && Math.abs(b - ib) < 1e-6, `a=${a} b=${b}`);
    for (let i = 0; i < 5; i++) {
      const x = a * lm[2 * i] - b * lm[2 * i + 1] + ox, y = b * lm[2 * i] + a * lm[2 * i + 1] + oy;
      assert.ok(Math.abs(x - template[2 * i]) < 1e-3 && Math.abs(y - template[2 * i + 1]) < 1e-3);
    }
    assert.equal(k.wasm.alignLevels(a, b), 1, 'a 2.5x shrink halves once first');
    // warp a horizontal ramp image: output pixel value = source x coordinate of where it samples
    const W = 400, H = 400;
    const img = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.fill(Math.round(x * 255 / (W - 1)), (y * W + x) * 3, (y * W + x) * 3 + 3);
    const levels = k.wasm.alignLevels(a, b), sb = k.wasm.alignScratchBytes(W, H, levels);
    const dst = alloc(112 * 112 * 3);
    assert.equal(k.wasm.alignWarp(put(img), W, H, out, levels, alloc(sb), sb, dst, 112, 112, 0), 0);
    const crop = new Uint8Array(k.wasm.memory.buffer, dst, 112 * 112 * 3);
    for (const [qx, qy] of [[56, 56], [20, 90], [100, 30]]) {
      const sx = sc * (Math.cos(ang) * qx - Math.sin(ang) * qy) + tx;
      const want = sx * 255 / (W - 1);
      assert.ok(Math.abs(crop[(qy * 112 + qx) * 3] - want) <= 2, `(${qx},${qy}): ${crop[(qy * 112 + qx) * 3]} vs ${want}`);
    }
    assert.equal(k.wasm.alignEstimate(put(new Float32Array(10).fill(5)), put(template), 5, out), -8, 'degenerate landmarks');
  });
});

test('anti-spoofing patch rectangles follow upstream _get_new_box exactly', () => {
  const k = ready[ready.length - 1].kernels!;
  const py = (W: number, H: number, [x, y, w, h]: number[], scale: number) => {
    scale = Math.min((H - 1) / h, (W - 1) / w, scale);
    const nw = w * scale, nh = h * scale, cx = w / 2 + x, cy = h / 2 + y;
    let x0 = cx - nw / 2, y0 = cy - nh / 2, x1 = cx + nw / 2, y1 = cy + nh / 2;
    if (x0 < 0) { x1 -= x0; x0 = 0; }
    if (y0 < 0) { y1 -= y0; y0 = 0; }
    if (x1 > W - 1) { x0 -= x1 - W + 1; x1 = W - 1; }
    if (y1 > H - 1) { y0 -= y1 - H + 1; y1 = H - 1; }
    return [x0, y0, x1, y1].map((v) => Math.trunc(v) | 0); // | 0: Python int(-0.5) is 0, not -0
  };
  const r = rng(8);
  withBufs(k, (_put, alloc) => {
    const out = alloc(16);
    for (let t = 0; t < 200; t++) {
      const W = r.int(60, 700), H = r.int(60, 700);
      const w = Math.fround(r.next() * W * 0.8 + 5), h = Math.fround(r.next() * H * 0.8 + 5);
      const box = [Math.fround(r.next() * (W - w)), Math.fround(r.next() * (H - h)), w, h];
      const scale = r.pick([2.7, 4.0]);
      assert.equal(k.wasm.patchRect(W, H, box[0], box[1], box[2], box[3], scale, out), 0);
      assert.deepEqual([...new Int32Array(k.wasm.memory.buffer, out, 4)], py(W, H, box, Math.fround(scale)), `case ${t}`);
    }
  });
});

test('softmax, embedding fusion and gallery matching', () => {
  const r = rng(9);
  const gallery = Float32Array.from({ length: 37 * 128 }, () => r.next() - 0.5);
  const query = Float32Array.from({ length: 128 }, () => r.next() - 0.5);
  const results = ready.map(({ kernels: k }) => withBufs(k!, (put, alloc) => {
    const scores = alloc(37 * 4), top = alloc(5 * 4);
    assert.equal(k!.wasm.matchScores(put(query), put(gallery), 37, 128, scores), 0);
    const s = new Float32Array(k!.wasm.memory.buffer, scores, 37).slice();
    assert.equal(k!.wasm.matchTopK(scores, 37, 5, top), 5);
    const idx = [...new Int32Array(k!.wasm.memory.buffer, top, 5)];
    const logits = put(F32([1, 2, 3]));
    assert.equal(k!.wasm.softmax(logits, 3), 0);
    const sm = [...new Float32Array(k!.wasm.memory.buffer, logits, 3)];
    return { s, idx, sm };
  }));
  for (let i = 0; i < 37; i++) {
    let want = 0;
    for (let j = 0; j < 128; j++) want += query[j] * gallery[i * 128 + j];
    assert.ok(Math.abs(results[0].s[i] - want) < 1e-5);
  }
  const sorted = [...results[0].s.keys()].sort((a, b) => results[0].s[b] - results[0].s[a]).slice(0, 5);
  assert.deepEqual(results[0].idx, sorted);
  const e = [1, 2, 3].map(Math.exp), z = e.reduce((a, b) => a + b);
  results[0].sm.forEach((v, i) => assert.ok(Math.abs(v - e[i] / z) < 1e-7));
  for (const other of results.slice(1)) assert.deepEqual(other, results[0], 'every build gives identical scores');
});
