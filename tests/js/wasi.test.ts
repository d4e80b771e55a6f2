// The WASI build runs outside any JS glue: under node:wasi, and under wabt's native interpreter
// (`wasm-interp --wasi`, Debian package wabt) when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, openSync, closeSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WASI } from 'node:wasi';

const file = new URL('../../build/wasmface.wasi.wasm', import.meta.url);

function checkOutput(text: string) {
  const lines = text.trim().split('\n');
  assert.match(lines[0], /^wasmface-wasi build simd$/);
  assert.ok(lines.length >= 5, text);
  for (const l of lines.slice(1)) assert.match(l, /: ok$/);
}

test('WASI build passes its kernel self-checks under node:wasi', () => {
  const outPath = join(mkdtempSync(join(tmpdir(), 'wasmface-')), 'out.txt');
  const fd = openSync(outPath, 'w');
  const wasi = new WASI({ version: 'preview1', stdout: fd, returnOnExit: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), wasi.getImportObject() as WebAssembly.Imports);
  const code = wasi.start(instance);
  closeSync(fd);
  assert.equal(code, 0);
  checkOutput(readFileSync(outPath, 'utf8'));
});

// Debian's wabt is built without its WASI layer ("wasi support not compiled in"), so the native run
// supplies dummy imports and calls every export; selfCheck() returns the number of failed checks.
const interp = spawnSync('wasm-interp', ['--version'], { encoding: 'utf8' });
test('WASI build computes correctly in wabt\'s native interpreter (wasm-interp)', { skip: interp.error ? 'wasm-interp not installed (apt-get install wabt)' : undefined }, () => {
  const r = spawnSync('wasm-interp', ['--dummy-import-func', '--run-all-exports', file.pathname], { encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^selfCheck\(\) => i32:0$/m, r.stdout);
  assert.match(r.stdout, /^buildFlavour\(\) => i32:1$/m);
});

test('WASI command runs a real model on a raw image and prints the same bytes as the JS API', { skip: existsSync(new URL('../../models/manifest.json', import.meta.url)) ? undefined : 'no models' }, async () => {
  const { createHash } = await import('node:crypto');
  const { Model, Arena } = await import('../../js/model.js');
  const { loadBuild } = await import('../helpers/builds.js');
  const { kernels } = await loadBuild('simd');
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-wasi-'));
  const manifest = JSON.parse(readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8')) as Record<string, { file: string }>;
  for (const id of ['faceapi-recognition', 'minifasnet-v2-2.7']) {
    const modelFile = new URL(`../../models/${manifest[id].file}`, import.meta.url);
    const bytes = new Uint8Array(readFileSync(modelFile));
    const arena = new Arena(kernels!.wasm);
    const model = Model.load(kernels!.wasm, arena, bytes);
    const { width, height } = model.inputSize;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 131 + (i >> 7)) & 255);
    writeFileSync(join(dir, 'input.rgb'), rgb);
    writeFileSync(join(dir, 'model.bin'), bytes);
    model.run(rgb);
    const want = createHash('sha256').update(new Uint8Array(model.output(0).data.buffer)).digest('hex');
    model.dispose();
    arena.dispose();
    const outPath = join(dir, 'out.txt');
    const fd = openSync(outPath, 'w');
    const wasi = new WASI({ version: 'preview1', args: ['wasmface', 'model.bin', 'input.rgb'], preopens: { '/data': dir }, stdout: fd, returnOnExit: true });
    const code = wasi.start(new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), wasi.getImportObject() as WebAssembly.Imports));
    closeSync(fd);
    const text = readFileSync(outPath, 'utf8');
    assert.equal(code, 0, text);
    assert.match(text, new RegExp(`^sha256 ${want}$`, 'm'), `${id}: WASI output differs from the JS API`);
  }
});
