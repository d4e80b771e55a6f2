// Entry with the wasm builds inlined (base64): for bundlers and runtimes without fetch or files,
// such as bare JavaScriptCore/SpiderMonkey shells. Costs ~65 KB of base64 in the bundle.
import * as inlined from './inline-wasm.js';
import type { Backend, WasmSources } from './loader.js';

function decodeBase64(s: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  // engines without atob (some shells): a small decoder
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, value = 0, o = 0;
  for (const ch of clean) {
    value = (value << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (value >> bits) & 255; }
  }
  return out;
}

/** The builds inside this bundle, as loader sources. */
export function inlineWasmSources(): WasmSources {
  return (backend: Backend) => {
    const b64 = inlined[backend];
    if (!b64) throw new Error(`the ${backend} build is not inlined in this bundle`);
    return decodeBase64(b64);
  };
}

export * from './index.js';
