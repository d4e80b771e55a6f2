// Writes the sample inputs of `npm run demo` into examples/images/: at most six pictures from the
// deepface and face-api.js sources of ../shared/faces (as its README allows), downscaled, with their
// source repository, commit and path recorded in examples/images/SOURCES.md. Run once; the outputs
// are committed.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { decodeImage } from '../../js/node/decode.js';

const SHARED = new URL('../../../shared/faces/', import.meta.url);
const OUT = new URL('../../examples/images/', import.meta.url);
const PICKS = [
  { src: 'deepface/p01/img1.jpg', out: 'person-a-1.jpg', maxSide: 480, repo: 'github.com/serengil/deepface', commit: '243209fd7b46ecdecf72665cc25219f6e8181f25', path: 'tests/unit/dataset/img1.jpg' },
  { src: 'deepface/p01/img2.jpg', out: 'person-a-2.jpg', maxSide: 480, repo: 'github.com/serengil/deepface', commit: '243209fd7b46ecdecf72665cc25219f6e8181f25', path: 'tests/unit/dataset/img2.jpg' },
  { src: 'deepface/p02/img3.jpg', out: 'person-b-1.jpg', maxSide: 480, repo: 'github.com/serengil/deepface', commit: '243209fd7b46ecdecf72665cc25219f6e8181f25', path: 'tests/unit/dataset/img3.jpg' },
  { src: 'face-api.js/amy/amy1.png', out: 'person-c-1.jpg', maxSide: 140, repo: 'github.com/justadudewhohacks/face-api.js', commit: 'a86f011d72124e5fb93e59d5c4ab98f699dd5c9c', path: 'examples/images/amy/amy1.png' },
  { src: 'face-api.js/amy/amy2.png', out: 'person-c-2.jpg', maxSide: 140, repo: 'github.com/justadudewhohacks/face-api.js', commit: 'a86f011d72124e5fb93e59d5c4ab98f699dd5c9c', path: 'examples/images/amy/amy2.png' },
];

/** Box-filter downscale of RGBA by an integer-free factor (area average), good enough for samples. */
function downscale(rgba: Uint8Array, w: number, h: number, maxSide: number) {
  const s = Math.min(1, maxSide / Math.max(w, h));
  const dw = Math.max(1, Math.round(w * s)), dh = Math.max(1, Math.round(h * s));
  const out = new Uint8Array(dw * dh * 4);
  for (let y = 0; y < dh; y++) for (let x = 0; x < dw; x++) {
    const x0 = Math.floor(x / s), x1 = Math.max(x0 + 1, Math.floor((x + 1) / s)), y0 = Math.floor(y / s), y1 = Math.max(y0 + 1, Math.floor((y + 1) / s));
    for (let c = 0; c < 4; c++) {
      let sum = 0, n = 0;
      for (let yy = y0; yy < Math.min(y1, h); yy++) for (let xx = x0; xx < Math.min(x1, w); xx++) { sum += rgba[(yy * w + xx) * 4 + c]; n++; }
      out[(y * dw + x) * 4 + c] = Math.round(sum / n);
    }
  }
  return { data: out, width: dw, height: dh };
}

mkdirSync(OUT, { recursive: true });
const rows: string[] = [];
for (const p of PICKS) {
  const img = decodeImage(new Uint8Array(readFileSync(new URL(p.src, SHARED))));
  const small = downscale(img.data, img.width, img.height, p.maxSide);
  writeFileSync(new URL(p.out, OUT), jpeg.encode(small, 90).data);
  rows.push(`| \`${p.out}\` | ${p.repo} | \`${p.commit}\` | \`${p.path}\` | ${img.width}x${img.height} -> ${small.width}x${small.height} |`);
  console.log(`${p.out}: ${small.width}x${small.height}`);
}
writeFileSync(new URL('SOURCES.md', OUT), `# Sample images for \`npm run demo\`

Five pictures taken from the public example/test images of two repositories, as
\`../shared/faces/README.md\` permits for the demo (at most six, from the deepface and face-api.js
sources, downscaled, provenance noted). Copyright in the photos stays with their authors; the
repositories' licences (MIT) cover their code, not these photos. Not for any other use.
Regenerate with \`npx tsx tools/demo/make-demo-images.ts\`.

person-a-* are one person, person-b another, person-c a third (a 150x150 greyscale TV still, a
tight crop like LFW's).

| file | repository | commit | original path | size |
|---|---|---|---|---|
${rows.join('\n')}
`);
