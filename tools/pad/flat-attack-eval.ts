// Flat attacks against active liveness, through the real detector: each photo is a print (or a
// phone screen: gamma, moire, blur) held in front of a textured scene, facing the camera, then
// tilted, bent and moved along a trajectory as an attacker following the prompt would; every frame
// goes through FaceEngine.detect and the same ActiveLivenessCheck a session uses, once per prompt.
// An attack counts as passing a prompt when any trajectory passes it.
// `node --import tsx tools/pad/flat-attack-eval.ts [--photos N]` writes bench/out/flat-attack.json.
import { readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageFile, type FaceEngine, type ImageInput } from '../../js/node.js';
import { renderPicture, type PlanePose, type CaptureEffects } from './flat-attack.js';
import { ActiveLivenessCheck, CHALLENGES, type Challenge } from '../../js/liveness/active.js';
import { lumaOf } from '../../js/liveness/photometric.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Photos to attack with: the repo's example images, then one per identity of the dev set (when present). */
export function attackPhotos(limit: number): string[] {
  const list = readdirSync(join(ROOT, 'examples/images')).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(ROOT, 'examples/images', f));
  const dev = join(ROOT, '../shared/faces/deepface');
  if (existsSync(dev)) {
    for (const d of readdirSync(dev).filter((d) => !d.startsWith('_')).sort()) {
      const f = readdirSync(join(dev, d)).filter((x) => /\.(jpe?g|png)$/i.test(x)).sort()[0];
      if (f) list.push(join(dev, d, f));
    }
  }
  return list.slice(0, limit);
}

/** A tilt trajectory: from facing the camera to `to`, over `frames` frames, then held. */
export interface Trajectory { to: PlanePose; screen: boolean }

export function trajectories(full: boolean): Trajectory[] {
  const out: Trajectory[] = [];
  const yaws = full ? [-60, -45, -30, 30, 45, 60] : [-50, 50];
  const pitches = full ? [-40, 0, 40] : [0, 40];
  for (const yawDeg of yaws) for (const pitchDeg of pitches) out.push({ to: { yawDeg, pitchDeg, distance: 1.4, bend: full && pitchDeg === 0 ? 1.5 : 0 }, screen: false });
  for (const pitchDeg of full ? [-45, -30, 30, 45] : [-40, 40]) out.push({ to: { yawDeg: 0, pitchDeg, distance: 1.4 }, screen: true });
  return out;
}

const lerp = (a: PlanePose, b: PlanePose, k: number): PlanePose => ({
  yawDeg: a.yawDeg + (b.yawDeg - a.yawDeg) * k, pitchDeg: a.pitchDeg + (b.pitchDeg - a.pitchDeg) * k,
  distance: a.distance + (b.distance - a.distance) * k, bend: (a.bend ?? 0) + ((b.bend ?? 0) - (a.bend ?? 0)) * k,
});

/** Runs one trajectory of one photo against all four prompts; returns the prompts it passed. */
export function attack(engine: FaceEngine, photo: ImageInput, t: Trajectory, background: ImageInput, seed: number): Challenge[] {
  const start: PlanePose = { yawDeg: 0, pitchDeg: 0, distance: 1.4 };
  const effects: CaptureEffects = t.screen ? { gamma: 1.3, moire: 0.08, blur: 1, noise: 3, background } : { blur: 1, noise: 3, background };
  let s = seed >>> 0;
  effects.random = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  const checks = CHALLENGES.map((c) => new ActiveLivenessCheck({ challenges: 1, random: () => CHALLENGES.indexOf(c) / CHALLENGES.length + 1e-9 }));
  const steps = 10, hold = 5;
  for (let i = 0; i < 3 + steps + hold; i++) {
    const k = Math.max(0, Math.min(1, (i - 3) / steps));
    const frame = renderPicture(photo, lerp(start, t.to, k), 480, 360, effects);
    const face = engine.detect(frame)[0];
    const luma = lumaOf(frame);
    for (const c of checks) c.push(face ? { landmarks: face.landmarks, luma } : null, i * 100);
  }
  return CHALLENGES.filter((_, i) => checks[i].push(null, (3 + steps + hold) * 100).state === 'passed');
}

if (process.argv[1]?.endsWith('flat-attack-eval.ts')) {
  const { createNodeEngine } = await import('../../js/node.js');
  const { Progress } = await import('../../js/cli/progress.js');
  const i = process.argv.indexOf('--photos');
  const list = attackPhotos(i > 0 ? Number(process.argv[i + 1]) : 12);
  const engine = await createNodeEngine();
  const paths = trajectories(true);
  const background = readImageFile(join(ROOT, 'examples/images/person-c-2.jpg'));
  const progress = new Progress('flat attacks', list.length * paths.length);
  const results: { photo: string; trajectory: Trajectory; passed: Challenge[] }[] = [];
  for (const path of list) {
    let photo: ImageInput;
    try { photo = readImageFile(path); } catch { progress.tick(paths.length, 'undecodable photo skipped'); continue; }
    paths.forEach((t, k) => { results.push({ photo: path.replace(ROOT, ''), trajectory: t, passed: attack(engine, photo, t, background, k) }); progress.tick(); });
  }
  const photos = [...new Set(results.map((r) => r.photo))];
  const perPrompt = Object.fromEntries(CHALLENGES.map((c) => [c, photos.filter((p) => results.some((r) => r.photo === p && r.passed.includes(c))).length]));
  const attempts = results.length * CHALLENGES.length, passes = results.reduce((n, r) => n + r.passed.length, 0);
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/out/flat-attack.json'), JSON.stringify({ photos: photos.length, trajectories: paths.length, attempts, passes, perPrompt, results }, null, 1));
  console.log(`${photos.length} photos x ${paths.length} trajectories x 4 prompts: ${passes} of ${attempts} attempts passed (${((100 * passes) / attempts).toFixed(2)} %)`);
  for (const c of CHALLENGES) console.log(`  ${c}: passed for ${perPrompt[c]} of ${photos.length} photos by some trajectory`);
  console.log('wrote bench/out/flat-attack.json');
}
