// Face templates: the unit embedding of an enrolled person with the id of the model that made it,
// as a small versioned binary; optionally sealed with AES-GCM through WebCrypto under a key the
// device supplies, bound to the id it is stored under. A template is an identity claim, so it is
// checked where it is made: a finite, unit-length embedding and a model id that survives its own
// binary form. A template from another model (or format version), a corrupted one, or a sealed one
// that was tampered with, opened with the wrong key or presented under another owner's id is refused
// with TemplateError.

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
/** Sealed format 2 binds the model id (in the clear) and, optionally, the owner's id as AES-GCM additional data. */
export const SEALED_TEMPLATE_VERSION = 2;
const HEADER = 16;
const SEALED_HEADER = 12;
const OWNER_BOUND = 1;
export const MAX_EMBEDDING_DIM = 4096;
/** Longest model id, in UTF-8 bytes (what the binary form records). */
export const MAX_MODEL_ID_BYTES = 64;
/** Longest owner id a sealed template can be bound to, in UTF-8 bytes. */
export const MAX_OWNER_ID_BYTES = 256;
/**
 * How far an embedding's L2 norm may be from 1. Embeddings normalised in float32 land within ~1e-6;
 * anything further was not made by an engine (a forged or scaled template, whose "cosine" could
 * exceed 1 and match anyone).
 */
export const UNIT_NORM_TOLERANCE = 1e-4;

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

/** UTF-8 bytes of an id that must read back as the same string (no lone surrogates), within maxBytes. */
function idBytes(id: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof id !== 'string' || id.length === 0) throw new TemplateError('E_TEMPLATE', `${what} must be a non-empty string, got ${describe(id)}`);
  const bytes = utf8Encode(id);
  if (bytes.length > maxBytes) throw new TemplateError('E_TEMPLATE', `${what} is ${bytes.length} bytes of UTF-8, at most ${maxBytes} are allowed`);
  if (utf8Decode(bytes) !== id) throw new TemplateError('E_TEMPLATE', `${what} is not well-formed Unicode (a lone surrogate?)`);
  return bytes;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (v === null || typeof v !== 'object') return String(v);
  return Object.prototype.toString.call(v);
}

/**
 * Checks that `embedding` is a usable unit embedding (Float32Array or array of numbers, finite,
 * L2 norm within UNIT_NORM_TOLERANCE of 1, and `dim` long when given) and returns a private
 * float32 copy. Throws TemplateError E_TEMPLATE (shape) or E_TEMPLATE_CORRUPT (values).
 */
export function checkUnitEmbedding(embedding: unknown, what = 'embedding', dim?: number): Float32Array {
  const isF32 = Object.prototype.toString.call(embedding) === '[object Float32Array]';
  if (!isF32 && !Array.isArray(embedding)) throw new TemplateError('E_TEMPLATE', `${what} must be a Float32Array, got ${describe(embedding)}`);
  const src = embedding as ArrayLike<unknown>;
  if (src.length < 1 || src.length > MAX_EMBEDDING_DIM) throw new TemplateError('E_TEMPLATE', `${what} length ${src.length} out of range [1, ${MAX_EMBEDDING_DIM}]`);
  if (dim !== undefined && src.length !== dim) throw new TemplateError('E_TEMPLATE', `${what} has ${src.length} values, this model's embeddings have ${dim}: re-enrol with this engine`);
  const copy = new Float32Array(src.length);
  let sq = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TemplateError('E_TEMPLATE_CORRUPT', `${what} contains ${typeof v === 'number' ? v : typeof v} at ${i}: not a template made by an engine`);
    copy[i] = v;
    sq += copy[i] * copy[i];
  }
  const norm = Math.sqrt(sq);
  if (!(Math.abs(norm - 1) <= UNIT_NORM_TOLERANCE)) {
    throw new TemplateError('E_TEMPLATE_CORRUPT', `${what} has L2 norm ${norm.toPrecision(6)}, not 1: embeddings made by an engine are unit length, so this one was forged, scaled or corrupted`);
  }
  return copy;
}

