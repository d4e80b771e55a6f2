// Active liveness geometry (js/active-liveness.ts) against hand-made references: the 4-point
// homography reproduces known homographies; the planarity residual is zero for any plane and grows
// with a 3-D head's turn; the challenge state machine passes a simulated head doing the prompted
// moves under landmark jitter, and fails wrong-way moves, no move, and ideal flat pictures tilted any
// way, judged on landmarks alone. Real detector landmarks on tilted prints drift towards a head's,
// which is why the check also needs pixel parallax: tests/pipeline/active-liveness.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homography4, planarityResidual, landmarkGeometry } from '../../js/liveness/geometry.js';
import { ActiveLivenessCheck, ACTIVE_LIMITS, CHALLENGES, type Challenge } from '../../js/liveness/active.js';
import { mulberry32 } from '../../tools/rng.js';
import { WasmfaceError } from '../../js/errors.js';

type P = [number, number];
const apply = (h: ArrayLike<number>, [x, y]: P): P => {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
};

/** Mean 3-D positions of the five landmarks in inter-ocular distances (x right in the image, y down, z away from the camera). */
const HEAD: [number, number, number][] = [[-0.5, 0, 0], [0.5, 0, 0], [0, 0.55, -0.55], [-0.4, 1.1, -0.1], [0.4, 1.1, -0.1]];

/** Pinhole projection of head points after yaw (positive: nose to the image's right) and pitch (positive: looks up). */
function project(points: [number, number, number][], yawDeg: number, pitchDeg: number, distance: number, pixelsPerIod = 60): P[] {
  const a = (yawDeg * Math.PI) / 180, b = (pitchDeg * Math.PI) / 180;
  return points.map(([x, y, z]) => {
    // yaw about the vertical axis through the eyes' centre, then pitch about the horizontal axis
    const x1 = x * Math.cos(a) - z * Math.sin(a), z1 = x * Math.sin(a) + z * Math.cos(a);
    const y2 = (y - 0.5) * Math.cos(b) + z1 * Math.sin(b) + 0.5, z2 = -(y - 0.5) * Math.sin(b) + z1 * Math.cos(b);
    const s = (pixelsPerIod * distance) / (distance + z2);
    return [320 + x1 * s, 240 + y2 * s];
  });
}
const jitter = (lm: P[], sigmaPx: number, r: () => number): P[] => lm.map(([x, y]) => {
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return [x + g() * sigmaPx, y + g() * sigmaPx];
});

test('homography4 reproduces random homographies from four points', () => {
  const r = mulberry32(141);
  for (let i = 0; i < 300; i++) {
    const h = [1 + r() * 0.4 - 0.2, r() * 0.4 - 0.2, r() * 50, r() * 0.4 - 0.2, 1 + r() * 0.4 - 0.2, r() * 50, (r() - 0.5) * 1e-3, (r() - 0.5) * 1e-3, 1];
    const from: P[] = [[0, 0], [100, 5], [10, 120], [95, 110]];
    const got = homography4(from, from.map((p) => apply(h, p)))!;
    const probe: P = [r() * 100, r() * 100];
    const [u, v] = apply(got, probe), [eu, ev] = apply(h, probe);
    assert.ok(Math.hypot(u - eu, v - ev) < 1e-6, `case ${i}: ${u},${v} vs ${eu},${ev}`);
  }
  assert.equal(homography4([[0, 0], [1, 1], [2, 2], [3, 3]], [[0, 0], [1, 1], [2, 2], [3, 3]]), null, 'collinear points are degenerate');
});

