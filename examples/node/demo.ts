// npm run demo: verifies the bundled sample photos with the bundled int8 models, offline.
// A match (same person, two photos), a non-match (two people), and a tight greyscale crop pair.
import { createNodeEngine, haveBundledModels, readImageFile, detectFeatures } from '../../js/node.js';

const images = (name: string) => readImageFile(new URL(`../images/${name}`, import.meta.url).pathname);

if (!haveBundledModels()) {
  console.log('no models yet: the converted face models (models/) are missing; run npm run models');
  process.exit(0);
}
const features = detectFeatures();
const engine = await createNodeEngine();
console.log(`wasmface ${engine.backend} build (engine: SIMD ${features.simd}, relaxed SIMD ${features.relaxedSimd}); models ${Object.values(engine.models).flat().join(', ')}`);
console.log(`threshold ${engine.threshold('far1e-3').toFixed(4)} (operating point far1e-3)\n`);

for (const [a, b] of [['person-a-1.jpg', 'person-a-2.jpg'], ['person-a-1.jpg', 'person-b-1.jpg'], ['person-c-1.jpg', 'person-c-2.jpg']]) {
  const template = engine.enroll(images(a));
  const r = engine.verify(images(b), template);
  const sameFace = r.score >= r.threshold;
  const verdict = r.match ? 'MATCH   ' : !sameFace ? 'NO MATCH' : r.liveness?.reliable === false ? 'MATCH (face, liveness not judged)' : 'SAME FACE, NOT LIVE';
  const liveness = !r.liveness ? '-' : r.liveness.reliable ? r.liveness.score.toFixed(3) : 'n/a (face fills the frame)';
  console.log(`${verdict} ${a} vs ${b}: score ${r.score.toFixed(4)}, liveness ${liveness}, ` +
    `faces ${r.faces}, ${r.timingsMs.total.toFixed(1)} ms (detect ${r.timingsMs.detect.toFixed(1)}, embed ${r.timingsMs.embed.toFixed(1)}, liveness ${r.timingsMs.liveness.toFixed(1)})`);
}
engine.dispose();
