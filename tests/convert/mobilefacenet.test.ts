// MobileFaceNet (opt-in second embedder, tools/convert/mobilefacenet.ts): the imported float graph
// (Clip(0, 6) -> ReLU6) against onnxruntime on real aligned 112x112 crops, and the Clip bounds the
// importer refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runFloat } from '../../tools/convert/float-exec.js';
import { toNetworkInput, align, TEMPLATE_112, loadRgb } from '../../tools/convert/image.js';
import { YunetOrt } from '../../tools/convert/calibration.js';
import { sharedPath } from '../../tools/convert/models.js';
import { loadMobileFaceNet, MOBILEFACENET_META } from '../../tools/convert/mobilefacenet.js';
import { importOnnx } from '../../tools/convert/onnx-import.js';
import { SKIP_NO_SHARED, cosine, maxAbsDiff, runOrt } from './helpers.js';

const FACES = ['lfw/Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg', 'deepface/p01/img1.jpg'];

test('MobileFaceNet imports: ReLU6 from Clip, 128-d descriptor, RGB ImageNet input', { skip: SKIP_NO_SHARED }, () => {
  const g = loadMobileFaceNet();
  const count = (op: string) => g.nodes.filter((n) => n.op === op).length;
  assert.equal(count('conv2d') + count('depthwise'), 51);
  assert.equal(count('relu6'), 32);
  assert.equal(count('relu'), 2);
  assert.equal(count('add'), 12);
  assert.deepEqual(g.outputs, ['descriptor']);
  assert.deepEqual(g.tensors.descriptor, [1, 1, 128]);
  assert.deepEqual(g.input.shape, [112, 112, 3]);
  assert.equal(g.input.colorOrder, 'rgb');
});

test('MobileFaceNet float graph matches onnxruntime on aligned crops', { skip: SKIP_NO_SHARED }, async (t) => {
  const g = loadMobileFaceNet();
  const det = await YunetOrt.create();
  for (const path of FACES) {
    const full = sharedPath(`faces/${path}`);
    let img;
    try { img = loadRgb(full); } catch { t.diagnostic(`${path}: unreadable, skipped`); continue; }
    const face = await det.bestFace(img);
    assert.ok(face, `${path}: no face`);
    const crop = align(img, face!.landmarks, TEMPLATE_112, 112);
    const x = toNetworkInput(crop, g.input);
    const ours = runFloat(g, x).descriptor;
    const ref = Object.values(await runOrt('mobilefacenet/MobileFaceNet.onnx', x, 112, 112))[0];
    t.diagnostic(`${path}: max abs diff ${maxAbsDiff(ours, ref).toExponential(2)}, 1 - cosine ${(1 - cosine(ours, ref)).toExponential(2)}`);
    assert.ok(maxAbsDiff(ours, ref) < 1e-3 && 1 - cosine(ours, ref) < 1e-9);
  }
});

test('Clip bounds other than [0, 6] / [0, inf) throw naming the node', { skip: SKIP_NO_SHARED }, () => {
  // patch the first ReLU6 bound (a Constant node's 6.0 float) of the real file to 5.0
  const bytes = new Uint8Array(readFileSync(sharedPath(`models/mobilefacenet/${MOBILEFACENET_META.source.file}`)));
  const six = new Uint8Array(new Float32Array([6]).buffer), five = new Uint8Array(new Float32Array([5]).buffer);
  let at = -1;
  for (let i = 0; i + 4 <= bytes.length && at < 0; i++) if (bytes[i] === six[0] && bytes[i + 1] === six[1] && bytes[i + 2] === six[2] && bytes[i + 3] === six[3]) at = i;
  assert.ok(at > 0);
  bytes.set(five, at);
  assert.throws(() => importOnnx(bytes, MOBILEFACENET_META), /Clip node ".*": only Clip\(0, 6\)/);
});
