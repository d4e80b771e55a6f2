// Bundles fail closed (issue "Fail closed, part 2", items 6, 7 and 9): a bundle of another channel is
// refused before anything changes; the roll-back check survives concurrent calls and untrustworthy
// state stores; applying a gallery bundle is all or nothing. Regression tests, then a seeded property
// test: any sequence of applies (valid, replayed, wrong base, failing part-way, failing store) leaves
// the gallery exactly at the last bundle that was applied in full, and the recorded version with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createNodeEngine, Template } from '../../js/node.js';
import {
  BundleError, MemoryBundleStateStore, encodeGalleryBundle, parseGalleryBundle, diffGalleryBundles, applyGalleryBundle,
  generateBundleKeys, signBundle, verifyBundle, applySignedGalleryBundle, galleryStateKey, galleryChannel,
  type BundleStateStore, type GalleryLike, type GalleryBundle,
} from '../../js/bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skipModels = existsSync(join(ROOT, 'models/manifest.json')) ? undefined : 'models/manifest.json is absent (run npm run models)';
const MODEL = 'faceapi-recognition';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

function fakeTemplate(seed: number, dim = 128): Template {
  const r = rng(seed), e = Float32Array.from({ length: dim }, () => r() - 0.5);
  const n = Math.hypot(...e);
  return new Template(MODEL, e.map((v) => v / n));
}

async function code(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { if (e instanceof BundleError || (e as { code?: string }).code) return (e as { code: string }).code; throw e; }
  return 'accepted';
}

/** A GalleryLike in a Map that can be told to refuse given templates (as a real gallery refuses a bad one). */
class MapGallery implements GalleryLike {
  map = new Map<string, Template>();
  refuse = new Set<Template>();
  constructor(readonly modelId = MODEL) {}
  add(id: string, t: Template): void { if (this.refuse.has(t)) throw new Error(`refusing '${id}'`); this.map.set(id, t); }
  remove(id: string): boolean { return this.map.delete(id); }
  get(id: string): Template | null { return this.map.get(id) ?? null; }
  clear(): void { this.map.clear(); }
  entries(): { id: string; template: Template }[] { return [...this.map].map(([id, template]) => ({ id, template })); }
  snapshot(): string { return JSON.stringify([...this.map].map(([id, t]) => [id, Array.from(t.embedding)])); }
}

const full = (version: number, ids: string[], name = 'site-a/people'): GalleryBundle =>
  ({ kind: 'full', name, modelId: MODEL, version, createdAt: 1_700_000_000_000, baseVersion: null, removed: [],
     entries: ids.map((id) => ({ id, template: fakeTemplate(id.length * 7919 + id.charCodeAt(0) + version) })) }) as unknown as GalleryBundle;

test('a signed gallery bundle of another channel is refused and changes nothing (API)', async () => {
  const keys = await generateBundleKeys();
  const siteA = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: 3 }, [await encodeGalleryBundle(full(3, ['alice', 'bob']))]);
  const siteB = await signBundle(keys.privateKey, { kind: 'gallery', name: 'site-b/people', version: 9 }, [await encodeGalleryBundle(full(9, ['mallory'], 'site-b/people'))]);

  // told its channel: the other site's bundle is refused before the gallery or the store is touched
  const g = new MapGallery(), store = new MemoryBundleStateStore();
  assert.equal(await code(applySignedGalleryBundle(g, keys.publicKey, siteB, store, { channel: 'site-a/people' })), 'E_BUNDLE_CHANNEL');
  assert.equal(g.map.size, 0);
  assert.equal(await store.load('site-b/people'), null);
  await applySignedGalleryBundle(g, keys.publicKey, siteA, store, { channel: 'site-a/people' });
  const before = g.snapshot();
  assert.equal(await code(applySignedGalleryBundle(g, keys.publicKey, siteB, store, { channel: 'site-a/people' })), 'E_BUNDLE_CHANNEL');
  assert.equal(g.snapshot(), before, 'gallery unchanged');
  assert.equal(await code(verifyBundle(keys.publicKey, siteB, new MemoryBundleStateStore(), { channel: 'site-a/people' })), 'E_BUNDLE_CHANNEL');

  // not told: the gallery binds to the first channel applied to it
  const h = new MapGallery(), st2 = new MemoryBundleStateStore();
  await applySignedGalleryBundle(h, keys.publicKey, siteA, st2);
  assert.equal(galleryChannel(h), 'site-a/people');
  const kept = h.snapshot();
  assert.equal(await code(applySignedGalleryBundle(h, keys.publicKey, siteB, st2)), 'E_BUNDLE_CHANNEL');
  assert.equal(await code(applyGalleryBundle(h, full(10, ['mallory'], 'site-b/people'), st2)), 'E_BUNDLE_CHANNEL');
  assert.equal(h.snapshot(), kept);
  // a channel option that disagrees with the gallery's binding is refused too
  assert.equal(await code(applyGalleryBundle(h, full(11, ['x'], 'site-b/people'), st2, { channel: 'site-b/people' })), 'E_BUNDLE_CHANNEL');
  assert.equal(await code(applyGalleryBundle(h, full(11, ['x']), st2, { channel: 'bad\nname' })), 'E_OPTION');
});

