// Agreement of OUR int8 MobileFaceNet (build/models-extra/mobilefacenet.wfm, run by OUR wasm runtime:
// a Model in the engine's own wasm instance, as tools/eval/accuracy.ts runs the bundled embedder)
// with the float ONNX original (onnxruntime-node), on the same aligned 112x112 crops.
//
//   node --experimental-wasm-relaxed-simd --import tsx tools/eval/mobilefacenet-agreement.ts
//        [--model build/models-extra/mobilefacenet.wfm] [--images 0] [--pairs 400] [--seed 20240901] [--backend relaxed|simd|scalar] [--json FILE]
//
// Faces: engine.embed (the product's detector and largest-face pick, flip off, full-resolution
// frame) gives the landmarks; the crop is made with the engine's own wasm alignment calls
// (alignEstimate / alignLevels / alignWarp, as tools/eval/wasm-steps.ts does for fa150) but to the
// ArcFace 112 template at 112x112 (README of ../shared/models/mobilefacenet). Both models get the
// same crop bytes; the float side does upstream preprocessing (RGB, x/255, ImageNet mean/std, NCHW).
//
// Images: the images of ../shared/faces/pairs.csv (default all; --images N: a seeded subset built
// from genuine and impostor pairs taken alternately, as accuracy.ts selectPairs), leaving out the dev
// pictures the converter may have calibrated / evaluated on (the first CAL_EXCLUDE of its seeded face
// order) and every pair touching them. Reported: cosine(int8, float) mean / p1 / min over the
// embedded images; pair decisions of int8 vs float with both at the float model's FAR 1e-3 threshold
// (measured on all impostor pairs of the selection), on a seeded subset of --pairs pairs (half
// genuine, half impostor: "a few hundred dev pairs") and on all pairs; and with each side at its own
// FAR 1e-3 threshold.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createNodeEngine, readImageFile, NoFaceError, ImageDecodeError } from '../../js/node.js';
import type { Backend } from '../../js/loader.js';
import { Model, Arena } from '../../js/model.js';
import type { DetectedFace } from '../../js/engine.js';
import { Progress } from '../../js/cli/progress.js';
import { TEMPLATE_112 } from '../convert/image.js';
import { sharedPath, haveSharedModels } from '../convert/models.js';
import { devImages, shuffle as calShuffle, type DevImage } from '../convert/calibration.js';
import { SEED as CONVERT_SEED } from '../convert/convert.js';
import { comparePairs, selectPairs, shuffle, stats } from './accuracy.js';
import { WasmSteps } from './wasm-steps.js';

const SIZE = 112;
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];
/** Calibration (96) + evaluation (48) faces of the converter, with a margin for pictures without a face. */
const CAL_EXCLUDE = 200;

interface Args { model: string; images: number; pairs: number; seed: number; backend?: Backend; json?: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { model: 'build/models-extra/mobilefacenet.wfm', images: 0, pairs: 400, seed: 20240901 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], next = () => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--model') a.model = next();
    else if (k === '--images') a.images = Number(next());
    else if (k === '--pairs') a.pairs = Number(next());
    else if (k === '--seed') a.seed = Number(next());
    else if (k === '--backend') a.backend = next() as Backend;
    else if (k === '--json') a.json = next();
    else usage(k === '--help' || k === '-h' ? undefined : `unknown argument ${k}`);
  }
  return a;
}

function usage(error?: string): never {
  if (error) console.error(`mobilefacenet-agreement: ${error}`);
  console.error('usage: node --experimental-wasm-relaxed-simd --import tsx tools/eval/mobilefacenet-agreement.ts [--model FILE] [--images N (0: all)] [--pairs N] [--seed N] [--backend relaxed|simd|scalar] [--json FILE]');
  process.exit(error ? 2 : 0);
}

/** The converter's seeded face order (calibration.ts faceSamples: sources round-robin) - its first pictures. */
function converterPictures(count: number): Set<string> {
  const rows = devImages().filter((d) => d.identity !== '_none' && d.identity !== '_unlabelled');
  const groups = new Map<string, DevImage[]>();
  for (const d of calShuffle(rows, CONVERT_SEED)) groups.set(d.source, [...(groups.get(d.source) ?? []), d]);
  const lists = [...groups.keys()].sort().map((k) => groups.get(k)!);
  const out: string[] = [];
  for (let i = 0; out.length < rows.length; i++) for (const l of lists) if (i < l.length) out.push(l[i].path);
  return new Set(out.slice(0, count));
}

