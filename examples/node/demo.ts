// npm run demo: loads the best wasm build this engine supports and runs the bundled example.
// Until the converted models land (models/), it shows the kernels working and says so.
import { existsSync } from 'node:fs';
import { loadWasm, detectFeatures } from '../../js/index.js';
import { nodeWasmSources } from '../../js/node.js';

const features = detectFeatures();
const { backend, skipped, exports } = await loadWasm({ wasm: nodeWasmSources() });
console.log(`wasmface: engine supports SIMD=${features.simd}, relaxed SIMD=${features.relaxedSimd}; using the ${backend} build (self-test passed)`);
for (const [b, why] of Object.entries(skipped)) console.log(`  skipped ${b}: ${why}`);
console.log(`  wasm memory: ${exports.memory.buffer.byteLength / 1024} KB`);
if (!existsSync(new URL('../../models/manifest.json', import.meta.url))) {
  console.log('no models yet: the converted face models (models/) have not landed, so there is nothing to compare.');
}
