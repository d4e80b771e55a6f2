// The float originals, run by engines that share no code with wasmface:
// - YuNet and MiniFASNet: the ONNX files in ../shared/models through onnxruntime-web (wasm execution
//   provider, one thread) in Node;
// - the face-api.js recognition net: @vladmandic/face-api's face-api.node-wasm entry on
//   @tensorflow/tfjs-backend-wasm, with the weights in ../shared/models/faceapi-recognition.
// Every reference takes packed RGB bytes (the same bytes the int8 model is given) and does its own
// upstream preprocessing.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as ort from 'onnxruntime-web';
import { sharedPath } from '../convert/models.js';
import { softmax } from '../convert/evaluate.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** onnxruntime-web session on a file in ../shared/models. */
export async function ortSession(relative: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(sharedPath(`models/${relative}`), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

/** Packed RGB -> float NCHW BGR 0..255 (YuNet and MiniFASNet: cv2 images, no mean, no scale). */
function bgrPlanar(rgb: Uint8Array, w: number, h: number): Float32Array {
  const n = w * h, out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) { out[p] = rgb[p * 3 + 2]; out[n + p] = rgb[p * 3 + 1]; out[2 * n + p] = rgb[p * 3]; }
  return out;
}

async function runAll(s: ort.InferenceSession, x: Float32Array, h: number, w: number): Promise<Record<string, Float32Array>> {
  const input = new ort.Tensor('float32', x, [1, 3, h, w]);
  const res = await s.run({ [s.inputNames[0]]: input });
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(res)) { out[name] = (t.data as Float32Array).slice(); t.dispose(); }
  input.dispose();
  return out;
}

/**
 * YuNet float. The int8 model was converted from face_detection_yunet_2023mar.onnx, which declares
 * a fixed 640x640 input that onnxruntime enforces; face_detection_yunet_2026may.onnx holds the same
 * 112 weight tensors bit for bit with symbolic H and W (../shared/models/yunet/README.md; the import
 * test asserts both files give the same graph), so it runs the canvases at the engine's own sizes.
 */
export class FloatYunet {
  static readonly FILE = 'yunet/face_detection_yunet_2026may.onnx';
  private constructor(private readonly s: ort.InferenceSession) {}
  static async create(): Promise<FloatYunet> { return new FloatYunet(await ortSession(FloatYunet.FILE)); }
  /** The 12 raw outputs (cls/obj/bbox/kps per stride, anchor-major as the int8 model's HWC). */
  run(rgb: Uint8Array, w: number, h: number): Promise<Record<string, Float32Array>> {
    return runAll(this.s, bgrPlanar(rgb, w, h), h, w);
  }
  release(): Promise<void> { return this.s.release(); }
}

export { softmax }; // accuracy.ts takes it from here with the references

/** MiniFASNet float (our ONNX exports of the upstream .pth, checked against PyTorch in ../shared). */
export class FloatMiniFas {
  static readonly FILES = { 'minifasnet-v2-2.7': 'minifasnet/2.7_80x80_MiniFASNetV2.onnx', 'minifasnet-v1se-4.0': 'minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx' } as Record<string, string>;
  private constructor(private readonly s: ort.InferenceSession, readonly file: string) {}
  static async create(modelId: string): Promise<FloatMiniFas> {
    const file = FloatMiniFas.FILES[modelId];
    if (!file) throw new Error(`no float original known for ${modelId}`);
    return new FloatMiniFas(await ortSession(file), file);
  }
  /** Softmax of the logits for an 80x80 RGB patch (class 1 = live). */
  async probs(rgb: Uint8Array, size = 80): Promise<number[]> {
    const out = await runAll(this.s, bgrPlanar(rgb, size, size), size, size);
    return softmax(out[this.s.outputNames[0]]);
  }
  release(): Promise<void> { return this.s.release(); }
}

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
type Tf = typeof import('@tensorflow/tfjs');

// face-api.js FaceRecognitionNet input mean (RGB)
const MEAN = [122.782, 117.001, 104.298];

/**
 * face-api.js recognition net, float, through @vladmandic/face-api on tfjs-backend-wasm.
 *
 * @vladmandic computes (x - mean) / 255 inside the net, while the face-api.js commit our model was
 * converted from (and dlib) compute (x - mean) / 256. We feed it x = p * 255/256 + mean / 256, for
 * which (x - mean) / 255 = (p - mean) / 256 exactly: the reference is then the original network on
 * the original preprocessing, evaluated by @vladmandic's code. `asIs` skips that and gives
 * @vladmandic's own /255 result (reported as a side figure).
 */
export class FloatEmbedder {
  private constructor(private readonly faceapi: FaceApi, private readonly tf: Tf) {}

  static async create(): Promise<FloatEmbedder> {
    const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    wasm.setThreadsCount(1);
    // the bundle re-exports @tensorflow/tfjs, but its typings only declare the core ops
    const tf = faceapi.tf as unknown as Tf;
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, expected wasm`);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(sharedPath('models/faceapi-recognition'));
    return new FloatEmbedder(faceapi, tf);
  }

  get backend(): string { return this.tf.getBackend(); }
  get tfVersion(): string { return this.tf.version_core; }

  /** Unit-length 128-d descriptor of a 150x150 RGB crop. */
  async embed(rgb: Uint8Array, asIs = false): Promise<Float64Array> {
    const x = new Float32Array(rgb.length);
    for (let i = 0; i < rgb.length; i++) x[i] = asIs ? rgb[i] : rgb[i] * (255 / 256) + MEAN[i % 3] / 256;
    const t = this.tf.tensor3d(x, [150, 150, 3], 'float32');
    try {
      const d = (await this.faceapi.computeFaceDescriptor(t as never)) as Float32Array;
      return unit(d);
    } finally {
      t.dispose();
    }
  }

  get liveTensors(): number { return this.tf.memory().numTensors; }
}

export function unit(v: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  return Float64Array.from(v as ArrayLike<number>, (a) => a / n);
}

export function ortVersion(): string { return ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown'; }
