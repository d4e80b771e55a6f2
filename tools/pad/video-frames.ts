// Video frames for liveness tools and tests, decoded by ffmpeg (a dev and CI tool here, never a
// dependency of the SDK): RGBA frames at a fixed width and frame rate.
import { spawnSync } from 'node:child_process';
import type { ImageInput } from '../../js/image.js';

export function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 && spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
}

/** Up to `max` frames of `path` at `fps`, scaled to `width` (height keeps the aspect, even). */
export function videoFrames(path: string, width = 480, fps = 10, max = 300): ImageInput[] {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const [w0, h0] = probe.stdout.trim().split(',').map(Number);
  if (!(w0 > 0 && h0 > 0)) throw new Error(`ffprobe could not read ${path}: ${probe.stderr.trim()}`);
  const height = Math.max(2, Math.round((h0 * width) / w0 / 2) * 2);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', `fps=${fps},scale=${width}:${height}`, '-frames:v', String(max), '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { maxBuffer: 2 ** 31 - 1 });
  if (r.status !== 0) throw new Error(`ffmpeg could not decode ${path}: ${r.stderr.toString().trim()}`);
  const size = width * height * 4, frames: ImageInput[] = [];
  for (let i = 0; (i + 1) * size <= r.stdout.length; i++) frames.push({ data: new Uint8Array(r.stdout.buffer, r.stdout.byteOffset + i * size, size), width, height, format: 'rgba' });
  return frames;
}
