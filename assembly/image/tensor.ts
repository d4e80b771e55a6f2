// Between pixels and tensors: u8 image -> int8 network input (channel permutation + per-channel
// lookup table that folds mean, scale and the input quantisation), int8 -> f32 dequantisation,
// and L2 normalisation of embeddings.

/**
 * out[p][j] = table[j*256 + src[p][perm_j]] for j < 3, where perm packs three source channel
 * indices in bytes 0..2 (RGB -> BGR is perm 2,1,0). src has 3 channels.
 */
export function quantizeImage(src: usize, pixels: i32, perm: i32, table: usize, out: usize): void {
  const s0 = <usize>(perm & 0xff), s1 = <usize>((perm >> 8) & 0xff), s2 = <usize>((perm >> 16) & 0xff);
  for (let p: usize = 0; p < <usize>pixels; p++) {
    const i = src + p * 3, o = out + p * 3;
    store<u8>(o, load<u8>(table + <usize>load<u8>(i + s0)));
    store<u8>(o, load<u8>(table + 256 + <usize>load<u8>(i + s1)), 1);
    store<u8>(o, load<u8>(table + 512 + <usize>load<u8>(i + s2)), 2);
  }
}

/** out[i] = (x[i] - zp) * scale as f32. */
export function dequantize(x: usize, n: i32, zp: i32, scale: f32, out: usize): void {
  for (let i: usize = 0; i < <usize>n; i++) store<f32>(out + (i << 2), <f32>(<i32>load<i8>(x + i) - zp) * scale);
}

/**
 * Normalises an f32 vector in place to unit L2 norm. The sum of squares is accumulated in f64 in
 * index order, so the result is the same on every engine. Returns the norm, or -1 when it is zero,
 * NaN or infinite (the vector is left unchanged).
 */
export function l2Normalize(v: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i: usize = 0; i < <usize>n; i++) { const x = <f64>load<f32>(v + (i << 2)); s += x * x; }
  const norm = Math.sqrt(s);
  if (!(norm > 0) || !isFinite(norm)) return -1;
  for (let i: usize = 0; i < <usize>n; i++) store<f32>(v + (i << 2), <f32>(<f64>load<f32>(v + (i << 2)) / norm));
  return norm;
}
