// npm run bench — wasmface against the runtimes users would otherwise pick, on the same models and the
// same images, in the same run; the results are ratios, not absolute times.
//   node --experimental-wasm-relaxed-simd --import tsx bench/run.ts [--quick]
// Writes bench/results.{json,md} and bench/out/bench-*.svg. Everything runs on one thread; every
// runtime lives in its own child process (bench/worker.ts) and the driver interleaves them in rounds.
// See bench/README.md for what is measured and how.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { detectFeatures } from '../js/loader.js';
import { Template } from '../js/template.js';
import { Progress } from './progress.js';
import { Worker, runJson, runScript } from './lib/children.js';
import { availableImages, OUT, ROOT, summarize, type Sample, type Summary } from './lib/common.js';
import { ourFootprint, peerBrowserSets, tracedSet, simdCensus, pkgDir } from './lib/footprint.js';
import { writeReport, type Results } from './lib/report.js';

const quick = process.argv.includes('--quick');
const started = performance.now();
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
mkdirSync(OUT, { recursive: true });
const load0 = loadavg();
const phases: Record<string, number> = {};
let phaseStart = performance.now();
const phase = (name: string) => { const n = performance.now(); phases[name] = (n - phaseStart) / 1000; phaseStart = n; };

// ---- plan ----
const features = detectFeatures();
const builds = ['relaxed', 'simd', 'scalar'].filter((b) => b !== 'relaxed' || features.relaxedSimd) as ('relaxed' | 'simd' | 'scalar')[];
const skipped: string[] = [];
if (!features.relaxedSimd) skipped.push('relaxed build: this node does not run relaxed SIMD (start node with --experimental-wasm-relaxed-simd)');
skipped.forEach((s) => log(`skipped ${s}`));
const images = availableImages();
if (images.length < 3) throw new Error(`only ${images.length} benchmark images found (need ../shared/faces beside the repository)`);
const ROUNDS = quick ? 3 : 8;
const REPS = 2;
const scalarImages = quick ? [0, 3, 6].filter((i) => i < images.length) : images.map((_, i) => i);
const GALLERY_SIZES = [100, 1000, 10000, 100000];
const COLD_SAMPLES = quick ? 3 : 7;
const PEER_COLD_SAMPLES = quick ? 1 : 3;

// ---- build if needed ----
const need = ['build/wasmface.scalar.wasm', 'build/wasmface.simd.wasm', 'build/wasmface.relaxed.wasm', 'dist/wasmface.mjs'];
if (need.some((f) => !existsSync(ROOT + f))) {
  log('building (node scripts/build.mjs)');
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
phase('build');
const git = (() => {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'assembly', 'js', 'models'], { cwd: ROOT }).toString().trim().split('\n').filter(Boolean);
    return { commit, dirtyFiles: dirty };
  } catch { return { commit: 'unknown', dirtyFiles: [] }; }
})();

// ---- prepare the peers' ONNX files; start the SIMD census (not timing-sensitive, overlaps the start-up) ----
log('preparing ONNX files for onnxruntime-web (float export of the face-api net, int8 QDQ of all four)');
const onnxPrep = await runJson<Record<string, unknown>>('bench/prepare-onnx.ts', [], { onStderr: (s) => process.stderr.write(s) });
const wasmToCensus = {
  'onnxruntime-web ort-wasm-simd-threaded.wasm': `${pkgDir('onnxruntime-web')}/dist/ort-wasm-simd-threaded.wasm`,
  'tfjs tfjs-backend-wasm-simd.wasm': `${pkgDir('@tensorflow/tfjs-backend-wasm')}/dist/tfjs-backend-wasm-simd.wasm`,
  'tfjs tfjs-backend-wasm.wasm': `${pkgDir('@tensorflow/tfjs-backend-wasm')}/dist/tfjs-backend-wasm.wasm`,
  ...Object.fromEntries(['scalar', 'simd', 'relaxed'].map((b) => [`wasmface.${b}.wasm`, `${ROOT}build/wasmface.${b}.wasm`])),
};
phase('prepare ONNX');
const censusPromise = Promise.all(Object.entries(wasmToCensus).map(async ([k, f]) => [k, await simdCensus(f)] as const));

