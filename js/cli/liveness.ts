// wasmface liveness: a presentation-attack-detection report (ISO/IEC 30107-3 terms) of the passive,
// single-image liveness on a labelled set: APCER per attack type and the worst one, BPCER split into
// "judged attack" and "no decision", and BPCER at APCER 10 / 5 / 1 % on the score alone. This file
// reads the CSV, runs the engine and prints; the math is in js/cli/pad-metrics.ts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NoFaceError, type FaceEngine } from '../node.js';
import { Progress } from './progress.js';
import { lineChart, type Curve } from './svg.js';
import { EXIT, type ExitCode, about, badInput, errorLine, exitCodeFor, numberOption, readImage, usage, writeAtomic } from './common.js';
import { BONA_FIDE, detCurve, outcomeOf, padReport, scoresOf, attackTypes, type OperatingPoint, type PadReport, type Presentation, type ScoreReport, type Tally } from './pad-metrics.js';

export interface LivenessOptions { pad?: string; root?: string; json?: boolean; svg?: string; limit?: string }

interface Row { path: string; label: string }

/**
 * The PAD CSV: header path,label (any order, more columns allowed); label `live` or an attack type;
 * an optional `attack` column names the type of a non-live row (label `spoof`, attack `print`). Rows
 * must have as many cells as the header: a comma inside a path would otherwise shift the label and
 * make up an attack type. A malformed row is an input error naming its line.
 */
function readPad(csv: string): Row[] {
  const lines = readFileSync(csv, 'utf8').split(/\r?\n/);
  const header = (lines.shift() ?? '').replace(/^\uFEFF/, '').split(',').map((s) => s.trim());
  const ip = header.indexOf('path'), il = header.indexOf('label'), ia = header.indexOf('attack');
  if (ip < 0 || il < 0) badInput(`${csv} must have the columns path,label (its header is '${header.join(',').slice(0, 80)}')`);
  const rows: Row[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const c = line.split(',').map((s) => s.trim());
    const bad = (why: string) => badInput(`${csv} line ${i + 2}: ${why}, got '${line.slice(0, 120)}'`);
    if (c.length !== header.length) bad(`expected ${header.length} comma-separated cells like the header`);
    const path = c[ip], label = c[il], attack = ia < 0 ? '' : c[ia];
    if (!path || !label) bad('expected a path and a label (live or an attack type)');
    if (label === BONA_FIDE && attack && attack !== BONA_FIDE) bad(`a live presentation cannot have the attack type '${attack}'`);
    rows.push({ path, label: label !== BONA_FIDE && attack ? attack : label });
  });
  if (!rows.length) badInput(`${csv} holds no presentations`);
  return rows;
}

