// Seeded fuzzing of every exported kernel entry point. Each case builds a valid call (random shape,
// buffers allocated at exactly the sizes the shape needs, each followed by unallocated memory
// holding a canary),
// then mutates zero to three arguments to hostile or off-by-one values. Every call must return a
// status code (never trap), never write outside the buffers it was given, and leave the module
// working: a valid call afterwards still matches the reference.
// WASMFACE_FUZZ_CASES (or `npm run fuzz -- --cases N`) raises the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuilds, rng } from '../helpers/builds.js';
import type { WasmExports } from '../../js/wasm-abi.js';
import { ABI } from '../../js/wasm-abi.js';

const casesFlag = process.argv.indexOf('--cases');
const CASES = Number(casesFlag > 0 ? process.argv[casesFlag + 1] : process.env.WASMFACE_FUZZ_CASES ?? 3000);
const builds = await loadBuilds();
type R = ReturnType<typeof rng>;
/** A buffer argument of `bytes` bytes (filled with random data) or a plain number. */
type Arg = { bytes: number; fill?: 'u7' | 'mult' | 'f32' | 'similarity' } | number;

const out = (h: number, k: number, s: number, p: number) => Math.floor((h + 2 * p - k) / s) + 1;

// Valid calls, one generator per entry point (argument order as in assembly/api/*.ts).
function validCall(x: WasmExports, name: string, r: R): Arg[] | null {
  const h = r.int(1, 12), w = r.int(1, 12), c = r.pick([1, 3, 8, 16, 17, 33]), oc = r.pick([1, 4, 5, 16]);
  const k = r.pick([1, 3, 5]), s = r.pick([1, 2]), p = r.int(0, k - 1);
  const oh = out(h, k, s, p), ow = out(w, k, s, p);
  if (oh < 1 || ow < 1 || (oh - 1) * s - p > h - 1 || (ow - 1) * s - p > w - 1) return null;
  const q = [40, r.int(-5, 5), r.int(-5, 5), -128, 127];
  switch (name) {
    case 'gemmPackWeights': return [{ bytes: oc * k * c }, oc, k * c, { bytes: oc * 4 }, { bytes: oc * 4, fill: 'mult' }, { bytes: oc * 4, fill: 'mult' }, 3, { bytes: x.gemmPackedBytes(oc, k * c) }];
    case 'dwPackWeights': return [{ bytes: k * k * c }, c, k, k, { bytes: c * 4 }, { bytes: c * 4, fill: 'mult' }, 0, 3, { bytes: x.dwPackedBytes(c, k, k) }];
    case 'fullyConnected': {
      const m = r.int(1, 5), kk = k * c;
      return [{ bytes: m * kk, fill: 'u7' }, m, kk, { bytes: x.gemmPackedBytes(oc, kk) }, oc, { bytes: m * oc }, ...q, r.int(0, 1), { bytes: m * 16 * (kk + 16) }, m * 16 * (kk + 16)];
    }
    case 'conv2d': {
      const sb = x.conv2dScratchBytes(ow, k, k, s, s, c);
      return [{ bytes: h * w * c, fill: 'u7' }, h, w, c, { bytes: oh * ow * oc }, oh, ow, oc, oc, k, k, s, s, p, p, { bytes: x.gemmPackedBytes(oc, k * k * c) }, ...q, r.int(0, 1), { bytes: Math.max(1, sb) }, sb];
    }
    case 'depthwiseConv2d': {
      const sb = x.dwScratchBytes(c, k, k);
      return [{ bytes: h * w * c }, h, w, c, { bytes: oh * ow * c }, oh, ow, c, k, k, s, s, p, p, { bytes: x.dwPackedBytes(c, k, k) }, ...q, { bytes: sb }, sb];
    }
    case 'add': { const n = h * w * c; return [{ bytes: n }, { bytes: n }, { bytes: n }, n, 1, 1 << 19, -3, 1 << 18, 20, 0, -128, 127]; }
    case 'channelMul': return [{ bytes: h * w * c }, h * w, c, { bytes: c }, 0, -128, 1 << 30, 40, 0, -128, 127, { bytes: h * w * c }];
    case 'lut': { const n = h * w * c; return [{ bytes: n }, n, { bytes: 256 }, { bytes: n }]; }
    case 'maxPool': return [{ bytes: h * w * c }, h, w, c, { bytes: oh * ow * c }, oh, ow, k, k, s, s, p, p];
    case 'avgPool': return [{ bytes: h * w * c }, h, w, c, { bytes: oh * ow * c }, oh, ow, k, k, s, s, p, p, r.int(0, 1), { bytes: (k * k + 1) * 4, fill: 'mult' }, 36, 0, 0, -128, 127];
    case 'globalAvgPool': return [{ bytes: h * w * c }, h * w, c, { bytes: c }, 1 << 30, 40, 0, 0, -128, 127];
    case 'copyChannels': return [{ bytes: h * w * c }, h * w, c, { bytes: h * w * (c + 3) }, c + 3, 3];
    case 'padZero': return [{ bytes: h * w * c }, h, w, c, { bytes: (h + 1) * (w + 1) * (c + 2) }, 2, 1, 1, -5];
    case 'upsampleNearest': return [{ bytes: h * w * c }, h, w, c, 2, { bytes: h * w * c * 4 }];
    case 'toRgb': { const f = r.int(0, 7), n = x.imageByteSize(f, w, h); return [{ bytes: n }, n, f, w, h, { bytes: w * h * 3 }]; }
    case 'resizeBilinear': { const sb = x.resizeScratchBytes(ow + 3, oh + 2); return [{ bytes: h * w * 3 }, w, h, 3, { bytes: (ow + 3) * (oh + 2) * 3 }, ow + 3, oh + 2, { bytes: sb }, sb]; }
    case 'halve': return h < 2 || w < 2 ? null : [{ bytes: h * w * 3 }, w, h, 3, { bytes: (w >> 1) * (h >> 1) * 3 }];
    case 'warpAffine': return [{ bytes: h * w * 3 }, w, h, 3, { bytes: ow * oh * 3 }, ow, oh, r.next() * 2 - 1, r.next() * 2 - 1, r.int(-20, 20), r.next() * 2 - 1, r.next() * 2 - 1, r.int(-20, 20), 0];
    case 'quantizeImage': return [{ bytes: h * w * 3 }, h * w, 0x020100, { bytes: 768 }, { bytes: h * w * 3 }];
    case 'dequantize': { const n = h * w * c; return [{ bytes: n }, n, 0, 0.5, { bytes: n * 4 }]; }
    case 'l2Normalize': return [{ bytes: 128 * 4 }, 128];
    case 'softmax': return [{ bytes: c * 4, fill: 'f32' }, c];
    case 'flipHorizontal': return [{ bytes: h * w * 3 }, w, h, 3, { bytes: h * w * 3 }];
    case 'vecAdd': return [{ bytes: c * 4, fill: 'mult' }, { bytes: c * 4, fill: 'mult' }, c, { bytes: c * 4 }];
    case 'matchScores': return [{ bytes: 128 * 4, fill: 'mult' }, { bytes: h * 128 * 4, fill: 'mult' }, h, 128, { bytes: h * 4 }];
    case 'matchTopK': return [{ bytes: h * w * 4, fill: 'mult' }, h * w, k, { bytes: k * 4 }];
    case 'patchRect': return [w * 10, h * 10, r.int(0, w * 5), r.int(0, h * 5), r.int(1, w * 5), r.int(1, h * 5), 2.7, { bytes: 16 }];
    case 'cropPatch': {
      const x0 = r.int(0, w - 1), y0 = r.int(0, h - 1), sb = x.cropPatchScratchBytes(w - x0, h - y0, 8, 8);
      return [{ bytes: h * w * 3 }, w, h, x0, y0, w - 1, h - 1, { bytes: 8 * 8 * 3 }, 8, 8, { bytes: sb }, sb];
    }
    case 'alignEstimate': return [{ bytes: 40, fill: 'f32' }, { bytes: 40, fill: 'f32' }, 5, { bytes: 32 }];
    case 'alignWarp': {
      const levels = r.int(0, 2), sb = x.alignScratchBytes(w * 4, h * 4, levels);
      return [{ bytes: w * h * 48 }, w * 4, h * 4, { bytes: 32, fill: 'similarity' }, levels, { bytes: Math.max(1, sb) }, sb, { bytes: 16 * 16 * 3 }, 16, 16, 0];
    }
    case 'detectDecode': return null; // pointer table of 12 arrays: covered by tests/js/pipeline-steps.test.ts and the model tests
    case 'cropQuality': return [{ bytes: h * w * 3 }, w, h, { bytes: 32 }];
    case 'sha256Digest': { const n = h * w * c; return [{ bytes: n }, n, { bytes: 32 }]; }
    case 'modelRun': return [r.int(0, 100000), { bytes: h * w * 3 }, w, h, { bytes: 4096 }, 4096];
    case 'modelSetInputSize': return [r.int(0, 100000), w * 32, h * 32];
    case 'modelDequantizeOutput': return [r.int(0, 100000), 0, { bytes: 4096 }, 4096, { bytes: 4096 }];
    default: return null;
  }
}

