// `wasmface liveness`, the presentation-attack-detection report: the math of js/cli/pad-metrics.ts
// against hand-computed cases (ties at the threshold, types without scores, every face undecided, a
// type of one sample), then the command as a user runs it: the example photos as bona fide, the
// upstream print and replay samples as attacks when ../shared/faces/spoof is there, a missing file
// counted under its label; a malformed CSV exits 3 naming the line, a malformed --limit exits 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  APCER_TARGETS, apcerAt, auc, bpcerAt, bpcerAtMaxApcer, detCurve, maxApcerAt, outcomeOf, padReport, thresholdAtMaxApcer, type Presentation,
} from '../../js/cli/pad-metrics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skipModels = existsSync(join(ROOT, 'models/manifest.json')) ? undefined : 'models/manifest.json is absent (run npm run models)';
const SPOOF = join(ROOT, '../shared/faces/spoof/silent-face-anti-spoofing');
const skipSpoof = existsSync(join(SPOOF, 'image_F1.jpg')) && existsSync(join(SPOOF, 'image_F2.jpg')) ? undefined : `${SPOOF} is absent: no attack samples to report on`;

/** Just above v: the threshold that rejects a score of exactly v. */
const justAbove = (v: number) => (t: number) => t > v && t < v + 1e-12;

test('APCER and BPCER at a threshold: a score equal to it is accepted as live; no scores, no rate', () => {
  assert.equal(apcerAt([0.2, 0.5, 0.5, 0.9], 0.5), 3 / 4);
  assert.equal(bpcerAt([0.5, 0.4, 0.8], 0.5), 1 / 3);
  assert.equal(apcerAt([], 0.5), null);
  assert.equal(bpcerAt([], 0.5), null);
  assert.equal(maxApcerAt([[0.2, 0.6], [0.7], []], 0.5), 1, 'the worst type, the empty one ignored');
  assert.equal(maxApcerAt([[], []], 0.5), null);
});

test('BPCER at a maximum APCER: the lowest threshold that holds every type, including one of one sample, to the target', () => {
  const print = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95], replay = [0.6], live = [0.9, 0.86, 0.7, 0.3];
  // 10 %: print may keep 1 of 10 accepted, so 0.85 must go; replay (one sample) may keep none, so 0.6 must go; the higher bound wins
  const at10 = bpcerAtMaxApcer(live, [print, replay], 0.1)!;
  assert.ok(justAbove(0.85)(at10.threshold), `threshold just above 0.85, got ${at10.threshold}`);
  assert.equal(at10.apcer_max, 0.1);
  assert.equal(at10.bpcer, 2 / 4, '0.7 and 0.3 rejected, 0.86 and 0.9 accepted');
  // 5 %: 0.5 of a print may pass, i.e. none: just above the best print, 0.95, and every live face is rejected
  const at5 = bpcerAtMaxApcer(live, [print, replay], 0.05)!;
  assert.ok(justAbove(0.95)(at5.threshold));
  assert.deepEqual([at5.bpcer, at5.apcer_max], [1, 0]);
  assert.ok(justAbove(0.4)(thresholdAtMaxApcer([[0.4]], 0.01)!), 'a single sample is always rejected');
});

test('ties at the deciding score are all rejected: the APCER reached may be below the target, never above', () => {
  const p = bpcerAtMaxApcer([0.7, 0.8], [[0.7, 0.7, 0.7, 0.1]], 0.5)!; // 2 of 4 may pass, but the three at 0.7 stand or fall together
  assert.ok(justAbove(0.7)(p.threshold));
  assert.deepEqual([p.apcer_max, p.bpcer], [0, 1 / 2], 'APCER 0 (not the 50 % allowed); the live 0.7 goes with the attacks');
});

test('types without scores set no bound; without attacks or bona fide scores there is no operating point', () => {
  assert.ok(justAbove(0.3)(thresholdAtMaxApcer([[], [0.3]], 0.1)!));
  assert.equal(thresholdAtMaxApcer([[], []], 0.1), null);
  assert.equal(thresholdAtMaxApcer([], 0.1), null);
  assert.equal(bpcerAtMaxApcer([], [[0.3]], 0.1), null);
  assert.equal(bpcerAtMaxApcer([0.9], [[]], 0.1), null);
});

