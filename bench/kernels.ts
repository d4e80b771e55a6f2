// npm run bench:kernels — GMAC/s of each kernel and build on the layer shapes of the three models,
// as a fraction of a ceiling measured in the same run (bench/ceiling.ts: i32x4.dot_i16x8_s on data
// in L1). Writes bench/out/kernels.{json,md,svg}. `--quick` shortens every measurement.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import asc from 'assemblyscript/asc';
import { instantiateBackend, detectFeatures, type Backend } from '../js/loader.js';
import type { WasmExports } from '../js/wasm-abi.js';
import { LAYERS, macs, outDim, type Layer } from './layers.js';
import { barChart } from './svg.js';
import { Progress } from './progress.js';

const quick = process.argv.includes('--quick');
const MIN_SECONDS = quick ? 0.08 : 0.4;
const root = new URL('../', import.meta.url);
const outDir = new URL('bench/out/', root);
mkdirSync(outDir, { recursive: true });

/** Calls fn repeatedly for at least MIN_SECONDS; best of 3 rounds, seconds per call. */
function time(fn: () => void): number {
  fn();
  let calls = 1, t = 0;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    t = (performance.now() - t0) / 1000;
    if (t >= MIN_SECONDS / 3) break;
    calls *= 2;
  }
  let best = t / calls;
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, (performance.now() - t0) / 1000 / calls);
  }
  return best;
}

async function ceilings(): Promise<{ dot: number; relaxed: number | null }> {
  const flags = detectFeatures();
  const build = async (relaxed: boolean) => {
    const out = `bench/out/ceiling.${relaxed ? 'relaxed' : 'simd'}.wasm`;
    const { error } = await asc.main(['bench/ceiling.ts', '-O3', '--runtime', 'stub', '--use', 'abort=', '--enable', relaxed ? 'simd,relaxed-simd' : 'simd', '-o', out]);
    if (error) throw error;
    const { instance } = await WebAssembly.instantiate(readFileSync(new URL(out, root)), {});
    return instance.exports as { memory: WebAssembly.Memory; dotI16: (p: number, b: number, r: number) => number; relaxedDot: (p: number, b: number, r: number) => number };
  };
  const bytes = 8192, reps = 64;
  const simd = await build(false);
  new Uint8Array(simd.memory.buffer, 65536 - bytes - 64, bytes).fill(3);
  const dot = (bytes / 32) * 8 * 8 * reps / time(() => simd.dotI16(65536 - bytes - 64, bytes, reps)) / 1e9;
  let relaxed: number | null = null;
  if (flags.relaxedSimd) {
    const r = await build(true);
    relaxed = (bytes / 32) * 8 * 16 * reps / time(() => r.relaxedDot(65536 - bytes - 64, bytes, reps)) / 1e9;
  }
  return { dot, relaxed };
}

/** Sets up one layer with resident buffers and returns a closure that runs it once. */
function prepare(x: WasmExports, l: Layer, u7: boolean): () => void {
  const alloc = (n: number) => { const p = x.alloc(Math.max(16, n)); if (!p) throw new Error('alloc'); return p; };
  const fill = (p: number, n: number, lo: number, hi: number) => {
    const v = new Int8Array(x.memory.buffer, p, n);
    for (let i = 0; i < n; i++) v[i] = lo + ((i * 2654435761) >>> 24) % (hi - lo + 1);
  };
  const oh = outDim(l, l.h), ow = outDim(l, l.w), shift = 44, zp = u7 ? 5 : -3;
  const oc = l.kind === 'dw' ? l.c : l.oc;
  const input = alloc(l.h * l.w * l.c); fill(input, l.h * l.w * l.c, u7 ? 0 : -128, 127);
  const mult = alloc(oc * 4); new Int32Array(x.memory.buffer, mult, oc).fill(1 << 30);
  const out = alloc(oh * ow * oc);
  if (l.kind === 'dw') {
    const w = alloc(l.kh * l.kw * l.c); fill(w, l.kh * l.kw * l.c, -127, 127);
    const packed = alloc(x.dwPackedBytes(l.c, l.kh, l.kw));
    x.dwPackWeights(w, l.c, l.kh, l.kw, 0, mult, 0, zp, packed);
    const sb = x.dwScratchBytes(l.c, l.kh, l.kw), scratch = alloc(sb);
    return () => { const s = x.depthwiseConv2d(input, l.h, l.w, l.c, out, oh, ow, l.c, l.kh, l.kw, l.stride, l.stride, l.pad, l.pad, packed, shift, zp, 0, -128, 127, scratch, sb); if (s) throw new Error(`status ${s}`); };
  }
  const k = l.kh * l.kw * l.c;
  const w = alloc(oc * k); fill(w, oc * k, -127, 127);
  const packed = alloc(x.gemmPackedBytes(oc, k));
  x.gemmPackWeights(w, oc, k, 0, mult, 0, zp, packed);
  if (l.kind === 'fc') {
    const sb = x.fullyConnectedScratchBytes(1, k), scratch = alloc(sb);
    return () => { const s = x.fullyConnected(input, 1, k, packed, oc, out, shift, zp, 0, -128, 127, u7 ? 1 : 0, scratch, sb); if (s) throw new Error(`status ${s}`); };
  }
  const sb = x.conv2dScratchBytes(ow, l.kh, l.kw, l.stride, l.stride, l.c), scratch = sb > 0 ? alloc(sb) : 0;
  return () => { const s = x.conv2d(input, l.h, l.w, l.c, out, oh, ow, oc, oc, l.kh, l.kw, l.stride, l.stride, l.pad, l.pad, packed, shift, zp, 0, -128, 127, u7 ? 1 : 0, scratch, sb); if (s) throw new Error(`status ${s}`); };
}

