// The measured ceiling kernels are compared against (AssemblyScript, compiled by bench/kernels.ts):
// i32x4.dot_i16x8_s on data in L1, 8 independent accumulators, 2 loads per 8 dots (activations
// streamed, 4 weight vectors held in registers) — the inner loop of an ideal 2x4 tile.
// `relaxedDot` is the same with i16x8.relaxed_dot_i8x16_i7x16_s + extadd (16 MACs per dot).

export function dotI16(p: usize, bytes: i32, reps: i32): i32 {
  const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < bytes; i += 32) {
      const x0 = v128.load(p + i), x1 = v128.load(p + i, 16);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, w0)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x0, w1));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x0, w2)); a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x0, w3));
      a4 = i32x4.add(a4, i32x4.dot_i16x8_s(x1, w0)); a5 = i32x4.add(a5, i32x4.dot_i16x8_s(x1, w1));
      a6 = i32x4.add(a6, i32x4.dot_i16x8_s(x1, w2)); a7 = i32x4.add(a7, i32x4.dot_i16x8_s(x1, w3));
    }
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 3);
}

@inline function rdot(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, x)));
}

export function relaxedDot(p: usize, bytes: i32, reps: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const m = i8x16.splat(0x7f);
  const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < bytes; i += 32) {
      const x0 = v128.and(v128.load(p + i), m), x1 = v128.and(v128.load(p + i, 16), m);
      a0 = rdot(a0, w0, x0); a1 = rdot(a1, w1, x0); a2 = rdot(a2, w2, x0); a3 = rdot(a3, w3, x0);
      a4 = rdot(a4, w0, x1); a5 = rdot(a5, w1, x1); a6 = rdot(a6, w2, x1); a7 = rdot(a7, w3, x1);
    }
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 3);
}
