// TF.js weights manifests (`*-weights_manifest.json` + binary shards) decoded to float32, following
// tfjs-core src/io/io_utils.ts `decodeWeights` (v4.22): weights of a group lie back to back in the
// concatenation of that group's shards; a `quantization` entry changes the stored element type:
//   uint8 / uint16 with {scale, min}: value = q * scale + min (computed in float64, stored float32)
//   float16: IEEE half precision.

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface TfjsWeightGroup { paths: string[]; weights: TfjsWeightSpec[] }

export interface DecodedWeight { shape: number[]; data: Float32Array }

export function decodeTfjsWeights(manifest: TfjsWeightGroup[], readShard: (path: string) => Uint8Array): Map<string, DecodedWeight> {
  if (!Array.isArray(manifest)) throw new Error('TF.js weights manifest must be an array of groups');
  const out = new Map<string, DecodedWeight>();
  for (const group of manifest) {
    const shards = group.paths.map(readShard);
    const total = shards.reduce((n, s) => n + s.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const s of shards) { bytes.set(s, at); at += s.length; }
    let offset = 0;
    for (const spec of group.weights) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const { data, byteLength } = decodeOne(spec, count, bytes, offset);
      if (out.has(spec.name)) throw new Error(`TF.js weight ${spec.name} appears twice`);
      out.set(spec.name, { shape: spec.shape, data });
      offset += byteLength;
    }
    if (offset !== total) throw new Error(`TF.js shards of ${group.paths.join(', ')} hold ${total} bytes, the manifest describes ${offset}`);
  }
  return out;
}

function decodeOne(spec: TfjsWeightSpec, count: number, bytes: Uint8Array, offset: number): { data: Float32Array; byteLength: number } {
  const q = spec.quantization;
  const stored = q ? q.dtype : spec.dtype;
  const size = stored === 'uint8' ? 1 : stored === 'uint16' || stored === 'float16' ? 2 : stored === 'float32' || stored === 'int32' ? 4 : 0;
  if (!size) throw new Error(`TF.js weight ${spec.name}: unsupported ${q ? 'quantization ' : ''}dtype ${stored}`);
  if (spec.dtype !== 'float32') throw new Error(`TF.js weight ${spec.name}: dtype ${spec.dtype} is not float32`);
  const byteLength = count * size;
  if (offset + byteLength > bytes.length) throw new Error(`TF.js weight ${spec.name}: shards end before its ${byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, byteLength);
  const data = new Float32Array(count);
  if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') throw new Error(`TF.js weight ${spec.name}: ${q.dtype} quantization without scale/min`);
    for (let i = 0; i < count; i++) data[i] = (size === 1 ? view.getUint8(i) : view.getUint16(i * 2, true)) * q.scale + q.min;
  } else if (stored === 'float16') {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
  } else if (stored === 'float32') {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  } else {
    throw new Error(`TF.js weight ${spec.name}: ${stored} storage for float32 is not supported`);
  }
  return { data, byteLength };
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
