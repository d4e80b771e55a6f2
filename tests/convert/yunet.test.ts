// YuNet: the imported float graph against onnxruntime on real photos, at the declared 640x640
// (2023mar file, letterboxed) and at other multiples of 32 (2026may file: same weights, dynamic
// H/W), all 12 outputs.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runFloat, preprocess } from '../../tools/convert/float-exec.js';
import type { Graph } from '../../tools/convert/ir.js';
import { importOnnx } from '../../tools/convert/onnx-import.js';
import { loadYunet, sharedPath, YUNET_META } from '../../tools/convert/models.js';
import { SKIP_NO_SHARED, fmt, loadFace, maxAbsDiff, padTo, resizeBilinear, runOrt, yunetFaces, type Rgba } from './helpers.js';

const OUTPUTS = ['cls', 'obj', 'bbox', 'kps'].flatMap((k) => [8, 16, 32].map((s) => `${k}_${s}`));
// float32 (ORT) vs float64 sums stored as float32; observed <= 1e-5 on these images
const TOLERANCE = 1e-4;

let graph: Graph | undefined;
const yunet = () => (graph ??= loadYunet());

/** Scales to fit `size` (keeping the aspect ratio) and pads bottom/right. */
function letterbox(img: Rgba, size: number): Rgba {
  const k = size / Math.max(img.width, img.height);
  return padTo(resizeBilinear(img, 0, 0, img.width, img.height, Math.round(img.width * k), Math.round(img.height * k)), size, size);
}

const up32 = (n: number) => Math.ceil(n / 32) * 32;

async function compare(t: TestContext, name: string, img: Rgba, model: string) {
  const g = yunet();
  const x = preprocess(img.data, img.width, img.height, g.input);
  const ours = runFloat(g, x, { h: img.height, w: img.width });
  const ref = await runOrt(model, x, img.height, img.width);
  let worst = 0;
  for (const o of OUTPUTS) {
    assert.ok(ours[o], `float graph lacks output ${o}`);
    const d = maxAbsDiff(ours[o], ref[o]);
    assert.ok(d <= TOLERANCE, `${name} ${o}: max abs diff ${d}`);
    worst = Math.max(worst, d);
  }
  const faces = yunetFaces(ours, img.height, img.width);
  const refFaces = yunetFaces(ref, img.height, img.width);
  t.diagnostic(`${name} ${img.width}x${img.height} (${model.split('/')[1]}): max abs diff ${fmt(worst)}, ` +
    `anchors >= 0.9: ${faces.length} (ORT ${refFaces.length}), best ${faces[0]?.score.toFixed(4) ?? '-'}`);
  return faces;
}

test('YuNet imports to the expected outputs, shapes and input spec', { skip: SKIP_NO_SHARED }, () => {
  const g = yunet();
  assert.deepEqual(g.outputs, ['cls_8', 'cls_16', 'cls_32', 'obj_8', 'obj_16', 'obj_32', 'bbox_8', 'bbox_16', 'bbox_32', 'kps_8', 'kps_16', 'kps_32']);
  assert.deepEqual(g.tensors.cls_8, [80, 80, 1]);
  assert.deepEqual(g.tensors.bbox_16, [40, 40, 4]);
  assert.deepEqual(g.tensors.kps_32, [20, 20, 10]);
  assert.deepEqual(g.input, { name: 'input', shape: [640, 640, 3], dynamic: { multipleOf: 32 }, colorOrder: 'bgr', mean: [0, 0, 0], scale: [1, 1, 1] });
  assert.equal(g.source.sha256, '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4');
  const ops = new Set(g.nodes.map((n) => n.op));
  assert.deepEqual([...ops].sort(), ['add', 'conv2d', 'depthwise', 'maxpool', 'relu', 'sigmoid', 'upsample_nearest']);
});

test('YuNet float graph matches onnxruntime at 640x640 (2023mar)', { skip: SKIP_NO_SHARED }, async (t) => {
  const faces = await compare(t, 'bbt1 letterboxed', letterbox(loadFace('face-api.js/_unlabelled/bbt1.jpg'), 640), 'yunet/face_detection_yunet_2023mar.onnx');
  assert.ok(faces.length >= 1, 'no face found in a group photo');
});

test('YuNet float graph matches onnxruntime at other multiples of 32 (2026may)', { skip: SKIP_NO_SHARED }, async (t) => {
  // EXIF orientation 6: 480x640 once upright
  const live = loadFace('spoof/silent-face-anti-spoofing/image_T1.jpg');
  assert.deepEqual([live.width, live.height], [480, 640]);
  const faces = await compare(t, 'image_T1', live, 'yunet/face_detection_yunet_2026may.onnx');
  assert.ok(faces.length >= 1, 'no face found in the live sample');

  const crop = loadFace('lfw/Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg');
  await compare(t, 'lfw crop padded', padTo(crop, up32(crop.width), up32(crop.height)), 'yunet/face_detection_yunet_2026may.onnx');

  const group = loadFace('deepface/_unlabelled/selfie-many-people.jpg');
  const half = resizeBilinear(group, 0, 0, group.width, group.height, group.width >> 1, group.height >> 1);
  await compare(t, 'selfie half size padded', padTo(half, up32(half.width), up32(half.height)), 'yunet/face_detection_yunet_2026may.onnx');
});

test('YuNet float graph rejects sizes that are not multiples of 32', { skip: SKIP_NO_SHARED }, () => {
  assert.throws(() => runFloat(yunet(), new Float32Array(100 * 96 * 3), { h: 100, w: 96 }), /multiple of 32/);
});

test('the 2026may file (symbolic H/W) imports to the same graph as 2023mar', { skip: SKIP_NO_SHARED }, () => {
  const bytes = readFileSync(sharedPath('models/yunet/face_detection_yunet_2026may.onnx'));
  const g = importOnnx(bytes, { ...YUNET_META, id: 'yunet-2026may', source: { ...YUNET_META.source, file: 'face_detection_yunet_2026may.onnx' } });
  const ref = yunet();
  assert.deepEqual(g.tensors, ref.tensors);
  assert.deepEqual(g.nodes, ref.nodes);
  assert.throws(() => importOnnx(bytes, { ...YUNET_META, planShape: undefined }), /symbolic; give meta.planShape/);
});
