// WfmModel -> .wfm v1 bytes, laid out exactly as assembly/graph/format.ts defines: header, tensor
// table, op table, output ids, data, meta JSON, each section 16-byte aligned, every unused byte zero.
// Deterministic: the same model gives the same bytes (no timestamps; data in op order; meta keys in
// insertion order, which the converter fixes).
import { createHash } from 'node:crypto';
import * as F from '../../assembly/graph/format.js';
import { align16, opDataLayout, type WfmModel } from './wfm.js';

export function writeWfm(model: WfmModel): Uint8Array {
  const { tensors, ops, outputs } = model;
  if (tensors.length > F.MAX_TENSORS) throw new Error(`${tensors.length} tensors > ${F.MAX_TENSORS}`);
  if (ops.length > F.MAX_OPS) throw new Error(`${ops.length} ops > ${F.MAX_OPS}`);
  if (outputs.length < 1 || outputs.length > F.MAX_OUTPUTS) throw new Error(`${outputs.length} outputs`);
  if (model.inputLut.length !== 768) throw new Error('input LUT must hold 3 x 256 entries');

  // ---- data section: input LUT, then each op's blobs in op order, every blob 16-byte aligned
  const blobs: { offset: number; bytes: Uint8Array }[] = [];
  let dataSize = 0;
  const place = (bytes: Uint8Array) => {
    const offset = align16(dataSize);
    blobs.push({ offset, bytes });
    dataSize = offset + bytes.length;
    return offset;
  };
  const asBytes = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const lutOffset = place(asBytes(model.inputLut));
  const params = ops.map((op, i) => {
    if (op.params.length !== F.PARAM_COUNT) throw new Error(`op ${i}: ${op.params.length} params, expected ${F.PARAM_COUNT}`);
    const p = Int32Array.from(op.params);
    for (const { slot, key, bytes, optional } of opDataLayout(op, tensors)) {
      const blob = op[key];
      if (!blob) {
        if (!optional) throw new Error(`op ${i} (${op.name ?? op.type}): missing ${key}`);
        p[slot] = -1;
        continue;
      }
      if (blob.byteLength !== bytes) throw new Error(`op ${i} (${op.name ?? op.type}): ${key} has ${blob.byteLength} bytes, expected ${bytes}`);
      p[slot] = place(asBytes(blob));
    }
    return p;
  });

  const metaBytes = new TextEncoder().encode(JSON.stringify(model.meta));
  const tensorsOff = F.HEADER_SIZE;
  const opsOff = align16(tensorsOff + tensors.length * F.TENSOR_SIZE);
  const outputsOff = align16(opsOff + ops.length * F.OP_SIZE);
  const dataOff = align16(outputsOff + outputs.length * 4);
  const metaOff = align16(dataOff + dataSize);
  const fileSize = metaOff + metaBytes.length;
  if (fileSize > F.MAX_FILE_SIZE) throw new Error(`file of ${fileSize} bytes exceeds ${F.MAX_FILE_SIZE}`);

  const bytes = new Uint8Array(fileSize);
  const view = new DataView(bytes.buffer);
  const u32 = (at: number, v: number) => view.setUint32(at, v >>> 0, true);
  const i32 = (at: number, v: number) => view.setInt32(at, v, true);

  u32(F.H_MAGIC, F.MAGIC);
  u32(F.H_VERSION, F.VERSION);
  u32(F.H_FILE_SIZE, fileSize);
  u32(F.H_FLAGS, 0);
  u32(F.H_TENSORS_OFF, tensorsOff);
  u32(F.H_TENSOR_COUNT, tensors.length);
  u32(F.H_OPS_OFF, opsOff);
  u32(F.H_OP_COUNT, ops.length);
  u32(F.H_DATA_OFF, dataOff);
  u32(F.H_DATA_SIZE, dataSize);
  u32(F.H_META_OFF, metaOff);
  u32(F.H_META_SIZE, metaBytes.length);
  u32(F.H_INPUT_TENSOR, model.input);
  const [p0, p1, p2] = model.perm;
  u32(F.H_INPUT_PERM, p0 | (p1 << 8) | (p2 << 16));
  u32(F.H_INPUT_LUT, lutOffset);
  u32(F.H_OUTPUT_COUNT, outputs.length);
  u32(F.H_OUTPUTS_OFF, outputsOff);
  u32(F.H_DYNAMIC, model.dynamic);

  tensors.forEach((t, i) => {
    const at = tensorsOff + i * F.TENSOR_SIZE;
    if (!(t.scale > 0) || !Number.isFinite(t.scale) || Math.fround(t.scale) !== t.scale) throw new Error(`tensor ${i} (${t.name}): scale ${t.scale} is not a positive float32`);
    if (!Number.isInteger(t.zp) || t.zp < -128 || t.zp > 127) throw new Error(`tensor ${i} (${t.name}): zero point ${t.zp}`);
    i32(at + F.T_H, t.h);
    i32(at + F.T_W, t.w);
    i32(at + F.T_C, t.c);
    i32(at + F.T_ZP, t.zp);
    view.setFloat32(at + F.T_SCALE, t.scale, true);
    u32(at + F.T_FLAGS, t.flags);
  });

  ops.forEach((op, i) => {
    const at = opsOff + i * F.OP_SIZE;
    if (op.inputs.length < 1 || op.inputs.length > 4) throw new Error(`op ${i}: ${op.inputs.length} inputs`);
    u32(at + F.O_TYPE, op.type);
    u32(at + F.O_INPUT_COUNT, op.inputs.length);
    op.inputs.forEach((t, k) => u32(at + F.O_INPUTS + 4 * k, t));
    u32(at + F.O_OUTPUT, op.output);
    params[i].forEach((v, k) => i32(at + F.O_PARAMS + 4 * k, v));
  });

  outputs.forEach((t, i) => u32(outputsOff + 4 * i, t));
  for (const b of blobs) bytes.set(b.bytes, dataOff + b.offset);
  bytes.set(metaBytes, metaOff);
  bytes.set(createHash('sha256').update(bytes.subarray(F.HEADER_SIZE)).digest(), F.H_SHA256);
  return bytes;
}
