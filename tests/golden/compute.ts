// Golden results for the bundled example images: SHA-256 of each embedding's f32 bytes, the face box
// and the liveness score bits, per build. `node --import tsx tests/golden/compute.ts --write`
// refreshes tests/golden/examples.json after a deliberate model or pipeline change (say why in the commit).
import { readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createNodeEngine, readImageFile } from '../../js/node.js';
import type { Backend } from '../../js/loader.js';

export async function goldens(backend: Backend): Promise<Record<string, string>> {
  const dir = new URL('../../examples/images/', import.meta.url);
  const e = await createNodeEngine({ backend });
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort()) {
    const img = readImageFile(new URL(f, dir).pathname);
    const r = e.embed(img), l = e.liveness(img);
    const h = createHash('sha256');
    h.update(new Uint8Array(r.embedding.buffer));
    h.update(new Uint8Array(Float32Array.from([r.face.box.x, r.face.box.y, r.face.box.width, r.face.box.height, l?.score ?? -1]).buffer));
    out[f] = h.digest('hex');
  }
  e.dispose();
  return out;
}

if (process.argv.includes('--write')) {
  const g = await goldens('scalar');
  writeFileSync(new URL('examples.json', import.meta.url), JSON.stringify(g, null, 2) + '\n');
  console.log(`wrote tests/golden/examples.json (${Object.keys(g).length} images)`);
}