test('AUC: ties count half; null when a side is empty', () => {
  assert.equal(auc([0.9, 0.5], [0.5, 0.1]), 3.5 / 4); // 0.9 beats both, 0.5 beats 0.1 and ties 0.5
  assert.equal(auc([0.5], [0.5]), 0.5);
  assert.equal(auc([0.1, 0.2], [0.3]), 0);
  assert.equal(auc([], [0.3]), null);
  assert.equal(auc([0.3], []), null);
});

test('DET points: every distinct score as threshold, from accepting all to rejecting all; APCER the worst of the types given', () => {
  assert.deepEqual(detCurve([0.8, 0.4], [[0.6, 0.2]]), [[1, 0], [0.5, 0], [0.5, 0.5], [0, 0.5], [0, 1]]); // t = 0.2, 0.4, 0.6, 0.8, above all
  assert.deepEqual(detCurve([0.8, 0.4], [[0.6], [0.2]]), [[1, 0], [1, 0], [1, 0.5], [0, 0.5], [0, 1]], 'worst type: 0.6 passes until 0.8');
  assert.deepEqual(detCurve([0.8, 0.4], [[0.6, 0.2]], 2), [[1, 0], [0.5, 0.5], [0, 1]], 'thinned, the ends kept');
  assert.deepEqual(detCurve([], [[0.6]]), []);
  assert.deepEqual(detCurve([0.5], [[], []]), []);
});

test('outcome: the SDK decision; an unreliable result is no decision, even with a high score', () => {
  assert.equal(outcomeOf({ reliable: true, live: true }), 'live');
  assert.equal(outcomeOf({ reliable: true, live: false }), 'attack');
  assert.equal(outcomeOf({ reliable: false, live: false }), 'no_decision');
});

test('report when every face is too close to judge: BPCER 100 % (all no decision), APCER 0, no decided score figures', () => {
  const r = padReport([
    { label: 'live', outcome: 'no_decision', score: 0.9 }, { label: 'live', outcome: 'no_decision', score: 0.1 },
    { label: 'print', outcome: 'no_decision', score: 0.95 },
  ]);
  assert.deepEqual(r.bona_fide, { count: 2, live: 0, attack: 0, no_decision: 2, no_face: 0, unreadable: 0, bpcer: 1, bpcer_judged_attack: 0, bpcer_no_decision: 1 });
  assert.deepEqual(r.attacks.print, { count: 1, live: 0, attack: 0, no_decision: 1, no_face: 0, unreadable: 0, apcer: 0 });
  assert.deepEqual(r.apcer_max, { type: 'print', apcer: 0 });
  assert.deepEqual(r.score.decided, { live: 0, attacks: { print: 0 }, auc: null, auc_by_type: { print: null }, bpcer_at_apcer: { '1e-1': null, '5e-2': null, '1e-2': null } });
  // the score alone, reliability ignored: the print outscores both live faces
  assert.equal(r.score.all.auc, 0);
  const p = r.score.all.bpcer_at_apcer['1e-2']!;
  assert.ok(justAbove(0.95)(p.threshold));
  assert.deepEqual([p.bpcer, p.apcer_max], [1, 0]);
});

