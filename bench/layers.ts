// Layer shapes of the three shipped models, for kernel benchmarks (the heaviest or most typical
// layers of each; MACs computed from the shape).
export type LayerKind = 'conv' | 'dw' | 'fc';

export interface Layer {
  model: string; name: string; kind: LayerKind;
  h: number; w: number; c: number; oc: number; kh: number; kw: number; stride: number; pad: number;
}

export const LAYERS: Layer[] = [
  // face-api.js recognition net (ResNet, 150x150 input)
  { model: 'embedder', name: 'stem 7x7/2 3->32', kind: 'conv', h: 150, w: 150, c: 3, oc: 32, kh: 7, kw: 7, stride: 2, pad: 0 },
  { model: 'embedder', name: 'res 3x3 32', kind: 'conv', h: 36, w: 36, c: 32, oc: 32, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'embedder', name: 'res 3x3 64', kind: 'conv', h: 18, w: 18, c: 64, oc: 64, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'embedder', name: 'res 3x3 128', kind: 'conv', h: 9, w: 9, c: 128, oc: 128, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'embedder', name: 'res 3x3 256', kind: 'conv', h: 5, w: 5, c: 256, oc: 256, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'embedder', name: 'down 3x3/2 64->128', kind: 'conv', h: 18, w: 18, c: 64, oc: 128, kh: 3, kw: 3, stride: 2, pad: 0 },
  { model: 'embedder', name: 'fc 256->128', kind: 'fc', h: 1, w: 1, c: 256, oc: 128, kh: 1, kw: 1, stride: 1, pad: 0 },
  // YuNet at 640x640
  { model: 'detector', name: 'stem 3x3/2 3->16', kind: 'conv', h: 640, w: 640, c: 3, oc: 16, kh: 3, kw: 3, stride: 2, pad: 1 },
  { model: 'detector', name: '1x1 16->16 @320', kind: 'conv', h: 320, w: 320, c: 16, oc: 16, kh: 1, kw: 1, stride: 1, pad: 0 },
  { model: 'detector', name: 'dw 3x3 16 @320', kind: 'dw', h: 320, w: 320, c: 16, oc: 16, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'detector', name: '1x1 64->64 @40', kind: 'conv', h: 40, w: 40, c: 64, oc: 64, kh: 1, kw: 1, stride: 1, pad: 0 },
  { model: 'detector', name: 'dw 3x3 64 @40', kind: 'dw', h: 40, w: 40, c: 64, oc: 64, kh: 3, kw: 3, stride: 1, pad: 1 },
  // MiniFASNet (80x80 patch)
  { model: 'antispoof', name: 'stem 3x3/2 3->32', kind: 'conv', h: 80, w: 80, c: 3, oc: 32, kh: 3, kw: 3, stride: 2, pad: 1 },
  { model: 'antispoof', name: 'dw 3x3 32 @40', kind: 'dw', h: 40, w: 40, c: 32, oc: 32, kh: 3, kw: 3, stride: 1, pad: 1 },
  { model: 'antispoof', name: 'dw 3x3/2 103 @20', kind: 'dw', h: 20, w: 20, c: 103, oc: 103, kh: 3, kw: 3, stride: 2, pad: 1 },
  { model: 'antispoof', name: '1x1 103->64 @10', kind: 'conv', h: 10, w: 10, c: 103, oc: 64, kh: 1, kw: 1, stride: 1, pad: 0 },
  { model: 'antispoof', name: 'dw 5x5 512 global', kind: 'dw', h: 5, w: 5, c: 512, oc: 512, kh: 5, kw: 5, stride: 1, pad: 0 },
  { model: 'antispoof', name: 'fc 512->128', kind: 'fc', h: 1, w: 1, c: 512, oc: 128, kh: 1, kw: 1, stride: 1, pad: 0 },
];

export const outDim = (l: Layer, size: number) => Math.floor((size + 2 * l.pad - l.kh) / l.stride) + 1;

export function macs(l: Layer): number {
  const oh = outDim(l, l.h), ow = outDim(l, l.w);
  if (l.kind === 'dw') return oh * ow * l.c * l.kh * l.kw;
  return oh * ow * l.oc * l.kh * l.kw * l.c;
}
