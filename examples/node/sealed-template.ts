// Templates sealed with AES-GCM under a device key; a template from another model or a tampered
// one is refused with TemplateError.
import { createNodeEngine, readImageFile, Template, TemplateError } from 'wasmface/node';

const engine = await createNodeEngine();
const key = crypto.getRandomValues(new Uint8Array(32)); // keep it in the device's keystore
const sealed = await engine.enroll(readImageFile('examples/images/person-a-1.jpg')).seal(key);

const template = await Template.unseal(sealed, key, engine.models.embedder);
console.log('verified:', engine.verify(readImageFile('examples/images/person-a-2.jpg'), template).score.toFixed(3));

sealed[sealed.length - 1] ^= 1;
try {
  await Template.unseal(sealed, key);
} catch (e) {
  console.log('tampered template refused:', e instanceof TemplateError, (e as TemplateError).code);
}
engine.dispose();
