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

export function computeMetrics(genuine: number[], impostor: number[], threshold: number): Metrics {
  const G = Float64Array.from(genuine).sort(), I = Float64Array.from(impostor).sort();
  const Idesc = I.slice().reverse();
  const countGE = (sorted: Float64Array, t: number) => { // sorted ascending
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] >= t) hi = mid; else lo = mid + 1; }
    return sorted.length - lo;
  };
  const tar: Record<string, number> = {}, thr: Record<string, number> = {};
  for (const [name, far] of FARS) {
    const t = thresholdAtFar(Idesc, far);
    thr[name] = t;
    tar[name] = G.length ? countGE(G, t) / G.length : 0;
  }
  // EER: sweep thresholds at every score, take the point where FRR and FAR cross
  const all = Float64Array.from([...genuine, ...impostor].filter(Number.isFinite)).sort();
  let eer = 1, best = Infinity;
  for (const t of [-Infinity, ...all, Infinity]) {
    const far = I.length ? countGE(I, t) / I.length : 0, frr = G.length ? 1 - countGE(G, t) / G.length : 0;
    if (Math.abs(far - frr) < best) { best = Math.abs(far - frr); eer = (far + frr) / 2; }
  }
  // AUC by ranks (Mann-Whitney), ties counting half
  let auc = 0;
  if (G.length && I.length) {
    let j = 0, k = 0;
    for (const g of G) {
      while (j < I.length && I[j] < g) j++;
      k = j;
      while (k < I.length && I[k] === g) k++;
      auc += j + (k - j) / 2;
    }
    auc /= G.length * I.length;
  }
  const correct = countGE(G, threshold) + (I.length - countGE(I, threshold));
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
