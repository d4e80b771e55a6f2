// Seeded mutation fuzzing of the REAL shipped model files (models/*.wfm) through Model.load on the
// SIMD build. Mutations: truncation at random points (some with the size field patched to match),
// random byte flips, 32-bit field overwrites with hostile values (0, -1, 2^31-1, 65536, huge and
// off-by-one offsets, values of other records) in the header, tensor, op and output tables, data
// section and metadata overwrites, extension with garbage, combinations; most files are re-sealed
// (header SHA-256 recomputed) so the checks after the checksum run. Since Model.load also takes
// gzip files, some cases gzip a mutated file, or mutate a gzipped one.
//
// Every case must either throw ModelFormatError or give a model that runs on a random input and
// disposes without any other exception; nothing may leak (wasm.liveRegions()), and afterwards the
// unmodified models still give their reference outputs bit for bit.
//
// Most cases use the small models (YuNet 77 KB, the two MiniFASNets ~480 KB); the 5.6 MB embedder
// gets fewer (copying and hashing it dominates). WASMFACE_MODEL_FUZZ sets the total (default 3000),
// WASMFACE_MODEL_FUZZ_SEED the seed. Dynamic-size models (YuNet) run at a random small multiple of
// their size step (1 case in 20 at the full planned size); when a mutated model cannot plan the
// smaller size, setInputSize refuses it (KernelError E_SHAPE, counted) and the model runs at its
// planned size instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as F from '../../assembly/graph/format.js';
import { instantiateBackend, detectFeatures } from '../../js/loader.js';
import { Model, Arena } from '../../js/model.js';
import { KernelError, ModelFormatError } from '../../js/errors.js';
import type { WasmExports } from '../../js/wasm-abi.js';
import { buildPath, rng } from '../helpers/builds.js';
import { seal } from '../helpers/wfm-builder.js';

const MODELS_DIR = new URL('../../models/', import.meta.url);
const TOTAL = Number(process.env.WASMFACE_MODEL_FUZZ ?? 3000);
const SEED = Number(process.env.WASMFACE_MODEL_FUZZ_SEED ?? 20240917);
const MEMORY_LIMIT_MB = 160; // the embedder needs ~20 MB; hostile plans beyond this must be refused (FE_MEMORY)

const manifestPath = new URL('manifest.json', MODELS_DIR);
const SKIP = !existsSync(buildPath('simd')) ? 'build/wasmface.simd.wasm missing: run npm run build'
  : !detectFeatures().simd ? 'this engine has no SIMD'
    : !existsSync(manifestPath) ? 'no shipped models (models/manifest.json)' : false;

/** Share of the cases per model id prefix; gzip cases use YuNet. */
const PLAN: { id: string; share: number; gzip?: boolean }[] = [
  { id: 'yunet', share: 0.46 },
  { id: 'minifasnet-v2', share: 0.2 },
  { id: 'minifasnet-v1se', share: 0.2 },
  { id: 'faceapi', share: 0.05 },
  { id: 'yunet', share: 0.09, gzip: true },
];

interface Layout { size: number; tensorsOff: number; tensors: number; opsOff: number; ops: number; outputsOff: number; outputs: number; dataOff: number; dataSize: number; metaOff: number; metaSize: number }

function layout(b: Uint8Array): Layout {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength), u = (o: number) => v.getUint32(o, true);
  return { size: b.length, tensorsOff: u(F.H_TENSORS_OFF), tensors: u(F.H_TENSOR_COUNT), opsOff: u(F.H_OPS_OFF), ops: u(F.H_OP_COUNT),
    outputsOff: u(F.H_OUTPUTS_OFF), outputs: u(F.H_OUTPUT_COUNT), dataOff: u(F.H_DATA_OFF), dataSize: u(F.H_DATA_SIZE), metaOff: u(F.H_META_OFF), metaSize: u(F.H_META_SIZE) };
}

type Rng = ReturnType<typeof rng>;

