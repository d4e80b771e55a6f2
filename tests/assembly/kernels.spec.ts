// SIMD (and, under the relaxed config, relaxed-dot) kernels against their scalar references inside
// one module, on seeded data with awkward sizes. Run twice by scripts/test.mjs: with SIMD, and with
// SIMD + relaxed SIMD (node started with --experimental-wasm-relaxed-simd).
import { alloc, free } from "../../assembly/core/alloc";
import { buildFlavour } from "../../assembly/core/features";
import { gemm, gemmScalar, gemmPack, gemmPackedSize, gemmKp } from "../../assembly/kernels/gemm";
import { dwconv, dwconvScalar, dwPack, dwPackedSize, dwScratchSize } from "../../assembly/kernels/depthwise";
import { add, addScalar, lut, lutScalar } from "../../assembly/kernels/eltwise";

let seed: u32 = 99;
function fill(p: usize, n: i32, lo: i32, hi: i32): void {
  for (let i = 0; i < n; i++) {
    seed = seed * 1664525 + 1013904223;
    store<i8>(p + i, <i8>(lo + <i32>((seed >> 8) % <u32>(hi - lo + 1))));
  }
}
function firstDiff(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<i8>(a + i) != load<i8>(b + i)) return i;
  return -1;
}

describe("build", () => {
  it("is a SIMD build", () => {
    expect(buildFlavour()).toBeGreaterThanOrEqual(1);
  });
});

describe("gemm", () => {
  it("matches the scalar reference for 7-bit and 8-bit inputs on awkward shapes", () => {
    const ms: i32[] = [1, 2, 3, 7];
    const ks: i32[] = [1, 15, 17, 100];
    const ns: i32[] = [1, 3, 5, 33];
    for (let t = 0; t < 32; t++) {
      const m = ms[t & 3], k = ks[(t >> 2) & 3], n = ns[(t >> 1) & 3], u7 = (t & 1) == 1;
      const kp = gemmKp(k);
      const a = alloc(<usize>m * kp), w = alloc(<usize>n * k), mult = alloc(<usize>n * 4), multNeg = alloc(<usize>n * 4);
      fill(a, m * kp, u7 ? 0 : -128, 127);
      fill(w, n * k, -127, 127);
      for (let i = 0; i < n; i++) {
        store<i32>(mult + (<usize>i << 2), (1 << 30) + i * 100003);
        store<i32>(multNeg + (<usize>i << 2), (i & 1) ? -(1 << 27) : 1 << 28);
      }
      const packed = alloc(<usize>gemmPackedSize(n, k)), o1 = alloc(<usize>m * n), o2 = alloc(<usize>m * n);
      gemmPack(w, n, k, 0, mult, multNeg, u7 ? 17 : -9, packed);
      gemm(a, kp, m, kp, packed, n, o1, n, 41, 3, -100, 120, u7);
      gemmScalar(a, kp, m, kp, packed, n, o2, n, 41, 3, -100, 120);
      expect(firstDiff(o1, o2, m * n)).toBe(-1, "m=" + m.toString() + " k=" + k.toString() + " n=" + n.toString());
      free(a); free(w); free(mult); free(multNeg); free(packed); free(o1); free(o2);
    }
  });
});

describe("depthwise", () => {
  it("matches the scalar reference (3x3 interior runs, borders, channel tails, stride 2)", () => {
    const cs: i32[] = [1, 8, 19, 32];
    for (let t = 0; t < 16; t++) {
      const c = cs[t & 3], stride = 1 + ((t >> 2) & 1), k = (t >> 3) == 0 ? 3 : 5;
      const h = 9, w = 7, pad = k >> 1;
      const oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
      const x = alloc(<usize>h * w * c), wt = alloc(<usize>k * k * c), mult = alloc(<usize>c * 4);
      fill(x, h * w * c, -128, 127);
      fill(wt, k * k * c, -127, 127);
      for (let i = 0; i < c; i++) store<i32>(mult + (<usize>i << 2), (1 << 30) + i * 7919);
      const packed = alloc(<usize>dwPackedSize(c, k, k)), scratch = alloc(<usize>dwScratchSize(c, k, k));
      const o1 = alloc(<usize>oh * ow * c), o2 = alloc(<usize>oh * ow * c);
      dwPack(wt, c, k, k, 0, mult, 0, -2, packed);
      dwconv(x, h, w, c, o1, oh, ow, c, k, k, stride, stride, pad, pad, packed, 40, -2, 4, -128, 127, scratch);
      dwconvScalar(x, h, w, c, o2, oh, ow, c, k, k, stride, stride, pad, pad, packed, 40, -2, 4, -128, 127);
      expect(firstDiff(o1, o2, oh * ow * c)).toBe(-1, "c=" + c.toString() + " k=" + k.toString() + " stride=" + stride.toString());
      free(x); free(wt); free(mult); free(packed); free(scratch); free(o1); free(o2);
    }
  });
});

describe("element-wise", () => {
  it("add and lut match their scalar references", () => {
    const n = 1000;
    const a = alloc(n), b = alloc(n), o1 = alloc(n), o2 = alloc(n), table = alloc(256);
    fill(a, n, -128, 127); fill(b, n, -128, 127); fill(table, 256, -128, 127);
    add(a, b, o1, n, -3, 300000, 7, -500000, 20, 2, -128, 127);
    addScalar(a, b, o2, n, -3, 300000, 7, -500000, 20, 2, -128, 127);
    expect(firstDiff(o1, o2, n)).toBe(-1);
    lut(a, n, table, o1);
    lutScalar(a, n, table, o2);
    expect(firstDiff(o1, o2, n)).toBe(-1);
  });
});