export type TemplateKey = CryptoKey | Uint8Array;

export interface SealOptions {
  /**
   * The id the sealed template is stored under (user id, badge number). It becomes AES-GCM additional
   * data: the blob then opens only when presented under the same id, so Bob's blob stored under
   * Alice's record is refused. Strongly recommended; the id itself is not stored in the blob.
   */
  owner?: string;
}

export interface UnsealOptions {
  /** Refuse templates made by another model (E_TEMPLATE_MODEL). */
  modelId?: string;
  /** The id the blob was sealed for (required when it was sealed with an owner). */
  owner?: string;
  /**
   * Open a sealed template of format 1 (sealed before owner binding; not bound to any id). Default
   * false: such a blob can be swapped between records. Open it once with this flag and seal it again
   * with an owner.
   */
  allowUnbound?: boolean;
}

export class Template {
  readonly #embedding: Float32Array;

  /**
   * `embedding` must be a finite unit vector (as FaceEngine.enroll and sessions make them); it is
   * copied, so later changes to the caller's array change nothing. `images`: how many images were
   * fused into it (1..65535).
   */
  constructor(readonly modelId: string, embedding: Float32Array, readonly images = 1) {
    idBytes(modelId, 'template model id', MAX_MODEL_ID_BYTES);
    if (!Number.isInteger(images) || images < 1 || images > 65535) throw new TemplateError('E_TEMPLATE', `template image count must be an integer in [1, 65535], got ${describe(images)}`);
    this.#embedding = checkUnitEmbedding(embedding, 'template embedding');
  }

