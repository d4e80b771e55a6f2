// Active liveness: a randomised head-movement challenge (turn left/right, look up/down) judged over
// the frames, at any distance, with no extra model. A challenge passes when, in time, the face
// moves the asked way (yaw/pitch proxies of the five landmarks, from a frontal reference frame) and
// that movement is not one a flat thing can make:
// - landmark parallax: the nose leaves the plane of the eyes and mouth corners (planarity residual);
// - pixel parallax: no homography maps the reference face region onto the current one
//   (photometric planarity, ./photometric.ts). This is the decisive test: the detector's landmarks
//   on a tilted print are drawn towards where a real head's would be, pixels are not.
// A print or a screen, however tilted, bent or moved, fails. What it does not stop: a video of the
// same person replayed while it happens to match the random prompts in order and time, an
// interactive deepfake, a 3-D mask worn by someone (see SECURITY.md): combine it with the passive
// score where its patches fit.

import { landmarkGeometry, planarityResidual, type Landmarks, type LandmarkGeometry } from './geometry.js';
import { OptionError } from '../errors.js';
import { describeValue } from '../options.js';
import { planarityReference, photometricPlanarity, type Luma, type PlanarityReference } from './photometric.js';

/** What the user is asked to do. Left and right are the user's own. */
export type Challenge = 'turn-left' | 'turn-right' | 'look-up' | 'look-down';
export const CHALLENGES: readonly Challenge[] = ['turn-left', 'turn-right', 'look-up', 'look-down'];

/** On-screen guidance for each challenge. */
export const CHALLENGE_TEXT: Readonly<Record<Challenge, string>> = {
  'turn-left': 'Turn your head slowly to your left',
  'turn-right': 'Turn your head slowly to your right',
  'look-up': 'Tilt your head up a little',
  'look-down': 'Tilt your head down a little',
};

/**
 * Thresholds, in inter-ocular distances (IOD). Set from a 3-D landmark model of the head (nose tip
 * about 0.55 IOD in front of the eye plane) under the detector's measured landmark jitter, and checked
 * on synthesised flat attacks through the real detector (tests/pipeline/active-liveness.test.ts).
 */
export const ACTIVE_LIMITS = {
  /** |yaw proxy| below this counts as facing the camera (the start of every challenge). */
  frontalYaw: 0.12,
  /** Yaw proxy change a turn must reach (about 21 degrees of head yaw). */
  turn: 0.2,
  /** Pitch proxy change a nod must reach (about 15 degrees of head pitch). */
  nod: 0.1,
  /** Planarity residual a real head reaches while turned or nodded: a flat face stays below it. */
  depth: 0.07,
  /**
   * Photometric planarity error (share of the face region's contrast no homography explains) a real
   * head's counted move exceeds; a print or screen stays below. Development data: moved frames of
   * tilted, bent and moved prints and screens reach at most 0.23; real head moves of 5 clips have
   * their 5th percentile at 0.35, their 1st at 0.18 (a dim webcam).
   */
  parallax: 0.3,
  /**
   * Between `parallax` and `parallaxSure` the error alone is not decisive (a print tilted 55-60
   * degrees and more blurs and resamples badly enough to reach 0.35): there the plane fitted to the
   * pixels must not be squashed below this (its Jacobian's singular-value ratio, ~cos of the tilt).
   * A head turned 21-40 degrees keeps 0.57-0.87 while the fit still follows it; such prints 0.35.
   * Above `parallaxSure` no plane follows the face at all and its squash means nothing.
   */
  squash: 0.5,
  parallaxSure: 0.5,
  /** The same limit on landmarks alone (landmarksOnly): the face's aspect may change by at most this. */
  aspect: 0.3,
  /** Consecutive frames the moved-with-depth condition must hold (one noisy frame is not enough). */
  holdFrames: 2,
  /** Frames of a challenge's movement made without depth after which a timeout says "flat". */
  flatFrames: 3,
} as const;

export interface ActiveLivenessOptions {
  /** Challenges in a row, 1..4 (default 2), drawn without repeats in random order. */
  challenges?: number;
  /** Time allowed per challenge in ms, in [1000, 30000] (default 5000). */
  challengeMs?: number;
  /** True when the frames are mirrored (a selfie preview fed back): swaps what left and right look like. */
  mirrored?: boolean;
  /** Uniform random numbers in [0, 1) for the challenge order (default crypto.getRandomValues). */
  random?: () => number;
  /** @internal Judge landmarks only (no pixels): for tests of the landmark logic; never secure. */
  landmarksOnly?: boolean;
}

const ACTIVE_OPTION_KEYS = ['challenges', 'challengeMs', 'mirrored', 'random', 'landmarksOnly'];

/** One frame for the check: the tracked face's landmarks and the frame's luma plane (lumaOf). */
export interface ActiveFrame {
  landmarks: Landmarks;
  luma?: Luma;
}

export type ActiveState = 'challenge' | 'passed' | 'failed';
export type ActiveFailure = 'timeout' | 'flat' | 'wrong-move' | 'clock' | 'input';

