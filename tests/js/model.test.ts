// The wasm model runner on a hand-built model (conv + ReLU into a 7-bit tensor, max pool, 1x1 conv
// reading the 7-bit tensor, global average pool, fully connected, lookup table), checked against an
// independent integer computation in JS on every build; then hostile files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as F from '../../assembly/graph/format.js';
import { loadBuilds, rng } from '../helpers/builds.js';
import { convAcc, requantInt } from '../helpers/reference.js';
import { WfmBuilder, seal } from '../helpers/wfm-builder.js';
import { Model, Arena } from '../../js/model.js';
import { ModelFormatError } from '../../js/errors.js';
import { quantizeMultipliers, requantRef, SHIFT_MIN_WIDE } from '../../js/quant.js';

const builds = await loadBuilds();
const r = rng(4242);

// ---- the model ----
const H = 6, W = 5, C1 = 8, C2 = 17, N = 4;
const w1 = r.i8(C1 * 9 * 3, -127, 127), b1 = Int32Array.from({ length: C1 }, () => r.int(-2000, 2000));
const w2 = r.i8(C2 * C1, -127, 127), b2 = Int32Array.from({ length: C2 }, () => r.int(-500, 500));
const w3 = r.i8(N * C2, -127, 127), b3 = Int32Array.from({ length: N }, () => r.int(-100, 100));
const q1 = quantizeMultipliers(Array.from({ length: C1 }, () => 0.002 + r.next() * 0.002));
const q2 = quantizeMultipliers(Array.from({ length: C2 }, () => 0.004 + r.next() * 0.004), Array.from({ length: C2 }, () => 0.001));
const q3 = quantizeMultipliers(Array.from({ length: N }, () => 0.01 + r.next() * 0.01));
const gap = quantizeMultipliers([1 / 9 * 0.9], undefined, SHIFT_MIN_WIDE); // 3x3 pixels after pooling
const table = r.i8(256);

function buildModel(): WfmBuilder {
  const b = new WfmBuilder();
  const tIn = b.tensor({ h: H, w: W, c: 3, zp: -128, scale: 1 });
  const t1 = b.tensor({ h: H, w: W, c: C1, zp: 0, scale: 0.05, u7: true });
  const t2 = b.tensor({ h: 3, w: 3, c: C1, zp: 0, scale: 0.05, u7: true });
  const t3 = b.tensor({ h: 3, w: 3, c: C2, zp: -3, scale: 0.1 });
  const t4 = b.tensor({ h: 1, w: 1, c: C2, zp: 2, scale: 0.1 });
  const t5 = b.tensor({ h: 1, w: 1, c: N, zp: -1, scale: 0.2 });
  const t6 = b.tensor({ h: 1, w: 1, c: N, zp: 0, scale: 1 / 256 });
  b.input = tIn;
  b.perm = 0x000102; // network channel 0 reads B: BGR like the ONNX models
  const conv = (k: number, wts: Int8Array, bias: Int32Array, q: ReturnType<typeof quantizeMultipliers>, qmin: number, pad: number): Record<number, number> => ({
    [F.P_KH]: k, [F.P_KW]: k, [F.P_SH]: 1, [F.P_SW]: 1, [F.P_PAD_TOP]: pad, [F.P_PAD_LEFT]: pad, [F.P_PAD_BOTTOM]: pad, [F.P_PAD_RIGHT]: pad,
    [F.P_SHIFT]: q.shift, [F.P_QMIN]: qmin, [F.P_QMAX]: 127, [F.P_WEIGHTS]: b.blob(wts), [F.P_BIAS]: b.blob(bias), [F.P_MULT]: b.blob(q.mult),
    [F.P_MULT_NEG]: q.multNeg.every((m, i) => m === q.mult[i]) ? -1 : b.blob(q.multNeg),
  });
  b.op(F.OP_CONV2D, [tIn], t1, conv(3, w1, b1, q1, 0, 1));
  b.op(F.OP_MAXPOOL, [t1], t2, { [F.P_KH]: 2, [F.P_KW]: 2, [F.P_SH]: 2, [F.P_SW]: 2, [F.P_PAD_BOTTOM]: 0, [F.P_PAD_RIGHT]: 1 });
  b.op(F.OP_CONV2D, [t2], t3, conv(1, w2, b2, q2, -128, 0));
  b.op(F.OP_GLOBAL_AVGPOOL, [t3], t4, { [F.P_MA]: gap.mult[0], [F.P_SHIFT]: gap.shift, [F.P_QMIN]: -128, [F.P_QMAX]: 127 });
  const fc = conv(1, w3, b3, q3, -128, 0);
  for (const k of [F.P_KH, F.P_KW, F.P_SH, F.P_SW]) delete fc[k];
  b.op(F.OP_FC, [t4], t5, fc);
  b.op(F.OP_LUT, [t5], t6, { [F.P_TABLE]: b.blob(table) });
  b.outputs = [t5, t6, t2];
  return b;
}
const file = buildModel().build();

