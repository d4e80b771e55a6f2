// Live capture: push camera frames; show the guidance; stop at the fused decision.
import { createNodeEngine, readImageFile, AttemptLimiter } from 'wasmface/node';

const engine = await createNodeEngine();
const template = engine.enroll(readImageFile('examples/images/person-a-1.jpg'));
const limiter = new AttemptLimiter(); // 5 failures in 5 min -> 90 s lockout, growing

// stand-in for a camera: in a browser, frames come from fromVideoFrame(frame) or fromImageData(...)
const camera = [readImageFile('examples/images/person-a-2.jpg'), readImageFile('examples/images/person-a-2.jpg')];

const result = limiter.guard(() => {
  const session = engine.createSession({ mode: 'verify', template, frames: 2, budgetMs: 5000 });
  for (const frame of camera) {
    const u = session.push(frame);
    if (u.guidance.length) console.log('tell the user:', u.guidance.join('; '));
    if (u.done) return { match: u.state === 'match', state: u.state, score: u.score };
  }
  return { match: false, state: 'timeout', score: undefined };
});
console.log(result.state, result.score?.toFixed(3));
engine.dispose();
