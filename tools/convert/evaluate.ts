// Agreement of an int8 model (int8-exec) with its float original (runFloat on the prepared graph),
// per model kind, plus per-tensor SQNR to find the layers int8 hurts.
import { runFloat } from './float-exec.js';
import type { Graph } from './ir.js';
import { dequantize, runInt8 } from './int8-exec.js';
import { similarity, TEMPLATE_112, toNetworkInput, type Rgb } from './image.js';
import type { WfmModel } from './wfm.js';
import { decodeYunet, iou } from './yunet-decode.js';

export type ModelKind = 'detector' | 'antispoof' | 'embedder';

export interface FloatRef { img: Rgb; out: Record<string, Float32Array> }

/** Float outputs of the prepared graph for each image. */
export function floatRefs(graph: Graph, images: Rgb[], onEach?: () => void): FloatRef[] {
  return images.map((img) => {
    const out = runFloat(graph, toNetworkInput(img, graph.input), { h: img.height, w: img.width });
    onEach?.();
    return { img, out };
  });
}

/** Dequantised int8 outputs by output name (meta order = graph output order). */
export function int8Outputs(model: WfmModel, names: string[], img: Rgb): Record<string, Float32Array> {
  const r = runInt8(model, img.data, img.width, img.height);
  const out: Record<string, Float32Array> = {};
  names.forEach((n, i) => { out[n] = dequantize(r.outputs[i], model.tensors[model.outputs[i]]); });
  return out;
}

export function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

const mean = (a: number[]) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN);
/** Nearest-rank percentile (p in 0..100). */
export const percentile = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]; };

export interface Agreement {
  /** Lower is better; the quantity methods are ranked by. */
  loss: number;
  metrics: Record<string, number>;
}

/** Landmark error and box IoU of matched faces (greedy by float score, IoU >= 0.5), at 112 scale. */
function detectorAgreement(refs: FloatRef[], outs: Record<string, Float32Array>[]): Agreement {
  let faces = 0, missed = 0, extra = 0;
  const ious: number[] = [], lmk: number[] = [], dscore: number[] = [];
  refs.forEach((r, i) => {
    const f = decodeYunet(r.out, r.img.height, r.img.width);
    const q = decodeYunet(outs[i], r.img.height, r.img.width);
    const used = new Set<number>();
    faces += f.length;
    for (const a of f) {
      let best = -1, bestIou = 0.5;
      q.forEach((b, k) => { const v = iou(a, b); if (!used.has(k) && v >= bestIou) { bestIou = v; best = k; } });
      if (best < 0) { missed++; continue; }
      used.add(best);
      const b = q[best];
      ious.push(bestIou);
      dscore.push(Math.abs(a.score - b.score));
      // scale of the similarity that aligns the float landmarks to the 112 template
      const m = similarity(a.landmarks, TEMPLATE_112);
      const k112 = Math.hypot(m[0], m[3]);
      lmk.push(mean(a.landmarks.map(([x, y], n) => Math.hypot(x - b.landmarks[n][0], y - b.landmarks[n][1]) * k112)));
    }
    extra += q.length - used.size;
  });
  const meanLmk = lmk.length ? mean(lmk) : 0;
  const meanIou = ious.length ? mean(ious) : 1;
  return {
    // a missed or spurious face costs as much as a 10 px landmark error at 112 scale
    loss: meanLmk + (10 * (missed + extra)) / Math.max(1, faces) + 10 * (1 - meanIou),
    metrics: { faces, matched: ious.length, missed, extra, meanIou, minIou: ious.length ? Math.min(...ious) : NaN,
      meanLandmark112: meanLmk, p99Landmark112: lmk.length ? percentile(lmk, 99) : NaN, meanScoreDiff: mean(dscore) },
  };
}

function antispoofAgreement(refs: FloatRef[], outs: Record<string, Float32Array>[]): Agreement {
  const d: number[] = [];
  let agree = 0;
  refs.forEach((r, i) => {
    const pf = softmax(r.out.logits), pq = softmax(outs[i].logits);
    d.push(Math.abs(pf[1] - pq[1]));
    if (pf.indexOf(Math.max(...pf)) === pq.indexOf(Math.max(...pq))) agree++;
  });
  return { loss: mean(d), metrics: { samples: refs.length, meanLiveDiff: mean(d), p99LiveDiff: percentile(d, 99), maxLiveDiff: Math.max(...d), labelAgreement: agree / refs.length } };
}

function embedderAgreement(refs: FloatRef[], outs: Record<string, Float32Array>[]): Agreement {
  const c = refs.map((r, i) => cosine(r.out.descriptor, outs[i].descriptor));
  return { loss: 1 - mean(c), metrics: { samples: refs.length, meanCosine: mean(c), p1Cosine: percentile(c, 1), minCosine: Math.min(...c) } };
}

export function agreement(kind: ModelKind, refs: FloatRef[], outs: Record<string, Float32Array>[]): Agreement {
  return kind === 'detector' ? detectorAgreement(refs, outs) : kind === 'antispoof' ? antispoofAgreement(refs, outs) : embedderAgreement(refs, outs);
}

export interface LayerSqnr { tensor: string; sqnrDb: number }

/** Per-tensor SQNR (dB) of the dequantised int8 activations against float, pooled over `images`. */
export function layerSqnr(graph: Graph, model: WfmModel, tensorIds: Map<string, number>, images: Rgb[]): LayerSqnr[] {
  const sig = new Map<string, number>(), err = new Map<string, number>();
  for (const img of images) {
    const f = runFloat(graph, toNetworkInput(img, graph.input), { h: img.height, w: img.width }, { keepAll: true });
    const q = runInt8(model, img.data, img.width, img.height, { keepAll: true }).all!;
    for (const [name, id] of tensorIds) {
      const fv = f[name], qt = q[id];
      if (!fv || !qt) continue;
      const dq = dequantize(qt, model.tensors[id]);
      let s = 0, e = 0;
      for (let i = 0; i < fv.length; i++) { s += fv[i] * fv[i]; e += (fv[i] - dq[i]) ** 2; }
      sig.set(name, (sig.get(name) ?? 0) + s);
      err.set(name, (err.get(name) ?? 0) + e);
    }
  }
  return [...sig.keys()].map((t) => ({ tensor: t, sqnrDb: 10 * Math.log10(sig.get(t)! / Math.max(err.get(t)!, 1e-30)) }));
}
