// Browser demo: camera -> live face box and landmarks -> enrol -> verify, all offline.
// Served from the repository root (node examples/web/serve.mjs) so /dist and /models resolve.
import { FaceEngine, fromDrawable } from '/dist/wasmface.mjs';

const $ = (id) => document.getElementById(id);
const video = $('video'), overlay = $('overlay'), status = $('status'), result = $('result');
const ctx = overlay.getContext('2d');
let engine, template = null, lastFaces = [], session = null;

async function start() {
  const manifest = await (await fetch('/models/manifest.json')).json();
  const ids = Object.keys(manifest).sort();
  const url = (prefix) => ids.filter((id) => id.startsWith(prefix)).map((id) => `/models/${manifest[id].file}`);
  engine = await FaceEngine.create({
    wasm: { relaxed: '/dist/wasmface.relaxed.wasm', simd: '/dist/wasmface.simd.wasm', scalar: '/dist/wasmface.scalar.wasm' },
    models: { detector: url('yunet')[0], embedder: url('faceapi')[0], antispoof: url('minifasnet') },
  });
  status.textContent = `engine ready (${engine.backend} build); opening the camera…`;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  await new Promise((r) => (video.onloadedmetadata = r));
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
  $('enroll').disabled = $('verify').disabled = $('active').disabled = false;
  requestAnimationFrame(loop);
}

function frame() {
  return fromDrawable(video);
}

function loop() {
  if (session) {
    // active liveness: the session asks for random head moves; show its prompt until it decides
    const u = session.push(frame());
    if (u.done) {
      session = null;
      result.className = u.state === 'match' ? 'ok' : 'bad';
      result.textContent = `${u.state}${u.score !== undefined ? ` · score ${u.score.toFixed(3)}` : ''}${u.reason ? ` · ${u.reason}` : ''}`;
    } else {
      result.className = 'muted';
      result.textContent = u.guidance[0] ?? 'look at the camera';
    }
  }
  const t0 = performance.now();
  lastFaces = engine.detect(frame());
  const ms = performance.now() - t0;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.lineWidth = 3;
  for (const f of lastFaces) {
    ctx.strokeStyle = '#5ddc6f';
    ctx.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    ctx.fillStyle = '#ffd166';
    for (const [x, y] of f.landmarks) { ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI); ctx.fill(); }
  }
  status.textContent = `${lastFaces.length} face${lastFaces.length === 1 ? '' : 's'} · detection ${ms.toFixed(1)} ms · ${engine.backend} build${template ? ' · enrolled' : ''}`;
  status.dataset.faces = String(lastFaces.length);
  requestAnimationFrame(loop);
}

$('enroll').onclick = () => {
  try {
    template = engine.enroll(frame());
    result.className = 'ok';
    result.textContent = 'enrolled: only the template is kept, not the picture';
  } catch (e) {
    result.className = 'bad';
    result.textContent = e.message;
  }
};

$('verify').onclick = () => {
  if (!template) { result.className = 'bad'; result.textContent = 'enrol first'; return; }
  try {
    const r = engine.verify(frame(), template);
    const live = !r.liveness ? 'no liveness models' : r.liveness.reliable ? `liveness ${r.liveness.score.toFixed(2)}` : r.liveness.reason;
    result.className = r.score >= r.threshold ? 'ok' : 'bad';
    result.textContent = `${r.score >= r.threshold ? 'match' : 'no match'} · score ${r.score.toFixed(3)} (threshold ${r.threshold.toFixed(3)}) · ${live} · ${r.timingsMs.total.toFixed(0)} ms`;
    result.dataset.score = String(r.score);
  } catch (e) {
    result.className = 'bad';
    result.textContent = e.message;
  }
};

$('active').onclick = () => {
  if (!template) { result.className = 'bad'; result.textContent = 'enrol first'; return; }
  // camera frames as captured (the <video> is not mirrored): the user's left is the image's right
  session = engine.createSession({ mode: 'verify', template, liveness: 'active', mirrored: false });
};

start().catch((e) => { status.textContent = `failed: ${e.message}`; status.className = 'bad'; });
