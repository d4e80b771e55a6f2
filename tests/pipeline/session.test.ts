// Live capture: a synthesised camera sequence made from a dev photo (dark, tiny, blurred, then good
// frames) goes through FaceSession: each bad frame gets the right guidance, the good ones are fused
// into a decision. An impostor's sequence ends in no-match; enrolment fuses good frames into a template.
// Options are checked at creation, and a session always ends: by its budget, at a clock it cannot
// read, or at a frame limit when the clock stands still (property-tested).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createNodeEngine, readImageFile, GUIDANCE_TEXT, type ImageInput } from '../../js/node.js';
import { FaceSession, MAX_SESSION_FRAME_RATE, type SessionOptions, type SessionUpdate } from '../../js/session.js';
import type { FaceEngine, FrameAnalysis } from '../../js/engine.js';
import { Template } from '../../js/template.js';
import { WasmfaceError } from '../../js/errors.js';
import { mulberry32 } from '../../tools/rng.js';

const skip = existsSync(new URL('../../models/manifest.json', import.meta.url)) ? undefined : 'no bundled models';
const img = (n: string) => readImageFile(new URL(`../../examples/images/${n}`, import.meta.url).pathname);

/** Frame transforms a camera could produce. */
const darken = (f: ImageInput, k: number): ImageInput => ({ ...f, data: Uint8Array.from(f.data, (v, i) => (i % 4 === 3 ? v : v * k)) });
function shrinkInto(f: ImageInput, factor: number): ImageInput {
  const w = f.width, h = f.height, out = new Uint8Array(w * h * 4).fill(90);
  for (let y = 0; y < Math.floor(h / factor); y++) for (let x = 0; x < Math.floor(w / factor); x++) {
    const s = (Math.floor(y * factor) * w + Math.floor(x * factor)) * 4, d = ((y + Math.floor(h / 3)) * w + x + Math.floor(w / 3)) * 4;
    out.set(f.data.subarray(s, s + 4), d);
  }
  return { ...f, data: out };
}
function blur(f: ImageInput, r: number): ImageInput {
  const w = f.width, h = f.height, out = new Uint8Array(f.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 4; c++) {
    let s = 0, n = 0;
    for (let dx = -r; dx <= r; dx++) { const xx = Math.min(w - 1, Math.max(0, x + dx)); s += f.data[(y * w + xx) * 4 + c]; n++; }
    out[(y * w + x) * 4 + c] = s / n;
  }
  const out2 = new Uint8Array(out.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 4; c++) {
    let s = 0, n = 0;
    for (let dy = -r; dy <= r; dy++) { const yy = Math.min(h - 1, Math.max(0, y + dy)); s += out[(yy * w + x) * 4 + c]; n++; }
    out2[(y * w + x) * 4 + c] = s / n;
  }
  return { ...f, data: out2 };
}

test('a camera sequence gets guidance on bad frames and a fused match decision', { skip }, async () => {
  const e = await createNodeEngine();
  const template = e.enroll(img('person-a-1.jpg'));
  const good = img('person-a-2.jpg');
  let clock = 0;
  const session = e.createSession({ mode: 'verify', template, frames: 3, earlyMargin: Infinity, now: () => clock });
  const seq: [ImageInput, string][] = [[darken(good, 0.15), GUIDANCE_TEXT['too-dark']], [shrinkInto(good, 6), GUIDANCE_TEXT['move-closer']], [blur(good, 6), GUIDANCE_TEXT['hold-still']]];
  for (const [frame, want] of seq) {
    const u = session.push(frame);
    clock += 100;
    assert.equal(u.state, 'collecting');
    assert.ok(u.guidance.includes(want), `expected "${want}", got ${JSON.stringify(u.guidance)}`);
    assert.equal(u.goodFrames, 0);
  }
  let u = session.push(good);
  for (let i = 0; i < 5 && !u.done; i++) { clock += 100; u = session.push(good); }
  assert.equal(u.state, 'match', JSON.stringify({ ...u, quality: undefined }));
  assert.equal(u.goodFrames, 3);
  assert.ok(u.score! >= e.threshold('far1e-3') && u.liveness! >= 0.5);
  assert.deepEqual(u.guidance, []);
  assert.equal(session.push(darken(good, 0.1)).state, 'match', 'decided sessions stay decided');
  e.dispose();
});

