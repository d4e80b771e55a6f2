// CI-sized version of `npm run eval:models` (tools/eval/): OUR int8 models in OUR wasm runtime against
// the float originals in independent engines (onnxruntime-web for YuNet and MiniFASNet,
// @vladmandic/face-api on tfjs-backend-wasm for the recognition net), on a small seeded subset:
// 40 images of ../shared/faces/pairs.csv and every pair they cover, 10 detector pictures (6 whole
// pictures, 4 LFW crops), the 3 upstream spoof samples. Same inputs on both sides (the engine's own
// canvas, crop and patches); embeddings without flip fusion on both sides (the float reference has none).
//
// Targets (issue text) are asserted as such. The ones the full run misses (bench/out/eval-models.json,
// model cards) are `todo` subtests: they run and report, but do not fail CI until the models meet
// them. Hard regression guards at the current level sit beside them, and the checks that the
// evaluator reproduces the engine's own results are hard assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { haveBundledModels } from '../../js/node.js';
import { haveSharedModels, sharedPath } from '../../tools/convert/models.js';
import {
  antispoofResult, detectorResult, evalEmbedder, evalScene, Evaluator, newAccumulator, selectPairs, selectScenes, spoofScenes, TARGETS,
  type AntispoofResult, type DetectorResult, type EmbedderResult,
} from '../../tools/eval/accuracy.js';

const SEED = 20240901; // the eval script's default seed; not chosen by looking at results
const SKIP: string | false = !haveSharedModels() || !existsSync(sharedPath('faces/pairs.csv'))
  ? `../shared (models and faces) not found at ${sharedPath('')}: skipping the int8-vs-float accuracy comparisons`
  : !haveBundledModels() ? 'no bundled models (models/manifest.json): skipping the int8-vs-float accuracy comparisons' : false;

// targets the full run misses (see the model cards' eval:models sections): reported as TODO
const MISSED_IN_FULL_RUN = {
  detectorLandmarks: 'missed by the full run (max 6.72 px at 112, 99.6 % of landmarks within 2 px)',
  fusedLive: 'missed by the full run (max |difference| 0.12, mean 0.015, 74 % of faces within 0.02)',
};

let e: EmbedderResult, d: DetectorResult, a: AntispoofResult;

