// The packed npm tarball, installed into a scratch project, used only through its public entry
// points: `wasmface` (Node: bundled wasm + models), `wasmface/core` (engine-neutral), CommonJS
// require, the `wasmface` bin, and the TypeScript declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const skip = existsSync(`${root}dist/node.mjs`) && existsSync(`${root}models/manifest.json`) ? undefined : 'dist/ or models/ missing (npm run build)';
// Under `npm test`, node_modules/.bin leads PATH and holds an npm 6 that as-pect's dependencies pull in
// (it lacks --pack-destination): use the npm that runs us (npm_execpath), or the system one.
const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : undefined;
const npm = (args: string[], cwd: string) => (npmCli ? run(process.execPath, [npmCli, ...args], cwd) : run('npm', args, cwd));
const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240000, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

test('npm pack -> install in a scratch project -> use the public entry points', { skip, timeout: 300000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-pack-'));
  // --ignore-scripts: `prepare` would rebuild build/*.wasm under the feet of suites running in parallel.
  // npm pack has been seen to exit 1 without a word once in a full CI run (never alone): one retry,
  // with what the first attempt printed kept as a diagnostic.
  const pack = ['pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel', 'warn'];
  try { npm(pack, root); } catch (e) { t.diagnostic(`npm pack, first attempt: ${(e as Error).message}`); npm(pack, root); }
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const app = join(dir, 'app');
  run('mkdir', ['-p', app], dir);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  // the one dependency (jpeg-js) comes from the npm cache filled by `npm ci`; no network needed then
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tgz)], app);
  const img = (n: string) => JSON.stringify(`${root}examples/images/${n}`);
  writeFileSync(join(app, 'esm.mjs'), `
    import { createNodeEngine, readImageFile } from 'wasmface';
    import * as core from 'wasmface/core';
    if (typeof core.FaceEngine !== 'function' || typeof core.loadWasm !== 'function') throw new Error('core entry lacks its API');
    const engine = await createNodeEngine();
    const t = engine.enroll(readImageFile(${img('person-a-1.jpg')}));
    const same = engine.verify(readImageFile(${img('person-a-2.jpg')}), t), other = engine.verify(readImageFile(${img('person-b-1.jpg')}), t);
    console.log(JSON.stringify({ backend: engine.backend, same: same.score >= same.threshold, other: other.score >= other.threshold }));
    engine.dispose();
  `);
  const esm = JSON.parse(run(process.execPath, ['esm.mjs'], app).trim());
  assert.deepEqual({ same: esm.same, other: esm.other }, { same: true, other: false });
  writeFileSync(join(app, 'cjs.cjs'), `
    const { createNodeEngine, readImageFile } = require('wasmface');
    createNodeEngine({ backend: 'scalar' }).then((e) => { console.log(e.backend, e.detect(readImageFile(${img('person-c-1.jpg')})).length); e.dispose(); });
  `);
  assert.match(run(process.execPath, ['cjs.cjs'], app), /^scalar 1$/m);
  const cli = run(join(app, 'node_modules/.bin/wasmface'), ['compare', `${root}examples/images/person-a-1.jpg`, `${root}examples/images/person-a-2.jpg`, '--json'], app);
  assert.equal(JSON.parse(cli.trim()).match, true);
  for (const f of ['dist/types/index.d.ts', 'dist/types/node.d.ts', 'dist/wasmface.simd.wasm', 'dist/models/manifest.json']) {
    assert.ok(existsSync(join(app, 'node_modules/wasmface', f)), `package contains ${f}`);
  }
  console.log(`packed ${tgz}: ESM, CommonJS, core entry, bin and types work from a scratch project (${esm.backend} build)`);
});