test('an impostor ends in no-match, a clear frame decides early, an empty scene times out', { skip }, async () => {
  const e = await createNodeEngine();
  const template = e.enroll(img('person-a-1.jpg'));
  let clock = 0;
  const impostor = e.createSession({ mode: 'verify', template, now: () => clock });
  let u = impostor.push(img('person-b-1.jpg'));
  while (!u.done) { clock += 50; u = impostor.push(img('person-b-1.jpg')); }
  assert.equal(u.state, 'no-match');
  assert.equal(e.createSession({ mode: 'verify', template }).push(img('person-a-2.jpg')).state, 'match', 'early decision on a clear frame');
  clock = 0;
  const empty = e.createSession({ mode: 'verify', template, budgetMs: 1000, now: () => clock });
  const blank = { data: new Uint8Array(160 * 120 * 4).fill(120), width: 160, height: 120 };
  assert.deepEqual(empty.push(blank).guidance, [GUIDANCE_TEXT['no-face']]);
  clock = 1500;
  assert.equal(empty.push(blank).state, 'timeout');
  e.dispose();
});

test('enrolment from frames fuses only good ones into a template', { skip }, async () => {
  const e = await createNodeEngine();
  const s = e.createSession({ mode: 'enroll', frames: 2 });
  assert.equal(s.push(darken(img('person-a-1.jpg'), 0.15)).goodFrames, 0);
  s.push(img('person-a-1.jpg'));
  const u = s.push(img('person-a-2.jpg'));
  assert.equal(u.state, 'enrolled');
  assert.equal(u.template!.images, 2);
  assert.ok(e.verify(img('person-a-2.jpg'), u.template!).match);
  e.dispose();
});

// ---- options and termination -------------------------------------------------------------------

/** A tiny gray frame: no face, one cheap pipeline pass. */
const gray = { data: new Uint8Array(16 * 16 * 4).fill(120), width: 16, height: 16 };
const isOptionError = (field: string) => (e: unknown) => {
  assert.ok(e instanceof WasmfaceError && e.code === 'E_OPTION', `${field}: ${String(e)}`);
  assert.ok(e.message.includes(field), `the message names ${field}: ${e.message}`);
  return true;
};

test('session options are checked at creation (E_OPTION naming the field, its range and the value)', { skip }, async () => {
  const e = await createNodeEngine();
  const template = e.enroll(img('person-a-1.jpg'));
  const verify = (o: object) => () => e.createSession({ mode: 'verify', template, ...o } as SessionOptions);
  // (before: frames NaN / budgetMs NaN collected forever, an unknown mode was an enrol session)
  const bad: [string, unknown][] = [
    ['frames', NaN], ['frames', 0], ['frames', 101], ['frames', 2.5], ['frames', '3'], ['frames', Infinity], ['frames', null],
    ['budgetMs', NaN], ['budgetMs', 0], ['budgetMs', -1], ['budgetMs', Infinity], ['budgetMs', 600_001], ['budgetMs', '5000'],
    ['earlyMargin', NaN], ['earlyMargin', -0.1], ['earlyMargin', -Infinity], ['earlyMargin', '0.02'],
    ['threshold', NaN], ['threshold', 1.5], ['threshold', -2], ['threshold', Infinity], ['threshold', '0.5'],
    ['operatingPoint', 5], ['operatingPoint', ''], ['operatingPoint', null],
    ['liveness', 'yes'], ['liveness', 1], ['liveness', null],
    ['template', template.toBytes()], ['template', {}], ['template', null], ['template', { modelId: template.modelId, embedding: template.embedding }],
    ['now', 5], ['now', 'performance.now'], ['now', null],
  ];
  for (const [field, value] of bad) assert.throws(verify({ [field]: value }), isOptionError(field), `${field}: ${String(value)}`);
  for (const mode of ['verfy', undefined, 5, 'ENROLL']) assert.throws(() => e.createSession({ mode } as unknown as SessionOptions), isOptionError('mode'));
  assert.throws(() => e.createSession({ mode: 'verify' }), isOptionError('template'));
  assert.throws(() => e.createSession({ mode: 'enroll', template }), isOptionError('template'));
  for (const key of ['budget', 'frame', 'timeoutMs']) {
    assert.throws(verify({ [key]: 1 }), (err: unknown) => isOptionError(key)(err) && /known: mode, template/.test((err as Error).message));
  }
  for (const options of [null, 5, [], 'verify']) assert.throws(() => e.createSession(options as unknown as SessionOptions), (err: unknown) => err instanceof WasmfaceError && err.code === 'E_OPTION');
  assert.throws(verify({ operatingPoint: 'far1e-9' }), (err: unknown) => err instanceof WasmfaceError && err.code === 'E_OPERATING_POINT');
  assert.throws(verify({ operatingPoint: 'constructor' }), (err: unknown) => err instanceof WasmfaceError && /operatingPoint/.test(err.message));
  // the edges are accepted
  for (const o of [{ frames: 1 }, { frames: 100 }, { budgetMs: 1 }, { budgetMs: 600_000 }, { earlyMargin: 0 }, { earlyMargin: Infinity }, { threshold: -1 }, { threshold: 1 }, { liveness: false }, { operatingPoint: 'far1e-3', threshold: 0.4 }]) verify(o)();
  e.dispose();
});

