// npm test: build, type-check, then every suite. Kernel suites run twice under node's relaxed-SIMD
// flag: normally (baseline Liftoff code first, tiering up) and with --no-liftoff (optimised code
// only), since V8's tiers have differed on relaxed dot products before.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const node = process.execPath;
const RELAXED = '--experimental-wasm-relaxed-simd';
const files = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f)).sort() : []);

const steps = [
  ['build', [node, 'scripts/build.mjs']],
  ['type-check', [node, 'node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']],
  ['node:test suites', [node, RELAXED, '--import', 'tsx', '--test', ...files('tests/kernels'), ...files('tests/js'), ...files('tests/convert'), ...files('tests/models'), ...files('tests/pipeline'), ...files('tests/engines'), ...files('tests/golden')]],
  ['kernel suites, optimising tier only', [node, RELAXED, '--no-liftoff', '--import', 'tsx', '--test', ...files('tests/kernels')]],
  ['as-pect specs (simd)', [node, '--experimental-wasi-unstable-preview1', 'node_modules/@as-pect/cli/lib/test.js', '--config', 'as-pect.config.js', '--as-config', 'as-pect.asconfig.json']],
  ['as-pect specs (relaxed)', [node, RELAXED, '--experimental-wasi-unstable-preview1', 'node_modules/@as-pect/cli/lib/test.js', '--config', 'as-pect.config.js', '--as-config', 'tests/assembly/as-pect.relaxed.asconfig.json']],
];

const started = Date.now();
for (const [name, [cmd, ...args]] of steps) {
  const t0 = Date.now();
  console.log(`\n=== ${name}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✗ ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  console.log(`=== ${name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\nall test steps passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
