// The WASI build runs outside any JS glue: under node:wasi, and under wabt's native interpreter
// (`wasm-interp --wasi`, Debian package wabt) when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, openSync, closeSync, mkdtempSync } from 'node:fs';
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