test('a session whose clock breaks ends (timeout, with the reason) instead of collecting forever', { skip }, async () => {
  const e = await createNodeEngine();
  const template = e.enroll(img('person-a-1.jpg'));
  // (before: a NaN clock never reached the budget: 'collecting' forever)
  for (const bad of [NaN, undefined, Infinity, -Infinity, '100', null, {}, 10n]) {
    let clock: unknown = 0;
    const s = e.createSession({ mode: 'verify', template, now: () => clock as number });
    assert.equal(s.push(gray).done, false);
    clock = bad;
    const u = s.push(gray);
    assert.equal(u.state, 'timeout', String(bad));
    assert.ok(u.done && /session clock returned/.test(u.reason ?? ''), `${String(bad)}: ${u.reason}`);
    assert.equal(s.push(img('person-a-2.jpg')).state, 'timeout', 'ended sessions stay ended');
  }
  let clock = 1000;
  const back = e.createSession({ mode: 'enroll', now: () => clock });
  back.push(gray);
  clock = 900;
  const u = back.push(gray);
  assert.ok(u.done && u.state === 'timeout' && /went backwards/.test(u.reason!), u.reason);
  const throwing = e.createSession({ mode: 'enroll', now: () => { throw new Error('rtc'); } });
  assert.match(throwing.push(gray).reason!, /clock threw \(rtc\)/);
  // a clock that stands still: the frame limit ends it
  const stuck = e.createSession({ mode: 'verify', template, budgetMs: 1000, now: () => 5 });
  let last: SessionUpdate | undefined, n = 0;
  while (!(last = stuck.push(gray)).done) assert.ok(++n < 10_000, 'a stuck clock must not keep a session open');
  assert.equal(last.frames, 3 + MAX_SESSION_FRAME_RATE);
  assert.match(last.reason!, /frame limit/);
  e.dispose();
});

test('options are copied at creation: changing them afterwards cannot extend the budget', { skip }, async () => {
  const e = await createNodeEngine();
  let clock = 0;
  const options: SessionOptions = { mode: 'enroll', budgetMs: 1000, now: () => clock };
  const s = e.createSession(options);
  s.push(gray);
  // (before: the budget was read from the caller's object on every push)
  options.budgetMs = NaN;
  options.now = () => 0;
  clock = 1001;
  assert.equal(s.push(gray).state, 'timeout');
  e.dispose();
});

// A stand-in engine for the property test (thousands of sessions): no faces, operating points like the real one's.
function stubEngine(antispoof: string[]): FaceEngine {
  const points: Record<string, number> = { 'far1e-3': 0.45, 'far1e-4': 0.55 };
  const noFace: FrameAnalysis = {
    faces: 0, face: null, embedding: null, liveness: null,
    quality: { faceSize: 0, faceShare: 0, inside: 0, offset: [0, 0], yaw: 0, pitch: 0, roll: 0, sharpness: 0, brightness: 0, clipped: 0, score: 0, guidance: ['no-face'], ok: false },
  };
  return {
    models: { detector: 'd', embedder: 'stub-embedder', antispoof },
    livenessThreshold: 0.5,
    threshold(op = 'far1e-3') {
      if (!Object.prototype.hasOwnProperty.call(points, op)) throw new WasmfaceError('E_OPERATING_POINT', `no operating point '${op}'`);
      return points[op];
    },
    analyze: () => noFace,
    compareEmbeddings: () => 0,
  } as unknown as FaceEngine;
}

