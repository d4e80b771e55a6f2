// Child process of bench/run.ts, one per sample: cold start in a fresh process (nothing compiled or
// cached), then the process's footprint. Prints one JSON line.
//   node --import tsx bench/cold.ts <kind> <option> <templateFile> [--all-images]
// kind: wasmface <build> | wasmface-noflip <build> | ort float|int8 | faceapi simd|nosimd | baseline -
// create = runtime start (wasm compile/instantiate) + model load; first = the first verification of
// one 480x360 photo against a stored template. Module imports are done before the clock starts for
// every runtime (wasmface runs from TypeScript sources here, so its import time would mean little).
import { readFileSync } from 'node:fs';
import { installWasmMemoryTracker, wasmMemoryBytes } from './lib/wasm-memory.js';
import { traceFileLoads } from './lib/peers.js';

installWasmMemoryTracker();
traceFileLoads();
const { availableImages, ROOT } = await import('./lib/common.js');
const { readImageFile } = await import('../js/node.js');
const [kind, option, templateFile] = process.argv.slice(2);
const allImages = process.argv.includes('--all-images');
const firstImage = readImageFile(`${ROOT}examples/images/person-a-2.jpg`);
const rest = allImages ? availableImages().map((i) => readImageFile(i.path)) : [];

// let tsx's loader thread finish transpiling before any clock starts (CPU time counts every thread)
await new Promise((r) => setTimeout(r, 300));
const rssMB = () => process.resourceUsage().maxRSS / 1024;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let createMs = 0, firstMs = 0, afterFirst = { wasmMB: 0, maxRssMB: 0 };
const cpuAt: number[] = [];
const snapshot = () => ({ wasmMB: wasmMemoryBytes().total / 2 ** 20, maxRssMB: rssMB() });
const extra: Record<string, unknown> = {};

if (kind === 'wasmface' || kind === 'wasmface-noflip') {
  const { createNodeEngine } = await import('../js/node.js');
  const template = new Uint8Array(readFileSync(templateFile));
  cpuAt.push(cpu());
  const t0 = performance.now();
  const engine = await createNodeEngine({ backend: option as 'scalar' | 'simd' | 'relaxed', embedder: { flip: kind === 'wasmface' } });
  const t1 = performance.now();
  cpuAt.push(cpu());
  const r = engine.verify(firstImage, template);
  const t2 = performance.now();
  cpuAt.push(cpu());
  createMs = t1 - t0; firstMs = t2 - t1; afterFirst = snapshot();
  extra.engineMemoryMB = engine.wasm.memory.buffer.byteLength / 2 ** 20;
  extra.score = r.score;
  extra.timingsMs = r.timingsMs;
  for (const img of rest) { try { engine.verify(img, template); } catch { /* counted elsewhere */ } }
  extra.engineMemoryAllMB = engine.wasm.memory.buffer.byteLength / 2 ** 20;
} else if (kind === 'ort') {
  const { ortModels, ORT_FILES, ORT_INT8_FILES, loadOrt } = await import('./lib/peers.js');
  const { verifyFloat } = await import('./lib/float-pipeline.js');
  await loadOrt();
  const template = new Float32Array(128).fill(1 / Math.sqrt(128));
  cpuAt.push(cpu());
  const t0 = performance.now();
  const models = await ortModels(option === 'int8' ? ORT_INT8_FILES : ORT_FILES);
  const t1 = performance.now();
  cpuAt.push(cpu());
  await verifyFloat(models, firstImage, template);
  const t2 = performance.now();
  cpuAt.push(cpu());
  createMs = t1 - t0; firstMs = t2 - t1; afterFirst = snapshot();
  for (const img of rest) { try { await verifyFloat(models, img, template); } catch { /* no face */ } }
} else if (kind === 'faceapi') {
  const { loadTfjs, FACEAPI_MODEL_DIR, imageTensor } = await import('./lib/peers.js');
  await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  cpuAt.push(cpu());
  const t0 = performance.now();
  const p = await loadTfjs(option !== 'nosimd');
  await p.faceapi.nets.ssdMobilenetv1.loadFromDisk(FACEAPI_MODEL_DIR);
  await p.faceapi.nets.faceLandmark68Net.loadFromDisk(FACEAPI_MODEL_DIR);
  await p.faceapi.nets.faceRecognitionNet.loadFromDisk(FACEAPI_MODEL_DIR);
  const t1 = performance.now();
  cpuAt.push(cpu());
  const run = async (img: typeof firstImage) => {
    const x = imageTensor(p, img);
    await p.faceapi.detectSingleFace(x as never, new p.faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks().withFaceDescriptor();
    x.dispose();
  };
  await run(firstImage);
  const t2 = performance.now();
  cpuAt.push(cpu());
  createMs = t1 - t0; firstMs = t2 - t1; afterFirst = snapshot();
  for (const img of rest) await run(img);
} else if (kind !== 'baseline') {
  throw new Error(`unknown kind ${kind}`);
}
const cpuTimes = cpuAt.length === 3 ? { createCpuMs: cpuAt[1] - cpuAt[0], firstCpuMs: cpuAt[2] - cpuAt[1], totalCpuMs: cpuAt[2] - cpuAt[0] } : { createCpuMs: 0, firstCpuMs: 0, totalCpuMs: 0 };
process.stdout.write(JSON.stringify({ kind, option, createMs, firstMs, totalMs: createMs + firstMs, ...cpuTimes, afterFirst, afterAll: allImages ? snapshot() : null, ...extra }) + '\n');
