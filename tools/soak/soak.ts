// Soak: many verifications and enrol/delete cycles in one engine, sampling wasm memory, live wasm
// regions and process RSS; the results at the end must equal those at the start, bit for bit.
// `npm run soak` runs the full sizes (10,000 verifications, 1,000 cycles) and writes
// bench/out/soak.{json,svg}; tests/pipeline/soak.test.ts runs a reduced version.
import { writeFileSync, mkdirSync } from 'node:fs';
import { createNodeEngine, readImageFile, Template, type FaceEngine } from '../../js/node.js';
import { Progress } from '../../js/cli/progress.js';
import { lineChart } from '../../js/cli/svg.js';

export interface SoakResult {
  verifications: number;
  cycles: number;
  samples: { i: number; wasmMB: number; rssMB: number; regions: number }[];
  firstScore: number;
  lastScore: number;
  wasmGrowthMB: number;
  rssGrowthMB: number;
  regionsStart: number;
  regionsEnd: number;
  seconds: number;
}

export async function soak(verifications: number, cycles: number, onTick?: () => void): Promise<SoakResult> {
  const img = (n: string) => readImageFile(new URL(`../../examples/images/${n}`, import.meta.url).pathname);
  const probe = img('person-a-2.jpg'), enrolImages = [img('person-a-1.jpg'), img('person-b-1.jpg'), img('person-c-1.jpg')];
  const engine: FaceEngine = await createNodeEngine();
  const template = engine.enroll(enrolImages[0]);
  const gallery = engine.createGallery();
  const samples: SoakResult['samples'] = [];
  const sample = (i: number) => samples.push({ i, wasmMB: engine.wasm.memory.buffer.byteLength / 1048576, rssMB: process.memoryUsage().rss / 1048576, regions: engine.wasm.liveRegions() });
  const t0 = performance.now();
  const firstScore = engine.verify(probe, template).score;
  sample(0);
  const total = verifications + cycles;
  const every = Math.max(1, Math.floor(total / 200));
  let lastScore = firstScore;
  for (let i = 1; i <= total; i++) {
    if (i <= verifications) {
      const r = engine.verify(probe, template);
      if (r.score !== firstScore) throw new Error(`verification ${i}: score ${r.score} differs from the first ${firstScore}`);
      lastScore = r.score;
    } else {
      const id = `person-${i}`;
      gallery.add(id, engine.enroll(enrolImages[i % 3]));
      if (gallery.size > 2) gallery.remove(gallery.members[0]);
    }
    if (i % every === 0 || i === total) sample(i);
    onTick?.();
  }
  gallery.clear();
  lastScore = engine.verify(probe, Template.fromBytes(template.toBytes(), engine.models.embedder)).score;
  const warm = samples[Math.min(samples.length - 1, 2)];
  const end = samples[samples.length - 1];
  const result = {
    verifications, cycles, samples, firstScore, lastScore,
    wasmGrowthMB: end.wasmMB - warm.wasmMB, rssGrowthMB: end.rssMB - warm.rssMB,
    regionsStart: warm.regions, regionsEnd: engine.wasm.liveRegions(), seconds: (performance.now() - t0) / 1000,
  };
  engine.dispose();
  return result;
}

if (process.argv[1]?.endsWith('soak.ts')) {
  const arg = (name: string, d: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
  const v = arg('--verifications', 10000), c = arg('--cycles', 1000);
  const progress = new Progress('soak', v + c);
  const r = await soak(v, c, () => progress.tick());
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/soak.json', JSON.stringify(r, null, 1));
  writeFileSync('bench/out/soak.svg', lineChart(`soak: ${v} verifications then ${c} enrol/delete cycles`, [
    { label: 'wasm memory (MB)', points: r.samples.map((s) => [s.i, s.wasmMB]) },
    { label: 'process RSS (MB)', points: r.samples.map((s) => [s.i, s.rssMB]) },
  ], 'operations', 'MB', { yMin: 0 }));
  console.log(`${v} verifications + ${c} enrol/delete cycles in ${r.seconds.toFixed(0)} s: wasm memory ${r.samples[0].wasmMB.toFixed(1)} -> ${r.samples.at(-1)!.wasmMB.toFixed(1)} MB (growth after warm-up ${r.wasmGrowthMB.toFixed(2)} MB), ` +
    `RSS growth ${r.rssGrowthMB.toFixed(1)} MB, live regions ${r.regionsStart} -> ${r.regionsEnd}; score first ${r.firstScore} last ${r.lastScore} (${r.firstScore === r.lastScore ? 'identical' : 'DIFFERENT'})`);
  console.log('wrote bench/out/soak.{json,svg}');
}
