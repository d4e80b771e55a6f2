// Writes js/pinned-models.ts from models/manifest.json: the SHA-256 of every shipped model file,
// which FaceEngine checks before accepting a model (run after `npm run models`).
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8'));
const pins = {};
for (const [id, entry] of Object.entries(manifest)) {
  const bytes = readFileSync(`models/${entry.file}`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (entry.sha256 && entry.sha256 !== sha) throw new Error(`models/${entry.file}: manifest says ${entry.sha256}, file is ${sha}`);
  pins[id] = sha;
}
const body = Object.entries(pins).map(([id, sha]) => `  '${id}': '${sha}',`).join('\n');
writeFileSync('js/pinned-models.ts', `// SHA-256 of every model file shipped with this version (whole file), by model id. Written by
// scripts/pin-models.mjs from models/manifest.json; FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {
${body}
};
`);
console.log(`pinned ${Object.keys(pins).length} models in js/pinned-models.ts`);