const JSONISH: readonly unknown[] = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 2.5, 3, 5, 100, 101, 1e9, -1e9, '', 'x', 'verify', 'enroll', 'far1e-3', 'far1e-9', '__proto__', '5', true, false, null, [], [1], {}, { a: 1 }];
function randomJson(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  if (r < 0.5) return JSONISH[Math.floor(rnd() * JSONISH.length)];
  if (r < 0.7) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 8);
  if (r < 0.8) return Math.floor(rnd() * 700_000);
  if (r < 0.9 && depth < 2) return Array.from({ length: Math.floor(rnd() * 3) }, () => randomJson(rnd, depth + 1));
  if (depth < 2) return { [String(randomJson(rnd, 2))]: randomJson(rnd, depth + 1) };
  return null;
}

/**
 * The push (1-based) at which a no-face session must end: the first reading past the budget, a
 * reading that is not a finite number or goes backwards, or the frame limit, whichever comes first.
 */
function expectedEnd(readings: unknown[], budgetMs: number, need: number): number {
  const limit = need + Math.ceil((budgetMs / 1000) * MAX_SESSION_FRAME_RATE);
  for (let k = 0; k < readings.length; k++) {
    const v = readings[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || (k > 0 && v < (readings[k - 1] as number))) return k + 1;
    if (v - (readings[0] as number) > budgetMs || k + 1 >= limit) return k + 1;
  }
  return Infinity;
}

function runSession(s: FaceSession, frame: ImageInput, readings: unknown[], setClock: (v: unknown) => void, budgetMs: number, need: number, label: string): void {
  const end = expectedEnd(readings, budgetMs, need);
  assert.ok(end <= readings.length, `${label}: the clock model must reach an end`);
  for (let k = 0; k < end; k++) {
    setClock(readings[k]);
    const u = s.push(frame);
    assert.equal(u.done, k + 1 === end, `${label}: push ${k + 1}, expected the end at push ${end}: ${JSON.stringify({ ...u, quality: undefined })}`);
    if (u.done) assert.equal(u.state, 'timeout', label);
  }
}

/** Clock readings: advancing in steps, standing still, or breaking (NaN, garbage, backwards) at some push. */
function randomReadings(rnd: () => number, budgetMs: number, maxPushes: number): unknown[] {
  const start = Math.floor(rnd() * 1e6);
  // (a clock standing still or crawling runs to the frame limit: kept to short budgets, for speed)
  const steps = budgetMs <= 5000 ? [0, 1, 7, 33, budgetMs / 100, budgetMs / 3, budgetMs + 1] : [budgetMs / 1000, budgetMs / 100, budgetMs / 3, budgetMs + 1];
  const step = steps[Math.floor(rnd() * steps.length)];
  const breakAt = rnd() < 0.4 ? 1 + Math.floor(rnd() * 50) : -1;
  const readings: unknown[] = [];
  for (let k = 0; k < maxPushes; k++) {
    if (k === breakAt) { readings.push(rnd() < 0.3 ? start + (k - 1) * step - 1 - rnd() * 1000 : JSONISH[Math.floor(rnd() * 9)]); break; }
    readings.push(start + k * step);
  }
  return readings;
}

