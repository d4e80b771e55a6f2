// Shared by the benchmark driver and its child processes: the images, statistics, paths.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OUT = `${ROOT}bench/out/`;
export const SHARED = process.env.WASMFACE_SHARED ?? fileURLToPath(new URL('../../../shared/', import.meta.url));

export interface BenchImage { id: string; path: string; kind: 'portrait' | 'crop' | 'example' }

/**
 * Three deepface portraits of different sizes, three LFW crops (tight, 250x250: the detector needs
 * the padded retry) and the three demo pictures in examples/images. Enrolment: person-a-1.jpg.
 */
export const IMAGES: BenchImage[] = [
  { id: 'deepface 466x700', path: `${SHARED}faces/deepface/p10/img45.jpg`, kind: 'portrait' },
  { id: 'deepface 1100x825', path: `${SHARED}faces/deepface/p02/img53.jpg`, kind: 'portrait' },
  { id: 'deepface 2048x1365', path: `${SHARED}faces/deepface/p04/img57.jpg`, kind: 'portrait' },
  { id: 'lfw Abdoulaye_Wade_0001', path: `${SHARED}faces/lfw/Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg`, kind: 'crop' },
  { id: 'lfw Abdullah_0001', path: `${SHARED}faces/lfw/Abdullah/Abdullah_0001.jpg`, kind: 'crop' },
  { id: 'lfw Abel_Pacheco_0001', path: `${SHARED}faces/lfw/Abel_Pacheco/Abel_Pacheco_0001.jpg`, kind: 'crop' },
  { id: 'example person-a-2 480x360', path: `${ROOT}examples/images/person-a-2.jpg`, kind: 'example' },
  { id: 'example person-b-1 360x480', path: `${ROOT}examples/images/person-b-1.jpg`, kind: 'example' },
  { id: 'example person-c-1 140x140', path: `${ROOT}examples/images/person-c-1.jpg`, kind: 'example' },
];
export const ENROL_IMAGE = `${ROOT}examples/images/person-a-1.jpg`;

export function availableImages(): BenchImage[] {
  return IMAGES.filter((i) => existsSync(i.path));
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
export const median = (xs: number[]) => quantile(xs, 0.5);
export const p90 = (xs: number[]) => quantile(xs, 0.9);

export interface Summary { median: number; p90: number; n: number; procMedians?: number[] }
export function summarize(xs: number[]): Summary {
  return { median: median(xs), p90: p90(xs), n: xs.length };
}

/** Messages between the driver and a worker (child_process IPC). */
export type Request =
  | { id: number; op: 'init'; config: Record<string, unknown> }
  | { id: number; op: 'run'; task: string; image: number; reps: number; args?: Record<string, unknown> }
  | { id: number; op: 'stats' }
  | { id: number; op: 'exit' };
export interface Reply { id: number; ok: boolean; error?: string; result?: unknown }

/** One timed iteration: stage name -> milliseconds. */
export type Sample = Record<string, number>;
