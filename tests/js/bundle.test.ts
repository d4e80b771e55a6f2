// Fleet bundles (js/bundle.ts, js/cli/bundle.ts): gallery bundles (full and delta) into a real
// engine's gallery with identification afterwards; signed model + gallery bundles made by the CLI and
// loaded into a new engine through the core API; every refusal with its typed code (tampered,
// unsigned, wrong key, roll-back, wrong kind or model, wrong delta base); and seeded mutation fuzz
// (truncation, byte flips, hostile header fields, garbage, re-signed and re-hashed mutations) that
// must only ever produce BundleError. The engine parts skip when models/manifest.json is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createNodeEngine, nodeWasmSources, readImageFile, FaceEngine, Template, TemplateError } from '../../js/node.js';
import { PINNED_MODELS } from '../../js/pinned-models.js';
import {
  BundleError, MemoryBundleStateStore, encodeGalleryBundle, parseGalleryBundle, exportGalleryBundle, diffGalleryBundles, applyGalleryBundle,
  generateBundleKeys, importBundlePublicKey, importBundlePrivateKey, signBundle, packUnsignedBundle, verifyBundle, inspectBundle,
  modelsFromBundle, pinsFromBundle, galleryFromBundle, applySignedGalleryBundle, describeModel, galleryStateKey,
  type BundleStateStore, type GalleryLike,
} from '../../js/bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skipModels = existsSync(join(ROOT, 'models/manifest.json')) ? undefined : 'models/manifest.json is absent (run npm run models)';
const image = (name: string) => readImageFile(join(ROOT, 'examples/images', name));
const MODEL = 'faceapi-recognition';
const CODES = ['E_BUNDLE_FORMAT', 'E_BUNDLE_UNSIGNED', 'E_BUNDLE_SIGNATURE', 'E_BUNDLE_TAMPERED', 'E_BUNDLE_ROLLBACK', 'E_BUNDLE_KIND', 'E_BUNDLE_BASE', 'E_BUNDLE_KEY'];

