// Download/disk footprint: wasm builds, models, JS bundles, and the peers' files; SIMD census of
// wasm binaries (wasm-objdump, when installed; cached by size and mtime).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { OUT, ROOT, SHARED } from './common.js';

export interface FileSize { file: string; bytes: number; gzip: number }
const gzCache = new Map<string, number>();
export function fileSize(file: string): FileSize {
  const bytes = statSync(file).size;
  const key = `${file}:${bytes}:${statSync(file).mtimeMs}`;
  if (!gzCache.has(key)) gzCache.set(key, gzipSync(readFileSync(file), { level: 9 }).length);
  return { file: file.replace(ROOT, '').replace(SHARED, '../shared/'), bytes, gzip: gzCache.get(key)! };
}
const sum = (xs: FileSize[]) => ({ bytes: xs.reduce((s, x) => s + x.bytes, 0), gzip: xs.reduce((s, x) => s + x.gzip, 0) });

/** A package's directory in the project's node_modules (some packages do not export package.json). */
export function pkgDir(name: string): string {
  return `${ROOT}node_modules/${name}`;
}

export function ourFootprint() {
  const builds = Object.fromEntries(['scalar', 'simd', 'relaxed', 'wasi'].map((b) => [b, fileSize(`${ROOT}build/wasmface.${b}.wasm`)]));
  const manifest = JSON.parse(readFileSync(`${ROOT}models/manifest.json`, 'utf8')) as Record<string, { file: string }>;
  const models = Object.fromEntries(Object.entries(manifest).map(([id, m]) => [id, fileSize(`${ROOT}models/${m.file}`)]));
  const js = Object.fromEntries(['wasmface.mjs', 'wasmface.cjs', 'node.mjs', 'wasmface.inline.mjs'].filter((f) => existsSync(`${ROOT}dist/${f}`)).map((f) => [f, fileSize(`${ROOT}dist/${f}`)]));
  const originals = {
    'yunet (face_detection_yunet_2023mar.onnx)': fileSize(`${SHARED}models/yunet/face_detection_yunet_2023mar.onnx`),
    'face-api recognition net (TF.js, uint8-stored shards)': (() => {
      const shards = ['face_recognition_model-shard1', 'face_recognition_model-shard2', 'face_recognition_model-weights_manifest.json'].map((f) => fileSize(`${SHARED}models/faceapi-recognition/${f}`));
      return { file: '../shared/models/faceapi-recognition/*', ...sum(shards) };
    })(),
    'MiniFASNet V2 (.onnx)': fileSize(`${SHARED}models/minifasnet/2.7_80x80_MiniFASNetV2.onnx`),
    'MiniFASNet V1SE (.onnx)': fileSize(`${SHARED}models/minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx`),
  };
  return { builds, models, modelsTotal: sum(Object.values(models)), js, originals, originalsTotal: sum(Object.values(originals)) };
}

/** What a browser app ships for each peer (the entry a bundler resolves, plus the wasm it fetches). */
export function peerBrowserSets() {
  const ort = pkgDir('onnxruntime-web'), tfc = pkgDir('@tensorflow/tfjs-core'), tfw = pkgDir('@tensorflow/tfjs-backend-wasm'), fa = pkgDir('@vladmandic/face-api');
  const set = (files: string[]) => { const f = files.map(fileSize); return { files: f, ...sum(f) }; };
  return {
    'onnxruntime-web (import "onnxruntime-web": ort.bundle.min.mjs + ort-wasm-simd-threaded.wasm)': set([`${ort}/dist/ort.bundle.min.mjs`, `${ort}/dist/ort-wasm-simd-threaded.wasm`]),
    'tfjs-backend-wasm SIMD (tf-core.min.js + tf-backend-wasm.min.js + tfjs-backend-wasm-simd.wasm)': set([`${tfc}/dist/tf-core.min.js`, `${tfw}/dist/tf-backend-wasm.min.js`, `${tfw}/dist/tfjs-backend-wasm-simd.wasm`]),
    '@vladmandic/face-api on tfjs-backend-wasm (face-api.esm-nobundle.js + the tfjs set above)': set([`${fa}/dist/face-api.esm-nobundle.js`, `${tfc}/dist/tf-core.min.js`, `${tfw}/dist/tf-backend-wasm.min.js`, `${tfw}/dist/tfjs-backend-wasm-simd.wasm`]),
  };
}

/** The files a runtime loaded in Node (traced in its worker), summed. */
export function tracedSet(files: string[]) {
  const f = files.filter((x) => existsSync(x) && /\.(wasm|m?js|cjs)$/.test(x)).map(fileSize);
  const byPackage: Record<string, { bytes: number; gzip: number; files: number }> = {};
  for (const x of f) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(x.file);
    const k = m ? m[1] : x.file;
    byPackage[k] ??= { bytes: 0, gzip: 0, files: 0 };
    byPackage[k].bytes += x.bytes; byPackage[k].gzip += x.gzip; byPackage[k].files++;
  }
  return { ...sum(f), files: f.length, byPackage, wasm: f.filter((x) => x.file.endsWith('.wasm')) };
}

/** SIMD instructions in a wasm binary (wasm-objdump -d, streamed). null when wabt is missing. */
export async function simdCensus(file: string): Promise<{ simd: number; relaxed: number; instructions: number } | null> {
  const cacheFile = `${OUT}simd-census.json`;
  const cache = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
  const st = statSync(file), key = `v2:${file}:${st.size}:${st.mtimeMs}`;
  if (cache[key]) return cache[key];
  const result = await new Promise<{ simd: number; relaxed: number; instructions: number } | null>((resolve) => {
    const child = spawn('wasm-objdump', ['-d', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let rest = '', simd = 0, relaxed = 0, instructions = 0;
    const re = /\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        if (!l.includes(' | ')) continue;
        const ins = l.slice(l.indexOf(' | ') + 3);
        if (!ins.trim()) continue;
        instructions++;
        if (re.test(ins)) {
          simd++;
          // relaxed SIMD opcodes are 0xfd 0x100..0x113 (LEB128: fd 80 02 .. fd 93 02); wabt 1.0.32 prints
          // some without the "relaxed" prefix, so they are told by their bytes
          const m = /:\s*fd ([0-9a-f]{2}) 02\b/.exec(l);
          if (m && parseInt(m[1], 16) >= 0x80 && parseInt(m[1], 16) <= 0x93) relaxed++;
        }
      }
    });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code === 0 ? { simd, relaxed, instructions } : null));
  });
  if (result) { cache[key] = result; writeFileSync(cacheFile, JSON.stringify(cache, null, 1)); }
  return result;
}
