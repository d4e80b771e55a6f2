// wasmface command line: compare two photos, enrol/verify/identify against a gallery file, evaluate
// on a pairs list, calibrate operating points, report liveness on attack samples. Progress goes to stderr, results to stdout. Exit codes:
// EXIT in js/cli/common.ts (0 match, 1 no match, 2 usage, 3 input/data, 4 refused, 5 internal).

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeEngine, NoFaceError, Template, type FaceEngine, type Liveness } from '../node.js';
import type { Backend } from '../loader.js';
import { Progress } from './progress.js';
import { computeMetrics, rocPoints } from './metrics.js';
import { lineChart } from './svg.js';
import { runBundleCommand } from './bundle.js';
import { livenessReport } from './liveness.js';
import { EXIT, EXIT_HELP, type ExitCode, about, badInput, errorLine, exitCodeFor, numberOption, readImage, reportError, usage, writeAtomic } from './common.js';
import { checkGalleryModel, readGalleryFile, readOrCreateGalleryFile, writeGalleryFile, type GalleryFile } from './gallery-file.js';

const USAGE = `usage: wasmface <command> [options]

  compare A B [--json]                     are A and B the same person? score, decision, liveness, timings
  enroll --id NAME --gallery FILE IMG...   add a person to a gallery file (created if missing)
  verify --id NAME --gallery FILE IMG      is IMG the enrolled person NAME?
  identify --gallery FILE IMG [--top K]    who in the gallery is IMG?
  eval --pairs CSV --root DIR [--json] [--svg roc.svg] [--limit N]
                                           TAR at FAR 1e-2/1e-3/1e-4, EER, AUC, accuracy, faces not found
  calibrate --pairs CSV --root DIR [--out FILE] [--limit N]
                                           thresholds for the named operating points on your own data
  liveness --pad CSV --root DIR [--json] [--svg det.svg] [--limit N]
                                           presentation-attack report: APCER per attack type, BPCER, AUC
  bundle keygen|sign|inspect|verify|export-gallery|import-gallery ...
                                           signed model and gallery bundles for a fleet (wasmface bundle help)

common options: --backend auto|scalar|simd|relaxed   --operating-point far1e-2|far1e-3|far1e-4
                --threshold T (in [-1, 1])   --no-liveness   --no-flip
pairs CSV: header path_a,path_b,same; paths relative to --root; same = 1 or 0. Images that are missing
or cannot be decoded are counted (no face) and their pairs score as failures.
pad CSV: header path,label; label live or an attack type (print, replay, mask...), or an attack column
for it; paths relative to --root. Images without a face or unreadable are counted under their label.

${EXIT_HELP}`;

type Opts = {
  json?: boolean; svg?: string; pairs?: string; pad?: string; root?: string; out?: string; id?: string; gallery?: string; top?: string; limit?: string;
  backend?: string; 'operating-point'?: string; threshold?: string; 'no-liveness'?: boolean; 'no-flip'?: boolean; help?: boolean;
};

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;
const b64 = (t: Template) => Buffer.from(t.toBytes()).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const notLive = (l: Liveness | null): boolean => l !== null && !l.live;
const decision = (match: boolean): ExitCode => (match ? EXIT.OK : EXIT.NO_MATCH);

