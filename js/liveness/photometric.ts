// Photometric planarity: how well one homography explains how the face's pixels moved between a
// reference frame and the current one. A print or a screen is a plane: whatever way it is tilted,
// one homography maps its pixels exactly (up to blur and noise), so the aligned error stays at the
// noise floor. A real head that turns or nods does not: the nose moves against the cheeks, the far
// cheek is hidden, the face's outline slides over the background, and no homography aligns them.
// Unlike landmarks (a regressor trained on real faces "sees" a turn in a tilted print and puts the
// nose where a 3-D head would have it), pixels cannot be talked into depth.
//
// The face region (a square of 2.4 inter-ocular distances around the landmarks) is sampled on a
// G x G grid from a box-filtered copy of each frame's luma; the homography (started from the
// four-landmark one) and a gain/offset are fitted by Gauss-Newton, and the result is the RMS of the
// remaining error over the grid, relative to the reference patch's contrast.

import type { ImageInput } from '../image.js';
import { checkImage } from '../image.js';
import { homography4, solveLinear, type Landmarks } from './geometry.js';

/** Grid points per side of the face region. */
export const PLANARITY_GRID = 24;
/** Side of the face region, in inter-ocular distances. */
export const PLANARITY_REGION = 1.6;

export interface Luma { data: Uint8Array | Float32Array; width: number; height: number }

/** The luma plane of an image (the Y plane of YUV frames as is; Rec. 601 weights for RGB). */
export function lumaOf(image: ImageInput): Luma {
  const format = checkImage(image);
  const { width, height } = image, n = width * height, d = image.data;
  if (format === 'gray' || format === 'nv21' || format === 'nv12' || format === 'i420') return { data: Uint8Array.from(d.subarray(0, n)), width, height };
  const out = new Uint8Array(n);
  const step = format === 'rgba' || format === 'bgra' ? 4 : 3, bgr = format === 'bgr' || format === 'bgra';
  for (let i = 0, j = 0; i < n; i++, j += step) {
    const r = d[j + (bgr ? 2 : 0)], g = d[j + 1], b = d[j + (bgr ? 0 : 2)];
    out[i] = (77 * r + 150 * g + 29 * b + 128) >> 8;
  }
  return { data: out, width, height };
}

/**
 * A box-filtered copy of a luma region (x0, y0, w, h in full-resolution pixels), kx by ky times
 * smaller: separate widths, so a tilted (foreshortened) face is blurred over the same share of
 * itself as the reference was.
 */
interface Level { data: Float32Array; w: number; h: number; x0: number; y0: number; kx: number; ky: number }

function level(l: Luma, x0: number, y0: number, w: number, h: number, kx: number, ky: number): Level {
  const lw = Math.max(2, Math.ceil(w / kx)), lh = Math.max(2, Math.ceil(h / ky)), out = new Float32Array(lw * lh);
  for (let y = 0; y < lh; y++) for (let x = 0; x < lw; x++) {
    let s = 0, c = 0;
    for (let dy = 0; dy < ky; dy++) {
      const yy = y0 + y * ky + dy;
      if (yy < 0 || yy >= l.height) continue;
      for (let dx = 0; dx < kx; dx++) {
        const xx = x0 + x * kx + dx;
        if (xx < 0 || xx >= l.width) continue;
        s += l.data[yy * l.width + xx]; c++;
      }
    }
    out[y * lw + x] = c ? s / c : NaN;
  }
  return { data: out, w: lw, h: lh, x0, y0, kx, ky };
}

/** Bilinear sample of a level at full-resolution coordinates, with its gradient; NaN outside. */
function sample(L: Level, x: number, y: number, out: Float64Array): void {
  const u = (x - L.x0) / L.kx - 0.5, v = (y - L.y0) / L.ky - 0.5;
  const i = Math.floor(u), j = Math.floor(v);
  if (i < 0 || j < 0 || i + 1 >= L.w || j + 1 >= L.h) { out[0] = NaN; return; }
  const fx = u - i, fy = v - j, p = j * L.w + i, d = L.data;
  const a = d[p], b = d[p + 1], c = d[p + L.w], e = d[p + L.w + 1];
  out[0] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + e * fx) * fy;
  out[1] = ((b - a) * (1 - fy) + (e - c) * fy) / L.kx;
  out[2] = ((c - a) * (1 - fx) + (e - b) * fx) / L.ky;
}