/** A mutation of `clean`, and a description that reproduces it in a failure message. */
function mutate(clean: Uint8Array, L: Layout, f: Rng): { bytes: Uint8Array; what: string } {
  const hostile = (): number => f.pick([0, -1, 0x7fffffff, 65536, 1, -2, 0x80000000 | 0, 255, 4096, 0x7ffffff0, 1 << 30,
    L.size, L.size - 1, L.size + 1, L.dataSize, L.dataSize + 1, L.tensors, L.tensors + 1, L.ops, 128, 127, 3, 16]);
  const kind = f.int(0, 6);
  if (kind === 0) { // truncation
    const cut = f.next() < 0.3 ? f.int(0, Math.min(L.size - 1, L.dataOff + 64)) : f.int(0, L.size - 1);
    const b = clean.slice(0, cut);
    if (cut >= F.HEADER_SIZE && f.next() < 0.5) { // size field patched to match, re-sealed: the section checks must catch it
      new DataView(b.buffer).setUint32(F.H_FILE_SIZE, cut, true);
      return { bytes: seal(b), what: `truncate to ${cut}, size field patched, sealed` };
    }
    return { bytes: b, what: `truncate to ${cut}` };
  }
  const b = clean.slice(), v = new DataView(b.buffer);
  const notes: string[] = [];
  const inPlace = (k: number): void => {
    if (k === 1) { // random byte flips / random bytes anywhere (header included)
      const n = f.int(1, 8);
      for (let i = 0; i < n; i++) {
        const at = f.next() < 0.2 ? f.int(0, F.HEADER_SIZE - 1) : f.int(0, b.length - 1);
        b[at] = f.next() < 0.5 ? b[at] ^ (1 << f.int(0, 7)) : f.int(0, 255);
        notes.push(`byte ${at}`);
      }
    } else if (k === 2) { // 32-bit field overwrites in the header, tensor, op and output tables
      const n = f.int(1, 3);
      for (let i = 0; i < n; i++) {
        const table = f.int(0, 3);
        let at: number, other: number | undefined;
        if (table === 0) at = f.pick([8, 12, ...Array.from({ length: (F.H_DYNAMIC - F.H_TENSORS_OFF) / 4 + 1 }, (_, j) => F.H_TENSORS_OFF + 4 * j), 104, 124]);
        else {
          const [off, count, size] = table === 1 ? [L.tensorsOff, L.tensors, F.TENSOR_SIZE] : table === 2 ? [L.opsOff, L.ops, F.OP_SIZE] : [L.outputsOff, L.outputs, 4];
          const field = 4 * f.int(0, size / 4 - 1);
          at = off + f.int(0, count - 1) * size + field;
          other = off + f.int(0, count - 1) * size + field; // the same field of another record
        }
        const value = other !== undefined && f.next() < 0.2 ? v.getInt32(other, true) : hostile();
        v.setInt32(at, value, true);
        notes.push(`i32 @${at}=${value}`);
      }
    } else if (k === 4) { // a block of the data section (weights, biases, multipliers, tables) overwritten
      const len = f.int(4, 64), at = L.dataOff + f.int(0, Math.max(0, L.dataSize - len));
      for (let i = 0; i < len && at + i < b.length; i++) b[at + i] = f.next() < 0.3 ? f.pick([0, 0x7f, 0x80, 0xff]) : f.int(0, 255);
      notes.push(`data block ${at}+${len}`);
    } else if (k === 5) { // metadata JSON bytes
      const n = f.int(1, 4);
      for (let i = 0; i < n; i++) { const at = L.metaOff + f.int(0, Math.max(0, L.metaSize - 1)); b[at] = f.pick([0x22, 0x7b, 0x7d, 0x00, 0xff, 0x5c, f.int(0, 255)]); notes.push(`meta byte ${at}`); }
    }
  };
  // kinds 1, 2, 4, 5 in place; 3 extends with garbage; 6 combines two in-place kinds, sometimes then extends
  if (kind === 6) { inPlace(f.pick([1, 2, 4, 5])); inPlace(f.pick([1, 2, 4, 5])); } else if (kind !== 3) inPlace(kind);
  let out: Uint8Array = b;
  if (kind === 3 || (kind === 6 && f.next() < 0.3)) {
    const extra = Uint8Array.from({ length: f.int(1, 4096) }, () => f.int(0, 255));
    out = new Uint8Array(b.length + extra.length);
    out.set(b); out.set(extra, b.length);
    const patch = f.next() < 0.5;
    if (patch) new DataView(out.buffer).setUint32(F.H_FILE_SIZE, out.length, true);
    notes.push(`+${extra.length} garbage bytes${patch ? ', size field patched' : ''}`);
  }
  const sealIt = f.next() < 0.9;
  if (sealIt) seal(out);
  return { bytes: out, what: `kind ${kind}: ${notes.join(', ')}${sealIt ? ', sealed' : ''}` };
}

interface Counts { cases: number; ran: number; refused: number; sizeRefused: number; fullSize: number; codes: Map<string, number> }

/** Runs a loaded model on a random input (small size for dynamic models), reads every output. */
function exercise(m: Model, f: Rng, counts: Counts): void {
  const s = m.inputSize;
  let w = s.width, h = s.height;
  if (s.step > 0 && f.next() >= 0.05) {
    const maxK = Math.max(1, Math.min(4, Math.floor(s.planned.width / s.step))), maxKh = Math.max(1, Math.min(4, Math.floor(s.planned.height / s.step)));
    const tw = s.step * f.int(1, maxK), th = s.step * f.int(1, maxKh);
    try {
      m.setInputSize(tw, th);
      w = tw; h = th;
    } catch (e) {
      if (!(e instanceof KernelError) || e.code !== 'E_SHAPE') throw e;
      counts.sizeRefused++;
      m.setInputSize(s.planned.width, s.planned.height);
      w = s.planned.width; h = s.planned.height;
    }
  } else if (s.step > 0) counts.fullSize++;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (f.next() * 256) | 0;
  m.run(rgb);
  for (let i = 0; i < m.outputCount; i++) { m.output(i); m.outputInt8(i); }
}

