// Turns the measurements of bench/run.ts into ratios, target verdicts, results.{json,md} and charts.
import { writeFileSync } from 'node:fs';
import { barChart, lineChart } from '../svg.js';
import { OUT, ROOT, type Summary } from './common.js';

/** The run's record (bench/results.{json,md}, committed after a full run); charts go to bench/out/. */
const RESULTS = `${ROOT}bench/results`;

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface Results {
  date: string; quick: boolean; node: string; cpu: string; cores: number; loadavg: { start: number[]; end: number[] }; seconds: number;
  git: { commit: string; dirtyFiles: string[] }; skipped: string[];
  images: { id: string; path: string; kind: string }[];
  plan: Record<string, unknown>;
  runtimes: Record<string, Record<string, unknown>>;
  census: Record<string, { simd: number; relaxed: number; instructions: number } | null>;
  samplesPerKey: Record<string, number>;
  warm: Record<string, Record<string, Summary>>;
  perImage: Record<string, Record<string, number>>;
  perImageScore: Record<string, Record<string, { score: number; live: number | null; faces: number }>>;
  profiles: Record<string, any>;
  perImageStages?: Record<string, Record<string, Record<string, number>>>;
  phases: Record<string, number>;
  cold: Record<string, any>;
  stats: Record<string, Record<string, any>>;
  wfMemory: Record<string, any>;
  identify: Record<string, { size: number; search: number; searchP90: number; addMs: number; wasmMB: number }[]>;
  footprint: any;
  kernels: any;
  kernelsNote: string;
  agreement: any;
  builds: string[];
  ratios?: Ratio[];
  targets?: Target[];
}
export interface Ratio { stage: string; peer: string; peerKey: string; peerMedian: number; peerP90: number; wasmface: Record<string, { config: string; median: number; p90: number; faster: number } | null>; note?: string }
export interface Target { name: string; target: string; value: string; met: boolean; detail: string }

const PEERS: Record<string, string> = {
  'ort-float': 'onnxruntime-web 1 thread, float (same models)',
  'ort-int8': 'onnxruntime-web 1 thread, int8 QDQ (same models, quantised here)',
  'tfjs-simd-embed': 'tfjs-backend-wasm SIMD (face-api.js net)',
  'tfjs-nosimd-embed': 'tfjs-backend-wasm no SIMD (face-api.js net)',
  'faceapi-ssd-simd': '@vladmandic/face-api SSD MobileNet v1 + 68 landmarks + net, tfjs-wasm SIMD',
  'faceapi-tiny-simd': '@vladmandic/face-api TinyFaceDetector + 68 landmarks + net, tfjs-wasm SIMD',
  'faceapi-ssd-nosimd': '@vladmandic/face-api SSD MobileNet v1 pipeline, tfjs-wasm no SIMD',
  'faceapi-tiny-nosimd': '@vladmandic/face-api TinyFaceDetector pipeline, tfjs-wasm no SIMD',
  composite: 'float pipeline, YuNet + MiniFASNets on onnxruntime-web, net on tfjs-wasm SIMD (derived: sum of stage medians)',
};

const f1 = (v: number | undefined | null, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));
const ms = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

