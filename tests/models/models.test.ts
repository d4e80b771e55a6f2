// The shipped models/*.wfm against their float originals on a few dev samples (int8-exec vs
// runFloat on the same prepared graph), the manifest, and the conversion's determinism on real data.
// Tolerances (well outside what the conversion measured on its evaluation subset, see the cards):
//   embedder: cosine(int8, float) >= 0.998 per face
//   anti-spoof: |live score difference| <= 0.2 per patch, mean <= 0.05; spoof sample labels kept
//   detector: every float face (score >= 0.9) matched at IoU >= 0.7 except near-threshold ones
//             (float score < 0.93), worst of the 5 landmark errors at 112 scale <= 6 px (mean ~1 px)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { faceSamples, haveFaces, spoofSamples, yunetPictures } from '../../tools/convert/calibration.js';
import { cosine, floatRefs, int8Outputs, softmax } from '../../tools/convert/evaluate.js';
import { runFloat } from '../../tools/convert/float-exec.js';
import { similarity, TEMPLATE_112, toNetworkInput } from '../../tools/convert/image.js';
import type { Graph } from '../../tools/convert/ir.js';
import { haveSharedModels, loadFaceApiRecognition, loadMiniFasNet, loadYunet } from '../../tools/convert/models.js';
import { CalibrationStats, prepareGraph, quantize } from '../../tools/convert/quantize.js';
import { readWfm } from '../../tools/convert/wfm-reader.js';
import { writeWfm } from '../../tools/convert/wfm-writer.js';
import type { WfmModel } from '../../tools/convert/wfm.js';
import { decodeYunet, iou } from '../../tools/convert/yunet-decode.js';

const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
const SKIP: string | false = haveSharedModels() && haveFaces() ? false : '../shared (models and faces) not found beside the repository: skipping the comparisons with the float models';
const SEED = 77; // not the conversion's seed: other samples than its evaluation subset

function shipped(id: string): WfmModel {
  const m = readWfm(readFileSync(`${MODELS_DIR}${id}.wfm`));
  return m;
}

test('models/manifest.json lists every shipped file with its size and SHA-256; files round-trip', () => {
  const manifest = JSON.parse(readFileSync(`${MODELS_DIR}manifest.json`, 'utf8')) as Record<string, { file: string; sha256: string; size: number }>;
  assert.deepEqual(Object.keys(manifest).sort(), ['faceapi-recognition', 'minifasnet-v1se-4.0', 'minifasnet-v2-2.7', 'yunet-2023mar']);
  let total = 0;
  for (const [id, e] of Object.entries(manifest)) {
    const bytes = readFileSync(`${MODELS_DIR}${e.file}`);
    assert.equal(bytes.length, e.size, `${id}: size`);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256, `${id}: sha256`);
    const m = readWfm(bytes);
    assert.equal(m.meta.id, id);
    assert.deepEqual(Buffer.from(writeWfm(m)), bytes, `${id}: read + write changes the bytes`);
    assert.ok(existsSync(`${MODELS_DIR}${id}.md`), `${id}: model card missing`);
    total += e.size;
  }
  assert.ok(total < 6.4 * 2 ** 20, `models total ${total} bytes`);
});

const prepared = new Map<string, Graph>();
const graph = (id: string, load: () => Graph) => {
  if (!prepared.has(id)) prepared.set(id, prepareGraph(load()).graph);
  return prepared.get(id)!;
};

test('meta records the unchanged source file', { skip: SKIP }, () => {
  for (const [id, load] of [['yunet-2023mar', loadYunet], ['minifasnet-v2-2.7', () => loadMiniFasNet('v2')], ['minifasnet-v1se-4.0', () => loadMiniFasNet('v1se')], ['faceapi-recognition', () => loadFaceApiRecognition()]] as const) {
    const meta = shipped(id).meta as unknown as { source: { sha256: string } };
    assert.equal(meta.source.sha256, graph(id, load).source.sha256, `${id}: source changed since conversion`);
  }
});

test('face-api embedder: int8 within cosine 0.998 of float on aligned dev faces', { skip: SKIP }, async (t) => {
  const g = graph('faceapi-recognition', () => loadFaceApiRecognition());
  const m = shipped('faceapi-recognition');
  const faces = await faceSamples(3, 0, SEED);
  for (const f of faces) {
    const ref = runFloat(g, toNetworkInput(f.aligned, g.input)).descriptor;
    const c = cosine(ref, int8Outputs(m, g.outputs, f.aligned).descriptor);
    t.diagnostic(`${f.file}: cosine ${c.toFixed(5)}`);
    assert.ok(c >= 0.998, `${f.file}: cosine ${c}`);
  }
});

