// One model's conversion: load the float source, prepare, calibrate on dev images, quantise with
// each range method (and u7 on the best), measure each variant's agreement with float using
// int8-exec on a disjoint evaluation subset, keep the best, write the .wfm and its model card.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Progress } from '../../bench/progress.js';
import { faceSamples, spoofSamples, yunetPictures, type FaceSample } from './calibration.js';
import { agreement, floatRefs, int8Outputs, layerSqnr, softmax, type Agreement, type LayerSqnr, type ModelKind } from './evaluate.js';
import { runFloat } from './float-exec.js';
import { toNetworkInput, type Rgb } from './image.js';
import { isLinear, type Graph } from './ir.js';
import { loadFaceApiRecognition, loadMiniFasNet, loadYunet, sharedPath } from './models.js';
import { CalibrationStats, channelRanges, equalizeConsumerInputs, equalizeDepthwiseInputs, prepareGraph, quantize, type QuantizeOptions, type Quantized, type RangeMethod } from './quantize.js';
import { correctBiases, LinearMeans, type BiasCorrectionReport } from './bias-correction.js';
import { InputMoments, MIN_SAMPLES_PER_TAP } from './rounding.js';
import { FACEAPI_MANIFEST } from './faceapi-import.js';
import { OP_NAMES, type WfmModel } from './wfm.js';
import { writeWfm } from './wfm-writer.js';
import { readWfm } from './wfm-reader.js';

export const CONVERTER_VERSION = '1.0.0';

export interface ModelSpec {
  id: string;
  kind: ModelKind;
  title: string;
  load: () => Graph;
  /** Upstream version / commit, for the card. */
  version: string;
  /** Source files (relative to ../shared/models) hashed for the card. */
  files: () => string[];
  /** Outputs the upstream applies softmax to (done in JS on the dequantised logits). */
  softmax?: string[];
  /** Which face crop feeds the model (face models). */
  sample?: 'aligned' | 'aligned112' | 'patch27' | 'patch40';
  /**
   * Range-equalise depthwise inputs (quantize.ts equalizeDepthwiseInputs). Measured on the
   * evaluation subsets: YuNet min-max/MSE lost no face instead of one and kept landmarks. MiniFASNet
   * V2 alone got worse (48 faces: mean live-score difference 0.013 -> 0.017; 300 held-out dev faces
   * with equalizeConsumers 0.5 too: 0.032 -> 0.035) but better once biases are corrected (0.0223 ->
   * 0.0190 with rounding and bias correction), so it is on there; V1SE with bias correction got worse
   * (0.0170 -> 0.0204), so it is off there.
   */
  equalize?: boolean;
  /**
   * Consider 7-bit activations (default true). Off for YuNet: its 1x1 layers have 16-64 input
   * channels, where the relaxed build's 7-bit dot product gains nothing measurable
   * (bench:kernels, detector rows), while u7 dropped its worst activation SNR from 20 to 15.7 dB.
   */
  u7?: boolean;
  /**
   * Range-equalise the inputs of convs and fc layers with this exponent (quantize.ts
   * equalizeConsumerInputs; after `equalize`): the depthwise -> project pairs of MiniFASNet V2
   * (with `equalize`, rounding and bias correction: 0.0202 -> 0.0190 mean live-score difference on
   * 300 held-out dev faces). No measurable change for the face-api net.
   */
  equalizeConsumers?: number;
  /**
   * Calibration faces for this face model (default Sizes.faceCal); the evaluation faces follow them.
   * MiniFASNet: 300 (with bias correction V2 0.0282 -> 0.0238, V1SE 0.0204 -> 0.0170 on 300 held-out
   * dev faces; without it no change, the means it corrects need the larger set).
   */
  faceCal?: number;
  /**
   * Empirical bias correction (bias-correction.ts) on the calibration faces: applied to the variant
   * of the best range method (and its u7 variant), kept when it lowers the evaluation loss.
   */
  biasCorrection?: boolean;
  /**
   * Weight rounding by output error on the calibration inputs (rounding.ts), for every variant.
   * On where it measurably helps on top of bias correction: V2 (0.0213 -> 0.0190), the face-api net
   * (80 held-out faces: 1 - cosine 2.6e-4 -> 2.4e-4, better on 79 of 80). Off for V1SE (0.0170 ->
   * 0.0187 with it, within noise).
   */
  rounding?: boolean;
  /** Layers with more taps than this keep nearest rounding (their K x K moments cost too much). */
  roundingMaxTaps?: number;
  /** At most this many output positions per image and layer feed the moments (cost bound). */
  roundingPositions?: number;
}

