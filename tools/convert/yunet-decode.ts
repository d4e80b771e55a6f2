// YuNet output decoding per ../shared/models/yunet/README.md (upstream demo.py / FaceDetectorYN):
// score = sqrt(clip(cls) * clip(obj)); centre (c + bbox0, r + bbox1) * s, size exp(bbox2..3) * s;
// landmarks ((kps[2n] + c) * s, (kps[2n+1] + r) * s); NMS at IoU 0.3, best first.

export interface Detection {
  x: number; y: number; w: number; h: number;
  score: number;
  /** right eye, left eye, nose tip, right mouth corner, left mouth corner (image left to right). */
  landmarks: [number, number][];
  /** Stride and anchor index that produced it (to compare the same anchor across runs). */
  stride: number; anchor: number;
}

export const YUNET_STRIDES = [8, 16, 32];

/** All anchors with score >= threshold, before NMS. */
export function yunetCandidates(out: Record<string, ArrayLike<number>>, height: number, width: number, threshold: number): Detection[] {
  const faces: Detection[] = [];
  const clip = (v: number) => Math.min(Math.max(v, 0), 1);
  for (const s of YUNET_STRIDES) {
    const cols = width / s, rows = height / s;
    const cls = out[`cls_${s}`], obj = out[`obj_${s}`], bbox = out[`bbox_${s}`], kps = out[`kps_${s}`];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const score = Math.sqrt(clip(cls[i]) * clip(obj[i]));
      if (score < threshold) continue;
      const cx = (c + bbox[i * 4]) * s, cy = (r + bbox[i * 4 + 1]) * s;
      const w = Math.exp(bbox[i * 4 + 2]) * s, h = Math.exp(bbox[i * 4 + 3]) * s;
      const landmarks: [number, number][] = [];
      for (let k = 0; k < 5; k++) landmarks.push([(kps[i * 10 + 2 * k] + c) * s, (kps[i * 10 + 2 * k + 1] + r) * s]);
      faces.push({ x: cx - w / 2, y: cy - h / 2, w, h, score, landmarks, stride: s, anchor: i });
    }
  }
  return faces;
}

export function iou(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter > 0 ? inter / (a.w * a.h + b.w * b.h - inter) : 0;
}

/**
 * Decoded faces after NMS (IoU 0.3), best first. With `fuse`, each kept face's box and landmarks are
 * the score-weighted mean of it and the candidates it suppressed, as the engine's decoder does
 * (assembly/pipeline/detect.ts, weighted box fusion).
 */
export function decodeYunet(out: Record<string, ArrayLike<number>>, height: number, width: number, threshold = 0.9, nmsIou = 0.3, fuse = false): Detection[] {
  const cands = yunetCandidates(out, height, width, threshold).sort((a, b) => b.score - a.score || a.stride - b.stride || a.anchor - b.anchor);
  const alive = cands.map(() => true);
  const kept: Detection[] = [];
  cands.forEach((f, i) => {
    if (!alive[i]) return;
    const group = cands.filter((g, j) => alive[j] && (j === i || iou(f, g) > nmsIou));
    cands.forEach((g, j) => { if (alive[j] && (j === i || iou(f, g) > nmsIou)) alive[j] = false; });
    if (!fuse) { kept.push(f); return; }
    const wsum = group.reduce((s, g) => s + g.score, 0);
    const avg = (get: (g: Detection) => number) => group.reduce((s, g) => s + g.score * get(g), 0) / wsum;
    kept.push({ ...f, x: avg((g) => g.x), y: avg((g) => g.y), w: avg((g) => g.w), h: avg((g) => g.h),
      landmarks: f.landmarks.map((_, k) => [avg((g) => g.landmarks[k][0]), avg((g) => g.landmarks[k][1])] as [number, number]) });
  });
  return kept;
}
