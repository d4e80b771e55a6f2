// Liveness on the dev faces (ISO/IEC 30107-3 terms): BPCER (bona fide presentations wrongly
// classified as attacks) on every bona fide photo of ../shared/faces by source, how many faces were
// too close to the border to judge, and APCER on the three upstream attack samples (a print and a
// replay: APCER is barely measured by so few). Writes bench/out/liveness.json and prints a table.
// Also derives the liveness operating points (thresholds at BPCER 1e-2 and 5e-2 on the portraits).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createNodeEngine, readImageFile, NoFaceError, WasmfaceError } from '../../js/node.js';
import { Progress } from '../../js/cli/progress.js';

const SHARED = new URL('../../../shared/faces/', import.meta.url);
const rows = readFileSync(new URL('manifest.csv', SHARED), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const items = rows.filter(([p]) => !p.startsWith('negatives/'));
const engine = await createNodeEngine();
const threshold = 0.5;
type Stat = { n: number; noFace: number; unreliable: number; judged: number; rejected: number; scores: number[] };
const by: Record<string, Stat> = {};
const attacks: { file: string; kind: string; score: number; reliable: boolean; live: boolean }[] = [];
const progress = new Progress('liveness', items.length);
for (const [path, identity, source] of items) {
  progress.tick();
  let l;
  try { l = engine.liveness(readImageFile(new URL(path, SHARED).pathname)); } catch (e) {
    if (e instanceof NoFaceError || e instanceof WasmfaceError) { (by[source] ??= { n: 0, noFace: 0, unreliable: 0, judged: 0, rejected: 0, scores: [] }).noFace++; by[source].n++; continue; }
    throw e;
  }
  if (path.startsWith('spoof/') && identity !== '_live') {
    attacks.push({ file: path, kind: identity, score: l!.score, reliable: l!.reliable, live: l!.live });
    continue;
  }
  const s = (by[path.startsWith('spoof/') ? 'upstream live sample' : source] ??= { n: 0, noFace: 0, unreliable: 0, judged: 0, rejected: 0, scores: [] });
  s.n++;
  if (!l!.reliable) { s.unreliable++; continue; }
  s.judged++;
  s.scores.push(l!.score);
  if (l!.score < threshold) s.rejected++;
}
const portraits = Object.entries(by).filter(([k]) => k !== 'lfw').flatMap(([, s]) => s.scores).sort((a, b) => a - b);
const at = (bpcer: number) => portraits[Math.max(0, Math.floor(bpcer * portraits.length) - 1)] ?? 0;
const points = { 'bpcer1e-2': +at(0.01).toFixed(4), 'bpcer5e-2': +at(0.05).toFixed(4) };
const table = [
  `| source | photos | no face | too close to judge | judged | rejected at ${threshold} | BPCER |`, '|---|---:|---:|---:|---:|---:|---:|',
  ...Object.entries(by).map(([k, s]) => `| ${k} | ${s.n} | ${s.noFace} | ${s.unreliable} | ${s.judged} | ${s.rejected} | ${s.judged ? ((s.rejected / s.judged) * 100).toFixed(1) + ' %' : '–'} |`),
  '', `| attack sample | kind | live score | judged | accepted as live |`, '|---|---|---:|---|---|',
  ...attacks.map((a) => `| ${a.file.split('/').pop()} | ${a.kind} | ${a.score.toFixed(3)} | ${a.reliable ? 'yes' : 'no'} | ${a.live ? 'YES' : 'no'} |`),
  '', `APCER: ${attacks.filter((a) => a.live).length} of ${attacks.length} attack samples accepted (two samples: barely measured).`,
  `Liveness operating points on the ${portraits.length} judged portrait photos: ${JSON.stringify(points)} (threshold rejecting about 1 % / 5 % of them).`,
];
console.log(table.join('\n'));
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/liveness.json', JSON.stringify({ threshold, bySource: Object.fromEntries(Object.entries(by).map(([k, s]) => [k, { ...s, scores: undefined }])), attacks, points }, null, 1));
engine.dispose();
