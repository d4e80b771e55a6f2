// Compile-time build flavour. One source; asc's feature flags select the code paths:
//   scalar  : neither flag      (engines without SIMD, embedded runtimes)
//   simd    : ASC_FEATURE_SIMD  (i32x4.dot_i16x8_s widening path)
//   relaxed : + ASC_FEATURE_RELAXED_SIMD (i16x8.relaxed_dot_i8x16_i7x16_s on 7-bit inputs)
// Branches on these constants are resolved by the compiler; the untaken side is never compiled.

export const SIMD: bool = ASC_FEATURE_SIMD;
export const RELAXED: bool = ASC_FEATURE_SIMD && ASC_FEATURE_RELAXED_SIMD;

/** 0 = scalar, 1 = simd, 2 = relaxed: lets the loader confirm which build it instantiated. */
export function buildFlavour(): i32 {
  return RELAXED ? 2 : SIMD ? 1 : 0;
}
