// Bundles the TypeScript API (compiled by tsc into build/js) into dist/:
//   wasmface.mjs / .cjs          engine-neutral core (browsers, workers, webviews, any JS engine)
//   wasmface.inline.mjs / .cjs   the same with the three wasm builds inlined as base64
//   wasmface.inline.iife.js      the inlined build as one classic script (global `wasmface`)
//   node.mjs / .cjs              Node entry (reads the wasm and bundled models from the package)
//   cli.mjs                      the wasmface command
// The wasm builds and models are copied next to them by scripts/build.mjs; types come from tsc.
import { readFileSync } from 'node:fs';

const external = (id) => id.startsWith('node:') || id === 'jpeg-js';
const src = 'build/js/js';

/** Replaces the inline-wasm placeholder module with the builds as base64 strings. */
function inlineWasm() {
  return {
    name: 'inline-wasm',
    load(id) {
      if (!id.endsWith('/inline-wasm.js')) return null;
      const b64 = (b) => readFileSync(`build/wasmface.${b}.wasm`).toString('base64');
      return `export const scalar = ${JSON.stringify(b64('scalar'))};\nexport const simd = ${JSON.stringify(b64('simd'))};\nexport const relaxed = ${JSON.stringify(b64('relaxed'))};\n`;
    },
  };
}

const both = (input, name, plugins = []) => ({
  input, external, plugins,
  output: [
    { file: `dist/${name}.mjs`, format: 'es', sourcemap: false },
    { file: `dist/${name}.cjs`, format: 'cjs', sourcemap: false, exports: 'named' },
  ],
});

export default [
  both(`${src}/index.js`, 'wasmface'),
  both(`${src}/inline.js`, 'wasmface.inline', [inlineWasm()]),
  both(`${src}/node.js`, 'node'),
  // one plain script with everything inlined, for <script> tags and bare JS shells (global `wasmface`)
  { input: `${src}/inline.js`, external, plugins: [inlineWasm()], output: { file: 'dist/wasmface.inline.iife.js', format: 'iife', name: 'wasmface' } },
  { input: `${src}/cli/wasmface.js`, external, output: { file: 'dist/cli.mjs', format: 'es', banner: '#!/usr/bin/env node' } },
];
