// Writes js/pinned-models.ts from models/manifest.json: each shipped model's fingerprint, the SHA-256
// of its 128-byte header (which embeds the SHA-256 of the rest of the file), as FaceEngine checks it
// (Model.pin). Works for .wfm and .wfm.gz files. Run after `npm run models`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8'));
const pins = {};
for (const [id, entry] of Object.entries(manifest)) {
  let bytes = readFileSync(`models/${entry.file}`);
  if (entry.sha256 && createHash('sha256').update(bytes).digest('hex') !== entry.sha256) throw new Error(`models/${entry.file} does not match its manifest SHA-256`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  pins[id] = createHash('sha256').update(bytes.subarray(0, 128)).digest('hex');
}
const body = Object.entries(pins).map(([id, sha]) => `  '${id}': '${sha}',`).join('\n');
writeFileSync('js/pinned-models.ts', `// Fingerprints of the model files shipped with this version, by model id: SHA-256 of each file's
// 128-byte header, which embeds the SHA-256 of the rest (see Model.pin). Written by
// scripts/pin-models.mjs from models/manifest.json; FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {
${body}
};
`);
console.log(`pinned ${Object.keys(pins).length} models in js/pinned-models.ts`);