test('report: the worst type, a type with no scored face (no APCER), no face and unreadable counted apart from the rates', () => {
  const ps: Presentation[] = [
    { label: 'live', outcome: 'live', score: 0.9 }, { label: 'live', outcome: 'live', score: 0.8 }, { label: 'live', outcome: 'attack', score: 0.3 },
    { label: 'live', outcome: 'no_decision', score: 0.6 }, { label: 'live', outcome: 'no_face', score: null }, { label: 'live', outcome: 'unreadable', score: null },
    { label: 'print', outcome: 'attack', score: 0.2 }, { label: 'print', outcome: 'attack', score: 0.4 },
    { label: 'replay', outcome: 'live', score: 0.85 },
    { label: 'mask', outcome: 'no_face', score: null },
  ];
  const r = padReport(ps);
  assert.equal(r.presentations, 10);
  assert.deepEqual(Object.keys(r.attacks), ['mask', 'print', 'replay'], 'sorted');
  assert.deepEqual(r.bona_fide, { count: 6, live: 2, attack: 1, no_decision: 1, no_face: 1, unreadable: 1, bpcer: 2 / 4, bpcer_judged_attack: 1 / 4, bpcer_no_decision: 1 / 4 });
  assert.equal(r.attacks.mask.apcer, null);
  assert.equal(r.attacks.mask.no_face, 1);
  assert.equal(r.attacks.print.apcer, 0);
  assert.equal(r.attacks.replay.apcer, 1);
  assert.deepEqual(r.apcer_max, { type: 'replay', apcer: 1 });
  assert.deepEqual([r.no_face, r.unreadable], [2, 1]);
  // decided: live 0.9, 0.8, 0.3 against print 0.2, 0.4 and replay 0.85
  const d = r.score.decided;
  assert.deepEqual([d.live, d.attacks], [3, { mask: 0, print: 2, replay: 1 }]);
  assert.equal(d.auc, (3 + 2 + 1) / 9); // 0.9 beats 3, 0.8 beats 2, 0.3 beats 1
  assert.deepEqual(d.auc_by_type, { mask: null, print: 5 / 6, replay: 1 / 3 });
  assert.deepEqual(Object.keys(d.bpcer_at_apcer), Object.keys(APCER_TARGETS));
  const p = d.bpcer_at_apcer['1e-1']!; // replay, one sample, must go: just above 0.85; 0.8 and 0.3 rejected
  assert.ok(justAbove(0.85)(p.threshold));
  assert.deepEqual([p.bpcer, p.apcer_max], [2 / 3, 0]);
  // all scored faces add the undecided live 0.6
  assert.equal(r.score.all.live, 4);
  assert.equal(r.score.all.bpcer_at_apcer['1e-1']!.bpcer, 3 / 4);
});

// ---- the command ----

