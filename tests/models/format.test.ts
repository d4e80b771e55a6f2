// The .wfm writer and reader against assembly/graph/format.ts: record sizes and field offsets,
// section alignment, reserved bytes, checksum, determinism, round trip, corruption detection.
// Synthetic model (every op type): needs nothing from ../shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as F from '../../assembly/graph/format.js';
import { readWfm, WfmFormatError } from '../../tools/convert/wfm-reader.js';
import { writeWfm } from '../../tools/convert/wfm-writer.js';
import { opDataLayout } from '../../tools/convert/wfm.js';
import { build } from './helpers.js';

test('format constants: record layouts fit their sizes', () => {
  const header = [F.H_MAGIC, F.H_VERSION, F.H_FILE_SIZE, F.H_FLAGS, F.H_TENSORS_OFF, F.H_TENSOR_COUNT, F.H_OPS_OFF, F.H_OP_COUNT,
    F.H_DATA_OFF, F.H_DATA_SIZE, F.H_META_OFF, F.H_META_SIZE, F.H_INPUT_TENSOR, F.H_INPUT_PERM, F.H_INPUT_LUT, F.H_OUTPUT_COUNT, F.H_OUTPUTS_OFF, F.H_DYNAMIC];
  assert.equal(F.HEADER_SIZE, 128);
  assert.equal(new Set(header).size, header.length);
  for (const off of header) {
    assert.equal(off % 4, 0);
    assert.ok(off + 4 <= 104, `header field at ${off} overlaps the reserved tail`);
    assert.ok(off + 4 <= F.H_SHA256 || off >= F.H_SHA256 + 32, `header field at ${off} overlaps the SHA-256`);
  }
  assert.equal(F.TENSOR_SIZE, 32);
  assert.ok(F.T_FLAGS + 4 <= 24 && F.T_SCALE + 4 <= F.T_FLAGS);
  assert.equal(F.OP_SIZE, F.O_PARAMS + 4 * F.PARAM_COUNT);
  assert.equal(F.O_OUTPUT, F.O_INPUTS + 16);
  for (const p of [F.P_SHIFT, F.P_QMIN, F.P_QMAX, F.P_WEIGHTS, F.P_BIAS, F.P_MULT, F.P_MULT_NEG, F.P_TABLE, F.P_MULTS, F.P_COUNT_INCLUDE_PAD]) assert.ok(p < F.PARAM_COUNT);
  // window params and requant params do not collide; add/channel_mul multipliers reuse window slots (no window)
  assert.ok(Math.max(F.P_KH, F.P_KW, F.P_SH, F.P_SW, F.P_PAD_TOP, F.P_PAD_LEFT, F.P_PAD_BOTTOM, F.P_PAD_RIGHT) < F.P_SHIFT);
  assert.equal(F.MAGIC, 0x314d4657);
  assert.deepEqual([...new TextEncoder().encode('WFM1')], [0x57, 0x46, 0x4d, 0x31]);
});