/** The reference side, kept between frames: where its face region is and its box-filtered luma on the grid. */
export interface PlanarityReference {
  landmarks: [number, number][];
  /** The face region: centre and side, pixels of the reference frame. */
  region: { cx: number; cy: number; side: number };
  values: Float64Array[]; // luma at each grid point per blur scale, coarse first (NaN outside the frame)
  contrast: number;       // standard deviation of the fine values
}

/**
 * The grid in normalised region coordinates (centre 0, side 1): the same for every reference, so it
 * is made once; normalised coordinates also keep the fit's normal equations well conditioned.
 */
const GRID_X = new Float64Array(PLANARITY_GRID * PLANARITY_GRID), GRID_Y = new Float64Array(PLANARITY_GRID * PLANARITY_GRID);
for (let j = 0; j < PLANARITY_GRID; j++) for (let i = 0; i < PLANARITY_GRID; i++) {
  GRID_X[j * PLANARITY_GRID + i] = (i + 0.5 - PLANARITY_GRID / 2) / PLANARITY_GRID;
  GRID_Y[j * PLANARITY_GRID + i] = (j + 0.5 - PLANARITY_GRID / 2) / PLANARITY_GRID;
}

function regionOf(lm: Landmarks): { cx: number; cy: number; side: number } {
  const iod = Math.hypot(lm[1][0] - lm[0][0], lm[1][1] - lm[0][1]);
  const cx = lm.reduce((s, p) => s + p[0], 0) / 5, cy = lm.reduce((s, p) => s + p[1], 0) / 5;
  return { cx, cy, side: iod * PLANARITY_REGION };
}

/** Box-filter widths, in grid spacings: coarse first (a wide basin for the fit), then fine. */
const SCALES = [8, 4, 2, 1];

/** Levels (one per scale) over the region the grid covers, box widths from the grid's spacing there. */
function levelsOver(l: Luma, xs: Float64Array, ys: Float64Array, G: number): Level[] {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let q = 0; q < xs.length; q++) {
    if (!Number.isFinite(xs[q]) || !Number.isFinite(ys[q])) continue;
    x0 = Math.min(x0, xs[q]); x1 = Math.max(x1, xs[q]); y0 = Math.min(y0, ys[q]); y1 = Math.max(y1, ys[q]);
  }
  if (!(x1 > x0 && y1 > y0) || x1 - x0 > 4 * Math.max(l.width, l.height) || y1 - y0 > 4 * Math.max(l.width, l.height)) return [];
  const sx = (x1 - x0) / G, sy = (y1 - y0) / G;
  return SCALES.map((f) => {
    const kx = Math.max(1, Math.round(sx * f)), ky = Math.max(1, Math.round(sy * f));
    return level(l, Math.floor(x0 - 2 * kx), Math.floor(y0 - 2 * ky), Math.ceil(x1 - x0 + 4 * kx), Math.ceil(y1 - y0 + 4 * ky), kx, ky);
  });
}

/** The grid mapped by p (normalised reference coordinates to current pixels). */
function warpGrid(p: Float64Array, qx: Float64Array, qy: Float64Array): [Float64Array, Float64Array] {
  const xs = new Float64Array(qx.length), ys = new Float64Array(qx.length);
  for (let q = 0; q < qx.length; q++) {
    const w = p[6] * qx[q] + p[7] * qy[q] + 1;
    xs[q] = w > 1e-6 ? (p[0] * qx[q] + p[1] * qy[q] + p[2]) / w : NaN;
    ys[q] = w > 1e-6 ? (p[3] * qx[q] + p[4] * qy[q] + p[5]) / w : NaN;
  }
  return [xs, ys];
}

