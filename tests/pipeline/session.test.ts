// Live capture: a synthesised camera sequence made from a dev photo (dark, tiny, blurred, then good
// frames) goes through FaceSession: each bad frame gets the right guidance, the good ones are fused
// into a decision. An impostor's sequence ends in no-match; enrolment fuses good frames into a template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createNodeEngine, readImageFile, GUIDANCE_TEXT, type ImageInput } from '../../js/node.js';

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