test('MiniFASNet V2 and V1SE: int8 live scores close to float; spoof samples keep their labels', { skip: SKIP }, async (t) => {
  const faces = await faceSamples(6, 0, SEED);
  const spoof = await spoofSamples();
  assert.equal(spoof.length, 3);
  const fused = new Map<string, { f: number[]; q: number[] }>();
  for (const [id, which, key] of [['minifasnet-v2-2.7', 'v2', 'patch27'], ['minifasnet-v1se-4.0', 'v1se', 'patch40']] as const) {
    const g = graph(id, () => loadMiniFasNet(which));
    const m = shipped(id);
    const d = faces.map((f) => {
      const pf = softmax(runFloat(g, toNetworkInput(f[key], g.input)).logits), pq = softmax(int8Outputs(m, g.outputs, f[key]).logits);
      return Math.abs(pf[1] - pq[1]);
    });
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    t.diagnostic(`${id}: |live diff| mean ${mean.toFixed(4)} max ${Math.max(...d).toFixed(4)}`);
    assert.ok(Math.max(...d) <= 0.2 && mean <= 0.05, `${id}: live score differences ${d.map((x) => x.toFixed(3))}`);
    for (const s of spoof) {
      const pf = softmax(runFloat(g, toNetworkInput(s[key], g.input)).logits), pq = softmax(int8Outputs(m, g.outputs, s[key]).logits);
      const e = fused.get(s.file) ?? { f: [0, 0, 0], q: [0, 0, 0] };
      pf.forEach((v, i) => { e.f[i] += v; e.q[i] += pq[i]; });
      fused.set(s.file, e);
    }
  }
  for (const s of spoof) {
    const { f, q } = fused.get(s.file)!;
    const label = (p: number[]) => p.indexOf(Math.max(...p));
    t.diagnostic(`${s.file}: fused live score float ${(f[1] / 2).toFixed(4)} int8 ${(q[1] / 2).toFixed(4)}`);
    assert.equal(label(q), label(f), `${s.file}: fused label changed`);
    assert.equal(label(f) === 1, s.label === '_live', `${s.file}: the float fusion itself disagrees with the sample label`);
  }
});

test('YuNet: int8 detections match float on dev pictures', { skip: SKIP }, (t) => {
  const g = graph('yunet-2023mar', loadYunet);
  const m = shipped('yunet-2023mar');
  const pics = yunetPictures(4, 0, SEED).filter((p) => p.img.width * p.img.height <= 320 * 320 * 2);
  const refs = floatRefs(g, pics.map((p) => p.img));
  let faces = 0;
  refs.forEach((r, i) => {
    const f = decodeYunet(r.out, r.img.height, r.img.width);
    const q = decodeYunet(int8Outputs(m, g.outputs, r.img), r.img.height, r.img.width);
    for (const a of f) {
      faces++;
      const b = q.find((x) => iou(a, x) >= 0.7);
      if (!b) { assert.ok(a.score < 0.93, `${pics[i].file}: float face (score ${a.score.toFixed(3)}) not found by int8`); continue; }
      const k = Math.hypot(...similarity(a.landmarks, TEMPLATE_112).slice(0, 1), similarity(a.landmarks, TEMPLATE_112)[3]);
      const err = Math.max(...a.landmarks.map(([x, y], n) => Math.hypot(x - b.landmarks[n][0], y - b.landmarks[n][1]) * k));
      t.diagnostic(`${pics[i].file} ${r.img.width}x${r.img.height}: IoU ${iou(a, b).toFixed(3)}, worst landmark ${err.toFixed(2)} px at 112, score ${a.score.toFixed(3)} -> ${b.score.toFixed(3)}`);
      assert.ok(err <= 6, `${pics[i].file}: landmark error ${err} px at 112 scale`);
    }
  });
  assert.ok(faces >= 1, 'the sample pictures hold no face');
});

test('conversion of real data is deterministic (MiniFASNet V2, small calibration)', { skip: SKIP }, async () => {
  const g = graph('minifasnet-v2-2.7', () => loadMiniFasNet('v2'));
  const faces = await faceSamples(3, 0, SEED);
  const convert = () => {
    const stats = new CalibrationStats();
    for (const f of faces) stats.observe(runFloat(g, toNetworkInput(f.patch27, g.input), undefined, { keepAll: true }));
    return writeWfm({ ...quantize(g, stats, { method: 'mse' }).model, meta: { id: 'minifasnet-v2-2.7' } });
  };
  assert.deepEqual(convert(), convert());
});