const features = detectFeatures();
const backends: Backend[] = ['scalar', 'simd', ...(features.relaxedSimd ? ['relaxed' as Backend] : [])];
if (!features.relaxedSimd) console.error('relaxed build skipped: this node lacks relaxed SIMD (run with --experimental-wasm-relaxed-simd)');
const ceiling = await ceilings();
console.error(`ceiling: dot_i16x8 ${ceiling.dot.toFixed(2)} GMAC/s${ceiling.relaxed ? `, relaxed dot ${ceiling.relaxed.toFixed(2)} GMAC/s` : ''}`);

const instances = Object.fromEntries(await Promise.all(backends.map(async (b) =>
  [b, await instantiateBackend({ [b]: readFileSync(new URL(`build/wasmface.${b}.wasm`, root)) }, b, 1024)]))) as Record<Backend, WasmExports>;

type Row = { model: string; layer: string; kind: string; mmacs: number } & Partial<Record<Backend, number>>;
const rows: Row[] = [];
const progress = new Progress('bench:kernels', LAYERS.length * backends.length);
for (const l of LAYERS) {
  const row: Row = { model: l.model, layer: l.name, kind: l.kind, mmacs: macs(l) / 1e6 };
  for (const b of backends) {
    const run = prepare(instances[b], l, b === 'relaxed');
    row[b] = macs(l) / time(run) / 1e9;
    progress.tick(1, `${l.model} ${l.name} ${b}`);
  }
  rows.push(row);
}

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '–' : v.toFixed(d));
const lines = [
  `Ceiling (same run): i32x4.dot_i16x8_s ${ceiling.dot.toFixed(2)} GMAC/s${ceiling.relaxed ? `; relaxed dot ${ceiling.relaxed.toFixed(2)} GMAC/s` : ''}. One thread.`,
  '',
  `| model | layer | MMAC | scalar GMAC/s | simd GMAC/s | relaxed GMAC/s (7-bit in) | simd % ceiling | simd / scalar | relaxed / simd |`,
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.model} | ${r.layer} | ${r.mmacs.toFixed(1)} | ${fmt(r.scalar)} | ${fmt(r.simd)} | ${fmt(r.relaxed)} | ${fmt((r.simd! / ceiling.dot) * 100, 0)} % | ${fmt(r.simd! / r.scalar!, 1)}x | ${r.relaxed ? fmt(r.relaxed / r.simd!, 2) + 'x' : '–'} |`),
];
console.log(lines.join('\n'));
writeFileSync(new URL('kernels.md', outDir), lines.join('\n') + '\n');
writeFileSync(new URL('kernels.json', outDir), JSON.stringify({ date: new Date().toISOString(), node: process.version, ceiling, rows }, null, 2));
writeFileSync(new URL('kernels.svg', outDir), barChart('int8 kernels, GMAC/s (one thread)', backends, rows.map((r) => ({ label: `${r.model}: ${r.layer}`, values: backends.map((b) => r[b] ?? null) })), 'GMAC/s', { value: ceiling.dot, label: 'dot_i16x8 ceiling' }));
console.error('wrote bench/out/kernels.{md,json,svg}');
