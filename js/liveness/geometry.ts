// Geometry of the five face landmarks (right eye, left eye, nose tip, right and left mouth
// corner): yaw and pitch proxies, the 4-point homography, and the landmark planarity residual (how
// far the nose is from where a flat face would put it). Used by the active liveness check.

import { OptionError } from '../errors.js';

export type Landmarks = readonly (readonly [number, number])[];

export interface LandmarkGeometry {
  /** Inter-ocular distance in pixels. */
  iod: number;
  /** Nose offset across the face, from the eye-mouth midline, in IOD (grows as the head turns to the image's right). */
  yaw: number;
  /** Nose position down the face, 0 at the eye line and 1 at the mouth line (shrinks as the head looks up). */
  pitch: number;
  /** Inter-ocular over eye-to-mouth distance: the face's aspect, which a real head's turn or nod changes little. */
  aspect: number;
}

const sub = (a: readonly [number, number], b: readonly [number, number]): [number, number] => [a[0] - b[0], a[1] - b[1]];
const mid = (a: readonly [number, number], b: readonly [number, number]): [number, number] => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
const dot = (a: readonly [number, number], b: readonly [number, number]) => a[0] * b[0] + a[1] * b[1];

function checkLandmarks(lm: Landmarks): void {
  if (!Array.isArray(lm) || lm.length !== 5 || !lm.every((p) => Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]))) {
    throw new OptionError('landmarks must be five finite [x, y] points (right eye, left eye, nose, right and left mouth corner), as DetectedFace.landmarks');
  }
}

/** Yaw and pitch proxies of five landmarks (right eye, left eye, nose tip, right and left mouth corner). */
export function landmarkGeometry(lm: Landmarks): LandmarkGeometry {
  checkLandmarks(lm);
  const across = sub(lm[1], lm[0]), iod = Math.hypot(across[0], across[1]);
  const eyes = mid(lm[0], lm[1]), mouth = mid(lm[3], lm[4]), down = sub(mouth, eyes);
  const centre = mid(eyes, mouth), nose = lm[2];
  const downLen2 = dot(down, down);
  if (!(iod > 0) || !(downLen2 > 0)) return { iod: 0, yaw: NaN, pitch: NaN, aspect: NaN };
  return { iod, yaw: dot(sub(nose, centre), across) / (iod * iod), pitch: dot(sub(nose, eyes), down) / downLen2, aspect: iod / Math.sqrt(downLen2) };
}

/** The homography (row-major 3x3, h22 = 1) mapping four points onto four, or null when degenerate. */
export function homography4(from: readonly (readonly [number, number])[], to: readonly (readonly [number, number])[]): Float64Array | null {
  // 8x8 linear system: the direct linear transform with h22 = 1
  const A = new Float64Array(64), b = new Float64Array(8);
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i], [u, v] = to[i];
    A.set([x, y, 1, 0, 0, 0, -u * x, -u * y], 16 * i); b[2 * i] = u;
    A.set([0, 0, 0, x, y, 1, -v * x, -v * y], 16 * i + 8); b[2 * i + 1] = v;
  }
  const h = solveLinear(A, b, 8);
  if (!h) return null;
  const out = new Float64Array(9);
  out.set(h);
  out[8] = 1;
  return out;
}

/** Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting; null when singular. */
export function solveLinear(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const m = new Float64Array(n * (n + 1));
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) m[i * (n + 1) + j] = A[i * n + j]; m[i * (n + 1) + n] = b[i]; }
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * (n + 1) + c]) > Math.abs(m[p * (n + 1) + c])) p = r;
    if (!(Math.abs(m[p * (n + 1) + c]) > 1e-12)) return null;
    if (p !== c) for (let k = 0; k <= n; k++) { const t = m[c * (n + 1) + k]; m[c * (n + 1) + k] = m[p * (n + 1) + k]; m[p * (n + 1) + k] = t; }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * (n + 1) + c] / m[c * (n + 1) + c];
      if (f) for (let k = c; k <= n; k++) m[r * (n + 1) + k] -= f * m[c * (n + 1) + k];
    }
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = m[i * (n + 1) + n] / m[i * (n + 1) + i];
  return x;
}

/**
 * How far the nose is from where a flat face would put it, in IOD of the current frame: 0 for any
 * plane moved in front of the camera (up to landmark jitter), growing with a real head's turn or nod.
 */
export function planarityResidual(reference: Landmarks, current: Landmarks): number {
  checkLandmarks(reference); checkLandmarks(current);
  // normalise both frames (centroid at 0, IOD 1) so the 8x8 system is well conditioned
  const norm = (lm: Landmarks) => {
    const c = lm.reduce((s, p) => [s[0] + p[0] / 5, s[1] + p[1] / 5], [0, 0]);
    const s = Math.hypot(lm[1][0] - lm[0][0], lm[1][1] - lm[0][1]);
    return lm.map((p) => [(p[0] - c[0]) / s, (p[1] - c[1]) / s] as [number, number]);
  };
  const r = norm(reference), q = norm(current);
  const plane = [0, 1, 3, 4];
  const h = homography4(plane.map((i) => r[i]), plane.map((i) => q[i]));
  if (!h) return NaN;
  const [x, y] = r[2], w = h[6] * x + h[7] * y + h[8];
  if (!(Math.abs(w) > 1e-9)) return NaN;
  return Math.hypot((h[0] * x + h[1] * y + h[2]) / w - q[2][0], (h[3] * x + h[4] * y + h[5]) / w - q[2][1]);
}

