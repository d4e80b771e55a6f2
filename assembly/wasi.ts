// WASI command entry (wasmtime, WAMR, wasm-interp --wasi, node:wasi): runs the kernels' SIMD paths
// against their scalar references inside the module on seeded data and prints one line per kernel.
// Exit code 0 when all agree. Built by the `wasi` target through @assemblyscript/wasi-shim, which
// supplies abort/trace over WASI; output goes through fd_write directly (no runtime allocations).

import { fd_write, proc_exit } from "bindings/wasi_snapshot_preview1";
import { alloc } from "./core/alloc";
import { buildFlavour } from "./core/features";
import { gemm, gemmScalar, gemmPack, gemmPackedSize, gemmKp } from "./kernels/gemm";
import { dwconv, dwconvScalar, dwPack, dwPackedSize, dwScratchSize } from "./kernels/depthwise";

export { alloc, free } from "./core/alloc";

const line = memory.data(256);
const iov = memory.data(16);
let lineLen: i32 = 0;

function put(s: string): void {
  for (let i = 0; i < s.length; i++) store<u8>(line + lineLen++, <u8>s.charCodeAt(i));
}

function flush(): void {
  store<u8>(line + lineLen++, 10);
  store<usize>(iov, line);
  store<usize>(iov, lineLen, 4);
  fd_write(1, iov, 1, iov + 8);
  lineLen = 0;
}

let seed: u32 = 12345;
function fillRandom(p: usize, n: i32, lo: i32, hi: i32): void {
  for (let i = 0; i < n; i++) {
    seed = seed * 1103515245 + 12345;
    store<i8>(p + i, <i8>(lo + <i32>((seed >> 16) % <u32>(hi - lo + 1))));
  }
}

function same(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<i8>(a + i) != load<i8>(b + i)) return false;
  return true;
}

function checkGemm(m: i32, k: i32, n: i32, u7: bool): bool {
  const kp = gemmKp(k);
  const a = alloc(<usize>m * kp), w = alloc(<usize>n * k), mult = alloc(<usize>n * 4);
  const packed = alloc(<usize>gemmPackedSize(n, k)), o1 = alloc(<usize>m * n), o2 = alloc(<usize>m * n);
  if (!a || !w || !mult || !packed || !o1 || !o2) return false;
  fillRandom(a, m * kp, u7 ? 0 : -128, 127);
  fillRandom(w, n * k, -127, 127);
  for (let i = 0; i < n; i++) store<i32>(mult + (<usize>i << 2), (1 << 30) + i * 9973);
  gemmPack(w, n, k, 0, mult, 0, 3, packed);
  gemm(a, kp, m, kp, packed, n, o1, n, 44, -5, -128, 127, u7);
  gemmScalar(a, kp, m, kp, packed, n, o2, n, 44, -5, -128, 127);
  return same(o1, o2, m * n);
}

function checkDepthwise(h: i32, w: i32, c: i32, stride: i32): bool {
  const oh = (h + 2 - 3) / stride + 1, ow = (w + 2 - 3) / stride + 1;
  const x = alloc(<usize>h * w * c), wt = alloc(<usize>9 * c), mult = alloc(<usize>c * 4);
  const packed = alloc(<usize>dwPackedSize(c, 3, 3)), scratch = alloc(<usize>dwScratchSize(c, 3, 3));
  const o1 = alloc(<usize>oh * ow * c), o2 = alloc(<usize>oh * ow * c);
  if (!x || !wt || !mult || !packed || !scratch || !o1 || !o2) return false;
  fillRandom(x, h * w * c, -128, 127);
  fillRandom(wt, 9 * c, -127, 127);
  for (let i = 0; i < c; i++) store<i32>(mult + (<usize>i << 2), (1 << 30) + i * 7919);
  dwPack(wt, c, 3, 3, 0, mult, 0, -2, packed);
  dwconv(x, h, w, c, o1, oh, ow, c, 3, 3, stride, stride, 1, 1, packed, 40, -2, 4, -128, 127, scratch);
  dwconvScalar(x, h, w, c, o2, oh, ow, c, 3, 3, stride, stride, 1, 1, packed, 40, -2, 4, -128, 127);
  return same(o1, o2, oh * ow * c);
}

function report(name: string, ok: bool): bool {
  put("wasmface-wasi "); put(name); put(ok ? ": ok" : ": MISMATCH");
  flush();
  return ok;
}

/** Runs the checks, printing one line each; returns the number that failed. Also exported so hosts
 *  without WASI (wasm-interp --dummy-import-func --run-all-exports) can read the result. */
export function selfCheck(): i32 {
  put("wasmface-wasi build "); put(buildFlavour() == 2 ? "relaxed" : buildFlavour() == 1 ? "simd" : "scalar");
  flush();
  let failed = 0;
  if (!report("gemm 7x40x5", checkGemm(7, 40, 5, false))) failed++;
  if (!report("gemm 7-bit 9x100x33", checkGemm(9, 100, 33, true))) failed++;
  if (!report("depthwise 3x3 s1 c=19", checkDepthwise(9, 7, 19, 1))) failed++;
  if (!report("depthwise 3x3 s2 c=32", checkDepthwise(11, 10, 32, 2))) failed++;
  return failed;
}

function main(): void {
  proc_exit(selfCheck() == 0 ? 0 : 1);
}

// Top-level code is the module's start function, exported as _start by the wasi target.
main();
