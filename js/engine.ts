// FaceEngine: the public API a gate, lock or unlock screen calls. It orchestrates wasm calls —
// pixel conversion, detection (YuNet), 5-point alignment, embedding (face-api.js ResNet, int8),
// anti-spoofing (MiniFASNet V2 + V1SE) and matching — and keeps every buffer resident, growing only
// when a larger image arrives. All arithmetic on pixels and scores happens in wasm, so results are
// bit-identical on every engine and build.

import { loadWasm, type Backend, type WasmSources } from './loader.js';
import type { WasmExports } from './wasm-abi.js';
import { Model, Arena } from './model.js';
import { WasmfaceError, check, ModelFormatError, KernelError, DisposedError, OptionError, OutOfMemoryError } from './errors.js';
import { PixelFormat } from './kernels.js';
import { checkImage, type ImageInput } from './image.js';
import { Template, TemplateError, checkUnitEmbedding, MAX_MODEL_ID_BYTES } from './template.js';
import { Gallery, type IdentifyMatch } from './gallery.js';
import { optionsObject, optNumber, optBoolean, optString, lookup, describeValue } from './options.js';
import { utf8Encode } from './utf8.js';
import { PINNED_MODELS } from './pinned-models.js';
import { DEFAULT_OPERATING_POINTS, LIVENESS_OPERATING_POINTS, type OperatingPoints } from './operating-points.js';
import { assessQuality, type FaceQuality } from './quality.js';
import { FaceSession, type SessionOptions } from './session.js';
import { isUint8Array, isArrayBuffer } from './bytes.js';
import { isGzip, gunzipNative, MAX_GUNZIP_BYTES } from './gzip.js';
import { WasmBuffer } from './wasm-buffer.js';
import { detectorCanvas } from './detector-canvas.js';

/** No face was found where one was required. */
export class NoFaceError extends WasmfaceError {
  constructor(message = 'no face found in the image (make sure a face is visible, large enough and lit)') {
    super('E_NO_FACE', message);
  }
}

export { DisposedError, Gallery };
export type { IdentifyMatch };

export type ModelSource = Uint8Array | ArrayBuffer | URL | string | Response | PromiseLike<Response>;

export interface FaceEngineOptions {
  /** Wasm build: 'auto' (default) picks relaxed SIMD, SIMD or scalar, whichever the engine runs and passes its self-test. */
  backend?: 'auto' | Backend;
  /** Where the wasm builds come from (Node: `nodeWasmSources()`; browsers: URLs of the .wasm files). */
  wasm: WasmSources;
  /** The model files (.wfm): detector, embedder, and the anti-spoofing models (optional; liveness is skipped without them). */
  models: { detector: ModelSource; embedder: ModelSource; antispoof?: ModelSource[] };
  /**
   * Fingerprint per model id that a model must match to be accepted: SHA-256 (hex) of its 128-byte
   * header, which embeds the SHA-256 of all the rest (`Model.pin`). Default: the models shipped with
   * this version. `false` accepts any well-formed model (your own conversions).
   */
  pinnedModels?: Record<string, string> | false;
  /** Match thresholds per embedder model id (default: calibrated on the dev pairs; see `wasmface calibrate`). */
  operatingPoints?: Record<string, OperatingPoints>;
  /** Ceiling on wasm memory in MiB (default 256). */
  memoryLimitMB?: number;
  detector?: {
    /** Minimum face score, default 0.6. */
    scoreThreshold?: number;
    /** NMS overlap, default 0.3 (upstream). */
    nmsIou?: number;
    /** Longer side the image is scaled down to for detection, default 640 (at most 640). */
    maxSide?: number;
    /** When no face is found, retry with the image padded by half its size on every side (tight crops). Default true. */
    padRetry?: boolean;
    /** Weighted box fusion in NMS: average the box and landmarks of the anchors a face suppresses (default true). */
    fuse?: boolean;
    /**
     * Longer side of a first, coarse detection pass used where only the largest face matters (embed,
     * verify, liveness, sessions); 0 disables. Default 0: the full pass gives the
     * most precise landmarks; 320 trades a little landmark precision for a ~4x cheaper detector on VGA frames.
     */
    coarseSide?: number;
  };
  embedder?: {
    /** Average the embeddings of the aligned crop and its mirror image. Default true. */
    flip?: boolean;
  };
  /**
   * Frames larger than this on their longer side (RGB-family and grey formats) are halved with a
   * 2x2 box filter while they are copied in, until they fit: it bounds wasm memory for big photos
   * (a 12 MP frame would otherwise need ~80 MB) and costs nothing in accuracy, since faces are
   * aligned to 150 px and the alignment halves large faces the same way anyway. Default 1280; 0 disables.
   */
  maxFrameSide?: number;
  liveness?: {
    /** Named liveness threshold: 'default' (0.5, upstream's rule), 'bpcer5e-2', 'bpcer1e-2' (see LIVENESS_OPERATING_POINTS). */
    operatingPoint?: string;
    /** Explicit live-score threshold (overrides operatingPoint). */
    threshold?: number;
  };
}

export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  /** Right eye, left eye, nose tip, right mouth corner, left mouth corner (subject's right = image left). */
  landmarks: [number, number][];
}

export interface Liveness {
  /** Fused live probability of the anti-spoofing models (upstream fusion), 0..1. */
  score: number;
  /** score >= threshold and the patches had the context they need. */
  live: boolean;
  threshold: number;
  /**
   * False when the face is too close to the image border for the models' 2.7x / 4x context patches
   * (tight crops, a face filling the frame): the score is then not trustworthy and `live` is false.
   */
  reliable: boolean;
  /** Why the result is not reliable, in words a UI can show. */
  reason?: string;
  /** Per anti-spoofing model: the share of its requested context patch that fit inside the image (1 = all). */
  context: number[];
}