test('roll-back: concurrent verifications are serialised, and no store contents or failures disable the check', async () => {
  const keys = await generateBundleKeys();
  const signed = async (v: number) => signBundle(keys.privateKey, { kind: 'gallery', name: 'site-a/people', version: v }, [await encodeGalleryBundle(full(v, ['alice']))]);
  const [v6, v7] = [await signed(6), await signed(7)];

  // a slow store (what a real one on flash is): before, both v7 and v6 passed against the same old state
  const saved = new Map<string, number>();
  let firstLoad!: () => void;
  const loading = new Promise<void>((resolve) => { firstLoad = resolve; });
  const slow: BundleStateStore = {
    load: async (n) => { firstLoad(); await new Promise((r) => setTimeout(r, 20)); return saved.get(n) ?? null; },
    save: async (n, v) => { await new Promise((r) => setTimeout(r, 20)); saved.set(n, v); },
  };
  const first = code(verifyBundle(keys.publicKey, v7, slow));
  await loading; // v7 is checking the store: v6 starts now, against the same old state
  const results = await Promise.all([first, code(verifyBundle(keys.publicKey, v6, slow))]);
  assert.deepEqual(results, ['accepted', 'E_BUNDLE_ROLLBACK']);
  assert.equal(saved.get('site-a/people'), 7);

  // a deferred commit re-checks: a newer version recorded meanwhile wins, the older commit is refused
  const st = new MemoryBundleStateStore();
  const late = await verifyBundle(keys.publicKey, v6, st, { commit: false });
  await verifyBundle(keys.publicKey, v7, st);
  assert.equal(await code(late.commit()), 'E_BUNDLE_ROLLBACK');
  assert.equal(await st.load('site-a/people'), 7, 'never lowered');

  // stores that cannot be trusted: refused with E_BUNDLE_STATE, never read as "no version yet"
  for (const bad of [Number.NaN, 'x', '7', {}, [], 0, -1, 1.5, Infinity, true, 2 ** 60]) {
    const store: BundleStateStore = { load: () => bad as never, save: () => { throw new Error('must not save'); } };
    assert.equal(await code(verifyBundle(keys.publicKey, v6, store)), 'E_BUNDLE_STATE', `store returning ${String(bad)}`);
    const g = new MapGallery();
    assert.equal(await code(applySignedGalleryBundle(g, keys.publicKey, v6, store)), 'E_BUNDLE_STATE');
    assert.equal(g.map.size, 0, 'nothing applied');
  }
  const throwing: BundleStateStore = { load: () => { throw new Error('flash read error'); }, save: () => undefined };
  assert.equal(await code(verifyBundle(keys.publicKey, v6, throwing)), 'E_BUNDLE_STATE');
  for (const notAStore of [null, 42, { load: 1, save: 2 }, { load() { return null; } }]) {
    assert.equal(await code(verifyBundle(keys.publicKey, v6, notAStore as never)), 'E_BUNDLE_STATE');
  }
});

test('applying a gallery bundle is all or nothing: a part-way failure or a failed save restores the gallery', async () => {
  const store = new MemoryBundleStateStore();
  const g = new MapGallery();
  await applyGalleryBundle(g, full(1, ['alice', 'bob', 'carol']), store);
  const v1 = g.snapshot();
  const key = galleryStateKey('site-a/people');

  // a full bundle refused at its third member: before, the gallery was left empty
  const v2 = full(2, ['erin', 'frank', 'dave', 'gus']);
  g.refuse.add(v2.entries[2].template);
  await assert.rejects(applyGalleryBundle(g, v2, store), /refusing 'dave'/);
  assert.equal(g.snapshot(), v1, 'full: restored exactly');
  assert.equal(await store.load(key), 1, 'version not recorded');

  // a delta refused part-way: before, it was half applied (removals done, some additions made)
  const base = await parseGalleryBundle(await encodeGalleryBundle(full(1, ['alice', 'bob', 'carol'])));
  const next = full(2, ['alice', 'frank', 'dave']);
  const delta = diffGalleryBundles(base, next) as unknown as GalleryBundle;
  g.refuse.add(delta.entries.find((e) => e.id === 'dave')!.template);
  await assert.rejects(applyGalleryBundle(g, { ...delta, createdAt: 1_700_000_000_000, removed: delta.removed ?? [] } as GalleryBundle, store), /refusing 'dave'/);
  assert.equal(g.snapshot(), v1, 'delta: restored exactly');

  // the state store fails to record the version: the change is undone too
  g.refuse.clear();
  const failingSave: BundleStateStore = { load: (n) => store.load(n), save: () => { throw new Error('flash full'); } };
  assert.equal(await code(applyGalleryBundle(g, full(2, ['zoe']), failingSave)), 'E_BUNDLE_STATE');
  assert.equal(g.snapshot(), v1, 'failed save: restored exactly');
});