// ---- warm workers ----
log(`starting workers: wasmface ${builds.join(', ')}; onnxruntime-web float, int8; tfjs-backend-wasm SIMD, no SIMD`);
// Every runtime runs in PROCS separate processes, used in turn round by round: one process was seen
// to run one stage ~1.5x slower than its twins for its whole life (with or without --no-liftoff;
// memory placement or the vCPU it sits on, most likely), so a stage's median is the median of the
// per-process medians, and their spread is reported. --quick keeps one process per runtime.
const PROCS = quick ? 1 : 3;
const replicas: Record<string, Worker[]> = {};
const workers: Record<string, Worker> = {}; // process #0 of each runtime: setup, footprint, identify
const spawnRuntime = (name: string, args: string[], n = PROCS) => {
  replicas[name] = Array.from({ length: n }, (_, p) => new Worker(`${name}#${p}`, args));
  workers[name] = replicas[name][0];
};
for (const b of builds) spawnRuntime(`wasmface-${b}`, ['wasmface', b]);
spawnRuntime('ort-float', ['ort', 'float']);
spawnRuntime('ort-int8', ['ort', 'int8']);
spawnRuntime('tfjs-simd', ['tfjs', 'simd']);
spawnRuntime('tfjs-nosimd', ['tfjs', 'nosimd']);
spawnRuntime('baseline', ['baseline'], 1);
const everyWorker = () => Object.values(replicas).flat();
const cleanup = () => everyWorker().forEach((w) => w.kill());
process.on('exit', cleanup);
await Promise.all(everyWorker().map((w) => w.ready));
const info: Record<string, Record<string, unknown>> = {};
for (const [k, w] of Object.entries(workers)) info[k] = await w.init();
const crops = info['ort-float'].crops as (number[] | null)[];
for (const w of [...replicas['tfjs-simd'], ...replicas['tfjs-nosimd']]) await w.run('setCrops', 0, 1, { crops });
// the exported float embedder against tfjs (same weights; @vladmandic divides by 255, the pinned face-api.js by 256)
const tfDesc = await Promise.all(images.map((_, i) => workers['tfjs-simd'].run('descriptor', i, 1)));
const ortDesc = info['ort-float'].descriptors as (number[] | null)[];
const exportCos = images.map((_, i) => {
  const a = ortDesc[i], d = tfDesc[i][0];
  if (!a || !d || d.d0 === undefined) return null;
  const b = Array.from({ length: 128 }, (_, k) => d[`d${k}`]);
  const nb = Math.hypot(...b);
  return a.reduce((s, v, k) => s + v * b[k], 0) / nb;
}).filter((c): c is number => c !== null);
for (const k of ['ort-float', 'ort-int8']) { delete info[k].crops; delete info[k].descriptors; }
phase('start workers');

// ---- what runs in every round ----
interface Job { key: string; worker: string; task: string; args?: Record<string, unknown>; images: number[]; reps: number; rounds: number; warm?: number[] }
const all = images.map((_, i) => i);
const jobs: Job[] = [];
for (const b of builds) {
  const scalar = b === 'scalar';
  for (const flip of [true, false]) {
    jobs.push({ key: `wasmface-${b}${flip ? '' : '-noflip'}`, worker: `wasmface-${b}`, task: 'verify', args: { flip }, images: scalar ? scalarImages : all, reps: scalar ? 1 : REPS, rounds: scalar ? (quick ? 1 : 2) : ROUNDS });
  }
}
jobs.push({ key: 'ort-float', worker: 'ort-float', task: 'verify', images: all, reps: REPS, rounds: ROUNDS });
jobs.push({ key: 'ort-int8', worker: 'ort-int8', task: 'verify', images: all, reps: REPS, rounds: ROUNDS });
for (const v of ['simd', 'nosimd']) {
  const slow = v === 'nosimd';
  // face-api's detectors resize every image to their own fixed input (SSD 512x512, Tiny 416x416): two warm-up images do
  const warm = [0, 3];
  const slowRounds = quick ? 1 : Math.ceil(ROUNDS / 2);
  jobs.push({ key: `tfjs-${v}-embed`, worker: `tfjs-${v}`, task: 'embed', images: all, reps: REPS, rounds: ROUNDS, warm });
  jobs.push({ key: `faceapi-ssd-${v}`, worker: `tfjs-${v}`, task: 'faceapi', args: { detector: 'ssd' }, images: all, reps: 1, rounds: slow ? slowRounds : ROUNDS, warm });
  if (!slow || !quick) jobs.push({ key: `faceapi-tiny-${v}`, worker: `tfjs-${v}`, task: 'faceapi', args: { detector: 'tiny' }, images: all, reps: 1, rounds: slow ? slowRounds : ROUNDS, warm });
  if (!slow) jobs.push({ key: `faceapi-ssd-${v}-detect`, worker: `tfjs-${v}`, task: 'faceapiDetect', args: { detector: 'ssd' }, images: all, reps: 1, rounds: quick ? 1 : Math.ceil(ROUNDS / 2), warm: [0] });
}