test('planarity residual: zero for any plane, growing with a real head turn or nod', () => {
  const r = mulberry32(142);
  const flat = HEAD.map(([x, y]) => [x, y, 0] as [number, number, number]);
  for (let i = 0; i < 200; i++) {
    const yaw = (r() - 0.5) * 120, pitch = (r() - 0.5) * 90, d = 3 + r() * 30;
    assert.ok(planarityResidual(project(flat, 0, 0, d), project(flat, yaw, pitch, d)) < 1e-6, `plane at yaw ${yaw}, pitch ${pitch}`);
  }
  for (const d of [5, 24]) { // a phone at 30 cm, a gate at 1.5 m (IOD 6.3 cm)
    const ref = project(HEAD, 0, 0, d);
    assert.ok(planarityResidual(ref, project(HEAD, 20, 0, d)) > 0.15, `20 degree turn at ${d} IOD`);
    assert.ok(planarityResidual(ref, project(HEAD, 0, 15, d)) > ACTIVE_LIMITS.depth, `15 degree nod at ${d} IOD`);
    const g0 = landmarkGeometry(ref), g = landmarkGeometry(project(HEAD, 22, 0, d));
    assert.ok(g.yaw - g0.yaw >= ACTIVE_LIMITS.turn, `yaw proxy of a 22 degree turn: ${g.yaw - g0.yaw}`);
  }
});

/** The yaw/pitch a head (or a picture) takes for a prompt, for the user's left/right in an unmirrored frame. */
const POSE: Record<Challenge, [number, number]> = { 'turn-left': [30, 0], 'turn-right': [-30, 0], 'look-up': [0, 22], 'look-down': [0, -22] };

test('challenges: a head doing the prompted moves passes; wrong moves, no move and ideal flat pictures fail', () => {
  const r = mulberry32(143);
  const sigma = 0.02; // landmark jitter, IOD (YuNet on still frames: ~0.01-0.02)
  let passed = 0, wrong = 0, still = 0, flat = 0;
  const N = 60;
  for (let i = 0; i < N; i++) {
    const d = [5, 10, 24][i % 3];
    // a head: faces the camera for 300 ms, then turns/nods smoothly over 600 ms and holds
    const head = (target: (p: Challenge) => [number, number], pts: [number, number, number][]) => {
      let current: Challenge | null = null, since = 0;
      return (p: Challenge, t: number): P[] => {
        if (p !== current) { current = p; since = t; }
        const k = Math.max(0, Math.min(1, (t - since - 300) / 600));
        const [yaw, pitch] = target(p);
        return jitter(project(pts, yaw * k, pitch * k, d), sigma * 60, r);
      };
    };
    const make = () => new ActiveLivenessCheck({ challenges: 2, random: r, landmarksOnly: true });
    const live = make(); let u = drive(live, head((p) => POSE[p], HEAD));
    if (u.state === 'passed') passed++;
    // wrong way: turns the other way / nods the other way
    const opposite: Record<Challenge, Challenge> = { 'turn-left': 'turn-right', 'turn-right': 'turn-left', 'look-up': 'look-down', 'look-down': 'look-up' };
    u = drive(make(), head((p) => POSE[opposite[p]], HEAD));
    if (u.state === 'failed' && u.failure === 'wrong-move') wrong++;
    u = drive(make(), head(() => [0, 0], HEAD));
    if (u.state === 'failed' && u.failure === 'timeout') still++; // not made in time: no evidence of an attack
    // an ideal flat picture (landmarks exactly where the plane puts them), tilted as far as 60 degrees the prompted way
    const plane = HEAD.map(([x, y]) => [x, y, 0] as [number, number, number]);
    u = drive(make(), head((p) => [POSE[p][0] * 2, POSE[p][1] * 2.7], plane));
    if (u.state === 'failed') flat++;
  }
  assert.ok(passed >= N - 1, `live passed ${passed}/${N}`);
  assert.equal(wrong, N, 'wrong-way moves fail');
  assert.equal(still, N, 'no move fails (in time)');
  assert.equal(flat, N, 'flat pictures fail');
});

/** Feeds frames at 15 fps until the check decides, telling `move` the current prompt. */
function drive(check: ActiveLivenessCheck, move: (p: Challenge, t: number) => P[]) {
  let prompt = check.prompts[0];
  let u = check.push({ landmarks: move(prompt, 0) }, 0);
  for (let t = 66; !check.done && t < 60000; t += 66) {
    prompt = u.challenge ?? prompt;
    u = check.push({ landmarks: move(prompt, t) }, t);
  }
  return u;
}

