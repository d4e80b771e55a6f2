// Type tests that also hold across realms (iframes, vm contexts, worker hand-offs), where
// `x instanceof Uint8Array` is false for another realm's Uint8Array.
const tag = (x: unknown) => Object.prototype.toString.call(x);

export const isUint8Array = (x: unknown): x is Uint8Array => tag(x) === '[object Uint8Array]';
export const isByteArray = (x: unknown): x is Uint8Array | Uint8ClampedArray => isUint8Array(x) || tag(x) === '[object Uint8ClampedArray]';
export const isArrayBuffer = (x: unknown): x is ArrayBuffer => tag(x) === '[object ArrayBuffer]';
