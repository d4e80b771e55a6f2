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
export type { FaceEngineOptions, DetectedFace, Liveness, EmbedResult, VerifyOptions, VerifyResult, DecisionContext, Timings, IdentifyMatch, IdentifyOptions, IdentifyResult, ModelSource } from './engine.js';
export { MAX_MEMBER_ID_BYTES } from './gallery.js';
export { Model, Arena } from './model.js';
export type { ModelMeta, ModelOutput } from './model.js';
export { Template, TemplateError, TEMPLATE_VERSION, SEALED_TEMPLATE_VERSION, UNIT_NORM_TOLERANCE, checkUnitEmbedding } from './template.js';
export type { TemplateKey, SealOptions, UnsealOptions } from './template.js';
export { checkImage, imageByteLength, ImageFormatError, fromImageData, fromDrawable, fromVideoFrame } from './image.js';
export type { ImageInput } from './image.js';
export { PixelFormat } from './kernels.js';
export type { PixelFormatName } from './kernels.js';
export { AttemptLimiter, LockedOutError, MemoryLimiterStore } from './limiter.js';
export type { LimiterState, LimiterStore, AttemptLimiterOptions } from './limiter.js';
export { DEFAULT_OPERATING_POINTS, LIVENESS_OPERATING_POINTS } from './operating-points.js';
export type { OperatingPoints } from './operating-points.js';
export { assessQuality, faceGeometry, QUALITY_THRESHOLDS, GUIDANCE_TEXT } from './quality.js';
export type { FaceQuality, Guidance } from './quality.js';
export { FaceSession } from './session.js';
export type { SessionOptions, SessionUpdate, SessionState } from './session.js';
export { ActiveLivenessCheck, CHALLENGES, CHALLENGE_TEXT, ACTIVE_LIMITS } from './liveness/active.js';
export type { Challenge, ActiveLivenessOptions, ActiveFrame, ActiveUpdate, ActiveState, ActiveFailure } from './liveness/active.js';
export { lumaOf, photometricPlanarity, planarityReference } from './liveness/photometric.js';
export { landmarkGeometry, planarityResidual } from './liveness/geometry.js';
export type { FrameAnalysis } from './engine.js';
export {
  BundleError, MemoryBundleStateStore, defaultBundleStateStore, GALLERY_BUNDLE_VERSION, BUNDLE_CONTAINER_VERSION,
  encodeGalleryBundle, parseGalleryBundle, isGalleryBundle, exportGalleryBundle, diffGalleryBundles, applyGalleryBundle, galleryStateKey,
  generateBundleKeys, importBundlePublicKey, importBundlePrivateKey, bundleKeyId, toPem, describeModel,
  signBundle, packUnsignedBundle, verifyBundle, inspectBundle, pinsFromBundle, modelsFromBundle, galleryFromBundle, applySignedGalleryBundle,
} from './bundle.js';
export type {
  BundleErrorCode, BundleStateStore, GalleryBundle, GalleryBundleEntry, GalleryBundleInput, GalleryBundleKind, GalleryLike, GalleryApplyResult,
  BundleKeyPair, BundlePublicKeyInput, BundlePrivateKeyInput, ModelRole, BundleModelInfo, BundleKind, BundleManifest, BundleManifestInput,
  BundlePayloadInfo, BundlePayloadInput, VerifyBundleOptions, VerifiedBundle, BundleInspection,
} from './bundle.js';
