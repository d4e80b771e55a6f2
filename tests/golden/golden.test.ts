// Determinism: every build gives the pinned golden hashes (embedding bytes, face box, liveness score)
// for the bundled example images. A change here means results changed: deliberate changes refresh the
// goldens with tests/golden/compute.ts --write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { goldens } from './compute.js';
import { detectFeatures } from '../../js/loader.js';

const skip = existsSync(new URL('../../models/manifest.json', import.meta.url)) ? undefined : 'no bundled models';
const want = JSON.parse(readFileSync(new URL('examples.json', import.meta.url), 'utf8')) as Record<string, string>;

for (const backend of ['scalar', 'simd', 'relaxed'] as const) {
  const reason = skip ?? (backend === 'relaxed' && !detectFeatures().relaxedSimd ? 'no relaxed SIMD in this node (needs --experimental-wasm-relaxed-simd)' : undefined);
  test(`golden hashes of the example images [${backend}]`, { skip: reason }, async () => {
    assert.deepEqual(await goldens(backend), want);
  });
}
