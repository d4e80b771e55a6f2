// npm run eval:models: accuracy of OUR int8 models in OUR wasm runtime against the float originals
// run by independent engines (onnxruntime-web for YuNet and MiniFASNet, @vladmandic/face-api on
// tfjs-backend-wasm for the face-api.js recognition net). See tools/eval/accuracy.ts for what is
// compared and how.
//
//   node --experimental-wasm-relaxed-simd --import tsx tools/eval/eval-models.ts [--quick] [--write-cards]
//        [--backend relaxed|simd|scalar] [--seed N] [--out bench/out/eval-models.json]
//
// Full run: every image of ../shared/faces/pairs.csv (2,703) for the embedder and the pair decisions,
// every non-LFW dev picture plus 300 seeded LFW crops for the detector and liveness, the 3 upstream
// spoof samples. --quick: 300 images of the pairs file (seeded, genuine and impostor pairs
// alternating), 30 + 20 detector pictures, the spoof samples.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Progress } from '../../js/cli/progress.js';
import type { Backend } from '../../js/loader.js';
import { haveSharedModels, sharedPath } from '../convert/models.js';
import {
  antispoofResult, detectorResult, evalEmbedder, evalScene, Evaluator, newAccumulator, selectPairs, selectScenes, spoofScenes, TARGETS, verdicts,
  type AntispoofResult, type DetectorResult, type EmbedderResult, type Verdict,
} from './accuracy.js';
import { EVAL_BEGIN, EVAL_END, replaceEvalSection } from './cards.js';
import { FloatMiniFas, FloatYunet } from './references.js';

interface Args { quick: boolean; writeCards: boolean; backend?: Backend; seed: number; out: string }

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, writeCards: false, seed: 20240901, out: resolve(ROOT, 'bench/out/eval-models.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], next = () => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--quick') a.quick = true;
    else if (k === '--write-cards') a.writeCards = true;
    else if (k === '--backend') a.backend = next() as Backend;
    else if (k === '--seed') a.seed = Number(next());
    else if (k === '--out') a.out = resolve(next());
    else if (k === '--help' || k === '-h') usage();
    else usage(`unknown argument ${k}`);
  }
  return a;
}

function usage(error?: string): never {
  if (error) console.error(`eval-models: ${error}`);
  console.error('usage: node --experimental-wasm-relaxed-simd --import tsx tools/eval/eval-models.ts [--quick] [--write-cards] [--backend relaxed|simd|scalar] [--seed N] [--out FILE]');
  process.exit(error ? 2 : 0);
}

