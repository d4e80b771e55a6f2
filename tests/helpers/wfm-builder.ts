// Low-level .wfm assembler for tests: tensors, ops and data blobs in, file bytes out (checksum
// included). Lets tests build small models by hand and craft hostile files with valid checksums.
import { createHash } from 'node:crypto';
import * as F from '../../assembly/graph/format.js';

export interface TensorSpec { h: number; w: number; c: number; zp: number; scale: number; u7?: boolean }
export interface OpSpec { type: number; inputs: number[]; output: number; params: Record<number, number> }

export class WfmBuilder {
  tensors: TensorSpec[] = [];
  ops: OpSpec[] = [];
  private data: number[] = [];
  outputs: number[] = [];
  input = 0;
  perm = 0x000102; // bytes: network channel j reads RGB channel (perm >> 8j) & 0xff
  lutOffset = -1;
  dynamic = 0;
  meta: Record<string, unknown> = { id: 'test-model' };

  tensor(t: TensorSpec): number { this.tensors.push(t); return this.tensors.length - 1; }
  op(type: number, inputs: number[], output: number, params: Record<number, number>): void { this.ops.push({ type, inputs, output, params }); }

  /** Appends a blob (4-byte aligned) and returns its data-relative offset. */
  blob(bytes: Int8Array | Uint8Array | Int32Array): number {
    while (this.data.length % 4) this.data.push(0);
    const off = this.data.length;
    this.data.push(...new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return off;
  }

  build(): Uint8Array {
    const align = (n: number) => (n + 15) & ~15;
    if (this.lutOffset < 0) this.lutOffset = this.blob(Int8Array.from({ length: 768 }, (_, i) => (i & 255) - 128));
    const metaBytes = new TextEncoder().encode(JSON.stringify(this.meta));
    const tensorsOff = F.HEADER_SIZE;
    const opsOff = align(tensorsOff + this.tensors.length * F.TENSOR_SIZE);
    const outputsOff = align(opsOff + this.ops.length * F.OP_SIZE);
    const dataOff = align(outputsOff + this.outputs.length * 4);
    const metaOff = align(dataOff + this.data.length);
    const size = align(metaOff + metaBytes.length);
    const buf = new Uint8Array(size), v = new DataView(buf.buffer);
    v.setUint32(F.H_MAGIC, F.MAGIC, true); v.setUint32(F.H_VERSION, F.VERSION, true); v.setUint32(F.H_FILE_SIZE, size, true);
    v.setUint32(F.H_TENSORS_OFF, tensorsOff, true); v.setUint32(F.H_TENSOR_COUNT, this.tensors.length, true);
    v.setUint32(F.H_OPS_OFF, opsOff, true); v.setUint32(F.H_OP_COUNT, this.ops.length, true);
    v.setUint32(F.H_DATA_OFF, dataOff, true); v.setUint32(F.H_DATA_SIZE, this.data.length, true);
    v.setUint32(F.H_META_OFF, metaOff, true); v.setUint32(F.H_META_SIZE, metaBytes.length, true);
    v.setUint32(F.H_INPUT_TENSOR, this.input, true); v.setUint32(F.H_INPUT_PERM, this.perm, true);
    v.setUint32(F.H_INPUT_LUT, this.lutOffset, true); v.setUint32(F.H_OUTPUT_COUNT, this.outputs.length, true);
    v.setUint32(F.H_OUTPUTS_OFF, outputsOff, true); v.setUint32(F.H_DYNAMIC, this.dynamic, true);
    this.tensors.forEach((t, i) => {
      const o = tensorsOff + i * F.TENSOR_SIZE;
      v.setInt32(o + F.T_H, t.h, true); v.setInt32(o + F.T_W, t.w, true); v.setInt32(o + F.T_C, t.c, true);
      v.setInt32(o + F.T_ZP, t.zp, true); v.setFloat32(o + F.T_SCALE, t.scale, true); v.setUint32(o + F.T_FLAGS, t.u7 ? F.TF_U7 : 0, true);
    });
    this.ops.forEach((op, i) => {
      const o = opsOff + i * F.OP_SIZE;
      v.setUint32(o + F.O_TYPE, op.type, true); v.setUint32(o + F.O_INPUT_COUNT, op.inputs.length, true);
      op.inputs.forEach((t, k) => v.setUint32(o + F.O_INPUTS + 4 * k, t, true));
      v.setUint32(o + F.O_OUTPUT, op.output, true);
      for (const [k, val] of Object.entries(op.params)) v.setInt32(o + F.O_PARAMS + 4 * Number(k), val, true);
    });
    this.outputs.forEach((t, i) => v.setUint32(outputsOff + 4 * i, t, true));
    buf.set(this.data, dataOff);
    buf.set(metaBytes, metaOff);
    return seal(buf);
  }
}

/** Recomputes the header checksum (for crafting files that pass it and must fail later checks). */
export function seal(buf: Uint8Array): Uint8Array {
  buf.set(createHash('sha256').update(buf.subarray(F.HEADER_SIZE)).digest(), F.H_SHA256);
  return buf;
}
