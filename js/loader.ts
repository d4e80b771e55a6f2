// Picks and instantiates a wasm build. No Node-only API: sources are bytes, compiled modules,
// Responses, or URLs fetched with the platform's fetch. Node callers pass bytes (see js/node.ts).

import { ABI, type WasmExports } from './wasm-abi.js';
import { BackendError, OptionError } from './errors.js';
import { describeValue } from './options.js';
import { selfTest } from './selftest.js';
import { isArrayBuffer } from './bytes.js';

export type Backend = 'scalar' | 'simd' | 'relaxed';
export const BACKENDS: readonly Backend[] = ['relaxed', 'simd', 'scalar'];
const FLAVOUR: Record<Backend, number> = { scalar: 0, simd: 1, relaxed: 2 };

export type WasmSource = BufferSource | WebAssembly.Module | URL | string | Response | PromiseLike<Response>;
export type WasmSources = Partial<Record<Backend, WasmSource>> | ((backend: Backend) => WasmSource | Promise<WasmSource>);

export interface LoadOptions {
  /** Which build to run. 'auto' (default) takes the best the engine supports and that passes its self-test. */
  backend?: 'auto' | Backend;
  /** Where the builds come from: a map per backend or a resolver function. */
  wasm: WasmSources;
  /** Ceiling on wasm memory in MiB (default 512). */
  memoryLimitMB?: number;
}

export interface LoadedWasm {
  exports: WasmExports;
  backend: Backend;
  /** Why better backends were not used (empty when the first choice worked). */
  skipped: Partial<Record<Backend, string>>;
}

// Smallest modules that validate only with the feature: () -> v128 { i8x16.splat(0) } and, for
// relaxed SIMD, the same plus i16x8.relaxed_dot_i8x16_i7x16_s (opcode 0xfd 0x112).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 15, 1, 13, 0, 65, 0, 253, 15, 65, 0, 253, 15, 253, 146, 2, 11]);

export interface Features { simd: boolean; relaxedSimd: boolean }

export function detectFeatures(): Features {
  const ok = (bytes: Uint8Array<ArrayBuffer>) => { try { return WebAssembly.validate(bytes); } catch { return false; } };
  return { simd: ok(SIMD_PROBE), relaxedSimd: ok(RELAXED_PROBE) };
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || (typeof URL !== 'undefined' && source instanceof URL)) {
    if (typeof fetch !== 'function') throw new Error('no fetch() in this engine: pass the wasm bytes instead of a URL');
    source = fetch(source);
  }
  if (isArrayBuffer(source) || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const response = await (source as Response | PromiseLike<Response>);
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers?.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  if (!response.ok) throw new Error(`fetching wasm failed: HTTP ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

function checkAbi(exports: Record<string, unknown>): WasmExports {
  if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error('module exports no memory');
  for (const [name, arity] of Object.entries(ABI)) {
    const f = exports[name];
    if (typeof f !== 'function' || f.length !== arity) throw new Error(`module export ${name} missing or has the wrong arity (a build from another version?)`);
  }
  return exports as unknown as WasmExports;
}

async function source(wasm: WasmSources, backend: Backend): Promise<WasmSource | undefined> {
  return typeof wasm === 'function' ? wasm(backend) : wasm[backend];
}

/** Instantiates one build and proves it computes correctly (known-answer self-test). */
export async function instantiateBackend(wasm: WasmSources, backend: Backend, memoryLimitMB = 512): Promise<WasmExports> {
  checkMemoryLimit(memoryLimitMB);
  const src = await source(wasm, backend);
  if (src === undefined) throw new Error('no wasm source given for this build');
  const module = await compile(src);
  const instance = await WebAssembly.instantiate(module, {});
  const exports = checkAbi(instance.exports as Record<string, unknown>);
  if (exports.buildFlavour() !== FLAVOUR[backend]) throw new Error(`the file given for '${backend}' is another build`);
  exports.setMemoryLimit(memoryLimitMB * 1048576);
  const failure = selfTest(exports);
  if (failure) throw new Error(`self-test failed: ${failure}`);
  return exports;
}

/** Wasm memory ceiling: whole MiB, enough for the models (16) and below what 32-bit wasm can address (4095). */
function checkMemoryLimit(mb: unknown): void {
  if (mb !== undefined && !(typeof mb === 'number' && Number.isInteger(mb) && mb >= 16 && mb <= 4095)) {
    throw new OptionError(`memoryLimitMB must be an integer in [16, 4095] (MiB of wasm memory), got ${describeValue(mb)}`);
  }
}

export async function loadWasm(options: LoadOptions): Promise<LoadedWasm> {
  const wanted = options.backend ?? 'auto';
  if (wanted !== 'auto' && !BACKENDS.includes(wanted)) throw new OptionError(`backend must be 'auto' or one of ${BACKENDS.join(', ')}, got ${describeValue(wanted)}`);
  checkMemoryLimit(options.memoryLimitMB);
  if (!options.wasm || (typeof options.wasm !== 'object' && typeof options.wasm !== 'function')) throw new OptionError(`wasm must be a map of backend -> source or a resolver function, got ${describeValue(options.wasm)}`);
  const features = detectFeatures();
  const supported: Record<Backend, boolean> = { relaxed: features.relaxedSimd, simd: features.simd, scalar: true };
  const order = wanted === 'auto' ? BACKENDS : [wanted];
  const skipped: Partial<Record<Backend, string>> = {};
  for (const backend of order) {
    if (!supported[backend]) { skipped[backend] = `this engine does not support ${backend === 'relaxed' ? 'relaxed SIMD' : 'SIMD'}`; continue; }
    try {
      const exports = await instantiateBackend(options.wasm, backend, options.memoryLimitMB);
      return { exports, backend, skipped };
    } catch (e) {
      skipped[backend] = e instanceof Error ? e.message : String(e);
    }
  }
  throw new BackendError(`no wasm build could start (${Object.entries(skipped).map(([b, r]) => `${b}: ${r}`).join('; ')})`, skipped as Record<string, string>);
}
