// The only export surface of the wasm module. Everything exported returns a status code
// (core/status.ts) or a size; nothing here traps on bad arguments.

export { buildFlavour } from "./core/features";
export { alloc, free, sizeOf, setMemoryLimit, liveRegions, liveBytes } from "./core/alloc";
export {
  gemmPackedBytes, gemmPackWeights, fullyConnected, fullyConnectedScratchBytes,
  conv2d, conv2dScratchBytes,
  dwPackedBytes, dwScratchBytes, dwPackWeights, depthwiseConv2d,
} from "./api/kernels";