async function main(argv: string[]): Promise<ExitCode> {
  const { values: opts, positionals } = parseArgs({
    allowPositionals: true, strict: true,
    args: argv[0] === 'bundle' ? ['bundle'] : argv, // `bundle` parses its own options (js/cli/bundle.ts)
    options: {
      json: { type: 'boolean' }, svg: { type: 'string' }, pairs: { type: 'string' }, pad: { type: 'string' }, root: { type: 'string' }, out: { type: 'string' },
      id: { type: 'string' }, gallery: { type: 'string' }, top: { type: 'string' }, limit: { type: 'string' },
      backend: { type: 'string' }, 'operating-point': { type: 'string' }, threshold: { type: 'string' },
      'no-liveness': { type: 'boolean' }, 'no-flip': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (command === 'bundle') return runBundleCommand(argv.slice(1));
  if (opts.help || !command) { console.log(USAGE); return command || opts.help ? EXIT.OK : EXIT.USAGE; }
  const o = opts as Opts;
  const threshold = numberOption(o.threshold, '--threshold', { min: -1, max: 1 });
  const match = { threshold, operatingPoint: o['operating-point'] ?? 'far1e-3', liveness: !o['no-liveness'] };

  // every engine is disposed when its command is done, whatever happens
  let e: FaceEngine | null = null;
  const engine = async () => (e = await createNodeEngine({ backend: (o.backend ?? 'auto') as 'auto' | Backend, embedder: { flip: !o['no-flip'] } }));
  try {
    switch (command) {
      case 'compare': return await compare(args, o, match, engine);
      case 'enroll': return await enroll(args, o, engine);
      case 'verify': return await verify(args, o, match, engine);
      case 'identify': return await identify(args, o, match, engine);
      case 'eval': case 'calibrate': return await evaluate(command, o, match, engine);
      case 'liveness': return await livenessReport(o, engine);
      default: return usage(`unknown command '${command}' (wasmface --help)`);
    }
  } finally {
    (e as FaceEngine | null)?.dispose();
  }
}

interface MatchOptions { threshold: number | undefined; operatingPoint: string; liveness: boolean }

async function compare(args: string[], o: Opts, match: MatchOptions, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (args.length !== 2) usage('compare needs two image files');
  const [a, b] = args.map(readImage);
  const e = await engine();
  const t0 = performance.now();
  const enrolled = about(args[0], () => e.embed(a));
  const template = new Template(e.models.embedder, enrolled.embedding);
  const livenessA = match.liveness ? about(args[0], () => e.liveness(a)) : null;
  const r = about(args[1], () => e.verify(b, template, match));
  const total = performance.now() - t0;
  const refused = notLive(livenessA) || notLive(r.liveness);
  const out = {
    match: r.score >= r.threshold, score: round(r.score), threshold: round(r.threshold), operatingPoint: r.operatingPoint,
    liveness: { a: livenessA && round(livenessA.score), b: r.liveness && round(r.liveness.score) }, live: match.liveness ? !refused : null,
    faces: { a: enrolled.faces, b: r.faces }, backend: e.backend,
    timingsMs: { ...Object.fromEntries(Object.entries(r.timingsMs).map(([k, v]) => [k, round(v, 2)])), bothImages: round(total, 2) },
  };
  if (o.json) console.log(JSON.stringify(out));
  else {
    console.log(`${args[0]} vs ${args[1]}: ${out.match ? 'SAME person' : 'different people'} (score ${out.score}, threshold ${out.threshold} at ${out.operatingPoint ?? 'custom'})`);
    console.log(`  faces found: ${out.faces.a} / ${out.faces.b}; liveness: ${out.liveness.a ?? '-'} / ${out.liveness.b ?? '-'}; ${e.backend} build`);
    console.log(`  timings (ms, second image): ${Object.entries(out.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (refused) console.log(`  REFUSED: ${[notLive(livenessA) && args[0], notLive(r.liveness) && args[1]].filter(Boolean).join(' and ')} not judged live (--no-liveness to compare anyway)`);
  }
  return refused ? EXIT.REFUSED : decision(out.match);
}

async function enroll(args: string[], o: Opts, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (!o.id || !o.gallery || !args.length) usage('enroll needs --id NAME --gallery FILE and at least one image');
  const path = o.gallery!, id = o.id!;
  const images = args.map(readImage);
  const e = await engine();
  const g = readOrCreateGalleryFile(path, e.models.embedder);
  checkGalleryModel(path, g, e.models.embedder);
  const t = about(args.length === 1 ? args[0] : `enroll ${args.length} images`, () => e.enroll(images));
  g.members = g.members.filter((m) => m.id !== id);
  g.members.push({ id, template: b64(t), images: args.length });
  writeGalleryFile(path, g);
  console.log(`enrolled '${id}' from ${args.length} image(s) into ${path} (${g.members.length} people)`);
  return EXIT.OK;
}

/** The gallery file and the engine, the file checked first (a corrupt or missing gallery fails before the models load). */
async function galleryAndEngine(path: string, engine: () => Promise<FaceEngine>): Promise<[GalleryFile, FaceEngine]> {
  const g = readGalleryFile(path);
  const e = await engine();
  checkGalleryModel(path, g, e.models.embedder);
  return [g, e];
}

async function verify(args: string[], o: Opts, match: MatchOptions, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (!o.id || !o.gallery || args.length !== 1) usage('verify needs --id NAME --gallery FILE and one image');
  const path = o.gallery!, id = o.id!;
  const probe = readImage(args[0]);
  const [g, e] = await galleryAndEngine(path, engine);
  const m = g.members.find((x) => x.id === id) ?? badInput(`'${id}' is not enrolled in ${path}`);
  const template = about(path, () => Template.fromBytes(unb64(m.template), g.modelId));
  const r = about(args[0], () => e.verify(probe, template, match));
  const refused = notLive(r.liveness);
  const out = { id, match: r.match, live: r.liveness && r.liveness.live, score: round(r.score), threshold: round(r.threshold), liveness: r.liveness && round(r.liveness.score), faces: r.faces, timingsMs: round(r.timingsMs.total, 2) };
  if (o.json) console.log(JSON.stringify(out));
  else if (refused) console.log(`REFUSED ${id}: not judged live (${r.liveness!.reason ?? `liveness ${out.liveness}`}); score ${out.score} (threshold ${out.threshold})`);
  else console.log(`${out.match ? 'MATCH' : 'NO MATCH'} ${id}: score ${out.score} (threshold ${out.threshold}), liveness ${out.liveness ?? '-'}`);
  return refused ? EXIT.REFUSED : decision(r.match);
}

async function identify(args: string[], o: Opts, match: MatchOptions, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (!o.gallery || args.length !== 1) usage('identify needs --gallery FILE and one image');
  const topK = numberOption(o.top, '--top', { integer: true, min: 1, max: 10_000_000 }) ?? 5;
  const path = o.gallery!;
  const probe = readImage(args[0]);
  const [g, e] = await galleryAndEngine(path, engine);
  const gallery = e.createGallery();
  for (const m of g.members) about(`${path}: '${m.id}'`, () => gallery.add(m.id, unb64(m.template)));
  const r = about(args[0], () => e.identify(probe, gallery, { ...match, topK, operatingPoint: match.threshold === undefined ? match.operatingPoint : undefined }));
  const t = r.threshold, refused = notLive(r.liveness);
  const out = { faces: r.faces, threshold: round(t), liveness: r.liveness && round(r.liveness.score), live: r.liveness && r.liveness.live, matches: r.matches.map((m) => ({ ...m, score: round(m.score), match: m.score >= t })) };
  if (o.json) console.log(JSON.stringify(out));
  else if (refused) console.log(`REFUSED: not judged live (${r.liveness!.reason ?? `liveness ${out.liveness}`}): no candidates (--no-liveness to rank anyway)`);
  else for (const m of out.matches) console.log(`${m.match ? '*' : ' '} ${m.id}: ${m.score}`);
  return refused ? EXIT.REFUSED : decision(r.match !== null);
}

interface Pair { a: string; b: string; same: boolean }

/** The pairs CSV: header path_a,path_b,same (any order, more columns allowed); a malformed row is an input error naming its line. */
function readPairs(csv: string): Pair[] {
  const lines = readFileSync(csv, 'utf8').split(/\r?\n/);
  const header = (lines.shift() ?? '').replace(/^\uFEFF/, '').split(',').map((s) => s.trim());
  const ia = header.indexOf('path_a'), ib = header.indexOf('path_b'), is = header.indexOf('same');
  if (ia < 0 || ib < 0 || is < 0) badInput(`${csv} must have the columns path_a,path_b,same (its header is '${header.join(',').slice(0, 80)}')`);
  const pairs: Pair[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const c = line.split(',').map((s) => s.trim());
    const [a, b, same] = [c[ia], c[ib], c[is]];
    if (!a || !b || (same !== '0' && same !== '1')) badInput(`${csv} line ${i + 2}: expected path_a,path_b,same with same 1 or 0, got '${line.slice(0, 120)}'`);
    pairs.push({ a, b, same: same === '1' });
  });
  if (!pairs.length) badInput(`${csv} holds no pairs`);
  return pairs;
}

async function evaluate(command: 'eval' | 'calibrate', o: Opts, match: MatchOptions, engine: () => Promise<FaceEngine>): Promise<ExitCode> {
  if (!o.pairs || !o.root) usage(`${command} needs --pairs CSV --root DIR`);
  const limit = numberOption(o.limit, '--limit', { integer: true, min: 1 });
  const pairs = readPairs(o.pairs!).slice(0, limit);
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const e = await engine();
  const embeddings = new Map<string, Float32Array | null>();
  const noFace: string[] = [], unreadable: string[] = [], reasons: string[] = [];
  const progress = new Progress(`${command}: embedding ${images.length} images`, images.length);
  const t0 = performance.now();
  for (const path of images) {
    const file = join(o.root!, path);
    try {
      embeddings.set(path, about(file, () => e.embed(readImage(file))).embedding);
    } catch (err) {
      // a missing or undecodable image, or one without a face, is counted and its pairs fail; anything else stops
      if (err instanceof NoFaceError) noFace.push(path);
      else if (exitCodeFor(err) === EXIT.INPUT) { unreadable.push(path); reasons.push(errorLine(err)); noFace.push(path); }
      else throw err;
      embeddings.set(path, null);
    }
    progress.tick(1);
  }
  if (unreadable.length === images.length) badInput(`none of the ${images.length} images could be read (check --root ${o.root}); the first: ${reasons[0]}`);
  const seconds = (performance.now() - t0) / 1000;
  const genuine: number[] = [], impostor: number[] = [];
  for (const p of pairs) {
    const ea = embeddings.get(p.a), eb = embeddings.get(p.b);
    const s = ea && eb ? e.compareEmbeddings(ea, eb) : -Infinity; // no face: a failure, never dropped
    (p.same ? genuine : impostor).push(s);
  }
  const m = computeMetrics(genuine, impostor, match.threshold ?? safeThreshold(e, match.operatingPoint));
  const counts = { no_face: noFace.length, unreadable: unreadable.length };
  if (command === 'calibrate') {
    const points = Object.fromEntries(Object.entries(m.thresholds_at_far).map(([k, v]) => [`far${k}`, round(v, 6)]));
    const result = { [e.models.embedder]: points };
    const note = `calibrated on ${m.impostor} impostor and ${m.genuine} genuine pairs (${o.pairs}); FAR 1e-4 needs >= 10,000 impostors to mean much`;
    if (o.out) writeAtomic(o.out, JSON.stringify({ note, operatingPoints: result }, null, 2) + '\n');
    console.log(JSON.stringify({ note, operatingPoints: result, tar_at_far: m.tar_at_far, ...counts }, null, o.json ? 0 : 2));
  } else {
    const json = { pairs: m.pairs, tar_at_far: m.tar_at_far, eer: m.eer, auc: m.auc, accuracy: m.accuracy, threshold: m.threshold, ...counts };
    if (o.svg) writeAtomic(o.svg, lineChart(`ROC: ${pairs.length} pairs, ${e.models.embedder} (${e.backend})`, [{ label: 'wasmface int8', points: rocPoints(genuine, impostor) }],
      'false accept rate', 'true accept rate', { logX: true, xMin: 1e-5, xMax: 1, yMin: 0, yMax: 1 }));
    if (o.json) console.log(JSON.stringify(json));
    else {
      const list = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', ...' : ''})` : '');
      console.log(`pairs ${m.pairs} (${m.genuine} genuine, ${m.impostor} impostor), ${images.length} images embedded in ${seconds.toFixed(1)} s (${(seconds * 1000 / images.length).toFixed(1)} ms each, ${e.backend})`);
      console.log(`TAR @ FAR 1e-2 ${m.tar_at_far['1e-2'].toFixed(4)}   1e-3 ${m.tar_at_far['1e-3'].toFixed(4)}   1e-4 ${m.tar_at_far['1e-4'].toFixed(4)}`);
      console.log(`EER ${(m.eer * 100).toFixed(2)} %   AUC ${m.auc.toFixed(5)}   accuracy ${(m.accuracy * 100).toFixed(2)} % at threshold ${m.threshold.toFixed(4)}`);
      console.log(`images without a face: ${noFace.length}${list(noFace)}${unreadable.length ? `, of which ${unreadable.length} skipped: missing or not decodable${list(unreadable)}` : ''}`);
      if (o.svg) console.log(`ROC curve written to ${o.svg}`);
    }
  }
  if (unreadable.length) console.error(`${unreadable.length} image(s) skipped: missing or not decodable, counted as no face (their pairs score as failures):\n  ${reasons.join('\n  ')}`);
  return EXIT.OK;
}

function safeThreshold(e: FaceEngine, point: string): number {
  try { return e.threshold(point); } catch { return 0.5; }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.exitCode = reportError(err); });