async function refused(p: Promise<unknown>, code: string, what = code): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BundleError, `${what}: expected BundleError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** A unit template of a made-up person (no engine needed). */
function fakeTemplate(seed: number, modelId = MODEL): Template {
  const r = rng(seed), e = Float32Array.from({ length: 128 }, () => r() - 0.5);
  const n = Math.hypot(...e);
  return new Template(modelId, e.map((v) => v / n));
}

/** An in-memory GalleryLike (what the CLI does with its JSON file). */
class MapGallery implements GalleryLike {
  readonly map = new Map<string, Template>();
  constructor(readonly modelId = MODEL) {}
  add(id: string, t: Template): void { this.map.set(id, t); }
  remove(id: string): boolean { return this.map.delete(id); }
  get(id: string): Template | null { return this.map.get(id) ?? null; }
  clear(): void { this.map.clear(); }
  entries(): { id: string; template: Template }[] { return [...this.map].map(([id, template]) => ({ id, template })); }
}

const fullBundle = (version: number, ids: string[], name = 'site-a/people', modelId = MODEL) =>
  encodeGalleryBundle({ kind: 'full', name, modelId, version, createdAt: 1_700_000_000_000 + version, entries: ids.map((id, i) => ({ id, template: fakeTemplate(i + id.length * 31, modelId), meta: { enrolledAt: `2025-01-0${(i % 9) + 1}` } })) });

let engine: FaceEngine | undefined;
const engineTemplates: Record<string, Template> = {};

test('gallery bundles: full and delta into a real engine gallery, identification after import', { skip: skipModels }, async () => {
  engine = await createNodeEngine();
  for (const [id, file] of [['alice', 'person-a-1.jpg'], ['bob', 'person-b-1.jpg'], ['carol', 'person-c-1.jpg']]) engineTemplates[id] = engine.enroll(image(file));
  const threshold = engine.threshold('far1e-3');

  // back-end: a live gallery, exported with metadata
  const source = engine.createGallery();
  source.add('alice', engineTemplates.alice);
  source.add('bob', engineTemplates.bob);
  const v1 = await exportGalleryBundle(source, { name: 'site-a/people', version: 1, createdAt: new Date('2025-02-01T08:00:00Z'), meta: { alice: { enrolledAt: '2025-01-31T10:00:00Z', images: 1 } } });
  const p1 = await parseGalleryBundle(v1);
  assert.equal(p1.kind, 'full');
  assert.equal(p1.modelId, engine.models.embedder);
  assert.deepEqual(p1.entries.map((e) => e.id), ['alice', 'bob']);
  assert.deepEqual(p1.entries[0].meta, { enrolledAt: '2025-01-31T10:00:00Z', images: 1 });
  assert.equal(p1.createdAt, Date.parse('2025-02-01T08:00:00Z'));

  // terminal: imports v1 into its own gallery and identifies
  const store = new MemoryBundleStateStore();
  const device = engine.createGallery();
  device.add('stale', engineTemplates.carol); // a full bundle replaces whatever was there
  const r1 = await applyGalleryBundle(device, v1, store);
  assert.deepEqual(r1, { name: 'site-a/people', version: 1, added: 2, replaced: 0, removed: 0 });
  assert.deepEqual([...device.members].sort(), ['alice', 'bob']);
  assert.deepEqual(device.get('alice')!.embedding, source.get('alice')!.embedding, 'templates byte-identical after the round trip');
  const a = engine.identify(image('person-a-2.jpg'), device, { topK: 2, liveness: false });
  assert.equal(a.matches[0].id, 'alice');
  assert.ok(a.matches[0].score >= threshold, `alice identified (${a.matches[0].score})`);

  // back-end: carol enrolled, bob removed, alice re-enrolled from two photos -> delta 1 -> 2
  source.add('carol', engineTemplates.carol);
  source.remove('bob');
  source.add('alice', engine.enroll([image('person-a-1.jpg'), image('person-a-2.jpg')]));
  const v2full = await exportGalleryBundle(source, { name: 'site-a/people', version: 2 });
  const delta = await encodeGalleryBundle(diffGalleryBundles(p1, await parseGalleryBundle(v2full)));
  const pd = await parseGalleryBundle(delta);
  assert.equal(pd.kind, 'delta');
  assert.equal(pd.baseVersion, 1);
  assert.deepEqual(pd.entries.map((e) => e.id).sort(), ['alice', 'carol']);
  assert.deepEqual(pd.removed, ['bob']);
  assert.ok(delta.length < v2full.length + 200);
  const r2 = await applyGalleryBundle(device, delta, store);
  assert.deepEqual(r2, { name: 'site-a/people', version: 2, added: 1, replaced: 1, removed: 1 });
  assert.deepEqual([...device.members].sort(), ['alice', 'carol']);
  const c = engine.identify(image('person-c-2.jpg'), device, { topK: 2, liveness: false });
  assert.equal(c.matches[0].id, 'carol');
  assert.ok(c.matches[0].score >= threshold);
  assert.ok(engine.identify(image('person-b-1.jpg'), device, { topK: 1, liveness: false }).matches[0].score < threshold, 'bob was removed');
  assert.equal(await store.load(galleryStateKey('site-a/people')), 2);

  // refusals: replay of v1 / the delta, a delta on the wrong base, a delta with no base, another model
  await refused(applyGalleryBundle(device, v1, store), 'E_BUNDLE_ROLLBACK', 'full v1 after v2');
  await refused(applyGalleryBundle(device, delta, store), 'E_BUNDLE_ROLLBACK', 'delta replayed');
  const d13 = await encodeGalleryBundle({ ...diffGalleryBundles(p1, await parseGalleryBundle(v2full)), version: 3, baseVersion: 1 });
  await refused(applyGalleryBundle(device, d13, store), 'E_BUNDLE_BASE', 'delta 1 -> 3 on a gallery at 2');
  await refused(applyGalleryBundle(engine.createGallery(), delta, new MemoryBundleStateStore()), 'E_BUNDLE_BASE', 'delta on an empty gallery');
  const foreign = await fullBundle(9, ['mallory'], 'site-a/people', 'another-embedder');
  await assert.rejects(applyGalleryBundle(device, foreign, store), (e: unknown) => e instanceof TemplateError && e.code === 'E_TEMPLATE_MODEL' && /re-enrol/.test(e.message));
  assert.deepEqual([...device.members].sort(), ['alice', 'carol'], 'a refused bundle changes nothing');
});

test('signed model and gallery bundles from the CLI load into a new engine', { skip: skipModels }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-bundle-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'js/cli/wasmface.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  const ok = (...args: string[]) => { const r = cli(...args); assert.equal(r.status, 0, `wasmface ${args.join(' ')}\n${r.stdout}\n${r.stderr}`); return r.stdout; };
  const f = (name: string) => join(dir, name);
  try {
    // back-end: key, a gallery enrolled with the CLI, exported and signed; models signed (the detector gzip'd)
    assert.match(ok('bundle', 'keygen', '--out', f('keys')), /key [0-9a-f]{16}/);
    assert.equal(readFileSync(f('keys/private.pem'), 'utf8').split('\n')[0], '-----BEGIN PRIVATE KEY-----');
    ok('enroll', '--id', 'alice', '--gallery', f('people.json'), join(ROOT, 'examples/images/person-a-1.jpg'));
    ok('enroll', '--id', 'carol', '--gallery', f('people.json'), join(ROOT, 'examples/images/person-c-1.jpg'));
    ok('bundle', 'export-gallery', '--gallery', f('people.json'), '--out', f('people.wfg'), '--name', 'site-a/people', '--version', '4');
    ok('bundle', 'sign', '--key', f('keys/private.pem'), '--gallery', f('people.wfg'), '--out', f('people.wfb'));
    writeFileSync(f('yunet.wfm.gz'), gzipSync(readFileSync(join(ROOT, 'models/yunet-2023mar.wfm'))));
    const models = ['faceapi-recognition', 'minifasnet-v2-2.7', 'minifasnet-v1se-4.0'].map((m) => join(ROOT, `models/${m}.wfm`));
    const signed = ok('bundle', 'sign', '--key', f('keys/private.jwk'), '--name', 'models/stable', '--version', '7', '--model', f('yunet.wfm.gz'),
      ...models.flatMap((m) => ['--model', m]), '--out', f('models.wfb'), '--note', 'test release');
    assert.match(signed, /detector yunet-2023mar/);

    // a device checking with the CLI: verify records the version, the same bundle again is a roll-back
    assert.match(ok('bundle', 'verify', f('models.wfb'), '--key', f('keys/public.pem'), '--state', f('state.json')), /signature ok/);
    const again = cli('bundle', 'verify', f('models.wfb'), '--key', f('keys/public.pem'), '--state', f('state.json'));
    assert.equal(again.status, 4, 'refused for security: exit 4');
    assert.match(again.stderr, /E_BUNDLE_ROLLBACK/);
    assert.deepEqual(JSON.parse(readFileSync(f('state.json'), 'utf8')), { 'models/stable': 7 });
    assert.match(ok('bundle', 'inspect', f('people.wfb'), '--key', f('keys/public.jwk')), /signature ok[\s\S]*2 members: alice, carol/);
    const wrong = cli('bundle', 'verify', f('people.wfb'), '--key', f('keys/private.pem'));
    assert.equal(wrong.status, 3, 'a private key is not accepted where the device key goes');
    assert.match(wrong.stderr, /E_BUNDLE_KEY/);

    // the device through the core API: verify, load the models with their pins, apply the gallery
    const pub = await importBundlePublicKey(readFileSync(f('keys/public.pem'), 'utf8'));
    const store = new MemoryBundleStateStore();
    const vm = await verifyBundle(pub, new Uint8Array(readFileSync(f('models.wfb'))), store, { kind: 'model' });
    assert.equal(vm.manifest.note, 'test release');
    const m = modelsFromBundle(vm);
    assert.deepEqual(m.pinnedModels, PINNED_MODELS, 'pins of the bundled models (the gzip\'d detector included) equal the shipped ones');
    const device = await FaceEngine.create({ wasm: nodeWasmSources(), models: { detector: m.detector!, embedder: m.embedder!, antispoof: m.antispoof }, pinnedModels: m.pinnedModels });
    try {
      assert.deepEqual(device.models, { detector: 'yunet-2023mar', embedder: MODEL, antispoof: ['minifasnet-v2-2.7', 'minifasnet-v1se-4.0'] });
      const gallery = device.createGallery();
      const r = await applySignedGalleryBundle(gallery, pub, new Uint8Array(readFileSync(f('people.wfb'))), store);
      assert.equal(r.version, 4);
      assert.equal(r.added, 2);
      assert.equal(await store.load('site-a/people'), 4);
      const found = device.identify(image('person-a-2.jpg'), gallery, { topK: 2, liveness: false });
      assert.equal(found.matches[0].id, 'alice');
      assert.ok(found.matches[0].score >= device.threshold('far1e-3'));
      assert.ok(device.verify(image('person-c-2.jpg'), gallery.get('carol')!, { liveness: false }).match);
      await refused(applySignedGalleryBundle(gallery, pub, new Uint8Array(readFileSync(f('people.wfb'))), store), 'E_BUNDLE_ROLLBACK');
    } finally {
      device.dispose();
    }

    // and back to the CLI's gallery JSON: the same templates
    ok('bundle', 'import-gallery', f('people.wfb'), '--key', f('keys/public.pem'), '--gallery', f('back.json'));
    const before = JSON.parse(readFileSync(f('people.json'), 'utf8')), after = JSON.parse(readFileSync(f('back.json'), 'utf8'));
    assert.equal(after.modelId, before.modelId);
    assert.deepEqual(after.members.map((x: { id: string; template: string }) => [x.id, x.template]).sort(), before.members.map((x: { id: string; template: string }) => [x.id, x.template]).sort());
    const identified = ok('identify', '--no-liveness', '--gallery', f('back.json'), join(ROOT, 'examples/images/person-c-2.jpg'));
    assert.match(identified.split('\n')[0], /^\* carol:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refused with the right code: tampered, unsigned, wrong key, roll-back, wrong kind', async () => {
  const keys = await generateBundleKeys(), other = await generateBundleKeys();
  assert.match(keys.keyId, /^[0-9a-f]{16}$/);
  assert.equal(keys.publicRaw.length, 65);
  const v5 = await fullBundle(5, ['alice', 'bob', 'carol']);
  const signed = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: 5 }, [v5]);
  const fresh = () => new MemoryBundleStateStore();

  // the key in every form a device may hold it
  for (const k of [keys.publicKey, keys.publicSpki, keys.publicRaw, keys.publicJwk, keys.publicPem, JSON.stringify(keys.publicJwk)]) {
    const v = await verifyBundle(k, signed, fresh());
    assert.equal(v.manifest.version, 5);
    assert.equal(v.keyId, keys.keyId);
    assert.equal((await galleryFromBundle(v)).entries.length, 3);
  }
  const payloadAt = signed.length - v5.length;

  // tampered: payload bytes (hash), manifest (signature), signature, key id
  const flip = (at: number) => { const b = signed.slice(); b[at] ^= 0x40; return b; };
  await refused(verifyBundle(keys.publicSpki, flip(signed.length - 1), fresh()), 'E_BUNDLE_TAMPERED', 'last payload byte');
  await refused(verifyBundle(keys.publicSpki, flip(payloadAt + 100), fresh()), 'E_BUNDLE_TAMPERED', 'template byte');
  const text = new TextDecoder().decode(signed.subarray(32, payloadAt - 64));
  const vAt = 32 + text.indexOf('"version":5') + '"version":'.length;
  const bumped = signed.slice(); bumped[vAt] = '9'.charCodeAt(0);
  await refused(verifyBundle(keys.publicSpki, bumped, fresh()), 'E_BUNDLE_SIGNATURE', 'version raised in the manifest');
  await refused(verifyBundle(keys.publicSpki, flip(payloadAt - 1), fresh()), 'E_BUNDLE_SIGNATURE', 'signature byte');
  await refused(verifyBundle(keys.publicSpki, flip(16), fresh()), 'E_BUNDLE_SIGNATURE', 'key id byte');

  // unsigned: packed without a signature, or with the signature stripped
  await refused(verifyBundle(keys.publicSpki, await packUnsignedBundle({ kind: 'gallery', name: 'site-a/people', version: 6 }, [await fullBundle(6, ['eve'])]), fresh()), 'E_BUNDLE_UNSIGNED');
  const stripped = new Uint8Array(signed.length - 64);
  stripped.set(signed.subarray(0, payloadAt - 64));
  stripped.set(signed.subarray(payloadAt), payloadAt - 64);
  new DataView(stripped.buffer).setUint16(6, 0, true);
  new DataView(stripped.buffer).setUint32(12, 0, true);
  await refused(verifyBundle(keys.publicSpki, stripped, fresh()), 'E_BUNDLE_UNSIGNED', 'signature stripped');
  assert.equal((await inspectBundle(stripped)).signed, false);

  // wrong key: by key id, and by the signature itself when the signer's key id is not in the bundle
  await refused(verifyBundle(other.publicPem, signed, fresh()), 'E_BUNDLE_SIGNATURE', 'another key');
  const anonymous = await signBundle(await importBundlePrivateKey(keys.privatePkcs8, false), { kind: 'gallery', name: 'site-a/people', version: 5 }, [v5]);
  assert.equal((await inspectBundle(anonymous)).keyId, '0000000000000000');
  await refused(verifyBundle(other.publicKey, anonymous, fresh()), 'E_BUNDLE_SIGNATURE', 'another key, no key id');
  assert.equal((await verifyBundle(keys.publicKey, anonymous, fresh())).manifest.version, 5);
  assert.equal((await verifyBundle([other.publicSpki, keys.publicSpki], signed, fresh())).keyId, keys.keyId, 'rotation: several trusted keys');
  await refused(verifyBundle(keys.privateJwk, signed, fresh()), 'E_BUNDLE_KEY', 'a private JWK as the device key');
  await refused(verifyBundle(keys.publicSpki.subarray(0, 40), signed, fresh()), 'E_BUNDLE_KEY', 'a truncated SPKI');

  // roll-back: same version again, an older one, then a newer one; the state survives a "restart"
  const saved: Record<string, number> = {};
  const persistent = (): BundleStateStore => ({ load: (n) => saved[n] ?? null, save: (n, v) => { saved[n] = v; } });
  await verifyBundle(keys.publicKey, signed, persistent());
  await refused(verifyBundle(keys.publicKey, signed, persistent()), 'E_BUNDLE_ROLLBACK', 'same version replayed');
  const v4 = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: 4 }, [await fullBundle(4, ['alice'])]);
  await refused(verifyBundle(keys.publicKey, v4, persistent()), 'E_BUNDLE_ROLLBACK', 'older version');
  const v6 = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: 6 }, [await fullBundle(6, ['alice'])]);
  assert.equal((await verifyBundle(keys.publicKey, v6, persistent())).manifest.version, 6);
  assert.deepEqual(saved, { 'site-a/people': 6 });
  assert.equal((await verifyBundle(keys.publicKey, v4, persistent(), { name: 'site-a/people', commit: false }).catch((e) => e)).code, 'E_BUNDLE_ROLLBACK');

  // wrong kind, channel or model; inconsistent bundles are not even signed
  await refused(verifyBundle(keys.publicKey, signed, fresh(), { kind: 'model' }), 'E_BUNDLE_KIND', 'gallery where a model bundle is expected');
  await refused(verifyBundle(keys.publicKey, signed, fresh(), { name: 'site-b/people' }), 'E_BUNDLE_CHANNEL', 'another channel');
  await refused(verifyBundle(keys.publicKey, signed, fresh(), { embedder: 'another-embedder' }), 'E_BUNDLE_KIND', 'gallery of another model');
  assert.throws(() => pinsFromBundle({ kind: 'gallery' } as never), (e: unknown) => e instanceof BundleError && e.code === 'E_BUNDLE_KIND');
  await refused(signBundle(keys.privateKey, { kind: 'gallery', name: 'site-b/people', version: 5 }, [v5]), 'E_BUNDLE_KIND', 'sign under another name');
  await refused(signBundle(keys.privateKey, { kind: 'gallery-delta', name: 'site-a/people', version: 5 }, [v5]), 'E_BUNDLE_KIND', 'full gallery as a delta');
  await refused(verifyBundle(keys.publicKey, v5, fresh()), 'E_BUNDLE_FORMAT', 'a bare .wfg is not an update bundle');
  await refused(parseGalleryBundle(signed), 'E_BUNDLE_FORMAT', 'an update bundle is not a .wfg');
  const wfgFlip = v5.slice(); wfgFlip[200] ^= 1;
  await refused(parseGalleryBundle(wfgFlip), 'E_BUNDLE_TAMPERED', 'a .wfg with a flipped byte');

  // device flow with commit after apply: a delta that cannot apply yet is not recorded, so it can be retried
  const gallery = new MapGallery(), store = fresh();
  const d56 = await encodeGalleryBundle(diffGalleryBundles(await parseGalleryBundle(v5), await parseGalleryBundle(await fullBundle(6, ['alice', 'dave']))));
  const signedDelta = await signBundle(keys.privateKey, { kind: 'gallery-delta', name: 'site-a/people', version: 6 }, [d56]);
  await refused(applySignedGalleryBundle(gallery, keys.publicKey, signedDelta, store), 'E_BUNDLE_BASE', 'delta before its base');
  assert.equal(await store.load('site-a/people'), null, 'the refused delta was not recorded');
  await applySignedGalleryBundle(gallery, keys.publicKey, signed, store);
  const r = await applySignedGalleryBundle(gallery, keys.publicKey, signedDelta, store);
  assert.deepEqual([r.version, r.added, r.removed, r.manifest.baseVersion], [6, 1, 2, 5]);
  assert.deepEqual([...gallery.map.keys()].sort(), ['alice', 'dave']);
  await assert.rejects(applySignedGalleryBundle(new MapGallery('another-embedder'), keys.publicKey, signed, fresh()), (e: unknown) => e instanceof TemplateError && e.code === 'E_TEMPLATE_MODEL');
});

test('model bundles: pins as shipped, a modified model is refused', { skip: skipModels }, async () => {
  const keys = await generateBundleKeys();
  const yunet = new Uint8Array(readFileSync(join(ROOT, 'models/yunet-2023mar.wfm')));
  assert.deepEqual(await describeModel(yunet), { id: 'yunet-2023mar', pin: PINNED_MODELS['yunet-2023mar'], role: 'detector' });
  assert.deepEqual(await describeModel(new Uint8Array(gzipSync(yunet))), await describeModel(yunet));
  const b = await signBundle(keys.privatePem, { kind: 'model', name: 'models/detector', version: 2 }, [{ bytes: yunet }]);
  const v = await verifyBundle(keys.publicKey, b, new MemoryBundleStateStore(), { kind: 'model' });
  assert.deepEqual(pinsFromBundle(v.manifest), { 'yunet-2023mar': PINNED_MODELS['yunet-2023mar'] });
  assert.equal(modelsFromBundle(v).detector!.length, yunet.length);
  const t = b.slice(); t[t.length - 5000] ^= 1;
  await refused(verifyBundle(keys.publicKey, t, new MemoryBundleStateStore()), 'E_BUNDLE_TAMPERED', 'model byte flipped');
  await refused(signBundle(keys.privatePem, { kind: 'model', name: 'm', version: 1 }, [yunet, yunet]), 'E_BUNDLE_FORMAT', 'a model twice');
});

test('mutation fuzz: truncated, flipped, hostile and re-signed bundles only ever raise BundleError', async () => {
  const keys = await generateBundleKeys();
  const wfg = await fullBundle(3, ['alice', 'bob', 'carol', 'dave']);
  const bundle = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: 3 }, [wfg]);
  const r = rng(20250131);
  const int = (n: number) => Math.floor(r() * n);
  const counts: Record<string, number> = {};
  const expectRefusal = async (bytes: Uint8Array, what: string) => {
    try {
      await verifyBundle(keys.publicKey, bytes, new MemoryBundleStateStore());
      assert.fail(`${what}: a mutated bundle was accepted`);
    } catch (e) {
      assert.ok(e instanceof BundleError, `${what}: ${(e as Error)?.stack ?? String(e)}`);
      assert.ok(CODES.includes(e.code), e.code);
      counts[e.code] = (counts[e.code] ?? 0) + 1;
    }
  };
  const hostile = [0, 1, 31, 32, 64, 0x7fffffff, 0xffffffff, bundle.length, bundle.length - 32];
  for (let i = 0; i < 400; i++) {
    let b: Uint8Array;
    switch (i % 5) {
      case 0: b = bundle.slice(0, int(bundle.length)); break;                                   // truncation
      case 1: b = bundle.slice(); b[int(b.length)] ^= 1 << int(8); break;                       // one bit
      case 2: b = bundle.slice(); new DataView(b.buffer).setUint32(4 * int(8), hostile[int(hostile.length)], true); break;   // hostile header field
      case 3: b = new Uint8Array(bundle.length + 1 + int(64)); b.set(bundle); for (let k = bundle.length; k < b.length; k++) b[k] = int(256); break; // garbage tail
      default: { const at = int(bundle.length - 1), n = 1 + int(Math.min(64, bundle.length - at - 1)); b = new Uint8Array(bundle.length - n); b.set(bundle.subarray(0, at)); b.set(bundle.subarray(at + n), at); } // cut
    }
    if (b.length === bundle.length && b.every((x, k) => x === bundle[k])) continue; // a header write that changed nothing
    await expectRefusal(b, `mutation ${i} (kind ${i % 5})`);
  }
  for (const c of ['E_BUNDLE_FORMAT', 'E_BUNDLE_SIGNATURE', 'E_BUNDLE_TAMPERED']) assert.ok(counts[c] > 0, `some mutations give ${c}: ${JSON.stringify(counts)}`);

  // re-signed manifest mutations reach the manifest checks behind the signature: accepted or BundleError
  const mLen = new DataView(bundle.buffer).getUint32(8, true);
  const alphabet = '{}[]":,0123456789-.aez \\\u00ff';
  let accepted = 0;
  for (let i = 0; i < 150; i++) {
    const head = bundle.slice(0, 32 + mLen);
    for (let k = 0, n = 1 + int(3); k < n; k++) head[32 + int(mLen)] = alphabet.charCodeAt(int(alphabet.length)) & 0xff;
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, head));
    const b = new Uint8Array(head.length + 64 + wfg.length);
    b.set(head); b.set(sig, head.length); b.set(wfg, head.length + 64);
    try {
      const v = await verifyBundle(keys.publicKey, b, new MemoryBundleStateStore());
      await galleryFromBundle(v); // what a device does next
      accepted++;
    } catch (e) {
      assert.ok(e instanceof BundleError, `re-signed mutation ${i}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  assert.ok(accepted < 150, 'most manifest mutations are refused');

  // gallery bundles: raw mutations fail the hash; re-hashed ones reach the record parser
  for (let i = 0; i < 250; i++) {
    const b = i % 2 ? wfg.slice(0, 48 + int(wfg.length - 48)) : wfg.slice();
    if (i % 2 === 0) for (let k = 0, n = 1 + int(4); k < n; k++) b[int(b.length - 32)] = [0, 0xff, 0x7f, int(256)][int(4)];
    if (i % 3 === 0 && b.length >= 80) {
      new DataView(b.buffer).setUint32(44, b.length, true);
      b.set(new Uint8Array(await crypto.subtle.digest('SHA-256', b.subarray(0, b.length - 32))), b.length - 32);
    }
    try {
      await parseGalleryBundle(b);
    } catch (e) {
      assert.ok(e instanceof BundleError, `gallery mutation ${i}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
});

test.after(() => engine?.dispose());
