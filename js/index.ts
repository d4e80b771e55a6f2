// Public API of wasmface (engine-neutral core: no Node-only APIs).
export { loadWasm, detectFeatures, instantiateBackend, BACKENDS } from './loader.js';
export type { Backend, WasmSource, WasmSources, LoadOptions, LoadedWasm, Features } from './loader.js';
export { Kernels, outSize } from './kernels.js';
export type { Conv2dParams, DepthwiseParams, FullyConnectedParams, QuantParams } from './kernels.js';
export { quantizeMultipliers, requantRef } from './quant.js';
export type { Requant } from './quant.js';
export * from './errors.js';
export type { WasmExports } from './wasm-abi.js';
export { FaceEngine, Gallery, NoFaceError, DisposedError, FA150_TEMPLATE, EMBED_SIZE, sha256Hex } from './engine.js';
export type { FaceEngineOptions, DetectedFace, Liveness, EmbedResult, VerifyOptions, VerifyResult, Timings, IdentifyMatch, ModelSource } from './engine.js';
export { Model, Arena } from './model.js';
export type { ModelMeta, ModelOutput } from './model.js';
export { Template, TemplateError, TEMPLATE_VERSION } from './template.js';
export type { TemplateKey } from './template.js';
export { checkImage, imageByteLength, ImageFormatError, fromImageData, fromDrawable, fromVideoFrame } from './image.js';
export type { ImageInput } from './image.js';
export { PixelFormat } from './kernels.js';
export type { PixelFormatName } from './kernels.js';