function ratios(r: Results): Ratio[] {
  const W = r.warm, out: Ratio[] = [];
  const wf = (stage: string, config: '' | '-noflip', peerMedian: number) => Object.fromEntries(r.builds.map((b) => {
    const s = W[`wasmface-${b}${config}`]?.[stage];
    return [b, s ? { config: config ? 'flip off' : 'default', median: s.median, p90: s.p90, faster: peerMedian / s.median } : null];
  }));
  const add = (stage: string, wfStage: string, config: '' | '-noflip', peerKey: string, peerStage: string, note?: string) => {
    const p = W[peerKey]?.[peerStage];
    if (!p) return;
    out.push({ stage, peer: PEERS[peerKey] ?? peerKey, peerKey, peerMedian: p.median, peerP90: p.p90, wasmface: wf(wfStage, config, p.median), note });
  };
  add('detect (pixels in -> faces; incl. resize, padded retry)', 'detectAll', '-noflip', 'ort-float', 'detect', 'peer: JS letterbox to a float canvas + YuNet + JS decoding/NMS');
  add('detect (pixels in -> faces; incl. resize, padded retry)', 'detectAll', '-noflip', 'ort-int8', 'detect');
  add('align (5-point similarity warp to 150x150)', 'align', '-noflip', 'ort-float', 'align', 'peer: the same warp in plain JS');
  for (const p of ['ort-float', 'ort-int8', 'tfjs-simd-embed', 'tfjs-nosimd-embed']) add('embed, one pass (flip off)', 'embed', '-noflip', p, 'embed');
  for (const p of ['ort-float', 'tfjs-simd-embed']) add('embed, default flip fusion (two passes) vs one peer pass', 'embed', '', p, 'embed');
  for (const p of ['ort-float', 'ort-int8']) add('liveness (MiniFASNet V2 + V1SE, patches incl.)', 'liveness', '-noflip', p, 'liveness');
  add('match (cosine vs template)', 'match', '-noflip', 'ort-float', 'match', 'both well under a millisecond');
  for (const p of ['ort-float', 'ort-int8']) add('verify end to end, default (flip fusion + liveness)', 'total', '', p, 'total', 'peer runs one embedding pass: wasmface does more work here');
  for (const p of ['ort-float', 'ort-int8']) add('verify end to end, like for like (one pass + liveness)', 'total', '-noflip', p, 'total');
  // composite: ORT float pipeline with the net's time replaced by tfjs SIMD's
  const of = W['ort-float'], te = W['tfjs-simd-embed'];
  if (of?.total && of.embed && te?.embed) {
    const m = of.total.median - of.embed.median + te.embed.median, p90 = of.total.p90 - of.embed.p90 + te.embed.p90;
    out.push({ stage: 'verify end to end, like for like (one pass + liveness)', peer: PEERS.composite, peerKey: 'composite', peerMedian: m, peerP90: p90, wasmface: wf('total', '-noflip', m) });
  }
  for (const p of ['faceapi-ssd-simd', 'faceapi-tiny-simd', 'faceapi-ssd-nosimd', 'faceapi-tiny-nosimd']) add('verify without liveness, one pass (image in, descriptor + distance out)', 'noLiveness', '-noflip', p, 'total', 'face-api: its own detector and 68-point landmarks; no anti-spoofing');
  add('verify without liveness, one pass (image in, descriptor + distance out)', 'noLiveness', '-noflip', 'ort-float', 'noLiveness');
  for (const p of ['faceapi-ssd-simd', 'faceapi-tiny-simd']) add('verify default (flip + liveness) vs face-api (no liveness)', 'total', '', p, 'total', 'wasmface does strictly more work here');
  // the same end-to-end comparisons in wall-clock time (sensitive to other load on the machine)
  for (const p of ['ort-float', 'ort-int8']) add('wall clock: verify, like for like (one pass + liveness)', 'wall', '-noflip', p, 'wall');
  add('wall clock: verify, default (flip fusion + liveness)', 'wall', '', 'ort-float', 'wall');
  for (const p of ['faceapi-ssd-simd', 'faceapi-tiny-simd']) add('wall clock: verify default (flip + liveness) vs face-api (no liveness)', 'wall', '', p, 'wall');
  return out;
}

