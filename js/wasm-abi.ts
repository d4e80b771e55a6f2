// The wasm module's exports, as the loader sees them. All arguments and results are numbers
// (pointers are u32 offsets into `memory`), so no binding glue is needed between JS and wasm.

type Fn = (...args: number[]) => number;

export interface WasmExports {
  readonly memory: WebAssembly.Memory;
  buildFlavour(): number;
  alloc(size: number): number;
  free(ptr: number): number;
  sizeOf(ptr: number): number;
  setMemoryLimit(bytes: number): void;
  liveRegions(): number;
  liveBytes(): number;
  gemmPackedBytes: Fn;
  gemmPackWeights: Fn;
  fullyConnected: Fn;
  fullyConnectedScratchBytes: Fn;
  conv2d: Fn;
  conv2dScratchBytes: Fn;
  dwPackedBytes: Fn;
  dwScratchBytes: Fn;
  dwPackWeights: Fn;
  depthwiseConv2d: Fn;
  add: Fn; channelMul: Fn; lut: Fn; maxPool: Fn; avgPool: Fn; globalAvgPool: Fn;
  copyChannels: Fn; padZero: Fn; upsampleNearest: Fn;
  imageByteSize: Fn; toRgb: Fn; resizeScratchBytes: Fn; resizeBilinear: Fn; halve: Fn; warpAffine: Fn;
  quantizeImage: Fn; dequantize: Fn; l2Normalize: Fn;
  modelLoad: Fn; modelLoadDigest: Fn; modelLastError: Fn; modelFree: Fn; modelArenaBytes: Fn; modelInputInfo: Fn; modelSetInputSize: Fn;
  modelRun: Fn; modelOutputCount: Fn; modelOutputInfo: Fn; modelOutputScale: Fn; modelDequantizeOutput: Fn;
  sha256Digest: Fn; modelHeaderSize: Fn;
  detectDecode: Fn; alignEstimate: Fn; alignLevels: Fn; alignScratchBytes: Fn; alignWarp: Fn; patchRect: Fn;
  cropPatchScratchBytes: Fn; cropPatch: Fn; softmax: Fn; flipHorizontal: Fn; vecAdd: Fn; matchScores: Fn; matchTopK: Fn; pasteImage: Fn; cropQuality: Fn;
  gunzip: Fn; gunzipSize: Fn; inflateScratchBytes: Fn;
}

/** Export names with their parameter counts; the loader checks a module against it. */
export const ABI: Record<string, number> = {
  buildFlavour: 0, alloc: 1, free: 1, sizeOf: 1, setMemoryLimit: 1, liveRegions: 0, liveBytes: 0,
  gemmPackedBytes: 2, gemmPackWeights: 8, fullyConnected: 14, fullyConnectedScratchBytes: 2,
  conv2d: 24, conv2dScratchBytes: 6,
  dwPackedBytes: 3, dwScratchBytes: 3, dwPackWeights: 9, depthwiseConv2d: 22,
  add: 12, channelMul: 12, lut: 4, maxPool: 13, avgPool: 20, globalAvgPool: 10,
  copyChannels: 6, padZero: 9, upsampleNearest: 6,
  imageByteSize: 3, toRgb: 6, resizeScratchBytes: 2, resizeBilinear: 9, halve: 5, warpAffine: 14,
  quantizeImage: 5, dequantize: 5, l2Normalize: 2,
  modelLoad: 2, modelLoadDigest: 3, modelLastError: 0, modelFree: 1, modelArenaBytes: 1, modelInputInfo: 2, modelSetInputSize: 3,
  modelRun: 6, modelOutputCount: 1, modelOutputInfo: 3, modelOutputScale: 2, modelDequantizeOutput: 5,
  sha256Digest: 3, modelHeaderSize: 0,
  detectDecode: 13, alignEstimate: 4, alignLevels: 2, alignScratchBytes: 3, alignWarp: 11, patchRect: 8,
  cropPatchScratchBytes: 4, cropPatch: 12, softmax: 2, flipHorizontal: 5, vecAdd: 4, matchScores: 5, matchTopK: 4, pasteImage: 10, cropQuality: 4,
  gunzip: 6, gunzipSize: 2, inflateScratchBytes: 0,
};
