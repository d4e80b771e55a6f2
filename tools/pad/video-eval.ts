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
import { ActiveLivenessCheck, CHALLENGES, type Challenge } from '../../js/liveness/active.js';
import { lumaOf } from '../../js/liveness/photometric.js';
import { videoFrames, hasFfmpeg } from './video-frames.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface WindowResult { startMs: number; passed: Challenge[]; reasons: Partial<Record<Challenge, string>> }

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
    out.push({ startMs: start, passed, reasons });
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
    return { path, label, frames: frames.length, windows: windows.length, perPrompt, anyPassed: windows.filter((w) => w.passed.length).length };
  });
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/out/video-liveness.json'), JSON.stringify(results, null, 1));
  for (const r of results) console.log(`${r.label.padEnd(7)} ${r.path}: ${r.anyPassed}/${r.windows} windows passed a prompt; ${CHALLENGES.map((c) => `${c} ${r.perPrompt[c]}`).join(', ')}`);
  console.log('wrote bench/out/video-liveness.json');
}
