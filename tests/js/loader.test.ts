// The loader: feature probes, backend choice and fallback, every kind of source, the ABI and
// self-test checks, and typed errors when nothing can start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadWasm, detectFeatures, instantiateBackend, BackendError, OutOfMemoryError, Kernels } from '../../js/index.js';
import { selfTest } from '../../js/selftest.js';
import { buildPath } from '../helpers/builds.js';

const bytes = { scalar: readFileSync(buildPath('scalar')), simd: readFileSync(buildPath('simd')), relaxed: readFileSync(buildPath('relaxed')) };
const features = detectFeatures();

test('feature probes agree with what the engine can compile', () => {
  assert.equal(typeof features.simd, 'boolean');
  assert.equal(features.simd, WebAssembly.validate(bytes.simd));
  assert.equal(features.relaxedSimd, WebAssembly.validate(bytes.relaxed));
});

test('auto picks the best supported build', async () => {
  const { backend, skipped } = await loadWasm({ wasm: bytes });
  assert.equal(backend, features.relaxedSimd ? 'relaxed' : features.simd ? 'simd' : 'scalar');
  if (!features.relaxedSimd) assert.match(skipped.relaxed!, /relaxed SIMD/);
});

test('a forced backend is honoured', async () => {
  for (const b of ['scalar', 'simd'] as const) {
    const { backend, exports } = await loadWasm({ wasm: bytes, backend: b });
    assert.equal(backend, b);
    assert.equal(exports.buildFlavour(), b === 'scalar' ? 0 : 1);
  }
});

test('sources: bytes, ArrayBuffer, compiled Module, Response (streaming), resolver function', async () => {
  const ab = bytes.simd.buffer.slice(bytes.simd.byteOffset, bytes.simd.byteOffset + bytes.simd.byteLength);
  assert.equal((await loadWasm({ wasm: { simd: ab }, backend: 'simd' })).backend, 'simd');
  assert.equal((await loadWasm({ wasm: { simd: new WebAssembly.Module(bytes.simd) }, backend: 'simd' })).backend, 'simd');
  const response = new Response(bytes.simd, { headers: { 'content-type': 'application/wasm' } });
  assert.equal((await loadWasm({ wasm: { simd: response }, backend: 'simd' })).backend, 'simd');
  assert.equal((await loadWasm({ wasm: { simd: Promise.resolve(new Response(bytes.simd)) }, backend: 'simd' })).backend, 'simd');
  assert.equal((await loadWasm({ wasm: (b) => bytes[b], backend: 'scalar' })).backend, 'scalar');
});

test('a wrong or broken file falls back to the next build and says why', async () => {
  const { backend, skipped } = await loadWasm({ wasm: { relaxed: bytes.scalar, simd: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]), scalar: bytes.scalar } });
  assert.equal(backend, 'scalar');
  if (features.relaxedSimd) assert.match(skipped.relaxed!, /another build/);
  assert.ok(skipped.simd);
});

test('nothing loadable gives a BackendError listing every reason', async () => {
  await assert.rejects(loadWasm({ wasm: {} }), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /scalar: no wasm source given/);
    assert.ok('scalar' in e.reasons);
    return true;
  });
  await assert.rejects(loadWasm({ wasm: { scalar: new Uint8Array(8) }, backend: 'scalar' }), BackendError);
});

test('a module without the expected exports is refused', async () => {
  // smallest valid module: no exports at all
  const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
  await assert.rejects(instantiateBackend({ scalar: empty }, 'scalar'), /exports no memory|missing/);
});

test('the self-test catches a kernel that computes wrongly', async () => {
  const exports = await instantiateBackend({ simd: bytes.simd }, 'simd');
  assert.equal(selfTest(exports), null);
  const broken = Object.create(exports, {
    fullyConnected: { value: (...a: number[]) => { const s = exports.fullyConnected(...a); new Int8Array(exports.memory.buffer, a[5], 1)[0] ^= 1; return s; } },
  });
  assert.match(selfTest(broken)!, /row 0 channel 0/);
});

test('the memory limit turns a huge allocation into OutOfMemoryError', async () => {
  const exports = await instantiateBackend({ simd: bytes.simd }, 'simd', 16);
  const k = Kernels.fromExports(exports, 'simd');
  assert.throws(() => k.alloc(64 * 1048576), OutOfMemoryError);
  const p = k.alloc(1024);
  assert.ok(p > 0);
  k.free(p);
  assert.equal(exports.liveRegions(), 0);
});