export interface EmbedResult {
  /** Unit-length embedding. */
  embedding: Float32Array;
  face: DetectedFace;
  /** Faces found in the image (the largest is used). */
  faces: number;
  /** Capture quality of the face and guidance for the user. */
  quality: FaceQuality;
}

export interface VerifyOptions {
  /** Named threshold: 'far1e-2', 'far1e-3' (default) or 'far1e-4'. */
  operatingPoint?: string;
  /** Explicit cosine threshold (overrides operatingPoint). */
  threshold?: number;
  /** Run anti-spoofing (default: when the engine has the models). */
  liveness?: boolean;
}

/** What every decision call reports besides its decision: the threshold used and the face judged. */
export interface DecisionContext {
  threshold: number;
  operatingPoint: string | null;
  liveness: Liveness | null;
  faces: number;
  face: DetectedFace;
  quality: FaceQuality;
}

export interface VerifyResult extends DecisionContext {
  /** Same person and (when checked) live. */
  match: boolean;
  /** Cosine similarity of the probe and template embeddings. */
  score: number;
  timingsMs: Timings;
}

export interface Timings { convert: number; detect: number; align: number; embed: number; liveness: number; match: number; total: number }

export interface IdentifyOptions {
  /** How many ranked candidates to return (default 5). */
  topK?: number;
  /** Named threshold for `match` (default 'far1e-3'). */
  operatingPoint?: string;
  /** Explicit cosine threshold for `match` (overrides operatingPoint). */
  threshold?: number;
  /** Run anti-spoofing (default: when the engine has the models), as verify does. */
  liveness?: boolean;
}

export interface IdentifyResult extends DecisionContext {
  /** The best candidate when it reaches the threshold and (when checked) the face is live; else null. */
  match: IdentifyMatch | null;
  /**
   * Ranked candidates, best first. Empty when anti-spoofing was run and did not judge the face live:
   * a spoof (or a face that could not be judged) is never ranked against the gallery.
   */
  matches: IdentifyMatch[];
}

export interface FrameAnalysis {
  faces: number;
  face: DetectedFace | null;
  quality: FaceQuality;
  embedding: Float32Array | null;
  liveness: Liveness | null;
}

// 5-point template of the 112x112 ArcFace/SFace crop, and the face-api.js framing ("fa150", see
// shared/models/faceapi-recognition/README.md): the square (6.74, 22.80, side 98.5) of that template
// scaled to 150x150.
const TEMPLATE_112 = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041];
export const EMBED_SIZE = 150;
export const FA150_TEMPLATE = Float32Array.from(TEMPLATE_112, (v, i) => (v - (i % 2 ? 22.8 : 6.74)) * (EMBED_SIZE / 98.5));

const YUNET_OUTPUTS = ['cls_8', 'cls_16', 'cls_32', 'obj_8', 'obj_16', 'obj_32', 'bbox_8', 'bbox_16', 'bbox_32', 'kps_8', 'kps_16', 'kps_32'];
const MAX_FACES = 64, MAX_CANDIDATES = 4096, FACE_FLOATS = 15;
/**
 * Liveness needs at least this share of each model's context patch inside the image. Upstream caps
 * the patch at the border too: its own live sample (640x480 portrait) keeps 0.66 of the 4x patch,
 * dev portrait photos a median 0.54 (10th percentile 0.41), while tight crops (LFW, face-api.js
 * stills) keep only 0.25-0.28 and then score like spoofs. Below 0.4 the score is not trusted.
 */
const MIN_LIVENESS_CONTEXT = 0.4;
/** A face this wide (pixels) in the coarse pass is well inside YuNet's range, so its landmarks stand. */
const COARSE_MIN_FACE = 64;
/** Anti-spoofing context scales a model may state (MiniFASNet: 2.7 and 4). */
const MIN_PATCH_SCALE = 1, MAX_PATCH_SCALE = 8;
/** Option keys each object of FaceEngineOptions takes: anything else is a typo, refused. */
const OPTION_KEYS = {
  engine: ['backend', 'wasm', 'models', 'pinnedModels', 'operatingPoints', 'memoryLimitMB', 'detector', 'embedder', 'maxFrameSide', 'liveness'],
  models: ['detector', 'embedder', 'antispoof'],
  detector: ['scoreThreshold', 'nmsIou', 'maxSide', 'padRetry', 'fuse', 'coarseSide'],
  embedder: ['flip'],
  liveness: ['operatingPoint', 'threshold'],
  verify: ['operatingPoint', 'threshold', 'liveness'],
  identify: ['topK', 'operatingPoint', 'threshold', 'liveness'],
  analyze: ['embed', 'liveness'],
} as const;

/** Checks the shape of FaceEngineOptions up front (values are checked where they are used). */
function checkEngineOptions(options: unknown): FaceEngineOptions {
  const o = optionsObject<FaceEngineOptions>(options, 'FaceEngine options', OPTION_KEYS.engine);
  if (options === undefined) throw new OptionError('FaceEngine.create needs options { wasm, models }');
  const models = optionsObject<FaceEngineOptions['models']>(o.models, 'models', OPTION_KEYS.models);
  if (!models.detector || !models.embedder) throw new OptionError('models needs a detector and an embedder (model bytes, URLs or Responses)');
  if (models.antispoof !== undefined && (!Array.isArray(models.antispoof) || models.antispoof.length > 8)) throw new OptionError(`models.antispoof must be an array of at most 8 model sources, got ${describeValue(models.antispoof)}`);
  optionsObject(o.detector, 'detector', OPTION_KEYS.detector);
  optionsObject(o.embedder, 'embedder', OPTION_KEYS.embedder);
  optionsObject(o.liveness, 'liveness', OPTION_KEYS.liveness);
  if (o.pinnedModels !== undefined && o.pinnedModels !== false) {
    const pins = optionsObject<Record<string, string>>(o.pinnedModels, 'pinnedModels', Object.keys(o.pinnedModels as object));
    for (const [id, pin] of Object.entries(pins)) if (typeof pin !== 'string' || !/^[0-9a-f]{64}$/.test(pin)) throw new OptionError(`pinnedModels['${id}'] must be a SHA-256 in lower-case hex (see Model.pin), got ${describeValue(pin)}`);
  }
  if (o.operatingPoints !== undefined) {
    const all = optionsObject<Record<string, OperatingPoints>>(o.operatingPoints, 'operatingPoints', Object.keys(o.operatingPoints as object));
    for (const [id, points] of Object.entries(all)) {
      const p = optionsObject<OperatingPoints>(points, `operatingPoints['${id}']`, Object.keys((points ?? {}) as object));
      for (const [name, t] of Object.entries(p)) optNumber(t, `operatingPoints['${id}'].${name}`, -1, 1);
    }
  }
  return o as FaceEngineOptions;
}