// warm-up: every job once on every image (JIT tiers, lazily grown buffers, tfjs kernels)
const warmTotal = jobs.reduce((s, j) => s + (j.warm ?? j.images).length, 0);
const pw = new Progress('bench: warm-up', warmTotal);
for (const j of jobs) for (const i of j.warm ?? j.images) {
  for (const w of replicas[j.worker]) await w.run(j.task, i, 1, j.args);
  pw.tick(1, j.key);
}

phase('warm-up');
const samples: Record<string, Record<number, Sample[]>> = {};
const total = jobs.reduce((s, j) => s + j.images.length * j.rounds, 0);
const pr = new Progress('bench: measuring', total);
for (let r = 0; r < ROUNDS; r++) {
  // image by image, every runtime in turn, so that all samples of one image are taken within seconds
  // of each other; the order rotates so that no runtime always follows the same neighbour
  for (const i of all) {
    const order = jobs.map((_, k) => jobs[(k + r + i) % jobs.length]).filter((j) => r < j.rounds && j.images.includes(i));
    for (const j of order) {
      const proc = r % replicas[j.worker].length;
      const got = await replicas[j.worker][proc].run(j.task, i, j.reps, j.args);
      ((samples[j.key] ??= {})[i] ??= []).push(...got.map((g) => ({ ...g, proc })));
      pr.tick(1, `round ${r + 1}/${ROUNDS} ${j.key}`);
    }
  }
}

phase('measuring rounds');
// ---- worker footprints (each runtime alone in its process) ----
const stats: Record<string, Record<string, unknown>> = {};
for (const [k, w] of Object.entries(workers)) stats[k] = await w.stats();
const wfMemory = Object.fromEntries(await Promise.all(builds.map(async (b) => [b, (await workers[`wasmface-${b}`].run('memory', 0, 1))[0]])));

// ---- 1:N identify ----
const identify: Record<string, { size: number; search: number; searchP90: number; addMs: number; wasmMB: number }[]> = {};
// 100k for the best build only: filling a gallery costs O(n^2) in gallery.add (reported)
const gallerySizes = (b: string) => GALLERY_SIZES.filter((s) => s <= (b === builds[0] ? 100000 : 10000));
const pi = new Progress('bench: identify', builds.reduce((s, b) => s + gallerySizes(b).length, 0));
for (const b of builds) {
  identify[b] = [];
  for (const size of gallerySizes(b)) {
    const [res] = await workers[`wasmface-${b}`].run('gallery', 0, 1, { size, searches: size >= 100000 ? 10 : 30 });
    identify[b].push(res as never);
    pi.tick(1, `${b} ${size}`);
  }
}
const enrolTemplate = await (async () => {
  // a stored template for the cold-start children (bytes, as a device would keep it)
  const emb = new Float32Array(128).fill(1 / Math.sqrt(128));
  return new Template(String((info[`wasmface-${builds[0]}`].models as { embedder: string }).embedder), emb).toBytes();
})();
await Promise.all(everyWorker().map((w) => w.exit()));
phase('identify');