test('a real engine gallery: a bundle with a template it refuses leaves every enrolled member in place', { skip: skipModels }, async () => {
  const engine = await createNodeEngine();
  const g = engine.createGallery(), store = new MemoryBundleStateStore();
  await applyGalleryBundle(g, full(1, ['alice', 'bob']), store);
  const before = g.entries().map((e) => [e.id, Array.from(e.template.embedding)]);
  // well-formed and consistent (so it passes every check before the change), but 64-d: the engine's add refuses it
  const bad = { ...full(2, ['carol', 'dave']), entries: ['carol', 'dave'].map((id, i) => ({ id, template: fakeTemplate(i, 64) })) } as GalleryBundle;
  await assert.rejects(applyGalleryBundle(g, bad, store), /has 64 values, this model's embeddings have 128/);
  assert.deepEqual(g.entries().map((e) => [e.id, Array.from(e.template.embedding)]), before, 'members and templates as before');
  engine.dispose();
});

test('property: any sequence of applies leaves the gallery at the last bundle applied in full', async () => {
  const r = rng(18_09);
  const int = (n: number) => Math.floor(r() * n);
  for (let run = 0; run < 40; run++) {
    const g = new MapGallery();
    const saved = new Map<string, number>();
    let storeFails = false;
    const store: BundleStateStore = { load: (n) => saved.get(n) ?? null, save: (n, v) => { if (storeFails) throw new Error('store down'); saved.set(n, v); } };
    let model = new Map<string, Template>(), version: number | null = null;
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let step = 0; step < 12; step++) {
      const v = int(8) + 1;
      const members = ids.filter(() => r() < 0.5);
      const b = full(v, members);
      const useDelta = version !== null && r() < 0.4;
      let bundle: GalleryBundle = b;
      if (useDelta) {
        const baseV = r() < 0.8 ? version! : version! + 1;
        const baseBundle = { ...full(baseV, [...model.keys()]), entries: [...model].map(([id, template]) => ({ id, template })) } as GalleryBundle;
        if (v > baseV) bundle = { ...(diffGalleryBundles(baseBundle, b) as unknown as GalleryBundle), createdAt: 1_700_000_000_000 } as GalleryBundle;
      }
      g.refuse = new Set(r() < 0.2 && bundle.entries.length ? [bundle.entries[int(bundle.entries.length)].template] : []);
      storeFails = r() < 0.1;
      let ok = true;
      try { await applyGalleryBundle(g, bundle, store); } catch { ok = false; }
      // the reference: what a correct all-or-nothing apply does
      const allowed: boolean = (version === null || bundle.version > version) && (bundle.kind === 'full' || bundle.baseVersion === version);
      const wouldRefuse = bundle.entries.some((e) => g.refuse.has(e.template));
      const expectOk: boolean = allowed && !wouldRefuse && !storeFails;
      assert.equal(ok, expectOk, `run ${run} step ${step}: ${bundle.kind} v${bundle.version} (base ${String(bundle.baseVersion)}) on v${String(version)}`);
      if (expectOk) {
        if (bundle.kind === 'full') model = new Map();
        for (const id of bundle.removed ?? []) model.delete(id);
        for (const e of bundle.entries) model.set(e.id, e.template);
        version = bundle.version;
      }
      assert.deepEqual([...g.map.keys()].sort(), [...model.keys()].sort(), `run ${run} step ${step}: members after ${bundle.kind} v${bundle.version} base ${String(bundle.baseVersion)} ok=${ok} storeFails=${storeFails} entries=${bundle.entries.map((e) => e.id)} removed=${bundle.removed}`);
      for (const [id, t] of model) assert.equal(g.map.get(id), t, `run ${run} step ${step}: template of ${id}`);
      assert.equal(saved.get(galleryStateKey('site-a/people')) ?? null, version, `run ${run} step ${step}: recorded version`);
    }
  }
});