/** int8 outputs of a model on a fixed input (YuNet at 96x64), for the before/after comparison. */
function reference(x: WasmExports, arena: Arena, bytes: Uint8Array): string[] {
  const m = Model.load(x, arena, bytes);
  try {
    if (m.inputSize.step) m.setInputSize(96, 64);
    const { width, height } = m.inputSize, r = rng(7);
    m.run(Uint8Array.from({ length: width * height * 3 }, () => r.int(0, 255)));
    return Array.from({ length: m.outputCount }, (_, i) => Buffer.from(m.outputInt8(i).buffer).toString('base64'));
  } finally {
    m.dispose();
  }
}

test(`shipped models: ${TOTAL} seeded mutations through Model.load on the SIMD build give ModelFormatError or a model that runs; nothing leaks`, { skip: SKIP }, async (t) => {
  const x = await instantiateBackend({ simd: readFileSync(buildPath('simd')) }, 'simd', MEMORY_LIMIT_MB);
  const arena = new Arena(x);
  const base = x.liveRegions();
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, { file: string }>;
  const files = new Map(Object.entries(manifest).map(([id, e]) => [id, new Uint8Array(readFileSync(new URL(e.file, MODELS_DIR)))]));
  const find = (prefix: string) => [...files.keys()].find((id) => id.startsWith(prefix));
  const refs = new Map([...files].map(([id, bytes]) => [id, reference(x, arena, bytes)]));
  const f = rng(SEED);
  const t0 = performance.now();
  const report: string[] = [];
  let totalCases = 0;
  for (const plan of PLAN) {
    const id = find(plan.id);
    if (!id) { t.diagnostic(`no shipped model ${plan.id}*: skipped`); continue; }
    const clean = files.get(id)!, L = layout(clean);
    const gzClean = plan.gzip ? new Uint8Array(gzipSync(clean, { level: 6 })) : undefined;
    const n = Math.max(1, Math.round(TOTAL * plan.share));
    const counts: Counts = { cases: 0, ran: 0, refused: 0, sizeRefused: 0, fullSize: 0, codes: new Map() };
    const tm = performance.now();
    for (let c = 0; c < n; c++) {
      let bytes: Uint8Array, what: string;
      if (gzClean) {
        if (f.next() < 0.5) { const m = mutate(clean, L, f); bytes = new Uint8Array(gzipSync(m.bytes, { level: 1 })); what = `gzip of (${m.what})`; }
        else {
          const g = gzClean.slice();
          const k = f.int(0, 2);
          if (k === 0) { bytes = g.subarray(0, f.int(0, g.length - 1)); what = `gzip truncated to ${bytes.length}`; }
          else if (k === 1) { const at = f.int(0, g.length - 1); g[at] ^= 1 << f.int(0, 7); bytes = g; what = `gzip bit flip @${at}`; }
          else { const at = Math.max(0, g.length - 8 + f.int(0, 7)); g[at] = f.int(0, 255); bytes = g; what = `gzip trailer byte @${at}`; }
        }
      } else ({ bytes, what } = mutate(clean, L, f));
      counts.cases++;
      let m: Model | undefined;
      try {
        m = Model.load(x, arena, bytes);
      } catch (e) {
        if (!(e instanceof ModelFormatError)) assert.fail(`${id} case ${c} (${what}): ${(e as Error).constructor.name}: ${(e as Error).message}`);
        counts.refused++;
        counts.codes.set(e.detail.code, (counts.codes.get(e.detail.code) ?? 0) + 1);
      }
      if (m) {
        try {
          exercise(m, f, counts);
          counts.ran++;
        } catch (e) {
          assert.fail(`${id} case ${c} (${what}) loaded but failed to run: ${(e as Error).constructor.name}: ${(e as Error).message}`);
        } finally {
          m.dispose();
        }
      }
      const live = x.liveRegions() - (arena.ptr ? 1 : 0);
      assert.equal(live, base, `${id} case ${c} (${what}): ${live - base} wasm region(s) leaked`);
    }
    totalCases += counts.cases;
    const codes = [...counts.codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    report.push(`${id}${plan.gzip ? ' (gzip)' : ''}: ${counts.cases} cases in ${((performance.now() - tm) / 1000).toFixed(1)} s: ${counts.ran} loaded and ran` +
      `${counts.fullSize ? ` (${counts.fullSize} at the full planned size)` : ''}${counts.sizeRefused ? `, ${counts.sizeRefused} refused the smaller size and ran at the planned one` : ''}; ` +
      `${counts.refused} refused with ModelFormatError (${codes})`);
  }
  // unmodified models still give their reference outputs; nothing left allocated
  for (const [id, bytes] of files) assert.deepEqual(reference(x, arena, bytes), refs.get(id), `${id}: output changed after the fuzzing`);
  arena.dispose();
  assert.equal(x.liveRegions(), 0, 'nothing leaked');
  console.log(`model fuzz (real models, simd, seed ${SEED}): ${totalCases} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s, wasm memory ${(x.memory.buffer.byteLength / 1048576).toFixed(0)} MiB\n  ${report.join('\n  ')}`);
});
