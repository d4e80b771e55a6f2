// WASI command entry (wasmtime, WAMR, wasm-interp --wasi, node:wasi): runs the kernels' SIMD paths
// against their scalar references inside the module on seeded data and prints one line per kernel.
// Exit code 0 when all agree. Built by the `wasi` target through @assemblyscript/wasi-shim, which
// supplies abort/trace over WASI; output goes through fd_write directly (no runtime allocations).

import { fd_write, fd_read, fd_close, fd_filestat_get, path_open, args_sizes_get, args_get, proc_exit, filestat } from "bindings/wasi_snapshot_preview1";
import { free } from "./core/alloc";
import { sha256 } from "./graph/sha256";
import { loadModel, unloadModel, M_ARENA_BYTES, M_CUR_W, M_CUR_H, M_OUTPUTS, M_TENSORS, RT_SIZE, RT_H, RT_W, RT_C, RT_ZP, RT_SCALE, RT_OFFSET } from "./graph/model";
import { runModel } from "./graph/run";
import { gunzipRaw, gzipSize, INFLATE_SCRATCH } from "./util/inflate";
import { dequantize } from "./image/tensor";
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

// ---- command line: wasmface.wasi.wasm MODEL.wfm[.gz] INPUT.rgb ----
// Runs a model on a raw RGB image of exactly the model's input size and prints output 0,
// dequantised, with the SHA-256 of its f32 bytes (to compare engines bit for bit). Paths are
// relative to the first preopened directory. Without arguments: the kernel self-checks.

const FD_PREOPEN: u32 = 3;
const scratch64 = memory.data(64);

function putInt(v: i64): void {
  if (v < 0) { put("-"); v = -v; }
  const digits = memory.data(24);
  let n = 0;
  do { store<u8>(digits + n++, <u8>(48 + <i32>(v % 10))); v /= 10; } while (v > 0);
  while (n > 0) store<u8>(line + lineLen++, load<u8>(digits + --n));
}

/** Fixed-point with 6 decimals (enough to read; the digest line is the exact comparison). */
function putFloat(x: f32): void {
  let v = <f64>x;
  if (v < 0) { put("-"); v = -v; }
  const scaled = <i64>Math.round(v * 1e6);
  putInt(scaled / 1000000);
  put(".");
  const frac = scaled % 1000000;
  for (let d: i64 = 100000; d >= 1; d /= 10) store<u8>(line + lineLen++, <u8>(48 + <i32>((frac / d) % 10)));
}

function putHex(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const b = load<u8>(p + i);
    store<u8>(line + lineLen++, <u8>((b >> 4) < 10 ? 48 + (b >> 4) : 87 + (b >> 4)));
    store<u8>(line + lineLen++, <u8>((b & 15) < 10 ? 48 + (b & 15) : 87 + (b & 15)));
  }
}

function fail(msg: string): void {
  put("wasmface-wasi: "); put(msg); flush();
  proc_exit(2);
}

/** Reads a whole file (relative to the preopened directory) into a new region; writes its size to *size. */
function readFile(path: usize, pathLen: usize, size: usize): usize {
  const fd = scratch64;
  // rights: fd_read (1 << 1), fd_filestat_get (1 << 21)
  if (path_open(FD_PREOPEN, 1, path, pathLen, 0, (1 << 1) | (1 << 21), 0, 0, fd) != 0) return 0;
  const f = load<u32>(fd);
  const stat = memory.data(64);
  if (fd_filestat_get(f, changetype<filestat>(stat)) != 0) { fd_close(f); return 0; }
  const n = <usize>load<u64>(stat, 32);
  const buf = alloc(max<usize>(n, 1));
  if (!buf) { fd_close(f); return 0; }
  let got: usize = 0;
  while (got < n) {
    store<usize>(iov, buf + got);
    store<usize>(iov, n - got, 4);
    if (fd_read(f, iov, 1, iov + 8) != 0) break;
    const r = load<usize>(iov, 8);
    if (r == 0) break;
    got += r;
  }
  fd_close(f);
  if (got != n) { free(buf); return 0; }
  store<usize>(size, n);
  return buf;
}

function strlen(p: usize): usize {
  let n: usize = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

function runCommand(argc: usize): i32 {
  const sizes = scratch64 + 16;
  args_sizes_get(sizes, sizes + 4);
  const argv = alloc(argc * 4), argvBuf = alloc(max<usize>(load<usize>(sizes, 4), 1));
  if (!argv || !argvBuf) { fail("out of memory"); return 2; }
  args_get(argv, argvBuf);
  const modelPath = load<usize>(argv, 4), inputPath = load<usize>(argv, 8);
  const fileSize = scratch64 + 32;
  let file = readFile(modelPath, strlen(modelPath), fileSize);
  if (!file) { fail("cannot read the model file (paths are relative to the preopened directory)"); return 2; }
  let len = load<usize>(fileSize);
  if (len >= 2 && load<u8>(file) == 0x1f && load<u8>(file, 1) == 0x8b) {
    const size = gzipSize(file, len);
    const out = size > 0 && size < (1 << 28) ? alloc(<usize>size) : 0, scratch = alloc(INFLATE_SCRATCH);
    if (!out || !scratch || gunzipRaw(file, len, out, <usize>size, scratch) != size) { fail("the gzip-compressed model is damaged"); return 2; }
    free(scratch); free(file);
    file = out; len = <usize>size;
  }
  const m = loadModel(file, <u32>len);
  free(file);
  if (m < 0) { put("wasmface-wasi: invalid model file, status "); putInt(m); flush(); return 2; }
  const model = <usize>m;
  const w = load<i32>(model + M_CUR_W), h = load<i32>(model + M_CUR_H);
  const input = readFile(inputPath, strlen(inputPath), fileSize);
  if (!input || load<usize>(fileSize) != <usize>w * h * 3) {
    put("wasmface-wasi: the input must be raw RGB of "); putInt(w); put("x"); putInt(h); put("x3 bytes"); flush();
    return 2;
  }
  const arenaBytes = load<u32>(model + M_ARENA_BYTES);
  const arena = alloc(arenaBytes);
  if (!arena || runModel(model, input, w, h, arena, arenaBytes) != 0) { fail("the model did not run"); return 2; }
  const t = load<usize>(model + M_TENSORS) + <usize>load<u32>(load<usize>(model + M_OUTPUTS)) * RT_SIZE;
  const n = load<i32>(t + RT_H) * load<i32>(t + RT_W) * load<i32>(t + RT_C);
  const values = alloc(<usize>n * 4);
  dequantize(arena + <usize>load<i32>(t + RT_OFFSET), n, load<i32>(t + RT_ZP), load<f32>(t + RT_SCALE), values);
  put("output 0: "); putInt(n); put(" values"); flush();
  for (let i = 0; i < n; i++) {
    putFloat(load<f32>(values + (<usize>i << 2)));
    if (i % 8 == 7 || i == n - 1) flush(); else put(" ");
  }
  const digest = memory.data(32);
  sha256(values, <usize>n * 4, digest);
  put("sha256 "); putHex(digest, 32); flush();
  unloadModel(model);
  return 0;
}

function main(): void {
  const sizes = scratch64 + 16;
  args_sizes_get(sizes, sizes + 4);
  const argc = load<usize>(sizes);
  proc_exit(argc >= 3 ? runCommand(argc) : selfCheck() == 0 ? 0 : 1);
}

// Top-level code is the module's start function, exported as _start by the wasi target.
main();
