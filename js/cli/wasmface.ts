// wasmface command line: compare two photos, enrol/verify/identify against a gallery file, evaluate
// on a pairs list, calibrate operating points. Progress goes to stderr, results to stdout.

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeEngine, readImageFile, NoFaceError, Template, WasmfaceError, type FaceEngine } from '../node.js';
import type { Backend } from '../loader.js';
import { Progress } from './progress.js';
import { computeMetrics, rocPoints } from './metrics.js';
import { lineChart } from './svg.js';
import { runBundleCommand } from './bundle.js';

const USAGE = `usage: wasmface <command> [options]

  compare A B [--json]                     are A and B the same person? score, decision, liveness, timings
  enroll --id NAME --gallery FILE IMG...   add a person to a gallery file (created if missing)
  verify --id NAME --gallery FILE IMG      is IMG the enrolled person NAME?
  identify --gallery FILE IMG [--top K]    who in the gallery is IMG?
  eval --pairs CSV --root DIR [--json] [--svg roc.svg] [--limit N]
                                           TAR at FAR 1e-2/1e-3/1e-4, EER, AUC, accuracy, faces not found
  calibrate --pairs CSV --root DIR [--out FILE]
                                           thresholds for the named operating points on your own data
  bundle keygen|sign|inspect|verify|export-gallery|import-gallery ...
                                           signed model and gallery bundles for a fleet (wasmface bundle help)

common options: --backend auto|scalar|simd|relaxed   --operating-point far1e-2|far1e-3|far1e-4
                --threshold T   --no-liveness   --no-flip
pairs CSV: header path_a,path_b,same; paths relative to --root; same = 1 or 0.`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  ...(process.argv[2] === 'bundle' ? { args: ['bundle'] } : {}), // `bundle` parses its own options (js/cli/bundle.ts)
  options: {
    json: { type: 'boolean' }, svg: { type: 'string' }, pairs: { type: 'string' }, root: { type: 'string' }, out: { type: 'string' },
    id: { type: 'string' }, gallery: { type: 'string' }, top: { type: 'string' }, limit: { type: 'string' },
    backend: { type: 'string' }, 'operating-point': { type: 'string' }, threshold: { type: 'string' },
    'no-liveness': { type: 'boolean' }, 'no-flip': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  },
});

const [command, ...args] = positionals;
const fail = (message: string, code = 2): never => { console.error(`wasmface: ${message}`); process.exit(code); };
if (opts.help || !command) { console.log(USAGE); process.exit(command ? 0 : 2); }

const operatingPoint = opts['operating-point'] ?? 'far1e-3';
const threshold = opts.threshold !== undefined ? Number(opts.threshold) : undefined;
if (threshold !== undefined && !Number.isFinite(threshold)) fail(`--threshold must be a number, got ${opts.threshold}`);

async function engine(): Promise<FaceEngine> {
  return createNodeEngine({ backend: (opts.backend ?? 'auto') as 'auto' | Backend, embedder: { flip: !opts['no-flip'] } });
}

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

interface GalleryFile { format: 'wasmface-gallery'; version: 1; modelId: string; members: { id: string; template: string; images: number }[] }

function readGallery(path: string, modelId: string): GalleryFile {
  if (!existsSync(path)) return { format: 'wasmface-gallery', version: 1, modelId, members: [] };
  const g = JSON.parse(readFileSync(path, 'utf8')) as GalleryFile;
  if (g.format !== 'wasmface-gallery' || g.version !== 1) fail(`${path} is not a wasmface gallery file (version 1)`);
  if (g.modelId !== modelId) fail(`${path} holds templates of model '${g.modelId}', this build uses '${modelId}': re-enrol`);
  return g;
}

