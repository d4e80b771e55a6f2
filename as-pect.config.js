// as-pect runs the AssemblyScript specs in tests/assembly against the kernels compiled with SIMD.
// The relaxed build's specs need relaxed SIMD in node: `asp` re-spawns node without flags, so
// scripts/test.mjs runs it as `node --experimental-wasm-relaxed-simd node_modules/.bin/asp`.
export default {
  entries: ['tests/assembly/**/*.spec.ts'],
  include: ['tests/assembly/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
