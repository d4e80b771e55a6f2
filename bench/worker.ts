// Child process of bench/run.ts: holds one runtime (a wasmface build, onnxruntime-web float or int8,
// tfjs-backend-wasm with or without SIMD) and runs timed iterations on request over IPC, so the
// driver can interleave every runtime in rounds on the same images (a busy machine then slows all of
// them alike) while each keeps its own process (separate memory, no shared JIT state).
//   node --import tsx bench/worker.ts <kind> [option]
//   kinds: wasmface <scalar|simd|relaxed> | ort <float|int8> | tfjs <simd|nosimd> | baseline
import { installWasmMemoryTracker, wasmMemoryBytes } from './lib/wasm-memory.js';
import { traceFileLoads, loadedFiles, requiredFiles } from './lib/peers.js';

installWasmMemoryTracker();
traceFileLoads();

// Clocks. The machine this runs on may be shared, so every stage is timed in CPU time of this process
// (getrusage: exact, not sampled; includes the process's helper threads, e.g. V8's background
// compiler): performance.now is replaced by a CPU clock, which the engine's own timingsMs and the
// peers' stage timers then read. Each sample also carries its wall-clock time (`wall`).
const wallNow = performance.now.bind(performance);
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
(performance as { now: () => number }).now = cpuNow;

const { availableImages, ENROL_IMAGE } = await import('./lib/common.js');
type Request = import('./lib/common.js').Request;
type Sample = import('./lib/common.js').Sample;
const { readImageFile } = await import('../js/node.js');

const [kind, option] = process.argv.slice(2);
const images = availableImages().map((i) => readImageFile(i.path));
const enrolImage = readImageFile(ENROL_IMAGE);

interface Runtime {
  info: Record<string, unknown>;
  tasks: Record<string, (image: number, args: Record<string, unknown>) => Promise<Sample> | Sample>;
}

