import type { WasmExports } from './wasm-abi.js';
import { OutOfMemoryError } from './errors.js';

/** A wasm buffer that grows to the largest size asked of it (reused across frames: no per-call allocation). */
export class WasmBuffer {
  ptr = 0;
  bytes = 0;
  constructor(private readonly wasm: WasmExports) {}
  get(bytes: number): number {
    if (bytes > this.bytes) {
      if (this.ptr) this.wasm.free(this.ptr);
      this.ptr = this.wasm.alloc(bytes);
      this.bytes = this.ptr ? bytes : 0;
      if (!this.ptr) throw new OutOfMemoryError(bytes);
    }
    return this.ptr;
  }
  dispose(): void { if (this.ptr) this.wasm.free(this.ptr); this.ptr = this.bytes = 0; }
}
