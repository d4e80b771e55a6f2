// TF.js weight manifests: every storage type, weights split across shards, and tfjs-core's own
// decoder as the reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { decodeTfjsWeights, halfToFloat, type TfjsWeightGroup } from '../../tools/convert/tfjs-weights.js';

tf.enableProdMode(); // quiet: no "install tfjs-node" banner from the CPU backend

test('uint8/uint16 affine, float16 and float32 weights decode as tfjs-core decodes them', async () => {
  const bytes = new Uint8Array(5 + 2 * 3 + 2 * 4 + 4 * 2);
  const v = new DataView(bytes.buffer);
  [0, 1, 127, 200, 255].forEach((q, i) => v.setUint8(i, q));
  [0, 300, 65535].forEach((q, i) => v.setUint16(5 + i * 2, q, true));
  [0x3c00, 0xc000, 0x0001, 0x7bff].forEach((h, i) => v.setUint16(11 + i * 2, h, true)); // 1, -2, smallest subnormal, 65504
  [Math.PI, -1e-7].forEach((f, i) => v.setFloat32(19 + i * 4, f, true));
  const manifest: TfjsWeightGroup[] = [{
    paths: ['a', 'b'],
    weights: [
      { name: 'u8', shape: [5], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.01, min: -0.5 } },
      { name: 'u16', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 1e-4, min: -3 } },
      { name: 'f16', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'f32', shape: [2], dtype: 'float32' },
    ],
  }];
  // split inside the second weight: shards are one byte stream per group
  const shards: Record<string, Uint8Array> = { a: bytes.subarray(0, 8), b: bytes.subarray(8) };
  const ours = decodeTfjsWeights(manifest, (p) => shards[p]);
  const ref = tf.io.decodeWeights(bytes.slice().buffer, manifest[0].weights as tf.io.WeightsManifestEntry[]);
  for (const name of ['u8', 'u16', 'f16', 'f32']) {
    assert.deepEqual(Array.from(ours.get(name)!.data), Array.from(await ref[name].data()), name);
  }
  assert.deepEqual(ours.get('f16')!.shape, [2, 2]);
  assert.deepEqual(Array.from(ours.get('f16')!.data), [1, -2, 2 ** -24, 65504]);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('manifest errors: missing quantization metadata, short shards, unknown dtypes', () => {
  const one = (spec: TfjsWeightGroup['weights'][0], size: number) => () => decodeTfjsWeights([{ paths: ['s'], weights: [spec] }], () => new Uint8Array(size));
  assert.throws(one({ name: 'w', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8' } }, 4), /w: uint8 quantization without scale\/min/);
  assert.throws(one({ name: 'w', shape: [4], dtype: 'float32' }, 12), /w: shards end before/);
  assert.throws(one({ name: 'w', shape: [4], dtype: 'float32' }, 20), /hold 20 bytes, the manifest describes 16/);
  assert.throws(one({ name: 'w', shape: [4], dtype: 'float32', quantization: { dtype: 'int4' } }, 4), /w: unsupported quantization dtype int4/);
  assert.throws(one({ name: 'w', shape: [4], dtype: 'int32' }, 16), /w: dtype int32 is not float32/);
});