/** Samples the reference frame's face region. */
export function planarityReference(l: Luma, lm: Landmarks): PlanarityReference {
  const region = regionOf(lm), N = GRID_X.length, s = new Float64Array(3);
  const xs = GRID_X.map((q) => region.cx + q * region.side), ys = GRID_Y.map((q) => region.cy + q * region.side);
  const values = levelsOver(l, xs, ys, PLANARITY_GRID).map((L) => {
    const v = new Float64Array(N);
    for (let q = 0; q < N; q++) { sample(L, xs[q], ys[q], s); v[q] = s[0]; }
    return v;
  });
  let sum = 0, sum2 = 0, n = 0;
  for (const v of values[values.length - 1] ?? []) if (Number.isFinite(v)) { sum += v; sum2 += v * v; n++; }
  const mean = n ? sum / n : 0;
  return { landmarks: lm.map((p) => [p[0], p[1]]), region, values, contrast: n ? Math.sqrt(Math.max(0, sum2 / n - mean * mean)) : 0 };
}

export interface PlanarityResult {
  /** sqrt(1 - rho^2) after the best homography: the share of the patch's contrast no plane explains. */
  error: number;
  /** Share of grid points inside both frames. */
  coverage: number;
  /** The fitted homography (normalised reference coordinates to current pixels; h22 = 1): the start for the next frame. */
  fit: Float64Array | null;
  /**
   * How much the fitted plane is squashed at the face's centre: the smaller over the larger singular
   * value of its Jacobian (1 facing the camera as in the reference, cos 60 degrees = 0.5 tilted 60).
   * The pixels' own measure of tilt, which landmarks on a tilted print get wrong.
   */
  squash: number;
}

/** sigma_min / sigma_max of the homography's Jacobian at the origin of the normalised coordinates. */
function squashOf(p: Float64Array): number {
  const u = p[2], v = p[5];
  const a = p[0] - p[6] * u, b = p[1] - p[7] * u, c = p[3] - p[6] * v, d = p[4] - p[7] * v;
  // singular values of [[a, b], [c, d]]
  const s1 = a * a + b * b + c * c + d * d, det = Math.abs(a * d - b * c);
  const disc = Math.sqrt(Math.max(0, s1 * s1 - 4 * det * det));
  const big = Math.sqrt((s1 + disc) / 2), small = Math.sqrt(Math.max(0, (s1 - disc) / 2));
  return big > 0 ? small / big : NaN;
}

/**
 * Correlation of the warped current patch with the reference at homography p (h0..h7), and, when
 * asked, the normal equations of one Gauss-Newton step for p with the current best gain/offset held
 * fixed (the enhanced-correlation approach: the fit cannot cheat by dimming the patch to nothing).
 */