// ---- the same computation, independently, in JS ----
function expected(rgb: Uint8Array) {
  const x = Int8Array.from({ length: H * W * 3 }, (_, i) => rgb[i - (i % 3) + (2 - (i % 3))] - 128); // BGR, q = p - 128
  const a1 = requantInt(convAcc(x, w1, b1, C1, { h: H, w: W, c: 3, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, oh: H, ow: W }, -128), C1, q1.mult, q1.multNeg, q1.shift, 0, 0, 127);
  const a2 = new Int8Array(3 * 3 * C1);
  for (let y = 0; y < 3; y++) for (let xx = 0; xx < 3; xx++) for (let c = 0; c < C1; c++) {
    let m = -128;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const iy = 2 * y + dy, ix = 2 * xx + dx;
      if (iy < H && ix < W) m = Math.max(m, a1[(iy * W + ix) * C1 + c]);
    }
    a2[(y * 3 + xx) * C1 + c] = m;
  }
  const a3 = requantInt(convAcc(a2, w2, b2, C2, { h: 3, w: 3, c: C1, kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0, oh: 3, ow: 3 }, 0), C2, q2.mult, q2.multNeg, q2.shift, -3, -128, 127);
  const a4 = Int8Array.from({ length: C2 }, (_, c) => {
    let s = 0;
    for (let p = 0; p < 9; p++) s += a3[p * C2 + c] + 3;
    return requantRef(s, gap.mult[0], gap.shift, 2, -128, 127);
  });
  const a5 = requantInt(convAcc(a4, w3, b3, N, { h: 1, w: 1, c: C2, kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0, oh: 1, ow: 1 }, 2), N, q3.mult, q3.multNeg, q3.shift, -1, -128, 127);
  return { a2, a5, a6: Int8Array.from(a5, (v) => table[v + 128]) };
}

for (const b of builds) {
  test(`hand-built model runs bit-exactly like the JS integer computation [${b.backend}]`, { skip: b.skip }, () => {
    const x = b.kernels!.wasm;
    const arena = new Arena(x);
    const model = Model.load(x, arena, file);
    assert.equal(model.id, 'test-model');
    assert.deepEqual(model.inputSize, { width: W, height: H, planned: { width: W, height: H }, step: 0 });
    for (let t = 0; t < 5; t++) {
      const rgb = Uint8Array.from({ length: H * W * 3 }, () => r.int(0, 255));
      model.run(rgb);
      const want = expected(rgb);
      assert.deepEqual(model.outputInt8(0), want.a5, 'fc output');
      assert.deepEqual(model.outputInt8(1), want.a6, 'lut output');
      assert.deepEqual(model.outputInt8(2), want.a2, 'pool output');
      const deq = model.output(0);
      assert.deepEqual(deq.shape, [1, 1, N]);
      assert.deepEqual([...deq.data], [...want.a5].map((v) => Math.fround((v + 1) * Math.fround(0.2))));
    }
    assert.throws(() => model.run(new Uint8Array(10)), /expected 5x6x3/);
    model.dispose();
    arena.dispose();
    assert.equal(x.liveRegions(), 0, 'model, arena and buffers all freed');
  });
}