interface Run { status: number | null; stdout: string; stderr: string }
const cli = (...args: string[]): Run => spawnSync(process.execPath, ['--import', 'tsx', 'js/cli/wasmface.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });

/** Exits with `code`; an error is one last stderr line "wasmface: ..." matching `message`, without a stack trace. */
function expectExit(r: Run, code: number, message?: RegExp): Run {
  assert.equal(r.status, code, `expected exit ${code}, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  if (code >= 2) {
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[lines.length - 1], /^wasmface: /);
    assert.doesNotMatch(r.stderr, /\n\s+at |node:internal/, 'no stack trace');
  }
  if (message) assert.match(r.stderr, message);
  return r;
}

function tempDir(t: { after(fn: () => void): void }): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-liveness-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return (name: string) => join(dir, name);
}

test('liveness: a malformed CSV exits 3 naming the line, a malformed option 2, both before the models load', (t) => {
  const f = tempDir(t);
  const run = (csv: string, ...more: string[]) => { writeFileSync(f('pad.csv'), csv); return cli('liveness', '--pad', f('pad.csv'), '--root', f('.'), ...more); };
  expectExit(run('path,label\na.jpg,live\nb.jpg\n'), 3, /pad\.csv line 3/);
  expectExit(run('path,label\na.jpg,\n'), 3, /pad\.csv line 2/);
  expectExit(run('path,label,attack\na.jpg,live,print\n'), 3, /line 2: a live presentation cannot have the attack type 'print'/);
  expectExit(run('file,kind\na.jpg,live\n'), 3, /must have the columns path,label/);
  expectExit(run('path,label\n\n'), 3, /holds no presentations/);
  expectExit(cli('liveness', '--pad', f('none.csv'), '--root', f('.')), 3, /none\.csv.*ENOENT/);
  for (const limit of ['abc', '0', '2.5', '']) expectExit(run('path,label\na.jpg,live\n', `--limit=${limit}`), 2, /--limit/);
  expectExit(cli('liveness', '--root', f('.')), 2, /liveness needs --pad CSV --root DIR/);
});

test('liveness: the example photos as bona fide, the upstream attack samples per type, a missing file counted under its label', { skip: skipModels }, async (t) => {
  const f = tempDir(t);
  const live = readdirSync(join(ROOT, 'examples/images')).filter((n) => n.endsWith('.jpg'));
  for (const n of live) copyFileSync(join(ROOT, 'examples/images', n), f(n));
  // the attack column refines a generic label; the note column is ignored
  const rows = ['path,label,attack,note', ...live.map((n) => `${n},live,,example`), 'missing.jpg,live,,not there'];
  if (skipSpoof) t.diagnostic(`attack samples skipped: ${skipSpoof}`);
  else {
    for (const n of ['image_F1.jpg', 'image_F2.jpg', 'image_T1.jpg']) copyFileSync(join(SPOOF, n), f(n));
    rows.push('image_F1.jpg,spoof,print,upstream print', 'image_F2.jpg,replay,,upstream replay', 'image_T1.jpg,live,,upstream live');
  }
  writeFileSync(f('pad.csv'), rows.join('\n') + '\n');

  const r = expectExit(cli('liveness', '--pad', f('pad.csv'), '--root', f('.'), '--json', '--svg', f('det.svg')), 0);
  assert.match(r.stderr, /1 image\(s\) skipped[\s\S]*missing\.jpg/);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['threshold', 'presentations', 'bona_fide', 'attacks', 'apcer_max', 'score', 'no_face', 'unreadable']);
  assert.equal(j.threshold, 0.5);
  assert.equal(j.presentations, rows.length - 1);
  const liveRows = live.length + 1 + (skipSpoof ? 0 : 1);
  const b = j.bona_fide;
  assert.deepEqual([b.count, b.unreadable, j.unreadable], [liveRows, 1, 1], 'the missing file is counted, not dropped');
  assert.equal(b.live + b.attack + b.no_decision + b.no_face + b.unreadable, b.count);
  const scored = b.live + b.attack + b.no_decision;
  assert.equal(b.bpcer, (b.attack + b.no_decision) / scored);
  assert.ok(Math.abs(b.bpcer_judged_attack + b.bpcer_no_decision - b.bpcer) < 1e-12, 'BPCER splits into judged attack and no decision');
  assert.ok(b.no_decision >= 1, 'the face-filling stills (person-c) are too close to the border to judge');
  for (const pop of ['decided', 'all']) {
    assert.deepEqual(Object.keys(j.score[pop]), ['live', 'attacks', 'auc', 'auc_by_type', 'bpcer_at_apcer']);
    assert.deepEqual(Object.keys(j.score[pop].bpcer_at_apcer), ['1e-1', '5e-2', '1e-2']);
  }
  assert.equal(j.score.all.live - j.score.decided.live, b.no_decision);
  assert.match(readFileSync(f('det.svg'), 'utf8'), /^<svg[\s\S]*APCER[\s\S]*<\/svg>$/);

  await t.test('the print and replay samples, each its own attack type', { skip: skipSpoof }, () => {
    assert.deepEqual(Object.keys(j.attacks), ['print', 'replay']);
    for (const type of ['print', 'replay']) {
      const a = j.attacks[type];
      assert.deepEqual([a.count, a.live + a.attack + a.no_decision], [1, 1], `${type}: one scored sample`);
      assert.equal(a.apcer, a.live);
      assert.equal(j.score.decided.attacks[type], a.no_decision ? 0 : 1);
    }
    assert.equal(j.apcer_max.apcer, Math.max(j.attacks.print.apcer, j.attacks.replay.apcer));
    assert.ok(j.score.decided.bpcer_at_apcer['1e-1'], 'decided live and attack faces: an operating point');
  });

  const text = expectExit(cli('liveness', '--pad', f('pad.csv'), '--root', f('.'), '--limit', '2'), 0);
  assert.match(text.stdout, /2 presentations[\s\S]*bona fide \(live\)\s+2 [\s\S]*APCER_PAIS max\): - \(no attack scored\)/);
});