function correlate(p: Float64Array, qx: Float64Array, qy: Float64Array, v0s: Float64Array, L: Level, normal: { JtJ: Float64Array; Jtr: Float64Array } | null): { rho: number; n: number } {
  const N = v0s.length, s = new Float64Array(3), J = new Float64Array(8);
  const val = new Float64Array(N), gx = new Float64Array(N), gy = new Float64Array(N), ok = new Uint8Array(N);
  let n = 0, s0 = 0, s1 = 0, s00 = 0, s11 = 0, s01 = 0;
  for (let q = 0; q < N; q++) {
    const v0 = v0s[q];
    if (!Number.isFinite(v0)) continue;
    const x = qx[q], y = qy[q], w = p[6] * x + p[7] * y + 1;
    if (!(w > 1e-6)) continue;
    sample(L, (p[0] * x + p[1] * y + p[2]) / w, (p[3] * x + p[4] * y + p[5]) / w, s);
    if (!Number.isFinite(s[0])) continue;
    ok[q] = 1; val[q] = s[0]; gx[q] = s[1]; gy[q] = s[2];
    n++; s0 += v0; s1 += s[0]; s00 += v0 * v0; s11 += s[0] * s[0]; s01 += v0 * s[0];
  }
  if (n < 16) return { rho: 0, n };
  const var0 = s00 / n - (s0 / n) ** 2, var1 = s11 / n - (s1 / n) ** 2, cov = s01 / n - (s0 / n) * (s1 / n);
  const rho = var0 > 0 && var1 > 0 ? cov / Math.sqrt(var0 * var1) : 0;
  if (!normal) return { rho, n };
  const gain = var0 > 0 ? cov / var0 : 0, offset = s1 / n - gain * (s0 / n);
  const { JtJ, Jtr } = normal;
  JtJ.fill(0); Jtr.fill(0);
  for (let q = 0; q < N; q++) {
    if (!ok[q]) continue;
    const x = qx[q], y = qy[q], w = p[6] * x + p[7] * y + 1;
    const u = (p[0] * x + p[1] * y + p[2]) / w, v = (p[3] * x + p[4] * y + p[5]) / w;
    const r = val[q] - (gain * v0s[q] + offset), ax = gx[q], ay = gy[q];
    J[0] = ax * x / w; J[1] = ax * y / w; J[2] = ax / w;
    J[3] = ay * x / w; J[4] = ay * y / w; J[5] = ay / w;
    J[6] = -(ax * u + ay * v) * x / w; J[7] = -(ax * u + ay * v) * y / w;
    for (let a = 0; a < 8; a++) { Jtr[a] += J[a] * r; for (let b = a; b < 8; b++) JtJ[a * 8 + b] += J[a] * J[b]; }
  }
  return { rho, n };
}

/**
 * Fits one homography from the reference patch to the current frame, coarse to fine (Levenberg-
 * Marquardt, only steps that raise the correlation kept), and returns sqrt(1 - rho^2) at the fine
 * scale: the share of the patch's contrast no homography (and gain/offset) explains. `previous` is
 * the last frame's `fit` (tracking); when it already explains the frame to below `enough`, the
 * search from the landmark guesses is skipped.
 */
export function photometricPlanarity(ref: PlanarityReference, l: Luma, lm: Landmarks, previous: Float64Array | null = null, enough = 0, iterations = 12): PlanarityResult {
  if (!(ref.contrast > 1)) return { error: NaN, coverage: 0, fit: null, squash: NaN };
  if (ref.values.length !== SCALES.length) return { error: NaN, coverage: 0, fit: null, squash: NaN };
  const rc = ref.region, sc = rc.side, qx = GRID_X, qy = GRID_Y;
  // landmarks on a tilted picture can be off by half an inter-ocular distance (the detector expects
  // a head), so the fit starts from several guesses and keeps the best, a plane needs only one to
  // work: the previous frame's fit (frames move little between each other: tracking), the 4-point
  // homography, a 5-point affine map and the eyes' similarity
  const starts = startingHomographies(ref.landmarks, lm).map((h0) => {
    // H0 * (normalised -> reference pixels), scaled so h22 = 1
    const m = [h0[0] * sc, h0[1] * sc, h0[0] * rc.cx + h0[1] * rc.cy + h0[2], h0[3] * sc, h0[4] * sc, h0[3] * rc.cx + h0[4] * rc.cy + h0[5], h0[6] * sc, h0[7] * sc, h0[6] * rc.cx + h0[7] * rc.cy + h0[8]];
    return new Float64Array(8).map((_, k) => m[k] / m[8]);
  });
  let best: PlanarityResult = { error: NaN, coverage: 0, fit: null, squash: NaN };
  const consider = (r: PlanarityResult) => { if (Number.isFinite(r.error) && !(r.error >= best.error)) best = r; };
  // each start gets levels over the region it maps the grid to, blurred to its spacing there
  const run = (start: Float64Array, scales: number) => {
    const levels = levelsOver(l, ...warpGrid(start, qx, qy), PLANARITY_GRID);
    if (levels.length) consider(fit(start.slice(), qx, qy, ref.values.slice(-scales), levels.slice(-scales), iterations));
  };
  if (previous) {
    // the last frame's fit is close already: fine scales only; a plane it explains needs no search
    run(previous, 2);
    if (best.error < enough) return best;
  }
  for (const start of starts) run(start, SCALES.length);
  return best;
}

