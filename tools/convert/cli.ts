// Converts the source models in ../shared/models into models/<id>.wfm + models/<id>.md model cards
// + models/manifest.json.
//
//   node --import tsx tools/convert/cli.ts [--out models] [--only id,id] [--jobs 2]
//
// Models are converted in up to --jobs child processes (default: 2, the face-api net alone in one,
// the three small models in the other); each child writes its own files and reports back; the
// parent writes the manifest (keeping entries of models not converted in this run).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveSharedModels, sharedPath } from './models.js';
import { haveFaces } from './calibration.js';
import { preserveEvalSection } from '../eval/cards.js';

interface Args { out: string; only?: string[]; jobs: number; child?: string[] }

function parseArgs(argv: string[]): Args {
  const args: Args = { out: 'models', jobs: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => { const v = argv[++i]; if (v === undefined) usage(`${a} needs a value`); return v; };
    if (a === '--out') args.out = next();
    else if (a === '--only') args.only = next().split(',').filter(Boolean);
    else if (a === '--jobs') args.jobs = Math.max(1, Number(next()) | 0);
    else if (a === '--child') args.child = next().split(',');
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(error?: string): never {
  if (error) console.error(`cli: ${error}`);
  console.error('usage: node --import tsx tools/convert/cli.ts [--out models] [--only id,id] [--jobs 2]');
  process.exit(error ? 2 : 0);
}

export interface ChildResult { id: string; file: string; sha256: string; size: number; chosen: string; summary: string; seconds: number }

async function runChild(ids: string[], out: string): Promise<void> {
  const { MODELS, convertModel } = await import('./convert.js');
  for (const id of ids) {
    const spec = MODELS.find((m) => m.id === id)!;
    const t0 = Date.now();
    const r = await convertModel(spec);
    writeFileSync(join(out, `${id}.wfm`), r.bytes);
    // keep the measured-agreement section that `npm run eval:models -- --write-cards` maintains (marked stale if the file changed)
    const cardPath = join(out, `${id}.md`);
    const oldCard = existsSync(cardPath) ? readFileSync(cardPath, 'utf8') : undefined;
    writeFileSync(cardPath, preserveEvalSection(r.card, oldCard, createHash('sha256').update(r.bytes).digest('hex')));
    const metrics = Object.entries(r.chosen.agreement.metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`).join(' ');
    const summary = `${r.variants.map((v) => `${v.label}:${v.agreement.loss.toFixed(5)}`).join(' ')} | ${metrics}`;
    const result: ChildResult = {
      id, file: `${id}.wfm`, sha256: createHash('sha256').update(r.bytes).digest('hex'), size: r.bytes.length,
      chosen: r.chosen.label, summary, seconds: (Date.now() - t0) / 1000,
    };
    if (process.send) process.send(result);
    else report([result]);
  }
}

function report(results: ChildResult[]) {
  for (const r of results) console.log(`${r.id}: ${r.size.toLocaleString('en-US')} B, ${r.chosen}, ${r.seconds.toFixed(0)} s\n  ${r.summary}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  if (args.child) return runChild(args.child, out);

  if (!haveSharedModels() || !haveFaces()) {
    console.error(`cli: the shared models and faces are needed (looked in ${sharedPath('')}; set WASMFACE_SHARED to override)`);
    process.exit(1);
  }
  const { MODELS } = await import('./convert.js');
  const known = MODELS.map((m) => m.id);
  const ids = args.only ?? known;
  for (const id of ids) if (!known.includes(id)) usage(`unknown model ${id} (known: ${known.join(', ')})`);

  // the embedder costs about as much as the other three together
  const groups: string[][] = args.jobs === 1 ? [ids] : [ids.filter((i) => i === 'faceapi-recognition'), ids.filter((i) => i !== 'faceapi-recognition')].filter((g) => g.length);
  const t0 = Date.now();
  const results: ChildResult[] = [];
  const self = fileURLToPath(import.meta.url);
  const settled = await Promise.allSettled(groups.map((group) => new Promise<void>((done, fail) => {
    const child = fork(self, ['--child', group.join(','), '--out', out], { stdio: 'inherit' });
    child.on('message', (m) => results.push(m as ChildResult));
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`conversion of ${group.join(', ')} failed (exit ${code})`))));
  })));
  for (const s of settled) if (s.status === 'rejected') { console.error(String(s.reason)); process.exitCode = 1; }
  if (process.exitCode) return;

  const manifestPath = join(out, 'manifest.json');
  const manifest: Record<string, { file: string; sha256: string; size: number }> = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  for (const r of results) manifest[r.id] = { file: r.file, sha256: r.sha256, size: r.size };
  const sorted = Object.fromEntries(Object.keys(manifest).sort().map((k) => [k, manifest[k]]));
  writeFileSync(manifestPath, JSON.stringify(sorted, null, 2) + '\n');
  results.sort((a, b) => known.indexOf(a.id) - known.indexOf(b.id));
  report(results);
  const total = Object.values(sorted).reduce((s, m) => s + m.size, 0);
  console.log(`total ${total.toLocaleString('en-US')} B in ${Object.keys(sorted).length} models; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e) => { console.error(e); process.exit(1); });