test('writer: header, aligned sections, zero reserved bytes, checksum, data inside the data section', () => {
  const { model } = build({ method: 'minmax' });
  const meta = { id: 'all-ops', note: 'test' };
  const bytes = writeWfm({ ...model, meta });
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x57, 0x46, 0x4d, 0x31]); // "WFM1"
  assert.equal(u32(F.H_VERSION), F.VERSION);
  assert.equal(u32(F.H_FILE_SIZE), bytes.length);
  assert.equal(u32(F.H_FLAGS), 0);
  assert.ok(bytes.subarray(104, 128).every((b) => b === 0));
  assert.deepEqual(Buffer.from(bytes.subarray(F.H_SHA256, F.H_SHA256 + 32)), createHash('sha256').update(bytes.subarray(F.HEADER_SIZE)).digest());
  const sections = [
    [u32(F.H_TENSORS_OFF), u32(F.H_TENSOR_COUNT) * F.TENSOR_SIZE],
    [u32(F.H_OPS_OFF), u32(F.H_OP_COUNT) * F.OP_SIZE],
    [u32(F.H_OUTPUTS_OFF), u32(F.H_OUTPUT_COUNT) * 4],
    [u32(F.H_DATA_OFF), u32(F.H_DATA_SIZE)],
    [u32(F.H_META_OFF), u32(F.H_META_SIZE)],
  ];
  let end = F.HEADER_SIZE;
  for (const [off, size] of sections) {
    assert.equal(off % 16, 0, `section at ${off} not 16-byte aligned`);
    assert.ok(off >= end, 'sections overlap or are out of order');
    assert.ok(bytes.subarray(end, off).every((b) => b === 0), 'padding between sections is not zero');
    end = off + size;
  }
  assert.equal(end, bytes.length);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(u32(F.H_META_OFF)))), meta);
  assert.equal(u32(F.H_TENSOR_COUNT), model.tensors.length);
  for (let i = 0; i < model.tensors.length; i++) {
    const at = u32(F.H_TENSORS_OFF) + i * F.TENSOR_SIZE;
    assert.ok(bytes.subarray(at + 24, at + 32).every((b) => b === 0), `tensor ${i} reserved bytes`);
    assert.equal(v.getFloat32(at + F.T_SCALE, true), model.tensors[i].scale);
  }
  const dataOff = u32(F.H_DATA_OFF), dataSize = u32(F.H_DATA_SIZE);
  assert.equal(u32(F.H_INPUT_LUT) % 16, 0);
  model.ops.forEach((op, i) => {
    const at = u32(F.H_OPS_OFF) + i * F.OP_SIZE;
    for (let k = op.inputs.length; k < 4; k++) assert.equal(u32(at + F.O_INPUTS + 4 * k), 0, `op ${i}: unused input slot ${k} is not zero`);
    for (const { slot, bytes: size, optional } of opDataLayout(op, model.tensors)) {
      const off = v.getInt32(at + F.O_PARAMS + 4 * slot, true);
      if (optional && off === -1) continue;
      assert.equal(off % 16, 0, `op ${i}: data blob not 16-byte aligned`);
      assert.ok(off >= 0 && off + size <= dataSize && dataOff + off + size <= u32(F.H_META_OFF), `op ${i}: data outside the data section`);
    }
  });
});

test('writer is deterministic and the reader round-trips to identical bytes', () => {
  const a = build({ method: 'mse', u7: true }), b = build({ method: 'mse', u7: true });
  const meta = { id: 'all-ops', calibration: { method: 'mse', images: 16 } };
  const bytes = writeWfm({ ...a.model, meta });
  assert.deepEqual(writeWfm({ ...b.model, meta }), bytes, 'two conversions gave different bytes');
  const parsed = readWfm(bytes);
  assert.deepEqual(writeWfm(parsed), bytes);
  assert.equal(parsed.tensors.length, a.model.tensors.length);
  parsed.ops.forEach((op, i) => {
    assert.equal(op.type, a.model.ops[i].type);
    assert.deepEqual(op.inputs, a.model.ops[i].inputs);
    assert.deepEqual(op.weights, a.model.ops[i].weights);
    assert.deepEqual(op.mult, a.model.ops[i].mult);
  });
  assert.deepEqual(parsed.inputLut, a.model.inputLut);
  assert.deepEqual(parsed.perm, a.model.perm);
});

test('reader rejects corrupted, truncated and foreign files', () => {
  const bytes = writeWfm({ ...build({ method: 'minmax' }).model, meta: { id: 'x' } });
  const flipped = bytes.slice();
  flipped[bytes.length - 3] ^= 1;
  assert.throws(() => readWfm(flipped), (e: unknown) => e instanceof WfmFormatError && /SHA-256/.test(e.message));
  assert.throws(() => readWfm(bytes.subarray(0, bytes.length - 1)), /bytes/);
  const foreign = bytes.slice();
  foreign[0] = 0x50;
  assert.throws(() => readWfm(foreign), /magic/);
  const reserved = bytes.slice();
  reserved[120] = 1;
  assert.throws(() => readWfm(reserved), /reserved/);
});