async function wasmface(backend: 'scalar' | 'simd' | 'relaxed'): Promise<Runtime> {
  const { createNodeEngine, Template } = await import('../js/node.js');
  const t0 = performance.now();
  const engines = { flip: await createNodeEngine({ backend }), noflip: await createNodeEngine({ backend, embedder: { flip: false } }) };
  const createMs = performance.now() - t0;
  const template = engines.flip.enroll(enrolImage);
  const verify = (image: number, args: Record<string, unknown>): Sample => {
    const e = args.flip === false ? engines.noflip : engines.flip;
    const r = e.verify(images[image], template);
    const t = r.timingsMs;
    return { ...t, detectAll: t.convert + t.detect, noLiveness: t.total - t.liveness, score: r.score, live: r.liveness?.score ?? -1, faces: r.faces };
  };
  // 1:N: one gallery grown to each size in turn (ids p0..pN-1, random unit templates of 128 floats)
  const gallery = engines.flip.createGallery();
  let rng = 12345;
  const rand = () => ((rng = (rng * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const unitVec = () => { const v = new Float32Array(128); let n = 0; for (let k = 0; k < 128; k++) { v[k] = rand(); n += v[k] * v[k]; } n = Math.sqrt(n); return v.map((x) => x / n); };
  const query = unitVec();
  const grow = (size: number): number => {
    const t = performance.now();
    for (let i = gallery.size; i < size; i++) gallery.add(`p${i}`, new Template(engines.flip.models.embedder, unitVec()));
    return performance.now() - t;
  };
  return {
    info: { backend: engines.flip.backend, createMs, models: engines.flip.models },
    tasks: {
      verify,
      /** Grows the gallery to args.size (timed) and times `reps` searches (top 5). */
      gallery: (_image, args) => {
        const size = Number(args.size), reps = Number(args.searches ?? 20);
        const addMs = grow(size);
        gallery.search(query, 5);
        const times: number[] = [];
        for (let i = 0; i < reps; i++) { const t = performance.now(); gallery.search(query, 5); times.push(performance.now() - t); }
        times.sort((a, b) => a - b);
        return { size: gallery.size, addMs, search: times[Math.floor(times.length / 2)], searchP90: times[Math.floor(times.length * 0.9)], wasmMB: engines.flip.wasm.memory.buffer.byteLength / 2 ** 20 };
      },
      memory: () => ({ flip: engines.flip.wasm.memory.buffer.byteLength, noflip: engines.noflip.wasm.memory.buffer.byteLength }),
    },
  };
}

async function ortRuntime(which: 'float' | 'int8'): Promise<Runtime> {
  const { ortModels, ORT_FILES, ORT_INT8_FILES, loadOrt } = await import('./lib/peers.js');
  const { verifyFloat, unit } = await import('./lib/float-pipeline.js');
  const ort = await loadOrt();
  const t0 = performance.now();
  const models = await ortModels(which === 'float' ? ORT_FILES : ORT_INT8_FILES);
  const createMs = performance.now() - t0;
  const first = await verifyFloat(models, enrolImage, new Float32Array(128), { liveness: false });
  const template = unit(await models.embed(first.crop!));
  const crops: (number[] | null)[] = [];
  const descriptors: (number[] | null)[] = [];
  for (const img of which === 'float' ? images : []) {
    try {
      const r = await verifyFloat(models, img, template, { liveness: false });
      crops.push(Array.from(r.crop!));
      descriptors.push(Array.from(unit(await models.embed(r.crop!))));
    } catch { crops.push(null); descriptors.push(null); }
  }
  return {
    info: { createMs, ort: ort.env.versions, wasmFiles: [...loadedFiles].filter((f) => f.endsWith('.wasm')), crops, descriptors },
    tasks: {
      verify: async (image, args) => {
        const t = performance.now();
        let r;
        try { r = await verifyFloat(models, images[image], template, { liveness: args.liveness !== false }); } catch { return { failed: 1, total: performance.now() - t } as Sample; }
        const tm = r.timingsMs;
        return { ...tm, noLiveness: tm.total - tm.liveness, score: r.score, live: r.liveness ?? -1, faces: r.faces, detectRuns: r.detectRuns.length, detectW: r.detectRuns[0].w, detectH: r.detectRuns[0].h } as Sample;
      },
    },
  };
}

async function tfjsRuntime(simd: boolean): Promise<Runtime> {
  const { loadTfjs, FACEAPI_MODEL_DIR, imageTensor } = await import('./lib/peers.js');
  const t0 = performance.now();
  const p = await loadTfjs(simd);
  const { faceapi, tf } = p;
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(FACEAPI_MODEL_DIR);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(FACEAPI_MODEL_DIR);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(FACEAPI_MODEL_DIR);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(FACEAPI_MODEL_DIR);
  const createMs = performance.now() - t0;
  let crops: (number[] | null)[] = [];
  const options = (d: unknown) => (d === 'tiny' ? new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 }) : new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
  const enrol = imageTensor(p, enrolImage);
  const enrolled = await faceapi.detectSingleFace(enrol as never, options('ssd')).withFaceLandmarks().withFaceDescriptor();
  enrol.dispose();
  const template = enrolled?.descriptor ?? new Float32Array(128);
  return {
    info: { createMs, tfjs: tf.version_core, backend: tf.getBackend(), wasmFile: p.wasmFile, simdFlag: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: p.threads },
    tasks: {
      setCrops: (_i, args) => { crops = args.crops as (number[] | null)[]; return {}; },
      /** The recognition net alone on the aligned 150x150 crop (face-api computeFaceDescriptor). */
      embed: async (image) => {
        const crop = crops[image] ?? crops.find((c) => c)!;
        const t = performance.now();
        const x = tf.tensor3d(Int32Array.from(crop), [150, 150, 3], 'int32');
        const d = (await faceapi.computeFaceDescriptor(x as never)) as Float32Array;
        x.dispose();
        return { embed: performance.now() - t, d0: d[0] };
      },
      descriptor: async (image) => {
        const crop = crops[image];
        if (!crop) return {};
        const x = tf.tensor3d(Int32Array.from(crop), [150, 150, 3], 'int32');
        const d = (await faceapi.computeFaceDescriptor(x as never)) as Float32Array;
        x.dispose();
        return Object.fromEntries(Array.from(d, (v, i) => [`d${i}`, v]));
      },
      /** The pipeline face-api users run: image tensor -> detector -> 68 landmarks -> aligned descriptor -> distance. */
      faceapi: async (image, args) => {
        const t = performance.now();
        const x = imageTensor(p, images[image]);
        const t1 = performance.now();
        const det = await faceapi.detectSingleFace(x as never, options(args.detector)).withFaceLandmarks().withFaceDescriptor();
        const t2 = performance.now();
        const dist = det ? faceapi.euclideanDistance(det.descriptor, template) : -1;
        x.dispose();
        const t3 = performance.now();
        return { total: t3 - t, tensor: t1 - t, pipeline: t2 - t1, match: t3 - t2, faces: det ? 1 : 0, distance: dist };
      },
      /** The detector alone (face-api detectSingleFace). */
      faceapiDetect: async (image, args) => {
        const t = performance.now();
        const x = imageTensor(p, images[image]);
        const det = await faceapi.detectSingleFace(x as never, options(args.detector));
        x.dispose();
        return { detect: performance.now() - t, faces: det ? 1 : 0 };
      },
      tensors: () => ({ tensors: tf.memory().numTensors }),
    },
  };
}

let runtime: Runtime;
switch (kind) {
  case 'wasmface': runtime = await wasmface(option as 'scalar' | 'simd' | 'relaxed'); break;
  case 'ort': runtime = await ortRuntime(option as 'float' | 'int8'); break;
  case 'tfjs': runtime = await tfjsRuntime(option !== 'nosimd'); break;
  case 'baseline': runtime = { info: {}, tasks: {} }; break;
  default: throw new Error(`unknown worker kind ${kind}`);
}

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
process.on('message', async (req: Request) => {
  try {
    switch (req.op) {
      case 'init': return await send({ id: req.id, ok: true, result: runtime.info });
      case 'run': {
        const task = runtime.tasks[req.task];
        if (!task) throw new Error(`${kind} ${option}: no task ${req.task}`);
        const samples: Sample[] = [];
        for (let r = 0; r < req.reps; r++) {
          const w = wallNow();
          const sample = await task(req.image, req.args ?? {});
          samples.push({ ...sample, wall: wallNow() - w });
        }
        return await send({ id: req.id, ok: true, result: samples });
      }
      case 'stats': {
        const mem = process.memoryUsage();
        return await send({ id: req.id, ok: true, result: {
          maxRssKB: process.resourceUsage().maxRSS, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers,
          wasm: wasmMemoryBytes(), loadedFiles: [...new Set([...loadedFiles, ...requiredFiles()])],
        } });
      }
      case 'exit': await send({ id: req.id, ok: true }); process.exit(0);
    }
  } catch (e) {
    await send({ id: req.id, ok: false, error: (e as Error).stack ?? String(e) });
  }
});
await send({ id: 0, ok: true, result: 'ready' });
