// Known-answer test run on every build before it is trusted. It exercises the paths a miscompiled
// engine tier would break (V8's baseline compiler once dropped the accumulator of
// i32x4.relaxed_dot_i8x16_i7x16_add_s): a GEMM with 7-bit inputs (the relaxed dot), a row tail, a
// channel tail, a k tail, and PReLU multipliers; expected values come from a plain JS integer loop.

import type { WasmExports } from './wasm-abi.js';
import { requantRef } from './quant.js';

/** Returns null when the build computes correctly, else a description of the first mismatch. */
export function selfTest(x: WasmExports): string | null {
  const m = 3, k = 40, n = 5, kp = 48, shift = 44, zpIn = 3, zpOut = -7;
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16);
  const input = Int8Array.from({ length: m * k }, () => rand() % 128);
  const weights = Int8Array.from({ length: n * k }, () => (rand() % 255) - 127);
  const bias = Int32Array.from({ length: n }, () => (rand() % 20001) - 10000);
  const mult = Int32Array.from({ length: n }, () => (1 << 30) + rand() * 4096);
  const multNeg = Int32Array.from(mult, (v, i) => (i % 2 ? -(v >> 2) : v >> 3));

  const sizes = [m * k, n * k, n * 4, n * 4, n * 4, x.gemmPackedBytes(n, k), m * n, m * kp];
  const ptrs = sizes.map((s) => x.alloc(s));
  try {
    if (ptrs.some((p) => p === 0)) return 'alloc failed';
    const [pIn, pW, pB, pM, pMN, pPacked, pOut, pScratch] = ptrs;
    const mem = () => x.memory.buffer;
    new Int8Array(mem(), pIn, m * k).set(input);
    new Int8Array(mem(), pW, n * k).set(weights);
    new Int32Array(mem(), pB, n).set(bias);
    new Int32Array(mem(), pM, n).set(mult);
    new Int32Array(mem(), pMN, n).set(multNeg);
    let st = x.gemmPackWeights(pW, n, k, pB, pM, pMN, zpIn, pPacked);
    if (st !== 0) return `pack status ${st}`;
    st = x.fullyConnected(pIn, m, k, pPacked, n, pOut, shift, zpIn, zpOut, -128, 100, 1, pScratch, m * kp);
    if (st !== 0) return `fullyConnected status ${st}`;
    const out = new Int8Array(mem(), pOut, m * n);
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < n; j++) {
        let acc = bias[j];
        for (let i = 0; i < k; i++) acc += (input[r * k + i] - zpIn) * weights[j * k + i];
        const want = requantRef(acc, acc < 0 ? multNeg[j] : mult[j], shift, zpOut, -128, 100);
        if (out[r * n + j] !== want) return `row ${r} channel ${j}: got ${out[r * n + j]}, expected ${want}`;
      }
    }
    return null;
  } finally {
    for (const p of ptrs) if (p) x.free(p);
  }
}
