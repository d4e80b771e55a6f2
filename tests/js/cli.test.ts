// The wasmface CLI as a user and a device run it (spawned like bin/wasmface.js does in a checkout):
// exit codes (0 match, 1 no match, 2 usage, 3 input/data, 4 refused for security), one-line errors
// without stack traces, numeric options, the roll-back state file read strictly and never lowered,
// import-gallery writing the gallery before the state and bound to one channel, --extract never
// overwriting or escaping its directory, eval counting missing and undecodable images. The bundle
// parts need no models (made-up templates); the face parts skip when models/manifest.json is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Template } from '../../js/template.js';
import { encodeGalleryBundle, generateBundleKeys, signBundle, packUnsignedBundle, applyGalleryBundle, BundleError, type BundleStateStore } from '../../js/bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skipModels = existsSync(join(ROOT, 'models/manifest.json')) ? undefined : 'models/manifest.json is absent (run npm run models)';
const SPOOF = join(ROOT, '../shared/faces/spoof/silent-face-anti-spoofing/image_F1.jpg');
const MODEL = 'faceapi-recognition';
const img = (name: string) => join(ROOT, 'examples/images', name);

interface Run { status: number | null; stdout: string; stderr: string }
const cli = (...args: string[]): Run => spawnSync(process.execPath, ['--import', 'tsx', 'js/cli/wasmface.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });

/**
 * Exits with `code`; for an error (2 and up) says why on one stderr line "wasmface...: ...", the last
 * (progress lines may come before), matching `message`, with no stack trace.
 */
function expect(r: Run, code: number, message?: RegExp, what = ''): Run {
  assert.equal(r.status, code, `${what} expected exit ${code}, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  if (code >= 2) {
    const lines = r.stderr.trim().split('\n'), errors = lines.filter((l) => /^wasmface( bundle( \S+)?)?: /.test(l));
    assert.equal(errors.length, 1, `${what} one error line on stderr, got:\n${r.stderr}`);
    assert.equal(errors[0], lines[lines.length - 1], `${what} the error line comes last`);
    assert.doesNotMatch(r.stderr, /\n\s+at |node:internal/, `${what} no stack trace`);
  }
  if (message) assert.match(r.stderr, message, what);
  return r;
}

/** A decision (compare, verify, identify): `code` and its result on stdout, nothing on stderr. */
function decided(r: Run, code: number, what = ''): Run {
  assert.equal(r.status, code, `${what} expected exit ${code}, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stderr, '', what);
  return r;
}

function tempDir(t: { after(fn: () => void): void }): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return (name: string) => join(dir, name);
}

/** A unit template of a made-up person (no engine needed). */
function fakeTemplate(seed: number): Template {
  let s = seed;
  const e = Float32Array.from({ length: 128 }, () => { s = (s * 16807) % 2147483647; return s / 2147483647 - 0.5; });
  const n = Math.hypot(...e);
  return new Template(MODEL, e.map((v) => v / n));
}

const galleryBundle = (name: string, version: number, ids: string[]) =>
  encodeGalleryBundle({ kind: 'full', name, modelId: MODEL, version, entries: ids.map((id, i) => ({ id, template: fakeTemplate(7 + i * 13 + id.length), meta: { badge: `${id}-${version}` } })) });

/** Keys on disk and signed gallery bundles: site-a/people v4 (alice, carol), v6 (alice), site-b/people v5 (mallory). */
async function fleet(f: (name: string) => string) {
  const keys = await generateBundleKeys();
  writeFileSync(f('public.pem'), keys.publicPem);
  writeFileSync(f('private.pem'), keys.privatePem);
  const sign = async (file: string, name: string, version: number, ids: string[]) =>
    writeFileSync(f(file), await signBundle(keys.privateKey, { kind: 'gallery', name, version }, [await galleryBundle(name, version, ids)]));
  await sign('a4.wfb', 'site-a/people', 4, ['alice', 'carol']);
  await sign('a6.wfb', 'site-a/people', 6, ['alice']);
  await sign('b5.wfb', 'site-b/people', 5, ['mallory']);
  return keys;
}

/** A signed model bundle with the given payload names (made-up bytes; the model descriptions are given, not parsed). */
async function modelBundle(keys: { privateKey: CryptoKey }, names: string[], version = 7): Promise<Uint8Array> {
  return signBundle(keys.privateKey, { kind: 'model', name: 'models/stable', version },
    names.map((name, i) => ({ name, bytes: new Uint8Array([i, 1, 2, 3]), model: { id: `m${i}`, pin: String(i % 10).repeat(64), role: 'antispoof' as const } })));
}

test('import-gallery records versions only after the gallery file is written; a failed write changes no state', async (t) => {
  const f = tempDir(t);
  await fleet(f);
  writeFileSync(f('state.json'), '{\n "models/stable": 3\n}\n');
  const before = readFileSync(f('state.json'), 'utf8');
  // the gallery cannot be written (its directory does not exist): the state file must not move
  const failed = cli('bundle', 'import-gallery', f('a4.wfb'), '--key', f('public.pem'), '--gallery', f('no-such-dir/people.json'), '--state', f('state.json'));
  assert.equal(readFileSync(f('state.json'), 'utf8'), before, 'state unchanged when the gallery write failed');
  expect(failed, 3, /no-such-dir\/people\.json/);
  // the same bundle then imports (it was not recorded as seen), and both versions are recorded
  expect(cli('bundle', 'import-gallery', f('a4.wfb'), '--key', f('public.pem'), '--gallery', f('people.json'), '--state', f('state.json')), 0);
  assert.deepEqual(JSON.parse(readFileSync(f('state.json'), 'utf8')), { 'models/stable': 3, 'gallery:site-a/people': 4, 'site-a/people': 4 });
  const g = JSON.parse(readFileSync(f('people.json'), 'utf8'));
  assert.deepEqual(g.members.map((m: { id: string }) => m.id), ['alice', 'carol']);
  assert.deepEqual(g.members.map((m: { meta: unknown }) => m.meta), [{ badge: 'alice-4' }, { badge: 'carol-4' }]);
  assert.equal(g.channel, 'site-a/people', 'the accepted channel is recorded in the gallery file');
  assert.deepEqual(readdirSync(f('.')).filter((n) => n.includes('.tmp')), [], 'no temporary files left behind');
});

test('import-gallery is bound to one channel: --channel, or the one the gallery file recorded', async (t) => {
  const f = tempDir(t);
  await fleet(f);
  const imp = (file: string, ...more: string[]) => cli('bundle', 'import-gallery', f(file), '--key', f('public.pem'), '--gallery', f('people.json'), ...more);
  // a fresh gallery told its channel refuses another
  expect(imp('b5.wfb', '--channel', 'site-a/people'), 4, /E_BUNDLE_CHANNEL/);
  assert.equal(existsSync(f('people.json')), false, 'nothing written');
  expect(imp('a4.wfb'), 0);
  const bound = readFileSync(f('people.json'), 'utf8');
  // later bundles of another channel are refused, with or without --channel (signed by the same fleet key)
  expect(imp('b5.wfb'), 4, /site-b\/people.*site-a\/people|site-a\/people.*site-b\/people/);
  expect(imp('b5.wfb', '--channel', 'site-b/people'), 4, /E_BUNDLE_CHANNEL/);
  assert.equal(readFileSync(f('people.json'), 'utf8'), bound, 'a refused import changes nothing');
  // the bound channel still updates, and the gallery records its version (no --state)
  expect(imp('a6.wfb', '--channel', 'site-a/people'), 0);
  const g = JSON.parse(readFileSync(f('people.json'), 'utf8'));
  assert.deepEqual(g.members.map((m: { id: string }) => m.id), ['alice']);
  assert.deepEqual(g.bundles, { 'gallery:site-a/people': 6, 'site-a/people': 6 });
  expect(imp('a4.wfb'), 4, /E_BUNDLE_ROLLBACK/);
  // bundle verify --channel
  expect(cli('bundle', 'verify', f('b5.wfb'), '--key', f('public.pem'), '--channel', 'site-a/people'), 4, /E_BUNDLE_CHANNEL/);
  expect(cli('bundle', 'verify', f('b5.wfb'), '--key', f('public.pem'), '--channel', 'site-b/people'), 0);
});

test('a failed apply restores the gallery JSON exactly (images, meta and every other field)', async () => {
  const { JsonGallery } = await import('../../js/cli/bundle.js');
  const members = [
    { id: 'alice', template: Buffer.from(new Template(MODEL, fakeTemplate(1).embedding, 3).toBytes()).toString('base64'), images: 3, meta: { badge: 'A-1' } },
    { id: 'bob', template: Buffer.from(fakeTemplate(2).toBytes()).toString('base64'), images: 1, meta: { badge: 'B-2', floor: 4 } },
  ];
  const file = { format: 'wasmface-gallery' as const, version: 1 as const, modelId: MODEL, members: structuredClone(members) };
  const gallery = new JsonGallery(file);
  const broken: BundleStateStore = { load: () => null, save: () => { throw new Error('disk full'); } };
  await assert.rejects(applyGalleryBundle(gallery, await galleryBundle('site-a/people', 9, ['carol']), broken), (e: unknown) => e instanceof BundleError && e.code === 'E_BUNDLE_STATE');
  assert.deepEqual(gallery.file.members, members);
});

test('the state file: corrupt contents are refused (exit 3) and never overwritten; versions are never lowered', async (t) => {
  const f = tempDir(t);
  const keys = await fleet(f);
  writeFileSync(f('models.wfb'), await modelBundle(keys, ['detector.wfm'], 7));
  const corrupt = ['', 'not json', '[7]', '"7"', 'null', '{"models/stable": "9"}', '{"models/stable": 9.5}', '{"models/stable": 0}', '{"models/stable": -3}', '{"models/stable": null}', '{"other": true}', '{"models/stable": 1e400}'];
  for (const text of corrupt) {
    writeFileSync(f('state.json'), text);
    const r = cli('bundle', 'verify', f('models.wfb'), '--key', f('public.pem'), '--state', f('state.json'));
    assert.equal(readFileSync(f('state.json'), 'utf8'), text, `state ${JSON.stringify(text)} left as it was`);
    expect(r, 3, /state\.json/, `state ${JSON.stringify(text)}:`);
    expect(cli('bundle', 'import-gallery', f('a4.wfb'), '--key', f('public.pem'), '--gallery', f('people.json'), '--state', f('state.json')), 3, /state\.json/);
    assert.equal(existsSync(f('people.json')), false);
  }
  writeFileSync(f('state.json'), '{"models/stable": 9}');
  const older = cli('bundle', 'verify', f('models.wfb'), '--key', f('public.pem'), '--state', f('state.json'));
  assert.deepEqual(JSON.parse(readFileSync(f('state.json'), 'utf8')), { 'models/stable': 9 }, 'never lowered');
  expect(older, 4, /E_BUNDLE_ROLLBACK/);
  rmSync(f('state.json'));
  expect(cli('bundle', 'verify', f('models.wfb'), '--key', f('public.pem'), '--state', f('state.json')), 0);
  assert.deepEqual(JSON.parse(readFileSync(f('state.json'), 'utf8')), { 'models/stable': 7 }, 'a missing file is a new device');
});

test('verify --extract never overwrites without --force, refuses name clashes, and stays inside DIR', async (t) => {
  const f = tempDir(t);
  const keys = await fleet(f);
  // hostile names land inside DIR under safe names
  writeFileSync(f('hostile.wfb'), await modelBundle(keys, ['../escape.wfm', '/tmp/abs.wfm', 'a\\..\\..\\win.wfm']));
  mkdirSync(f('out'));
  expect(cli('bundle', 'verify', f('hostile.wfb'), '--key', f('public.pem'), '--extract', f('out')), 0);
  assert.deepEqual(readdirSync(f('out')).sort(), ['abs.wfm', 'escape.wfm', 'win.wfm']);
  assert.equal(existsSync(f('escape.wfm')), false);

  // two payloads with one safe name: refused, nothing written
  writeFileSync(f('clash.wfb'), await modelBundle(keys, ['a/model.wfm', 'b/model.wfm']));
  const clash = cli('bundle', 'verify', f('clash.wfb'), '--key', f('public.pem'), '--extract', f('clash'));
  assert.equal(existsSync(f('clash/model.wfm')), false, 'nothing extracted');
  expect(clash, 3, /model\.wfm/);
  writeFileSync(f('case.wfb'), await modelBundle(keys, ['Model.wfm', 'model.wfm']));
  expect(cli('bundle', 'verify', f('case.wfb'), '--key', f('public.pem'), '--extract', f('case')), 3, /model\.wfm/i);

  // an existing file is not overwritten (named in the message), and the version is not recorded
  writeFileSync(f('out/escape.wfm'), 'precious');
  const kept = cli('bundle', 'verify', f('hostile.wfb'), '--key', f('public.pem'), '--extract', f('out'), '--state', f('state.json'));
  assert.equal(readFileSync(f('out/escape.wfm'), 'utf8'), 'precious', 'not overwritten');
  assert.equal(existsSync(f('state.json')), false, 'a refused extraction records nothing');
  expect(kept, 2, /escape\.wfm.*--force/);
  expect(cli('bundle', 'verify', f('hostile.wfb'), '--key', f('public.pem'), '--extract', f('out'), '--force'), 0);
  assert.deepEqual([...readFileSync(f('out/escape.wfm'))], [0, 1, 2, 3]);

  // the file names: the last segment ('/' and '\\' alike), no dot files, '.', '..', device names or odd characters
  const { safeName } = await import('../../js/cli/bundle.js');
  for (const [name, want] of [['../escape.wfm', 'escape.wfm'], ['/etc/passwd', 'passwd'], ['a\\..\\..\\win.wfm', 'win.wfm'], ['..', '_'], ['.', '_'], ['...', '_'],
    ['x\u0000y.wfm', 'x_y.wfm'], ['.hidden', '_hidden'], ['dir/', 'payload'], ['', 'payload'], ['CON', '_CON'], ['nul.txt', '_nul.txt'], ['end.', 'end_'], ['é.wfm', '_.wfm']]) {
    assert.equal(safeName(name), want, JSON.stringify(name));
  }
  assert.ok(safeName('x'.repeat(300)).length <= 128);
});

test('bundle refusals: roll-back, tampered, unsigned exit 4; a wrong key, a corrupt bundle, usage exit 3 / 2', async (t) => {
  const f = tempDir(t);
  const keys = await fleet(f);
  const bytes = await modelBundle(keys, ['detector.wfm']);
  writeFileSync(f('m.wfb'), bytes);
  const tampered = bytes.slice(); tampered[tampered.length - 1] ^= 1;
  writeFileSync(f('tampered.wfb'), tampered);
  writeFileSync(f('unsigned.wfb'), await packUnsignedBundle({ kind: 'model', name: 'models/stable', version: 8 }, [{ name: 'x.wfm', bytes: new Uint8Array(4), model: { id: 'm0', pin: '0'.repeat(64), role: 'antispoof' } }]));
  writeFileSync(f('garbage.wfb'), 'not a bundle at all');
  const verify = (file: string, ...more: string[]) => cli('bundle', 'verify', f(file), '--key', f('public.pem'), ...more);
  expect(verify('m.wfb', '--state', f('state.json')), 0);
  expect(verify('m.wfb', '--state', f('state.json')), 4, /E_BUNDLE_ROLLBACK/);
  expect(verify('tampered.wfb'), 4, /E_BUNDLE_TAMPERED/);
  expect(verify('unsigned.wfb'), 4, /E_BUNDLE_UNSIGNED/);
  expect(cli('bundle', 'verify', f('m.wfb'), '--key', f('private.pem')), 3, /E_BUNDLE_KEY/);
  expect(verify('garbage.wfb'), 3, /E_BUNDLE_FORMAT/);
  expect(verify('missing.wfb'), 3, /missing\.wfb.*ENOENT/);
  expect(verify('m.wfb', '--bogus'), 2);
  expect(cli('bundle', 'verify', f('m.wfb')), 2, /--key/);
  expect(cli('bundle', 'sign', '--key', f('private.pem'), '--name', 'x', '--version', 'abc', '--model', f('m.wfb'), '--out', f('o.wfb')), 2, /--version/);
  expect(cli('bundle', 'import-gallery', f('a4.wfb'), '--key', f('public.pem'), '--gallery', f('public.pem')), 3, /public\.pem/);
  const help = cli('bundle', 'help');
  assert.match(help.stdout, /exit codes:[\s\S]*4\s+refused for security/);
});

test('errors users can act on: one line, no stack trace, distinct exit codes; numeric options checked', async (t) => {
  const f = tempDir(t);
  writeFileSync(f('corrupt.json'), '{"format": "wasmface-gallery", "version": 1, "modelId": "x", "members": [');
  writeFileSync(f('members.json'), '{"format": "wasmface-gallery", "version": 1, "modelId": "x", "members": [{"id": 3}]}');
  writeFileSync(f('pairs.csv'), 'path_a,path_b,same\nperson-a-1.jpg,person-a-2.jpg,1\n');
  writeFileSync(f('bad.csv'), 'path_a,path_b,same\nperson-a-1.jpg\n');
  expect(cli('verify', '--id', 'alice', '--gallery', f('corrupt.json'), img('person-a-1.jpg')), 3, /corrupt\.json.*not valid JSON/);
  expect(cli('identify', '--gallery', f('members.json'), img('person-a-1.jpg')), 3, /members\.json.*member 1/);
  expect(cli('verify', '--id', 'alice', '--gallery', f('none.json'), img('person-a-1.jpg')), 3, /none\.json.*ENOENT/);
  expect(cli('eval', '--pairs', f('none.csv'), '--root', ROOT), 3, /none\.csv/);
  expect(cli('eval', '--pairs', f('bad.csv'), '--root', ROOT), 3, /bad\.csv line 2/);
  for (const top of ['abc', '0', 'NaN', '-1', '2.5', '1e9999', '']) {
    expect(cli('identify', '--gallery', f('corrupt.json'), img('person-a-1.jpg'), `--top=${top}`), 2, /--top/, `--top ${top}:`);
  }
  for (const limit of ['abc', '0', 'NaN', '1.5']) {
    expect(cli('eval', '--pairs', f('pairs.csv'), '--root', join(ROOT, 'examples/images'), `--limit=${limit}`), 2, /--limit/, `--limit ${limit}:`);
  }
  expect(cli('compare', img('person-a-1.jpg'), img('person-a-2.jpg'), '--threshold', 'abc'), 2, /--threshold/);
  expect(cli('compare', img('person-a-1.jpg'), img('person-a-2.jpg'), '--no-such-option'), 2);
  expect(cli('no-such-command'), 2, /unknown command/);
  expect(cli('verify', img('person-a-1.jpg')), 2, /--id/);
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /exit codes:[\s\S]*1\s+no match[\s\S]*2\s+usage error[\s\S]*3\s+input or data error[\s\S]*4\s+refused for security/);
});