const HOSTILE = [0, 1, -1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 62, 63, 64, 127, 128, 255, 256, 65535, 65536, 1 << 30, 0x7fffffff, -0x80000000, NaN, Infinity];

for (const b of builds) {
  test(`fuzzed entry points return status codes and stay inside their buffers [${b.backend}]`, { skip: b.skip }, () => {
    const x: WasmExports = b.kernels!.wasm;
    const r = rng(777);
    const names = Object.keys(ABI).filter((n) => validCall(x, n, rng(1)) !== undefined && ['gemmPackWeights', 'dwPackWeights', 'fullyConnected', 'conv2d', 'depthwiseConv2d',
      'add', 'channelMul', 'lut', 'maxPool', 'avgPool', 'globalAvgPool', 'copyChannels', 'padZero', 'upsampleNearest', 'toRgb', 'resizeBilinear',
      'halve', 'warpAffine', 'quantizeImage', 'dequantize', 'l2Normalize', 'softmax', 'flipHorizontal', 'vecAdd', 'matchScores', 'matchTopK',
      'patchRect', 'cropPatch', 'alignEstimate', 'alignWarp', 'sha256Digest', 'cropQuality', 'modelRun', 'modelSetInputSize', 'modelDequantizeOutput'].includes(n));
    const stats: Record<string, { ok: number; refused: number }> = {};
    for (let cse = 0; cse < CASES; cse++) {
      const name = names[cse % names.length];
      const spec = validCall(x, name, r);
      if (!spec) { cse--; continue; }
      const owned: number[] = [], guards: number[] = [];
      const args = spec.map((a) => {
        if (typeof a === 'number') return a;
        const p = x.alloc(Math.max(1, a.bytes));
        const v = new Uint8Array(x.memory.buffer, p, a.bytes);
        for (let i = 0; i < v.length; i++) v[i] = a.fill === 'u7' ? r.int(0, 127) : r.int(0, 255);
        if (a.fill === 'mult') new Int32Array(x.memory.buffer, p, a.bytes >> 2).fill(1 << 29);
        if (a.fill === 'f32') new Float32Array(x.memory.buffer, p, a.bytes >> 2).forEach((_, i, arr) => { arr[i] = r.next() * 100; });
        if (a.fill === 'similarity') new Float64Array(x.memory.buffer, p, 4).set([0.4 + r.next(), r.next() - 0.5, r.int(-20, 20), r.int(-20, 20)]);
        owned.push(p); guards.push(x.alloc(64));
        return p;
      });
      // guards are freed again: memory nobody owns, filled with a canary; no kernel may touch it
      for (const g of guards) { x.free(g); new Uint8Array(x.memory.buffer, g, 64).fill(0xa5); }
      const mutations = r.int(0, 3);
      for (let m = 0; m < mutations; m++) {
        const i = r.int(0, args.length - 1);
        args[i] = r.next() < 0.5 ? r.pick(HOSTILE) : args[i] + r.pick([-17, -1, 1, 16]);
      }
      let status: number;
      try {
        status = (x[name as keyof WasmExports] as (...a: number[]) => number)(...args);
      } catch (e) {
        assert.fail(`${name}(${args.join(', ')}) trapped: ${(e as Error).message}`);
      }
      const st = (stats[name] ??= { ok: 0, refused: 0 });
      if (status === 0 || (['l2Normalize', 'matchTopK'].includes(name) && status > 0)) st.ok++; else st.refused++;
      for (const g of guards) {
        const v = new Uint8Array(x.memory.buffer, g, 64);
        assert.ok(v.every((byte) => byte === 0xa5), `${name}(${args.join(', ')}) wrote outside its buffers`);
      }
      for (const p of owned) assert.equal(x.free(p), 1, 'allocator table intact');
    }
    assert.equal(x.liveRegions(), 0, 'no leaked regions');
    // still computes correctly
    const res = b.kernels!.fullyConnected(Int8Array.from([1, 2, 3]), Int8Array.from([1, 1, 1, -1, 0, 1]), null,
      { m: 1, k: 3, n: 2, shift: 32, mult: Int32Array.from([1 << 30, 1 << 30]), zpIn: 0, zpOut: 0 });
    assert.deepEqual([...res], [2, 1]); // 6 * 0.25 = 1.5 -> 2, 2 * 0.25 = 0.5 -> 1
    const ok = Object.values(stats).reduce((n, s) => n + s.ok, 0);
    const handleOnly = new Set(['modelRun', 'modelSetInputSize', 'modelDequantizeOutput']); // no model loaded: always refused
    for (const [name, s] of Object.entries(stats)) if (!handleOnly.has(name)) assert.ok(s.ok > 0, `${name}: no fuzz case was accepted, the generator is broken`);
    console.log(`fuzz ${b.backend}: ${CASES} calls over ${names.length} entry points, ${ok} ran, ${CASES - ok} refused with a status code`);
  });
}
