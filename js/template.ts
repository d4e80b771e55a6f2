// Face templates: the unit embedding of an enrolled person with the id of the model that made it,
// as a small versioned binary; optionally sealed with AES-GCM through WebCrypto under a key the
// device supplies. A template from another model (or format version), a corrupted one, or a sealed
// one that was tampered with or opened with the wrong key is refused with TemplateError.

import { WasmfaceError } from './errors.js';
import { utf8Decode, utf8Encode } from './utf8.js';
import { isUint8Array } from './bytes.js';

export class TemplateError extends WasmfaceError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

const MAGIC = 0x31544657;        // "WFT1"
const SEALED_MAGIC = 0x31534657; // "WFS1"
export const TEMPLATE_VERSION = 1;
const HEADER = 16;

// CRC-32 (IEEE) to catch corruption of plain templates; tampering is what sealing is for.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export type TemplateKey = CryptoKey | Uint8Array;

export class Template {
  constructor(readonly modelId: string, readonly embedding: Float32Array, readonly images = 1) {
    if (!modelId || modelId.length > 64) throw new TemplateError('E_TEMPLATE', 'template model id must be 1..64 characters');
    if (embedding.length < 1 || embedding.length > 4096) throw new TemplateError('E_TEMPLATE', `embedding length ${embedding.length} out of range`);
    for (const v of embedding) if (!Number.isFinite(v)) throw new TemplateError('E_TEMPLATE', 'embedding contains NaN or infinity');
  }

  /** Plain binary form: header, model id, f32 embedding, CRC-32. */
  toBytes(): Uint8Array {
    const id = utf8Encode(this.modelId);
    const idPad = (id.length + 3) & ~3;
    const size = HEADER + idPad + this.embedding.length * 4 + 4;
    const out = new Uint8Array(size), v = new DataView(out.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint16(4, TEMPLATE_VERSION, true);
    v.setUint16(6, 0, true);
    v.setUint16(8, this.embedding.length, true);
    v.setUint16(10, Math.min(this.images, 65535), true);
    v.setUint16(12, id.length, true);
    out.set(id, HEADER);
    new Float32Array(out.buffer, HEADER + idPad, this.embedding.length).set(this.embedding);
    v.setUint32(size - 4, crc32(out.subarray(0, size - 4)), true);
    return out;
  }

  /** Parses a plain template; with expectedModelId, refuses templates made by another model. */
  static fromBytes(bytes: Uint8Array, expectedModelId?: string): Template {
    if (!isUint8Array(bytes) || bytes.length < HEADER + 8) throw new TemplateError('E_TEMPLATE', 'not a template: too short');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = v.getUint32(0, true);
    if (magic === SEALED_MAGIC) throw new TemplateError('E_TEMPLATE_SEALED', 'this template is sealed: open it with Template.unseal(bytes, key)');
    if (magic !== MAGIC) throw new TemplateError('E_TEMPLATE', 'not a wasmface template (bad magic)');
    const version = v.getUint16(4, true);
    if (version !== TEMPLATE_VERSION) throw new TemplateError('E_TEMPLATE_VERSION', `template format version ${version} is not supported (this build reads ${TEMPLATE_VERSION})`);
    const dim = v.getUint16(8, true), images = v.getUint16(10, true), idLen = v.getUint16(12, true);
    const idPad = (idLen + 3) & ~3;
    const size = HEADER + idPad + dim * 4 + 4;
    if (dim < 1 || idLen < 1 || idLen > 64 || bytes.length !== size) throw new TemplateError('E_TEMPLATE', 'template size does not match its header (truncated or extended)');
    if (crc32(bytes.subarray(0, size - 4)) !== v.getUint32(size - 4, true)) throw new TemplateError('E_TEMPLATE_CORRUPT', 'template checksum mismatch: the template is corrupted');
    const modelId = utf8Decode(bytes.subarray(HEADER, HEADER + idLen));
    if (expectedModelId !== undefined && modelId !== expectedModelId) {
      throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${modelId}', this engine uses '${expectedModelId}': re-enrol the person`);
    }
    const emb = new Float32Array(dim);
    new Uint8Array(emb.buffer).set(bytes.subarray(HEADER + idPad, HEADER + idPad + dim * 4));
    return new Template(modelId, emb, images);
  }

  /** AES-GCM sealed form: "WFS1", version, 12-byte IV, ciphertext + tag of toBytes(); header as additional data. */
  async seal(key: TemplateKey): Promise<Uint8Array> {
    const subtle = webcrypto();
    const k = await importKey(key, 'encrypt');
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const header = sealedHeader();
    const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header as BufferSource }, k, this.toBytes() as BufferSource));
    const out = new Uint8Array(header.length + 12 + ct.length);
    out.set(header); out.set(iv, header.length); out.set(ct, header.length + 12);
    return out;
  }

  static async unseal(bytes: Uint8Array, key: TemplateKey, expectedModelId?: string): Promise<Template> {
    const header = sealedHeader();
    if (!isUint8Array(bytes) || bytes.length < header.length + 12 + 16) throw new TemplateError('E_TEMPLATE', 'not a sealed template: too short');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v.getUint32(0, true) !== SEALED_MAGIC) throw new TemplateError('E_TEMPLATE', 'not a sealed wasmface template');
    if (v.getUint16(4, true) !== TEMPLATE_VERSION) throw new TemplateError('E_TEMPLATE_VERSION', `sealed template version ${v.getUint16(4, true)} is not supported`);
    const k = await importKey(key, 'decrypt');
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(await webcrypto().decrypt({ name: 'AES-GCM', iv: bytes.subarray(header.length, header.length + 12) as BufferSource, additionalData: header as BufferSource }, k, bytes.subarray(header.length + 12) as BufferSource));
    } catch {
      throw new TemplateError('E_TEMPLATE_TAMPERED', 'sealed template failed authentication: wrong key, or the template was modified');
    }
    return Template.fromBytes(plain, expectedModelId);
  }
}

function sealedHeader(): Uint8Array {
  const h = new Uint8Array(8), v = new DataView(h.buffer);
  v.setUint32(0, SEALED_MAGIC, true);
  v.setUint16(4, TEMPLATE_VERSION, true);
  return h;
}

function webcrypto(): SubtleCrypto {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new TemplateError('E_NO_WEBCRYPTO', 'WebCrypto (crypto.subtle) is not available here: sealing needs a secure context (https) or Node 20+');
  return subtle;
}

async function importKey(key: TemplateKey, use: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (isUint8Array(key)) {
    if (key.length !== 16 && key.length !== 32) throw new TemplateError('E_TEMPLATE_KEY', 'template key must be 16 or 32 bytes (AES-128/256) or a CryptoKey');
    return webcrypto().importKey('raw', key as BufferSource, 'AES-GCM', false, [use]);
  }
  return key;
}
