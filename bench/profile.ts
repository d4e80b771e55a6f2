// Child process of bench/run.ts: where the cold start and the memory of wasmface go, for the report's
// explanation of missed targets. Fresh process; prints one JSON line.
//   node --import tsx bench/profile.ts <build>      (run by the driver with and without --no-liftoff)
// - create, step by step as FaceEngine.create does it: read the model files, compile + instantiate +
//   self-test the build (loadWasm), then per model Model.load (validation, planning, packing) and the
//   SHA-256 pin check;
// - the first verification and the next ones, per stage (tier-up of the wasm code shows here);
// - the engine's buffers after a 480x360 photo and after a 2048x1365 one (read from its private
//   fields: diagnosis only).
import { loadWasm, type Backend } from '../js/loader.js';
import { Arena, Model } from '../js/model.js';
import { sha256Hex, type FaceEngine } from '../js/engine.js';
import { createNodeEngine, bundledModels, nodeWasmSources, readImageFile } from '../js/node.js';
import { ROOT, SHARED } from './lib/common.js';

// CPU clock (see bench/worker.ts): the engine's timingsMs and the steps below read it
(performance as { now: () => number }).now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const backend = process.argv[2] as Backend;
const small = readImageFile(`${ROOT}examples/images/person-a-2.jpg`);
const big = readImageFile(`${SHARED}faces/deepface/p04/img57.jpg`);
const sources = nodeWasmSources() as (b: Backend) => Uint8Array;
const wasmBytes = new Uint8Array(sources(backend));

// create, step by step
const steps: Record<string, number> = {};
let t = performance.now();
const lap = (name: string) => { const n = performance.now(); steps[name] = n - t; t = n; };
// let tsx's loader thread finish its transpiling first: this clock counts every thread of the process
await new Promise((r) => setTimeout(r, 300));
t = performance.now();
await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
lap('first use of WebAssembly in the process (empty module)');
const models = bundledModels();
lap('read model files');
const { exports } = await loadWasm({ backend, wasm: { [backend]: wasmBytes }, memoryLimitMB: 256 });
lap('loadWasm: compile + instantiate + ABI check + self-test');
const arena = new Arena(exports);
// FaceEngine.create's calls, one model at a time so each is timed apart (create overlaps the hashes
// with the wasm compile): Model.contentDigest hashes the file with the platform's SHA-256
// (WebCrypto), then Model.load validates it against that digest, plans the graph and packs the weights.
for (const [role, bytes] of [['embedder', models.embedder], ['detector', models.detector], ...(models.antispoof ?? []).map((b, i) => [`antispoof ${i}`, b])] as [string, Uint8Array][]) {
  const digest = await Model.contentDigest(bytes);
  lap(`SHA-256 (WebCrypto) ${role} (${bytes.length.toLocaleString('en')} B)`);
  Model.load(exports, arena, bytes, digest);
  lap(`Model.load ${role}: validate, plan, pack`);
}
// for comparison: the wasm's own SHA-256 (what Model.load does where there is no WebCrypto)
const shaStart = performance.now();
sha256Hex(exports, models.embedder as Uint8Array);
const sha256EmbedderMs = performance.now() - shaStart;

// first verifications in a fresh engine (the one above stays alive: same process, warm code, so a
// second engine shows the create cost once the module is compiled)
const t0 = performance.now();
const engine = await createNodeEngine({ backend });
const createAgain = performance.now() - t0;
const template = engine.enroll(readImageFile(`${ROOT}examples/images/person-a-1.jpg`));
const verifies: Record<string, number>[] = [];
for (let i = 0; i < 12; i++) verifies.push({ ...engine.verify(small, template).timingsMs });

type Buf = { bytes: number };
const buffers = (e: FaceEngine) => {
  const priv = e as unknown as { buf: Record<string, Buf>; arena: Arena };
  const list = Object.entries(priv.buf).map(([k, b]) => [k, b.bytes] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { arena: priv.arena.bytes, buffers: Object.fromEntries(list), total: list.reduce((s, [, b]) => s + b, 0) + priv.arena.bytes, memory: e.wasm.memory.buffer.byteLength };
};
const afterSmall = buffers(engine);
engine.verify(big, template);
const afterBig = buffers(engine);
const modelBytes = Object.values(bundledModels()).flat().reduce((s: number, b) => s + (b as Uint8Array).length, 0);
process.stdout.write(JSON.stringify({
  backend, flags: process.execArgv.filter((a) => a.startsWith('--') && a !== '--import'), steps, createTotal: Object.values(steps).reduce((a, b) => a + b, 0),
  createAgainInSameProcess: createAgain, sha256EmbedderMs, firstVerify: verifies[0], secondVerify: verifies[1], tenthVerify: verifies[9],
  memory: { afterSmall, afterBig, modelFileBytes: modelBytes, image: { small: [small.width, small.height], big: [big.width, big.height] } },
}) + '\n');
