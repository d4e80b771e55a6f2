// Engine-matrix harness: plain ES2020 script run after dist/wasmface.inline.iife.js in any JS engine
// (node vm, JavaScriptCore's jsc, SpiderMonkey's js, a Chromium page or Web Worker). The host defines
// HOST = { readBytes(name) -> Uint8Array | Promise<Uint8Array>, print(line), images: [{ name, width, height }],
// models: { detector, embedder, antispoof: [...] } (file names), backends: [...] } before this runs.
// Prints one JSON line per (backend, image) and a final "done" line.
(async function matrix() {
  const hex = (bytes) => Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  const f32hex = (v) => hex(new Uint8Array(new Float32Array([v]).buffer));
  try {
    const read = async (n) => await HOST.readBytes(n);
    const models = {
      detector: await read(HOST.models.detector),
      embedder: await read(HOST.models.embedder),
      antispoof: await Promise.all(HOST.models.antispoof.map(read)),
    };
    for (const backend of HOST.backends) {
      let engine;
      try {
        engine = await wasmface.FaceEngine.create({ wasm: wasmface.inlineWasmSources(), models, backend });
      } catch (e) {
        HOST.print(JSON.stringify({ backend, skipped: String(e && e.message) }));
        continue;
      }
      for (const img of HOST.images) {
        const data = await read(img.name);
        const image = { data, width: img.width, height: img.height, format: 'rgba' };
        const r = engine.embed(image);
        const l = engine.liveness(image);
        HOST.print(JSON.stringify({
          backend: engine.backend, image: img.name,
          embedding: hex(new Uint8Array(r.embedding.buffer)),
          box: [r.face.box.x, r.face.box.y, r.face.box.width, r.face.box.height].map(f32hex).join(''),
          liveness: l ? f32hex(l.score) : null,
        }));
      }
      engine.dispose();
    }
    HOST.print('done');
  } catch (e) {
    HOST.print('error ' + (e && e.stack || e));
  }
})();