test('model files that are truncated, corrupted or hostile give ModelFormatError', async () => {
  const b = builds.find((q) => q.kernels)!;
  const x = b.kernels!.wasm;
  const arena = new Arena(x);
  const load = (bytes: Uint8Array) => Model.load(x, arena, bytes);
  const expectError = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => load(bytes), (e: unknown) => e instanceof ModelFormatError && pattern.test(e.message));
  expectError(file.subarray(0, 100), /too short/);
  expectError(file.subarray(0, file.length - 1), /truncated/);
  const bad = file.slice(); bad[0] = 0x58; expectError(bad, /magic/);
  const ver = file.slice(); ver[F.H_VERSION] = 2; expectError(ver, /version/);
  const flip = file.slice(); flip[F.HEADER_SIZE + 5] ^= 1; expectError(flip, /checksum/);
  // checksum-valid but hostile: each later check must catch its field
  const craft = (mut: (v: DataView, b: WfmBuilder) => void, pattern: RegExp) => {
    const builder = buildModel();
    const bytes = builder.build();
    mut(new DataView(bytes.buffer), builder);
    expectError(seal(bytes), pattern);
  };
  const opsOff = new DataView(file.buffer).getUint32(F.H_OPS_OFF, true);
  const tensorsOff = F.HEADER_SIZE;
  craft((v) => v.setUint32(opsOff + F.O_TYPE, 99, true), /unknown operator.*operator 0/);
  craft((v) => v.setUint32(opsOff + F.OP_SIZE + F.O_INPUTS, 5, true), /not computed yet.*operator 1/);
  craft((v) => v.setInt32(opsOff + F.O_PARAMS + 4 * F.P_KH, 5, true), /out of range|inconsistent/);
  craft((v) => v.setInt32(opsOff + F.O_PARAMS + 4 * F.P_SHIFT, 70, true), /out of range.*operator 0/);
  craft((v) => v.setInt32(opsOff + F.O_PARAMS + 4 * F.P_WEIGHTS, 1 << 30, true), /outside the data section.*operator 0/);
  craft((v) => v.setInt32(opsOff + F.O_PARAMS + 4 * F.P_QMIN, -1, true), /7-bit promise.*operator 0/);
  craft((v) => v.setInt32(tensorsOff + F.TENSOR_SIZE + F.T_C, 9, true), /shapes are inconsistent/);
  craft((v) => v.setFloat32(tensorsOff + F.T_SCALE, NaN, true), /tensor record.*tensor 0/);
  craft((v) => v.setInt32(tensorsOff + 3 * F.TENSOR_SIZE + F.T_H, 1 << 20, true), /tensor record/);
  craft((v) => v.setUint32(F.H_TENSOR_COUNT, 1 << 20, true), /outside the file/);
  craft((v) => v.setUint32(F.H_INPUT_PERM, 0x030201, true), /input/);
  craft((v) => v.setUint32(F.H_OUTPUT_COUNT, 0, true), /output list/);
  assert.equal(x.liveRegions(), 0, 'failed loads leave nothing allocated');
});

test('a depthwise weight of -128 is refused: the kernels take symmetric int8 weights only', () => {
  const b = builds.find((q) => q.kernels)!;
  const x = b.kernels!.wasm;
  const arena = new Arena(x);
  const real = new Uint8Array(readFileSync(new URL('../../models/yunet-2023mar.wfm', import.meta.url)));
  const v = new DataView(real.buffer, real.byteOffset);
  const opsOff = v.getUint32(F.H_OPS_OFF, true), dataOff = v.getUint32(F.H_DATA_OFF, true);
  const ops = Array.from({ length: v.getUint32(F.H_OP_COUNT, true) }, (_, i) => opsOff + i * F.OP_SIZE);
  const dw = ops.findIndex((o) => v.getUint32(o + F.O_TYPE, true) === F.OP_DEPTHWISE);
  assert.ok(dw >= 0, 'YuNet has depthwise layers');
  const good = Model.load(x, arena, real);
  good.dispose();
  const bad = real.slice();
  bad[dataOff + v.getInt32(ops[dw] + F.O_PARAMS + 4 * F.P_WEIGHTS, true)] = 0x80;
  assert.throws(() => Model.load(x, arena, seal(bad)), (e: unknown) => e instanceof ModelFormatError && /depthwise weight of -128.*operator \d+/.test(e.message));
  arena.dispose();
  assert.equal(x.liveRegions(), 0);
});

