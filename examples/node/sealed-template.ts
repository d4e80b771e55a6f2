// Templates sealed with AES-GCM under a device key and bound to the id they are stored under; a
// template from another model, a tampered one, or one presented under another person's id is
// refused with TemplateError.
import { createNodeEngine, readImageFile, Template, TemplateError } from 'wasmface/node';

const engine = await createNodeEngine();
const key = crypto.getRandomValues(new Uint8Array(32)); // keep it in the device's keystore
const sealed = await engine.enroll(readImageFile('examples/images/person-a-1.jpg')).seal(key, { owner: 'alice' });

const template = await Template.unseal(sealed, key, { owner: 'alice', modelId: engine.models.embedder });
console.log('verified:', engine.verify(readImageFile('examples/images/person-a-2.jpg'), template).score.toFixed(3));

try {
  await Template.unseal(sealed, key, { owner: 'bob' }); // Alice's blob stored under Bob's record
} catch (e) {
  console.log('template under another id refused:', e instanceof TemplateError, (e as TemplateError).code);
}
sealed[sealed.length - 1] ^= 1;
try {
  await Template.unseal(sealed, key, { owner: 'alice' });
} catch (e) {
  console.log('tampered template refused:', e instanceof TemplateError, (e as TemplateError).code);
}
engine.dispose();