/** Starting guesses (pixel homographies, reference -> current): 4-point, 5-point affine, eye similarity. */
function startingHomographies(a: Landmarks, b: Landmarks): Float64Array[] {
  const plane = [0, 1, 3, 4];
  const out: Float64Array[] = [];
  const h4 = homography4(plane.map((i) => a[i] as [number, number]), plane.map((i) => b[i] as [number, number]));
  if (h4) out.push(h4);
  const aff = affine5(a, b);
  if (aff) out.push(aff);
  // similarity from the eyes alone
  const [ax, ay] = [a[1][0] - a[0][0], a[1][1] - a[0][1]], [bx, by] = [b[1][0] - b[0][0], b[1][1] - b[0][1]];
  const d2 = ax * ax + ay * ay;
  if (d2 > 0) {
    const c = (ax * bx + ay * by) / d2, s = (ax * by - ay * bx) / d2;
    out.push(new Float64Array([c, -s, b[0][0] - (c * a[0][0] - s * a[0][1]), s, c, b[0][1] - (s * a[0][0] + c * a[0][1]), 0, 0, 1]));
  }
  return out;
}

/** Least-squares affine map of five points onto five (as a homography), or null. */
function affine5(a: Landmarks, b: Landmarks): Float64Array | null {
  const M = new Float64Array(9), rx = new Float64Array(3), ry = new Float64Array(3);
  for (let i = 0; i < 5; i++) {
    const v = [a[i][0], a[i][1], 1];
    for (let r = 0; r < 3; r++) { for (let c = 0; c < 3; c++) M[r * 3 + c] += v[r] * v[c]; rx[r] += v[r] * b[i][0]; ry[r] += v[r] * b[i][1]; }
  }
  const x = solveLinear(M, rx, 3), y = solveLinear(M, ry, 3);
  return x && y ? new Float64Array([x[0], x[1], x[2], y[0], y[1], y[2], 0, 0, 1]) : null;
}

/** Coarse-to-fine Levenberg-Marquardt from one start; the error at the fine scale. */
function fit(p: Float64Array, qx: Float64Array, qy: Float64Array, values: Float64Array[], levels: Level[], iterations: number): PlanarityResult {
  const N = qx.length;
  const normal = { JtJ: new Float64Array(64), Jtr: new Float64Array(8) }, A = new Float64Array(64);
  let error = NaN, coverage = 0;
  levels.forEach((L, si) => {
    const v0s = values[si];
    let lambda = 1e-3, cur = correlate(p, qx, qy, v0s, L, normal);
    for (let it = 0; it < iterations && cur.n >= N / 4; it++) {
      let improved = false;
      for (let tries = 0; tries < 6 && !improved; tries++) {
        A.set(normal.JtJ);
        for (let a = 0; a < 8; a++) { for (let b = 0; b < a; b++) A[a * 8 + b] = A[b * 8 + a]; A[a * 8 + a] = A[a * 8 + a] * (1 + lambda) + 1e-9; }
        const d = solveLinear(A, normal.Jtr, 8);
        if (!d) { lambda *= 10; continue; }
        const next = p.map((v, k) => v - d[k]);
        const r = correlate(next, qx, qy, v0s, L, null);
        if (r.n >= N / 4 && r.rho > cur.rho) { p = next; lambda = Math.max(1e-7, lambda / 3); improved = true; }
        else lambda *= 8;
      }
      if (!improved) break;
      cur = correlate(p, qx, qy, v0s, L, normal);
    }
    if (si === levels.length - 1) {
      coverage = cur.n / N;
      error = cur.n >= N / 4 ? Math.sqrt(Math.max(0, 1 - cur.rho * cur.rho)) : NaN;
    }
  });
  return { error, coverage, fit: p, squash: squashOf(p) };
}