test('verify and compare exit 0 on a match, 1 on no match, 3 for unreadable input, 4 when not judged live', { skip: skipModels }, async (t) => {
  const f = tempDir(t);
  writeFileSync(f('bad.jpg'), 'not an image');
  expect(cli('enroll', '--id', 'alice', '--gallery', f('people.json'), img('person-a-1.jpg')), 0);
  const verify = (probe: string, ...more: string[]) => cli('verify', '--id', 'alice', '--gallery', f('people.json'), probe, ...more);
  assert.match(decided(verify(img('person-a-2.jpg')), 0).stdout, /^MATCH alice/);
  assert.match(decided(verify(img('person-b-1.jpg')), 1).stdout, /^NO MATCH alice/);
  expect(verify(f('missing.jpg')), 3, /missing\.jpg.*ENOENT/);
  expect(verify(f('bad.jpg')), 3, /bad\.jpg.*not a decodable image/);
  expect(cli('verify', '--id', 'bob', '--gallery', f('people.json'), img('person-a-2.jpg')), 3, /'bob' is not enrolled/);
  decided(cli('compare', img('person-a-1.jpg'), img('person-a-2.jpg')), 0);
  decided(cli('compare', img('person-a-1.jpg'), img('person-b-1.jpg')), 1);
  expect(cli('compare', img('person-a-1.jpg'), f('missing.jpg')), 3, /missing\.jpg/);
  decided(cli('identify', '--gallery', f('people.json'), img('person-a-2.jpg')), 0);
  decided(cli('identify', '--gallery', f('people.json'), img('person-b-1.jpg')), 1);
  if (existsSync(SPOOF)) {
    copyFileSync(SPOOF, f('spoof.jpg'));
    const r = decided(verify(f('spoof.jpg')), 4);
    assert.match(r.stdout, /REFUSED alice: not judged live/);
    assert.match(decided(cli('identify', '--gallery', f('people.json'), f('spoof.jpg')), 4).stdout, /REFUSED: not judged live/);
    assert.match(decided(cli('compare', img('person-a-1.jpg'), f('spoof.jpg')), 4).stdout, /REFUSED: .*spoof\.jpg not judged live/);
    decided(verify(f('spoof.jpg'), '--no-liveness'), 1, 'without anti-spoofing it is a decision again');
  } else {
    t.diagnostic(`${SPOOF} absent: the liveness refusal (exit 4) is not exercised`);
  }
});

