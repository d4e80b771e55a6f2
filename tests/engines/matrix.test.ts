// Engine matrix: the same inputs through the inlined bundle (dist/wasmface.inline.iife.js) in every
// JS engine available — node (vm), JavaScriptCore (jsc, iOS/macOS webviews), SpiderMonkey (js102),
// headless Chromium (page and Web Worker) — must give identical embedding bytes, boxes and liveness
// scores, on the scalar build and on the best build each engine runs. Engines that are not installed
// are skipped with the apt package to install (.ci/run installs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import vm from 'node:vm';
import { decodeImage } from '../../js/node/decode.js';

const root = new URL('../../', import.meta.url).pathname;
const bundle = `${root}dist/wasmface.inline.iife.js`;
const manifestPath = `${root}models/manifest.json`;
const ready = existsSync(bundle) && existsSync(manifestPath);
const skipReason = ready ? undefined : 'dist/ or models/ missing (npm run build)';

// fixture: raw RGBA images and the model files in one directory
const dir = mkdtempSync(join(tmpdir(), 'wasmface-matrix-'));
const images: { name: string; width: number; height: number }[] = [];
const models = { detector: '', embedder: '', antispoof: [] as string[] };
if (ready) {
  for (const f of ['person-a-1.jpg', 'person-b-1.jpg', 'person-c-1.jpg']) {
    const img = decodeImage(new Uint8Array(readFileSync(`${root}examples/images/${f}`)));
    const name = f.replace('.jpg', '.rgba');
    writeFileSync(join(dir, name), img.data);
    images.push({ name, width: img.width, height: img.height });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, { file: string }>;
  for (const [id, { file }] of Object.entries(manifest)) {
    copyFileSync(`${root}models/${file}`, join(dir, file));
    if (id.startsWith('yunet')) models.detector = file;
    else if (id.startsWith('faceapi')) models.embedder = file;
    else models.antispoof.push(file);
  }
  models.antispoof.sort();
}
const spec = { images, models, backends: ['scalar', 'auto'] };
const harness = readFileSync(new URL('harness.js', import.meta.url), 'utf8');

type Row = { backend: string; image: string; embedding: string; box: string; liveness: string | null; skipped?: string };
function parse(out: string, engine: string): Row[] {
  // browsers also log their own messages (a missing favicon...): keep the harness's lines only
  const lines = out.trim().split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') || l === 'done' || l.startsWith('error'));
  const err = lines.find((l) => l.startsWith('error'));
  assert.ok(!err, `${engine}: ${err}`);
  assert.equal(lines[lines.length - 1], 'done', `${engine} did not finish:\n${out.slice(-2000)}`);
  return lines.slice(0, -1).map((l) => JSON.parse(l));
}

let reference: Row[] = [];
test('node (vm context, inlined bundle) gives the reference rows', { skip: skipReason }, async () => {
  const out: string[] = [];
  const context = vm.createContext({
    WebAssembly, console, Promise, setTimeout, TextDecoder, TextEncoder, atob, performance,
    HOST: { ...spec, readBytes: (n: string) => new Uint8Array(readFileSync(join(dir, n))), print: (l: string) => out.push(l) },
  });
  vm.runInContext(readFileSync(bundle, 'utf8'), context);
  vm.runInContext(harness, context);
  for (let i = 0; i < 600 && out[out.length - 1] !== 'done' && !out.some((l) => l.startsWith('error')); i++) await new Promise((r) => setTimeout(r, 100));
  reference = parse(out.join('\n'), 'node');
  assert.equal(reference.filter((r) => r.backend === 'scalar').length, images.length);
  // within node, scalar and the best build already agree
  for (const r of reference) assert.deepEqual(r, { ...reference.find((q) => q.image === r.image && q.backend === 'scalar')!, backend: r.backend });
  console.log(`node: ${reference.length} rows, builds ${[...new Set(reference.map((r) => r.backend))].join(', ')}`);
});

function compare(rows: Row[], engine: string) {
  const skipped = rows.filter((r) => r.skipped);
  assert.equal(skipped.length, 0, `${engine}: builds failed to start: ${skipped.map((r) => `${r.backend}: ${r.skipped}`).join('; ')}`);
  assert.equal(rows.length, images.length * spec.backends.length, `${engine}: expected a row per image and build`);
  for (const r of rows) {
    const want = reference.find((q) => q.image === r.image)!;
    assert.equal(r.embedding, want.embedding, `${engine} ${r.backend} ${r.image}: embedding bytes differ`);
    assert.equal(r.box, want.box, `${engine} ${r.backend} ${r.image}: face box differs`);
    assert.equal(r.liveness, want.liveness, `${engine} ${r.backend} ${r.image}: liveness differs`);
  }
  console.log(`${engine}: ${rows.length} rows identical to node (builds ${[...new Set(rows.map((r) => r.backend))].join(', ')})`);
}

const shells = [
  { name: 'JavaScriptCore (jsc)', bin: 'jsc', pkg: 'libjavascriptcoregtk-4.0-bin', read: 'readFile(p, "binary")', args: (files: string[]) => files },
  { name: 'SpiderMonkey (js102)', bin: 'js102', pkg: 'libmozjs-102-dev', read: 'os.file.readFile(p, "binary")', args: (files: string[]) => files.flatMap((f) => ['-f', f]) },
];
for (const sh of shells) {
  const have = !spawnSync('which', [sh.bin]).status;
  test(`${sh.name}: identical bytes in the bare shell`, { skip: skipReason ?? (have ? undefined : `${sh.bin} not installed (apt-get install ${sh.pkg})`) }, () => {
    const prelude = join(dir, `prelude-${sh.bin}.js`);
    writeFileSync(prelude, `var HOST = ${JSON.stringify(spec)};\nHOST.readBytes = function (n) { var p = ${JSON.stringify(dir + '/')} + n; return new Uint8Array(${sh.read}); };\nHOST.print = function (l) { print(l); };\n`);
    const r = spawnSync(sh.bin, sh.args([prelude, bundle, new URL('harness.js', import.meta.url).pathname]), { encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    compare(parse(r.stdout, sh.name), sh.name);
  });
}

test('headless Chromium: identical bytes in a page and in a Web Worker', { skip: skipReason ?? (existsSync('/usr/bin/chromium') ? undefined : 'chromium not installed (apt-get install chromium)') }, async () => {
  const { chromium } = await import('playwright-core');
  const files: Record<string, () => Buffer> = {
    '/bundle.js': () => readFileSync(bundle), '/harness.js': () => Buffer.from(harness),
    '/prelude.js': () => Buffer.from(`self.HOST = ${JSON.stringify(spec)};\nHOST.readBytes = async (n) => new Uint8Array(await (await fetch('/data/' + n)).arrayBuffer());\nHOST.print = (l) => (self.document ? console.log(l) : postMessage(l));\n`),
    '/worker.js': () => Buffer.from(`importScripts('/prelude.js', '/bundle.js', '/harness.js');`),
    '/page.html': () => Buffer.from(`<!doctype html><script src="/prelude.js"></script><script src="/bundle.js"></script><script src="/harness.js"></script>`),
    '/worker.html': () => Buffer.from(`<!doctype html><script>const w = new Worker('/worker.js'); w.onmessage = (e) => console.log(e.data);</script>`),
  };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const body = url.startsWith('/data/') ? readFileSync(join(dir, url.slice(6))) : files[url]?.();
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': url.endsWith('.html') ? 'text/html' : url.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    for (const pageName of ['page', 'worker']) {
      const page = await browser.newPage();
      const lines: string[] = [];
      page.on('console', (m) => lines.push(m.text()));
      await page.goto(`http://127.0.0.1:${port}/${pageName}.html`);
      for (let i = 0; i < 1200 && lines[lines.length - 1] !== 'done' && !lines.some((l) => l.startsWith('error')); i++) await new Promise((r) => setTimeout(r, 100));
      compare(parse(lines.join('\n'), `Chromium ${pageName}`), `Chromium ${pageName}`);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});
