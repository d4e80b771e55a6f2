// Finds every WebAssembly.Memory a runtime creates or exports (wasmface, onnxruntime-web's
// emscripten module, tfjs-backend-wasm), so that their sizes can be read after a run the same way
// for all of them. Install before the runtime is imported.
const memories = new Set<WebAssembly.Memory>();

function collect(instance: WebAssembly.Instance | undefined): void {
  if (!instance) return;
  for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.add(v);
}

export function installWasmMemoryTracker(): void {
  const W = WebAssembly as unknown as Record<string, unknown>;
  if (W.__benchTracked) return;
  W.__benchTracked = true;
  const OrigMemory = WebAssembly.Memory;
  const Memory = function (this: unknown, desc: WebAssembly.MemoryDescriptor) {
    const m = new OrigMemory(desc);
    memories.add(m);
    return m;
  } as unknown as typeof WebAssembly.Memory;
  Memory.prototype = OrigMemory.prototype;
  W.Memory = Memory;
  const OrigInstance = WebAssembly.Instance;
  const Instance = function (this: unknown, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
    const i = new OrigInstance(module, imports);
    collect(i);
    return i;
  } as unknown as typeof WebAssembly.Instance;
  Instance.prototype = OrigInstance.prototype;
  W.Instance = Instance;
  const wrap = (name: 'instantiate' | 'instantiateStreaming') => {
    const orig = WebAssembly[name] as (...a: unknown[]) => Promise<unknown>;
    if (!orig) return;
    W[name] = async (...args: unknown[]) => {
      const r = (await orig.apply(WebAssembly, args)) as WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource;
      collect(r instanceof OrigInstance ? r : (r as WebAssembly.WebAssemblyInstantiatedSource).instance);
      return r;
    };
  };
  wrap('instantiate');
  wrap('instantiateStreaming');
}

/** Total bytes of the wasm memories seen so far (the largest when several exist). */
export function wasmMemoryBytes(): { total: number; count: number; largest: number } {
  let total = 0, largest = 0;
  for (const m of memories) { const b = m.buffer.byteLength; total += b; largest = Math.max(largest, b); }
  return { total, count: memories.size, largest };
}