test('options and inputs: typed refusals, unpredictable prompts', () => {
  const option = (e: unknown) => e instanceof WasmfaceError && e.code === 'E_OPTION';
  for (const bad of [{ challenges: 0 }, { challenges: 5 }, { challenges: 1.5 }, { challengeMs: Number.NaN }, { challengeMs: 999 }, { random: () => 1 }, { random: () => Number.NaN },
    { mirrored: 'yes' }, { random: 3 }, { challenge: 2 }, null, 'x'] as unknown[]) {
    assert.throws(() => new ActiveLivenessCheck(bad as never), option, JSON.stringify(bad));
  }
  assert.throws(() => landmarkGeometry([[0, 0]] as never), option);
  assert.throws(() => new ActiveLivenessCheck().push({ landmarks: [[0, 0], [1, Number.NaN], [0, 0], [0, 0], [0, 0]], luma: { data: new Uint8Array(4), width: 2, height: 2 } }, 0), option);
  const c = new ActiveLivenessCheck({ challenges: 4 });
  assert.deepEqual([...c.prompts].sort(), [...CHALLENGES].sort(), 'four challenges: each once');
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(new ActiveLivenessCheck().prompts.join());
  assert.equal(seen.size, 12, 'every ordered pair of distinct prompts occurs (crypto.getRandomValues)');
  assert.equal(new ActiveLivenessCheck().push(null, Number.NaN).state, 'failed', 'a clock that is not a number fails');
  assert.equal(new ActiveLivenessCheck().push({ landmarks: [[0, 0], [10, 0], [5, 6], [2, 12], [8, 12]] }, 0).state, 'failed', 'landmarks without pixels are refused');
});

test('property: any option values and any frames give a typed refusal or a check that decides, never another error', () => {
  const r = mulberry32(144);
  const pool: unknown[] = [undefined, null, 0, 1, 2, 4, 5, -1, 1.5, NaN, Infinity, 999, 1000, 5000, 30000, 30001, '2', true, false, [], {}, () => 0.5, () => 1, () => NaN, () => -0.1, 'x'];
  const pick = () => pool[Math.floor(r() * pool.length)];
  const keys = ['challenges', 'challengeMs', 'mirrored', 'random', 'landmarksOnly', 'other'];
  const isOption = (e: unknown) => e instanceof WasmfaceError && e.code === 'E_OPTION';
  let built = 0;
  for (let i = 0; i < 2000; i++) {
    const o: Record<string, unknown> = {};
    for (const k of keys) if (r() < 0.3) o[k] = pick();
    let check: ActiveLivenessCheck;
    try { check = new ActiveLivenessCheck(o as never); built++; } catch (e) { assert.ok(isOption(e), `options ${JSON.stringify(o)}: ${String(e)}`); continue; }
    // frames: junk landmarks, none, or plausible ones, at times that may stop or go backwards
    let t = 0;
    for (let f = 0; f < 40 && !check.done; f++) {
      t += r() < 0.05 ? -10 : 100 + r() * 200;
      const kind = r();
      const frame = kind < 0.2 ? null
        : kind < 0.4 ? { landmarks: Array.from({ length: Math.floor(r() * 7) }, () => [pick(), pick()]) }
        : { landmarks: [[300, 200], [340, 201], [320 + (r() - 0.5) * 20, 225], [305, 245], [335, 246]] as [number, number][] };
      try { check.push(frame as never, t); } catch (e) { assert.ok(isOption(e), `frame ${JSON.stringify(frame)}: ${String(e)}`); }
    }
    const end = check.push(null, t + 60_000);
    assert.ok(end.state === 'failed' || end.state === 'passed', `the check decides at the latest at its time limit: ${end.state}`);
    assert.notEqual(end.state === 'passed' && !(o.landmarksOnly === true), true, 'without pixels (luma) it never passes');
  }
  assert.ok(built > 100, `${built} checks built`);
});
