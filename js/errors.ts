// Typed errors. Every failure a caller can act on has its own class and a message that says
// what was wrong and what to do; `code` is stable for programs.

export class WasmfaceError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** No wasm build could be instantiated, or the chosen one failed its self-test. */
export class BackendError extends WasmfaceError {
  constructor(message: string, readonly reasons: Record<string, string> = {}) {
    super('E_BACKEND', message);
  }
}

/** A kernel entry point rejected its arguments (status code from the wasm). */
export class KernelError extends WasmfaceError {
  constructor(readonly kernel: string, readonly status: number) {
    super(statusName(status), `${kernel}: ${statusMessage(status)}`);
  }
}

/** A model file is truncated, corrupted, tampered with, from another format version, or hostile. */
export class ModelFormatError extends WasmfaceError {
  constructor(message: string, readonly detail: { code: string; index?: number } = { code: 'E_MODEL_FORMAT' }) {
    super('E_MODEL_FORMAT', message);
  }
}

/** The wasm ran out of memory within the configured limit. */
export class OutOfMemoryError extends WasmfaceError {
  constructor(readonly bytes: number) {
    super('E_NOMEM', `could not allocate ${bytes} bytes of wasm memory (raise memoryLimitMB or free models/galleries)`);
  }
}

/** Status codes shared with assembly/core/status.ts. */
export const Status = {
  OK: 0,
  E_BOUNDS: -1,
  E_SHAPE: -2,
  E_PARAM: -3,
  E_SCRATCH: -4,
  E_NOMEM: -5,
  E_RANGE: -6,
  E_FORMAT: -7,
  E_NAN: -8,
} as const;

const messages: Record<number, [string, string]> = {
  [-1]: ['E_BOUNDS', 'a buffer lies outside the memory allocated for it (pass buffers from alloc() with the sizes the kernel needs)'],
  [-2]: ['E_SHAPE', 'a dimension is zero, negative, too large or inconsistent with another'],
  [-3]: ['E_PARAM', 'a parameter is out of range (stride, padding, zero point, shift or clamp bounds)'],
  [-4]: ['E_SCRATCH', 'the scratch buffer is smaller than the kernel needs (use the *ScratchBytes() size)'],
  [-5]: ['E_NOMEM', 'out of wasm memory'],
  [-6]: ['E_RANGE', 'an input declared 7-bit holds a value outside [0, 127]'],
  [-7]: ['E_FORMAT', 'malformed data'],
  [-8]: ['E_NAN', 'a float input is NaN or infinite'],
};

export function statusName(status: number): string {
  return messages[status]?.[0] ?? `E_STATUS_${status}`;
}

export function statusMessage(status: number): string {
  return messages[status]?.[1] ?? `unknown status ${status}`;
}

/** Throws KernelError unless status is OK. */
export function check(kernel: string, status: number): void {
  if (status !== 0) throw new KernelError(kernel, status);
}

/** A method was called after dispose() (of the engine, or of the gallery). */
export class DisposedError extends WasmfaceError {
  constructor(what = 'this FaceEngine') { super('E_DISPOSED', `${what} was disposed; create a new one`); }
}

/** An option or argument is of the wrong type or out of its documented range. */
export class OptionError extends WasmfaceError {
  constructor(message: string) { super('E_OPTION', message); }
}