function targets(r: Results, rt: Ratio[]): Target[] {
  const T: Target[] = [];
  const best = r.builds[0];
  const find = (stage: string, peerKey: string) => rt.find((x) => x.stage === stage && x.peer === (PEERS[peerKey] ?? peerKey));
  const verdict = (name: string, target: string, row: Ratio | undefined, need: number, what: string) => {
    if (!row) { T.push({ name, target, value: 'not measured', met: false, detail: what }); return; }
    const w = row.wasmface[best]!, s = row.wasmface.simd;
    T.push({ name, target, value: `${w.faster.toFixed(2)}x (${best}: ${ms(w.median)} ms vs ${ms(row.peerMedian)} ms)`, met: w.faster >= need,
      detail: `${what}; simd build ${s ? s.faster.toFixed(2) + 'x' : '–'}` });
  };
  verdict('verify vs tfjs-backend-wasm SIMD (like for like: one pass, no liveness)', '>= 3x faster', find('verify without liveness, one pass (image in, descriptor + distance out)', 'faceapi-ssd-simd'), 3,
    'peer: @vladmandic/face-api SSD MobileNet v1 + landmarks + net on tfjs-wasm SIMD, the pipeline users start from');
  verdict('verify vs tfjs-backend-wasm SIMD (wasmface default: flip + liveness)', '>= 3x faster', find('verify default (flip + liveness) vs face-api (no liveness)', 'faceapi-ssd-simd'), 3, 'wasmface does more work than the peer');
  verdict('verify vs tfjs-backend-wasm SIMD, same models (composite)', '>= 3x faster', find('verify end to end, like for like (one pass + liveness)', 'composite'), 3, 'YuNet + MiniFASNets on onnxruntime-web, the net on tfjs SIMD (derived)');
  verdict('verify vs onnxruntime-web, same models (like for like: one pass + liveness)', '>= 2x faster', find('verify end to end, like for like (one pass + liveness)', 'ort-float'), 2, 'float ONNX of the same four models, plain-JS pre/post-processing');
  verdict('verify vs onnxruntime-web, same models (wasmface default: flip fusion)', '>= 2x faster', find('verify end to end, default (flip fusion + liveness)', 'ort-float'), 2, 'wasmface runs the net twice');
  verdict('verify vs onnxruntime-web int8 (QDQ), same models', '>= 2x faster (not a stated target; for reference)', find('verify end to end, like for like (one pass + liveness)', 'ort-int8'), 2, 'onnxruntime int8 kernels on our QDQ quantisation');
  const fp = r.footprint.ours;
  for (const b of ['scalar', 'simd', 'relaxed', 'wasi']) {
    const s = fp.builds[b];
    T.push({ name: `wasm build ${b} size`, target: '<= 100 KB', value: `${kb(s.bytes)} (gzip ${kb(s.gzip)})`, met: s.bytes <= 100 * 1024, detail: s.file });
  }
  const emb = fp.originals['face-api recognition net (TF.js, uint8-stored shards)'];
  T.push({ name: 'all shipped models together', target: `< the float embedder (${mb(emb.bytes)})`, value: `${mb(fp.modelsTotal.bytes)} (gzip ${mb(fp.modelsTotal.gzip)})`, met: fp.modelsTotal.bytes < emb.bytes,
    detail: Object.entries(fp.models).map(([k, v]: [string, any]) => `${k} ${v.bytes.toLocaleString('en')} B`).join(', ') });
  for (const b of r.builds.filter((x) => x !== 'scalar')) {
    const c = r.cold[`wasmface-${b}`];
    if (c) T.push({ name: `cold start (${b}): create + first verify, fresh process`, target: '<= 50 ms', value: `${ms(c.totalCpuMs.median)} ms CPU (create ${ms(c.createCpuMs.median)} + first verify ${ms(c.firstCpuMs.median)}); wall ${ms(c.totalMs.median)} ms (create ${ms(c.createMs.median)} + first ${ms(c.firstMs.median)})`, met: c.totalCpuMs.median <= 50 && c.totalMs.median <= 50, detail: `${c.samples} fresh processes; medians` });
  }
  const c = r.cold[`wasmface-${best}`];
  if (c) {
    T.push({ name: `peak wasm memory (${best}, 480x360 photo)`, target: '<= 16 MB', value: `${f1(c.wasmMBAfterFirst, 2)} MiB`, met: c.wasmMBAfterFirst * 1.048576 <= 16, detail: `process max RSS ${f1(c.maxRssMBAfterFirst)} MB (node itself: ${f1(r.cold.baseline?.maxRssMBAfterAll ?? r.cold.baseline?.maxRssMBAfterFirst)} MB)` });
    if (c.wasmMBAfterAll !== null) T.push({ name: `peak wasm memory (${best}, all benchmark images, up to 2048x1365)`, target: '<= 16 MB', value: `${f1(c.wasmMBAfterAll, 2)} MiB`, met: c.wasmMBAfterAll * 1.048576 <= 16, detail: `process max RSS ${f1(c.maxRssMBAfterAll)} MB` });
  }
  for (const b of r.builds) {
    const row = r.identify[b]?.find((x) => x.size === 10000);
    if (row) T.push({ name: `identify over 10k templates (${b}): gallery.search`, target: '<= 5 ms', value: `${ms(row.search)} ms (p90 ${ms(row.searchP90)})`, met: row.search <= 5, detail: `gallery.add of 10k templates took ${f1(row.addMs)} ms in total` });
  }
  return T;
}