/** Upstream preprocessing: RGB, x/255, ImageNet mean/std, NCHW. */
function toNchw(rgb: Uint8Array): Float32Array {
  const n = SIZE * SIZE, out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = (rgb[p * 3 + c] / 255 - MEAN[c]) / STD[c];
  return out;
}

function unit(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const k = 1 / Math.sqrt(s || 1);
  return Float64Array.from(v, (x) => x * k);
}

const dot = (a: Float64Array, b: Float64Array) => { let d = 0; for (let i = 0; i < a.length; i++) d += a[i] * b[i]; return d; };

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!haveSharedModels()) { console.error(`mobilefacenet-agreement: ../shared not found at ${sharedPath('')}`); process.exit(1); }
  const modelPath = resolve(args.model);
  if (!existsSync(modelPath)) { console.error(`mobilefacenet-agreement: ${modelPath} not found (node --import tsx tools/convert/mobilefacenet.ts)`); process.exit(1); }

  const engine = await createNodeEngine({ backend: args.backend, embedder: { flip: false }, memoryLimitMB: 1024, maxFrameSide: 0 });
  const x = engine.wasm, arena = new Arena(x);
  const bytes = new Uint8Array(readFileSync(modelPath));
  const int8 = Model.load(x, arena, bytes);
  const { width: iw, height: ih } = int8.inputSize;
  if (iw !== SIZE || ih !== SIZE) throw new Error(`${modelPath}: input ${iw}x${ih}, expected ${SIZE}x${SIZE}`);
  const float = await ort.InferenceSession.create(sharedPath('models/mobilefacenet/MobileFaceNet.onnx'), { intraOpNumThreads: 1 });
  const steps = new WasmSteps(x);
  const template112 = TEMPLATE_112.flat();

  const excluded = converterPictures(CAL_EXCLUDE);
  const { images, pairs } = selectPairs(args.images || undefined, args.seed, excluded);
  console.error(`${engine.backend} build; model ${int8.id} (${bytes.length.toLocaleString('en-US')} B); ${images.length} images, ${pairs.length} pairs (the converter's first ${CAL_EXCLUDE} dev pictures left out)`);

  const f = new Map<string, Float64Array>(), q = new Map<string, Float64Array>();
  const cos: number[] = [], perImage: { path: string; cosine: number }[] = [];
  const noFace: string[] = [], unreadable: string[] = [];
  let tInt8 = 0, tFloat = 0;
  const progress = new Progress('embedding', images.length);
  for (const path of images) {
    let img;
    try { img = readImageFile(sharedPath(`faces/${path}`)); } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      unreadable.push(path); progress.tick(); continue;
    }
    let face: DetectedFace;
    try { face = engine.embed(img).face; } catch (e) {
      if (!(e instanceof NoFaceError)) throw e;
      noFace.push(path); progress.tick(); continue;
    }
    const { rgb, w, h } = steps.toRgb(img);
    const crop = steps.align(rgb, w, h, face, template112, SIZE);
    const t0 = performance.now();
    int8.run(crop);
    const qe = unit(int8.output(0).data);
    const t1 = performance.now();
    const input = new ort.Tensor('float32', toNchw(crop), [1, 3, SIZE, SIZE]);
    const res = await float.run({ [float.inputNames[0]]: input });
    const fe = unit(res[float.outputNames[0]].data as Float32Array);
    tInt8 += t1 - t0; tFloat += performance.now() - t1;
    f.set(path, fe); q.set(path, qe);
    const c = dot(fe, qe);
    cos.push(c); perImage.push({ path, cosine: c });
    progress.tick();
  }

  const c = stats(cos);
  const p = comparePairs(pairs, f, q, int8.id);
  // the few-hundred-pair subset: seeded, genuine and impostor alternately, both images embedded
  const usable = pairs.filter((x) => f.has(x.a) && f.has(x.b));
  const G = shuffle(usable.filter((x) => x.same), args.seed + 7), I = shuffle(usable.filter((x) => !x.same), args.seed + 8);
  const subset = [...G.slice(0, Math.ceil(args.pairs / 2)), ...I.slice(0, Math.floor(args.pairs / 2))];
  const tf = p.floatThreshold;
  const sub = subset.map((x) => ({ x, fs: dot(f.get(x.a)!, f.get(x.b)!), qs: dot(q.get(x.a)!, q.get(x.b)!) }));
  const subAgree = sub.filter((r) => (r.fs >= tf) === (r.qs >= tf)).length;
  const subMargin = sub.map((r) => Math.abs(r.fs - tf)).sort((a, b) => a - b);
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log(`model ${modelPath}: ${bytes.length.toLocaleString('en-US')} B`);
  console.log(`faces: ${cos.length} embedded of ${images.length} (${noFace.length} without a face, ${unreadable.length} unreadable); int8 ${(tInt8 / cos.length).toFixed(1)} ms, float (ORT) ${(tFloat / cos.length).toFixed(1)} ms per crop`);
  console.log(`cosine(int8, float): mean ${c.mean.toFixed(5)}, p1 ${c.p1.toFixed(5)}, p5 ${c.p5.toFixed(5)}, min ${c.min.toFixed(5)}   [targets mean >= 0.99 ${ok(c.mean >= 0.99)}, p1 >= 0.97 ${ok(c.p1 >= 0.97)}]`);
  console.log(`  worst: ${perImage.sort((a, b) => a.cosine - b.cosine).slice(0, 5).map((w) => `${w.path} ${w.cosine.toFixed(4)}`).join(', ')}`);
  console.log(`pairs: ${p.used} of ${p.total} usable (${p.genuine} genuine, ${p.impostor} impostor); float threshold at FAR 1e-3 ${p.floatThreshold.toFixed(4)} (int8's own ${p.int8Threshold.toFixed(4)})`);
  console.log(`  decisions agree at the float threshold, ${sub.length} seeded pairs (${sub.filter((r) => r.x.same).length} genuine): ${pct(subAgree / sub.length)} (${sub.length - subAgree} differ; ${subMargin.filter((m) => m < 0.02).length} pairs within 0.02 of the threshold)   [target >= 99.5 % ${ok(subAgree / sub.length >= 0.995)}]`);
  console.log(`  decisions agree at the float threshold, all ${p.used} pairs: ${pct(p.sharedThreshold.agreement)} (${p.sharedThreshold.differ} differ)   [target >= 99.5 % ${ok(p.sharedThreshold.agreement >= 0.995)}]`);
  console.log(`  each at its own FAR 1e-3 threshold: ${pct(p.agreement)} (${p.disagreements.genuine} genuine, ${p.disagreements.impostor} impostor differ)`);
  console.log(`  score difference int8 - float: mean ${p.scoreDiff.mean.toFixed(5)}, p1 ${p.scoreDiff.p1.toFixed(5)}, p99 ${p.scoreDiff.p99.toFixed(5)}`);
  console.log(`  TAR at FAR (float / int8): ${Object.keys(p.tarAtFar.float).map((k) => `${k} ${p.tarAtFar.float[k].toFixed(4)} / ${p.tarAtFar.int8[k].toFixed(4)}`).join(', ')}`);
  if (p.impostor < 1000) console.log(`  note: only ${p.impostor} impostors: the FAR 1e-3 threshold is their top score; use --images 0 (all pairs.csv images)`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ model: modelPath, bytes: bytes.length, images: images.length, embedded: cos.length, noFace, unreadable, cosine: c, pairs: p, subset: { pairs: sub.length, agreement: subAgree / sub.length, floatThreshold: tf, differ: sub.filter((r) => (r.fs >= tf) !== (r.qs >= tf)).map((r) => ({ a: r.x.a, b: r.x.b, same: r.x.same, float: r.fs, int8: r.qs })) } }, null, 2) + '\n');

  int8.dispose(); arena.dispose(); steps.dispose(); engine.dispose(); await float.release();
}

main().catch((e) => { console.error(e); process.exit(1); });
