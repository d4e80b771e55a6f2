// MiniFASNet V2 (2.7x) and V1SE (4.0x): logits of the imported float graphs against onnxruntime
// on real 80x80 patches cut the upstream way, and the fused live/spoof labels of the upstream
// samples (../shared/faces/README.md: F1 print and F2 replay are fake, T1 is live).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFloat, preprocess } from '../../tools/convert/float-exec.js';
import type { Graph } from '../../tools/convert/ir.js';
import { loadMiniFasNet, YUNET_META } from '../../tools/convert/models.js';
import { SKIP_NO_SHARED, fmt, loadFace, maxAbsDiff, resizeBilinear, runOrt, softmax, yunetFaces, type Face, type Rgba } from './helpers.js';

const SAMPLES = [
  { file: 'image_F1.jpg', live: false },
  { file: 'image_F2.jpg', live: false },
  { file: 'image_T1.jpg', live: true },
];
const TOLERANCE = 1e-4; // logits are O(1..10); observed ~1e-6

/**
 * Upstream src/generate_patches.py CropImage._get_new_box: scale the box about its centre
 * (capped to fit), shift it back inside the image, truncate to int; the crop includes the
 * bottom-right pixel.
 */
function patchBox(srcW: number, srcH: number, box: Face, scaleWanted: number) {
  const scale = Math.min((srcH - 1) / box.h, (srcW - 1) / box.w, scaleWanted);
  const newW = box.w * scale, newH = box.h * scale;
  const cx = box.w / 2 + box.x, cy = box.h / 2 + box.y;
  let left = cx - newW / 2, top = cy - newH / 2, right = cx + newW / 2, bottom = cy + newH / 2;
  if (left < 0) { right -= left; left = 0; }
  if (top < 0) { bottom -= top; top = 0; }
  if (right > srcW - 1) { left -= right - srcW + 1; right = srcW - 1; }
  if (bottom > srcH - 1) { top -= bottom - srcH + 1; bottom = srcH - 1; }
  const [l, t, r, b] = [left, top, right, bottom].map(Math.trunc);
  return { x: l, y: t, w: r - l + 1, h: b - t + 1 };
}

function patch(img: Rgba, face: Face, scale: number): Rgba {
  const b = patchBox(img.width, img.height, face, scale);
  return resizeBilinear(img, b.x, b.y, b.w, b.h, 80, 80);
}

/** The sample's face box, from onnxruntime's YuNet (the box source does not matter for this check). */
async function detect(img: Rgba): Promise<Face> {
  const { colorOrder, mean, scale } = YUNET_META;
  const x = preprocess(img.data, img.width, img.height, { name: 'input', shape: [img.height, img.width, 3], colorOrder, mean, scale });
  const out = await runOrt('yunet/face_detection_yunet_2026may.onnx', x, img.height, img.width);
  const [best] = yunetFaces(out, img.height, img.width);
  assert.ok(best, 'no face detected');
  return best;
}

const graphs: { v2?: Graph; v1se?: Graph } = {};

test('MiniFASNet V2 and V1SE import to the expected graphs', { skip: SKIP_NO_SHARED }, () => {
  graphs.v2 = loadMiniFasNet('v2');
  graphs.v1se = loadMiniFasNet('v1se');
  for (const g of [graphs.v2, graphs.v1se]) {
    assert.deepEqual(g.outputs, ['logits']);
    assert.deepEqual(g.tensors.logits, [1, 1, 3]);
    assert.deepEqual(g.input.shape, [80, 80, 3]);
    assert.equal(g.input.colorOrder, 'bgr');
    assert.equal(g.input.dynamic, undefined);
    // the 1-D BatchNorm after the linear layer is folded: two fc layers, no BN, no stray bias-free ops
    assert.equal(g.nodes.filter((n) => n.op === 'fc').length, 2);
  }
  assert.equal(graphs.v1se.nodes.filter((n) => n.op === 'channel_mul').length, 3);
  assert.equal(graphs.v2.nodes.filter((n) => n.op === 'channel_mul').length, 0);
});

test('MiniFASNet logits match onnxruntime and the samples keep their upstream labels', { skip: SKIP_NO_SHARED }, async (t) => {
  const models = [
    { graph: graphs.v2 ??= loadMiniFasNet('v2'), onnx: 'minifasnet/2.7_80x80_MiniFASNetV2.onnx', scale: 2.7 },
    { graph: graphs.v1se ??= loadMiniFasNet('v1se'), onnx: 'minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx', scale: 4.0 },
  ];
  for (const sample of SAMPLES) {
    const img = loadFace(`spoof/silent-face-anti-spoofing/${sample.file}`);
    const face = await detect(img);
    const fused = [0, 0, 0], fusedRef = [0, 0, 0];
    const diffs: string[] = [];
    for (const m of models) {
      const p = patch(img, face, m.scale);
      const x = preprocess(p.data, 80, 80, m.graph.input);
      const ours = runFloat(m.graph, x).logits;
      const ref = (await runOrt(m.onnx, x, 80, 80)).logits;
      const d = maxAbsDiff(ours, ref);
      assert.ok(d <= TOLERANCE, `${sample.file} ${m.graph.id}: logits differ by ${d}`);
      diffs.push(`${m.graph.id} ${fmt(d)}`);
      softmax(ours).forEach((v, i) => (fused[i] += v));
      softmax(ref).forEach((v, i) => (fusedRef[i] += v));
    }
    // upstream test.py: label = argmax of the summed softmax, score = sum[label] / 2; class 1 = live
    const label = fused.indexOf(Math.max(...fused));
    const labelRef = fusedRef.indexOf(Math.max(...fusedRef));
    t.diagnostic(`${sample.file}: max abs logit diff ${diffs.join(', ')}; live score ${(fused[1] / 2).toFixed(3)} (ORT ${(fusedRef[1] / 2).toFixed(3)}), label ${label}`);
    assert.equal(label, labelRef);
    assert.equal(label === 1, sample.live, `${sample.file} should be ${sample.live ? 'live' : 'spoof'}`);
  }
});