for (const b of builds) test(`seeded mutation fuzz: every mutated model either loads and runs, or gives ModelFormatError [${b.backend}]`, { skip: b.skip }, () => {
  const x = b.kernels!.wasm;
  const arena = new Arena(x);
  const f = rng(99);
  const cases = Number(process.env.WASMFACE_MODEL_FUZZ ?? 2000);
  const counts = { loaded: 0, refused: 0 };
  const rgb = Uint8Array.from({ length: H * W * 3 }, () => f.int(0, 255));
  for (let c = 0; c < cases; c++) {
    const bytes = file.slice();
    const kind = f.int(0, 3);
    let mutated: Uint8Array = bytes;
    if (kind === 0) mutated = bytes.subarray(0, f.int(0, bytes.length - 1));            // truncation
    else {
      const n = f.int(1, 4);
      for (let i = 0; i < n; i++) {
        const at = f.int(F.HEADER_SIZE, bytes.length - 1);
        bytes[at] = kind === 1 ? f.int(0, 255) : bytes[at] ^ (1 << f.int(0, 7));
        if (kind === 3) { const v = new DataView(bytes.buffer); const w = at & ~3; v.setInt32(w, [0, -1, 1 << 30, 0x7fffffff, 65536][f.int(0, 4)], true); }
      }
      mutated = f.next() < 0.9 ? seal(bytes) : bytes; // mostly re-sealed, so the checks past the checksum are exercised
    }
    try {
      const m = Model.load(x, arena, mutated);
      counts.loaded++;
      m.run(rgb);
      for (let i = 0; i < m.outputCount; i++) m.output(i);
      m.dispose();
    } catch (e) {
      if (!(e instanceof ModelFormatError)) assert.fail(`case ${c}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
      counts.refused++;
    }
  }
  arena.dispose();
  assert.equal(x.liveRegions(), 0, 'nothing leaked');
  console.log(`model fuzz ${b.backend}: ${cases} mutated files, ${counts.loaded} loaded and ran, ${counts.refused} refused with ModelFormatError`);
});

test('SHA-256 in wasm matches node:crypto', async () => {
  const { createHash } = await import('node:crypto');
  const x = builds.find((q) => q.kernels)!.kernels!;
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100000]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 255);
    const p = n ? x.put(data) : x.alloc(16), out = x.alloc(32);
    assert.equal(x.wasm.sha256Digest(p, n, out), 0);
    assert.equal(Buffer.from(new Uint8Array(x.wasm.memory.buffer, out, 32)).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${n}`);
    x.free(p); x.free(out);
  }
});

test('gzip-compressed model files load to the same model; a damaged one gives ModelFormatError', async () => {
  const { gzipSync } = await import('node:zlib');
  const x = builds.find((q) => q.kernels)!.kernels!.wasm;
  const arena = new Arena(x);
  const plain = Model.load(x, arena, file), packed = Model.load(x, arena, new Uint8Array(gzipSync(file, { level: 9 })));
  assert.equal(packed.pin, plain.pin, 'same fingerprint whether compressed or not');
  const rgb = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37) & 255);
  plain.run(rgb);
  const a = plain.outputInt8(0);
  packed.run(rgb);
  assert.deepEqual(packed.outputInt8(0), a);
  const gz = new Uint8Array(gzipSync(file));
  gz[gz.length - 6] ^= 1; // CRC-32 in the trailer
  assert.throws(() => Model.load(x, arena, gz), (e: unknown) => e instanceof ModelFormatError && /CRC-32/.test(e.message));
  assert.throws(() => Model.load(x, arena, gz.subarray(0, 40)), ModelFormatError);
  plain.dispose(); packed.dispose(); arena.dispose();
  assert.equal(x.liveRegions(), 0);
});