const SIZES = {
  full: { pairImages: undefined as number | undefined, whole: undefined as number | undefined, lfw: 300 },
  quick: { pairImages: 300, whole: 30, lfw: 20 },
};

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : String(v));
const pct = (v: number, d = 1) => (Number.isFinite(v) ? `${(v * 100).toFixed(d)} %` : String(v));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!haveSharedModels() || !existsSync(sharedPath('faces/pairs.csv'))) {
    console.error(`eval-models: ../shared (models and faces) not found at ${sharedPath('')}; set WASMFACE_SHARED to override`);
    process.exit(1);
  }
  const mode = args.quick ? 'quick' : 'full';
  const size = SIZES[mode];
  const t0 = performance.now();
  const ev = await Evaluator.create({ backend: args.backend });
  const tLoad = performance.now();
  console.error(`eval-models (${mode}): int8 on the ${ev.backend} build; float on onnxruntime-web ${ev.versions.onnxruntimeWeb} (wasm, 1 thread) and @vladmandic/face-api on tfjs ${ev.versions.tfjs} (${ev.versions.tfjsBackend})`);

  // ---- detector and liveness on whole pictures and LFW crops
  const scenes = selectScenes(size.whole, size.lfw, args.seed);
  const acc = newAccumulator();
  const ps = new Progress('detector + liveness', scenes.length);
  for (const s of scenes) { await evalScene(ev, s, acc); ps.tick(1, s.path.split('/').pop()); }
  const spoofAcc = newAccumulator();
  for (const s of spoofScenes()) await evalScene(ev, s, spoofAcc, { detector: false });
  const detector = detectorResult(ev, acc);
  const antispoof = antispoofResult(ev, acc.live, spoofAcc.live);
  const tScenes = performance.now();

  // ---- embedder and pair decisions
  const { images, pairs } = selectPairs(size.pairImages, args.seed);
  const pe = new Progress('embedder', images.length);
  const embedder = await evalEmbedder(ev, images, pairs, { onEach: () => pe.tick() });
  const tEmbed = performance.now();

  const v = verdicts(embedder, detector, antispoof);
  const seconds = { load: (tLoad - t0) / 1000, detectorAndLiveness: (tScenes - tLoad) / 1000, embedder: (tEmbed - tScenes) / 1000, total: (tEmbed - t0) / 1000 };
  const meta = {
    mode, seed: args.seed, date: new Date().toISOString(), backend: ev.backend, versions: ev.versions, seconds,
    float: { detector: FloatYunet.FILE, antispoof: FloatMiniFas.FILES, embedder: 'faceapi-recognition/ (face-api.js a86f011 weights) via @vladmandic/face-api face-api.node-wasm' },
    notes: [
      'embeddings without flip fusion on both sides (the float reference has none); the product fuses the crop and its mirror image',
      'same input bytes on both sides: the engine\'s detector canvas, fa150 crop and anti-spoofing patches, made by the same wasm calls as js/engine.ts',
      'float face-api net fed so that @vladmandic\'s (x - mean) / 255 equals the original (p - mean) / 256 of the converted commit',
      'landmark error scaled by the alignment scale: the similarity taking the float landmarks to the 112x112 template',
    ],
  };
  await ev.dispose();

  printReport(v, embedder, detector, antispoof, meta);
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ meta, targets: TARGETS, verdicts: v, models: ev.models, embedder, detector, antispoof }, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2) + '\n');
  console.log(`\nwrote ${args.out}`);

  if (args.writeCards) {
    for (const m of ev.models) {
      const path = resolve(ROOT, m.file.replace(/\.wfm$/, '.md'));
      if (!existsSync(path)) { console.error(`no model card ${path}; skipped`); continue; }
      const section = cardSection(m.id, m, v, embedder, detector, antispoof, meta);
      writeFileSync(path, replaceEvalSection(readFileSync(path, 'utf8'), section));
      console.log(`updated ${path}`);
    }
  }
  const missed = v.filter((x) => !x.pass);
  console.log(missed.length ? `\n${missed.length} of ${v.length} targets missed (see above)` : `\nall ${v.length} targets met`);
}

type Meta = { mode: string; seed: number; date: string; backend: string; versions: Record<string, string>; seconds: Record<string, number>; notes: string[] };

function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, i) => r.map((x, c) => x.padEnd(w[c])).join('  ') + (i === 0 ? `\n${w.map((n) => '-'.repeat(n)).join('  ')}` : '')).join('\n');
}

