// The peer runtimes, set up as their documentation says, one thread each:
// - onnxruntime-web (wasm execution provider; in Node it loads dist/ort-wasm-simd-threaded.{mjs,wasm},
//   the only wasm it ships since 1.19, which is the SIMD build; numThreads = 1 keeps it on one thread).
// - @tensorflow/tfjs-backend-wasm through @vladmandic/face-api's face-api.node-wasm entry. Node has no
//   wasm threads for tfjs (WASM_HAS_MULTITHREAD_SUPPORT is false there), setThreadsCount(1) anyway;
//   SIMD is chosen by the WASM_HAS_SIMD_SUPPORT flag, which the backend's own README and flags_wasm.ts
//   define: set it to false before tf.setBackend('wasm') and tfjs loads tfjs-backend-wasm.wasm (the
//   non-SIMD binary) instead of tfjs-backend-wasm-simd.wasm.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { SHARED, OUT } from './common.js';
import type { FloatModels, Rgba } from './float-pipeline.js';

const require = createRequire(import.meta.url);

/** Files a runtime reads while loading (.wasm and .mjs/.js under node_modules), recorded by patching fs. */
export const loadedFiles = new Set<string>();
export function traceFileLoads(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const record = (p: unknown) => { const s = String(p instanceof URL ? p.pathname : p).replace(/^file:\/\//, ''); if (/node_modules\/.*\.(wasm|m?js|cjs)$/.test(s)) loadedFiles.add(s); };
  const rfs = fs.readFileSync;
  (fs as { readFileSync: unknown }).readFileSync = function (this: unknown, p: unknown, ...a: unknown[]) { record(p); return (rfs as (...x: unknown[]) => unknown).call(this, p, ...a); };
  const rfp = fs.promises.readFile;
  (fs.promises as { readFile: unknown }).readFile = function (this: unknown, p: unknown, ...a: unknown[]) { record(p); return (rfp as (...x: unknown[]) => unknown).call(this, p, ...a); };
}
/** CommonJS modules loaded so far (require.cache), for runtimes loaded through require. */
export function requiredFiles(): string[] {
  return Object.keys(require.cache).filter((f) => f.includes('node_modules/'));
}

export const ORT_FILES = {
  detector: `${SHARED}models/yunet/face_detection_yunet_2026may.onnx`,
  embedder: `${OUT}models/faceapi-recognition.float.onnx`,
  antispoof: [`${SHARED}models/minifasnet/2.7_80x80_MiniFASNetV2.onnx`, `${SHARED}models/minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx`],
};
export const ORT_INT8_FILES = {
  detector: `${OUT}models/yunet.qdq.onnx`,
  embedder: `${OUT}models/faceapi-recognition.qdq.onnx`,
  antispoof: [`${OUT}models/minifasnet-v2.qdq.onnx`, `${OUT}models/minifasnet-v1se.qdq.onnx`],
};

export type Ort = typeof import('onnxruntime-web');
export async function loadOrt(): Promise<Ort> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return ort;
}

export async function ortSession(ort: Ort, file: string | Uint8Array) {
  return ort.InferenceSession.create(typeof file === 'string' ? readFileSync(file) : file, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export async function ortRun(ort: Ort, s: import('onnxruntime-web').InferenceSession, x: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const input = new ort.Tensor('float32', x, dims);
  const res = await s.run({ [s.inputNames[0]]: input });
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(res)) { out[name] = t.data as Float32Array; t.dispose(); }
  input.dispose();
  return out;
}

/** HWC RGB bytes -> NCHW float. */
export function hwcToNchw(rgb: Uint8Array, w: number, h: number): Float32Array {
  const n = w * h, out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) { out[p] = rgb[p * 3]; out[n + p] = rgb[p * 3 + 1]; out[2 * n + p] = rgb[p * 3 + 2]; }
  return out;
}

/** The four models on onnxruntime-web. */
export async function ortModels(files: typeof ORT_FILES): Promise<FloatModels & { release(): Promise<void> }> {
  const ort = await loadOrt();
  const det = await ortSession(ort, files.detector);
  const emb = await ortSession(ort, files.embedder);
  const as = [await ortSession(ort, files.antispoof[0]), await ortSession(ort, files.antispoof[1])];
  return {
    detect: (canvas, w, h) => ortRun(ort, det, canvas, [1, 3, h, w]),
    embed: async (crop) => Object.values(await ortRun(ort, emb, hwcToNchw(crop, 150, 150), [1, 3, 150, 150]))[0],
    antispoof: async (i, patch) => Object.values(await ortRun(ort, as[i], patch, [1, 3, 80, 80]))[0],
    release: async () => { for (const s of [det, emb, ...as]) await s.release(); },
  };
}

// ---- tfjs / face-api ----

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
type Tf = typeof import('@tensorflow/tfjs');
export interface TfjsPeer { faceapi: FaceApi; tf: Tf; wasmFile: string; simd: boolean; threads: number }

export async function loadTfjs(simd: boolean): Promise<TfjsPeer> {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const tf = faceapi.tf as unknown as Tf;
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
  wasm.setWasmPaths(dir);
  wasm.setThreadsCount(1);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.env().set('WASM_HAS_SIMD_SUPPORT', simd);
  await tf.setBackend('wasm');
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, expected wasm`);
  const wasmFile = [...loadedFiles].find((f) => f.endsWith('.wasm') && f.includes('tfjs-backend-wasm')) ?? '(not traced)';
  return { faceapi, tf, wasmFile, simd, threads: wasm.getThreadsCount() };
}

export const FACEAPI_MODEL_DIR = dirname(require.resolve('@vladmandic/face-api/package.json')) + '/model';

/** RGBA image -> int32 RGB tensor, as face-api's Node demos build their input. */
export function imageTensor(p: TfjsPeer, img: Rgba) {
  const n = img.width * img.height, rgb = new Int32Array(n * 3);
  for (let i = 0; i < n; i++) { rgb[i * 3] = img.data[i * 4]; rgb[i * 3 + 1] = img.data[i * 4 + 1]; rgb[i * 3 + 2] = img.data[i * 4 + 2]; }
  return p.tf.tensor3d(rgb, [img.height, img.width, 3], 'int32');
}
