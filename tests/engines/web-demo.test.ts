// The browser camera demo (examples/web/) in headless Chromium with a fake camera playing a dev photo
// (a .y4m made with ffmpeg): the page must find the face live, enrol, and verify it as a match; an
// active-liveness session shows its prompt and never matches the still picture. Writes a
// screenshot to bench/out/web-demo.png (WASMFACE_UPDATE_DOCS=1: to docs/web-demo.png, which the README shows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const need = [
  [existsSync('/usr/bin/chromium'), 'chromium not installed (apt-get install chromium)'],
  [!spawnSync('which', ['ffmpeg']).status, 'ffmpeg not installed (apt-get install ffmpeg)'],
  [existsSync(`${root}dist/wasmface.mjs`) && existsSync(`${root}models/manifest.json`), 'dist/ or models/ missing (npm run build)'],
] as const;
const skip = need.find(([ok]) => !ok)?.[1];

test('browser demo: fake camera -> face found live -> enrol -> verify = match', { skip, timeout: 180000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmface-web-'));
  const y4m = join(dir, 'camera.y4m');
  const ff = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-loop', '1', '-i', `${root}examples/images/person-a-1.jpg`, '-vf',
    'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2', '-t', '2', '-r', '10', '-pix_fmt', 'yuv420p', y4m]);
  assert.equal(ff.status, 0, String(ff.stderr));
  const { serve } = await import('../../examples/web/serve.mjs');
  const server = await serve(0);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 700, height: 760 } });
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/examples/web/`);
    await page.waitForFunction(() => Number(document.getElementById('status')?.dataset.faces ?? 0) >= 1, null, { timeout: 60000 })
      .catch((e) => { throw new Error(`no face found live: ${e.message}\n${logs.join('\n')}`); });
    await page.click('#enroll');
    await page.waitForFunction(() => /enrolled/.test(document.getElementById('result')?.textContent ?? ''), null, { timeout: 30000 });
    await page.click('#verify');
    await page.waitForFunction(() => /match/.test(document.getElementById('result')?.textContent ?? ''), null, { timeout: 30000 });
    const text = await page.textContent('#result');
    assert.match(text ?? '', /^match · score (0\.9|1\.0)/, text ?? '');
    mkdirSync(`${root}bench/out`, { recursive: true });
    await page.screenshot({ path: process.env.WASMFACE_UPDATE_DOCS ? `${root}docs/web-demo.png` : `${root}bench/out/web-demo.png` });
    console.log(`web demo: ${text}; status: ${await page.textContent('#status')}`);
    // active liveness: the page shows the random prompt; a still picture that never moves never matches
    await page.click('#active');
    await page.waitForFunction(() => /Turn your head|Tilt your head|Look straight/.test(document.getElementById('result')?.textContent ?? ''), null, { timeout: 30000 });
    const prompt = await page.textContent('#result');
    await page.waitForFunction(() => /^(timeout|spoof|match|no-match)/.test(document.getElementById('result')?.textContent ?? ''), null, { timeout: 60000 });
    const ended = await page.textContent('#result');
    assert.match(ended ?? '', /^(timeout|spoof)/, `a still picture in an active session: ${ended}`);
    console.log(`web demo, active: asked '${prompt}', ended '${ended}'`);
  } finally {
    await browser.close();
    server.close();
  }
});