  /** The unit embedding (a copy: a template cannot be changed once made). */
  get embedding(): Float32Array { return this.#embedding.slice(); }

  /** Embedding length. */
  get dim(): number { return this.#embedding.length; }

  /** Plain binary form: header, model id, f32 embedding, CRC-32. */
  toBytes(): Uint8Array {
    const id = utf8Encode(this.modelId);
    const idPad = (id.length + 3) & ~3;
    const size = HEADER + idPad + this.#embedding.length * 4 + 4;
    const out = new Uint8Array(size), v = new DataView(out.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint16(4, TEMPLATE_VERSION, true);
    v.setUint16(6, 0, true);
    v.setUint16(8, this.#embedding.length, true);
    v.setUint16(10, this.images, true);
    v.setUint16(12, id.length, true);
    out.set(id, HEADER);
    new Float32Array(out.buffer, HEADER + idPad, this.#embedding.length).set(this.#embedding);
    v.setUint32(size - 4, crc32(out.subarray(0, size - 4)), true);
    return out;
  }

  /**
   * Parses a plain template; with expectedModelId, refuses templates made by another model. What it
   * accepts is exactly what toBytes writes: the result's toBytes() gives the same bytes back.
   */
  static fromBytes(bytes: Uint8Array, expectedModelId?: string): Template {
    if (!isUint8Array(bytes) || bytes.length < HEADER + 8) throw new TemplateError('E_TEMPLATE', 'not a template: too short');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = v.getUint32(0, true);
    if (magic === SEALED_MAGIC) throw new TemplateError('E_TEMPLATE_SEALED', 'this template is sealed: open it with Template.unseal(bytes, key, { owner })');
    if (magic !== MAGIC) throw new TemplateError('E_TEMPLATE', 'not a wasmface template (bad magic)');
    const version = v.getUint16(4, true);
    if (version !== TEMPLATE_VERSION) throw new TemplateError('E_TEMPLATE_VERSION', `template format version ${version} is not supported (this build reads ${TEMPLATE_VERSION})`);
    const dim = v.getUint16(8, true), images = v.getUint16(10, true), idLen = v.getUint16(12, true);
    const idPad = (idLen + 3) & ~3;
    const size = HEADER + idPad + dim * 4 + 4;
    if (dim < 1 || idLen < 1 || idLen > MAX_MODEL_ID_BYTES || bytes.length !== size) throw new TemplateError('E_TEMPLATE', 'template size does not match its header (truncated or extended)');
    if (crc32(bytes.subarray(0, size - 4)) !== v.getUint32(size - 4, true)) throw new TemplateError('E_TEMPLATE_CORRUPT', 'template checksum mismatch: the template is corrupted');
    // fields toBytes always writes as zero: anything else was not written by it
    if (v.getUint16(6, true) !== 0 || v.getUint16(14, true) !== 0 || bytes.subarray(HEADER + idLen, HEADER + idPad).some((b) => b !== 0)) {
      throw new TemplateError('E_TEMPLATE_CORRUPT', 'template has non-zero reserved bytes: it was not written by wasmface');
    }
    const modelId = utf8Decode(bytes.subarray(HEADER, HEADER + idLen));
    if (expectedModelId !== undefined && modelId !== expectedModelId) {
      throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${modelId}', this engine uses '${expectedModelId}': re-enrol the person`);
    }
    const emb = new Float32Array(dim);
    new Uint8Array(emb.buffer).set(bytes.subarray(HEADER + idPad, HEADER + idPad + dim * 4));
    const t = new Template(modelId, emb, images);
    if (!sameBytes(utf8Encode(t.modelId), bytes.subarray(HEADER, HEADER + idLen))) throw new TemplateError('E_TEMPLATE_CORRUPT', 'template model id is not valid UTF-8');
    return t;
  }

  /**
   * AES-GCM sealed form (format 2): "WFS1", version, flags, the model id in the clear, a 12-byte IV,
   * then ciphertext + tag of toBytes(). The header and, with `owner`, the owner's id are additional
   * data: changing either, or presenting the blob under another id, fails authentication.
   */
  async seal(key: TemplateKey, options: SealOptions = {}): Promise<Uint8Array> {
    const subtle = webcrypto();
    const owner = ownerBytes(options?.owner);
    const k = await importKey(key, 'encrypt');
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const header = sealedHeader(utf8Encode(this.modelId), owner ? OWNER_BOUND : 0);
    const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(header, owner) as BufferSource }, k, this.toBytes() as BufferSource));
    const out = new Uint8Array(header.length + 12 + ct.length);
    out.set(header); out.set(iv, header.length); out.set(ct, header.length + 12);
    return out;
  }

  /**
   * Opens a sealed template. `options` (or, as before, the expected model id as a string): the
   * owner id it was sealed for, and the model id the engine uses. Refused (TemplateError) when the
   * key, owner or model differ, when the blob was modified, or when it is an unbound format-1 blob
   * (unless allowUnbound).
   */
  static async unseal(bytes: Uint8Array, key: TemplateKey, options: string | UnsealOptions = {}): Promise<Template> {
    const o: UnsealOptions = typeof options === 'string' ? { modelId: options } : options ?? {};
    if (!isUint8Array(bytes) || bytes.length < 8 + 12 + 16) throw new TemplateError('E_TEMPLATE', 'not a sealed template: too short');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v.getUint32(0, true) === MAGIC) throw new TemplateError('E_TEMPLATE_UNSEALED', 'this template is not sealed: read it with Template.fromBytes (and seal templates kept in untrusted storage)');
    if (v.getUint32(0, true) !== SEALED_MAGIC) throw new TemplateError('E_TEMPLATE', 'not a sealed wasmface template');
    const version = v.getUint16(4, true);
    const owner = ownerBytes(o.owner);
    let header: Uint8Array, flags = 0;
    if (version === 1) {
      if (!o.allowUnbound || owner) {
        throw new TemplateError('E_TEMPLATE_UNBOUND', 'sealed template format 1 is not bound to its owner (it could be stored under anyone\'s id): open it once with { allowUnbound: true } and seal it again with seal(key, { owner })');
      }
      header = bytes.subarray(0, 8);
    } else if (version === SEALED_TEMPLATE_VERSION) {
      flags = v.getUint16(6, true);
      const idLen = v.getUint16(8, true), idPad = (idLen + 3) & ~3;
      if ((flags & ~OWNER_BOUND) !== 0 || v.getUint16(10, true) !== 0 || idLen < 1 || idLen > MAX_MODEL_ID_BYTES || bytes.length < SEALED_HEADER + idPad + 12 + 16) {
        throw new TemplateError('E_TEMPLATE', 'sealed template header is malformed');
      }
      header = bytes.subarray(0, SEALED_HEADER + idPad);
      const modelId = utf8Decode(header.subarray(SEALED_HEADER, SEALED_HEADER + idLen));
      if (o.modelId !== undefined && modelId !== o.modelId) {
        throw new TemplateError('E_TEMPLATE_MODEL', `template was made by model '${modelId}', this engine uses '${o.modelId}': re-enrol the person`);
      }
      if ((flags & OWNER_BOUND) && !owner) throw new TemplateError('E_TEMPLATE_OWNER', 'this sealed template is bound to the id it was enrolled under: pass { owner } to unseal it');
      if (!(flags & OWNER_BOUND) && owner) {
        throw new TemplateError('E_TEMPLATE_UNBOUND', 'this sealed template is not bound to an owner, so it cannot prove it belongs to this id: seal it again with seal(key, { owner })');
      }
    } else {
      throw new TemplateError('E_TEMPLATE_VERSION', `sealed template version ${version} is not supported (this build reads ${SEALED_TEMPLATE_VERSION})`);
    }
    const k = await importKey(key, 'decrypt');
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(await webcrypto().decrypt({ name: 'AES-GCM', iv: bytes.subarray(header.length, header.length + 12) as BufferSource, additionalData: additionalData(header, owner) as BufferSource }, k, bytes.subarray(header.length + 12) as BufferSource));
    } catch {
      throw new TemplateError('E_TEMPLATE_TAMPERED', `sealed template failed authentication: wrong key, ${flags & OWNER_BOUND ? 'presented under another owner\'s id, ' : ''}or the template was modified`);
    }
    const t = Template.fromBytes(plain, o.modelId);
    if (version !== 1 && !sameBytes(utf8Encode(t.modelId), header.subarray(SEALED_HEADER, SEALED_HEADER + v.getUint16(8, true)))) {
      throw new TemplateError('E_TEMPLATE_TAMPERED', 'sealed template: the model id inside does not match its header');
    }
    return t;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function ownerBytes(owner: unknown): Uint8Array | null {
  return owner === undefined ? null : idBytes(owner, 'template owner id', MAX_OWNER_ID_BYTES);
}

function sealedHeader(modelId: Uint8Array, flags: number): Uint8Array {
  const h = new Uint8Array(SEALED_HEADER + ((modelId.length + 3) & ~3)), v = new DataView(h.buffer);
  v.setUint32(0, SEALED_MAGIC, true);
  v.setUint16(4, SEALED_TEMPLATE_VERSION, true);
  v.setUint16(6, flags, true);
  v.setUint16(8, modelId.length, true);
  h.set(modelId, SEALED_HEADER);
  return h;
}

/** The header, then (owner-bound) a domain tag, the owner id's length and its UTF-8 bytes. */
function additionalData(header: Uint8Array, owner: Uint8Array | null): Uint8Array {
  if (!owner) return header;
  const tag = utf8Encode('owner');
  const out = new Uint8Array(header.length + tag.length + 2 + owner.length);
  out.set(header);
  out.set(tag, header.length);
  new DataView(out.buffer).setUint16(header.length + tag.length, owner.length, true);
  out.set(owner, header.length + tag.length + 2);
  return out;
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
  if (Object.prototype.toString.call(key) !== '[object CryptoKey]') throw new TemplateError('E_TEMPLATE_KEY', `template key must be 16 or 32 bytes or a CryptoKey, got ${describe(key)}`);
  return key;
}