test('eval counts missing and undecodable images (their pairs fail) and says how many were skipped', { skip: skipModels }, async (t) => {
  const f = tempDir(t);
  for (const n of ['person-a-1.jpg', 'person-a-2.jpg', 'person-b-1.jpg', 'person-c-1.jpg', 'person-c-2.jpg']) copyFileSync(img(n), f(n));
  writeFileSync(f('broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
  writeFileSync(f('pairs.csv'), ['path_a,path_b,same', 'person-a-1.jpg,person-a-2.jpg,1', 'person-c-1.jpg,missing.jpg,1', 'person-b-1.jpg,broken.jpg,0',
    'person-c-1.jpg,person-c-2.jpg,1', 'person-a-1.jpg,person-b-1.jpg,0'].join('\n') + '\n');
  const r = expect(cli('eval', '--pairs', f('pairs.csv'), '--root', f('.'), '--json'), 0);
  const out = JSON.parse(r.stdout);
  assert.equal(out.pairs, 5, 'no pair dropped');
  assert.equal(out.unreadable, 2);
  assert.equal(out.no_face, 2, 'the skipped images are counted as no face');
  assert.match(r.stderr, /2 image\(s\) skipped[\s\S]*missing\.jpg[\s\S]*broken\.jpg/);
  const text = expect(cli('eval', '--pairs', f('pairs.csv'), '--root', f('.')), 0);
  assert.match(text.stdout, /of which 2 skipped: missing or not decodable/);
  expect(cli('eval', '--pairs', f('pairs.csv'), '--root', f('nowhere')), 3, /none of the 7 images could be read/);
});
