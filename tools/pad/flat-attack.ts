// Synthesised flat presentation attacks: a photo held in front of a camera as a print or a phone
// screen, tilted and moved, re-captured through a pinhole camera (perspective, not affine), with
// optional screen effects (gamma, moire from the pixel grid, blur) and a cylindrical bend for a
// curved print. Used to test active liveness through the real detector: whatever the attacker does
// with a flat picture, its landmarks move by one homography (or, bent, by little depth).
import type { ImageInput } from '../../js/image.js';

export interface PlanePose {
  /** Rotation of the picture about its vertical axis, degrees (positive: right edge away from camera). */
  yawDeg: number;
  /** Rotation about its horizontal axis, degrees (positive: top edge away from camera). */
  pitchDeg: number;
  /** Distance of the picture's centre from the camera, in picture heights. */
  distance: number;
  /** Offset of the picture's centre from the optical axis, in picture heights. */
  dx?: number;
  dy?: number;
  /** Bend of a print around its vertical axis: curvature in 1/picture heights (0 = flat). */
  bend?: number;
}

export interface CaptureEffects {
  /** Display gamma applied to the picture (a screen: ~1.2..1.6). */
  gamma?: number;
  /** Amplitude (0..1) of a moire pattern from a screen's pixel grid. */
  moire?: number;
  /** Box blur radius of the re-capture, pixels. */
  blur?: number;
  /** Seeded noise amplitude, grey levels. */
  noise?: number;
  /** The scene behind the picture (scaled to cover the frame); default flat grey. */
  background?: ImageInput;
  random?: () => number;
}

/**
 * The picture `src` as a camera of `outW` x `outH` (horizontal field of view ~ 60 degrees) sees it
 * at `pose`, over a grey background. Rendered by casting a ray per output pixel onto the (possibly
 * bent) picture surface, so perspective is exact.
 */
export function renderPicture(src: ImageInput, pose: PlanePose, outW: number, outH: number, effects: CaptureEffects = {}): ImageInput {
  const f = outW / (2 * Math.tan((30 * Math.PI) / 180));
  const H = src.height, W = src.width;
  const ph = H, scale = 1 / ph; // world units: picture heights
  const yaw = (pose.yawDeg * Math.PI) / 180, pitch = (pose.pitchDeg * Math.PI) / 180;
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  // picture axes in camera space: R = Rx(pitch) * Ry(yaw); camera looks down +z, y down
  const ex = [cy, 0, -sy];                          // picture's +x (to its right)
  const ey = [sy * sp, cp, cy * sp];                // picture's +y (down)
  const ez = [sy * cp, -sp, cy * cp];               // picture normal, away from camera
  const c = [pose.dx ?? 0, pose.dy ?? 0, pose.distance];
  const bend = pose.bend ?? 0;
  const out = new Uint8Array(outW * outH * 4);
  const gamma = effects.gamma ?? 1, moire = effects.moire ?? 0, noise = effects.noise ?? 0, rnd = effects.random ?? Math.random;
  const sd = src.data, bg = effects.background;
  const bk = bg ? Math.min(bg.width / outW, bg.height / outH) : 0;
  const ez0 = ez[0], ez1 = ez[1], ez2 = ez[2], cz = c[0] * ez0 + c[1] * ez1 + c[2] * ez2;
  for (let py = 0; py < outH; py++) {
    const dy = (py + 0.5 - outH / 2) / f;
    for (let px = 0; px < outW; px++) {
      const dx = (px + 0.5 - outW / 2) / f;
      // flat: solve (t d - c) . ez = 0; bent (surface w = -bend u^2 / 2, edges towards the camera): Newton on t
      const dEx = dx * ex[0] + dy * ex[1] + ex[2], dEz = dx * ez0 + dy * ez1 + ez2;
      let t = cz / dEz, u = 0, v = 0;
      for (let it = 0; it < (bend ? 8 : 1); it++) {
        const p0 = t * dx - c[0], p1 = t * dy - c[1], p2 = t - c[2];
        u = p0 * ex[0] + p1 * ex[1] + p2 * ex[2];
        v = p0 * ey[0] + p1 * ey[1] + p2 * ey[2];
        if (!bend) break;
        const w = p0 * ez0 + p1 * ez1 + p2 * ez2;
        t -= (w + (bend / 2) * u * u) / (dEz + bend * u * dEx);
      }
      const sx = u / scale + W / 2 - 0.5, sy2 = v / scale + H / 2 - 0.5;
      const o = (py * outW + px) * 4;
      out[o + 3] = 255;
      if (!(t > 0) || sx < 0 || sy2 < 0 || sx > W - 1 || sy2 > H - 1) {
        if (bg) {
          const b = (Math.min(bg.height - 1, Math.floor(py * bk)) * bg.width + Math.min(bg.width - 1, Math.floor(px * bk))) * 4;
          out[o] = bg.data[b]; out[o + 1] = bg.data[b + 1]; out[o + 2] = bg.data[b + 2];
        } else out[o] = out[o + 1] = out[o + 2] = 96;
        continue;
      }
      const x0 = Math.floor(sx), y0 = Math.floor(sy2), x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1), fx = sx - x0, fy = sy2 - y0;
      const mo = moire ? 1 + moire * Math.sin(sx * 2.1 + sy2 * 0.35) * Math.sin(sy2 * 1.7) : 1;
      const i00 = (y0 * W + x0) * 4, i01 = (y0 * W + x1) * 4, i10 = (y1 * W + x0) * 4, i11 = (y1 * W + x1) * 4;
      for (let k = 0; k < 3; k++) {
        let val = (sd[i00 + k] * (1 - fx) + sd[i01 + k] * fx) * (1 - fy) + (sd[i10 + k] * (1 - fx) + sd[i11 + k] * fx) * fy;
        if (gamma !== 1) val = 255 * (val / 255) ** gamma;
        val = val * mo + (noise ? (rnd() - 0.5) * 2 * noise : 0);
        out[o + k] = val < 0 ? 0 : val > 255 ? 255 : Math.round(val);
      }
    }
  }
  const img: ImageInput = { data: out, width: outW, height: outH, format: 'rgba' };
  return effects.blur ? boxBlur(img, effects.blur) : img;
}

/** Separable box blur of radius r (a re-capture slightly out of focus). */
export function boxBlur(img: ImageInput, r: number): ImageInput {
  const { width: w, height: h } = img, a = img.data, tmp = new Float32Array(w * h * 4), out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 4; k++) {
    let s = 0, n = 0;
    for (let i = -r; i <= r; i++) { const xx = x + i; if (xx >= 0 && xx < w) { s += a[(y * w + xx) * 4 + k]; n++; } }
    tmp[(y * w + x) * 4 + k] = s / n;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 4; k++) {
    let s = 0, n = 0;
    for (let i = -r; i <= r; i++) { const yy = y + i; if (yy >= 0 && yy < h) { s += tmp[(yy * w + x) * 4 + k]; n++; } }
    out[(y * w + x) * 4 + k] = Math.round(s / n);
  }
  return { data: out, width: w, height: h, format: 'rgba' };
}