function printReport(v: Verdict[], e: EmbedderResult, d: DetectorResult, a: AntispoofResult, meta: Meta) {
  console.log(`\nint8 (wasmface ${meta.backend} build) vs float originals — ${meta.mode} run, seed ${meta.seed}, ${meta.seconds.total.toFixed(0)} s\n`);
  console.log(table([['model', 'measure', 'target', 'measured', ''], ...v.map((x) => [x.model, x.what, x.target, x.measured, x.pass ? 'ok' : 'MISSED'])]));
  console.log(`\nembedder ${e.id}: ${e.embedded} of ${e.images} images embedded (${e.noFace.length} without a face, ${e.unreadable.length} unreadable); ` +
    `cosine mean ${f4(e.cosine.mean)} p1 ${f4(e.cosine.p1)} p5 ${f4(e.cosine.p5)} min ${f4(e.cosine.min)}; ` +
    `${e.ms.int8.toFixed(1)} ms/image int8 (detect+align+embed), ${e.ms.float.toFixed(1)} ms float embed`);
  const p = e.pairs;
  console.log(`  pairs: ${p.used} of ${p.total} used (${p.genuine} genuine, ${p.impostor} impostor); FAR-1e-3 thresholds float ${f4(p.floatThreshold)}, int8 ${f4(p.int8Threshold)}; ` +
    `agreement ${pct(p.agreement, 3)} (${p.disagreements.genuine} genuine + ${p.disagreements.impostor} impostor pairs differ); ` +
    `both at the float threshold: ${pct(p.sharedThreshold.agreement, 3)} (${p.sharedThreshold.differ} differ); ` +
    `int8 at the shipped far1e-3 point ${f4(p.shipped.threshold)} (calibrated with flip): ${pct(p.shipped.agreement, 3)}`);
  console.log(`  TAR@FAR 1e-2/1e-3/1e-4 float ${['1e-2', '1e-3', '1e-4'].map((k) => f4(p.tarAtFar.float[k])).join('/')}, int8 ${['1e-2', '1e-3', '1e-4'].map((k) => f4(p.tarAtFar.int8[k])).join('/')}; ` +
    `pair score int8 - float mean ${f4(p.scoreDiff.mean)}, p1 ${f4(p.scoreDiff.p1)}, p99 ${f4(p.scoreDiff.p99)}`);
  if (e.cosineAsIs255) console.log(`  @vladmandic's own /255 input instead of /256: cosine to int8 mean ${f4(e.cosineAsIs255.asIs.mean)}, min ${f4(e.cosineAsIs255.asIs.min)} (same ${e.cosineAsIs255.asIs.n} faces with /256: mean ${f4(e.cosineAsIs255.reference.mean)}, min ${f4(e.cosineAsIs255.reference.min)})`);
  console.log(`  engine consistency: ${e.consistency.checked} crops re-embedded by a separate Model instance, max |difference| ${e.consistency.maxAbsDiff.toExponential(2)}`);
  console.log(`  lowest cosines: ${e.worst.map((w) => `${w.path} ${f4(w.cosine)}`).join(', ')}`);
  console.log(`\ndetector ${d.id}: ${d.images} pictures, ${d.canvases} canvases (${Object.entries(d.sizes).sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, n]) => `${k} x${n}`).join(', ')}${Object.keys(d.sizes).length > 6 ? ', ...' : ''}); ` +
    `${d.matched} faces compared, ${d.missed.length} missed by int8, ${d.extra.length} extra in int8, ${d.thresholdFlips} on opposite sides of the ${0.6} threshold`);
  console.log(`  IoU mean ${f4(d.iou.mean)} p1 ${f4(d.iou.p1)} min ${f4(d.iou.min)} (${pct(d.iouShareAtTarget)} >= ${TARGETS.detectorIou}); landmarks at 112: mean ${f2(d.landmark112.mean)} p99 ${f2(d.landmark112.p99)} max ${f2(d.landmark112.max)} px ` +
    `(${pct(d.landmarkShareAtTarget)} <= ${TARGETS.detectorLandmark112} px; faces with all 5 within: ${pct(d.faceShareAtTarget)}); score int8 - float mean ${f4(d.scoreDiff.mean)}`);
  console.log(table([['canvas', 'faces', 'IoU min', 'IoU mean', '>= 0.9', 'lmk mean', 'lmk p99', 'lmk max', '<= 2 px'],
    ...Object.entries(d.groups).map(([k, g]) => [k, String(g.faces), f4(g.iouMin), f4(g.iouMean), pct(g.iouShare), f2(g.lmkMean), f2(g.lmkP99), f2(g.lmkMax), pct(g.lmkShare)])]).replace(/^/gm, '  '));
  console.log(`  ${d.ms.int8.toFixed(1)} ms/canvas int8, ${d.ms.float.toFixed(1)} ms float; engine consistency: ${d.consistency.sameCount}/${d.consistency.images} pictures same face count, max coordinate difference ${d.consistency.maxCoordDiff.toExponential(2)} px`);
  if (d.missed.length || d.extra.length) console.log(`  missed: ${d.missed.slice(0, 5).map((m) => `${m.path} (${f4(m.score)})`).join(', ') || '-'}; extra: ${d.extra.slice(0, 5).map((m) => `${m.path} (${f4(m.score)})`).join(', ') || '-'}`);
  console.log(`  worst faces: ${d.worst.map((w) => `${w.path}${w.pad ? ' (padded)' : ''} IoU ${f4(w.iou)} lmk ${f2(Math.max(...w.landmarks112))}`).join('; ')}`);
  console.log(`\nanti-spoofing ${a.ids.join(' + ')}: ${a.faces} dev faces (${a.reliable} with enough context) + ${a.spoof.length} upstream samples`);
  for (const m of a.perModel) console.log(`  ${m.id}: |live int8 - float| mean ${f4(m.liveDiff.mean)} p95 ${f4(m.liveDiff.p95)} max ${f4(m.liveDiff.max)}; same side of 0.5: ${pct(m.labelAgreement)}`);
  console.log(`  fused: mean ${f4(a.fused.mean)} p95 ${f4(a.fused.p95)} max ${f4(a.fused.max)} (${pct(a.fusedShareAtTarget)} <= ${TARGETS.fusedLiveDiff}); faces with enough context only (${a.fusedReliable.n}): mean ${f4(a.fusedReliable.mean)} max ${f4(a.fusedReliable.max)}`);
  console.log(`  engine consistency: ${a.consistency.checked} faces, fused score of the separate instances vs engine.liveness max |difference| ${a.consistency.maxAbsDiff.toExponential(2)}`);
  console.log(`  worst: ${a.worst.map((w) => `${w.path} int8 ${f4(w.int8)} float ${f4(w.float)}${w.reliable ? '' : ' (little context)'}`).join('; ')}`);
  console.log(table([['sample', 'label', 'float fused', 'int8 fused', 'float class', 'int8 class', 'engine live', 'kept'],
    ...a.spoof.map((s) => [s.path.split('/').pop()!, s.label, f4(s.float), f4(s.int8), String(s.floatClass), String(s.int8Class), String(s.engineLive), s.kept ? 'yes' : 'NO'])]).replace(/^/gm, '  '));
}