export interface ActiveUpdate {
  state: ActiveState;
  /** The challenge being asked for (while state is 'challenge'). */
  challenge?: Challenge;
  /** Index of that challenge, and how many there are. */
  index: number;
  total: number;
  /** What to show the user. */
  text: string;
  /** Share of the current movement done, 0..1 (for a progress ring). */
  progress: number;
  /** Landmark planarity residual of this frame, IOD (NaN before a reference frame). */
  residual: number;
  /** Photometric planarity error of this frame (NaN before a reference frame or when not computed). */
  parallax: number;
  /** Why the check failed (state 'failed'), in words. */
  reason?: string;
  /**
   * What kind of failure: 'timeout' (the move was not made in time: not evidence of an attack),
   * 'flat' (moves made like a picture), 'wrong-move', 'clock' (a frame time it cannot use), 'input'.
   */
  failure?: ActiveFailure;
}

function secureRandom(): () => number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw new OptionError('active liveness needs crypto.getRandomValues for unpredictable challenges: run in a secure context (https) or pass options.random from a secure source');
  }
  const buf = new Uint32Array(1);
  return () => { c.getRandomValues!(buf); return buf[0] / 4294967296; };
}

/** The movement a challenge asks for, signed so that positive is "done the asked way". */
function movement(kind: Challenge, ref: LandmarkGeometry, cur: LandmarkGeometry, mirrored: boolean): number {
  // the user's left is the image's right in a camera frame (not mirrored): the nose moves to +x
  const right = (cur.yaw - ref.yaw) * (mirrored ? -1 : 1);
  switch (kind) {
    case 'turn-left': return right / ACTIVE_LIMITS.turn;
    case 'turn-right': return -right / ACTIVE_LIMITS.turn;
    case 'look-up': return (ref.pitch - cur.pitch) / ACTIVE_LIMITS.nod;
    case 'look-down': return (cur.pitch - ref.pitch) / ACTIVE_LIMITS.nod;
  }
}

/**
 * One active-liveness check: feed it the landmarks of the tracked face on every frame (with the
 * frame time), show `text`; it passes when every challenge was done, in time, in the asked
 * direction, by something with depth. Fails on a wrong-way movement, a flat movement (print or
 * screen), or a challenge not done in time. Decisions are final.
 */
export class ActiveLivenessCheck {
  readonly prompts: readonly Challenge[];
  private index = 0;
  private reference: Landmarks | null = null;
  private referencePatch: PlanarityReference | null = null;
  /** The last frame's fitted homography: tracking keeps the fit on a plane however far it turns. */
  private lastFit: Float64Array | null = null;
  private referenceGeometry: LandmarkGeometry | null = null;
  private startedAt = NaN;
  private held = 0;
  private flatMoves = 0;
  private failure: ActiveFailure | undefined;
  private final: ActiveUpdate | null = null;
  /** Time allowed per challenge, ms. */
  readonly challengeMs: number;
  private readonly mirrored: boolean;
  private readonly landmarksOnly: boolean;

