// Loads every wasm build that this engine can run, straight from build/, with the reason for any
// build it cannot (so tests say what they skipped and why).
import { readFileSync, existsSync } from 'node:fs';
import { instantiateBackend, detectFeatures, type Backend } from '../../js/loader.js';
import { mulberry32 } from '../../tools/rng.js';
import { Kernels } from '../../js/kernels.js';

export const buildPath = (b: Backend) => new URL(`../../build/wasmface.${b}.wasm`, import.meta.url);

export interface Loaded { backend: Backend; kernels?: Kernels; skip?: string }

export async function loadBuild(backend: Backend): Promise<Loaded> {
  const path = buildPath(backend);
  if (!existsSync(path)) return { backend, skip: `build/wasmface.${backend}.wasm missing: run npm run build` };
  const f = detectFeatures();
  if (backend === 'relaxed' && !f.relaxedSimd) {
    return { backend, skip: 'this node has no relaxed SIMD (node 20 needs --experimental-wasm-relaxed-simd)' };
  }
  if (backend !== 'scalar' && !f.simd) return { backend, skip: 'this engine has no SIMD' };
  const exports = await instantiateBackend({ [backend]: readFileSync(path) }, backend);
  return { backend, kernels: Kernels.fromExports(exports, backend) };
}

export async function loadBuilds(): Promise<Loaded[]> {
  return Promise.all((['scalar', 'simd', 'relaxed'] as Backend[]).map(loadBuild));
}

/** Deterministic PRNG (mulberry32) so failures reproduce from the printed seed. */
export function rng(seed: number) {
  const next = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[int(0, xs.length - 1)];
  const i8 = (n: number, lo = -128, hi = 127) => Int8Array.from({ length: n }, () => int(lo, hi));
  return { next, int, pick, i8 };
}
