// YuNet output decoding and non-maximum suppression, in wasm so that boxes and landmarks (and hence
// the aligned crop and the embedding) are bit-identical on every engine: Math.exp and Math.sqrt here
// are AssemblyScript's own, not the host's.
//
// Decoding follows the upstream demo (opencv_zoo yunet.py / OpenCV FaceDetectorYN, summarised in
// shared/models/yunet/README.md): for strides 8, 16, 32 and anchors idx = r*cols + c,
// score = sqrt(clip(cls,0,1) * clip(obj,0,1)); cx = (c + bbox0)*s; cy = (r + bbox1)*s;
// w = exp(bbox2)*s; h = exp(bbox3)*s; landmark n = ((kps[2n] + c)*s, (kps[2n+1] + r)*s), in the order
// right eye, left eye, nose tip, right mouth corner, left mouth corner (subject's right = image left).

/** Face record: x, y, w, h, score, then 5 landmarks (x, y): 15 f32. */
export const FACE_FLOATS: i32 = 15;

/**
 * Decodes the 12 YuNet outputs (pointers to f32 arrays in the order cls8, cls16, cls32, obj8, obj16,
 * obj32, bbox8, bbox16, bbox32, kps8, kps16, kps32, given as 12 u32 at `outs`) for an input of inW x inH,
 * keeps scores >= threshold, maps coordinates by (v * scale + offset) into the caller's frame, and
 * writes at most `maxOut` faces after NMS (IoU > nmsIou suppressed), best first. `work` needs
 * 16 * (anchors kept, at most maxCandidates) * 4 bytes... see decodeWorkBytes. Returns the count.
 */
export function yunetDecode(outs: usize, inW: i32, inH: i32, threshold: f32, nmsIou: f32,
                            scale: f32, offX: f32, offY: f32, work: usize, maxCandidates: i32, dst: usize, maxOut: i32, fuse: bool): i32 {
  let n = 0;
  for (let level = 0; level < 3; level++) {
    const stride = 8 << level;
    const cols = inW / stride, rows = inH / stride;
    const cls = load<usize>(outs + (<usize>level << 2)), obj = load<usize>(outs + (<usize>(3 + level) << 2));
    const bbox = load<usize>(outs + (<usize>(6 + level) << 2)), kps = load<usize>(outs + (<usize>(9 + level) << 2));
    const s = <f32>stride;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const idx = <usize>(r * cols + c);
        let pc = load<f32>(cls + (idx << 2)), po = load<f32>(obj + (idx << 2));
        pc = pc < 0 ? 0 : pc > 1 ? 1 : pc;
        po = po < 0 ? 0 : po > 1 ? 1 : po;
        const score = Mathf.sqrt(pc * po);
        if (!(score >= threshold) || n >= maxCandidates) continue;
        const b = bbox + idx * 16, k = kps + idx * 40;
        const cx = (<f32>c + load<f32>(b)) * s, cy = (<f32>r + load<f32>(b, 4)) * s;
        const w = Mathf.exp(load<f32>(b, 8)) * s, h = Mathf.exp(load<f32>(b, 12)) * s;
        const f = work + <usize>n * FACE_FLOATS * 4;
        store<f32>(f, (cx - w * 0.5) * scale + offX);
        store<f32>(f, (cy - h * 0.5) * scale + offY, 4);
        store<f32>(f, w * scale, 8);
        store<f32>(f, h * scale, 12);
        store<f32>(f, score, 16);
        for (let i = 0; i < 5; i++) {
          store<f32>(f + 20 + (<usize>i << 3), ((load<f32>(k + (<usize>i << 3)) + <f32>c) * s) * scale + offX);
          store<f32>(f + 24 + (<usize>i << 3), ((load<f32>(k + (<usize>i << 3), 4) + <f32>r) * s) * scale + offY);
        }
        n++;
      }
    }
  }
  return nms(work, n, nmsIou, dst, maxOut, fuse);
}

@inline function iou(a: usize, b: usize): f32 {
  const ax1 = load<f32>(a) + load<f32>(a, 8), ay1 = load<f32>(a, 4) + load<f32>(a, 12);
  const bx1 = load<f32>(b) + load<f32>(b, 8), by1 = load<f32>(b, 4) + load<f32>(b, 12);
  const iw = min(ax1, bx1) - max(load<f32>(a), load<f32>(b));
  const ih = min(ay1, by1) - max(load<f32>(a, 4), load<f32>(b, 4));
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (load<f32>(a, 8) * load<f32>(a, 12) + load<f32>(b, 8) * load<f32>(b, 12) - inter);
}

/**
 * Greedy NMS: repeatedly takes the best remaining candidate (ties: earlier index) and drops the
 * candidates overlapping it by more than nmsIou. With `fuse`, the kept face's box and landmarks are
 * the score-weighted mean of it and the candidates it suppressed (weighted box fusion): neighbouring
 * anchors predict the same face, and averaging them steadies the landmarks the alignment uses, instead
 * of letting a near-tie between two anchors decide. The score stays the best one.
 */
function nms(cand: usize, n: i32, nmsIou: f32, dst: usize, maxOut: i32, fuse: bool): i32 {
  const bytes = <usize>FACE_FLOATS * 4;
  let out = 0;
  while (out < maxOut) {
    let best = -1;
    let bestScore: f32 = -1;
    for (let i = 0; i < n; i++) {
      const s = load<f32>(cand + <usize>i * bytes, 16);
      if (s > bestScore) { bestScore = s; best = i; }
    }
    if (best < 0) break;
    const b = cand + <usize>best * bytes;
    const o = dst + <usize>out * bytes;
    memory.copy(o, b, bytes);
    out++;
    if (fuse) for (let k = 0; k < FACE_FLOATS; k++) if (k != 4) store<f32>(o + (<usize>k << 2), 0);
    let weight: f32 = 0;
    for (let i = 0; i < n; i++) {
      const c = cand + <usize>i * bytes;
      const s = load<f32>(c, 16);
      if (s >= 0 && (i == best || iou(b, c) > nmsIou)) {
        if (fuse) {
          weight += s;
          for (let k = 0; k < FACE_FLOATS; k++) if (k != 4) store<f32>(o + (<usize>k << 2), load<f32>(o + (<usize>k << 2)) + s * load<f32>(c + (<usize>k << 2)));
        }
        store<f32>(c, -1, 16); // suppressed
      }
    }
    if (fuse) for (let k = 0; k < FACE_FLOATS; k++) if (k != 4) store<f32>(o + (<usize>k << 2), load<f32>(o + (<usize>k << 2)) / weight);
  }
  return out;
}