test('int8 vs float on a seeded subset: run the comparisons', { skip: SKIP }, async (t) => {
  const t0 = performance.now();
  const ev = await Evaluator.create();
  try {
    const { images, pairs } = selectPairs(40, SEED);
    e = await evalEmbedder(ev, images, pairs, { consistency: 10 });
    const acc = newAccumulator();
    for (const s of selectScenes(6, 4, SEED)) await evalScene(ev, s, acc);
    const spoof = newAccumulator();
    for (const s of spoofScenes()) await evalScene(ev, s, spoof, { detector: false });
    d = detectorResult(ev, acc);
    a = antispoofResult(ev, acc.live, spoof.live);
    t.diagnostic(`${ev.backend} build; ${e.embedded} faces, ${e.pairs.used} pairs, ${d.images} pictures (${d.matched} faces), ${a.faces} + ${a.spoof.length} liveness faces in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await ev.dispose();
  }
});

const ran = () => assert.ok(e && d && a, 'the comparison run did not complete');

test('the evaluator reproduces the engine: same crops, canvases and patches as FaceEngine', { skip: SKIP }, () => {
  ran();
  assert.ok(e.consistency.checked >= 10);
  assert.ok(e.consistency.maxAbsDiff <= 1e-6, `embedding of the reproduced crop differs from engine.embed by ${e.consistency.maxAbsDiff}`);
  assert.equal(d.consistency.sameCount, d.consistency.images, 'face counts differ from engine.detect');
  assert.ok(d.consistency.maxCoordDiff <= 0.01, `detections differ from engine.detect by ${d.consistency.maxCoordDiff} px`);
  assert.ok(a.consistency.maxAbsDiff <= 1e-5, `fused live score differs from engine.liveness by ${a.consistency.maxAbsDiff}`);
});

test('embedder: cosine(int8, float) mean >= 0.99 and 1st percentile >= 0.97 on the same aligned crops', { skip: SKIP }, (t) => {
  ran();
  t.diagnostic(`${e.cosine.n} faces: mean ${e.cosine.mean.toFixed(5)}, p1 ${e.cosine.p1.toFixed(5)}, min ${e.cosine.min.toFixed(5)}`);
  assert.ok(e.embedded >= 38, `only ${e.embedded} of ${e.images} images embedded`);
  assert.ok(e.cosine.mean >= TARGETS.embedderMeanCosine, `mean cosine ${e.cosine.mean}`);
  assert.ok(e.cosine.p1 >= TARGETS.embedderP1Cosine, `1st percentile ${e.cosine.p1}`);
});

test('embedder: same/different decisions agree with float on >= 99.9 % of the covered pairs (each at its own FAR 1e-3, no flip)', { skip: SKIP }, (t) => {
  ran();
  const p = e.pairs;
  t.diagnostic(`${p.used} pairs (${p.genuine} genuine): thresholds float ${p.floatThreshold.toFixed(4)} int8 ${p.int8Threshold.toFixed(4)}, agreement ${(p.agreement * 100).toFixed(2)} %`);
  assert.ok(p.genuine >= 5 && p.impostor >= 5, 'the subset covers too few pairs of one kind');
  assert.ok(p.agreement >= TARGETS.pairAgreement, `agreement ${p.agreement}: ${JSON.stringify(p.disagreements.examples)}`);
});

test('detector: box IoU >= 0.9 vs float for every face', { skip: SKIP }, (t) => {
  ran();
  t.diagnostic(`${d.matched} faces: IoU min ${d.iou.min.toFixed(4)}, mean ${d.iou.mean.toFixed(4)}`);
  assert.ok(d.iou.min >= TARGETS.detectorIou, `min IoU ${d.iou.min} (${JSON.stringify(d.worst[0])})`);
});

test('detector: landmarks within 2 px at 112x112 scale (alignment scale) for every landmark', { skip: SKIP, todo: MISSED_IN_FULL_RUN.detectorLandmarks }, (t) => {
  ran();
  t.diagnostic(`landmarks: mean ${d.landmark112.mean.toFixed(2)}, p99 ${d.landmark112.p99.toFixed(2)}, max ${d.landmark112.max.toFixed(2)} px`);
  assert.ok(d.landmark112.max <= TARGETS.detectorLandmark112, `max landmark error ${d.landmark112.max} px at 112 (${JSON.stringify(d.worst[0])})`);
});

test('detector regression guard: no face lost or added; IoU and landmarks at the current level', { skip: SKIP }, () => {
  ran();
  assert.ok(d.matched >= 10, `only ${d.matched} faces compared`);
  assert.equal(d.missed.length, 0, `float faces missed by int8: ${JSON.stringify(d.missed)}`);
  assert.equal(d.extra.length, 0, `int8 faces float does not find: ${JSON.stringify(d.extra)}`);
  assert.ok(d.iou.mean >= 0.95 && d.iou.min >= 0.8, `IoU mean ${d.iou.mean} min ${d.iou.min}`);
  assert.ok(d.landmark112.mean <= 1 && d.landmark112.max <= 8, `landmarks mean ${d.landmark112.mean} max ${d.landmark112.max} px`);
});

test('anti-spoofing: fused live score within 0.02 of float for every face', { skip: SKIP, todo: MISSED_IN_FULL_RUN.fusedLive }, (t) => {
  ran();
  t.diagnostic(`${a.fused.n} faces: |fused int8 - float| mean ${a.fused.mean.toFixed(4)}, max ${a.fused.max.toFixed(4)}`);
  assert.ok(a.fused.max <= TARGETS.fusedLiveDiff, `max |difference| ${a.fused.max} (${JSON.stringify(a.worst[0])})`);
});

test('anti-spoofing regression guard: fused live score difference at the current level', { skip: SKIP }, () => {
  ran();
  assert.ok(a.fused.n >= 10, `only ${a.fused.n} faces`);
  assert.ok(a.fused.mean <= 0.025 && a.fused.max <= 0.15, `|fused int8 - float| mean ${a.fused.mean} max ${a.fused.max}`);
});

test('anti-spoofing: the upstream samples keep their labels (F1 print and F2 replay spoof, T1 live)', { skip: SKIP }, (t) => {
  ran();
  assert.equal(a.spoof.length, 3, 'the three upstream samples (each with a face)');
  for (const s of a.spoof) {
    t.diagnostic(`${s.path.split('/').pop()} ${s.label}: fused live float ${s.float.toFixed(4)} int8 ${s.int8.toFixed(4)}, engine live ${s.engineLive}`);
    assert.ok(s.kept, `${s.path}: float class ${s.floatClass}, int8 class ${s.int8Class}, engine live ${s.engineLive}; expected ${s.expectLive ? 'live' : 'spoof'}`);
  }
});

test('model cards: the eval:models section is replaced in place, and kept (marked stale when the file changed) when the converter regenerates a card', async () => {
  const { EVAL_BEGIN, EVAL_END, extractEvalSection, preserveEvalSection, replaceEvalSection } = await import('../../tools/eval/cards.js');
  const sha = 'ab'.repeat(32), other = 'cd'.repeat(32);
  const section = (n: number) => `${EVAL_BEGIN}\n## Measured\n\nmeasured on \`models/m.wfm\` SHA-256 \`${sha}\`, run ${n}\n${EVAL_END}`;
  const card = '# m\n\n## Notes\n\n- a note\n';
  const once = replaceEvalSection(card, section(1));
  assert.ok(once.startsWith(card) && once.includes('run 1'));
  const twice = replaceEvalSection(once, section(2));
  assert.equal(twice, once.replace('run 1', 'run 2'), 'replaced in place, nothing else changes');
  const regenerated = '# m\n\n## Notes\n\n- another note\n';
  assert.equal(extractEvalSection(preserveEvalSection(regenerated, twice, sha)), section(2), 'same file: kept as is');
  const stale = preserveEvalSection(regenerated, twice, other);
  assert.ok(stale.startsWith(regenerated) && /Stale/.test(extractEvalSection(stale)!), 'new file: kept with a stale note');
  assert.equal(preserveEvalSection(stale, stale, other).match(/Stale/g)?.length, 1, 'the note is not repeated');
  assert.equal(preserveEvalSection(regenerated, card, sha), regenerated, 'no section: the new card as generated');
  assert.equal(preserveEvalSection(regenerated, undefined, sha), regenerated);
});
