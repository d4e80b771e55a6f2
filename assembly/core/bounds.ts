// Shape helpers used by the exported entry points' validation.

/** Largest accepted tensor dimension: keeps every size product well inside u64 and plans honest. */
export const MAX_DIM: i32 = 16384;

/** True when d is in [1, MAX_DIM]. */
@inline export function dimOk(d: i32): bool {
  return d >= 1 && d <= MAX_DIM;
}

@inline export function roundUp(x: i32, m: i32): i32 {
  return (x + m - 1) / m * m;
}

/** True when x is a valid int8 value (zero points, clamp bounds). */
@inline export function isInt8(x: i32): bool {
  return x >= -128 && x <= 127;
}
