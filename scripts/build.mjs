// npm run build: the four wasm builds (sizes printed, 100 KB budget enforced) and the TypeScript
// API compiled to build/js. `--wasm-only` builds only the wasm (asc itself claims a `--wasm` argument in this process).
import asc from 'assemblyscript/asc';
import { readFileSync, statSync, mkdirSync, cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';

const BUDGET = 100 * 1024;
if (!process.argv.includes('--wasm-only')) rmSync('dist', { recursive: true, force: true });
const targets = [
  ['scalar', 'assembly/index.ts'],
  ['simd', 'assembly/index.ts'],
  ['relaxed', 'assembly/index.ts'],
  ['wasi', 'assembly/wasi.ts'],
];

let failed = false;
for (const [target, entry] of targets) {
  const args = target === 'wasi' ? [entry, '--target', target] : ['--target', target];
  const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) { console.error(`asc --target ${target} failed: ${error.message}\n${stderr}`); process.exit(1); }
  const file = `build/wasmface.${target}.wasm`;
  const raw = statSync(file).size, gz = gzipSync(readFileSync(file), { level: 9 }).length;
  const over = raw > BUDGET;
  failed ||= over;
  console.log(`${file.padEnd(28)} ${(raw / 1024).toFixed(1).padStart(6)} KB  (gzip ${(gz / 1024).toFixed(1)} KB)${over ? '  OVER THE 100 KB BUDGET' : ''}`);
}
if (failed) process.exit(1);
if (!process.argv.includes('--wasm-only')) {
  // the core type-checks without Node's types (no Node-only API may creep in), then everything compiles
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'js/tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'js/tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent'], { stdio: 'inherit' });
  mkdirSync('dist/types', { recursive: true });
  cpSync('build/js/js', 'dist/types', { recursive: true, filter: (f) => !f.endsWith('.js') });
  cpSync('build/js/assembly', 'dist/assembly', { recursive: true, filter: (f) => !f.endsWith('.js') });
  for (const [target] of targets) cpSync(`build/wasmface.${target}.wasm`, `dist/wasmface.${target}.wasm`);
  if (existsSync('models/manifest.json')) cpSync('models', 'dist/models', { recursive: true, filter: (f) => !f.endsWith('.md') });
  const sizes = readdirSync('dist').filter((f) => /\.(mjs|cjs)$/.test(f)).map((f) => `${f} ${(statSync(`dist/${f}`).size / 1024).toFixed(1)} KB`);
  console.log(`dist: ${sizes.join(', ')}`);
}
