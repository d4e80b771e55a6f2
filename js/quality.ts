// Face quality for live capture: geometry from the detection (size, position, head pose estimated
// from the five landmarks) and photometry of the aligned crop (sharpness, exposure; computed in
// wasm), with capture guidance a UI can show. Thresholds are documented in QUALITY_THRESHOLDS.

import type { DetectedFace } from './engine.js';

export interface FaceQuality {
  /** Face box width in pixels of the input image. */
  faceSize: number;
  /** Face box width as a share of the image width. */
  faceShare: number;
  /** Share of the face box inside the image (1 = fully inside). */
  inside: number;
  /** Offset of the face centre from the image centre, in face widths (x, y). */
  offset: [number, number];
  /** Head pose estimates in degrees from the five landmarks: yaw (left/right), pitch (up/down), roll (tilt). */
  yaw: number;
  pitch: number;
  roll: number;
  /** Variance of the Laplacian of the aligned crop's luma (higher = sharper). */
  sharpness: number;
  /** Mean luma of the aligned crop, 0..255. */
  brightness: number;
  /** Share of crop pixels clipped to white (over-exposure). */
  clipped: number;
  /** Detector score. */
  score: number;
  /** Capture guidance, most important first; empty when the frame is good. */
  guidance: Guidance[];
  ok: boolean;
}

export type Guidance = 'no-face' | 'move-closer' | 'move-back' | 'center-face' | 'face-camera' | 'straighten-head'
  | 'too-dark' | 'too-bright' | 'hold-still' | 'uncertain-face';

/** What to show the user for each guidance code. */
export const GUIDANCE_TEXT: Record<Guidance, string> = {
  'no-face': 'No face found: look at the camera',
  'move-closer': 'Move closer',
  'move-back': 'Move back a little so your whole head is visible',
  'center-face': 'Center your face in the frame',
  'face-camera': 'Face the camera',
  'straighten-head': 'Hold your head upright',
  'too-dark': 'Too dark: find more light',
  'too-bright': 'Too bright: avoid direct light on your face or the lens',
  'hold-still': 'Hold still: the image is blurry',
  'uncertain-face': 'Face not clearly visible',
};

/**
 * Thresholds behind the guidance. Sizes follow the embedder's input (the crop is 150 px: faces much
 * smaller are upsampled and lose detail; YuNet was trained on faces of about 10-300 px). Pose limits
 * are where the aligned crop stops looking frontal. Photometric limits come from the dev photos'
 * aligned crops: Laplacian variance 5th percentiles were 200 (deepface portraits), 90 (face-api.js
 * stills) and 20 (LFW's soft 150 px JPEGs), so 15 flags only frames blurrier than the softest usable
 * dev photos; mean luma ran 75-175.
 */
export const QUALITY_THRESHOLDS = {
  minFaceSize: 80,
  maxFaceShare: 0.6,
  minInside: 0.98,
  maxOffset: 0.8,
  maxYaw: 25,
  maxPitch: 25,
  maxRoll: 20,
  minBrightness: 50,
  maxBrightness: 210,
  maxClipped: 0.25,
  minSharpness: 15,
  minScore: 0.75,
};

const deg = (r: number) => (r * 180) / Math.PI;

/** Geometry of a detected face in an image of width x height. */
export function faceGeometry(face: DetectedFace, width: number, height: number) {
  const { x, y, width: w, height: h } = face.box;
  const ix = Math.max(0, Math.min(x + w, width) - Math.max(x, 0)), iy = Math.max(0, Math.min(y + h, height) - Math.max(y, 0));
  const [re, le, nose, rm, lm] = face.landmarks;
  const eyeMid = [(re[0] + le[0]) / 2, (re[1] + le[1]) / 2], mouthMid = [(rm[0] + lm[0]) / 2, (rm[1] + lm[1]) / 2];
  const eyeDx = le[0] - re[0], eyeDy = le[1] - re[1];
  const inter = Math.hypot(eyeDx, eyeDy) || 1;
  const roll = deg(Math.atan2(eyeDy, eyeDx));
  // nose offset along and across the eye line, in inter-ocular units: ~0 and ~0.55 for a frontal face
  const ux = eyeDx / inter, uy = eyeDy / inter;
  const nx = nose[0] - eyeMid[0], ny = nose[1] - eyeMid[1];
  const along = (nx * ux + ny * uy) / inter, across = (-nx * uy + ny * ux) / inter;
  const mouthAcross = (-(mouthMid[0] - eyeMid[0]) * uy + (mouthMid[1] - eyeMid[1]) * ux) / inter;
  const yaw = deg(Math.asin(Math.max(-1, Math.min(1, along * 2))));
  // pitch: where the nose sits between eyes and mouth (about 0.55 of the way when frontal)
  const pitch = mouthAcross > 0 ? (across / mouthAcross - 0.55) * 120 : 90;
  return {
    faceSize: w, faceShare: w / width, inside: w > 0 && h > 0 ? (ix * iy) / (w * h) : 0,
    offset: [(x + w / 2 - width / 2) / (w || 1), (y + h / 2 - height / 2) / (h || 1)] as [number, number],
    yaw, pitch, roll,
  };
}

export function assessQuality(face: DetectedFace, width: number, height: number, photometry: [number, number, number]): FaceQuality {
  const g = faceGeometry(face, width, height);
  const [sharpness, brightness, clipped] = photometry; // clipped: share clipped to white
  const t = QUALITY_THRESHOLDS;
  const guidance: Guidance[] = [];
  if (g.faceSize < t.minFaceSize) guidance.push('move-closer');
  if (g.faceShare > t.maxFaceShare || g.inside < t.minInside) guidance.push(g.inside < t.minInside && g.faceShare <= t.maxFaceShare ? 'center-face' : 'move-back');
  else if (Math.abs(g.offset[0]) > t.maxOffset || Math.abs(g.offset[1]) > t.maxOffset) guidance.push('center-face');
  if (Math.abs(g.yaw) > t.maxYaw || Math.abs(g.pitch) > t.maxPitch) guidance.push('face-camera');
  if (Math.abs(g.roll) > t.maxRoll) guidance.push('straighten-head');
  if (brightness < t.minBrightness) guidance.push('too-dark');
  else if (brightness > t.maxBrightness || clipped > t.maxClipped) guidance.push('too-bright');
  if (sharpness < t.minSharpness) guidance.push('hold-still');
  if (face.score < t.minScore) guidance.push('uncertain-face');
  return { ...g, sharpness, brightness, clipped, score: face.score, guidance, ok: guidance.length === 0 };
}
