// Active liveness on recorded videos (live people moving their heads, replays, prints): recorded
// videos do not follow our prompts, so every 0.5 s a check of each single prompt starts and runs
// for its time window, as if that prompt had been shown then. Reports, per video, how many windows
// passed each prompt: a live video should pass the prompts of the moves it contains, a flat attack
// none (a replay of a real head's moves passes: that is the replay threat active liveness leaves).
// `node --import tsx tools/pad/video-eval.ts --list videos.csv --root DIR` (CSV: path,label) writes
// bench/out/video-liveness.json.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaceEngine, ImageInput } from '../../js/node.js';
import { ActiveLivenessCheck, CHALLENGES, ACTIVE_LIMITS, type Challenge } from '../../js/liveness/active.js';
import { landmarkGeometry } from '../../js/liveness/geometry.js';
import { lumaOf } from '../../js/liveness/photometric.js';
import { videoFrames, hasFfmpeg } from './video-frames.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface WindowResult {
  startMs: number;
  passed: Challenge[];
  reasons: Partial<Record<Challenge, string>>;
  /** The prompt whose move the face clearly made first in this window (1.5x the threshold, from its first frontal frame). */
  made: Challenge[];
}

/**
 * The first move clearly made between frames [from, to) (yaw/pitch proxies from the first frontal
 * frame), as the one a cooperative user would make for that prompt; later moves would follow others.
 */
function movesMade(faces: ({ landmarks: [number, number][] } | null)[], from: number, to: number): Challenge[] {
  let ref: ReturnType<typeof landmarkGeometry> | null = null;
  const made = new Set<Challenge>();
  for (let i = from; i < to; i++) {
    const f = faces[i];
    if (!f) continue;
    const g = landmarkGeometry(f.landmarks);
    if (!ref) { if (Math.abs(g.yaw) < ACTIVE_LIMITS.frontalYaw) ref = g; continue; }
    const dy = g.yaw - ref.yaw, dp = g.pitch - ref.pitch;
    if (dy >= 1.5 * ACTIVE_LIMITS.turn) made.add('turn-left');
    if (-dy >= 1.5 * ACTIVE_LIMITS.turn) made.add('turn-right');
    if (-dp >= 1.5 * ACTIVE_LIMITS.nod) made.add('look-up');
    if (dp >= 1.5 * ACTIVE_LIMITS.nod) made.add('look-down');
    if (made.size) break;
  }
  return [...made];
}

/** Sliding single-prompt checks over frames taken at `fps`. */
export function slidingChecks(engine: FaceEngine, frames: ImageInput[], fps: number, everyMs = 500, challengeMs = 5000): WindowResult[] {
  const dt = 1000 / fps;
  const faces = frames.map((f) => { const d = engine.detect(f)[0]; return d ? { landmarks: d.landmarks, luma: lumaOf(f) } : null; });
  const out: WindowResult[] = [];
  for (let start = 0; start < frames.length * dt; start += everyMs) {
    const first = Math.round(start / dt), passed: Challenge[] = [], reasons: Partial<Record<Challenge, string>> = {};
    for (const c of CHALLENGES) {
      const check = new ActiveLivenessCheck({ challenges: 1, challengeMs, random: () => CHALLENGES.indexOf(c) / CHALLENGES.length + 1e-9 });
      let u = check.push(faces[first], first * dt);
      for (let i = first + 1; i < frames.length && !check.done && (i - first) * dt <= challengeMs; i++) u = check.push(faces[i], i * dt);
      if (u.state === 'passed') passed.push(c); else if (u.reason) reasons[c] = u.reason;
    }
    out.push({ startMs: start, passed, reasons, made: movesMade(faces, first, Math.min(frames.length, first + Math.floor(challengeMs / dt) + 1)) });
  }
  return out;
}

if (process.argv[1]?.endsWith('video-eval.ts')) {
  if (!hasFfmpeg()) { console.error('video-eval needs ffmpeg and ffprobe (apt-get install ffmpeg)'); process.exit(2); }
  const { createNodeEngine } = await import('../../js/node.js');
  const { Progress } = await import('../../js/cli/progress.js');
  const arg = (n: string) => { const i = process.argv.indexOf(n); return i > 0 ? process.argv[i + 1] : undefined; };
  const list = arg('--list'), root = arg('--root') ?? '.';
  if (!list) { console.error('usage: video-eval.ts --list videos.csv --root DIR'); process.exit(2); }
  const rows = readFileSync(list, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).map(([path, label]) => ({ path, label }));
  const engine = await createNodeEngine();
  const progress = new Progress('videos', rows.length);
  const results = rows.map(({ path, label }) => {
    const frames = videoFrames(join(root, path), 480, 10, 300);
    const windows = slidingChecks(engine, frames, 10);
    progress.tick(1, path);
    const perPrompt = Object.fromEntries(CHALLENGES.map((c) => [c, windows.filter((w) => w.passed.includes(c)).length]));
    // a live window that clearly made a move should pass that prompt: the others are bona fide rejections
    const madeMoves = windows.flatMap((w) => w.made.map((c) => w.passed.includes(c)));
    return { path, label, frames: frames.length, windows: windows.length, perPrompt, anyPassed: windows.filter((w) => w.passed.length).length, movesMade: madeMoves.length, movesPassed: madeMoves.filter(Boolean).length };
  });
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/out/video-liveness.json'), JSON.stringify(results, null, 1));
  for (const r of results) console.log(`${r.label.padEnd(7)} ${r.path}: ${r.anyPassed}/${r.windows} windows passed a prompt; ${CHALLENGES.map((c) => `${c} ${r.perPrompt[c]}`).join(', ')}; moves clearly made ${r.movesMade}, passed ${r.movesPassed}`);
  const live = results.filter((r) => r.label === 'live'), made = live.reduce((n, r) => n + r.movesMade, 0), ok = live.reduce((n, r) => n + r.movesPassed, 0);
  if (made) console.log(`live: ${ok} of ${made} clearly made moves passed their prompt (bona fide rejection of a made move ${((100 * (made - ok)) / made).toFixed(1)} %)`);
  console.log('wrote bench/out/video-liveness.json');
}
