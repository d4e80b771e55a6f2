// Placeholder: the inlined bundle (dist/wasmface.inline.*) replaces this module with the three wasm
// builds as base64 strings (rollup.config.js). Empty here, so the source tree type-checks.
export const scalar = '';
export const simd = '';
export const relaxed = '';
