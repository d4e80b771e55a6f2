// Opt-in conversion of the second embedder, MobileFaceNet (foamliu/MobileFaceNet, 128-d), to int8
// .wfm. Not part of `npm run models` (tools/convert/cli.ts converts MODELS only); writes
// build/models-extra/ by default, never models/.
//
//   node --import tsx tools/convert/mobilefacenet.ts [--out build/models-extra] [--quick]
//
// Input spec (../shared/models/mobilefacenet/README.md, upstream lfw_eval.py / data_gen.py 'val'):
// 112x112 crop aligned to the ArcFace 5-point template, RGB, x/255 then ImageNet mean/std, NCHW.
// The normalisation is per channel, so it goes into the input lookup table: q = lut[c][pixel] with
// one activation scale/zero point for the three channels (quantize.ts; the first conv has padding,
// so the mean cannot be folded into its bias exactly). Output `output0` [1,128] is renamed
// `descriptor` (the embedder output name the converter's agreement and the engine use); not
// normalised: L2-normalise, compare by cosine.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertModel, FULL, type ModelSpec, type Sizes } from './convert.js';
import type { Graph } from './ir.js';
import { importOnnx, type OnnxImportMeta } from './onnx-import.js';
import { sharedPath, haveSharedModels } from './models.js';
import { haveFaces } from './calibration.js';

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

export const MOBILEFACENET_META: OnnxImportMeta = {
  id: 'mobilefacenet',
  colorOrder: 'rgb',
  // network input = (pixel - 255 mean[c]) / (255 std[c])
  mean: MEAN.map((m) => m * 255) as [number, number, number],
  scale: STD.map((s) => 1 / (255 * s)) as [number, number, number],
  source: { file: 'MobileFaceNet.onnx', licence: 'Apache-2.0 (code and repository; no separate licence stated for the weights)', url: 'https://github.com/foamliu/MobileFaceNet' },
};

/** The ONNX graph with its output renamed `descriptor`. */
export function loadMobileFaceNet(): Graph {
  const g = importOnnx(readFileSync(sharedPath(`models/mobilefacenet/${MOBILEFACENET_META.source.file}`)), MOBILEFACENET_META);
  if (g.outputs.length !== 1) throw new Error(`mobilefacenet: expected one output, found ${g.outputs.join(', ')}`);
  const from = g.outputs[0], to = 'descriptor';
  if (g.tensors[to]) throw new Error('mobilefacenet: a tensor is already called descriptor');
  for (const n of g.nodes) if (n.output === from) n.output = to;
  const tensors = Object.fromEntries(Object.entries(g.tensors).map(([k, v]) => [k === from ? to : k, v]));
  return { ...g, outputs: [to], tensors };
}

export const MOBILEFACENET: ModelSpec = {
  id: 'mobilefacenet', kind: 'embedder', title: 'MobileFaceNet (foamliu/MobileFaceNet, 128-d, ArcFace 112x112)',
  load: loadMobileFaceNet, sample: 'aligned112',
  rounding: true, biasCorrection: true,
  version: 'weights/MobileFaceNet.onnx at foamliu/MobileFaceNet a6cc9032a659b615f477833e1a70b5e7931bcccc (opset 18, BatchNorm folded upstream)',
  files: () => ['mobilefacenet/MobileFaceNet.onnx', 'mobilefacenet/LICENSE'],
};

const QUICK: Sizes = { ...FULL, faceCal: 32, faceEval: 16, sqnr: 2 };

async function main() {
  const argv = process.argv.slice(2);
  let out = 'build/models-extra', quick = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i];
    else if (argv[i] === '--quick') quick = true;
    else { console.error('usage: node --import tsx tools/convert/mobilefacenet.ts [--out build/models-extra] [--quick]'); process.exit(2); }
  }
  if (!haveSharedModels() || !haveFaces()) { console.error(`mobilefacenet: the shared models and faces are needed (looked in ${sharedPath('')})`); process.exit(1); }
  const dir = resolve(out);
  if (dir === resolve('models')) throw new Error('mobilefacenet: refusing to write into models/ (opt-in model: use build/models-extra)');
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const r = await convertModel(MOBILEFACENET, quick ? QUICK : FULL);
  writeFileSync(join(dir, 'mobilefacenet.wfm'), r.bytes);
  // the converter's generated report (variants, SQNR, notes); the draft model card is docs/models/mobilefacenet.md
  writeFileSync(join(dir, 'mobilefacenet.conversion.md'), r.card);
  const metrics = Object.entries(r.chosen.agreement.metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(5)}`).join(' ');
  console.log(`mobilefacenet: ${r.bytes.length.toLocaleString('en-US')} B, sha256 ${createHash('sha256').update(r.bytes).digest('hex')}, ${r.chosen.label}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`  ${r.variants.map((v) => `${v.label}:${v.agreement.loss.toFixed(5)}`).join(' ')} | ${metrics}`);
  console.log(`  wrote ${join(dir, 'mobilefacenet.wfm')} and mobilefacenet.conversion.md`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('mobilefacenet.ts')) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