// ---- cold start: fresh processes ----
const templateFile = `${OUT}cold-template.bin`;
writeFileSync(templateFile, enrolTemplate);
interface Cold { createMs: number; firstMs: number; totalMs: number; createCpuMs: number; firstCpuMs: number; totalCpuMs: number; afterFirst: { wasmMB: number; maxRssMB: number }; afterAll: { wasmMB: number; maxRssMB: number } | null; engineMemoryMB?: number; engineMemoryAllMB?: number }
const coldPlan: { key: string; args: string[]; n: number }[] = [
  ...builds.flatMap((b) => [
    { key: `wasmface-${b}`, args: ['wasmface', b, templateFile, ...(b === 'scalar' ? [] : ['--all-images'])], n: b === 'scalar' ? (quick ? 1 : 2) : COLD_SAMPLES },
    { key: `wasmface-${b}-noflip`, args: ['wasmface-noflip', b, templateFile], n: b === 'scalar' ? 1 : Math.max(1, Math.floor(COLD_SAMPLES / 2)) },
  ]),
  { key: 'ort-float', args: ['ort', 'float', templateFile, '--all-images'], n: PEER_COLD_SAMPLES },
  { key: 'ort-int8', args: ['ort', 'int8', templateFile], n: PEER_COLD_SAMPLES },
  { key: 'faceapi-ssd-simd', args: ['faceapi', 'simd', templateFile, '--all-images'], n: PEER_COLD_SAMPLES },
  { key: 'faceapi-ssd-nosimd', args: ['faceapi', 'nosimd', templateFile], n: PEER_COLD_SAMPLES },
  { key: 'baseline', args: ['baseline', '-', templateFile, '--all-images'], n: 1 },
];
const cold: Record<string, Cold[]> = {};
const pc = new Progress('bench: cold start', coldPlan.reduce((s, c) => s + c.n, 0));
for (let k = 0; k < Math.max(...coldPlan.map((c) => c.n)); k++) {
  for (const c of coldPlan) {
    if (k >= c.n) continue;
    (cold[c.key] ??= []).push(await runJson<Cold>('bench/cold.ts', c.args));
    pc.tick(1, c.key);
  }
}

phase('cold start');
// ---- where the cold start and the memory go (for the missed-target analysis) ----
const profiles: Record<string, unknown> = {};
for (const [name, flags] of [['default tiering', []], ['--no-liftoff (TurboFan up front)', ['--no-liftoff']]] as [string, string[]][]) {
  profiles[name] = await runJson('bench/profile.ts', [builds[0]], { nodeFlags: flags });
}
phase('profiles');
// ---- kernel roofline (bench/kernels.ts; --quick reuses a result newer than the builds) ----
const kernelsJson = `${OUT}kernels.json`, kernelsStamp = `${OUT}kernels.stamp.json`;
const buildHash = createHash('sha256');
for (const b of ['scalar', 'simd', 'relaxed']) buildHash.update(readFileSync(`${ROOT}build/wasmface.${b}.wasm`));
const stamp = { builds: buildHash.digest('hex'), quick };
const previous = existsSync(kernelsStamp) ? JSON.parse(readFileSync(kernelsStamp, 'utf8')) : null;
let kernelsNote = '';
if (quick && existsSync(kernelsJson) && previous?.builds === stamp.builds) {
  kernelsNote = `reused bench/out/kernels.json from ${statSync(kernelsJson).mtime.toISOString()}, measured on these same wasm builds (${previous.quick ? '--quick' : 'full'} run; --quick reuses it)`;
  log(kernelsNote);
} else {
  log(`kernel roofline: bench/kernels.ts${quick ? ' --quick' : ''}`);
  await runScript('bench/kernels.ts', quick ? ['--quick'] : [], (s) => process.stderr.write(s));
  writeFileSync(kernelsStamp, JSON.stringify(stamp));
  kernelsNote = `bench/kernels.ts${quick ? ' --quick' : ''} run in this benchmark`;
}
const kernels = existsSync(kernelsJson) ? JSON.parse(readFileSync(kernelsJson, 'utf8')) : null;
phase('kernels');

// ---- footprint ----
const census = Object.fromEntries(await censusPromise);
const footprint = {
  ours: ourFootprint(),
  peersBrowser: peerBrowserSets(),
  peersNodeLoaded: Object.fromEntries(['ort-float', 'tfjs-simd', 'tfjs-nosimd'].map((k) => [k, tracedSet(stats[k].loadedFiles as string[])])),
  onnx: onnxPrep,
};
for (const s of Object.values(stats)) delete s.loadedFiles;

