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

/** NaN ranks below every score (validated inputs never hold one; a stray NaN must not break the order). */
@inline function rankOf(scores: usize, i: i32): f32 {
  const s = load<f32>(scores + (<usize>i << 2));
  return s != s ? -Infinity : s;
}

/** True when candidate a ranks above b: higher score, ties broken by the lower index. */
@inline function above(scores: usize, a: i32, b: i32): bool {
  const sa = rankOf(scores, a), sb = rankOf(scores, b);
  return sa > sb || (sa == sb && a < b);
}

/** Restores the heap property (worst on top) below slot `at` of a heap of n indices at `heap`. */
function siftDown(scores: usize, heap: usize, n: i32, at: i32): void {
  let i = at;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    let worst = l;
    const r = l + 1;
    if (r < n && above(scores, load<i32>(heap + (<usize>worst << 2)), load<i32>(heap + (<usize>r << 2)))) worst = r;
    const vi = load<i32>(heap + (<usize>i << 2)), vw = load<i32>(heap + (<usize>worst << 2));
    if (!above(scores, vi, vw)) return;
    store<i32>(heap + (<usize>i << 2), vw);
    store<i32>(heap + (<usize>worst << 2), vi);
    i = worst;
  }
}

/**
 * Indices of the k highest scores (ties: lower index first), written as i32 to out, best first.
 * Returns how many were written (min(k, count)). A heap of the k best so far, worst on top, lives in
 * `out` itself: O(count log k) time, no scratch; then heapsort turns it into best-first order.
 */
export function topK(scores: usize, count: i32, k: i32, out: usize): i32 {
  const n = min(k, count);
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), i);
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(scores, out, n, i);
  for (let i = n; i < count; i++) {
    if (above(scores, i, load<i32>(out))) {
      store<i32>(out, i);
      siftDown(scores, out, n, 0);
    }
  }
  // heapsort: move the worst to the end, repeatedly; the array ends best first
  for (let end = n - 1; end > 0; end--) {
    const top = load<i32>(out);
    store<i32>(out, load<i32>(out + (<usize>end << 2)));
    store<i32>(out + (<usize>end << 2), top);
    siftDown(scores, out, end, 0);
  }
  return n;
}