export function writeReport(r: Results): void {
  const rt = ratios(r);
  r.ratios = rt;
  r.targets = targets(r, rt);
  writeFileSync(`${RESULTS}.json`, JSON.stringify(r, null, 1));
  const md: string[] = [];
  const W = r.warm;
  md.push(`# wasmface vs peers — ${r.quick ? 'quick run' : 'full run'}, ${r.date}`, '',
    `Node ${r.node}, ${r.cpu} (${r.cores} cores; everything on one thread), load average at start ${r.loadavg.start.map((x) => x.toFixed(2)).join(' ')}, at end ${r.loadavg.end.map((x) => x.toFixed(2)).join(' ')}. ` +
    `Commit ${r.git.commit}${r.git.dirtyFiles.length ? ` with uncommitted changes in ${r.git.dirtyFiles.length} file(s) under assembly/, js/, models/` : ''}. Run time ${r.seconds.toFixed(0)} s (${Object.entries(r.phases ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}).`, '');
  if (r.skipped.length) md.push(...r.skipped.map((s) => `- skipped: ${s}`), '');
  md.push(`Images (decoded once, outside the timings): ${r.images.map((i) => i.id).join('; ')}. Template enrolled from examples/images/person-a-1.jpg.`,
    `Rounds: ${r.plan.rounds}, ${r.plan.reps} verifications per image per round (tfjs pipelines 1); every runtime in its own process, interleaved round by round. ` +
    `Every runtime ran in ${r.plan.processesPerRuntime} separate processes, used in turn; a median is the median of the per-process medians over all images, p90 is over all samples. "x faster" = peer median / wasmface median.`, '',
    '**Clock.** Stage and end-to-end times are CPU time of the runtime\'s own process (getrusage, exact; one thread does the work, helper threads such as V8\'s background compiler are included), ' +
    'because this machine is shared and wall-clock medians there measure the scheduler as much as the code. The same comparisons in wall-clock time are the "wall clock" rows; on an idle machine the two agree.', '');

  md.push('## Ratios per stage and end to end', '');
  md.push(`| stage | peer | peer median / p90 ms | ${r.builds.map((b) => `wasmface ${b} median / p90 ms`).join(' | ')} | ${r.builds.map((b) => `${b}: x faster`).join(' | ')} |`);
  md.push(`|---|---|---:|${r.builds.map(() => '---:').join('|')}|${r.builds.map(() => '---:').join('|')}|`);
  for (const x of rt) {
    md.push(`| ${x.stage} | ${x.peer} | ${ms(x.peerMedian)} / ${ms(x.peerP90)} | ${r.builds.map((b) => (x.wasmface[b] ? `${ms(x.wasmface[b]!.median)} / ${ms(x.wasmface[b]!.p90)}` : '–')).join(' | ')} | ${r.builds.map((b) => (x.wasmface[b] ? `**${x.wasmface[b]!.faster.toFixed(2)}x**` : '–')).join(' | ')} |`);
  }
  md.push('', 'wasmface configuration per row: "one pass"/"like for like" rows use `embedder: { flip: false }`; "default" rows the shipped default (flip fusion). Notes: ' +
    [...new Set(rt.filter((x) => x.note).map((x) => x.note))].join('; ') + '.', '');

  md.push('## wasmface stages (warm)', '');
  const stages = ['convert', 'detect', 'align', 'embed', 'liveness', 'match', 'total', 'noLiveness', 'wall'];
  md.push(`| build | config | ${stages.join(' | ')} |`, `|---|---|${stages.map(() => '---:').join('|')}|`);
  for (const b of r.builds) for (const cfg of ['', '-noflip']) {
    const s = W[`wasmface-${b}${cfg}`];
    if (s) md.push(`| ${b} | ${cfg ? 'flip off' : 'default'} | ${stages.map((k) => (s[k] ? `${ms(s[k].median)} / ${ms(s[k].p90)}` : '–')).join(' | ')} |`);
  }
  md.push('', 'median / p90 ms CPU; `total` is `verify()` end to end (its own `timingsMs`, read on the CPU clock), `noLiveness` = total minus the liveness stage, `wall` = the wall-clock time of the same verify calls.', '');

  md.push('## Peers (warm)', '');
  const pst = ['detect', 'detectModel', 'align', 'embed', 'liveness', 'match', 'total', 'noLiveness', 'wall'];
  md.push(`| peer | ${pst.join(' | ')} |`, `|---|${pst.map(() => '---:').join('|')}|`);
  for (const k of ['ort-float', 'ort-int8']) if (W[k]) md.push(`| ${PEERS[k]} | ${pst.map((s) => (W[k][s] ? `${ms(W[k][s].median)} / ${ms(W[k][s].p90)}` : '–')).join(' | ')} |`);
  md.push('', '`detectModel` = the time inside InferenceSession.run for YuNet; the rest of `detect` is the JavaScript letterboxing and decoding around it.', '');
  md.push('| tfjs peer | median ms CPU | p90 ms CPU | median ms wall | samples |', '|---|---:|---:|---:|---:|');
  for (const k of Object.keys(W).filter((x) => x.startsWith('tfjs') || x.startsWith('faceapi'))) {
    const stage = W[k].total ? 'total' : W[k].embed ? 'embed' : 'detect';
    md.push(`| ${PEERS[k] ?? k}${k.endsWith('-detect') ? ' — detector only' : ''} | ${ms(W[k][stage].median)} | ${ms(W[k][stage].p90)} | ${ms(W[k].wall?.median)} | ${W[k][stage].n} |`);
  }
  md.push('', '**Per-process medians** of the end-to-end (or only) stage, to show how far the separate processes of one runtime agree:', '', '| runtime | stage | per-process medians, ms CPU |', '|---|---|---|');
  for (const k of Object.keys(W)) {
    const stage = W[k].total ? 'total' : W[k].embed ? 'embed' : 'detect';
    md.push(`| ${k} | ${stage} | ${(W[k][stage].procMedians ?? []).map((x) => ms(x)).join(', ')} |`);
  }
  const faces = (k: string) => W[k]?.faces ? `${f1(W[k].faces.median, 0)}` : '–';
  md.push('', `Faces found (median per verification): face-api SSD ${faces('faceapi-ssd-simd')}, face-api Tiny ${faces('faceapi-tiny-simd')}.`, '');

  md.push('### Per image: verify end to end, median CPU ms', '');
  const keys = [...r.builds.flatMap((b) => [`wasmface-${b}`, `wasmface-${b}-noflip`]), 'ort-float', 'ort-int8', 'faceapi-ssd-simd', 'faceapi-tiny-simd', 'faceapi-ssd-nosimd'].filter((k) => r.perImage[k]);
  md.push(`| image | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`);
  for (const img of r.images) md.push(`| ${img.id} | ${keys.map((k) => ms(r.perImage[k][img.id])).join(' | ')} |`);
  md.push('');

  md.push('### Per image: do the pipelines agree? (median score / liveness / faces)', '');
  const sk = [`wasmface-${r.builds[0]}`, 'ort-float', 'ort-int8', 'faceapi-ssd-simd', 'faceapi-tiny-simd'].filter((k) => r.perImageScore[k]);
  md.push(`| image | ${sk.map((k) => `${k} ${k.startsWith('faceapi') ? 'distance (< 0.6 = same)' : 'cosine / live'}`).join(' | ')} |`, `|---|${sk.map(() => '---:').join('|')}|`);
  for (const img of r.images) md.push(`| ${img.id} | ${sk.map((k) => { const x = r.perImageScore[k][img.id]; return x ? `${x.score.toFixed(3)}${x.live !== null && !k.startsWith('faceapi') ? ` / ${x.live.toFixed(2)}` : ''}${x.faces !== 1 ? ` (${x.faces} faces)` : ''}` : '–'; }).join(' | ')} |`);
  md.push('', 'Template: person-a-1.jpg, so person-a-2 is the genuine pair. The float and int8 peers enrol with their own embedder; face-api with its own pipeline.', '');

  md.push('## Targets', '', '| target | goal | measured | verdict | detail |', '|---|---|---|---|---|');
  for (const t of r.targets) md.push(`| ${t.name} | ${t.target} | ${t.value} | ${t.met ? 'met' : '**missed**'} | ${t.detail} |`);
  md.push('');

  md.push('## Cold start (fresh process per sample)', '', '| runtime | create ms CPU / wall | first verify ms CPU / wall | together ms CPU / wall (p90 wall) | wasm memory after first, MiB | max RSS after first, MiB | after all images: wasm / RSS MiB | samples |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [k, c] of Object.entries(r.cold)) {
    if (k === 'baseline') continue;
    md.push(`| ${k} | ${ms(c.createCpuMs?.median)} / ${ms(c.createMs.median)} | ${ms(c.firstCpuMs?.median)} / ${ms(c.firstMs.median)} | ${ms(c.totalCpuMs?.median)} / ${ms(c.totalMs.median)} (${ms(c.totalMs.p90)}) | ${f1(c.wasmMBAfterFirst, 2)} | ${f1(c.maxRssMBAfterFirst)} | ${c.wasmMBAfterAll === null ? '–' : `${f1(c.wasmMBAfterAll, 2)} / ${f1(c.maxRssMBAfterAll)}`} | ${c.samples} |`);
  }
  if (r.cold.baseline) md.push('', `Baseline process (node + tsx + the decoded images, no runtime): max RSS ${f1(r.cold.baseline.maxRssMBAfterAll ?? r.cold.baseline.maxRssMBAfterFirst)} MB.`);
  md.push('', 'create: wasmface `FaceEngine.create` (compile + instantiate + self-test + model validation, hashing, packing); onnxruntime-web: four InferenceSessions (first one initialises the wasm); face-api: tf.setBackend("wasm") + loading SSD, landmarks and the net. first: one verification of a 480x360 photo (wasmface: against stored template bytes). Module imports are excluded everywhere.', '');

  md.push('## Where the time and memory go (bench/profile.ts, fresh processes)', '');
  for (const [name, p] of Object.entries(r.profiles ?? {}) as [string, any][]) {
    md.push(`**${p.backend} build, ${name}**: create ${ms(p.createTotal)} ms = ${Object.entries(p.steps).map(([k, v]) => `${k} ${ms(v as number)}`).join(', ')}. ` +
      `SHA-256 of the embedder file in the wasm (the path without WebCrypto): ${ms(p.sha256EmbedderMs)} ms. A second engine in the same process: ${ms(p.createAgainInSameProcess)} ms. Verify of a 480x360 photo: first ${ms(p.firstVerify.total)} ms (embed ${ms(p.firstVerify.embed)}, detect ${ms(p.firstVerify.detect)}), second ${ms(p.secondVerify.total)} ms, tenth ${ms(p.tenthVerify.total)} ms.`, '');
  }
  const prof = Object.values(r.profiles ?? {})[0] as any;
  if (prof) {
    const m = prof.memory;
    const top = (x: any) => Object.entries(x.buffers).slice(0, 5).map(([k, v]) => `${k} ${(Number(v) / 1e6).toFixed(2)}`).join(', ');
    md.push(`Wasm memory of one engine: ${(m.afterSmall.memory / 2 ** 20).toFixed(2)} MiB after a ${m.image.small.join('x')} photo (model arena ${(m.afterSmall.arena / 1e6).toFixed(2)} MB; largest buffers MB: ${top(m.afterSmall)}), ` +
      `${(m.afterBig.memory / 2 ** 20).toFixed(2)} MiB after a ${m.image.big.join('x')} one (largest buffers MB: ${top(m.afterBig)}). The loaded models themselves take ${(m.modelFileBytes / 1e6).toFixed(2)} MB of file; wasm memory never shrinks, so the largest frame sets the peak.`, '');
  }

  md.push('## Footprint', '');
  const fp = r.footprint.ours;
  md.push('| wasmface file | bytes | gzip |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(fp.builds) as [string, any][]) md.push(`| build ${k} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} |`);
  for (const [k, v] of Object.entries(fp.js) as [string, any][]) md.push(`| dist/${k} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} |`);
  for (const [k, v] of Object.entries(fp.models) as [string, any][]) md.push(`| model ${k} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} |`);
  md.push(`| **all models** | **${fp.modelsTotal.bytes.toLocaleString('en')}** | **${fp.modelsTotal.gzip.toLocaleString('en')}** |`);
  md.push('', '| float original | bytes | gzip |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(fp.originals) as [string, any][]) md.push(`| ${k} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} |`);
  md.push(`| **all originals** | **${fp.originalsTotal.bytes.toLocaleString('en')}** | **${fp.originalsTotal.gzip.toLocaleString('en')}** |`);
  const onnx = r.footprint.onnx;
  if (onnx?.embedder) md.push(`| face-api net as float ONNX (our export, float32 weights) | ${onnx.embedder.floatBytes.toLocaleString('en')} | – |`);
  md.push('', '| peer runtime, files a browser app ships | bytes | gzip |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(r.footprint.peersBrowser) as [string, any][]) md.push(`| ${k} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} |`);
  const wfBrowser = (fp.js['wasmface.mjs']?.bytes ?? 0) + fp.builds.simd.bytes, wfBrowserGz = (fp.js['wasmface.mjs']?.gzip ?? 0) + fp.builds.simd.gzip;
  md.push(`| wasmface (dist/wasmface.mjs + wasmface.simd.wasm) | ${wfBrowser.toLocaleString('en')} | ${wfBrowserGz.toLocaleString('en')} |`);
  md.push('', '| peer runtime, files loaded in Node (traced) | files | bytes | gzip | wasm |', '|---|---:|---:|---:|---|');
  for (const [k, v] of Object.entries(r.footprint.peersNodeLoaded) as [string, any][]) md.push(`| ${k} | ${v.files} | ${v.bytes.toLocaleString('en')} | ${v.gzip.toLocaleString('en')} | ${v.wasm.map((w: any) => w.file.split('/').pop()).join(', ')} |`);
  md.push('', '| wasm binary | instructions | SIMD instructions | relaxed SIMD |', '|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(r.census)) md.push(`| ${k} | ${v ? v.instructions.toLocaleString('en') : '–'} | ${v ? v.simd.toLocaleString('en') : 'wasm-objdump not installed'} | ${v ? v.relaxed : '–'} |`);
  md.push('', '### Memory of the warm workers (one runtime per process)', '', '| process | max RSS MiB | wasm memories MiB (count) |', '|---|---:|---:|');
  for (const [k, s] of Object.entries(r.stats)) md.push(`| ${k} | ${f1(s.maxRssKB / 1024)} | ${f1(s.wasm.total / 2 ** 20, 2)} (${s.wasm.count}) |`);
  md.push('', 'Read after the timed rounds, before the identify runs. wasmface workers hold two engines (flip on and off), each grown by the 2048x1365 photo; the per-engine figures are in the cold-start table.', '');

  md.push('## 1:N identify (`gallery.search`, top 5, random unit templates of 128 floats)', '', `| gallery size | ${r.builds.map((b) => `${b} median / p90 ms`).join(' | ')} | gallery.add, all templates (relaxed), ms |`, `|---:|${r.builds.map(() => '---:').join('|')}|---:|`);
  const sizes = [...new Set(Object.values(r.identify).flat().map((x) => x.size))].sort((a, b) => a - b);
  for (const s of sizes) md.push(`| ${s.toLocaleString('en')} | ${r.builds.map((b) => { const x = r.identify[b]?.find((y) => y.size === s); return x ? `${ms(x.search)} / ${ms(x.searchP90)}` : '–'; }).join(' | ')} | ${f1(r.identify[r.builds[0]]?.find((y) => y.size === s)?.addMs)} |`);
  md.push('', '(`gallery.add` times are the cost of growing the gallery from the previous size.)', '');

  md.push('## Kernel roofline (bench/kernels.ts)', '', r.kernelsNote, '');
  if (r.kernels) {
    const k = r.kernels;
    md.push(`Ceiling: i32x4.dot_i16x8_s ${f1(k.ceiling.dot, 2)} GMAC/s${k.ceiling.relaxed ? `, relaxed dot ${f1(k.ceiling.relaxed, 2)} GMAC/s` : ''}.`, '',
      '| model | layer | MMAC | scalar | simd | relaxed | simd % ceiling |', '|---|---|---:|---:|---:|---:|---:|');
    for (const x of k.rows) md.push(`| ${x.model} | ${x.layer} | ${f1(x.mmacs)} | ${f1(x.scalar, 2)} | ${f1(x.simd, 2)} | ${f1(x.relaxed, 2)} | ${f1((x.simd / k.ceiling.dot) * 100, 0)} % |`);
    md.push('', 'GMAC/s, one thread.');
  }
  md.push('', '## Peers: how they were run', '',
    ...Object.entries(r.runtimes).filter(([k]) => !k.startsWith('wasmface') && k !== 'baseline').map(([k, v]) => `- ${k}: ${JSON.stringify(v)}`), '',
    `- exported face-api net (ONNX) vs tfjs descriptors: cosine ${r.agreement.exportedEmbedderVsTfjsCosine ? `min ${r.agreement.exportedEmbedderVsTfjsCosine.min.toFixed(5)}, mean ${r.agreement.exportedEmbedderVsTfjsCosine.mean.toFixed(5)} over ${r.agreement.exportedEmbedderVsTfjsCosine.n} crops` : 'not measured'}`,
    `- int8 QDQ vs float outputs (cosine of all outputs on the calibration inputs): ${['detector', 'embedder', 'as0', 'as1'].map((k) => `${k} ${f1(r.agreement.onnxInt8VsFloat?.[k]?.outputCosine, 4)}`).join(', ')}`, '');
  writeFileSync(`${RESULTS}.md`, md.join('\n') + '\n');
  charts(r, rt);
}

function charts(r: Results, rt: Ratio[]): void {
  const W = r.warm, nonScalar = r.builds.filter((b) => b !== 'scalar');
  const v = (k: string, s: string) => W[k]?.[s]?.median ?? null;
  // end to end
  const groups = [
    ...nonScalar.map((b) => ({ label: `wasmface ${b}`, values: [v(`wasmface-${b}`, 'total'), v(`wasmface-${b}-noflip`, 'total'), v(`wasmface-${b}-noflip`, 'noLiveness')] })),
    { label: 'onnxruntime-web float', values: [null, v('ort-float', 'total'), v('ort-float', 'noLiveness')] },
    { label: 'onnxruntime-web int8 QDQ', values: [null, v('ort-int8', 'total'), v('ort-int8', 'noLiveness')] },
    { label: 'face-api SSD, tfjs SIMD', values: [null, null, v('faceapi-ssd-simd', 'total')] },
    { label: 'face-api Tiny, tfjs SIMD', values: [null, null, v('faceapi-tiny-simd', 'total')] },
    { label: 'face-api SSD, tfjs no SIMD', values: [null, null, v('faceapi-ssd-nosimd', 'total')] },
  ];
  writeFileSync(`${OUT}bench-verify.svg`, barChart('verify, image in -> decision, median CPU ms (one thread)', ['default: flip fusion + liveness', 'one embedding pass + liveness', 'one pass, no liveness'], groups, 'CPU milliseconds (lower is better)'));
  // stages, one pass
  const stageGroups = [['detect', 'detectAll', 'detect'], ['align', 'align', 'align'], ['embed (one pass)', 'embed', 'embed'], ['liveness (2 nets)', 'liveness', 'liveness']].map(([label, wfs, ps]) => ({
    label, values: [...nonScalar.map((b) => v(`wasmface-${b}-noflip`, wfs)), v('ort-float', ps), v('ort-int8', ps), label.startsWith('embed') ? v('tfjs-simd-embed', 'embed') : null, label.startsWith('embed') ? v('tfjs-nosimd-embed', 'embed') : null],
  }));
  writeFileSync(`${OUT}bench-stages.svg`, barChart('per stage, median CPU ms (one thread)', [...nonScalar.map((b) => `wasmface ${b}`), 'onnxruntime-web float', 'onnxruntime-web int8', 'tfjs-wasm SIMD', 'tfjs-wasm no SIMD'], stageGroups, 'CPU milliseconds (lower is better)'));
  // ratios chart: x faster, like-for-like rows
  const SHORT: Record<string, string> = {
    'ort-float': 'ORT float', 'ort-int8': 'ORT int8', 'tfjs-simd-embed': 'tfjs SIMD', 'tfjs-nosimd-embed': 'tfjs no SIMD',
    'faceapi-ssd-simd': 'face-api SSD', 'faceapi-tiny-simd': 'face-api Tiny', 'faceapi-ssd-nosimd': 'face-api SSD noSIMD',
    'faceapi-tiny-nosimd': 'face-api Tiny noSIMD', composite: 'ORT+tfjs SIMD',
  };
  const STAGE: [string, string][] = [['detect', 'detect'], ['embed, one pass', 'embed'], ['liveness', 'liveness'],
    ['verify end to end, like for like', 'verify+live'], ['verify without liveness', 'verify w/o live']];
  // the no-SIMD face-api rows (~30x) would squash every other bar; they are in the table
  const pick = rt.map((x) => ({ x, st: STAGE.find(([p]) => x.stage.startsWith(p)) })).filter(({ x, st }) => st && !x.peerKey.endsWith('-nosimd'));
  writeFileSync(`${OUT}bench-ratios.svg`, barChart('wasmface speed-up over each peer (peer / wasmface, median CPU time)', nonScalar.map((b) => `wasmface ${b}`),
    pick.map(({ x, st }) => ({ label: `${st![1]} vs ${SHORT[x.peerKey] ?? x.peerKey}`, values: nonScalar.map((b) => x.wasmface[b]?.faster ?? null) })),
    'x faster (higher is better; flip fusion off, as the peers)', { value: 1, label: 'same speed' }));
  // identify
  const curves = r.builds.map((b) => ({ label: `wasmface ${b}`, points: (r.identify[b] ?? []).map((x) => [x.size, x.search] as [number, number]) })).filter((c) => c.points.length);
  if (curves.length) writeFileSync(`${OUT}bench-identify.svg`, lineChart('1:N gallery.search, median CPU ms vs gallery size', curves, 'templates in the gallery', 'ms', { logX: true, yMin: 0 }));
  // cold start
  const coldKeys = Object.keys(r.cold).filter((k) => k !== 'baseline' && !k.includes('scalar'));
  writeFileSync(`${OUT}bench-cold.svg`, barChart('cold start in a fresh process, median CPU ms', ['create (runtime + models)', 'first verification'], coldKeys.map((k) => ({ label: k, values: [r.cold[k].createCpuMs.median, r.cold[k].firstCpuMs.median] })), 'CPU milliseconds (lower is better)'));
}