// ---------------------------------------------------------------------------------------------
// Card sections

function cardSection(id: string, m: { file: string; sha256: string }, v: Verdict[], e: EmbedderResult, d: DetectorResult, a: AntispoofResult, meta: Meta): string {
  const L: string[] = [EVAL_BEGIN, '## Measured agreement in the wasm runtime (`npm run eval:models`)', ''];
  L.push(`Written by \`tools/eval/eval-models.ts --write-cards\` (${meta.mode === 'quick' ? '**quick subset**' : 'full run'}, seed ${meta.seed}, ${meta.date.slice(0, 10)}), ` +
    `measured on \`${m.file}\` SHA-256 \`${m.sha256}\`, int8 on the wasmface ${meta.backend} build (all builds are bit-identical). ` +
    'Both sides get the same bytes: the engine\'s own detector canvas, fa150 crop and anti-spoofing patches, cut by the same wasm calls as `js/engine.ts`.', '');
  const rows = v.filter((x) => x.model === id || x.model.split(' + ').includes(id));
  L.push('| measure | target | measured | |', '|---|---|---|---|');
  const cell = (x: string) => x.replace(/>=/g, '≥').replace(/<=/g, '≤').replace(/\|/g, '\\|');
  for (const r of rows) L.push(`| ${cell(r.what)} | ${cell(r.target)} | ${cell(r.measured)} | ${r.pass ? 'met' : '**missed**'} |`);
  L.push('');
  if (id === e.id) {
    const p = e.pairs;
    L.push(`- Float reference: the face-api.js recognition net (same weights) in \`@vladmandic/face-api\` on tfjs ${meta.versions.tfjs} (${meta.versions.tfjsBackend}), ` +
      'input fed so that its (x − mean)/255 equals the converted commit\'s (p − mean)/256' +
      (e.cosineAsIs255 ? `; with @vladmandic's own /255 instead, the cosine to int8 is ${f4(e.cosineAsIs255.asIs.mean)} on average over ${e.cosineAsIs255.asIs.n} faces (${f4(e.cosineAsIs255.reference.mean)} with /256 on the same faces)` : '') + '.');
    L.push(`- ${e.embedded} of ${e.images} images of \`../shared/faces/pairs.csv\` embedded (${e.noFace.length} without a face, ${e.unreadable.length} unreadable); cosine(int8, float) ` +
      `mean ${f4(e.cosine.mean)}, 1st percentile ${f4(e.cosine.p1)}, 5th ${f4(e.cosine.p5)}, min ${f4(e.cosine.min)}.`);
    L.push(`- Pair decisions, **without flip fusion on either side** (the float reference has none; the product averages the crop and its mirror): ${p.used} pairs (${p.genuine} genuine, ${p.impostor} impostor), ` +
      `each side at its own FAR-1e-3 threshold on these pairs (float ${f4(p.floatThreshold)}, int8 ${f4(p.int8Threshold)}): ${pct(p.agreement, 3)} agree ` +
      `(${p.disagreements.genuine} genuine and ${p.disagreements.impostor} impostor pairs differ). ` +
      `Both at the float threshold (score changes alone, no threshold shift): ${pct(p.sharedThreshold.agreement, 3)} (${p.sharedThreshold.differ} differ). Int8 at the shipped far1e-3 point ${f4(p.shipped.threshold)} (calibrated with flip fusion): ${pct(p.shipped.agreement, 3)}.`);
    L.push(`- TAR at FAR 1e-2 / 1e-3 / 1e-4 on these pairs, no flip: float ${['1e-2', '1e-3', '1e-4'].map((k) => f4(p.tarAtFar.float[k])).join(' / ')}, int8 ${['1e-2', '1e-3', '1e-4'].map((k) => f4(p.tarAtFar.int8[k])).join(' / ')}.`);
  }
  if (id === d.id) {
    L.push(`- Float reference: \`${FloatYunet.FILE}\` (the 2023mar weights bit for bit, symbolic input size) in onnxruntime-web ${meta.versions.onnxruntimeWeb} (wasm, 1 thread), on the engine's letterboxed canvas ` +
      '(long side at most 640, padded to multiples of 32; tight crops also on the padded canvas of the engine\'s retry); both decoded by the same code, faces matched one to one by IoU ≥ 0.5.');
    L.push(`- ${d.images} dev pictures, ${d.canvases} canvases; ${d.matched} faces compared (reported at ≥ 0.6 by either side); ${d.missed.length} float faces missed by int8, ${d.extra.length} int8 faces float lacks, ` +
      `${d.thresholdFlips} faces on opposite sides of the 0.6 threshold.`);
    L.push(`- Box IoU mean ${f4(d.iou.mean)}, 1st percentile ${f4(d.iou.p1)}, min ${f4(d.iou.min)}; ${pct(d.iouShareAtTarget)} of faces at ≥ ${TARGETS.detectorIou}.`);
    L.push(`- Landmark error in px at 112x112 scale (distance times the scale of the similarity that aligns the float landmarks to the 112 template): ` +
      `mean ${f2(d.landmark112.mean)}, 99th percentile ${f2(d.landmark112.p99)}, max ${f2(d.landmark112.max)}; ${pct(d.landmarkShareAtTarget)} of landmarks within ${TARGETS.detectorLandmark112} px; ` +
      `${pct(d.faceShareAtTarget)} of faces with all 5 within; per face worst landmark median ${f2(d.faceWorstLandmark112.p50)}, 95th percentile ${f2(d.faceWorstLandmark112.p95)}.`);
    L.push('', '| canvas | faces | IoU min | IoU mean | IoU ≥ 0.9 | landmark mean | p99 | max | ≤ 2 px |', '|---|---|---|---|---|---|---|---|---|');
    for (const [k, g] of Object.entries(d.groups)) L.push(`| ${k} | ${g.faces} | ${f4(g.iouMin)} | ${f4(g.iouMean)} | ${pct(g.iouShare)} | ${f2(g.lmkMean)} | ${f2(g.lmkP99)} | ${f2(g.lmkMax)} | ${pct(g.lmkShare)} |`);
    L.push('', '"Tight crop": a 150x150 LFW or face-api.js crop on its own 160x160 canvas, the face filling the frame; "padded": the same inside the zero border of the engine\'s retry. ' +
      'The engine uses the unpadded canvas whenever it finds a face there. "Same anchor": both sides kept the same anchor after NMS; ' +
      '"different anchors": the face is found by both, but each side\'s NMS kept another anchor (often another stride), so box and landmarks come from different predictions.', '');
    L.push(`- Worst faces: ${d.worst.map((w) => `\`${w.path.split('/').slice(-2).join('/')}\`${w.pad ? ' (padded)' : ''} IoU ${f4(w.iou)}, landmark ${f2(Math.max(...w.landmarks112))} px`).join('; ')}.`);
  }
  if (a.ids.includes(id)) {
    const i = a.ids.indexOf(id), pm = a.perModel[i];
    L.push(`- Float reference: \`${FloatMiniFas.FILES[id]}\` in onnxruntime-web ${meta.versions.onnxruntimeWeb} (wasm, 1 thread), on the engine's own patches of the engine's largest face.`);
    L.push(`- This model alone, ${pm.liveDiff.n} faces (${a.faces} dev faces + ${a.spoof.length} upstream samples): |live probability int8 − float| mean ${f4(pm.liveDiff.mean)}, ` +
      `95th percentile ${f4(pm.liveDiff.p95)}, max ${f4(pm.liveDiff.max)}; same side of 0.5 on ${pct(pm.labelAgreement)}.`);
    L.push(`- Fused score (${a.ids.join(' + ')}, the engine's liveness): |int8 − float| mean ${f4(a.fused.mean)}, 95th percentile ${f4(a.fused.p95)}, max ${f4(a.fused.max)}; ` +
      `${a.fusedReliable.n} faces whose patches had enough context (the engine trusts only those): mean ${f4(a.fusedReliable.mean)}, max ${f4(a.fusedReliable.max)}.`);
    L.push('', '| sample | label | float fused | int8 fused | float (this model) | int8 (this model) | engine live | kept |', '|---|---|---|---|---|---|---|---|');
    for (const s of a.spoof) L.push(`| ${s.path.split('/').pop()} | ${s.label} | ${f4(s.float)} | ${f4(s.int8)} | ${f4(s.perModel[i].float)} | ${f4(s.perModel[i].int8)} | ${s.engineLive} | ${s.kept ? 'yes' : '**no**'} |`);
  }
  L.push('', EVAL_END);
  return L.join('\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
