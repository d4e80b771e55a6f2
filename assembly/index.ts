// The only export surface of the wasm module. Everything exported returns a status code
// (core/status.ts) or a size; nothing here traps on bad arguments.

export { buildFlavour } from "./core/features";
export { alloc, free, sizeOf, setMemoryLimit, liveRegions, liveBytes } from "./core/alloc";
export {
  gemmPackedBytes, gemmPackWeights, fullyConnected, fullyConnectedScratchBytes,
  conv2d, conv2dScratchBytes,
  dwPackedBytes, dwScratchBytes, dwPackWeights, depthwiseConv2d,
} from "./api/kernels";
export {
  add, channelMul, lut, maxPool, avgPool, globalAvgPool, copyChannels, padZero, upsampleNearest,
  imageByteSize, toRgb, resizeScratchBytes, resizeBilinear, halve, warpAffine, quantizeImage, dequantize, l2Normalize,
} from "./api/ops";
export {
  modelLoad, modelLoadDigest, modelLastError, modelFree, modelArenaBytes, modelInputInfo, modelSetInputSize, modelRun,
  modelOutputCount, modelOutputInfo, modelOutputScale, modelDequantizeOutput, sha256Digest, modelHeaderSize,
} from "./api/model";
export {
  detectDecode, alignEstimate, alignLevels, alignScratchBytes, alignWarp, patchRect, cropPatchScratchBytes, cropPatch,
  softmax, flipHorizontal, vecAdd, matchScores, matchTopK, pasteImage, cropQuality,
} from "./api/pipeline";
export { gunzip, gunzipSize, inflateScratchBytes } from "./api/inflate";
