// Enrol a person from one photo, then verify another photo against the template.
import { createNodeEngine, readImageFile } from 'wasmface/node';

const engine = await createNodeEngine(); // best wasm build for this engine + bundled int8 models
const template = engine.enroll(readImageFile('examples/images/person-a-1.jpg'));

const result = engine.verify(readImageFile('examples/images/person-a-2.jpg'), template, { operatingPoint: 'far1e-3' });
console.log(result.score >= result.threshold ? 'same person' : 'different person', result.score.toFixed(3));
console.log('liveness', result.liveness?.reliable ? result.liveness.score.toFixed(3) : result.liveness?.reason);
console.log('timings (ms)', result.timingsMs);

const bytes = template.toBytes(); // store this (about 0.5 KB), not the photo
engine.dispose();
console.log('template bytes', bytes.length);