test('property: any JSON value for any option gives a typed error or a session that ends by its budget', () => {
  const rnd = mulberry32(0x5e55);
  const template = new Template('stub-embedder', Float32Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 : 0)));
  const keys = ['mode', 'template', 'operatingPoint', 'threshold', 'frames', 'budgetMs', 'liveness', 'earlyMargin', 'now'] as const;
  let made = 0, refused = 0;
  for (let c = 0; c < 3000; c++) {
    const engine = stubEngine(rnd() < 0.5 ? [] : ['as']);
    let clock: unknown = 0;
    const modelClock = () => clock as number;
    const o: Record<string, unknown> = { mode: rnd() < 0.45 ? 'verify' : rnd() < 0.8 ? 'enroll' : randomJson(rnd) };
    if (o.mode === 'verify' || rnd() < 0.1) o.template = rnd() < 0.85 ? template : randomJson(rnd);
    const plausible: Record<string, () => unknown> = {
      operatingPoint: () => (rnd() < 0.8 ? 'far1e-3' : 'far1e-4'), threshold: () => rnd() * 2 - 1, frames: () => 1 + Math.floor(rnd() * 100),
      budgetMs: () => (rnd() < 0.5 ? 1 + Math.floor(rnd() * 3000) : rnd() * 600_000 + 1), liveness: () => rnd() < 0.5, earlyMargin: () => (rnd() < 0.2 ? Infinity : rnd() * 0.1), now: () => modelClock,
    };
    for (const k of keys.slice(2)) if (rnd() < 0.35) o[k] = rnd() < 0.7 ? plausible[k]() : randomJson(rnd);
    if (rnd() < 0.05) o[String(randomJson(rnd))] = randomJson(rnd);
    o.now ??= modelClock;
    let s: FaceSession;
    try {
      s = new FaceSession(engine, o as unknown as SessionOptions);
    } catch (e) {
      assert.ok(e instanceof WasmfaceError && (e.code === 'E_OPTION' || e.code === 'E_OPERATING_POINT'), `case ${c}: ${String(e)} for ${String(Object.entries(o))}`);
      refused++;
      continue;
    }
    made++;
    // what was accepted is within its documented range
    const { frames, budgetMs, threshold, earlyMargin, liveness } = o as Record<string, number | boolean | undefined>;
    assert.ok(o.mode === 'verify' || o.mode === 'enroll', `case ${c}: mode ${String(o.mode)}`);
    assert.ok(frames === undefined || (Number.isInteger(frames) && (frames as number) >= 1 && (frames as number) <= 100), `case ${c}: frames ${frames}`);
    assert.ok(budgetMs === undefined || (Number.isFinite(budgetMs) && (budgetMs as number) >= 1 && (budgetMs as number) <= 600_000), `case ${c}: budgetMs ${budgetMs}`);
    assert.ok(threshold === undefined || (Number.isFinite(threshold) && Math.abs(threshold as number) <= 1), `case ${c}: threshold ${threshold}`);
    assert.ok(earlyMargin === undefined || (typeof earlyMargin === 'number' && earlyMargin >= 0), `case ${c}: earlyMargin ${earlyMargin}`);
    assert.ok(liveness === undefined || typeof liveness === 'boolean', `case ${c}: liveness ${liveness}`);
    assert.equal(o.now, modelClock);
    const budget = (budgetMs as number | undefined) ?? 5000;
    const need = (frames as number | undefined) ?? (o.mode === 'enroll' ? 5 : 3);
    runSession(s, gray, randomReadings(rnd, budget, need + Math.ceil((budget / 1000) * MAX_SESSION_FRAME_RATE)), (v) => { clock = v; }, budget, need, `case ${c}`);
  }
  assert.ok(made > 500 && refused > 500, `the generator must exercise both paths (${made} made, ${refused} refused)`);
});

test('property, real engine: 10,000 frames without a face end by the budget, or by the frame limit on a clock standing still', { skip }, async () => {
  const e = await createNodeEngine();
  const template = e.enroll(img('person-a-1.jpg'));
  const rnd = mulberry32(0xfa11);
  // advancing by 61 ms a push (600 s take 9,838 pushes), or standing still (the frame limit ends it)
  for (const [mode, budgetMs, frames, step] of [['verify', 600_000, 3, 61], ['enroll', 5000, 5, 61], ['verify', 1, 1, 61], ['verify', 5000, 3, 0], ['enroll', 2000, 100, 0]] as const) {
    let clock: unknown = 0;
    const s = e.createSession({ mode, budgetMs, frames, now: () => clock as number, ...(mode === 'verify' && { template }) });
    const start = Math.floor(rnd() * 1e6);
    const readings = Array.from({ length: 10_000 }, (_, k) => start + step * k);
    runSession(s, gray, readings, (v) => { clock = v; }, budgetMs, frames, `${mode} ${budgetMs} ms`);
  }
  e.dispose();
});