export const MODELS: ModelSpec[] = [
  {
    id: 'yunet-2023mar', kind: 'detector', title: 'YuNet face detector (OpenCV Zoo, 2023mar)', load: loadYunet, equalize: true, u7: false,
    version: 'face_detection_yunet_2023mar.onnx, opencv/opencv_zoo models/face_detection_yunet (unchanged 7ccd1c9 .. 966be4c)',
    files: () => ['yunet/face_detection_yunet_2023mar.onnx'],
  },
  {
    id: 'minifasnet-v2-2.7', kind: 'antispoof', title: 'MiniFASNet V2 anti-spoofing, 2.7x patch (Silent-Face-Anti-Spoofing)',
    load: () => loadMiniFasNet('v2'), sample: 'patch27', softmax: ['logits'],
    faceCal: 300, equalize: true, equalizeConsumers: 0.5, rounding: true, biasCorrection: true,
    version: '2.7_80x80_MiniFASNetV2.pth at minivision-ai/Silent-Face-Anti-Spoofing b6d5f04, exported to ONNX (see ../shared/models/minifasnet/README.md)',
    files: () => ['minifasnet/2.7_80x80_MiniFASNetV2.onnx', 'minifasnet/2.7_80x80_MiniFASNetV2.pth'],
  },
  {
    id: 'minifasnet-v1se-4.0', kind: 'antispoof', title: 'MiniFASNet V1SE anti-spoofing, 4.0x patch (Silent-Face-Anti-Spoofing)',
    load: () => loadMiniFasNet('v1se'), sample: 'patch40', softmax: ['logits'],
    faceCal: 300, biasCorrection: true,
    version: '4_0_0_80x80_MiniFASNetV1SE.pth at minivision-ai/Silent-Face-Anti-Spoofing b6d5f04, exported to ONNX (see ../shared/models/minifasnet/README.md)',
    files: () => ['minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx', 'minifasnet/4_0_0_80x80_MiniFASNetV1SE.pth'],
  },
  {
    id: 'faceapi-recognition', kind: 'embedder', title: 'face-api.js face recognition net (dlib ResNet, 128-d)',
    load: () => loadFaceApiRecognition(), sample: 'aligned',
    rounding: true, roundingMaxTaps: 1200, roundingPositions: 64, biasCorrection: true,
    version: 'face-api.js a86f011d72124e5fb93e59d5c4ab98f699dd5c9c weights/ (input divided by 256 as that commit and dlib do)',
    files: () => {
      const manifest = JSON.parse(readFileSync(sharedPath(`models/faceapi-recognition/${FACEAPI_MANIFEST}`), 'utf8')) as { paths: string[] }[];
      return [`faceapi-recognition/${FACEAPI_MANIFEST}`, ...manifest.flatMap((g) => g.paths.map((p) => `faceapi-recognition/${p}`))];
    },
  },
];

export interface Sizes {
  /** Calibration / evaluation counts: YuNet pictures, face crops. */
  detectorCal: number; detectorEval: number; faceCal: number; faceEval: number;
  /** Images for the per-layer SQNR table. */
  sqnr: number;
}

export const FULL: Sizes = { detectorCal: 48, detectorEval: 24, faceCal: 96, faceEval: 48, sqnr: 4 };

export const SEED = 20240517;

export interface Variant { label: string; options: QuantizeOptions; agreement: Agreement }

export interface Converted {
  id: string;
  bytes: Uint8Array;
  card: string;
  chosen: Variant;
  variants: Variant[];
  sqnr: LayerSqnr[];
  notes: string[];
}

const METHODS: RangeMethod[] = ['minmax', 'percentile', 'mse'];

/** A new u7 variant is kept unless it loses more than this fraction of the 8-bit variant's loss. */
const U7_TOLERANCE = 0.1;

// face crops are shared by the face models converted in one process (a longer list of the same
// seeded order extends a shorter one: the first n faces are always the same)
let facesCache: { count: number; faces: Promise<FaceSample[]> } | undefined;
function faces(count: number, progress?: Progress): Promise<FaceSample[]> {
  if (!facesCache || facesCache.count < count) facesCache = { count, faces: faceSamples(count, 0, SEED, () => progress?.tick()) };
  return facesCache.faces.then((all) => all.slice(0, count));
}

