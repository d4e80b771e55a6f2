// Verification metrics from genuine and impostor scores: TAR at fixed FAR, EER, ROC AUC, accuracy
// at a threshold, and ROC points. A pair whose image had no face is scored -Infinity: a genuine pair
// then counts as a false reject, never as dropped.

export interface Metrics {
  pairs: number;
  genuine: number;
  impostor: number;
  tar_at_far: Record<string, number>;
  thresholds_at_far: Record<string, number>;
  eer: number;
  auc: number;
  accuracy: number;
  threshold: number;
}

const FARS: [string, number][] = [['1e-2', 1e-2], ['1e-3', 1e-3], ['1e-4', 1e-4]];

/** Smallest threshold t (score >= t matches) at which at most far * |impostors| impostors match. */
export function thresholdAtFar(impostorsDesc: Float64Array, far: number): number {
  const n = impostorsDesc.length;
  const allowed = Math.floor(far * n + 1e-9);
  if (allowed >= n) return -Infinity;
  // the (allowed+1)-th highest impostor must be rejected: threshold just above it
  const v = impostorsDesc[allowed];
  return v === Infinity ? Infinity : nextUp(v);
}

function nextUp(v: number): number {
  if (v === -Infinity) return -Number.MAX_VALUE;
  const f = new Float64Array([v]), b = new BigInt64Array(f.buffer);
  if (v === 0) return Number.MIN_VALUE;
  b[0] += v > 0 ? 1n : -1n;
  return f[0];
}

/** How many of the ascending `sorted` scores are >= t (binary search). */
export function countAtLeast(sorted: ArrayLike<number>, t: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] >= t) hi = mid; else lo = mid + 1; }
  return sorted.length - lo;
}

/** ROC AUC by ranks (Mann-Whitney): the chance a positive scores above a negative, ties half; null if either side is empty. */
export function aucByRanks(positive: ArrayLike<number>, negative: ArrayLike<number>): number | null {
  if (!positive.length || !negative.length) return null;
  const P = Float64Array.from(positive).sort(), N = Float64Array.from(negative).sort();
  let sum = 0;
  for (let i = 0, j = 0, k = 0; i < P.length; i++) {
    while (j < N.length && N[j] < P[i]) j++;
    k = j;
    while (k < N.length && N[k] === P[i]) k++;
    sum += j + (k - j) / 2;
  }
  return sum / (P.length * N.length);
}

export function computeMetrics(genuine: number[], impostor: number[], threshold: number): Metrics {
  const G = Float64Array.from(genuine).sort(), I = Float64Array.from(impostor).sort();
  const Idesc = I.slice().reverse();
  const tar: Record<string, number> = {}, thr: Record<string, number> = {};
  for (const [name, far] of FARS) {
    const t = thresholdAtFar(Idesc, far);
    thr[name] = t;
    tar[name] = G.length ? countAtLeast(G, t) / G.length : 0;
  }
  // EER: sweep thresholds at every score, take the point where FRR and FAR cross
  const all = Float64Array.from([...genuine, ...impostor].filter(Number.isFinite)).sort();
  let eer = 1, best = Infinity;
  for (const t of [-Infinity, ...all, Infinity]) {
    const far = I.length ? countAtLeast(I, t) / I.length : 0, frr = G.length ? 1 - countAtLeast(G, t) / G.length : 0;
    if (Math.abs(far - frr) < best) { best = Math.abs(far - frr); eer = (far + frr) / 2; }
  }
  const auc = aucByRanks(G, I) ?? 0;
  const correct = countAtLeast(G, threshold) + (I.length - countAtLeast(I, threshold));
  return {
    pairs: G.length + I.length, genuine: G.length, impostor: I.length, tar_at_far: tar, thresholds_at_far: thr,
    eer, auc, accuracy: (G.length + I.length) ? correct / (G.length + I.length) : 0, threshold,
  };
}

/** ROC points (FAR, TAR) at every distinct score, thinned to about maxPoints. */
export function rocPoints(genuine: number[], impostor: number[], maxPoints = 400): [number, number][] {
  const G = Float64Array.from(genuine).sort(), I = Float64Array.from(impostor).sort();
  const scores = Float64Array.from(new Set([...genuine, ...impostor].filter(Number.isFinite))).sort().reverse();
  const pts: [number, number][] = [];
  let gi = G.length - 1, ii = I.length - 1, tp = 0, fp = 0;
  const step = Math.max(1, Math.floor(scores.length / maxPoints));
  scores.forEach((t, idx) => {
    while (gi >= 0 && G[gi] >= t) { tp++; gi--; }
    while (ii >= 0 && I[ii] >= t) { fp++; ii--; }
    if (idx % step === 0 || idx === scores.length - 1) pts.push([I.length ? fp / I.length : 0, G.length ? tp / G.length : 0]);
  });
  return pts;
}
