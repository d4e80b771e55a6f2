// Node entry: the same API, with the wasm builds read from the package's files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, WasmSources } from './loader.js';

const BUILD_DIRS = ['../build/', '../dist/', './'];

/** Resolves each build to its bytes from the package directory (build/ in a checkout, dist/ when installed). */
export function nodeWasmSources(): WasmSources {
  return (backend: Backend) => {
    const name = `wasmface.${backend}.wasm`;
    for (const dir of BUILD_DIRS) {
      try { return readFileSync(fileURLToPath(new URL(dir + name, import.meta.url))); } catch { /* next */ }
    }
    throw new Error(`${name} not found next to the package (run npm run build)`);
  };
}

export * from './index.js';