async function main(): Promise<void> {
  switch (command) {
    case 'compare': {
      if (args.length !== 2) fail('compare needs two image files');
      const e = await engine();
      const [a, b] = args.map(readImageFile);
      const t0 = performance.now();
      const enrolled = e.embed(a);
      const template = new Template(e.models.embedder, enrolled.embedding);
      const livenessA = opts['no-liveness'] ? null : e.liveness(a);
      const r = e.verify(b, template, { threshold, operatingPoint, liveness: !opts['no-liveness'] });
      const total = performance.now() - t0;
      const out = {
        match: r.score >= r.threshold, score: round(r.score), threshold: round(r.threshold), operatingPoint: r.operatingPoint,
        liveness: { a: livenessA && round(livenessA.score), b: r.liveness && round(r.liveness.score) },
        faces: { a: enrolled.faces, b: r.faces }, backend: e.backend,
        timingsMs: { ...Object.fromEntries(Object.entries(r.timingsMs).map(([k, v]) => [k, round(v, 2)])), bothImages: round(total, 2) },
      };
      if (opts.json) console.log(JSON.stringify(out));
      else {
        console.log(`${args[0]} vs ${args[1]}: ${out.match ? 'SAME person' : 'different people'} (score ${out.score}, threshold ${out.threshold} at ${out.operatingPoint ?? 'custom'})`);
        console.log(`  faces found: ${out.faces.a} / ${out.faces.b}; liveness: ${out.liveness.a ?? '-'} / ${out.liveness.b ?? '-'}; ${e.backend} build`);
        console.log(`  timings (ms, second image): ${Object.entries(out.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
      e.dispose();
      break;
    }
    case 'enroll': {
      if (!opts.id || !opts.gallery || !args.length) fail('enroll needs --id NAME --gallery FILE and at least one image');
      const e = await engine();
      const g = readGallery(opts.gallery!, e.models.embedder);
      const t = e.enroll(args.map(readImageFile));
      g.members = g.members.filter((m) => m.id !== opts.id);
      g.members.push({ id: opts.id!, template: Buffer.from(t.toBytes()).toString('base64'), images: args.length });
      writeFileSync(opts.gallery!, JSON.stringify(g, null, 1));
      console.log(`enrolled '${opts.id}' from ${args.length} image(s) into ${opts.gallery} (${g.members.length} people)`);
      e.dispose();
      break;
    }
    case 'verify': {
      if (!opts.id || !opts.gallery || args.length !== 1) fail('verify needs --id NAME --gallery FILE and one image');
      const e = await engine();
      const g = readGallery(opts.gallery!, e.models.embedder);
      const m = g.members.find((x) => x.id === opts.id) ?? fail(`'${opts.id}' is not in ${opts.gallery}`);
      const r = e.verify(readImageFile(args[0]), new Uint8Array(Buffer.from(m.template, 'base64')), { threshold, operatingPoint, liveness: !opts['no-liveness'] });
      const out = { id: opts.id, match: r.match, score: round(r.score), threshold: round(r.threshold), liveness: r.liveness && round(r.liveness.score), faces: r.faces, timingsMs: round(r.timingsMs.total, 2) };
      console.log(opts.json ? JSON.stringify(out) : `${out.match ? 'MATCH' : 'NO MATCH'} ${opts.id}: score ${out.score} (threshold ${out.threshold}), liveness ${out.liveness ?? '-'}`);
      e.dispose();
      process.exitCode = r.match ? 0 : 1;
      break;
    }
    case 'identify': {
      if (!opts.gallery || args.length !== 1) fail('identify needs --gallery FILE and one image');
      const e = await engine();
      const g = readGallery(opts.gallery!, e.models.embedder);
      const gallery = e.createGallery();
      for (const m of g.members) gallery.add(m.id, new Uint8Array(Buffer.from(m.template, 'base64')));
      const r = e.identify(readImageFile(args[0]), gallery, { topK: Number(opts.top ?? 5), threshold, operatingPoint: threshold === undefined ? operatingPoint : undefined, liveness: !opts['no-liveness'] });
      const t = r.threshold;
      const out = { faces: r.faces, threshold: round(t), liveness: r.liveness && round(r.liveness.score), matches: r.matches.map((m) => ({ ...m, score: round(m.score), match: m.score >= t })) };
      if (opts.json) console.log(JSON.stringify(out));
      else if (r.liveness && !r.liveness.live) console.log(`not judged live (${r.liveness.reason ?? `liveness ${out.liveness}`}): no candidates (--no-liveness to rank anyway)`);
      else for (const m of out.matches) console.log(`${m.match ? '*' : ' '} ${m.id}: ${m.score}`);
      e.dispose();
      break;
    }
    case 'eval':
    case 'calibrate': {
      if (!opts.pairs || !opts.root) fail(`${command} needs --pairs CSV --root DIR`);
      const lines = readFileSync(opts.pairs!, 'utf8').trim().split(/\r?\n/);
      const header = lines.shift()!.split(',').map((s) => s.trim());
      const ia = header.indexOf('path_a'), ib = header.indexOf('path_b'), is = header.indexOf('same');
      if (ia < 0 || ib < 0 || is < 0) fail(`${opts.pairs} must have the columns path_a,path_b,same`);
      let pairs = lines.filter(Boolean).map((l) => { const c = l.split(','); return { a: c[ia], b: c[ib], same: c[is].trim() === '1' }; });
      if (opts.limit) pairs = pairs.slice(0, Number(opts.limit));
      const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
      const e = await engine();
      const embeddings = new Map<string, Float32Array | null>();
      const noFace: string[] = [], unreadable: string[] = [];
      const progress = new Progress(`${command}: embedding ${images.length} images`, images.length);
      const t0 = performance.now();
      for (const path of images) {
        try {
          embeddings.set(path, e.embed(readImageFile(join(opts.root!, path))).embedding);
        } catch (err) {
          if (err instanceof NoFaceError) noFace.push(path);
          else if (err instanceof WasmfaceError) { unreadable.push(`${path}: ${err.message}`); noFace.push(path); }
          else throw err;
          embeddings.set(path, null);
        }
        progress.tick(1);
      }
      const seconds = (performance.now() - t0) / 1000;
      const genuine: number[] = [], impostor: number[] = [];
      for (const p of pairs) {
        const ea = embeddings.get(p.a), eb = embeddings.get(p.b);
        const s = ea && eb ? e.compareEmbeddings(ea, eb) : -Infinity; // no face: a failure, never dropped
        (p.same ? genuine : impostor).push(s);
      }
      const defaultThreshold = threshold ?? safeThreshold(e, operatingPoint);
      const m = computeMetrics(genuine, impostor, defaultThreshold);
      if (command === 'calibrate') {
        const points = Object.fromEntries(Object.entries(m.thresholds_at_far).map(([k, v]) => [`far${k}`, round(v, 6)]));
        const result = { [e.models.embedder]: points };
        const note = `calibrated on ${m.impostor} impostor and ${m.genuine} genuine pairs (${opts.pairs}); FAR 1e-4 needs >= 10,000 impostors to mean much`;
        if (opts.out) writeFileSync(opts.out, JSON.stringify({ note, operatingPoints: result }, null, 2) + '\n');
        console.log(JSON.stringify({ note, operatingPoints: result, tar_at_far: m.tar_at_far, no_face: noFace.length }, null, opts.json ? 0 : 2));
      } else {
        const json = { pairs: m.pairs, tar_at_far: m.tar_at_far, eer: m.eer, auc: m.auc, accuracy: m.accuracy, threshold: m.threshold, no_face: noFace.length };
        if (opts.svg) writeFileSync(opts.svg, lineChart(`ROC: ${pairs.length} pairs, ${e.models.embedder} (${e.backend})`, [{ label: 'wasmface int8', points: rocPoints(genuine, impostor) }],
          'false accept rate', 'true accept rate', { logX: true, xMin: 1e-5, xMax: 1, yMin: 0, yMax: 1 }));
        if (opts.json) console.log(JSON.stringify(json));
        else {
          console.log(`pairs ${m.pairs} (${m.genuine} genuine, ${m.impostor} impostor), ${images.length} images embedded in ${seconds.toFixed(1)} s (${(seconds * 1000 / images.length).toFixed(1)} ms each, ${e.backend})`);
          console.log(`TAR @ FAR 1e-2 ${m.tar_at_far['1e-2'].toFixed(4)}   1e-3 ${m.tar_at_far['1e-3'].toFixed(4)}   1e-4 ${m.tar_at_far['1e-4'].toFixed(4)}`);
          console.log(`EER ${(m.eer * 100).toFixed(2)} %   AUC ${m.auc.toFixed(5)}   accuracy ${(m.accuracy * 100).toFixed(2)} % at threshold ${m.threshold.toFixed(4)}`);
          console.log(`images without a face: ${noFace.length}${noFace.length ? ` (${noFace.slice(0, 5).join(', ')}${noFace.length > 5 ? ', ...' : ''})` : ''}`);
          if (opts.svg) console.log(`ROC curve written to ${opts.svg}`);
        }
      }
      if (unreadable.length) console.error(`${unreadable.length} image(s) could not be decoded and are counted as no face:\n  ${unreadable.join('\n  ')}`);
      e.dispose();
      break;
    }
    case 'bundle':
      process.exitCode = await runBundleCommand(process.argv.slice(3));
      break;
    default:
      fail(`unknown command '${command}'\n${USAGE}`);
  }
}

function safeThreshold(e: FaceEngine, point: string): number {
  try { return e.threshold(point); } catch { return 0.5; }
}

main().catch((err) => {
  if (err instanceof WasmfaceError) fail(`${err.message} [${err.code}]`, 1);
  throw err;
});
