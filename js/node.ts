// Node entry: the same API, with the wasm builds and the bundled models read from the package's
// files, and JPEG/PNG decoding for image files.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, WasmSources } from './loader.js';
import { FaceEngine, type FaceEngineOptions } from './engine.js';
import { decodeImage } from './node/decode.js';
import type { ImageInput } from './image.js';

const BUILD_DIRS = ['../build/', '../dist/', './'];
const MODEL_DIRS = ['../models/', '../dist/models/', './models/'];

function firstExisting(dirs: string[], name: string): string | null {
  for (const dir of dirs) {
    const path = fileURLToPath(new URL(dir + name, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

/** Resolves each build to its bytes from the package directory (build/ in a checkout, dist/ when installed). */
export function nodeWasmSources(): WasmSources {
  return (backend: Backend) => {
    const path = firstExisting(BUILD_DIRS, `wasmface.${backend}.wasm`);
    if (!path) throw new Error(`wasmface.${backend}.wasm not found next to the package (run npm run build)`);
    return readFileSync(path);
  };
}

/** The bundled model files (models/manifest.json), by role. */
export function bundledModels(): FaceEngineOptions['models'] {
  const manifestPath = firstExisting(MODEL_DIRS, 'manifest.json');
  if (!manifestPath) throw new Error('no bundled models found (models/manifest.json): run npm run models');
  // models/manifest.json: { <model id>: { file, sha256, size } }; the role follows from the model family
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, { file: string }>;
  const dir = manifestPath.slice(0, -'manifest.json'.length);
  const ids = Object.keys(manifest).sort();
  const role = (prefix: string) => ids.filter((id) => id.startsWith(prefix));
  const file = (id: string) => readFileSync(dir + manifest[id].file);
  const [detector] = role('yunet'), [embedder] = role('faceapi');
  if (!detector || !embedder) throw new Error(`models/manifest.json lacks a detector (yunet-*) or embedder (faceapi-*): ${ids.join(', ')}`);
  return { detector: file(detector), embedder: file(embedder), antispoof: role('minifasnet').map(file) };
}

export function haveBundledModels(): boolean {
  return firstExisting(MODEL_DIRS, 'manifest.json') !== null;
}

/** FaceEngine with the package's wasm builds and bundled models; options override any part. */
export function createNodeEngine(options: Partial<FaceEngineOptions> = {}): Promise<FaceEngine> {
  return FaceEngine.create({ ...options, wasm: options.wasm ?? nodeWasmSources(), models: options.models ?? bundledModels() });
}

/** Reads a JPEG or PNG file, upright per its EXIF orientation, as an RGBA ImageInput. */
export function readImageFile(path: string): ImageInput {
  const { data, width, height } = decodeImage(new Uint8Array(readFileSync(path)));
  return { data, width, height, format: 'rgba' };
}

export * from './index.js';
export { decodeImage, ImageDecodeError } from './node/decode.js';