/** A face found in a frame halved `scale` times smaller, in the caller's image coordinates. */
function toImage(f: DetectedFace, scale: number): DetectedFace {
  if (scale === 1) return f;
  return {
    box: { x: f.box.x * scale, y: f.box.y * scale, width: f.box.width * scale, height: f.box.height * scale },
    score: f.score, landmarks: f.landmarks.map(([x, y]) => [x * scale, y * scale] as [number, number]),
  };
}

/** Bytes per pixel of the interleaved formats that can be halved before conversion (not YUV). */
const CHANNELS: Record<string, number> = { rgba: 4, bgra: 4, rgb: 3, bgr: 3, gray: 1 };
/** Largest strip of caller pixels copied into wasm at once (interleaved formats). */
const STRIP_BYTES = 256 * 1024;

/**
 * 2x2 box average of an interleaved image, the same integer rounding as the wasm `halve` kernel
 * ((sum + 2) >> 2): exact in every engine. An odd last row/column is dropped.
 */
function halveInterleaved(src: Uint8Array | Uint8ClampedArray, w: number, h: number, c: number): Uint8Array {
  const dw = w >> 1, dh = h >> 1, out = new Uint8Array(dw * dh * c), stride = w * c;
  for (let y = 0; y < dh; y++) {
    const r0 = 2 * y * stride, r1 = r0 + stride, o = y * dw * c;
    for (let x = 0; x < dw; x++) {
      for (let k = 0; k < c; k++) {
        const i = 2 * x * c + k;
        out[o + x * c + k] = (src[r0 + i] + src[r0 + i + c] + src[r1 + i] + src[r1 + i + c] + 2) >> 2;
      }
    }
  }
  return out;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());


/**
 * The model file as bytes of our own: caller buffers are copied first, so what is hashed is what is
 * loaded (a caller reusing its buffer cannot change the weights after the pinned digest was checked).
 */
