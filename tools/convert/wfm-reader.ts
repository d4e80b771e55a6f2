// .wfm v1 bytes -> WfmModel, for tools and tests. Checks what a consumer of the parsed structure
// relies on (magic, version, sizes, checksum, sections and data inside the file, tensor ids in range,
// reserved bytes zero) and fails with a message naming the field; the wasm reader is the one that
// validates every semantic rule before running a model.
import { createHash } from 'node:crypto';
import * as F from '../../assembly/graph/format.js';
import { opDataLayout, type WfmModel, type WfmOp, type WfmTensor } from './wfm.js';

export class WfmFormatError extends Error {}

export function readWfm(bytes: Uint8Array): WfmModel {
  const fail = (msg: string): never => { throw new WfmFormatError(`wfm: ${msg}`); };
  if (bytes.length < F.HEADER_SIZE) fail(`${bytes.length} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const i32 = (at: number) => view.getInt32(at, true);
  if (u32(F.H_MAGIC) !== F.MAGIC) fail('bad magic');
  if (u32(F.H_VERSION) !== F.VERSION) fail(`version ${u32(F.H_VERSION)}`);
  const fileSize = u32(F.H_FILE_SIZE);
  if (fileSize !== bytes.length) fail(`header says ${fileSize} bytes, file has ${bytes.length}`);
  if (u32(F.H_FLAGS) !== 0) fail('flags are not zero');
  for (let i = 104; i < F.HEADER_SIZE; i++) if (bytes[i] !== 0) fail(`reserved header byte ${i} is not zero`);
  const digest = createHash('sha256').update(bytes.subarray(F.HEADER_SIZE)).digest();
  if (!digest.equals(bytes.subarray(F.H_SHA256, F.H_SHA256 + 32))) fail('SHA-256 mismatch');

  const section = (name: string, off: number, size: number) => {
    if (off % 16 || off < F.HEADER_SIZE || off + size > fileSize) fail(`${name} section [${off}, +${size}) is misplaced`);
    return off;
  };
  const tensorCount = u32(F.H_TENSOR_COUNT), opCount = u32(F.H_OP_COUNT), outputCount = u32(F.H_OUTPUT_COUNT);
  if (tensorCount > F.MAX_TENSORS || opCount > F.MAX_OPS || outputCount < 1 || outputCount > F.MAX_OUTPUTS) fail('counts out of range');
  const tensorsOff = section('tensor', u32(F.H_TENSORS_OFF), tensorCount * F.TENSOR_SIZE);
  const opsOff = section('op', u32(F.H_OPS_OFF), opCount * F.OP_SIZE);
  const outputsOff = section('outputs', u32(F.H_OUTPUTS_OFF), outputCount * 4);
  const dataSize = u32(F.H_DATA_SIZE);
  const dataOff = section('data', u32(F.H_DATA_OFF), dataSize);
  const metaSize = u32(F.H_META_SIZE);
  const metaOff = section('meta', u32(F.H_META_OFF), metaSize);

  const tensors: WfmTensor[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const at = tensorsOff + i * F.TENSOR_SIZE;
    for (let b = 24; b < F.TENSOR_SIZE; b++) if (bytes[at + b] !== 0) fail(`tensor ${i}: reserved bytes are not zero`);
    tensors.push({ h: i32(at + F.T_H), w: i32(at + F.T_W), c: i32(at + F.T_C), zp: i32(at + F.T_ZP), scale: view.getFloat32(at + F.T_SCALE, true), flags: u32(at + F.T_FLAGS) });
  }
  const tensorRef = (t: number, what: string) => (t < tensorCount ? t : fail(`${what}: tensor ${t} out of range`));
  const data = (off: number, size: number, what: string) => {
    if (off < 0 || off + size > dataSize) fail(`${what}: data [${off}, +${size}) outside the data section`);
    const copy = new Uint8Array(size); // own buffer (a Node Buffer's slice would share its pool)
    copy.set(bytes.subarray(dataOff + off, dataOff + off + size));
    return copy;
  };

  const ops: WfmOp[] = [];
  for (let i = 0; i < opCount; i++) {
    const at = opsOff + i * F.OP_SIZE;
    const type = u32(at + F.O_TYPE), n = u32(at + F.O_INPUT_COUNT);
    if (type < 1 || type >= F.OP_TYPE_COUNT || n < 1 || n > 4) fail(`op ${i}: type ${type} with ${n} inputs`);
    const inputs = Array.from({ length: n }, (_, k) => tensorRef(u32(at + F.O_INPUTS + 4 * k), `op ${i} input ${k}`));
    const output = tensorRef(u32(at + F.O_OUTPUT), `op ${i} output`);
    const params = new Int32Array(F.PARAM_COUNT);
    for (let k = 0; k < F.PARAM_COUNT; k++) params[k] = i32(at + F.O_PARAMS + 4 * k);
    const op: WfmOp = { type, inputs, output, params };
    for (const { slot, key, bytes: size, optional } of opDataLayout(op, tensors)) {
      if (optional && params[slot] === -1) continue;
      const raw = data(params[slot], size, `op ${i} ${key}`);
      if (key === 'weights' || key === 'table') op[key] = new Int8Array(raw.buffer);
      else op[key] = new Int32Array(raw.buffer);
    }
    ops.push(op);
  }
  const outputs = Array.from({ length: outputCount }, (_, k) => tensorRef(u32(outputsOff + 4 * k), `output ${k}`));
  const perm = u32(F.H_INPUT_PERM);
  const meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(metaOff, metaOff + metaSize)));
  return {
    tensors, ops, input: tensorRef(u32(F.H_INPUT_TENSOR), 'input'),
    perm: [perm & 0xff, (perm >> 8) & 0xff, (perm >> 16) & 0xff],
    inputLut: new Int8Array(data(u32(F.H_INPUT_LUT), 768, 'input LUT').buffer),
    outputs, dynamic: u32(F.H_DYNAMIC), meta,
  };
}
