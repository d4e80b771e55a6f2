// Matching: dot products of a unit query embedding with a gallery of unit embeddings (cosine
// similarity), f32 with SIMD where available, accumulated in a fixed order so every build and engine
// gives the same scores; and top-K selection.

import { SIMD } from "../core/features";

/** scores[i] = query . gallery[i] for count rows of dim f32 (dim a multiple of 4 in the SIMD path). */
export function dotScores(query: usize, gallery: usize, count: i32, dim: i32, scores: usize): void {
  for (let i = 0; i < count; i++) {
    const row = gallery + <usize>i * dim * 4;
    store<f32>(scores + (<usize>i << 2), dot(query, row, dim));
  }
}

/**
 * Dot product in a fixed association: four running partial sums over lanes i % 4, combined as
 * (s0 + s1) + (s2 + s3), then a scalar tail. The SIMD and scalar paths perform the same f32
 * operations in the same order, so results are bit-identical.
 */
@inline export function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  if (SIMD) {
    let acc = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
    s0 = f32x4.extract_lane(acc, 0); s1 = f32x4.extract_lane(acc, 1); s2 = f32x4.extract_lane(acc, 2); s3 = f32x4.extract_lane(acc, 3);
  } else {
    for (let i = 0; i < n4; i += 4) {
      s0 += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
      s1 += load<f32>(a + (<usize>i << 2), 4) * load<f32>(b + (<usize>i << 2), 4);
      s2 += load<f32>(a + (<usize>i << 2), 8) * load<f32>(b + (<usize>i << 2), 8);
      s3 += load<f32>(a + (<usize>i << 2), 12) * load<f32>(b + (<usize>i << 2), 12);
    }
  }
  let s = (s0 + s1) + (s2 + s3);
  for (let i = n4; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/**
 * Indices of the k highest scores (ties: lower index first), written as i32 to out, best first.
 * Returns how many were written (min(k, count)). O(count * k), k is small.
 */
export function topK(scores: usize, count: i32, k: i32, out: usize): i32 {
  const n = min(k, count);
  for (let j = 0; j < n; j++) {
    let best = -1;
    let bestScore: f32 = 0;
    for (let i = 0; i < count; i++) {
      const s = load<f32>(scores + (<usize>i << 2));
      let taken = false;
      for (let q = 0; q < j; q++) if (load<i32>(out + (<usize>q << 2)) == i) { taken = true; break; }
      if (taken) continue;
      if (best < 0 || s > bestScore) { best = i; bestScore = s; }
    }
    store<i32>(out + (<usize>j << 2), best);
  }
  return n;
}
