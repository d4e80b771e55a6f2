// Camera and canvas pixel formats -> packed RGB u8. Integer arithmetic only, so every engine gives
// the same bytes. YUV is full-range BT.601 (JFIF), the encoding of Android's NV21 camera frames and
// of JPEG: R = Y + 1.402 V', G = Y - 0.344136 U' - 0.714136 V', B = Y + 1.772 U' (U' = U-128, V' = V-128),
// coefficients in Q16 with rounding. Chroma planes are ceil(w/2) x ceil(h/2).

export const FMT_RGBA: i32 = 0;
export const FMT_RGB: i32 = 1;
export const FMT_BGR: i32 = 2;
export const FMT_GRAY: i32 = 3;
export const FMT_NV21: i32 = 4;   // Y plane, then interleaved V,U
export const FMT_I420: i32 = 5;   // Y plane, U plane, V plane
export const FMT_NV12: i32 = 6;   // Y plane, then interleaved U,V
export const FMT_BGRA: i32 = 7;
export const FMT_COUNT: i32 = 8;

/** Bytes a w x h image of the format occupies. */
export function imageBytes(format: i32, w: i32, h: i32): u64 {
  const px = <u64>w * <u64>h;
  const chroma = <u64>((w + 1) >> 1) * <u64>((h + 1) >> 1);
  switch (format) {
    case FMT_RGBA: case FMT_BGRA: return px * 4;
    case FMT_RGB: case FMT_BGR: return px * 3;
    case FMT_GRAY: return px;
    default: return px + 2 * chroma;
  }
}

@inline function clamp255(v: i32): u8 { return <u8>(v < 0 ? 0 : v > 255 ? 255 : v); }

@inline function storeYuv(dst: usize, y: i32, u: i32, v: i32): void {
  const up = u - 128, vp = v - 128;
  store<u8>(dst, clamp255(y + ((91881 * vp + 32768) >> 16)));
  store<u8>(dst, clamp255(y - ((22554 * up + 46802 * vp - 32768) >> 16)), 1);
  store<u8>(dst, clamp255(y + ((116130 * up + 32768) >> 16)), 2);
}

export function toRgb(src: usize, format: i32, w: i32, h: i32, dst: usize): void {
  const px = <usize>w * h;
  if (format == FMT_RGBA || format == FMT_BGRA) {
    const swap = format == FMT_BGRA;
    for (let i: usize = 0; i < px; i++) {
      const r = load<u8>(src + i * 4), g = load<u8>(src + i * 4, 1), b = load<u8>(src + i * 4, 2);
      store<u8>(dst + i * 3, swap ? b : r); store<u8>(dst + i * 3, g, 1); store<u8>(dst + i * 3, swap ? r : b, 2);
    }
  } else if (format == FMT_RGB) {
    memory.copy(dst, src, px * 3);
  } else if (format == FMT_BGR) {
    for (let i: usize = 0; i < px; i++) {
      const b = load<u8>(src + i * 3), g = load<u8>(src + i * 3, 1), r = load<u8>(src + i * 3, 2);
      store<u8>(dst + i * 3, r); store<u8>(dst + i * 3, g, 1); store<u8>(dst + i * 3, b, 2);
    }
  } else if (format == FMT_GRAY) {
    for (let i: usize = 0; i < px; i++) {
      const v = load<u8>(src + i);
      store<u8>(dst + i * 3, v); store<u8>(dst + i * 3, v, 1); store<u8>(dst + i * 3, v, 2);
    }
  } else {
    const cw = <usize>((w + 1) >> 1), ch = <usize>((h + 1) >> 1);
    const planeU = format == FMT_I420 ? src + px : 0;
    const planeV = format == FMT_I420 ? src + px + cw * ch : 0;
    const uv = src + px;
    const vFirst = format == FMT_NV21;
    for (let y = 0; y < h; y++) {
      const cy = <usize>(y >> 1);
      for (let x = 0; x < w; x++) {
        const cx = <usize>(x >> 1);
        let u: i32, v: i32;
        if (format == FMT_I420) {
          u = load<u8>(planeU + cy * cw + cx); v = load<u8>(planeV + cy * cw + cx);
        } else {
          const a = <i32>load<u8>(uv + (cy * cw + cx) * 2), b = <i32>load<u8>(uv + (cy * cw + cx) * 2, 1);
          u = vFirst ? b : a; v = vFirst ? a : b;
        }
        storeYuv(dst + (<usize>y * w + x) * 3, load<u8>(src + <usize>y * w + x), u, v);
      }
    }
  }
}

/** Mirrors a packed image left-right (c bytes per pixel). */
export function flipHorizontal(src: usize, w: i32, h: i32, c: i32, dst: usize): void {
  for (let y = 0; y < h; y++) {
    const s = src + <usize>y * w * c, d = dst + <usize>y * w * c;
    for (let x = 0; x < w; x++) memory.copy(d + <usize>(w - 1 - x) * c, s + <usize>x * c, c);
  }
}

/**
 * Fills dst (dw x dh, c bytes per pixel) with `fill` and copies src (sw x sh) with its top-left at
 * (x, y), clipped to dst. Letterboxing for the detector and padding tight crops use it.
 */
export function pasteImage(src: usize, sw: i32, sh: i32, c: i32, dst: usize, dw: i32, dh: i32, x: i32, y: i32, fill: u8): void {
  memory.fill(dst, fill, <usize>dw * dh * c);
  const x0 = max(x, 0), y0 = max(y, 0), x1 = min(x + sw, dw), y1 = min(y + sh, dh);
  if (x1 <= x0 || y1 <= y0) return;
  for (let yy = y0; yy < y1; yy++) {
    memory.copy(dst + (<usize>yy * dw + x0) * c, src + (<usize>(yy - y) * sw + (x0 - x)) * c, <usize>(x1 - x0) * c);
  }
}
