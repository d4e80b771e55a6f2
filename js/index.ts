// Public API of wasmface (engine-neutral core: no Node-only APIs).
export { loadWasm, detectFeatures, instantiateBackend, BACKENDS } from './loader.js';
export type { Backend, WasmSource, WasmSources, LoadOptions, LoadedWasm, Features } from './loader.js';
export { Kernels, outSize } from './kernels.js';
export type { Conv2dParams, DepthwiseParams, FullyConnectedParams, QuantParams } from './kernels.js';
export { quantizeMultipliers, requantRef } from './quant.js';
export type { Requant } from './quant.js';
export * from './errors.js';
export type { WasmExports } from './wasm-abi.js';
