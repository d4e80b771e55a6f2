// FaceEngine end to end on the bundled int8 models and real photos from ../shared/faces: faces found
// (and not found in animal pictures), same/different decisions, typed errors, identical embeddings
// on every build, nothing leaked after dispose. Skips when the models or ../shared are absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createNodeEngine, haveBundledModels, readImageFile, NoFaceError, ImageFormatError, Template, TemplateError, DisposedError, type FaceEngine } from '../../js/node.js';
import { detectFeatures } from '../../js/loader.js';

const SHARED = new URL('../../../shared/faces/', import.meta.url);
const haveFaces = existsSync(new URL('manifest.csv', SHARED));
const skipModels = haveBundledModels() ? undefined : 'no bundled models (run npm run models)';
const skipAll = skipModels ?? (haveFaces ? undefined : '../shared/faces is absent');
const face = (p: string) => readImageFile(new URL(p, SHARED).pathname);

// same-person and different-person pairs taken from pairs.csv (first of each kind per source)
function samplePairs(): { a: string; b: string; same: boolean }[] {
  const rows = readFileSync(new URL('pairs.csv', SHARED), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const pick = (src: string, same: string, n: number) => rows.filter((r) => r[0].startsWith(src) && r[2] === same).slice(0, n).map((r) => ({ a: r[0], b: r[1], same: same === '1' }));
  return [...pick('lfw/', '1', 4), ...pick('lfw/', '0', 4), ...pick('deepface/', '1', 2), ...pick('deepface/', '0', 2)];
}

let engine: FaceEngine;
test('engine loads the bundled models with their pinned checksums', { skip: skipModels }, async () => {
  engine = await createNodeEngine();
  assert.ok(['scalar', 'simd', 'relaxed'].includes(engine.backend));
  assert.match(engine.models.detector, /^yunet/);
  assert.match(engine.models.embedder, /^faceapi/);
});

test('faces are found in photos and tight crops, not in animal pictures', { skip: skipAll }, () => {
  const one = engine.detect(face('deepface/p01/img1.jpg'));
  assert.ok(one.length >= 1, 'a face in a portrait photo');
  const tight = engine.detect(face(readFileSync(new URL('pairs.csv', SHARED), 'utf8').split('\n')[1].split(',')[0]));
  assert.ok(tight.length >= 1, 'a face in a tight LFW crop (padded retry)');
  const f = one[0];
  assert.ok(f.score > 0.6 && f.box.width > 20 && f.landmarks.length === 5);
  assert.ok(f.landmarks[0][0] < f.landmarks[1][0], 'subject right eye is left in the image');
  for (const neg of ['negatives/darknet/dog.jpg', 'negatives/darknet/horses.jpg']) {
    if (existsSync(new URL(neg, SHARED))) assert.equal(engine.detect(face(neg)).length, 0, `no face in ${neg}`);
  }
});

test('same and different people are told apart at the default operating point', { skip: skipAll }, () => {
  const wrong: string[] = [];
  for (const p of samplePairs()) {
    const t = engine.enroll(face(p.a));
    const r = engine.verify(face(p.b), t, { liveness: false });
    if ((r.score >= r.threshold) !== p.same) wrong.push(`${p.a} ${p.b} same=${p.same} score=${r.score.toFixed(3)}`);
    assert.ok(r.timingsMs.total > 0 && r.faces >= 1);
  }
  assert.ok(wrong.length <= 1, `decisions wrong on: ${wrong.join('; ')}`);
});

test('typed errors: no face, bad image, other model, disposed', { skip: skipModels }, async () => {
  const blank = { data: new Uint8Array(200 * 200 * 4).fill(128), width: 200, height: 200, format: 'rgba' as const };
  assert.throws(() => engine.embed(blank), NoFaceError);
  assert.throws(() => engine.detect({ data: new Uint8Array(10), width: 200, height: 200 }), ImageFormatError);
  assert.throws(() => engine.detect({ data: new Uint8Array(0), width: 0, height: 0 }), ImageFormatError);
  assert.throws(() => engine.verify(blank, new Template('another-model', new Float32Array(128).fill(0.1))), TemplateError);
  const e2 = await createNodeEngine({ backend: 'scalar' });
  e2.dispose();
  assert.throws(() => e2.detect(blank), DisposedError);
  assert.equal(e2.wasm.liveRegions(), 0, 'dispose frees every region');
});

test('every build gives identical embeddings and scores', { skip: skipAll }, async () => {
  const backends: ('scalar' | 'simd' | 'relaxed')[] = ['scalar', 'simd', ...(detectFeatures().relaxedSimd ? ['relaxed' as const] : [])];
  const img = face('deepface/p02/' + (readFileSync(new URL('manifest.csv', SHARED), 'utf8').match(/deepface\/p02\/([^,]+)/)?.[1] ?? 'img1.jpg'));
  const results = [];
  for (const backend of backends) {
    const e = await createNodeEngine({ backend });
    const r = e.embed(img);
    results.push({ backend, bytes: Buffer.from(r.embedding.buffer).toString('hex'), live: e.liveness(img)?.score });
    e.dispose();
  }
  for (const r of results.slice(1)) {
    assert.equal(r.bytes, results[0].bytes, `${r.backend} embedding differs from ${results[0].backend}`);
    assert.equal(r.live, results[0].live, `${r.backend} liveness differs`);
  }
});

test('galleries identify enrolled people and forget removed ones', { skip: skipAll }, () => {
  const g = engine.createGallery();
  const people = samplePairs().filter((p) => p.same).slice(0, 3);
  people.forEach((p, i) => g.add(`person${i}`, engine.enroll(face(p.a))));
  const { matches } = engine.identify(face(people[1].b), g, { topK: 3, liveness: false });
  assert.equal(matches[0].id, 'person1');
  assert.ok(g.remove('person1'));
  assert.ok(!engine.identify(face(people[1].b), g, { liveness: false }).matches.some((m) => m.id === 'person1'));
  assert.throws(() => g.add('x', new Template('other', new Float32Array(128).fill(0.1))), TemplateError);
  g.clear();
});

test('dispose', { skip: skipModels }, () => { engine.dispose(); });

test('large frames are halved on the way in, faces come back in the caller\'s coordinates, memory stays bounded', { skip: skipModels }, async () => {
  const e = await createNodeEngine();
  const small = readImageFile(new URL('../../examples/images/person-a-1.jpg', import.meta.url).pathname);
  const k = 4, W = small.width * k, H = small.height * k, big = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) big.set(small.data.subarray(((y >> 2) * small.width + (x >> 2)) * 4, ((y >> 2) * small.width + (x >> 2)) * 4 + 4), (y * W + x) * 4);
  const a = e.detect(small)[0], b = e.detect({ data: big, width: W, height: H })[0];
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    // a mapping bug would be off by a factor of 2; detector scale changes move boxes by a few per cent
    assert.ok(Math.abs(b.box[key] - k * a.box[key]) < 0.12 * k * a.box.width, `${key}: ${b.box[key]} vs ${k * a.box[key]}`);
  }
  assert.ok(b.landmarks.every(([x, y]) => x > 0 && x < W && y > 0 && y < H));
  e.embed({ data: big, width: W, height: H });
  const mb = e.wasm.memory.buffer.byteLength / 1048576;
  assert.ok(mb < 24, `wasm memory after a ${W}x${H} frame: ${mb.toFixed(1)} MB`);
  e.dispose();
});

