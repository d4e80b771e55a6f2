// The source models we convert, with the input specs taken from their upstream demo code (see
// ../shared/models/<model>/README.md), and loaders that read them from the shared folder.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Graph } from './ir.js';
import { importOnnx, type OnnxImportMeta } from './onnx-import.js';
import { importFaceApiRecognition, type FaceApiImportOptions } from './faceapi-import.js';

/** The shared model/data folder: `../shared` beside the repository root (override: WASMFACE_SHARED). */
export function sharedDir(): string {
  return process.env.WASMFACE_SHARED ?? fileURLToPath(new URL('../../../shared/', import.meta.url));
}

export function sharedPath(relative: string): string {
  return `${sharedDir().replace(/\/?$/, '/')}${relative}`;
}

/** Whether the shared models are present (tests skip without them). */
export function haveSharedModels(): boolean {
  return existsSync(sharedPath('models/README.md'));
}

/**
 * YuNet 2023mar: BGR 0..255 raw (upstream demo: cv2.dnn.blobFromImage without mean or scale).
 * The file declares 640x640 but every op is size-agnostic (Resize by scales, Reshape with -1),
 * so H and W may be any multiple of 32 (the total stride); buffers are planned for the declared
 * 640x640, the size upstream's demo and ORT use.
 */
export const YUNET_META: OnnxImportMeta = {
  id: 'yunet-2023mar',
  colorOrder: 'bgr', mean: [0, 0, 0], scale: [1, 1, 1],
  planShape: [640, 640, 3],
  dynamic: { multipleOf: 32 },
  source: {
    file: 'face_detection_yunet_2023mar.onnx', licence: 'MIT',
    url: 'https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet',
  },
};

/** MiniFASNet (Silent-Face-Anti-Spoofing): BGR 0..255 raw (upstream ToTensor skips /255), 80x80. */
function miniFasNetMeta(id: string, file: string): OnnxImportMeta {
  return {
    id, colorOrder: 'bgr', mean: [0, 0, 0], scale: [1, 1, 1],
    source: { file, licence: 'Apache-2.0', url: 'https://github.com/minivision-ai/Silent-Face-Anti-Spoofing' },
  };
}

export const MINIFASNET_V2_META = miniFasNetMeta('minifasnet-v2-2.7', '2.7_80x80_MiniFASNetV2.onnx');
export const MINIFASNET_V1SE_META = miniFasNetMeta('minifasnet-v1se-4.0', '4_0_0_80x80_MiniFASNetV1SE.onnx');

export function loadYunet(): Graph {
  return importOnnx(readFileSync(sharedPath(`models/yunet/${YUNET_META.source.file}`)), YUNET_META);
}

export function loadMiniFasNet(which: 'v2' | 'v1se'): Graph {
  const meta = which === 'v2' ? MINIFASNET_V2_META : MINIFASNET_V1SE_META;
  return importOnnx(readFileSync(sharedPath(`models/minifasnet/${meta.source.file}`)), meta);
}

export function loadFaceApiRecognition(options?: FaceApiImportOptions): Graph {
  return importFaceApiRecognition(sharedPath('models/faceapi-recognition/'), options);
}