async function toBytes(src: ModelSource, what: string): Promise<Uint8Array> {
  if (isUint8Array(src)) return src.slice();
  if (isArrayBuffer(src)) return new Uint8Array(src.slice(0));
  if (src === null || src === undefined || (typeof src !== 'string' && typeof src !== 'object' && typeof src !== 'function')) {
    throw new ModelFormatError(`${what}: expected the model's bytes (Uint8Array, ArrayBuffer), a URL or a Response, got ${describeValue(src)}`);
  }
  let response: Response;
  if (typeof src === 'string' || (typeof URL !== 'undefined' && src instanceof URL)) {
    if (typeof fetch !== 'function') throw new ModelFormatError(`${what}: no fetch() in this engine, pass the model bytes instead`);
    response = await fetch(src);
  } else {
    response = await (src as Response | PromiseLike<Response>);
  }
  if (!response || typeof response.arrayBuffer !== 'function') throw new ModelFormatError(`${what}: expected the model's bytes, a URL or a Response, got ${describeValue(response)}`);
  if (!response.ok) throw new ModelFormatError(`${what}: fetching the model failed (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

export class FaceEngine {
  private disposed = false;
  private readonly arena: Arena;
  private readonly buf: Record<string, WasmBuffer> = {};
  private readonly detOutputIndex: number[];
  private readonly antispoofScales: number[];
  private readonly opts: Required<NonNullable<FaceEngineOptions['detector']>> & { flip: boolean; livenessThreshold: number; maxFrameSide: number };
  /** Length of the embedder's embeddings: templates of any other length are refused. */
  readonly embeddingDim: number;

  private constructor(readonly wasm: WasmExports, readonly backend: Backend, private readonly detector: Model, private readonly embedder: Model,
                      private readonly antispoof: Model[], private readonly operatingPoints: OperatingPoints, options: FaceEngineOptions, arena: Arena) {
    this.arena = arena;
    const det = options.detector ?? {}, emb = options.embedder ?? {}, live = options.liveness ?? {};
    const livenessPoint = optString(live.operatingPoint, 'liveness.operatingPoint') ?? 'default';
    this.opts = {
      scoreThreshold: optNumber(det.scoreThreshold, 'detector.scoreThreshold', 0, 1) ?? 0.6,
      nmsIou: optNumber(det.nmsIou, 'detector.nmsIou', 0, 1) ?? 0.3,
      maxSide: optNumber(det.maxSide, 'detector.maxSide', 32, 640, true) ?? 640,
      padRetry: optBoolean(det.padRetry, 'detector.padRetry') ?? true,
      fuse: optBoolean(det.fuse, 'detector.fuse') ?? true,
      coarseSide: optNumber(det.coarseSide, 'detector.coarseSide', 0, 640, true) ?? 0,
      maxFrameSide: optNumber(options.maxFrameSide, 'maxFrameSide', 0, 16384, true) ?? 1280,
      flip: optBoolean(emb.flip, 'embedder.flip') ?? true,
      livenessThreshold: optNumber(live.threshold, 'liveness.threshold', 0, 1) ?? FaceEngine.livenessPoint(livenessPoint),
    };
    this.embeddingDim = embedder.meta.outputs.length === 1 ? this.wasm.modelOutputInfo(embedder.handleForEngine, 0, 3) : 0;
    if (!(this.embeddingDim >= 1 && this.embeddingDim <= 4096) || embedder.meta.outputs.length !== 1) {
      throw new ModelFormatError(`embedder '${embedder.id}' must have one output of 1..4096 values (has ${embedder.meta.outputs.length} outputs)`);
    }
    if (utf8Encode(embedder.id).length > MAX_MODEL_ID_BYTES) throw new ModelFormatError(`embedder id '${embedder.id.slice(0, 80)}…' is longer than the ${MAX_MODEL_ID_BYTES} bytes a template records`);
    this.detOutputIndex = YUNET_OUTPUTS.map((name) => {
      const i = detector.meta.outputs.findIndex((o) => o.name === name);
      if (i < 0) throw new ModelFormatError(`detector model '${detector.id}' has no output '${name}' (is it a YuNet conversion?)`);
      return i;
    });
    this.antispoofScales = antispoof.map((m) => {
      const s = Number((m.meta as { patchScale?: number }).patchScale ?? /-(\d+(?:\.\d+)?)$/.exec(m.id)?.[1]);
      // MiniFASNets use 1x-4x context around the face box; beyond this range the crop is meaningless
      if (!(s >= MIN_PATCH_SCALE && s <= MAX_PATCH_SCALE)) throw new ModelFormatError(`anti-spoofing model '${m.id}' states patch scale ${s}, outside [${MIN_PATCH_SCALE}, ${MAX_PATCH_SCALE}] (or none)`);
      return s;
    });
    if (this.embedder.inputSize.width !== EMBED_SIZE || this.embedder.inputSize.height !== EMBED_SIZE) {
      throw new ModelFormatError(`embedder '${embedder.id}' takes ${embedder.inputSize.width}x${embedder.inputSize.height}; this pipeline aligns to ${EMBED_SIZE}x${EMBED_SIZE}`);
    }
  }

  private static livenessPoint(name: string): number {
    const t = lookup(LIVENESS_OPERATING_POINTS, name);
    if (t === undefined) throw new WasmfaceError('E_OPERATING_POINT', `liveness.operatingPoint '${String(name)}' is not a liveness operating point (have: ${Object.keys(LIVENESS_OPERATING_POINTS).join(', ')})`);
    return t;
  }

  /** Loads the wasm build and the models (validated, and checked against the pinned SHA-256s). */
  static async create(options: FaceEngineOptions): Promise<FaceEngine> {
    options = checkEngineOptions(options);
    // The model bytes (fetches, in browsers) and their SHA-256 (WebCrypto, off the main thread) are
    // under way while the wasm compiles; Model.load then only validates, plans and packs. The largest
    // model is loaded first: its file copy, freed after packing, then holds the smaller ones, which
    // keeps the wasm memory high-water mark near embedder file + packed weights.
    const sources: [ModelSource, string][] = [[options.models.embedder, 'embedder'], [options.models.detector, 'detector'],
      ...(options.models.antispoof ?? []).map((src, i) => [src, `anti-spoofing model ${i}`] as [ModelSource, string])];
    const prepared = sources.map(async ([src, what]) => {
      let bytes = await toBytes(src, what);
      if (isGzip(bytes)) bytes = (await gunzipNative(bytes, MAX_GUNZIP_BYTES)) ?? bytes;
      return { bytes, digest: await Model.contentDigest(bytes), what };
    });
    prepared.forEach((p) => p.catch(() => undefined)); // awaited below; no unhandled rejection if the wasm fails first
    const { exports, backend } = await loadWasm({ backend: options.backend, wasm: options.wasm, memoryLimitMB: options.memoryLimitMB ?? 256 });
    const arena = new Arena(exports);
    const loaded: Model[] = [];
    try {
      const pins = options.pinnedModels === false ? null : options.pinnedModels ?? PINNED_MODELS;
      for (const p of prepared) {
        const { bytes, digest, what } = await p;
        const m = Model.load(exports, arena, bytes, digest);
        loaded.push(m);
        if (pins) {
          const want = lookup(pins, m.id);
          if (!want) throw new ModelFormatError(`${what} '${m.id}' is not a pinned model; pass pinnedModels: false to use your own conversions`);
          if (want !== m.pin) throw new ModelFormatError(`${what} '${m.id}' does not match its pinned fingerprint (got ${m.pin.slice(0, 16)}…): refusing a modified model`);
        }
      }
      const [embedder, detector, ...antispoof] = loaded;
      const points = lookup(options.operatingPoints ?? {}, embedder.id) ?? lookup(DEFAULT_OPERATING_POINTS, embedder.id) ?? {};
      return new FaceEngine(exports, backend, detector, embedder, antispoof, points, options, arena);
    } catch (e) {
      for (const m of loaded) m.dispose();
      arena.dispose();
      throw e;
    }
  }

  /** Model ids in use (templates record the embedder's). */
  get models(): { detector: string; embedder: string; antispoof: string[] } {
    return { detector: this.detector.id, embedder: this.embedder.id, antispoof: this.antispoof.map((m) => m.id) };
  }

  /**
   * Named buffers, grown to the largest size asked and reused for every frame (no allocation per
   * inference). 'frameScratch' is shared by stages that never overlap — the strip (or, for planar
   * YUV, the whole frame) of the caller's pixels being converted to RGB, the padded frame of the
   * detector's retry and the alignment pyramid — so a large frame costs its scratch once, not thrice.
   */
  private b(name: string): WasmBuffer {
    return (this.buf[name] ??= new WasmBuffer(this.wasm));
  }

  private live(): void { if (this.disposed) throw new DisposedError(); }

  // ---- stages ----

  /** Image -> packed RGB in wasm (halved on the way in while larger than maxFrameSide); returns its pointer. */
  private toRgb(image: ImageInput): { rgb: number; w: number; h: number; scale: number } {
    const format = checkImage(image);
    const x = this.wasm;
    let { data, width: w, height: h } = image;
    const channels = CHANNELS[format];
    while (channels && this.opts.maxFrameSide > 0 && Math.max(w, h) > this.opts.maxFrameSide && w >= 2 && h >= 2) {
      data = halveInterleaved(data, w, h, channels);
      w >>= 1; h >>= 1;
    }
    // A larger frame than any before: release the large per-call buffers first, so they are placed
    // again in the space they leave together, rather than each growing into new memory past the holes
    // of the old ones (wasm memory never shrinks). toRgb opens every operation: none is in use. Small
    // ones stay (no fragmentation to speak of, and a stable set of live regions).
    if (w * h * 3 > (this.buf.rgb?.bytes ?? 0)) for (const b of Object.values(this.buf)) if (b.bytes >= 65536) b.dispose();
    const rgb = this.b('rgb').get(w * h * 3);
    if (channels) {
      // row-interleaved pixels go in by strips, so the caller's frame never sits whole in wasm memory
      // (which never shrinks): a 1100x825 RGBA photo needs 256 KB here instead of 3.6 MB
      const rowBytes = w * channels, rows = Math.max(1, Math.min(h, Math.floor(STRIP_BYTES / rowBytes)));
      const strip = this.b('frameScratch').get(rows * rowBytes);
      for (let y = 0; y < h; y += rows) {
        const n = Math.min(rows, h - y);
        new Uint8Array(x.memory.buffer, strip, n * rowBytes).set(data.subarray(y * rowBytes, (y + n) * rowBytes));
        check('image conversion', x.toRgb(strip, n * rowBytes, PixelFormat[format], w, n, rgb + y * w * 3));
      }
    } else {
      const src = this.b('frameScratch').get(data.length);
      new Uint8Array(x.memory.buffer, src, data.length).set(data);
      check('image conversion', x.toRgb(src, data.length, PixelFormat[format], w, h, rgb));
    }
    return { rgb, w, h, scale: image.width / w };
  }

  /** Runs YuNet on the image placed at (offX, offY) of a canvas of canvasW x canvasH; faces in image coordinates. */
  private detectOn(rgb: number, w: number, h: number, pad: number, maxSide = this.opts.maxSide): number {
    const x = this.wasm, o = this.opts;
    const { canvas, inW, inH, effective, offset } = detectorCanvas(x, (name) => this.b(name), rgb, w, h, pad, maxSide);
    this.detector.setInputSize(inW, inH);
    this.detector.runResident(canvas, inW, inH);
    // dequantise the 12 outputs into one buffer and pass their addresses
    const table = this.b('detTable').get(12 * 4);
    let total = 0;
    const sizes = this.detOutputIndex.map((i) => { const n = x.modelOutputInfo(this.detector.handleForEngine, i, 1) * x.modelOutputInfo(this.detector.handleForEngine, i, 2) * x.modelOutputInfo(this.detector.handleForEngine, i, 3); total += n; return n; });
    const floats = this.b('detFloats').get(total * 4);
    let at = floats;
    const ptrs = new Int32Array(12);
    this.detOutputIndex.forEach((i, k) => {
      check('detector output', x.modelDequantizeOutput(this.detector.handleForEngine, i, this.arena.ptr, this.arena.bytes, at));
      ptrs[k] = at;
      at += sizes[k] * 4;
    });
    new Int32Array(x.memory.buffer, table, 12).set(ptrs);
    const n = x.detectDecode(table, inW, inH, o.scoreThreshold, o.nmsIou, 1 / effective, -offset, -offset,
      this.b('detWork').get(MAX_CANDIDATES * FACE_FLOATS * 4), MAX_CANDIDATES, this.b('faces').get(MAX_FACES * FACE_FLOATS * 4), MAX_FACES, o.fuse ? 1 : 0);
    if (n < 0) check('detector decoding', n);
    return n;
  }

  private readFaces(n: number): DetectedFace[] {
    const f = new Float32Array(this.wasm.memory.buffer, this.b('faces').ptr, n * FACE_FLOATS);
    const faces: DetectedFace[] = [];
    for (let i = 0; i < n; i++) {
      const r = f.subarray(i * FACE_FLOATS, (i + 1) * FACE_FLOATS);
      faces.push({ box: { x: r[0], y: r[1], width: r[2], height: r[3] }, score: r[4], landmarks: [0, 1, 2, 3, 4].map((k) => [r[5 + 2 * k], r[6 + 2 * k]] as [number, number]) });
    }
    return faces;
  }

  /**
   * Faces in the frame. With `largest` (embed, verify, liveness: only the largest face matters), a
   * coarse pass at coarseSide comes first: when its largest face is at least COARSE_MIN_FACE pixels
   * wide there, well inside YuNet's range, its result stands and the full-resolution pass is skipped.
   */
  private findFaces(rgb: number, w: number, h: number, largest = false): DetectedFace[] {
    const coarse = this.opts.coarseSide;
    if (largest && coarse > 0 && Math.max(w, h) > coarse) {
      const n = this.detectOn(rgb, w, h, 0, coarse);
      if (n > 0) {
        const faces = this.readFaces(n);
        if (FaceEngine.pick(faces).box.width * (coarse / Math.max(w, h)) >= COARSE_MIN_FACE) return faces;
      }
    }
    let n = this.detectOn(rgb, w, h, 0);
    if (n === 0 && this.opts.padRetry) n = this.detectOn(rgb, w, h, Math.round(Math.max(w, h) / 2));
    return this.readFaces(n);
  }

  /** Largest face by box area. */
  private static pick(faces: DetectedFace[]): DetectedFace {
    return faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
  }

  /** Aligned 150x150 RGB crop of a face (pointer in wasm). */
  private align(rgb: number, w: number, h: number, face: DetectedFace): number {
    const x = this.wasm;
    const lm = this.b('landmarks').get(40), tpl = this.b('template').get(40), m = this.b('similarity').get(32);
    new Float32Array(x.memory.buffer, lm, 10).set(face.landmarks.flat());
    new Float32Array(x.memory.buffer, tpl, 10).set(FA150_TEMPLATE);
    const st = x.alignEstimate(lm, tpl, 5, m);
    if (st !== 0) throw new NoFaceError('the detected face has degenerate landmarks');
    const [a, b] = new Float64Array(x.memory.buffer, m, 2);
    const levels = x.alignLevels(a, b);
    const sb = x.alignScratchBytes(w, h, Math.max(0, levels));
    const crop = this.b('crop').get(EMBED_SIZE * EMBED_SIZE * 3);
    check('alignment', x.alignWarp(rgb, w, h, m, Math.max(0, levels), this.b('frameScratch').get(Math.max(16, sb)), sb, crop, EMBED_SIZE, EMBED_SIZE, 0));
    return crop;
  }

  /** Quality of a face from its geometry and the photometry of its aligned crop (computed in wasm). */
  private qualityOf(face: DetectedFace, w: number, h: number, scale: number, crop: number): FaceQuality {
    const out = this.b('quality').get(32);
    check('quality', this.wasm.cropQuality(crop, EMBED_SIZE, EMBED_SIZE, out));
    const [sharpness, brightness, , bright] = new Float64Array(this.wasm.memory.buffer, out, 4);
    return assessQuality(toImage(face, scale), w * scale, h * scale, [sharpness, brightness, bright]);
  }

  /** Embedding of an aligned crop (flip-fused when enabled), unit length, left in wasm at 'embedding'. */
  private embedCrop(crop: number): number {
    const x = this.wasm, e = this.embedder;
    const dim = x.modelOutputInfo(e.handleForEngine, 0, 3);
    const out = this.b('embedding').get(dim * 4);
    e.runResident(crop, EMBED_SIZE, EMBED_SIZE);
    check('embedding', x.modelDequantizeOutput(e.handleForEngine, 0, this.arena.ptr, this.arena.bytes, out));
    if (this.opts.flip) {
      const flipped = this.b('flipped').get(EMBED_SIZE * EMBED_SIZE * 3), mirrored = this.b('embeddingFlip').get(dim * 4);
      check('flip', x.flipHorizontal(crop, EMBED_SIZE, EMBED_SIZE, 3, flipped));
      e.runResident(flipped, EMBED_SIZE, EMBED_SIZE);
      check('embedding', x.modelDequantizeOutput(e.handleForEngine, 0, this.arena.ptr, this.arena.bytes, mirrored));
      check('fusion', x.vecAdd(out, mirrored, dim, out));
    }
    const norm = x.l2Normalize(out, dim);
    if (norm < 0) throw new KernelError('embedding normalisation', norm);
    return out;
  }

  private livenessOf(rgb: number, w: number, h: number, face: DetectedFace): Liveness | null {
    if (!this.antispoof.length) return null;
    const x = this.wasm;
    const rect = this.b('rect').get(16), probs = this.b('probs').get(64), sum = new Float64Array(3);
    const contexts: number[] = [];
    this.antispoof.forEach((m, i) => {
      const { width: pw, height: ph } = m.inputSize;
      check('anti-spoof patch', x.patchRect(w, h, face.box.x, face.box.y, face.box.width, face.box.height, this.antispoofScales[i], rect));
      const [x0, y0, x1, y1] = new Int32Array(x.memory.buffer, rect, 4);
      // the share of the requested context the image could provide (upstream caps the scale at the border)
      contexts.push(Math.min(1, Math.min((x1 - x0 + 1) / face.box.width, (y1 - y0 + 1) / face.box.height) / this.antispoofScales[i]));
      const sb = x.cropPatchScratchBytes(x1 - x0 + 1, y1 - y0 + 1, pw, ph);
      const patch = this.b('patch').get(pw * ph * 3);
      check('anti-spoof crop', x.cropPatch(rgb, w, h, x0, y0, x1, y1, patch, pw, ph, this.b('frameScratch').get(sb), sb));
      m.runResident(patch, pw, ph);
      check('anti-spoof output', x.modelDequantizeOutput(m.handleForEngine, 0, this.arena.ptr, this.arena.bytes, probs));
      check('softmax', x.softmax(probs, 3));
      new Float32Array(x.memory.buffer, probs, 3).forEach((p, k) => { sum[k] += p; });
    });
    // upstream fusion: sum of the softmax vectors; class 1 is "real"; score = sum[1] / models
    const score = Math.fround(sum[1] / this.antispoof.length);
    const reliable = Math.min(...contexts) >= MIN_LIVENESS_CONTEXT;
    return {
      score, live: reliable && score >= this.opts.livenessThreshold, threshold: this.opts.livenessThreshold, reliable, context: contexts,
      ...(reliable ? {} : { reason: 'the face is too close to the image border to judge liveness from one image (needs an active check): show the whole head with space around it, or use a session with liveness: \'active\'' }),
    };
  }

  // ---- public API ----

  /** Faces in the image, best score first. */
  detect(image: ImageInput): DetectedFace[] {
    this.live();
    const { rgb, w, h, scale } = this.toRgb(image);
    return this.findFaces(rgb, w, h).map((f) => toImage(f, scale));
  }

  /** Embedding of the largest face. Throws NoFaceError when there is none. */
  embed(image: ImageInput): EmbedResult {
    this.live();
    const { embedding, face, faces, quality } = this.embedLargest(image);
    return { embedding, face, faces, quality };
  }

  /** The largest face of an image, aligned and embedded (NoFaceError without one); the frame stays for liveness. */
  private embedLargest(image: ImageInput) {
    const { rgb, w, h, scale } = this.toRgb(image);
    const found = this.findFaces(rgb, w, h, true);
    if (!found.length) throw new NoFaceError();
    const detected = FaceEngine.pick(found);
    const crop = this.align(rgb, w, h, detected);
    const quality = this.qualityOf(detected, w, h, scale, crop);
    const e = this.embedCrop(crop);
    const embedding = new Float32Array(this.wasm.memory.buffer, e, this.embeddingDim).slice();
    return { embedding, face: toImage(detected, scale), faces: found.length, quality, rgb, w, h, detected };
  }

  /**
   * One frame through the pipeline for live capture: faces, quality of the largest, and (when asked
   * and the face was found) its embedding and liveness. Used by FaceSession; never throws NoFaceError.
   */
  analyze(image: ImageInput, want: { embed?: boolean; liveness?: boolean } = {}): FrameAnalysis {
    this.live();
    const { rgb, w, h, scale } = this.toRgb(image);
    const faces = this.findFaces(rgb, w, h, true);
    if (!faces.length) return { faces: 0, face: null, quality: FaceEngine.noFaceQuality(), embedding: null, liveness: null };
    const face = FaceEngine.pick(faces);
    const crop = this.align(rgb, w, h, face);
    const quality = this.qualityOf(face, w, h, scale, crop);
    let embedding: Float32Array | null = null;
    if (want.embed) {
      const e = this.embedCrop(crop);
      embedding = new Float32Array(this.wasm.memory.buffer, e, this.wasm.modelOutputInfo(this.embedder.handleForEngine, 0, 3)).slice();
    }
    const liveness = want.liveness ? this.livenessOf(rgb, w, h, face) : null;
    return { faces: faces.length, face: toImage(face, scale), quality, embedding, liveness };
  }

  private static noFaceQuality(): FaceQuality {
    return { faceSize: 0, faceShare: 0, inside: 0, offset: [0, 0], yaw: 0, pitch: 0, roll: 0, sharpness: 0, brightness: 0, clipped: 0, score: 0, guidance: ['no-face'], ok: false };
  }

  /** Capture quality of the largest face, with guidance; `guidance: ['no-face']` when there is none. */
  quality(image: ImageInput): FaceQuality {
    return this.analyze(image).quality;
  }

  /** Anti-spoofing score of the largest face (null without anti-spoofing models). */
  liveness(image: ImageInput): Liveness | null {
    this.live();
    const { rgb, w, h } = this.toRgb(image);
    const faces = this.findFaces(rgb, w, h, true);
    if (!faces.length) throw new NoFaceError();
    return this.livenessOf(rgb, w, h, FaceEngine.pick(faces));
  }

  /** Template from one or more images of the same person (embeddings averaged, then normalised). */
  enroll(images: ImageInput | ImageInput[]): Template {
    this.live();
    const list = Array.isArray(images) ? images : [images];
    if (!list.length) throw new NoFaceError('enroll needs at least one image');
    let sum: Float64Array | null = null;
    for (const [i, img] of list.entries()) {
      let e: Float32Array;
      try { e = this.embed(img).embedding; } catch (err) {
        if (err instanceof NoFaceError) throw new NoFaceError(`no face found in enrolment image ${i}`);
        throw err;
      }
      sum ??= new Float64Array(e.length);
      e.forEach((v, k) => { sum![k] += v; });
    }
    const x = this.wasm, dim = sum!.length;
    const p = this.b('enroll').get(dim * 4);
    new Float32Array(x.memory.buffer, p, dim).set(sum!);
    const norm = x.l2Normalize(p, dim);
    if (norm < 0) throw new KernelError('enrolment normalisation', norm);
    return new Template(this.embedder.id, new Float32Array(x.memory.buffer, p, dim).slice(), Math.min(list.length, 65535));
  }

  /** Threshold of a named operating point. */
  threshold(operatingPoint = 'far1e-3'): number {
    const t = lookup(this.operatingPoints, operatingPoint);
    if (t === undefined) throw new WasmfaceError('E_OPERATING_POINT', `operatingPoint '${String(operatingPoint)}' is not an operating point for model '${this.embedder.id}' (have: ${Object.keys(this.operatingPoints).join(', ') || 'none'})`);
    return t;
  }

  /** Is the largest face in the image the enrolled person (and live)? */
  verify(image: ImageInput, template: Template | Uint8Array, options: VerifyOptions = {}): VerifyResult {
    this.live();
    const t0 = now();
    const o = optionsObject<VerifyOptions>(options, 'verify options', OPTION_KEYS.verify);
    const tplEmbedding = this.templateEmbedding(template);
    const { operatingPoint, threshold } = this.decisionThreshold(o);
    const useLiveness = optBoolean(o.liveness, 'liveness') ?? true;
    const { rgb, w, h, scale } = this.toRgb(image);
    const t1 = now();
    const faces = this.findFaces(rgb, w, h, true);
    const t2 = now();
    if (!faces.length) throw new NoFaceError();
    const face = FaceEngine.pick(faces);
    const crop = this.align(rgb, w, h, face);
    const quality = this.qualityOf(face, w, h, scale, crop);
    const t3 = now();
    const e = this.embedCrop(crop);
    const t4 = now();
    const liveness = useLiveness ? this.livenessOf(rgb, w, h, face) : null;
    const t5 = now();
    const score = this.score(e, tplEmbedding);
    const t6 = now();
    return {
      match: score >= threshold && (liveness?.live ?? true), score, threshold, operatingPoint, liveness, faces: faces.length, face: toImage(face, scale), quality,
      timingsMs: { convert: t1 - t0, detect: t2 - t1, align: t3 - t2, embed: t4 - t3, liveness: t5 - t4, match: t6 - t5, total: t6 - t0 },
    };
  }

  /** The checked embedding of a template for this engine: its model, its length, unit norm. */
  private templateEmbedding(template: Template | Uint8Array): Float32Array {
    if (!(template instanceof Template) && !isUint8Array(template)) throw new TemplateError('E_TEMPLATE', `expected a Template or its bytes, got ${describeValue(template)}`);
    const tpl = template instanceof Template ? template : Template.fromBytes(template, this.embedder.id);
    if (tpl.modelId !== this.embedder.id) throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${tpl.modelId}', this engine uses '${this.embedder.id}': re-enrol the person`);
    return checkUnitEmbedding(tpl.embedding, 'template embedding', this.embeddingDim);
  }

  /** Threshold of a decision call: explicit, or a named operating point (default far1e-3). */
  private decisionThreshold(o: { operatingPoint?: string; threshold?: number }): { operatingPoint: string | null; threshold: number } {
    if (o.threshold !== undefined) return { operatingPoint: null, threshold: optNumber(o.threshold, 'threshold', -1, 1)! };
    const operatingPoint = optString(o.operatingPoint, 'operatingPoint') ?? 'far1e-3';
    return { operatingPoint, threshold: this.threshold(operatingPoint) };
  }

  /** Cosine similarity (in wasm) of the embedding at ptr with a checked unit embedding, within [-1, 1]. */
  private score(ptr: number, emb: Float32Array): number {
    const x = this.wasm, dim = emb.length;
    const g = this.b('one').get(dim * 4), s = this.b('oneScore').get(4);
    new Float32Array(x.memory.buffer, g, dim).set(emb);
    check('match', x.matchScores(ptr, g, 1, dim, s));
    return Math.max(-1, Math.min(1, new Float32Array(x.memory.buffer, s, 1)[0]));
  }

  /** Cosine similarity of two unit embeddings of this engine's model (refused unless both are). */
  compareEmbeddings(a: Float32Array, b: Float32Array): number {
    this.live();
    const ea = checkUnitEmbedding(a, 'first embedding', this.embeddingDim), eb = checkUnitEmbedding(b, 'second embedding', this.embeddingDim);
    const p = this.b('cmp').get(ea.length * 4);
    new Float32Array(this.wasm.memory.buffer, p, ea.length).set(ea);
    return this.score(p, eb);
  }

  /** Live-score threshold in use (liveness operating point or explicit). */
  get livenessThreshold(): number { return this.opts.livenessThreshold; }

  /** A live-capture session: push camera frames, get guidance and a fused decision (see js/session.ts). */
  createSession(options: SessionOptions): FaceSession {
    this.live();
    return new FaceSession(this, options);
  }

  /** A gallery of templates held in wasm memory for 1:N identification (unusable once the engine is disposed). */
  createGallery(): Gallery {
    this.live();
    return new Gallery(this, this.wasm, this.embedder.id, this.embeddingDim, () => this.live());
  }

  /**
   * The largest face ranked against a gallery, with the liveness policy of verify: anti-spoofing
   * runs by default, and a face it does not judge live gets no candidates and no match.
   */
  identify(image: ImageInput, gallery: Gallery, options: IdentifyOptions = {}): IdentifyResult {
    this.live();
    const o = optionsObject<IdentifyOptions>(options, 'identify options', OPTION_KEYS.identify);
    if (!(gallery instanceof Gallery) || gallery.owner !== this) throw new OptionError('identify needs a gallery made by this engine\'s createGallery() (its templates live in this engine\'s memory)');
    if (gallery.modelId !== this.embedder.id) throw new TemplateError('E_TEMPLATE_MODEL', `the gallery holds templates of model '${gallery.modelId}', this engine uses '${this.embedder.id}': re-enrol`);
    const topK = optNumber(o.topK, 'topK', 1, 10_000_000, true) ?? 5;
    const { operatingPoint, threshold } = this.decisionThreshold(o);
    const useLiveness = optBoolean(o.liveness, 'liveness') ?? true;
    const { embedding, face, faces, quality, rgb, w, h, detected } = this.embedLargest(image);
    const liveness = useLiveness ? this.livenessOf(rgb, w, h, detected) : null;
    const matches = liveness && !liveness.live ? [] : gallery.search(embedding, topK);
    const match = matches.length && matches[0].score >= threshold ? matches[0] : null;
    return { match, matches, threshold, operatingPoint, liveness, faces, face, quality };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of [this.detector, this.embedder, ...this.antispoof]) m.dispose();
    for (const b of Object.values(this.buf)) b.dispose();
    this.arena.dispose();
  }
}

// `using engine = await FaceEngine.create(...)` where the engine has explicit resource management.
const disposeSymbol = (Symbol as { dispose?: symbol }).dispose;
if (disposeSymbol) Object.defineProperty(FaceEngine.prototype, disposeSymbol, { value(this: FaceEngine) { this.dispose(); } });

/** SHA-256 of a whole file, computed in wasm (no WebCrypto needed). */
export function sha256Hex(x: WasmExports, bytes: Uint8Array): string {
  const p = x.alloc(Math.max(1, bytes.length)), out = x.alloc(32);
  try {
    if (!p || !out) throw new OutOfMemoryError(bytes.length);
    new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
    check('sha256', x.sha256Digest(p, bytes.length, out));
    return [...new Uint8Array(x.memory.buffer, out, 32)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } finally {
    if (p) x.free(p);
    if (out) x.free(out);
  }
}