  constructor(options: ActiveLivenessOptions = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new OptionError(`active liveness options must be an object, got ${describeValue(options)}`);
    for (const k of Object.keys(options)) if (!ACTIVE_OPTION_KEYS.includes(k)) throw new OptionError(`active liveness has no option '${k}' (known: ${ACTIVE_OPTION_KEYS.join(', ')})`);
    const n = options.challenges ?? 2;
    if (!Number.isInteger(n) || n < 1 || n > CHALLENGES.length) throw new OptionError(`challenges must be an integer in [1, ${CHALLENGES.length}], got ${describeValue(n)}`);
    const ms = options.challengeMs ?? 5000;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 1000 || ms > 30000) throw new OptionError(`challengeMs must be a number in [1000, 30000], got ${describeValue(ms)}`);
    if (options.mirrored !== undefined && typeof options.mirrored !== 'boolean') throw new OptionError(`mirrored must be true or false, got ${describeValue(options.mirrored)}`);
    if (options.random !== undefined && typeof options.random !== 'function') throw new OptionError(`random must be a function returning numbers in [0, 1), got ${describeValue(options.random)}`);
    if (options.landmarksOnly !== undefined && typeof options.landmarksOnly !== 'boolean') throw new OptionError(`landmarksOnly must be true or false, got ${describeValue(options.landmarksOnly)}`);
    const random = options.random ?? secureRandom();
    const pool = CHALLENGES.slice(), prompts: Challenge[] = [];
    for (let i = 0; i < n; i++) {
      const r = random();
      if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new OptionError(`random() returned ${describeValue(r)}, not a number in [0, 1)`);
      prompts.push(pool.splice(Math.floor(r * pool.length), 1)[0]);
    }
    this.prompts = Object.freeze(prompts);
    this.challengeMs = ms;
    this.mirrored = options.mirrored ?? false;
    this.landmarksOnly = options.landmarksOnly === true;
  }

  get done(): boolean { return this.final !== null; }

  private update(state: ActiveState, progress: number, residual: number, reason?: string, parallax = NaN): ActiveUpdate {
    const challenge = this.prompts[this.index];
    const u: ActiveUpdate = {
      state, index: this.index, total: this.prompts.length, progress, residual, parallax,
      ...(state === 'challenge' ? { challenge, text: this.reference ? CHALLENGE_TEXT[challenge] : 'Look straight at the camera' }
        : { text: state === 'passed' ? 'Done' : reason ?? 'Not live' }),
      ...(reason && { reason }),
    } as ActiveUpdate;
    if (state === 'failed') u.failure = this.failure;
    if (state !== 'challenge') this.final = u;
    return u;
  }

  private fail(failure: ActiveFailure, reason: string, residual: number, parallax = NaN): ActiveUpdate {
    this.failure = failure;
    return this.update('failed', 0, residual, reason, parallax);
  }

  /**
   * One frame: the tracked face (landmarks and luma; null when no face was found) and the frame time
   * in ms. A face lost mid-movement restarts that challenge's reference; time keeps running.
   */
  push(frame: ActiveFrame | null, timeMs: number): ActiveUpdate {
    if (this.final) return this.final;
    if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return this.fail('clock', `frame time ${String(timeMs)} is not a finite number of ms`, NaN);
    if (Number.isNaN(this.startedAt)) this.startedAt = timeMs;
    if (timeMs < this.startedAt) return this.fail('clock', 'the frame clock went backwards', NaN);
    if (timeMs - this.startedAt > this.challengeMs) {
      return this.flatMoves >= ACTIVE_LIMITS.flatFrames
        ? this.fail('flat', 'the face moved like a flat picture, not a head (print or screen?)', NaN)
        : this.fail('timeout', `'${CHALLENGE_TEXT[this.prompts[this.index]]}' was not done in time`, NaN);
    }
    if (!frame) { this.reference = null; this.referencePatch = null; this.lastFit = null; this.held = 0; return this.update('challenge', 0, NaN); }
    if (!this.landmarksOnly && !frame.luma) return this.fail('input', 'active liveness needs the frame pixels (luma), not landmarks alone', NaN);
    const landmarks = frame.landmarks, g = landmarkGeometry(landmarks);
    if (!(g.iod > 0)) return this.update('challenge', 0, NaN);
    if (!this.reference) {
      // every challenge starts facing the camera, so a head already turned does not count as a move
      if (Math.abs(g.yaw) >= ACTIVE_LIMITS.frontalYaw) return this.update('challenge', 0, NaN);
      this.reference = landmarks.map((p) => [p[0], p[1]] as const);
      this.referenceGeometry = g;
      this.referencePatch = frame.luma ? planarityReference(frame.luma, landmarks) : null;
      return this.update('challenge', 0, 0);
    }
    const residual = planarityResidual(this.reference, landmarks);
    const kind = this.prompts[this.index];
    const moved = movement(kind, this.referenceGeometry!, g, this.mirrored);
    // a clear movement the other way (or on the other axis, for a turn asked as a nod) fails: a
    // replayed or guessed sequence of moves must match the random prompts
    for (const other of CHALLENGES) {
      if (other !== kind && movement(other, this.referenceGeometry!, g, this.mirrored) >= 1.5 && moved < 0.5) {
        return this.fail('wrong-move', `asked to ${CHALLENGE_TEXT[kind].toLowerCase()}, the face moved otherwise`, residual);
      }
    }
    let parallax = NaN, squash = NaN;
    // every frame, so the fit tracks the face from the reference on; the wider search (when the
    // tracked plane does not explain the frame) only on frames that moved enough to count
    if (this.referencePatch && frame.luma) {
      const r = photometricPlanarity(this.referencePatch, frame.luma, landmarks, this.lastFit, moved >= 1 ? ACTIVE_LIMITS.parallax : Infinity);
      parallax = r.error;
      squash = r.squash;
      this.lastFit = r.fit;
    }
    // a move squashed beyond what a head's turn does is not counted (nor failed): a print tilted that far
    const plausible = this.landmarksOnly ? Math.abs(g.aspect / this.referenceGeometry!.aspect - 1) <= ACTIVE_LIMITS.aspect
      : parallax >= ACTIVE_LIMITS.parallaxSure || squash >= ACTIVE_LIMITS.squash;
    if (moved >= 1 && !plausible) this.held = 0;
    else if (moved >= 1) {
      const deep = residual >= ACTIVE_LIMITS.depth && (this.landmarksOnly || parallax >= ACTIVE_LIMITS.parallax);
      if (deep) this.held++;
      else {
        // not failed at once: a real turn starts with little parallax and deepens
        this.held = 0;
        this.flatMoves++;
      }
    } else this.held = 0;
    if (this.held >= ACTIVE_LIMITS.holdFrames) {
      this.index++;
      this.reference = null; this.referenceGeometry = null; this.referencePatch = null; this.lastFit = null; this.held = 0; this.flatMoves = 0;
      this.startedAt = timeMs;
      if (this.index === this.prompts.length) return this.update('passed', 1, residual, undefined, parallax);
      return this.update('challenge', 0, residual, undefined, parallax);
    }
    return this.update('challenge', Math.max(0, Math.min(1, moved)), residual, undefined, parallax);
  }
}