test('coarse-first detection finds the same face and nearly the same embedding, and is rejected out of range', { skip: skipModels }, async () => {
  const full = await createNodeEngine(), coarse = await createNodeEngine({ detector: { coarseSide: 320 } });
  const img = readImageFile(new URL('../../examples/images/person-a-1.jpg', import.meta.url).pathname);
  assert.ok(Math.max(img.width, img.height) > 320, 'the sample must be larger than the coarse side for this test to mean anything');
  const a = full.embed(img), b = coarse.embed(img);
  let cos = 0;
  for (let i = 0; i < a.embedding.length; i++) cos += a.embedding[i] * b.embedding[i];
  // landmarks from a half-resolution pass move by about a pixel: the same person by a wide margin, not bit-identical
  assert.ok(cos > 0.97 && cos < 1, `cosine full vs coarse ${cos}`);
  for (const key of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(a.face.box[key] - b.face.box[key]) < 0.1 * a.face.box.width, key);
  await assert.rejects(createNodeEngine({ detector: { coarseSide: 1000 } }), /coarseSide/);
  full.dispose(); coarse.dispose();
});

test('growing frames keep wasm memory within budget: strips in, large buffers placed again together, crops read in place', { skip: skipModels }, async () => {
  const e = await createNodeEngine();
  try {
    const t = e.enroll(readImageFile(new URL('../../examples/images/person-a-1.jpg', import.meta.url).pathname));
    const base = readImageFile(new URL('../../examples/images/person-a-2.jpg', import.meta.url).pathname);
    // nearest-neighbour enlargements of a 480x360 photo, up to 1280 px (the largest size maxFrameSide keeps)
    const enlarged = (f: number) => {
      const w = Math.round(base.width * f), h = Math.round(base.height * f), d = new Uint8ClampedArray(w * h * 4);
      for (let y = 0; y < h; y++) {
        const sy = Math.min(base.height - 1, Math.floor(y / f));
        for (let x = 0; x < w; x++) {
          const s = (sy * base.width + Math.min(base.width - 1, Math.floor(x / f))) * 4;
          d.set(base.data.subarray(s, s + 4), (y * w + x) * 4);
        }
      }
      return { data: d, width: w, height: h, format: 'rgba' as const };
    };
    const scores: number[] = [];
    for (const f of [1, 1.5, 2.3, 2.666]) scores.push(e.verify(enlarged(f), t).score);
    const peak = e.wasm.memory.buffer.byteLength;
    for (const f of [1, 2.666, 1.5]) e.verify(enlarged(f), t);
    assert.equal(e.wasm.memory.buffer.byteLength, peak, 'no growth once the largest frame was seen');
    // models (6.7 MB of files, 6.5 MB packed) + activation arena + one set of frame buffers; before the
    // strips, the release of large buffers and the in-place crops this sequence grew it to 23.4 MiB
    assert.ok(peak <= 16.5 * 2 ** 20, `wasm memory ${(peak / 2 ** 20).toFixed(2)} MiB after a 1280x960 frame`);
    for (const s of scores) assert.ok(s > 0.95, `enlarged copies still match (${scores.join(', ')})`);
  } finally {
    e.dispose();
  }
});
