// Child process of bench/run.ts: writes the ONNX files the onnxruntime-web peers need into
// bench/out/models/ (kept between runs; redone when a source or this code changes):
// - faceapi-recognition.float.onnx: the face-api.js recognition net's float weights as ONNX (no ONNX
//   original exists);
// - *.qdq.onnx: the four models statically quantised to int8 in QDQ format (bench/lib/onnx.ts),
//   MinMax-calibrated on eight dev images that are not among the benchmark images.
// Prints one JSON line: files, sizes, calibration, agreement of int8 with float outputs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { readImageFile } from '../js/node.js';
import { loadFaceApiRecognition } from '../tools/convert/models.js';
import { OUT, SHARED } from './lib/common.js';
import { exportIrToOnnx, quantizeQdq, withAllOutputs, type Ranges } from './lib/onnx.js';
import { ORT_FILES, ORT_INT8_FILES, loadOrt, ortSession, ortRun, hwcToNchw } from './lib/peers.js';
import { verifyFloat, type FloatModels, type Rgba } from './lib/float-pipeline.js';

const CALIBRATION = [
  'deepface/p01/img5.jpg', 'deepface/p11/img29.jpg', 'deepface/p03/img48.jpg', 'deepface/p09/img24.jpg',
  'lfw/Bill_Sizemore/Bill_Sizemore_0001.jpg', 'lfw/Billy_Crystal/Billy_Crystal_0001.jpg', 'lfw/Billy_Graham/Billy_Graham_0001.jpg', 'lfw/Blythe_Hartley/Blythe_Hartley_0001.jpg',
].map((p) => `${SHARED}faces/${p}`);

const log = (s: string) => process.stderr.write(`prepare-onnx: ${s}\n`);
mkdirSync(`${OUT}models`, { recursive: true });

const stampOf = () => {
  const h = createHash('sha256');
  h.update(readFileSync(new URL('./lib/onnx.ts', import.meta.url)));
  h.update(readFileSync(new URL('./prepare-onnx.ts', import.meta.url)));
  h.update(readFileSync(new URL('./lib/float-pipeline.ts', import.meta.url)));
  for (const f of [ORT_FILES.detector, ...ORT_FILES.antispoof, `${SHARED}models/faceapi-recognition/face_recognition_model-shard1`, ...CALIBRATION]) {
    const s = statSync(f); h.update(`${f}:${s.size}:${s.mtimeMs}`);
  }
  return h.digest('hex');
};
const stampFile = `${OUT}models/stamp.json`;
const stamp = stampOf();
const cached = existsSync(stampFile) ? JSON.parse(readFileSync(stampFile, 'utf8')) : null;
if (cached?.stamp === stamp && [ORT_FILES.embedder, ...Object.values(ORT_INT8_FILES).flat()].every((f) => existsSync(f))) {
  log('cached');
  process.stdout.write(JSON.stringify({ ...cached.summary, cached: true }) + '\n');
  process.exit(0);
}

const t0 = performance.now();
log('exporting the face-api recognition net (float IR -> ONNX)');
writeFileSync(ORT_FILES.embedder, exportIrToOnnx(loadFaceApiRecognition()));

const ort = await loadOrt();
type Session = Awaited<ReturnType<typeof ortSession>>;
const floatSessions: Record<string, Session> = {
  detector: await ortSession(ort, ORT_FILES.detector), embedder: await ortSession(ort, ORT_FILES.embedder),
  as0: await ortSession(ort, ORT_FILES.antispoof[0]), as1: await ortSession(ort, ORT_FILES.antispoof[1]),
};
const inputs: Record<string, { x: Float32Array; dims: number[] }[]> = { detector: [], embedder: [], as0: [], as1: [] };
const recording: FloatModels = {
  detect: (canvas, w, h) => { inputs.detector.push({ x: canvas, dims: [1, 3, h, w] }); return ortRun(ort, floatSessions.detector, canvas, [1, 3, h, w]); },
  embed: async (crop) => { const x = hwcToNchw(crop, 150, 150); inputs.embedder.push({ x, dims: [1, 3, 150, 150] }); return Object.values(await ortRun(ort, floatSessions.embedder, x, [1, 3, 150, 150]))[0]; },
  antispoof: async (i, patch) => { inputs[`as${i}`].push({ x: patch, dims: [1, 3, 80, 80] }); return Object.values(await ortRun(ort, floatSessions[`as${i}`], patch, [1, 3, 80, 80]))[0]; },
};
log('collecting calibration inputs');
for (const f of CALIBRATION) {
  const img: Rgba = readImageFile(f);
  await verifyFloat(recording, img, new Float32Array(128));
}

const sources: Record<string, { float: string; int8: string }> = {
  detector: { float: ORT_FILES.detector, int8: ORT_INT8_FILES.detector },
  embedder: { float: ORT_FILES.embedder, int8: ORT_INT8_FILES.embedder },
  as0: { float: ORT_FILES.antispoof[0], int8: ORT_INT8_FILES.antispoof[0] },
  as1: { float: ORT_FILES.antispoof[1], int8: ORT_INT8_FILES.antispoof[1] },
};
const summary: Record<string, unknown> = {};
for (const [key, src] of Object.entries(sources)) {
  log(`calibrating and quantising ${key} on ${inputs[key].length} inputs`);
  const floatBytes = readFileSync(src.float);
  const { bytes: probe, names } = withAllOutputs(floatBytes);
  const s = await ortSession(ort, probe);
  const ranges: Ranges = new Map();
  const note = (name: string, v: Float32Array) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < v.length; i++) { const a = v[i]; if (a < lo) lo = a; if (a > hi) hi = a; }
    const r = ranges.get(name);
    ranges.set(name, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
  };
  for (const { x, dims } of inputs[key]) {
    note(s.inputNames[0], x);
    const out = await ortRun(ort, s, x, dims);
    for (const n of names) if (out[n]) note(n, out[n]);
  }
  await s.release();
  const q = quantizeQdq(floatBytes, ranges);
  writeFileSync(src.int8, q);
  // agreement: cosine of the concatenated outputs, int8 vs float, on the calibration inputs
  const qs = await ortSession(ort, src.int8);
  let dot = 0, na = 0, nb = 0;
  const tq = performance.now();
  for (const { x, dims } of inputs[key]) {
    const a = await ortRun(ort, floatSessions[key], x, dims), b = await ortRun(ort, qs, x, dims);
    for (const name of Object.keys(a)) for (let i = 0; i < a[name].length; i++) { dot += a[name][i] * b[name][i]; na += a[name][i] ** 2; nb += b[name][i] ** 2; }
  }
  await qs.release();
  summary[key] = {
    float: src.float, int8: src.int8, floatBytes: floatBytes.length, int8Bytes: q.length, calibrationInputs: inputs[key].length,
    quantisedTensors: ranges.size, outputCosine: dot / Math.sqrt(na * nb), checkMs: performance.now() - tq,
  };
}
const result = { ...summary, seconds: (performance.now() - t0) / 1000, ort: ort.env.versions };
writeFileSync(stampFile, JSON.stringify({ stamp, summary: result }, null, 2));
process.stdout.write(JSON.stringify(result) + '\n');
