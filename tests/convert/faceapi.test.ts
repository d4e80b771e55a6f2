// face-api.js recognition net: the hand-built IR against @vladmandic/face-api (same weights,
// tfjs-backend-wasm) on real 150x150 LFW crops. @vladmandic divides the input by 255 where the
// pinned face-api.js (and dlib) divide by 256, so the comparison uses inputDivisor 255; the
// default graph (256) is checked to stay within rounding distance of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { runFloat, preprocess } from '../../tools/convert/float-exec.js';
import type { Graph } from '../../tools/convert/ir.js';
import { loadFaceApiRecognition, sharedPath } from '../../tools/convert/models.js';
import { SKIP_NO_SHARED, cosine, fmt, loadFace, maxAbsDiff, toRgb } from './helpers.js';

const CROPS = [
  'lfw/Abdel_Nasser_Assidi/Abdel_Nasser_Assidi_0001.jpg',
  'lfw/Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg',
  'lfw/Abdoulaye_Wade/Abdoulaye_Wade_0002.jpg',
  'lfw/Abdullah/Abdullah_0001.jpg',
];

async function referenceNet() {
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  // the bundle re-exports @tensorflow/tfjs, but its typings only declare the core ops
  const tf = faceapi.tf as unknown as typeof import('@tensorflow/tfjs');
  await tf.setBackend('wasm');
  await tf.ready();
  assert.equal(tf.getBackend(), 'wasm');
  await faceapi.nets.faceRecognitionNet.loadFromDisk(sharedPath('models/faceapi-recognition'));
  return faceapi;
}

let graphs: { div255: Graph; div256: Graph } | undefined;
const load = () => (graphs ??= { div255: loadFaceApiRecognition({ inputDivisor: 255 }), div256: loadFaceApiRecognition() });

test('face-api recognition net imports to the expected graph', { skip: SKIP_NO_SHARED }, () => {
  const g = load().div256;
  assert.deepEqual(g.outputs, ['descriptor']);
  assert.deepEqual(g.tensors.descriptor, [1, 1, 128]);
  assert.deepEqual(g.input.shape, [150, 150, 3]);
  assert.deepEqual(g.input.mean, [122.782, 117.001, 104.298]);
  assert.deepEqual(g.input.scale, [1 / 256, 1 / 256, 1 / 256]);
  assert.equal(g.nodes.filter((n) => n.op === 'conv2d').length, 29);
  // residualDown shapes at 150x150: the avgPool shortcut is one larger than the 'valid' stride-2 conv
  assert.deepEqual(g.tensors['conv64_down/pool_padded'], [17, 17, 64]);
  assert.deepEqual(g.tensors['conv256_down/conv2'], [3, 3, 256]);
  assert.deepEqual(g.tensors['conv256_down/conv2_adjusted'], [4, 4, 256]);
  assert.deepEqual(g.tensors['conv256_down_out/conv2_adjusted'], [2, 2, 256]);
  assert.equal(g.tensors['conv128_down/conv2_adjusted'], undefined);
});

test('face-api descriptors match @vladmandic/face-api on LFW crops', { skip: SKIP_NO_SHARED }, async (t) => {
  const faceapi = await referenceNet();
  const { div255, div256 } = load();
  for (const file of CROPS) {
    const img = loadFace(file);
    assert.deepEqual([img.width, img.height], [150, 150]);
    const input = faceapi.tf.tensor3d(toRgb(img), [150, 150, 3], 'int32');
    const ref = (await faceapi.computeFaceDescriptor(input)) as Float32Array;
    input.dispose();
    const ours = runFloat(div255, preprocess(img.data, 150, 150, div255.input)).descriptor;
    const pinned = runFloat(div256, preprocess(img.data, 150, 150, div256.input)).descriptor;
    const cos = cosine(ours, ref), cosPinned = cosine(pinned, ref);
    t.diagnostic(`${file.split('/').pop()}: 1 - cosine ${fmt(1 - cos)}, max abs diff ${fmt(maxAbsDiff(ours, ref))} (|ref| ${Math.hypot(...ref).toFixed(3)}); /256 graph vs reference cosine ${cosPinned.toFixed(7)}`);
    assert.ok(cos >= 0.9999, `${file}: cosine ${cos}`);
    assert.ok(cosPinned >= 0.9999, `${file}: the /256 graph drifts from the /255 reference: cosine ${cosPinned}`);
  }
});