/** A progress line that never redraws in place (several processes share the terminal). */
function progress(label: string, total: number): Progress {
  const stream = { isTTY: false, write: (s: string) => process.stderr.write(s) } as unknown as typeof process.stderr;
  return new Progress(label, total, stream);
}

export async function convertModel(spec: ModelSpec, sizes: Sizes = FULL): Promise<Converted> {
  const source = spec.load();
  const prepared = prepareGraph(source);
  let graph = prepared.graph;
  const notes = prepared.notes;

  // ---- inputs
  let cal: Rgb[], evalSet: Rgb[], calDescription: string;
  if (spec.kind === 'detector') {
    cal = yunetPictures(sizes.detectorCal, 0, SEED).map((p) => p.img);
    evalSet = yunetPictures(sizes.detectorEval, sizes.detectorCal, SEED).map((p) => p.img);
    calDescription = `${cal.length} dev pictures (faces, groups, no-face negatives) letterboxed to a long side of 160..640 and padded to multiples of 32`;
  } else {
    const nCal = spec.faceCal ?? sizes.faceCal;
    const all = await faces(nCal + sizes.faceEval, progress(`${spec.id} faces`, nCal + sizes.faceEval));
    const pick = (s: FaceSample) => s[spec.sample!];
    cal = all.slice(0, nCal).map(pick);
    evalSet = all.slice(nCal).map(pick);
    calDescription = spec.kind === 'embedder'
      ? `${cal.length} dev faces found by float YuNet, aligned by 5 landmarks to the ${spec.sample === 'aligned112' ? 'ArcFace 112 template (112x112)' : 'fa150 template (150x150)'}`
      : `${cal.length} dev faces found by float YuNet, ${spec.sample === 'patch27' ? '2.7' : '4.0'}x patches cut as upstream CropImage, 80x80`;
  }

  // ---- optional range equalisation (per-channel ranges from the first calibration images)
  const ranges = () => channelRanges(graph, cal.slice(0, 16).map((img) => runFloat(graph, toNetworkInput(img, graph.input), { h: img.height, w: img.width }, { keepAll: true })));
  if (spec.equalize) {
    const eq = equalizeDepthwiseInputs(graph, ranges());
    graph = eq.graph;
    notes.push(...eq.notes);
  }
  if (spec.equalizeConsumers) {
    const eq = equalizeConsumerInputs(graph, ranges(), spec.equalizeConsumers);
    graph = eq.graph;
    notes.push(...eq.notes);
  }

  // ---- calibration (activation histograms; float layer means for bias correction; input moments
  // for weight rounding) and float references
  const stats = new CalibrationStats();
  const means = spec.biasCorrection ? new LinearMeans(graph) : undefined;
  const tapsOf = (n: { op: string; weights: Float32Array; bias: Float32Array; kh?: number; kw?: number }) => (n.op === 'depthwise' ? n.kh! * n.kw! : n.weights.length / n.bias.length);
  const moments = spec.rounding ? new InputMoments(graph, (n) => tapsOf(n) <= (spec.roundingMaxTaps ?? Infinity), spec.roundingPositions) : undefined;
  const pc = progress(`${spec.id} calibrate`, cal.length);
  for (const img of cal) {
    const values = runFloat(graph, toNetworkInput(img, graph.input), { h: img.height, w: img.width }, { keepAll: true });
    stats.observe(values);
    means?.observe(values);
    moments?.observe(values);
    pc.tick();
  }
  if (moments) {
    const linear = graph.nodes.filter(isLinear);
    const rounded = linear.filter((n) => moments.usable(n.output)).length;
    notes.push(`weights of ${rounded} of ${linear.length} conv/depthwise/fc layers rounded to minimise the layer's output error on the calibration inputs ` +
      `(rounding.ts: exhaustive for 3x3 depthwise kernels, GPTQ otherwise${spec.roundingPositions ? `, at most ${spec.roundingPositions} positions per image` : ''}; ` +
      `the others${spec.roundingMaxTaps ? ` (more than ${spec.roundingMaxTaps} taps, or ` : ' ('}fewer than ${MIN_SAMPLES_PER_TAP} observations per tap) keep nearest rounding)`);
  }
  const pf = progress(`${spec.id} float refs`, evalSet.length);
  const refs = floatRefs(graph, evalSet, () => pf.tick());

  // ---- variants
  const variants: (Variant & { q: Quantized; model: WfmModel; bc?: BiasCorrectionReport })[] = [];
  const run = (options: QuantizeOptions, q = quantize(graph, stats, options), bc?: BiasCorrectionReport) => {
    const label = `${options.method}${options.u7 ? '+u7' : ''}${bc ? '+bc' : ''}`;
    const model = readWfm(writeWfm({ ...q.model, meta: { id: spec.id } }));
    const p = progress(`${spec.id} int8 ${label}`, evalSet.length);
    const outs = evalSet.map((img) => { const o = int8Outputs(model, graph.outputs, img); p.tick(); return o; });
    const v = { label, options, agreement: agreement(spec.kind, refs, outs), q, model, bc };
    variants.push(v);
    return v;
  };
  // bias correction of a variant (a new quantisation: the plain one stays as measured)
  const corrected = (options: QuantizeOptions) => {
    const q = quantize(graph, stats, options);
    const p = progress(`${spec.id} bias correction ${options.method}${options.u7 ? '+u7' : ''}`, q.weightScales.size);
    return run(options, q, correctBiases(graph, q, cal, means!, { onLayer: () => p.tick() }));
  };
  for (const method of METHODS) run({ method, rounding: moments });
  const plain8 = variants.reduce((a, b) => (b.agreement.loss < a.agreement.loss ? b : a));
  let best8 = plain8;
  if (means) {
    const v = corrected(plain8.options);
    if (v.agreement.loss < plain8.agreement.loss) best8 = v;
  }
  let chosen = best8;
  const u7Options: QuantizeOptions = { method: best8.options.method, u7: true, rounding: moments };
  const u7q = quantize(graph, stats, u7Options);
  if (spec.u7 === false) {
    notes.push('7-bit activations not considered for this model (see ModelSpec.u7)');
  } else if (u7q.model.tensors.some((t) => t.flags)) {
    const u7 = best8.bc ? corrected(u7Options) : run(u7Options, u7q);
    if (u7.agreement.loss <= best8.agreement.loss * (1 + U7_TOLERANCE)) chosen = u7;
  } else {
    notes.push('no post-ReLU tensors: the u7 option changes nothing');
  }
  if (means) {
    const r = chosen.bc;
    notes.push(r
      ? `empirical bias correction (bias-correction.ts) on the ${cal.length} calibration images, layer by layer: ${r.layers} layers' biases changed; the mean shift removed is ${fx(r.meanRelShift * 100, 1)} % of the RMS of the layer's float output mean on average (largest ${fx(r.worst.relShift * 100, 1)} %, \`${r.worst.tensor}\`)`
      : 'bias correction measured and not kept (no lower loss on the evaluation subset)');
  }
  notes.push(...chosen.q.notes);

  // ---- per-layer SQNR of the chosen variant
  const sqnr = layerSqnr(graph, chosen.model, chosen.q.tensorIds, evalSet.slice(0, sizes.sqnr));

  // ---- final file with meta
  const model: WfmModel = { ...chosen.q.model, meta: buildMeta(spec, graph, chosen, cal.length) };
  const bytes = writeWfm(model);

  // ---- anti-spoof: the three upstream samples through float and int8
  let spoof: SpoofRow[] | undefined;
  if (spec.kind === 'antispoof') {
    spoof = (await spoofSamples()).map((s) => {
      const img = s[spec.sample as 'patch27' | 'patch40'];
      const f = softmax(runFloat(graph, toNetworkInput(img, graph.input)).logits);
      const q = softmax(int8Outputs(chosen.model, graph.outputs, img).logits);
      return { file: s.file, label: s.label, floatLive: f[1], int8Live: q[1], floatClass: argmax(f), int8Class: argmax(q) };
    });
  }

  const card = modelCard(spec, source, graph, model, bytes, variants, chosen, sqnr, notes, calDescription, spoof);
  return { id: spec.id, bytes, card, chosen: strip(chosen), variants: variants.map(strip), sqnr, notes };
}

const strip = (v: Variant): Variant => ({ label: v.label, options: { method: v.options.method, ...(v.options.u7 ? { u7: true } : {}) }, agreement: v.agreement });
const argmax = (a: number[]) => a.indexOf(Math.max(...a));

interface SpoofRow { file: string; label: string; floatLive: number; int8Live: number; floatClass: number; int8Class: number }

function buildMeta(spec: ModelSpec, graph: Graph, chosen: Variant & { q: Quantized; bc?: BiasCorrectionReport }, images: number) {
  const m = chosen.q.model;
  return {
    id: spec.id,
    source: { file: graph.source.file, sha256: graph.source.sha256, licence: graph.source.licence, url: graph.source.url },
    input: { width: graph.input.shape[1], height: graph.input.shape[0], colorOrder: graph.input.colorOrder, dynamic: graph.input.dynamic?.multipleOf ?? 0 },
    outputs: graph.outputs.map((name, i) => {
      const t = m.tensors[m.outputs[i]];
      return { name, tensor: m.outputs[i], zp: t.zp, scale: t.scale, shape: [t.h, t.w, t.c], ...(spec.softmax?.includes(name) ? { softmax: true } : {}) };
    }),
    calibration: {
      method: chosen.options.method, ...(chosen.options.method === 'percentile' ? { percentile: chosen.options.percentile ?? 0.9999 } : {}), u7: !!chosen.options.u7, images,
      ...(chosen.bc ? { biasCorrection: true } : {}), ...(chosen.options.rounding ? { weightRounding: 'output-error' } : {}),
    },
    converter: { name: 'wasmface tools/convert', version: CONVERTER_VERSION },
  };
}

// ---------------------------------------------------------------------------------------------
// Model card

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const fx = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

function modelCard(spec: ModelSpec, source: Graph, graph: Graph, model: WfmModel, bytes: Uint8Array, variants: Variant[], chosen: Variant,
  sqnr: LayerSqnr[], notes: string[], calDescription: string, spoof?: SpoofRow[]): string {
  const ops = new Map<string, number>();
  for (const op of model.ops) { const n = opName(op.type); ops.set(n, (ops.get(n) ?? 0) + 1); }
  const params = model.ops.reduce((s, op) => s + (op.weights?.length ?? 0) + (op.bias?.length ?? 0), 0);
  const inT = model.tensors[model.input];
  const L: string[] = [];
  L.push(`# ${spec.id}: ${spec.title}`, '');
  L.push('Generated by `tools/convert/cli.ts` (converter ' + CONVERTER_VERSION + '); do not edit by hand.', '');
  L.push('## Source', '');
  L.push(`- Upstream: ${source.source.url}`, `- Version: ${spec.version}`, `- Licence: ${source.source.licence}`);
  L.push('- Files (in `../shared/models/`):', '');
  L.push('| file | bytes | SHA-256 |', '|---|---|---|');
  for (const f of spec.files()) {
    const b = readFileSync(sharedPath(`models/${f}`));
    L.push(`| \`${f}\` | ${b.length.toLocaleString('en-US')} | \`${sha256(b)}\` |`);
  }
  L.push('');
  L.push('## This file', '');
  L.push(`- \`models/${spec.id}.wfm\`: ${bytes.length.toLocaleString('en-US')} bytes, SHA-256 \`${sha256(bytes)}\``);
  L.push(`- ${model.ops.length} ops, ${model.tensors.length} tensors, ${params.toLocaleString('en-US')} parameters (int8 weights + int32 biases)`);
  L.push(`- Ops: ${[...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([n, c]) => `${n} ${c}`).join(', ')}`);
  L.push(`- 7-bit (U7) tensors: ${model.tensors.filter((t) => t.flags).length}`, '');
  L.push('## Input', '');
  L.push(`- ${inT.w}x${inT.h}x3${model.dynamic ? `, dynamic: H and W any multiple of ${model.dynamic} up to ${inT.w}x${inT.h}` : ' (fixed)'}`);
  L.push(`- Network colour order ${graph.input.colorOrder.toUpperCase()} (input permutation [${model.perm}] from RGB)`);
  L.push(`- Float input (upstream): (pixel - [${source.input.mean.map((m) => +m.toFixed(3))}]) * [${source.input.scale.map((s) => +s.toPrecision(6))}]`);
  L.push(`- Quantised input: scale ${inT.scale}, zero point ${inT.zp} (q = lut[channel][pixel])`, '');
  L.push('## Outputs', '');
  L.push('| name | shape (HWC, planned) | zero point | scale | note |', '|---|---|---|---|---|');
  graph.outputs.forEach((name, i) => {
    const t = model.tensors[model.outputs[i]];
    L.push(`| \`${name}\` | ${t.h}x${t.w}x${t.c} | ${t.zp} | ${t.scale} | ${spec.softmax?.includes(name) ? 'logits: apply softmax after dequantising' : ''} |`);
  });
  L.push('');
  L.push('## Quantisation', '');
  L.push(`- Weights: int8 per output channel, symmetric (max |w| / 127)${chosen.options.rounding ? ', rounded to minimise each layer\'s output error on the calibration inputs (`rounding.ts`)' : ''}; ` +
    `biases int32 at input scale x weight scale${chosen.label.endsWith('+bc') ? ', bias-corrected on the calibration images (`bias-correction.ts`)' : ''}.`);
  L.push('- Activations: int8 per tensor, asymmetric, range chosen from calibration; multipliers per `js/quant.ts`.');
  L.push(`- Calibration: ${calDescription} (seed ${SEED}, dev set only).`);
  L.push(`- Chosen: **${chosen.label}** (lowest loss on the evaluation subset; u7 kept when within ${U7_TOLERANCE * 100} % of the 8-bit loss).`, '');
  const keys = Object.keys(variants[0].agreement.metrics);
  L.push(`| variant | loss | ${keys.join(' | ')} |`, `|---|---|${keys.map(() => '---').join('|')}|`);
  for (const v of variants) L.push(`| ${v.label}${v === chosen || v.label === chosen.label ? ' (chosen)' : ''} | ${fx(v.agreement.loss, 5)} | ${keys.map((k) => fx(v.agreement.metrics[k])).join(' | ')} |`);
  L.push('');
  L.push('## Agreement with the float original (int8-exec vs float, evaluation subset disjoint from calibration)', '');
  for (const line of agreementText(spec.kind, chosen.agreement)) L.push(`- ${line}`);
  if (spoof) {
    L.push('', 'Upstream liveness samples (class 1 = live; this model alone, not the fusion):', '');
    L.push('| sample | label | float live | int8 live | float class | int8 class |', '|---|---|---|---|---|---|');
    for (const s of spoof) L.push(`| ${s.file.split('/').pop()} | ${s.label} | ${fx(s.floatLive)} | ${fx(s.int8Live)} | ${s.floatClass} | ${s.int8Class} |`);
  }
  L.push('');
  L.push('## Layers with the lowest SQNR (dequantised int8 vs float activations, cumulative)', '');
  L.push('| tensor | SQNR dB |', '|---|---|');
  for (const s of [...sqnr].sort((a, b) => a.sqnrDb - b.sqnrDb).slice(0, 6)) L.push(`| \`${s.tensor}\` | ${fx(s.sqnrDb, 1)} |`);
  L.push('');
  if (notes.length) { L.push('## Notes', ''); for (const n of notes) L.push(`- ${n}`); L.push(''); }
  return L.join('\n');
}

function agreementText(kind: ModelKind, a: Agreement): string[] {
  const m = a.metrics;
  if (kind === 'embedder') return [`${m.samples} aligned dev faces: cosine(int8, float) mean ${fx(m.meanCosine, 5)}, 1st percentile ${fx(m.p1Cosine, 5)}, min ${fx(m.minCosine, 5)}`];
  if (kind === 'antispoof') return [`${m.samples} dev face patches: |live score difference| mean ${fx(m.meanLiveDiff)}, 99th percentile ${fx(m.p99LiveDiff)}, max ${fx(m.maxLiveDiff)}; argmax label agreement ${fx(m.labelAgreement * 100, 1)} %`];
  return [
    `${m.faces} float faces (score >= 0.9, NMS 0.3): ${m.matched} matched by int8 (IoU >= 0.5), ${m.missed} missed, ${m.extra} extra`,
    `box IoU mean ${fx(m.meanIou)}, min ${fx(m.minIou)}; landmark error at 112 scale mean ${fx(m.meanLandmark112, 3)} px, 99th percentile ${fx(m.p99Landmark112, 3)} px; |score difference| mean ${fx(m.meanScoreDiff)}`,
  ];
}

const opName = (type: number) => OP_NAMES[type] ?? `op${type}`;