phase('footprint');
// ---- summaries ----
const summaries: Record<string, Record<string, Summary>> = {};
const perImage: Record<string, Record<string, number>> = {};
const perImageScore: Record<string, Record<string, { score: number; live: number | null; faces: number }>> = {};
const perImageStages: Record<string, Record<string, Record<string, number>>> = {};
for (const [key, byImage] of Object.entries(samples)) {
  const pooled: Record<string, number[]> = {};
  for (const [i, list] of Object.entries(byImage)) {
    for (const s of list) for (const [stage, v] of Object.entries(s)) (pooled[stage] ??= []).push(v);
    const tot = list.map((s) => s.total ?? s.embed ?? s.detect).filter((v) => v !== undefined);
    (perImage[key] ??= {})[images[Number(i)].id] = summarize(tot).median;
    const st: Record<string, number[]> = {};
    for (const smp of list) for (const [k, v] of Object.entries(smp)) (st[k] ??= []).push(v);
    (perImageStages[key] ??= {})[images[Number(i)].id] = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, summarize(v).median]));
    const sc = list.map((s) => s.score ?? s.distance).filter((v) => v !== undefined), lv = list.map((s) => s.live).filter((v) => v !== undefined && v >= 0);
    if (sc.length) (perImageScore[key] ??= {})[images[Number(i)].id] = { score: summarize(sc).median, live: lv.length ? summarize(lv).median : null, faces: summarize(list.map((s) => s.faces ?? 0)).median };
  }
  // median of the per-process medians (robust to one slow process); p90 over all samples
  const byProc: Record<number, Record<string, number[]>> = {};
  for (const list of Object.values(byImage)) for (const smp of list) for (const [stage, v] of Object.entries(smp)) ((byProc[smp.proc] ??= {})[stage] ??= []).push(v);
  summaries[key] = Object.fromEntries(Object.entries(pooled).filter(([stage]) => stage !== 'proc').map(([stage, v]) => {
    const meds = Object.values(byProc).map((p) => p[stage]).filter((x) => x?.length).map((x) => summarize(x).median);
    return [stage, { ...summarize(v), median: summarize(meds).median, procMedians: meds }];
  }));
}
const coldSummary = Object.fromEntries(Object.entries(cold).map(([k, list]) => [k, {
  createMs: summarize(list.map((c) => c.createMs)), firstMs: summarize(list.map((c) => c.firstMs)), totalMs: summarize(list.map((c) => c.totalMs)),
  createCpuMs: summarize(list.map((c) => c.createCpuMs)), firstCpuMs: summarize(list.map((c) => c.firstCpuMs)), totalCpuMs: summarize(list.map((c) => c.totalCpuMs)),
  wasmMBAfterFirst: Math.max(...list.map((c) => c.afterFirst.wasmMB)), maxRssMBAfterFirst: Math.max(...list.map((c) => c.afterFirst.maxRssMB)),
  wasmMBAfterAll: list[0].afterAll ? Math.max(...list.map((c) => c.afterAll!.wasmMB)) : null, maxRssMBAfterAll: list[0].afterAll ? Math.max(...list.map((c) => c.afterAll!.maxRssMB)) : null,
  samples: list.length,
}]));

const results: Results = {
  date: new Date().toISOString(), quick, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length,
  loadavg: { start: load0, end: loadavg() }, seconds: 0, git, skipped,
  images: images.map((i) => ({ id: i.id, path: i.path.replace(ROOT, '').replace(/^.*\/shared\//, '../shared/'), kind: i.kind })),
  plan: { rounds: ROUNDS, reps: REPS, processesPerRuntime: PROCS, scalarImages: scalarImages.map((i) => images[i].id), coldSamples: COLD_SAMPLES, peerColdSamples: PEER_COLD_SAMPLES, gallerySizes: Object.fromEntries(builds.map((b) => [b, gallerySizes(b)])) },
  runtimes: info, census, samplesPerKey: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Object.values(v).reduce((s, l) => s + l.length, 0)])),
  warm: summaries, perImage, perImageScore, perImageStages, cold: coldSummary, profiles, phases, stats, wfMemory, identify, footprint, kernels, kernelsNote,
  agreement: {
    exportedEmbedderVsTfjsCosine: exportCos.length ? { min: Math.min(...exportCos), mean: exportCos.reduce((a, b) => a + b, 0) / exportCos.length, n: exportCos.length } : null,
    onnxInt8VsFloat: onnxPrep,
  },
  builds,
};
results.seconds = (performance.now() - started) / 1000;
writeReport(results);
log(`done in ${results.seconds.toFixed(0)} s: bench/results.{json,md}, ${readdirSync(OUT).filter((f) => f.startsWith('bench-') && f.endsWith('.svg')).map((f) => `bench/out/${f}`).join(', ')}`);
process.exit(0);
