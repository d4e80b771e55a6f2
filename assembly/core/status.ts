// Status codes returned by every exported entry point. Negative = error.
// The JS side maps them to typed errors (js/errors.ts keeps the messages, so the wasm stays small).
export const OK: i32 = 0;
/** A buffer lies (partly) outside the memory this module hands out. */
export const E_BOUNDS: i32 = -1;
/** A dimension is zero, negative, too large, or inconsistent with another. */
export const E_SHAPE: i32 = -2;
/** A scalar parameter is out of its documented range (stride, zero point, shift, clamp...). */
export const E_PARAM: i32 = -3;
/** The scratch buffer given is smaller than the kernel's *_scratch_size() asks for. */
export const E_SCRATCH: i32 = -4;
/** The allocator could not satisfy a request within the configured memory limit. */
export const E_NOMEM: i32 = -5;
/** Input data violates a declared range (a 7-bit input holding a value above 127). */
export const E_RANGE: i32 = -6;
/** A model or template file is malformed (see the graph reader's detail code). */
export const E_FORMAT: i32 = -7;
/** A float input is NaN or infinite. */
export const E_NAN: i32 = -8;
