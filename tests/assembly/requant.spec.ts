// Hand-computed cases for the requantisation and the kernels' scalar references (as-pect).
import { requant, requantPrelu } from "../../assembly/core/requant";
import { alloc, free, owned } from "../../assembly/core/alloc";
import { gemmPack, gemmPackedSize, gemm, gemmScalar } from "../../assembly/kernels/gemm";
import { addOne } from "../../assembly/kernels/eltwise";

describe("requant", () => {
  it("rounds half up with one rounding step", () => {
    // mult 2^30 at shift 32: scale 0.25
    expect(requant(3, 1 << 30, 32, 0, -128, 127)).toBe(1);   // 0.75 -> 1
    expect(requant(2, 1 << 30, 32, 0, -128, 127)).toBe(1);   // 0.5 -> 1 (half up)
    expect(requant(-2, 1 << 30, 32, 0, -128, 127)).toBe(0);  // -0.5 -> 0 (half up)
    expect(requant(-3, 1 << 30, 32, 0, -128, 127)).toBe(-1); // -0.75 -> -1
  });
  it("adds the zero point and clamps", () => {
    expect(requant(1000, 1 << 30, 32, 10, -128, 127)).toBe(127);
    expect(requant(-1000, 1 << 30, 32, 10, -128, 127)).toBe(-128);
    expect(requant(40, 1 << 30, 32, 10, 0, 20)).toBe(20);
    expect(requant(-40, 1 << 30, 32, 10, 0, 127)).toBe(0);
  });
  it("uses the negative multiplier for negative accumulators (PReLU)", () => {
    // negative multiplier 2^28 (scale 1/16): -40 / 16 = -2.5 -> -2 (half up); positive side 40 * 0.25
    expect(requantPrelu(-40, 1 << 30, 1 << 28, 32, 0, -128, 127)).toBe(-2);
    expect(requantPrelu(40, 1 << 30, 1 << 28, 32, 0, -128, 127)).toBe(10);
  });
  it("handles extreme accumulators without overflow", () => {
    expect(requant(i32.MAX_VALUE, i32.MAX_VALUE, 62, 0, -128, 127)).toBe(1);
    expect(requant(i32.MIN_VALUE, i32.MAX_VALUE, 62, 0, -128, 127)).toBe(-1);
  });
});

describe("add", () => {
  it("combines two scaled inputs", () => {
    // (5 - 1) * 0.5 + (7 - 3) * 0.25 = 3 with shift 20: ma = 2^19, mb = 2^18
    expect(addOne(5, 7, 1, 1 << 19, 3, 1 << 18, 20)).toBe(3);
  });
});

describe("gemm", () => {
  it("computes a hand-checked 2x2 product with bias and zero point", () => {
    // a = [[1, 2], [3, 4]] (zero point 1), w = [[1, 0], [-1, 2]], bias = [10, -10]
    // acc[0] = 10 + (0*1 + 1*0) = 10; acc[1] = -10 + (0*-1 + 1*2) = -8
    // acc[2] = 10 + (2*1 + 3*0) = 12; acc[3] = -10 + (2*-1 + 3*2) = -6; scale (2^31-1)/2^32 ~ 0.5
    // -> 5 (5 - 2^-31 rounds up), -4, 6, -3
    const a = alloc(32), w = alloc(4), bias = alloc(8), mult = alloc(8);
    store<i8>(a, 1); store<i8>(a, 2, 1); store<i8>(a + 16, 3); store<i8>(a + 16, 4, 1);
    store<i8>(w, 1); store<i8>(w, 0, 1); store<i8>(w, -1, 2); store<i8>(w, 2, 3);
    store<i32>(bias, 10); store<i32>(bias, -10, 4);
    store<i32>(mult, i32.MAX_VALUE); store<i32>(mult, i32.MAX_VALUE, 4);
    const packed = alloc(<usize>gemmPackedSize(2, 2)), out = alloc(4), ref = alloc(4);
    gemmPack(w, 2, 2, bias, mult, 0, 1, packed);
    gemm(a, 16, 2, 16, packed, 2, out, 2, 32, 0, -128, 127, false);
    gemmScalar(a, 16, 2, 16, packed, 2, ref, 2, 32, 0, -128, 127);
    expect(load<i8>(out)).toBe(5);
    expect(load<i8>(out, 1)).toBe(-4);
    expect(load<i8>(out, 2)).toBe(6);
    expect(load<i8>(out, 3)).toBe(-3);
    for (let i = 0; i < 4; i++) expect(load<i8>(out + i)).toBe(load<i8>(ref + i));
    free(a); free(w); free(bias); free(mult); free(packed); free(out); free(ref);
  });
});

describe("allocator", () => {
  it("hands out zeroed regions and refuses buffers that straddle them", () => {
    const p = alloc(100);
    expect(p).toBeGreaterThan(0);
    expect(load<u8>(p + 99)).toBe(0);
    expect(owned(p, 100)).toBe(true);
    expect(owned(p, 113)).toBe(false); // region is rounded to 112 bytes
    expect(owned(p - 1, 1)).toBe(false);
    expect(free(p)).toBe(true);
    expect(free(p)).toBe(false);
    expect(owned(p, 1)).toBe(false);
  });
});
