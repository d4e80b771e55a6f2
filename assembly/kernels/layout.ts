// Data movement without arithmetic: channel concatenation, zero padding (channels at the end,
// rows/columns at bottom/right, for ResNet down-sampling shortcuts), nearest-neighbour upsampling.
// Pure copies (memory.copy / memory.fill): the same code in every build.

/** Copies a [pixels][c] tensor into channels [offset, offset+c) of a [pixels][ldo] tensor. */
export function copyChannels(input: usize, pixels: i32, c: i32, out: usize, ldo: i32, offset: i32): void {
  for (let p = 0; p < pixels; p++) memory.copy(out + <usize>p * ldo + offset, input + <usize>p * c, c);
}

/** [h][w][c] -> [h+bottom][w+right][c+channels], new entries set to zp (the quantised zero). */
export function padZero(input: usize, h: i32, w: i32, c: i32, out: usize, channels: i32, bottom: i32, right: i32, zp: i32): void {
  const oc = c + channels, ow = w + right;
  memory.fill(out, <u8>zp, <usize>(h + bottom) * ow * oc);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) memory.copy(out + (<usize>y * ow + x) * oc, input + (<usize>y * w + x) * c, c);
  }
}

/** Nearest-neighbour upsampling by an integer factor (ONNX Resize nearest, asymmetric, floor). */
export function upsampleNearest(input: usize, h: i32, w: i32, c: i32, factor: i32, out: usize): void {
  const ow = w * factor;
  for (let oy = 0; oy < h * factor; oy++) {
    const src = input + <usize>(oy / factor) * w * c;
    const dst = out + <usize>oy * ow * c;
    for (let ox = 0; ox < ow; ox++) memory.copy(dst + <usize>ox * c, src + <usize>(ox / factor) * c, c);
  }
}
