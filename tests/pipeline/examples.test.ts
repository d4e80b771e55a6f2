// The README's API examples are these files (the README quotes them verbatim): each must run
// against the built package (self-reference `wasmface/node` resolves to dist/) and print what
// the README says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');
const haveModels = existsSync(`${root}models/manifest.json`) && existsSync(`${root}dist/node.mjs`);

for (const [file, expect] of [
  ['examples/node/quickstart.ts', /same person [0-9.]+\n[\s\S]*template bytes \d+/],
  ['examples/node/identify.ts', /best: alice \([0-9.]+\) accepted/],
  ['examples/node/sealed-template.ts', /verified: 0\.9[0-9]+\ntemplate under another id refused: true E_TEMPLATE_TAMPERED\ntampered template refused: true E_TEMPLATE_TAMPERED/],
  ['examples/node/session.ts', /^match 0\.9[0-9]+$/m],
] as const) {
  test(`README example ${file} is quoted verbatim and runs`, { skip: haveModels ? undefined : 'models or dist/ missing (npm run build)' }, () => {
    const code = readFileSync(`${root}${file}`, 'utf8');
    assert.ok(readme.includes(code.trim()), `README.md must quote ${file} verbatim`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, expect);
  });
}
