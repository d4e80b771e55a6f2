// Reduced soak (npm run soak runs 10,000 + 1,000): verifications and enrol/delete cycles leave wasm
// memory and live regions flat and the score bit-identical; removed templates leave no trace in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { soak } from '../../tools/soak/soak.js';
import { createNodeEngine, readImageFile } from '../../js/node.js';

const skip = existsSync(new URL('../../models/manifest.json', import.meta.url)) ? undefined : 'no bundled models';

test('reduced soak: memory flat, results unchanged', { skip, timeout: 300000 }, async () => {
  const r = await soak(150, 60);
  assert.equal(r.lastScore, r.firstScore, 'score unchanged bit for bit');
  assert.equal(r.wasmGrowthMB, 0, 'no wasm memory growth after warm-up');
  assert.ok(r.regionsEnd <= r.regionsStart, `live regions ${r.regionsStart} -> ${r.regionsEnd}`);
  assert.ok(r.rssGrowthMB < 40, `RSS grew ${r.rssGrowthMB.toFixed(1)} MB`);
  console.log(`soak (reduced): ${r.verifications} verifications + ${r.cycles} cycles in ${r.seconds.toFixed(1)} s, wasm growth ${r.wasmGrowthMB} MB, RSS growth ${r.rssGrowthMB.toFixed(1)} MB`);
});

test('a removed template leaves no copy of its embedding in wasm memory', { skip }, async () => {
  const e = await createNodeEngine();
  const img = (n: string) => readImageFile(new URL(`../../examples/images/${n}`, import.meta.url).pathname);
  const g = e.createGallery();
  const a = e.enroll(img('person-a-1.jpg'));
  g.add('a', a);
  g.add('b', e.enroll(img('person-b-1.jpg')));
  g.add('c', e.enroll(img('person-c-1.jpg')));
  const needle = Buffer.from(a.embedding.buffer, a.embedding.byteOffset, 64);
  const memory = () => Buffer.from(e.wasm.memory.buffer);
  assert.ok(memory().indexOf(needle) >= 0, 'present while enrolled');
  g.remove('a');
  e.enroll(img('person-b-1.jpg')); // the engine's scratch now holds someone else
  assert.equal(memory().indexOf(needle), -1, 'no copy left after removal');
  e.dispose();
});
