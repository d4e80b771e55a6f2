// 1:N identification against a gallery held in wasm memory.
import { createNodeEngine, readImageFile } from 'wasmface/node';

const engine = await createNodeEngine();
const gallery = engine.createGallery();
gallery.add('alice', engine.enroll(readImageFile('examples/images/person-a-1.jpg')));
gallery.add('bob', engine.enroll(readImageFile('examples/images/person-b-1.jpg')));
gallery.add('carol', engine.enroll([readImageFile('examples/images/person-c-1.jpg')]));

const { matches, faces } = engine.identify(readImageFile('examples/images/person-a-2.jpg'), gallery, { topK: 2 });
const threshold = engine.threshold('far1e-3');
console.log(`${faces} face(s); best: ${matches[0].id} (${matches[0].score.toFixed(3)})`, matches[0].score >= threshold ? 'accepted' : 'rejected');

gallery.remove('bob'); // zeroes the memory the template held
engine.dispose();
