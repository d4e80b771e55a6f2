// Templates (binary round trip, corruption, other model or version, AES-GCM sealing) and the
// verification metrics (hand-computed cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template, TemplateError } from '../../js/template.js';
import { computeMetrics, thresholdAtFar, rocPoints } from '../../js/cli/metrics.js';

const raw = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
const emb = raw.map((v) => v / Math.hypot(...raw));

test('templates round-trip and refuse corruption, other models and other versions', () => {
  const t = new Template('faceapi-resnet', emb, 3);
  const bytes = t.toBytes();
  const back = Template.fromBytes(bytes, 'faceapi-resnet');
  assert.deepEqual(back.embedding, emb);
  assert.equal(back.images, 3);
  const code = (fn: () => unknown) => { try { fn(); } catch (e) { assert.ok(e instanceof TemplateError); return (e as TemplateError).code; } return 'none'; };
  assert.equal(code(() => Template.fromBytes(bytes, 'other-model')), 'E_TEMPLATE_MODEL');
  const flipped = bytes.slice(); flipped[40] ^= 1;
  assert.equal(code(() => Template.fromBytes(flipped)), 'E_TEMPLATE_CORRUPT');
  assert.equal(code(() => Template.fromBytes(bytes.subarray(0, bytes.length - 1))), 'E_TEMPLATE');
  const v2 = bytes.slice(); v2[4] = 2;
  assert.equal(code(() => Template.fromBytes(v2)), 'E_TEMPLATE_VERSION');
  assert.equal(code(() => Template.fromBytes(new Uint8Array(64))), 'E_TEMPLATE');
  assert.equal(code(() => new Template('m', Float32Array.from([1, NaN]))), 'E_TEMPLATE_CORRUPT');
});

test('sealed templates open with the right key only and detect tampering', async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const t = new Template('faceapi-resnet', emb);
  const sealed = await t.seal(key, { owner: 'alice' });
  assert.notDeepEqual(sealed.subarray(20, 60), t.toBytes().subarray(20, 60), 'ciphertext, not plain embedding');
  assert.deepEqual((await Template.unseal(sealed, key, { modelId: 'faceapi-resnet', owner: 'alice' })).embedding, emb);
  const codeOf = async (p: Promise<unknown>) => { try { await p; return 'none'; } catch (e) { assert.ok(e instanceof TemplateError); return (e as TemplateError).code; } };
  assert.equal(await codeOf(Template.unseal(sealed, crypto.getRandomValues(new Uint8Array(32)), { owner: 'alice' })), 'E_TEMPLATE_TAMPERED');
  const tampered = sealed.slice(); tampered[30] ^= 0x10;
  assert.equal(await codeOf(Template.unseal(tampered, key, { owner: 'alice' })), 'E_TEMPLATE_TAMPERED');
  assert.equal(await codeOf(Template.unseal(sealed, key, { modelId: 'other-model', owner: 'alice' })), 'E_TEMPLATE_MODEL');
  assert.throws(() => Template.fromBytes(sealed), /sealed/);
  assert.equal(await codeOf(t.seal(new Uint8Array(5))), 'E_TEMPLATE_KEY');
});

test('metrics: TAR at FAR, EER, AUC and accuracy on hand-computed scores', () => {
  // 10 impostors 0.0 .. 0.9; genuines 0.5 .. 1.4 step 0.1
  const impostor = Array.from({ length: 10 }, (_, i) => i / 10);
  const genuine = Array.from({ length: 10 }, (_, i) => 0.5 + i / 10);
  const m = computeMetrics(genuine, impostor, 0.75);
  // FAR 1e-2 of 10 impostors allows 0 accepts: threshold just above 0.9 -> genuines >= 1.0: 5 of 10
  assert.equal(m.tar_at_far['1e-2'], 0.5);
  assert.ok(m.thresholds_at_far['1e-2'] > 0.9 && m.thresholds_at_far['1e-2'] < 0.9 + 1e-12);
  // accuracy at 0.75: genuines >= 0.75: 0.8..1.4 = 7; impostors < 0.75: 0..0.7 = 8 -> 15/20
  assert.equal(m.accuracy, 0.75);
  // AUC: P(g > i): ranks — computed by brute force
  let wins = 0;
  for (const g of genuine) for (const i of impostor) wins += g > i ? 1 : g === i ? 0.5 : 0;
  assert.ok(Math.abs(m.auc - wins / 100) < 1e-12);
  assert.ok(m.eer > 0.15 && m.eer < 0.35);
  // no-face pairs are -Infinity: a genuine one is a reject, never dropped
  const withMiss = computeMetrics([...genuine, -Infinity], impostor, 0.75);
  assert.equal(withMiss.genuine, 11);
  assert.equal(withMiss.tar_at_far['1e-2'], 5 / 11);
  // FAR 0.5 of 3 impostors allows 1 accept: the threshold sits just above the second highest
  const t = thresholdAtFar(Float64Array.from([3, 2, 1]), 0.5);
  assert.ok(t > 2 && t < 2 + 1e-12, `threshold ${t}`);
  const roc = rocPoints(genuine, impostor);
  assert.deepEqual(roc[roc.length - 1], [1, 1]);
  assert.ok(roc.every(([f, t], i) => i === 0 || (f >= roc[i - 1][0] && t >= roc[i - 1][1])), 'monotone');
});