export async function livenessReport(o: LivenessOptions, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (!o.pad || !o.root) usage('liveness needs --pad CSV --root DIR');
  const limit = numberOption(o.limit, '--limit', { integer: true, min: 1 });
  const rows = readPad(o.pad!).slice(0, limit); // the CSV is checked before the models load
  const e = await engine();
  if (!e.models.antispoof.length) badInput('no anti-spoofing models are loaded: liveness cannot be measured (models/manifest.json lists them)');
  const presentations: (Presentation & { path: string })[] = [], reasons: string[] = [];
  const progress = new Progress(`liveness: ${rows.length} presentations`, rows.length);
  for (const { path, label } of rows) {
    const file = join(o.root!, path);
    try {
      const l = about(file, () => e.liveness(readImage(file)))!; // not null: anti-spoofing models checked above
      presentations.push({ path, label, outcome: outcomeOf(l), score: l.score });
    } catch (err) {
      // a missing or undecodable image, or one without a face, is counted under its label; anything else stops
      if (err instanceof NoFaceError) presentations.push({ path, label, outcome: 'no_face', score: null });
      else if (exitCodeFor(err) === EXIT.INPUT) { presentations.push({ path, label, outcome: 'unreadable', score: null }); reasons.push(errorLine(err)); }
      else throw err;
    }
    progress.tick(1);
  }
  if (reasons.length === rows.length) badInput(`none of the ${rows.length} images could be read (check --root ${o.root}); the first: ${reasons[0]}`);

  const report = padReport(presentations);
  if (o.svg) writeAtomic(o.svg, detChart(presentations, e.backend));
  if (o.json) console.log(JSON.stringify({ threshold: e.livenessThreshold, ...report }));
  else {
    printReport(report, e.livenessThreshold, o.pad!);
    const accepted = presentations.filter((p) => p.label !== BONA_FIDE && p.outcome === 'live');
    if (accepted.length) console.log(`attacks accepted as live: ${accepted.slice(0, 10).map((p) => `${p.path} (${p.label}, ${p.score!.toFixed(3)})`).join(', ')}${accepted.length > 10 ? ', ...' : ''}`);
    if (o.svg) console.log(`DET curve written to ${o.svg}`);
  }
  if (reasons.length) console.error(`${reasons.length} image(s) skipped: missing or not decodable, counted as unreadable under their label:\n  ${reasons.join('\n  ')}`);
  return EXIT.OK;
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)} %`);

function printReport(r: PadReport, threshold: number, csv: string): void {
  const b = r.bona_fide, types = Object.keys(r.attacks);
  const cells = (name: string, t: Tally, rate: string) =>
    [name.padEnd(20), ...[t.count, t.live, t.attack, t.no_decision, t.no_face, t.unreadable].map((n) => String(n).padStart(8)), `  ${rate}`].join('');
  console.log(`liveness report (ISO/IEC 30107-3): ${r.presentations} presentations from ${csv}, the SDK's decision at live score >= ${threshold}`);
  console.log(`${''.padEnd(20)}${['count', 'live', 'attack', 'no-dec.', 'no face', 'unread.'].map((h) => h.padStart(8)).join('')}`);
  console.log(cells(`bona fide (${BONA_FIDE})`, b, `BPCER ${pct(b.bpcer)} (judged attack ${pct(b.bpcer_judged_attack)}, no decision ${pct(b.bpcer_no_decision)})`));
  for (const t of types) console.log(cells(t, r.attacks[t], `APCER ${pct(r.attacks[t].apcer)}`));
  console.log(`APCER of the worst type (APCER_PAIS max): ${r.apcer_max ? `${pct(r.apcer_max.apcer)} (${r.apcer_max.type})` : '- (no attack scored)'}`);
  console.log('rates are over scored faces; no decision = face too close to the border (never live); no face and unreadable are counted apart');
  const point = (p: OperatingPoint | null) => (p ? `${pct(p.bpcer)} (threshold ${p.threshold.toFixed(4)})` : '-');
  const scoreLine = (what: string, s: ScoreReport) => {
    const n = Object.values(s.attacks).reduce((a, x) => a + x, 0);
    console.log(`score alone, ${what} (${s.live} live, ${n} attacks): AUC ${s.auc === null ? '-' : s.auc.toFixed(4)}`);
    console.log(`  BPCER at worst-type APCER 10 % ${point(s.bpcer_at_apcer['1e-1'])}   5 % ${point(s.bpcer_at_apcer['5e-2'])}   1 % ${point(s.bpcer_at_apcer['1e-2'])}`);
  };
  scoreLine('decided faces', r.score.decided);
  scoreLine('all scored faces, reliability ignored', r.score.all);
  // APCER moves in steps of 1/n: below 100 attacks of a type, its 1 % is not measured
  const few = types.filter((t) => r.score.decided.attacks[t] < 100);
  if (few.length) console.log(`note: fewer than 100 decided attacks of type ${few.join(', ')}: APCER moves in steps of 1/n, so 1 % is not really measured`);
}

/** DET chart on the decided faces: APCER against BPCER, one curve per attack type, all attacks pooled, and the worst type. */
function detChart(ps: Presentation[], backend: string): string {
  const types = attackTypes(ps), { live, attacks } = scoresOf(ps, 'decided', types);
  const curves: Curve[] = types.map((t, i) => ({ label: t, points: detCurve(live, [attacks[i]]) }));
  if (types.length > 1) curves.push({ label: 'all attacks', points: detCurve(live, [attacks.flat()]) }, { label: 'worst type (max APCER)', points: detCurve(live, attacks) });
  // log APCER only when every type can resolve 1 %: a log axis cannot show APCER 0, and with few
  // attacks nearly every point has APCER 0 or 1
  const scoredTypes = attacks.filter((a) => a.length);
  const logX = scoredTypes.length > 0 && scoredTypes.every((a) => a.length >= 100);
  const positive = curves.flatMap((c) => c.points.map((p) => p[0])).filter((x) => x > 0);
  const xMin = logX && positive.length ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0;
  return lineChart(`PAD DET: ${live.length} live, ${attacks.flat().length} attack faces decided (${backend})`, curves.filter((c) => c.points.length),
    'APCER (attacks accepted as live)', 'BPCER (live presentations rejected)', { logX, xMin, xMax: 1, yMin: 0, yMax: 1 });
}
