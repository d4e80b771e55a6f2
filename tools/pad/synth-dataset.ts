// A synthesised presentation-attack set from the dev face photos (../shared/faces, which may not be
// copied into the repo, so the set is generated where you ask, never committed): each photo is shown
// to a 640x480 camera as a print (paper: lower contrast and saturation, a warm white, a halftone
// dot pattern, a slight bend) and as a phone or monitor screen (gamma, moire from the pixel grid, a
// cool white, a dark bezel), at several distances and tilts, over a scene without faces; the
// photos themselves are the bona fide presentations. Writes PNGs and a pad.csv for
// `wasmface liveness --pad pad.csv --root OUT`.
// `node --import tsx tools/pad/synth-dataset.ts --out DIR [--photos N] [--seed S]`
import { readFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { readImageFile, type ImageInput } from '../../js/node.js';
import { renderPicture, type PlanePose, type CaptureEffects } from './flat-attack.js';
import { mulberry32 } from '../rng.js';
import { Progress } from '../../js/cli/progress.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FACES = join(ROOT, '../shared/faces');

/** Ink on paper: contrast and saturation pulled in, a warm paper white, a halftone dot screen. */
export function asPrint(img: ImageInput, r: () => number): ImageInput {
  const out = new Uint8Array(img.data.length), w = img.width, period = 3 + Math.floor(r() * 3), angle = r() * Math.PI;
  const ca = Math.cos(angle), sa = Math.sin(angle), contrast = 0.75 + 0.15 * r(), sat = 0.7 + 0.2 * r();
  for (let i = 0; i < img.data.length; i += 4) {
    const x = (i >> 2) % w, y = Math.floor((i >> 2) / w);
    const luma = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
    const u = (x * ca + y * sa) / period, v = (-x * sa + y * ca) / period;
    const dot = 6 * Math.cos(2 * Math.PI * u) * Math.cos(2 * Math.PI * v);
    const paper = [250, 244, 232];
    for (let k = 0; k < 3; k++) {
      const c = luma + (img.data[i + k] - luma) * sat;
      out[i + k] = Math.max(0, Math.min(255, Math.round((128 + (c - 128) * contrast) * (paper[k] / 255) + dot)));
    }
    out[i + 3] = 255;
  }
  return { data: out, width: img.width, height: img.height, format: 'rgba' };
}

/** A screen: a cool white point and a dark bezel around the picture. */
export function asScreen(img: ImageInput, r: () => number): ImageInput {
  const bezel = Math.round(Math.min(img.width, img.height) * (0.04 + 0.04 * r()));
  const w = img.width + 2 * bezel, h = img.height + 2 * bezel, out = new Uint8Array(w * h * 4);
  const tint = [0.95, 0.98, 1.05];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 4, sx = x - bezel, sy = y - bezel;
    if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) { out[o] = out[o + 1] = out[o + 2] = 18; out[o + 3] = 255; continue; }
    const i = (sy * img.width + sx) * 4;
    for (let k = 0; k < 3; k++) out[o + k] = Math.min(255, Math.round(img.data[i + k] * tint[k]));
    out[o + 3] = 255;
  }
  return { data: out, width: w, height: h, format: 'rgba' };
}

function writePng(path: string, img: ImageInput): void {
  mkdirSync(dirname(path), { recursive: true });
  // pngjs needs a Node Buffer for the pixels
  writeFileSync(path, PNG.sync.write({ width: img.width, height: img.height, data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length) }));
}

/** Labelled dev photos with faces large enough to re-capture (deepface, face-api.js), one per file. */
function devPhotos(limit: number): { path: string; identity: string }[] {
  const rows = readFileSync(join(FACES, 'manifest.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',')).filter(([p, id, src]) => (src === 'deepface' || src === 'face-api.js') && !id.startsWith('_') && /\.(jpe?g|png)$/i.test(p));
  return rows.slice(0, limit).map(([path, identity]) => ({ path, identity }));
}

if (process.argv[1]?.endsWith('synth-dataset.ts')) {
  const arg = (n: string) => { const i = process.argv.indexOf(n); return i > 0 ? process.argv[i + 1] : undefined; };
  const out = arg('--out');
  if (!out) { console.error('usage: synth-dataset.ts --out DIR [--photos N] [--seed S]'); process.exit(2); }
  if (!existsSync(join(FACES, 'manifest.csv'))) { console.error(`no dev faces at ${FACES}: this tool synthesises from them`); process.exit(3); }
  const photos = devPhotos(Number(arg('--photos') ?? 100));
  const r = mulberry32(Number(arg('--seed') ?? 30107));
  // scenes without faces (the dev set's negatives), so the largest face is the one presented
  const scenes = readFileSync(join(FACES, 'manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]).filter((p) => p.startsWith('negatives/') && !/cat/.test(p)).map((p) => join(FACES, p));
  const rows = ['path,label,attack'];
  const progress = new Progress('synthesising', photos.length);
  for (const [n, p] of photos.entries()) {
    let photo: ImageInput;
    try { photo = readImageFile(join(FACES, p.path)); } catch { progress.tick(1, `undecodable: ${p.path}`); continue; }
    const name = p.path.replace(/[/\\]/g, '_').replace(/\.\w+$/, '');
    rows.push(`${relative(resolve(out), join(FACES, p.path))},live,`); // paths relative to --root OUT
    const scene = readImageFile(scenes[n % scenes.length]);
    for (const [kind, make] of [['print', asPrint], ['replay', asScreen]] as const) {
      for (let k = 0; k < 2; k++) {
        const pose: PlanePose = { yawDeg: (r() - 0.5) * 50, pitchDeg: (r() - 0.5) * 40, distance: 1.1 + r() * 1.4, dx: (r() - 0.5) * 0.3, dy: (r() - 0.5) * 0.2, bend: kind === 'print' ? r() * 0.8 : 0 };
        const effects: CaptureEffects = kind === 'print'
          ? { blur: Math.round(r()), noise: 2 + 3 * r(), background: scene, random: r }
          : { gamma: 1.2 + 0.4 * r(), moire: 0.04 + 0.08 * r(), blur: Math.round(r()), noise: 2 + 3 * r(), background: scene, random: r };
        const file = `${kind}/${name}-${k}.png`;
        writePng(join(out, file), renderPicture(make(photo, r), pose, 640, 480, effects));
        rows.push(`${file},${kind},${kind}`);
      }
    }
    progress.tick(1, p.path);
  }
  writeFileSync(join(out, 'pad.csv'), `${rows.join('\n')}\n`);
  console.log(`wrote ${rows.length - 1} presentations (${photos.length} bona fide photos, 2 prints and 2 screens of each) and ${join(out, 'pad.csv')}`);
}
