// Seeded fuzzing of what callers hand the engine besides models: templates (plain and sealed:
// truncated, extended, mutated, other versions), images (sizes, lengths, formats, types) and options
// (NaN thresholds...). Every case is a typed error or a correct answer, and afterwards the engine
// still gives the reference result. WASMFACE_FUZZ_CASES raises the counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rng } from '../helpers/builds.js';
import { Template, TemplateError } from '../../js/template.js';
import { WasmfaceError } from '../../js/errors.js';

const CASES = Number(process.env.WASMFACE_FUZZ_CASES ?? 2000);
const haveModels = existsSync(new URL('../../models/manifest.json', import.meta.url));

function mutate(r: ReturnType<typeof rng>, bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  switch (r.int(0, 3)) {
    case 0: return b.subarray(0, r.int(0, b.length - 1));
    case 1: return Uint8Array.from([...b, ...r.i8(r.int(1, 40)).map((v) => v & 255)]);
    case 2: for (let i = r.int(1, 4); i > 0; i--) b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7); return b;
    default: { const v = new DataView(b.buffer); v.setUint16(r.pick([4, 6, 8, 10, 12]), r.pick([0, 1, 2, 0xffff, 128, 4097]), true); return b; }
  }
}

test('mutated templates: TemplateError or an identical template, never anything else', async () => {
  const r = rng(31);
  const raw = Float32Array.from({ length: 128 }, () => r.next() - 0.5);
  const emb = raw.map((v) => v / Math.hypot(...raw));
  const good = new Template('faceapi-recognition', emb, 2);
  const plain = good.toBytes();
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
  const sealed = await good.seal(key, { owner: 'person-1' });
  const counts = { refused: 0, accepted: 0 };
  for (let c = 0; c < CASES; c++) {
    const isSealed = c % 4 === 0;
    const bytes = mutate(r, isSealed ? sealed : plain);
    try {
      const t = isSealed ? await Template.unseal(bytes, key, { modelId: 'faceapi-recognition', owner: 'person-1' }) : Template.fromBytes(bytes, 'faceapi-recognition');
      assert.deepEqual(t.embedding, emb, `case ${c}: accepted a template with a different embedding`);
      counts.accepted++;
    } catch (e) {
      assert.ok(e instanceof TemplateError, `case ${c}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
      counts.refused++;
    }
  }
  console.log(`template fuzz: ${CASES} mutated templates, ${counts.refused} refused with TemplateError, ${counts.accepted} unchanged-and-accepted`);
});

test('hostile images and options: typed errors, and the engine still answers correctly', { skip: haveModels ? undefined : 'no bundled models' }, async () => {
  const { createNodeEngine, readImageFile } = await import('../../js/node.js');
  const e = await createNodeEngine();
  const probe = readImageFile(new URL('../../examples/images/person-a-2.jpg', import.meta.url).pathname);
  const t = e.enroll(readImageFile(new URL('../../examples/images/person-a-1.jpg', import.meta.url).pathname));
  const reference = e.verify(probe, t).score;
  const r = rng(32);
  const formats = ['rgba', 'bgra', 'rgb', 'bgr', 'gray', 'nv21', 'nv12', 'i420', 'yuv', undefined];
  const counts: Record<string, number> = {};
  const n = Math.min(CASES, 400);
  for (let c = 0; c < n; c++) {
    const w = r.pick([0, -1, 1, 2, 3, 31, 64, 101, NaN, 1.5, 20000]), h = r.pick([0, 1, 2, 17, 48, 64, Infinity]);
    const format = r.pick(formats);
    const len = r.pick([0, 1, Number.isFinite(w * h) && w > 0 && h > 0 ? w * h * r.pick([1, 3, 4]) : 5, Number.isFinite(w * h) && w > 0 && h > 0 ? w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2) : 7]);
    const data = r.next() < 0.9 ? Uint8Array.from({ length: Math.max(0, Math.min(len, 1 << 20)) }, () => r.int(0, 255)) : r.pick([new Float32Array(8), [1, 2, 3], null, 'x']);
    const image = { data, width: w, height: h, format } as never;
    try {
      const what = r.int(0, 3);
      if (what === 0) e.detect(image);
      else if (what === 1) e.embed(image);
      else if (what === 2) e.verify(image, t, { threshold: r.pick([0.5, NaN, 2, -Infinity, undefined]) as number });
      else e.liveness(image);
      counts.ok = (counts.ok ?? 0) + 1;
    } catch (err) {
      assert.ok(err instanceof WasmfaceError, `case ${c} (${w}x${h} ${format} len ${len}): ${(err as Error).constructor.name}: ${(err as Error).message}`);
      counts[(err as WasmfaceError).code] = (counts[(err as WasmfaceError).code] ?? 0) + 1;
    }
  }
  assert.equal(e.verify(probe, t).score, reference, 'engine state intact: same score as before the fuzz');
  assert.throws(() => e.verify(probe, t, { threshold: NaN }), /threshold/);
  for (const bad of [{ detector: { scoreThreshold: NaN } }, { detector: { maxSide: 0 } }, { liveness: { threshold: 2 } }]) {
    await assert.rejects(createNodeEngine(bad), (x: unknown) => x instanceof WasmfaceError && (x as WasmfaceError).code === 'E_OPTION');
  }
  e.dispose();
  console.log(`image/option fuzz: ${n} calls: ${JSON.stringify(counts)}`);
});
