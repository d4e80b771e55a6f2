// Fleet deployment: gallery bundles and signed update bundles.
//
// An enrolment terminal (or the back-end) exports its people as a *gallery bundle* (.wfg): a small
// versioned binary with the templates, their ids, the embedder model id and optional per-entry
// metadata, closed by a SHA-256 of its content. A full bundle replaces a gallery; a delta bundle adds,
// replaces and removes ids relative to a base version (baseVersion -> version).
//
// The back-end ships models and galleries to recognition terminals inside *signed update bundles*
// (.wfb): a fixed header, a JSON manifest (kind, channel name, monotonically increasing version,
// creation time, the size and SHA-256 of every payload) and an ECDSA P-256 / SHA-256 signature over
// header + manifest, followed by the payloads. A device holds only the public key; it checks the
// signature before it parses anything but the fixed header, then the payload hashes, and refuses any
// version at or below the last one it accepted for that channel (BundleStateStore).
//
// Why ECDSA P-256 and not Ed25519: both give 64-byte signatures at a 128-bit security level, but
// Ed25519 only reached WebCrypto in Safari 17 (2023), Firefox 129 (August 2024) and Chrome 137 (May
// 2025), and was experimental in Node until 20.19.3 / 22.13; the older webviews a door phone or kiosk
// ships with do not have it. ECDSA P-256 has been in WebCrypto since Chrome 37 / Firefox 34, in
// Safari's unprefixed crypto.subtle since Safari 11, and in Node since 15 (README, "Deployment",
// gives the sources). Using WebCrypto rather than a JS or wasm signature library keeps the private
// key handling and the constant-time arithmetic in the platform's own crypto.
//
// Engine-neutral: WebCrypto through globalThis.crypto.subtle only, no Node APIs.

import { WasmfaceError, OptionError } from './errors.js';
import { describeValue } from './options.js';
import { Template, TemplateError } from './template.js';
import { utf8Decode, utf8Encode } from './utf8.js';
import { isUint8Array, isArrayBuffer } from './bytes.js';

// ---------------------------------------------------------------------------------------------
// errors, state

export type BundleErrorCode =
  | 'E_BUNDLE_FORMAT'     // malformed or truncated bundle, unknown format version
  | 'E_BUNDLE_UNSIGNED'   // a signed bundle was required and this one carries no signature
  | 'E_BUNDLE_SIGNATURE'  // the signature does not verify (modified header/manifest, or another key)
  | 'E_BUNDLE_TAMPERED'   // a payload (or a gallery bundle's content) does not match its SHA-256
  | 'E_BUNDLE_ROLLBACK'   // version <= the last version accepted for this name
  | 'E_BUNDLE_KIND'       // not the kind (or model, or channel) the caller expects, or inconsistent with its payload
  | 'E_BUNDLE_BASE'       // a delta whose base version is not the version the gallery holds
  | 'E_BUNDLE_KEY'        // a key that is not an ECDSA P-256 key of the right kind (public/private)
  | 'E_BUNDLE_CHANNEL'    // a bundle of another channel (gallery name) than the one the device / gallery is bound to
  | 'E_BUNDLE_STATE'      // the state store returned something untrustworthy, or failed to load or save
  | 'E_NO_WEBCRYPTO';     // no crypto.subtle in this engine

/** A bundle was refused; `code` says why (see BundleErrorCode). */
export class BundleError extends WasmfaceError {
  constructor(code: BundleErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Where a device remembers the last version it accepted per bundle name, so that an older (or the
 * same) bundle is refused. Persist it (secure storage) in production: a memory store forgets on
 * restart, which lets an attacker replay an older signed bundle after a power cycle.
 *
 * `load` returns null or undefined for a name never seen, else the integer version (>= 1) saved for
 * it; anything else (NaN, a string, an object, 0, a negative or fractional number) is refused with
 * E_BUNDLE_STATE, as is a load or save that throws: a store that cannot be trusted never disables the
 * roll-back check. Versions are only ever saved above the one loaded (never lower).
 */
export interface BundleStateStore {
  load(name: string): number | null | undefined | Promise<number | null | undefined>;
  save(name: string, version: number): void | Promise<void>;
}

export class MemoryBundleStateStore implements BundleStateStore {
  private readonly versions = new Map<string, number>();
  load(name: string): number | null { return this.versions.get(name) ?? null; }
  save(name: string, version: number): void { this.versions.set(name, version); }
}

/** The store used when none is passed: process memory (forgets on restart; see BundleStateStore). */
export const defaultBundleStateStore: BundleStateStore = new MemoryBundleStateStore();

function fail(code: BundleErrorCode, message: string): never {
  throw new BundleError(code, message);
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) fail('E_NO_WEBCRYPTO', 'WebCrypto (crypto.subtle) is not available here: bundles need a secure context (https) or Node 20+');
  return s!;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', bytes as BufferSource));
}

const hex = (b: Uint8Array): string => { let s = ''; for (const x of b) s += x.toString(16).padStart(2, '0'); return s; };

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function toBytes(x: Uint8Array | ArrayBuffer, what: string): Uint8Array {
  if (isUint8Array(x)) return x;
  if (isArrayBuffer(x)) return new Uint8Array(x);
  return fail('E_BUNDLE_FORMAT', `${what} must be a Uint8Array`);
}

const isSafeVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
// names and ids: no control characters (they end up in logs, file names and store keys)
const cleanText = (s: unknown, max: number): s is string => typeof s === 'string' && s.length >= 1 && s.length <= max && !/[\u0000-\u001f\u007f]/.test(s);

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A caller's option of the wrong type. */
function badOption(message: string): never {
  throw new OptionError(message);
}

function checkStore(store: unknown): BundleStateStore {
  const s = store as BundleStateStore | null;
  if (s === null || typeof s !== 'object' || typeof s.load !== 'function' || typeof s.save !== 'function') {
    fail('E_BUNDLE_STATE', `the bundle state store must be an object with load(name) and save(name, version), got ${describeValue(store)}`);
  }
  return s!;
}

/** The version a store holds for `key`: null (never seen) or a safe integer >= 1; anything else is E_BUNDLE_STATE. */
async function loadState(store: BundleStateStore, key: string): Promise<number | null> {
  let v: unknown;
  try { v = await store.load(key); } catch (e) {
    return fail('E_BUNDLE_STATE', `the bundle state store failed to load '${key}' (${messageOf(e)}): repair it; nothing was changed`);
  }
  if (v === null || v === undefined) return null;
  if (!isSafeVersion(v)) fail('E_BUNDLE_STATE', `the bundle state store returned ${describeValue(v)} for '${key}' (expected null or an integer >= 1): repair or reset it; nothing was changed`);
  return v as number;
}

async function saveState(store: BundleStateStore, key: string, version: number): Promise<void> {
  try { await store.save(key, version); } catch (e) {
    fail('E_BUNDLE_STATE', `the bundle state store failed to record '${key}' version ${version} (${messageOf(e)}): repair it and retry`);
  }
}

// One chain of promises per (owner, key): verifications and installs of the same name run one after
// the other, so two concurrent calls cannot both pass the roll-back check against the same old state.
const chains = new WeakMap<object, Map<string, Promise<void>>>();
const NAMES = {}; // owner of the per-name chains (shared by every store: a name is a name)

async function serial<T>(owner: object, key: string, fn: () => Promise<T>): Promise<T> {
  let m = chains.get(owner);
  if (!m) { m = new Map(); chains.set(owner, m); }
  const prev = m.get(key) ?? Promise.resolve();
  const run = prev.then(fn);
  const tail = run.then(() => undefined, () => undefined);
  m.set(key, tail);
  try { return await run; } finally { if (m.get(key) === tail) m.delete(key); }
}

function refuseRollback(name: string, version: number, last: number | null): void {
  if (last !== null && version <= last) {
    fail('E_BUNDLE_ROLLBACK', `'${name}' version ${version} is not newer than the accepted version ${last}: refusing a roll-back or replay`);
  }
}

/** Bounds-checked little-endian reader: every overrun is an E_BUNDLE_FORMAT, never a RangeError. */
class Reader {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, public at = 0, private readonly end = bytes.length) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): void {
    if (n < 0 || this.at + n > this.end) fail('E_BUNDLE_FORMAT', `bundle truncated or malformed: ${what} runs past the end`);
  }
  u16(what: string): number { this.need(2, what); const v = this.view.getUint16(this.at, true); this.at += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.view.getUint32(this.at, true); this.at += 4; return v; }
  u64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.at, true), hi = this.view.getUint32(this.at + 4, true);
    this.at += 8;
    if (hi > 0x1fffff) fail('E_BUNDLE_FORMAT', `${what} is not a safe integer`);
    return hi * 0x100000000 + lo;
  }
  bytesOf(n: number, what: string): Uint8Array { this.need(n, what); const b = this.bytes.subarray(this.at, this.at + n); this.at += n; return b; }
  text(n: number, what: string): string {
    const b = this.bytesOf(n, what);
    const s = utf8Decode(b);
    // refuse invalid UTF-8 (TextDecoder replaces it) so that ids round-trip byte for byte
    if (!equalBytes(utf8Encode(s), b)) fail('E_BUNDLE_FORMAT', `${what} is not valid UTF-8`);
    return s;
  }
  pad4(): void { const p = (4 - (this.at & 3)) & 3; this.need(p, 'padding'); this.at += p; }
}

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void { this.chunks.push(b); this.length += b.length; }
  u16(v: number): void { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v, true); this.bytes(b); }
  u32(v: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); this.bytes(b); }
  u64(v: number): void { const b = new Uint8Array(8), d = new DataView(b.buffer); d.setUint32(0, v % 0x100000000, true); d.setUint32(4, Math.floor(v / 0x100000000), true); this.bytes(b); }
  pad4(): void { const p = (4 - (this.length & 3)) & 3; if (p) this.bytes(new Uint8Array(p)); }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// gallery bundles (.wfg)

/**
 * Gallery bundle, format version 1 (all integers little-endian; u64 values are safe integers):
 *
 *   0  u32 magic "WFG1"            4  u16 format version (1)     6  u16 kind: 1 full, 2 delta
 *   8  u64 version                16  u64 base version (delta; 0 in a full bundle)
 *  24  u64 createdAt (ms since the Unix epoch)
 *  32  u32 entry count            36  u32 removal count
 *  40  u16 name length            42  u16 model id length       44  u32 total length (trailer included)
 *  48  name, model id (UTF-8), padded to 4
 *      entries:  u16 id length, u16 0, u32 meta length, u32 template length,
 *                id (UTF-8), meta (UTF-8 JSON object or empty), template (Template.toBytes()), padded to 4
 *      removals: u16 id length, u16 0, id (UTF-8), padded to 4
 *      trailer:  SHA-256 of every byte before it (32 bytes)
 *
 * The SHA-256 detects corruption; authenticity comes from shipping the bundle inside a signed update
 * bundle (signBundle with kind 'gallery' / 'gallery-delta').
 */
export const GALLERY_BUNDLE_VERSION = 1;
const GALLERY_MAGIC = 0x31474657; // "WFG1"
const GALLERY_HEADER = 48;
const MAX_ENTRIES = 1_000_000, MAX_ID = 256, MAX_META = 65536, MAX_TEMPLATE = 16 + 64 + 4096 * 4 + 4;

export type GalleryBundleKind = 'full' | 'delta';

export interface GalleryBundleEntry {
  id: string;
  template: Template;
  /** Optional JSON metadata per person (e.g. `{ enrolledAt: '2025-01-31T10:00:00Z', images: 3 }`). */
  meta?: Record<string, unknown>;
}

export interface GalleryBundle {
  kind: GalleryBundleKind;
  /** The gallery this bundle belongs to (a site, a door group); the version sequence is per name. */
  name: string;
  /** Embedder model id of every template (a gallery made by another model cannot be compared). */
  modelId: string;
  version: number;
  /** Delta: the version the changes apply to. Full: null. */
  baseVersion: number | null;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** Full: every member. Delta: the members added or replaced. */
  entries: GalleryBundleEntry[];
  /** Delta: ids to remove. Full: empty. */
  removed: string[];
}

export type GalleryBundleInput = Omit<GalleryBundle, 'createdAt' | 'baseVersion' | 'removed'> & { createdAt?: number | Date; baseVersion?: number | null; removed?: string[] };

/**
 * What applyGalleryBundle needs of a gallery: FaceEngine's Gallery, or any store of templates (the
 * CLI's JSON file). `entries()` is the snapshot a failed apply restores (in order); `add` may refuse
 * a template by throwing (the apply is then undone).
 */
export interface GalleryLike {
  readonly modelId: string;
  add(id: string, template: Template): void;
  remove(id: string): boolean;
  get(id: string): Template | null;
  clear(): void;
  entries(): { id: string; template: Template }[];
  readonly size?: number;
  readonly members?: readonly string[];
}

/** Serialises a gallery bundle (checks it first: ids, model ids, versions). */
export async function encodeGalleryBundle(input: GalleryBundleInput): Promise<Uint8Array> {
  const kind = input.kind;
  if (kind !== 'full' && kind !== 'delta') fail('E_BUNDLE_KIND', `gallery bundle kind must be 'full' or 'delta', got ${String(kind)}`);
  if (!cleanText(input.name, 128)) fail('E_BUNDLE_FORMAT', 'gallery bundle name must be 1..128 characters without control characters');
  if (!cleanText(input.modelId, 64)) fail('E_BUNDLE_FORMAT', 'gallery bundle model id must be 1..64 characters');
  if (!isSafeVersion(input.version)) fail('E_BUNDLE_FORMAT', `gallery bundle version must be an integer >= 1, got ${String(input.version)}`);
  const base = kind === 'delta' ? input.baseVersion : 0;
  if (kind === 'delta' && !(isSafeVersion(base) && base < input.version)) fail('E_BUNDLE_FORMAT', `a delta needs a base version in [1, version), got ${String(base)}`);
  if (kind === 'full' && input.baseVersion != null) fail('E_BUNDLE_FORMAT', 'a full gallery bundle has no base version');
  const removed = input.removed ?? [];
  if (kind === 'full' && removed.length) fail('E_BUNDLE_FORMAT', 'a full gallery bundle removes nothing (it replaces the gallery)');
  const createdAt = input.createdAt instanceof Date ? input.createdAt.getTime() : input.createdAt ?? Date.now();
  if (!(Number.isSafeInteger(createdAt) && createdAt >= 0)) fail('E_BUNDLE_FORMAT', 'createdAt must be a time in ms since the epoch');
  if (input.entries.length > MAX_ENTRIES || removed.length > MAX_ENTRIES) fail('E_BUNDLE_FORMAT', `at most ${MAX_ENTRIES} entries per bundle`);

  const seen = new Set<string>();
  const checkId = (id: string) => {
    if (!cleanText(id, MAX_ID) || utf8Encode(id).length > MAX_ID) fail('E_BUNDLE_FORMAT', `id ${JSON.stringify(id)} must be 1..${MAX_ID} bytes without control characters`);
    if (seen.has(id)) fail('E_BUNDLE_FORMAT', `id '${id}' appears twice in the bundle`);
    seen.add(id);
  };
  const w = new Writer();
  const name = utf8Encode(input.name), model = utf8Encode(input.modelId);
  const body = new Writer();
  body.bytes(name); body.bytes(model); body.pad4();
  let dim = 0;
  for (const e of input.entries) {
    checkId(e.id);
    if (!(e.template instanceof Template)) fail('E_BUNDLE_FORMAT', `entry '${e.id}': template must be a Template`);
    if (e.template.modelId !== input.modelId) {
      throw new TemplateError('E_TEMPLATE_MODEL', `template for '${e.id}' was made by model '${e.template.modelId}', the bundle holds '${input.modelId}' templates: re-enrol`);
    }
    dim ||= e.template.embedding.length;
    if (e.template.embedding.length !== dim) fail('E_BUNDLE_FORMAT', `entry '${e.id}': embedding length ${e.template.embedding.length} differs from ${dim}`);
    const id = utf8Encode(e.id);
    let meta: Uint8Array = new Uint8Array(0);
    if (e.meta !== undefined) {
      if (e.meta === null || typeof e.meta !== 'object' || Array.isArray(e.meta)) fail('E_BUNDLE_FORMAT', `entry '${e.id}': meta must be a JSON object`);
      meta = utf8Encode(JSON.stringify(e.meta));
      if (meta.length > MAX_META) fail('E_BUNDLE_FORMAT', `entry '${e.id}': meta is larger than ${MAX_META} bytes`);
    }
    const t = e.template.toBytes();
    body.u16(id.length); body.u16(0); body.u32(meta.length); body.u32(t.length);
    body.bytes(id); body.bytes(meta); body.bytes(t); body.pad4();
  }
  for (const r of removed) {
    checkId(r);
    const id = utf8Encode(r);
    body.u16(id.length); body.u16(0); body.bytes(id); body.pad4();
  }
  const total = GALLERY_HEADER + body.length + 32;
  w.u32(GALLERY_MAGIC); w.u16(GALLERY_BUNDLE_VERSION); w.u16(kind === 'full' ? 1 : 2);
  w.u64(input.version); w.u64(base!); w.u64(createdAt);
  w.u32(input.entries.length); w.u32(removed.length);
  w.u16(name.length); w.u16(model.length); w.u32(total);
  w.bytes(body.concat());
  const content = w.concat();
  const out = new Uint8Array(total);
  out.set(content);
  out.set(await sha256(content), content.length);
  return out;
}

/** True when the bytes start like a gallery bundle (no validation). */
export function isGalleryBundle(bytes: Uint8Array): boolean {
  return isUint8Array(bytes) && bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === GALLERY_MAGIC;
}

/**
 * Parses and checks a gallery bundle: size, SHA-256 (E_BUNDLE_TAMPERED when it does not match), then
 * every record (E_BUNDLE_FORMAT). Templates are checked (CRC, model id, length) but not compared to
 * any gallery yet: applyGalleryBundle does that.
 */
export async function parseGalleryBundle(input: Uint8Array | ArrayBuffer): Promise<GalleryBundle> {
  const bytes = toBytes(input, 'gallery bundle');
  if (bytes.length < GALLERY_HEADER + 32) fail('E_BUNDLE_FORMAT', `not a gallery bundle: ${bytes.length} bytes is too short`);
  const r = new Reader(bytes);
  if (r.u32('magic') !== GALLERY_MAGIC) fail('E_BUNDLE_FORMAT', 'not a wasmface gallery bundle (bad magic)');
  const format = r.u16('format version');
  if (format !== GALLERY_BUNDLE_VERSION) fail('E_BUNDLE_FORMAT', `gallery bundle format version ${format} is not supported (this build reads ${GALLERY_BUNDLE_VERSION})`);
  const kindCode = r.u16('kind');
  const version = r.u64('version'), baseVersion = r.u64('base version'), createdAt = r.u64('createdAt');
  const entryCount = r.u32('entry count'), removalCount = r.u32('removal count');
  const nameLen = r.u16('name length'), modelLen = r.u16('model id length'), total = r.u32('total length');
  if (total !== bytes.length) fail('E_BUNDLE_FORMAT', `gallery bundle is ${bytes.length} bytes, its header says ${total} (truncated or extended)`);
  if (!equalBytes(await sha256(bytes.subarray(0, total - 32)), bytes.subarray(total - 32))) {
    fail('E_BUNDLE_TAMPERED', 'gallery bundle SHA-256 mismatch: the file is corrupted or was modified');
  }
  // the content hash matches; the records are still checked one by one (a hash is not a signature)
  const end = total - 32;
  const body = new Reader(bytes, GALLERY_HEADER, end);
  if (kindCode !== 1 && kindCode !== 2) fail('E_BUNDLE_FORMAT', `unknown gallery bundle kind ${kindCode}`);
  const kind: GalleryBundleKind = kindCode === 1 ? 'full' : 'delta';
  if (!isSafeVersion(version)) fail('E_BUNDLE_FORMAT', 'gallery bundle version must be >= 1');
  if (kind === 'full' ? baseVersion !== 0 : !(baseVersion >= 1 && baseVersion < version)) fail('E_BUNDLE_FORMAT', `invalid base version ${baseVersion} for a ${kind} bundle of version ${version}`);
  if (kind === 'full' && removalCount) fail('E_BUNDLE_FORMAT', 'a full gallery bundle cannot remove ids');
  if (entryCount > MAX_ENTRIES || removalCount > MAX_ENTRIES) fail('E_BUNDLE_FORMAT', 'too many entries');
  const name = body.text(nameLen, 'name'), modelId = body.text(modelLen, 'model id');
  body.pad4();
  if (!cleanText(name, 128) || !cleanText(modelId, 64)) fail('E_BUNDLE_FORMAT', 'invalid gallery name or model id');
  const seen = new Set<string>();
  const readId = (len: number, i: number) => {
    if (len < 1 || len > MAX_ID) fail('E_BUNDLE_FORMAT', `record ${i}: id length ${len} out of range`);
    const id = body.text(len, `record ${i} id`);
    if (!cleanText(id, MAX_ID)) fail('E_BUNDLE_FORMAT', `record ${i}: id has control characters`);
    if (seen.has(id)) fail('E_BUNDLE_FORMAT', `id '${id}' appears twice in the bundle`);
    seen.add(id);
    return id;
  };
  const entries: GalleryBundleEntry[] = [];
  let dim = 0;
  for (let i = 0; i < entryCount; i++) {
    const idLen = body.u16('entry id length');
    if (body.u16('entry reserved') !== 0) fail('E_BUNDLE_FORMAT', `entry ${i}: reserved field is not zero`);
    const metaLen = body.u32('entry meta length'), tLen = body.u32('entry template length');
    if (metaLen > MAX_META || tLen > MAX_TEMPLATE) fail('E_BUNDLE_FORMAT', `entry ${i}: meta or template too large`);
    const id = readId(idLen, i);
    let meta: Record<string, unknown> | undefined;
    if (metaLen) {
      const text = body.text(metaLen, `entry '${id}' meta`);
      try { meta = JSON.parse(text); } catch { fail('E_BUNDLE_FORMAT', `entry '${id}': meta is not JSON`); }
      if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) fail('E_BUNDLE_FORMAT', `entry '${id}': meta is not a JSON object`);
    }
    const tBytes = body.bytesOf(tLen, `entry '${id}' template`);
    let template: Template;
    try {
      template = Template.fromBytes(tBytes);
    } catch (e) {
      if (e instanceof TemplateError) fail('E_BUNDLE_FORMAT', `entry '${id}': ${e.message}`);
      throw e;
    }
    if (template!.modelId !== modelId) fail('E_BUNDLE_FORMAT', `entry '${id}' holds a template of model '${template!.modelId}' in a bundle of '${modelId}' templates`);
    dim ||= template!.embedding.length;
    if (template!.embedding.length !== dim) fail('E_BUNDLE_FORMAT', `entry '${id}': embedding length differs from the others`);
    body.pad4();
    entries.push(meta ? { id, template: template!, meta } : { id, template: template! });
  }
  const removed: string[] = [];
  for (let i = 0; i < removalCount; i++) {
    const idLen = body.u16('removal id length');
    if (body.u16('removal reserved') !== 0) fail('E_BUNDLE_FORMAT', `removal ${i}: reserved field is not zero`);
    removed.push(readId(idLen, entryCount + i));
    body.pad4();
  }
  if (body.at !== end) fail('E_BUNDLE_FORMAT', `${end - body.at} unexpected bytes after the last record`);
  return { kind, name, modelId, version, baseVersion: kind === 'delta' ? baseVersion : null, createdAt, entries, removed };
}

/**
 * Exports a live gallery (FaceEngine's `gallery.entries()`) as a full gallery bundle. `meta` adds
 * per-person metadata (an object by id, or a function).
 */
export async function exportGalleryBundle(
  gallery: { readonly modelId: string; entries(): { id: string; template: Template }[] },
  options: { name: string; version: number; createdAt?: number | Date; meta?: Record<string, Record<string, unknown>> | ((id: string) => Record<string, unknown> | undefined) },
): Promise<Uint8Array> {
  const metaOf = typeof options.meta === 'function' ? options.meta : (id: string) => (options.meta as Record<string, Record<string, unknown>> | undefined)?.[id];
  return encodeGalleryBundle({
    kind: 'full', name: options.name, modelId: gallery.modelId, version: options.version, createdAt: options.createdAt,
    entries: gallery.entries().map(({ id, template }) => { const meta = metaOf(id); return meta ? { id, template, meta } : { id, template }; }),
  });
}

/**
 * The delta that turns `base` into `next` (both full bundles, or parsed ones, of the same gallery and
 * model): members that are new or whose template or metadata changed, and ids that are gone.
 */
export function diffGalleryBundles(base: GalleryBundle, next: GalleryBundle): GalleryBundleInput {
  if (base.kind !== 'full' || next.kind !== 'full') fail('E_BUNDLE_KIND', 'a delta is computed between two full gallery bundles');
  if (base.name !== next.name) fail('E_BUNDLE_KIND', `base is gallery '${base.name}', next is '${next.name}'`);
  if (base.modelId !== next.modelId) throw new TemplateError('E_TEMPLATE_MODEL', `base holds '${base.modelId}' templates, next '${next.modelId}': a new model needs a full bundle (re-enrol)`);
  if (!(next.version > base.version)) fail('E_BUNDLE_ROLLBACK', `next version ${next.version} must be greater than the base version ${base.version}`);
  const old = new Map(base.entries.map((e) => [e.id, e]));
  const changed = next.entries.filter((e) => {
    const o = old.get(e.id);
    return !o || !equalBytes(o.template.toBytes(), e.template.toBytes()) || JSON.stringify(o.meta ?? null) !== JSON.stringify(e.meta ?? null);
  });
  const keep = new Set(next.entries.map((e) => e.id));
  return {
    kind: 'delta', name: next.name, modelId: next.modelId, version: next.version, baseVersion: base.version, createdAt: next.createdAt,
    entries: changed, removed: base.entries.filter((e) => !keep.has(e.id)).map((e) => e.id),
  };
}

export interface GalleryApplyResult {
  name: string;
  version: number;
  added: number;
  replaced: number;
  removed: number;
}

export interface GalleryApplyOptions {
  /**
   * The channel (gallery name, e.g. "site-a/people") this device accepts: a bundle of any other name
   * is refused with E_BUNDLE_CHANNEL before anything changes. Pass it in production (from the app's
   * configuration): without it the first bundle applied to a gallery object binds that gallery to its
   * name for the life of the object, and later bundles of other names are refused all the same.
   */
  channel?: string;
}

/** Store key under which applyGalleryBundle records the version a gallery holds. */
export const galleryStateKey = (name: string): string => `gallery:${name}`;

const galleryVersions = new WeakMap<object, BundleStateStore>();
const galleryChannels = new WeakMap<object, string>();

/** The channel a gallery object is bound to (its first applied bundle's name), or null. */
export function galleryChannel(gallery: GalleryLike): string | null {
  return galleryChannels.get(gallery) ?? null;
}

function checkGalleryLike(g: unknown): GalleryLike {
  const x = g as GalleryLike | null;
  if (x === null || typeof x !== 'object' || typeof x.modelId !== 'string'
    || !['add', 'remove', 'get', 'clear', 'entries'].every((f) => typeof (x as unknown as Record<string, unknown>)[f] === 'function')) {
    badOption(`the gallery must be a GalleryLike (modelId, add, remove, get, clear, entries), got ${describeValue(g)}`);
  }
  return x!;
}

function checkChannelOption(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (!cleanText(v, 128)) badOption(`${what} must be a channel name of 1..128 characters without control characters, got ${describeValue(v)}`);
  return v as string;
}

/** A GalleryBundle given as an object (not bytes) is checked like a parsed one: nothing is trusted. */
function checkGalleryBundleObject(b: GalleryBundle): GalleryBundle {
  const bad = (what: string): never => fail('E_BUNDLE_FORMAT', `gallery bundle object: ${what}`);
  if (b === null || typeof b !== 'object') bad('not an object');
  if (b.kind !== 'full' && b.kind !== 'delta') bad(`kind must be 'full' or 'delta', got ${describeValue(b.kind)}`);
  if (!cleanText(b.name, 128)) bad('invalid name');
  if (!cleanText(b.modelId, 64)) bad('invalid model id');
  if (!isSafeVersion(b.version)) bad(`version must be an integer >= 1, got ${describeValue(b.version)}`);
  if (b.kind === 'delta' ? !(isSafeVersion(b.baseVersion) && b.baseVersion < b.version) : b.baseVersion !== null && b.baseVersion !== undefined) bad('invalid base version');
  if (!Array.isArray(b.entries) || !Array.isArray(b.removed)) bad('entries and removed must be arrays');
  if (b.kind === 'full' && b.removed.length) bad('a full gallery bundle removes nothing');
  const seen = new Set<string>();
  const id = (v: unknown) => {
    if (!cleanText(v, MAX_ID) || utf8Encode(v as string).length > MAX_ID) bad(`id ${describeValue(v)} must be 1..${MAX_ID} bytes without control characters`);
    if (seen.has(v as string)) bad(`id '${v as string}' appears twice`);
    seen.add(v as string);
  };
  let dim = 0;
  for (const e of b.entries) {
    if (e === null || typeof e !== 'object') bad('an entry is not an object');
    id(e.id);
    if (!(e.template instanceof Template)) bad(`entry '${e.id}': template must be a Template`);
    dim ||= e.template.embedding.length;
    if (e.template.embedding.length !== dim) bad(`entry '${e.id}': embedding length differs from the others`);
  }
  for (const r of b.removed) id(r);
  return b;
}

function sameMembers(a: { id: string }[], ids: Set<string>): boolean {
  return a.length === ids.size && a.every((e) => ids.has(e.id));
}

/**
 * Applies a gallery bundle to a gallery (FaceEngine's Gallery or any GalleryLike), all or nothing.
 *
 * - Channel: refused (E_BUNDLE_CHANNEL) when the bundle's name is not `options.channel`, or not the
 *   name the gallery object is bound to (the first bundle applied to it binds it).
 * - Templates from another embedder are refused with TemplateError E_TEMPLATE_MODEL (re-enrol),
 *   before anything changes; they are never compared.
 * - Full bundle: replaces the whole gallery; refused (E_BUNDLE_ROLLBACK) when its version is not
 *   above the version the gallery holds.
 * - Delta: applies only to the gallery at exactly `baseVersion` (E_BUNDLE_BASE otherwise: apply the
 *   missing deltas or a full bundle); removals first, then additions and replacements.
 * - Atomic: everything is checked first, the gallery is snapshotted (entries()), and if any change
 *   is refused (the gallery's add throws) or the version cannot be saved, the snapshot is restored
 *   exactly and the error rethrown. The version is saved only after the gallery was changed.
 * - Calls on the same gallery, and on the same name, run one after the other.
 *
 * The version the gallery holds is kept in `store` under `gallery:<name>` (default: remembered per
 * gallery object in memory). A store returning anything but null or an integer >= 1 is E_BUNDLE_STATE.
 */
export async function applyGalleryBundle(gallery: GalleryLike, bundle: GalleryBundle | Uint8Array | ArrayBuffer, store?: BundleStateStore,
                                         options: GalleryApplyOptions = {}): Promise<GalleryApplyResult> {
  checkGalleryLike(gallery);
  if (options === null || typeof options !== 'object') badOption(`applyGalleryBundle options must be an object, got ${describeValue(options)}`);
  const channel = checkChannelOption(options.channel, 'options.channel');
  if (store !== undefined) checkStore(store);
  const b = isUint8Array(bundle) || isArrayBuffer(bundle) ? await parseGalleryBundle(bundle) : checkGalleryBundleObject(bundle);
  return applyChecked(gallery, b, store, channel);
}

async function applyChecked(gallery: GalleryLike, b: GalleryBundle, store: BundleStateStore | undefined, channel: string | undefined): Promise<GalleryApplyResult> {
  return serial(gallery, '', () => serial(NAMES, galleryStateKey(b.name), async () => {
    const bound = galleryChannels.get(gallery);
    if (channel !== undefined && bound !== undefined && channel !== bound) {
      fail('E_BUNDLE_CHANNEL', `this gallery holds channel '${bound}', the device was told to accept '${channel}': use a new gallery to change channel`);
    }
    const want = channel ?? bound;
    if (want !== undefined && b.name !== want) {
      fail('E_BUNDLE_CHANNEL', `gallery bundle '${b.name}' v${b.version} is for another channel: this gallery accepts '${want}' only`);
    }
    if (b.modelId !== gallery.modelId) {
      throw new TemplateError('E_TEMPLATE_MODEL', `gallery bundle '${b.name}' v${b.version} holds templates of model '${b.modelId}', this gallery holds '${gallery.modelId}' templates: re-enrol the people with the current model`);
    }
    for (const e of b.entries) {
      if (e.template.modelId !== gallery.modelId) throw new TemplateError('E_TEMPLATE_MODEL', `template for '${e.id}' was made by model '${e.template.modelId}', the gallery holds '${gallery.modelId}' templates: re-enrol`);
    }
    let st = store ?? galleryVersions.get(gallery);
    if (!st) { st = new MemoryBundleStateStore(); galleryVersions.set(gallery, st); }
    const key = galleryStateKey(b.name);
    const current = await loadState(st, key);
    if (current !== null && b.version <= current) {
      fail('E_BUNDLE_ROLLBACK', `gallery '${b.name}' is at version ${current}; refusing bundle version ${b.version} (roll-back or replay)`);
    }
    if (b.kind === 'delta' && current !== b.baseVersion) {
      fail('E_BUNDLE_BASE', `delta ${b.baseVersion} -> ${b.version} for gallery '${b.name}' needs the gallery at version ${b.baseVersion}, it is at ${current ?? 'no version (apply a full bundle first)'}`);
    }
    const snapshot = gallery.entries();
    if (!Array.isArray(snapshot)) badOption('gallery.entries() must return an array');
    const restore = (cause: unknown): never => {
      try {
        gallery.clear();
        for (const e of snapshot) gallery.add(e.id, e.template);
      } catch (e) {
        return fail('E_BUNDLE_STATE', `applying gallery bundle '${b.name}' v${b.version} failed (${messageOf(cause)}) and the gallery could not be restored (${messageOf(e)}): reload the gallery from its source`);
      }
      if (!sameMembers(gallery.entries(), new Set(snapshot.map((e) => e.id)))) {
        fail('E_BUNDLE_STATE', `applying gallery bundle '${b.name}' v${b.version} failed (${messageOf(cause)}) and the gallery did not restore to its previous members: reload it from its source`);
      }
      throw cause;
    };
    let added = 0, replaced = 0, removed = 0;
    try {
      if (b.kind === 'full') {
        gallery.clear();
        for (const e of b.entries) { gallery.add(e.id, e.template); added++; }
      } else {
        for (const id of b.removed) if (gallery.remove(id)) removed++;
        for (const e of b.entries) {
          if (gallery.get(e.id)) replaced++; else added++;
          gallery.add(e.id, e.template);
        }
      }
    } catch (e) {
      restore(e);
    }
    try {
      await saveState(st, key, b.version);
    } catch (e) {
      restore(e);
    }
    galleryChannels.set(gallery, b.name);
    return { name: b.name, version: b.version, added, replaced, removed };
  }));
}

// ---------------------------------------------------------------------------------------------
// keys

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface BundleKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Private key as JWK (keep secret: back-end only). */
  privateJwk: JsonWebKey;
  /** Private key as PKCS#8 DER, and PEM ("PRIVATE KEY"). */
  privatePkcs8: Uint8Array;
  privatePem: string;
  /** Public key as SPKI DER, PEM ("PUBLIC KEY"), JWK and raw uncompressed point (65 bytes): give one to the devices. */
  publicSpki: Uint8Array;
  publicPem: string;
  publicJwk: JsonWebKey;
  publicRaw: Uint8Array;
  /** First 8 bytes of the SHA-256 of the SPKI, hex: written into bundles so devices can tell keys apart. */
  keyId: string;
}

/** A new ECDSA P-256 key pair for signing bundles, exported in every form the API and CLI read. */
export async function generateBundleKeys(): Promise<BundleKeyPair> {
  const s = subtle();
  const pair = await s.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
  const privatePkcs8 = new Uint8Array(await s.exportKey('pkcs8', pair.privateKey));
  const publicSpki = new Uint8Array(await s.exportKey('spki', pair.publicKey));
  return {
    privateKey: pair.privateKey, publicKey: pair.publicKey,
    privateJwk: await s.exportKey('jwk', pair.privateKey), privatePkcs8, privatePem: toPem(privatePkcs8, 'PRIVATE KEY'),
    publicSpki, publicPem: toPem(publicSpki, 'PUBLIC KEY'), publicJwk: await s.exportKey('jwk', pair.publicKey),
    publicRaw: new Uint8Array(await s.exportKey('raw', pair.publicKey)), keyId: hex((await sha256(publicSpki)).subarray(0, 8)),
  };
}

/** A public key as a CryptoKey, a JWK, SPKI DER or a raw 65-byte point, or text: PEM or JWK JSON. */
export type BundlePublicKeyInput = CryptoKey | JsonWebKey | Uint8Array | ArrayBuffer | string;
/** A private key as a CryptoKey, a JWK, PKCS#8 DER, or text: PEM ("PRIVATE KEY") or JWK JSON. */
export type BundlePrivateKeyInput = CryptoKey | JsonWebKey | Uint8Array | ArrayBuffer | string;

const isCryptoKey = (k: unknown): k is CryptoKey => (typeof CryptoKey !== 'undefined' && k instanceof CryptoKey) || Object.prototype.toString.call(k) === '[object CryptoKey]';

function checkEcKey(k: CryptoKey, type: 'public' | 'private'): CryptoKey {
  const alg = k.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') fail('E_BUNDLE_KEY', `bundle keys are ECDSA P-256, got ${alg.name}${alg.namedCurve ? ' ' + alg.namedCurve : ''}`);
  if (k.type !== type) fail('E_BUNDLE_KEY', type === 'public' ? 'expected the public key (devices never hold the private key)' : 'expected the private key');
  return k;
}

function keyText(text: string): { der?: Uint8Array; label?: string; jwk?: JsonWebKey } {
  const t = text.trim();
  if (t.startsWith('{')) {
    try { return { jwk: JSON.parse(t) as JsonWebKey }; } catch { return fail('E_BUNDLE_KEY', 'key text is neither PEM nor JWK JSON'); }
  }
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(t);
  if (!m) fail('E_BUNDLE_KEY', 'key text is neither PEM nor JWK JSON');
  return { label: m![1], der: fromBase64(m![2].replace(/\s+/g, '')) };
}

async function wrapImport<T>(what: string, f: () => Promise<T>): Promise<T> {
  try { return await f(); } catch (e) {
    if (e instanceof WasmfaceError) throw e;
    return fail('E_BUNDLE_KEY', `${what} is not a valid ECDSA P-256 key (${(e as Error).message})`);
  }
}

/** Imports the device's trusted public key (SPKI DER or PEM, raw point, JWK or JWK JSON). */
export async function importBundlePublicKey(key: BundlePublicKeyInput): Promise<CryptoKey> {
  if (isCryptoKey(key)) return checkEcKey(key, 'public');
  const s = subtle();
  if (typeof key === 'string') {
    const k = keyText(key);
    if (k.jwk) return importBundlePublicKey(k.jwk);
    if (k.label !== 'PUBLIC KEY') fail('E_BUNDLE_KEY', `expected a "PUBLIC KEY" PEM (SPKI), got "${k.label}"${/PRIVATE/.test(k.label!) ? ': devices hold the public key only' : ''}`);
    key = k.der!;
  }
  if (isUint8Array(key) || isArrayBuffer(key)) {
    const b = toBytes(key, 'public key');
    const raw = b.length === 65 && b[0] === 4;
    return wrapImport('public key', () => s.importKey(raw ? 'raw' : 'spki', b as BufferSource, EC, true, ['verify']));
  }
  const jwk = key as JsonWebKey;
  if (jwk.d !== undefined) fail('E_BUNDLE_KEY', 'this JWK is a private key: give devices the public key only (drop "d")');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('E_BUNDLE_KEY', `bundle keys are EC P-256 JWKs, got kty ${String(jwk.kty)} crv ${String(jwk.crv)}`);
  return wrapImport('public key', () => s.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, EC, true, ['verify']));
}

/** Imports the back-end's signing key (PKCS#8 DER or PEM, JWK or JWK JSON). */
export async function importBundlePrivateKey(key: BundlePrivateKeyInput, extractable = true): Promise<CryptoKey> {
  if (isCryptoKey(key)) return checkEcKey(key, 'private');
  const s = subtle();
  if (typeof key === 'string') {
    const k = keyText(key);
    if (k.jwk) return importBundlePrivateKey(k.jwk, extractable);
    if (k.label === 'EC PRIVATE KEY') fail('E_BUNDLE_KEY', 'SEC1 "EC PRIVATE KEY" PEM: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in key.pem)');
    if (k.label !== 'PRIVATE KEY') fail('E_BUNDLE_KEY', `expected a "PRIVATE KEY" PEM (PKCS#8), got "${k.label}"`);
    key = k.der!;
  }
  if (isUint8Array(key) || isArrayBuffer(key)) {
    const b = toBytes(key, 'private key');
    return wrapImport('private key', () => s.importKey('pkcs8', b as BufferSource, EC, extractable, ['sign']));
  }
  const jwk = key as JsonWebKey;
  if (jwk.d === undefined) fail('E_BUNDLE_KEY', 'this JWK has no "d": it is a public key, signing needs the private key');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('E_BUNDLE_KEY', `bundle keys are EC P-256 JWKs, got kty ${String(jwk.kty)} crv ${String(jwk.crv)}`);
  return wrapImport('private key', () => s.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, EC, extractable, ['sign']));
}

/** Key id (16 hex digits) of a public key; of a private key when it is extractable (else null). */
export async function bundleKeyId(key: BundlePublicKeyInput): Promise<string | null> {
  const s = subtle();
  let pub: CryptoKey;
  if (isCryptoKey(key) && key.type === 'private') {
    if (!key.extractable) return null;
    const jwk = await s.exportKey('jwk', key);
    pub = await importBundlePublicKey({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  } else {
    pub = await importBundlePublicKey(key);
  }
  if (!pub.extractable) return null;
  return hex((await sha256(new Uint8Array(await s.exportKey('spki', pub)))).subarray(0, 8));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return s;
}
function fromBase64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) fail('E_BUNDLE_KEY', 'PEM body is not valid base64');
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array((clean.length * 3) >> 2);
  let bits = 0, acc = 0, at = 0;
  for (const c of clean) {
    acc = (acc << 6) | B64.indexOf(c); bits += 6;
    if (bits >= 8) { bits -= 8; out[at++] = (acc >> bits) & 255; }
  }
  return out;
}
/** PEM text of DER bytes (label e.g. "PUBLIC KEY"). */
export function toPem(der: Uint8Array, label: string): string {
  return `-----BEGIN ${label}-----\n${toBase64(der).replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

// ---------------------------------------------------------------------------------------------
// models in bundles

export type ModelRole = 'detector' | 'embedder' | 'antispoof';

export interface BundleModelInfo {
  /** Model id from the file's metadata. */
  id: string;
  /** Model.pin: SHA-256 of the 128-byte header (which embeds the SHA-256 of the rest); what FaceEngine's pinnedModels compares. */
  pin: string;
  role: ModelRole;
}

const WFM_MAGIC = 0x314d4657, WFM_HEADER = 128, WFM_META_OFF = 72, WFM_META_SIZE = 76, WFM_FILE_SIZE = 8;

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') fail('E_BUNDLE_FORMAT', 'gzip-compressed model: this engine has no DecompressionStream; describe the model from its uncompressed .wfm');
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    return fail('E_BUNDLE_FORMAT', `gzip-compressed model could not be decompressed: ${(e as Error).message}`);
  }
}

/**
 * Model id, pin and role of a .wfm file (or gzip'd .wfm) for a model bundle's manifest. It reads the
 * header and metadata only; the full validation happens when the device loads the model
 * (FaceEngine.create, which also checks the pin).
 */
export async function describeModel(input: Uint8Array | ArrayBuffer, role?: ModelRole): Promise<BundleModelInfo> {
  let bytes = toBytes(input, 'model');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await gunzip(bytes);
  if (bytes.length < WFM_HEADER) fail('E_BUNDLE_FORMAT', 'not a wasmface model: too short');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== WFM_MAGIC) fail('E_BUNDLE_FORMAT', 'not a wasmface model (.wfm) file');
  if (v.getUint32(WFM_FILE_SIZE, true) !== bytes.length) fail('E_BUNDLE_FORMAT', 'model file size does not match its header (truncated?)');
  const off = v.getUint32(WFM_META_OFF, true), size = v.getUint32(WFM_META_SIZE, true);
  if (off < WFM_HEADER || off + size > bytes.length) fail('E_BUNDLE_FORMAT', 'model metadata lies outside the file');
  let meta: { id?: unknown; patchScale?: unknown; outputs?: { name?: unknown }[] };
  try { meta = JSON.parse(utf8Decode(bytes.subarray(off, off + size))); } catch { return fail('E_BUNDLE_FORMAT', 'model metadata is not JSON'); }
  if (!cleanText(meta?.id, 64)) fail('E_BUNDLE_FORMAT', 'model metadata has no id');
  const id = meta.id as string;
  const outputs = Array.isArray(meta.outputs) ? meta.outputs.map((o) => String(o?.name)) : [];
  const inferred: ModelRole | null = outputs.includes('cls_8') || id.startsWith('yunet') ? 'detector'
    : meta.patchScale !== undefined || id.startsWith('minifasnet') ? 'antispoof'
      : outputs.includes('descriptor') || id.startsWith('faceapi') ? 'embedder' : null;
  const r = role ?? inferred;
  if (!r) fail('E_BUNDLE_KIND', `cannot tell whether model '${id}' is a detector, embedder or anti-spoofing model: state its role`);
  return { id, pin: hex(await sha256(bytes.subarray(0, WFM_HEADER))), role: r! };
}

// ---------------------------------------------------------------------------------------------
// signed update bundles (.wfb)

export type BundleKind = 'model' | 'gallery' | 'gallery-delta';

export interface BundlePayloadInfo {
  /** File name (informational; e.g. "faceapi-recognition.wfm"). */
  name: string;
  size: number;
  /** SHA-256 of the payload bytes, hex. */
  sha256: string;
  /** Model bundles: what the payload is. */
  model?: BundleModelInfo;
}

export interface BundleManifest {
  format: 'wasmface-bundle';
  kind: BundleKind;
  /** Channel: versions increase per name (e.g. "models/stable", "site-12/people"). */
  name: string;
  /** Integer >= 1, strictly increasing per name; a device refuses anything <= what it accepted last. */
  version: number;
  /** ISO 8601 time of signing. */
  createdAt: string;
  payloads: BundlePayloadInfo[];
  /** Gallery kinds: the embedder model id of the templates. */
  embedder?: string;
  /** gallery-delta: the gallery version the delta applies to. */
  baseVersion?: number;
  note?: string;
}

export interface BundleManifestInput {
  kind: BundleKind;
  name: string;
  version: number;
  createdAt?: string | Date | number;
  note?: string;
}

export interface BundlePayloadInput {
  name?: string;
  bytes: Uint8Array;
  /** Model bundles: id, pin and role; read from the file when omitted (describeModel). */
  model?: Partial<BundleModelInfo>;
}

/**
 * Update bundle, container version 1 (integers little-endian):
 *
 *   0  u32 magic "WFB1"          4  u16 container version (1)
 *   6  u16 algorithm: 0 unsigned, 1 ECDSA P-256 with SHA-256 (IEEE P1363 r||s signature)
 *   8  u32 manifest length M    12  u32 signature length S (64 signed, 0 unsigned)
 *  16  8 bytes signer key id (SHA-256 of the signer's SPKI, first 8 bytes; zero when unknown)
 *  24  u32 payload count       28  u32 reserved (0)
 *  32  manifest: UTF-8 JSON (BundleManifest), M bytes
 *  32+M  signature over bytes [0, 32+M): the header and the manifest
 *  32+M+S  payloads, back to back, in manifest order (sizes and SHA-256s in the manifest)
 */
export const BUNDLE_CONTAINER_VERSION = 1;
const BUNDLE_MAGIC = 0x31424657; // "WFB1"
const BUNDLE_HEADER = 32;
const ALG_NONE = 0, ALG_ECDSA_P256_SHA256 = 1, SIG_BYTES = 64;
const MAX_MANIFEST = 1 << 20, MAX_PAYLOADS = 64, MAX_PAYLOAD = 512 * 1024 * 1024;
const KINDS: readonly BundleKind[] = ['model', 'gallery', 'gallery-delta'];
const ROLES: readonly ModelRole[] = ['detector', 'embedder', 'antispoof'];

async function buildManifest(manifest: BundleManifestInput, payloads: (BundlePayloadInput | Uint8Array)[]): Promise<{ json: BundleManifest; data: Uint8Array[] }> {
  const kind = manifest.kind;
  if (!KINDS.includes(kind)) fail('E_BUNDLE_KIND', `bundle kind must be one of ${KINDS.join(', ')}, got ${String(kind)}`);
  if (!cleanText(manifest.name, 128)) fail('E_BUNDLE_FORMAT', 'bundle name must be 1..128 characters without control characters');
  if (!isSafeVersion(manifest.version)) fail('E_BUNDLE_FORMAT', `bundle version must be an integer >= 1, got ${String(manifest.version)}`);
  const created = manifest.createdAt === undefined ? new Date() : new Date(manifest.createdAt);
  if (!Number.isFinite(created.getTime())) fail('E_BUNDLE_FORMAT', 'createdAt is not a valid time');
  const list = payloads.map((p) => (isUint8Array(p) ? { bytes: p } : p) as BundlePayloadInput);
  if (!list.length || list.length > MAX_PAYLOADS) fail('E_BUNDLE_FORMAT', `a bundle carries 1..${MAX_PAYLOADS} payloads`);
  const json: BundleManifest = { format: 'wasmface-bundle', kind, name: manifest.name, version: manifest.version, createdAt: created.toISOString(), payloads: [] };
  if (kind === 'model') {
    const ids = new Set<string>();
    for (const p of list) {
      const info = p.model?.id && p.model.pin && p.model.role ? p.model as BundleModelInfo : await describeModel(p.bytes, p.model?.role);
      if (ids.has(info.id)) fail('E_BUNDLE_FORMAT', `model '${info.id}' appears twice`);
      ids.add(info.id);
      json.payloads.push({ name: p.name ?? `${info.id}.wfm`, size: p.bytes.length, sha256: hex(await sha256(p.bytes)), model: { id: info.id, pin: info.pin, role: info.role } });
    }
  } else {
    if (list.length !== 1) fail('E_BUNDLE_KIND', `a ${kind} bundle carries exactly one gallery bundle`);
    const g = await parseGalleryBundle(list[0].bytes);
    if ((g.kind === 'full') !== (kind === 'gallery')) fail('E_BUNDLE_KIND', `a '${kind}' bundle needs a ${kind === 'gallery' ? 'full' : 'delta'} gallery bundle, got a ${g.kind} one`);
    if (g.name !== manifest.name || g.version !== manifest.version) {
      fail('E_BUNDLE_KIND', `the gallery bundle is '${g.name}' v${g.version}; sign it as name '${g.name}', version ${g.version} (a gallery's channel is the gallery)`);
    }
    json.embedder = g.modelId;
    if (g.kind === 'delta') json.baseVersion = g.baseVersion!;
    json.payloads.push({ name: list[0].name ?? `${g.name.replace(/[^\w.-]+/g, '_')}-v${g.version}.wfg`, size: list[0].bytes.length, sha256: hex(await sha256(list[0].bytes)) });
  }
  if (manifest.note !== undefined) json.note = String(manifest.note);
  for (const p of json.payloads) if (!cleanText(p.name, 256)) fail('E_BUNDLE_FORMAT', `payload name ${JSON.stringify(p.name)} must be 1..256 characters`);
  return { json, data: list.map((p) => p.bytes) };
}

function container(alg: number, keyId: Uint8Array, manifest: Uint8Array, signature: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(BUNDLE_HEADER + manifest.length + signature.length), v = new DataView(out.buffer);
  v.setUint32(0, BUNDLE_MAGIC, true); v.setUint16(4, BUNDLE_CONTAINER_VERSION, true); v.setUint16(6, alg, true);
  v.setUint32(8, manifest.length, true); v.setUint32(12, alg === ALG_NONE ? 0 : SIG_BYTES, true);
  out.set(keyId, 16); v.setUint32(24, count, true); v.setUint32(28, 0, true);
  out.set(manifest, BUNDLE_HEADER);
  out.set(signature, BUNDLE_HEADER + manifest.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function keyIdBytes(id: string | null): Uint8Array {
  const b = new Uint8Array(8);
  if (id) for (let i = 0; i < 8; i++) b[i] = parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/**
 * Signs payloads into an update bundle with ECDSA P-256 / SHA-256. Model bundles: each payload is a
 * .wfm (or .wfm.gz); its id, pin and role go into the manifest. Gallery bundles: one gallery bundle
 * (full for 'gallery', delta for 'gallery-delta') whose name and version are the manifest's.
 * `options.publicKey` names the signer in the header when the private key is not extractable.
 */
export async function signBundle(privateKey: BundlePrivateKeyInput, manifest: BundleManifestInput, payloads: (BundlePayloadInput | Uint8Array)[],
                                 options: { publicKey?: BundlePublicKeyInput } = {}): Promise<Uint8Array> {
  const key = await importBundlePrivateKey(privateKey);
  const { json, data } = await buildManifest(manifest, payloads);
  const keyId = options.publicKey !== undefined ? await bundleKeyId(options.publicKey) : await bundleKeyId(key);
  const m = utf8Encode(JSON.stringify(json));
  if (m.length > MAX_MANIFEST) fail('E_BUNDLE_FORMAT', 'manifest larger than 1 MiB');
  const signed = container(ALG_ECDSA_P256_SHA256, keyIdBytes(keyId), m, new Uint8Array(0), data.length);
  const sig = new Uint8Array(await subtle().sign(SIGN, key, signed as BufferSource));
  if (sig.length !== SIG_BYTES) fail('E_BUNDLE_KEY', `unexpected ECDSA signature length ${sig.length}`);
  return concat([signed, sig, ...data]);
}

/** The same container without a signature: for tests and tooling only; verifyBundle refuses it (E_BUNDLE_UNSIGNED). */
export async function packUnsignedBundle(manifest: BundleManifestInput, payloads: (BundlePayloadInput | Uint8Array)[]): Promise<Uint8Array> {
  const { json, data } = await buildManifest(manifest, payloads);
  return concat([container(ALG_NONE, new Uint8Array(8), utf8Encode(JSON.stringify(json)), new Uint8Array(0), data.length), ...data]);
}

interface FixedHeader { alg: number; manifestLen: number; sigLen: number; keyId: string; count: number }

/** The fixed header: the only part read before the signature is checked. */
function readHeader(bytes: Uint8Array): FixedHeader {
  if (bytes.length < BUNDLE_HEADER) fail('E_BUNDLE_FORMAT', `not an update bundle: ${bytes.length} bytes is too short`);
  const r = new Reader(bytes);
  if (r.u32('magic') !== BUNDLE_MAGIC) fail('E_BUNDLE_FORMAT', isGalleryBundle(bytes) ? 'this is a gallery bundle (.wfg), not a signed update bundle: sign it first (signBundle)' : 'not a wasmface update bundle (bad magic)');
  const version = r.u16('container version');
  if (version !== BUNDLE_CONTAINER_VERSION) fail('E_BUNDLE_FORMAT', `update bundle container version ${version} is not supported (this build reads ${BUNDLE_CONTAINER_VERSION})`);
  const alg = r.u16('algorithm'), manifestLen = r.u32('manifest length'), sigLen = r.u32('signature length');
  const keyId = hex(r.bytesOf(8, 'key id')), count = r.u32('payload count');
  if (r.u32('reserved') !== 0) fail('E_BUNDLE_FORMAT', 'reserved header field is not zero');
  if (alg !== ALG_NONE && alg !== ALG_ECDSA_P256_SHA256) fail('E_BUNDLE_FORMAT', `unknown signature algorithm ${alg}`);
  if (sigLen !== (alg === ALG_NONE ? 0 : SIG_BYTES)) fail('E_BUNDLE_FORMAT', `signature length ${sigLen} does not fit algorithm ${alg}`);
  if (manifestLen < 2 || manifestLen > MAX_MANIFEST) fail('E_BUNDLE_FORMAT', `manifest length ${manifestLen} out of range`);
  if (count < 1 || count > MAX_PAYLOADS) fail('E_BUNDLE_FORMAT', `payload count ${count} out of range`);
  if (bytes.length < BUNDLE_HEADER + manifestLen + sigLen) fail('E_BUNDLE_FORMAT', 'update bundle truncated inside its manifest or signature');
  return { alg, manifestLen, sigLen, keyId, count };
}

/** Checks a manifest's shape (after the signature, or for display). */
function parseManifest(bytes: Uint8Array, count: number): BundleManifest {
  let m: BundleManifest;
  try { m = JSON.parse(new Reader(bytes).text(bytes.length, 'manifest')); } catch (e) {
    if (e instanceof BundleError) throw e;
    return fail('E_BUNDLE_FORMAT', 'manifest is not JSON');
  }
  const bad = (what: string): never => fail('E_BUNDLE_FORMAT', `manifest: ${what}`);
  if (m === null || typeof m !== 'object' || Array.isArray(m)) bad('not an object');
  if (m.format !== 'wasmface-bundle') bad('format is not "wasmface-bundle"');
  if (!KINDS.includes(m.kind)) bad(`unknown kind ${JSON.stringify(m.kind)}`);
  if (!cleanText(m.name, 128)) bad('invalid name');
  if (!isSafeVersion(m.version)) bad('version is not an integer >= 1');
  if (typeof m.createdAt !== 'string' || !Number.isFinite(Date.parse(m.createdAt))) bad('invalid createdAt');
  if (!Array.isArray(m.payloads) || m.payloads.length !== count) bad(`payloads do not match the header's count ${count}`);
  for (const p of m.payloads) {
    if (p === null || typeof p !== 'object') bad('payload entry is not an object');
    if (!cleanText(p.name, 256)) bad('invalid payload name');
    if (!(Number.isSafeInteger(p.size) && p.size >= 0 && p.size <= MAX_PAYLOAD)) bad(`payload '${p.name}': invalid size`);
    if (typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)) bad(`payload '${p.name}': invalid sha256`);
    if (p.model !== undefined) {
      const md = p.model;
      if (md === null || typeof md !== 'object' || !cleanText(md.id, 64) || typeof md.pin !== 'string' || !/^[0-9a-f]{64}$/.test(md.pin) || !ROLES.includes(md.role)) bad(`payload '${p.name}': invalid model description`);
    }
  }
  if (m.kind === 'model') {
    if (!m.payloads.every((p) => p.model)) bad('every payload of a model bundle describes its model');
    if (new Set(m.payloads.map((p) => p.model!.id)).size !== m.payloads.length) bad('a model appears twice');
  } else {
    if (m.payloads.length !== 1 || m.payloads[0].model) bad(`a ${m.kind} bundle carries one gallery bundle`);
    if (!cleanText(m.embedder, 64)) bad('gallery bundle without embedder model id');
    if (m.kind === 'gallery-delta' ? !(isSafeVersion(m.baseVersion) && m.baseVersion < m.version) : m.baseVersion !== undefined) bad('invalid baseVersion');
  }
  if (m.note !== undefined && typeof m.note !== 'string') bad('note is not a string');
  return m;
}

export interface VerifyBundleOptions {
  /** Accept only these kinds (E_BUNDLE_KIND otherwise). */
  kind?: BundleKind | BundleKind[];
  /**
   * Accept only this channel (the manifest's name, e.g. "site-a/people" or "models/stable");
   * E_BUNDLE_CHANNEL otherwise. Devices should always pass it.
   */
  channel?: string;
  /** Older spelling of `channel` (both given: they must agree). */
  name?: string;
  /** Gallery kinds: accept only galleries of this embedder model id (E_BUNDLE_KIND otherwise). */
  embedder?: string;
  /**
   * Record the version in the store as soon as the bundle verifies (default true). Pass false when
   * the payload still has to be installed, and call `commit()` once it is: a bundle that fails to
   * install can then be retried.
   */
  commit?: boolean;
}

export interface VerifiedBundle {
  manifest: BundleManifest;
  /** Payload bytes in manifest order, each matching its SHA-256 (views into the bundle). */
  payloads: Uint8Array[];
  /** Key id of the key that verified the signature. */
  keyId: string;
  /**
   * Records manifest.version as accepted for manifest.name (idempotent). Checks the store again
   * first: if a version at or above this one was recorded meanwhile, E_BUNDLE_ROLLBACK (never lowers it).
   */
  commit(): Promise<void>;
}

interface CheckedOptions { kinds: BundleKind[] | null; channel: string | undefined; embedder: string | undefined; commit: boolean }

function checkVerifyOptions(options: unknown): CheckedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) badOption(`verifyBundle options must be an object, got ${describeValue(options)}`);
  const o = options as VerifyBundleOptions;
  const kinds = o.kind === undefined ? null : Array.isArray(o.kind) ? o.kind : [o.kind];
  if (kinds && (!kinds.length || !kinds.every((k) => KINDS.includes(k)))) badOption(`options.kind must be ${KINDS.join(', ')} or a list of them, got ${describeValue(o.kind)}`);
  const channel = checkChannelOption(o.channel, 'options.channel'), name = checkChannelOption(o.name, 'options.name');
  if (channel !== undefined && name !== undefined && channel !== name) badOption(`options.channel '${channel}' and options.name '${name}' disagree: pass one`);
  if (o.embedder !== undefined && !cleanText(o.embedder, 64)) badOption(`options.embedder must be a model id, got ${describeValue(o.embedder)}`);
  if (o.commit !== undefined && typeof o.commit !== 'boolean') badOption(`options.commit must be a boolean, got ${describeValue(o.commit)}`);
  return { kinds, channel: channel ?? name, embedder: o.embedder, commit: o.commit !== false };
}

/** Signature, manifest, the caller's expectations and the payload hashes: everything but the state. */
async function verifySigned(publicKey: BundlePublicKeyInput | BundlePublicKeyInput[], input: Uint8Array | ArrayBuffer, o: CheckedOptions): Promise<Omit<VerifiedBundle, 'commit'>> {
  const bytes = toBytes(input, 'update bundle');
  const h = readHeader(bytes);
  if (h.alg === ALG_NONE) fail('E_BUNDLE_UNSIGNED', 'this update bundle is not signed: devices accept only bundles signed with the fleet key');
  const keys = await Promise.all((Array.isArray(publicKey) ? publicKey : [publicKey]).map(async (k) => {
    const key = await importBundlePublicKey(k);
    return { key, id: key.extractable ? await bundleKeyId(key) : null };
  }));
  if (!keys.length) fail('E_BUNDLE_KEY', 'no trusted public key given');
  const unknownSigner = /^0+$/.test(h.keyId);
  const candidates = unknownSigner ? keys : keys.filter((k) => k.id === null || k.id === h.keyId);
  if (!candidates.length) {
    fail('E_BUNDLE_SIGNATURE', `bundle signed by key ${h.keyId}, this device trusts ${keys.map((k) => k.id).join(', ')}: refusing it`);
  }
  const signedEnd = BUNDLE_HEADER + h.manifestLen;
  const signed = bytes.subarray(0, signedEnd), sig = bytes.subarray(signedEnd, signedEnd + h.sigLen);
  let verifiedBy: string | null = null;
  for (const k of candidates) {
    let ok = false;
    try { ok = await subtle().verify(SIGN, k.key, sig as BufferSource, signed as BufferSource); } catch { ok = false; }
    if (ok) { verifiedBy = k.id ?? h.keyId; break; }
  }
  if (verifiedBy === null) fail('E_BUNDLE_SIGNATURE', 'bundle signature does not verify: the header or manifest was modified, or it was signed with another key');

  // signed content from here on
  const manifest = parseManifest(bytes.subarray(BUNDLE_HEADER, signedEnd), h.count);
  if (o.kinds && !o.kinds.includes(manifest.kind)) fail('E_BUNDLE_KIND', `expected a ${o.kinds.join(' or ')} bundle, got '${manifest.kind}'`);
  if (o.channel !== undefined && manifest.name !== o.channel) fail('E_BUNDLE_CHANNEL', `bundle is for channel '${manifest.name}', this device accepts '${o.channel}' only: refusing it`);
  if (o.embedder !== undefined && manifest.kind !== 'model' && manifest.embedder !== o.embedder) {
    fail('E_BUNDLE_KIND', `gallery bundle holds templates of model '${manifest.embedder}', this device uses '${o.embedder}': re-enrol with the current model`);
  }
  let at = signedEnd + h.sigLen;
  const total = manifest.payloads.reduce((n, p) => n + p.size, 0);
  if (bytes.length - at !== total) fail('E_BUNDLE_FORMAT', `payload area is ${bytes.length - at} bytes, the manifest lists ${total} (truncated or extended)`);
  const payloads: Uint8Array[] = [];
  for (const p of manifest.payloads) {
    const data = bytes.subarray(at, at + p.size);
    at += p.size;
    if (hex(await sha256(data)) !== p.sha256) fail('E_BUNDLE_TAMPERED', `payload '${p.name}' does not match its SHA-256 in the signed manifest: it was modified`);
    payloads.push(data);
  }
  return { manifest, payloads, keyId: verifiedBy! };
}

/**
 * Verifies an update bundle on a device: fixed header, then the ECDSA signature over header +
 * manifest with the trusted public key(s) (nothing else is parsed before), then the manifest, the
 * caller's expectations (kind, channel, embedder), the payload SHA-256s and the roll-back rule
 * (version must exceed the last accepted for the name). Throws BundleError: E_BUNDLE_FORMAT,
 * E_BUNDLE_UNSIGNED, E_BUNDLE_SIGNATURE, E_BUNDLE_KIND, E_BUNDLE_CHANNEL, E_BUNDLE_TAMPERED,
 * E_BUNDLE_ROLLBACK, E_BUNDLE_STATE (the store returned something that is not a version, or failed).
 *
 * Verifications of the same name run one after the other (the roll-back check and the save are one
 * step), so concurrent calls cannot both pass against the same old version. Several public keys may
 * be trusted at once (key rotation); the header's key id picks the one to try.
 */
export async function verifyBundle(publicKey: BundlePublicKeyInput | BundlePublicKeyInput[], input: Uint8Array | ArrayBuffer,
                                   store: BundleStateStore = defaultBundleStateStore, options: VerifyBundleOptions = {}): Promise<VerifiedBundle> {
  checkStore(store);
  const o = checkVerifyOptions(options);
  const v = await verifySigned(publicKey, input, o);
  const { name, version } = v.manifest;
  let committed = false;
  await serial(NAMES, name, async () => {
    refuseRollback(name, version, await loadState(store, name));
    if (o.commit) { await saveState(store, name, version); committed = true; }
  });
  const commit = () => serial(NAMES, name, async () => {
    if (committed) return;
    refuseRollback(name, version, await loadState(store, name)); // another version may have been recorded meanwhile
    await saveState(store, name, version);
    committed = true;
  });
  return { ...v, commit };
}

export interface BundleInspection {
  type: 'update' | 'gallery';
  /** Update bundles: whether it carries a signature (not whether it verifies: use verifyBundle). */
  signed?: boolean;
  keyId?: string;
  /** Update bundles: the manifest as found, NOT verified. */
  manifest?: BundleManifest;
  /** Update bundles: per payload, whether its bytes match the manifest's SHA-256. */
  payloadsIntact?: boolean[];
  /** Gallery bundles: the parsed bundle (content hash checked). */
  gallery?: GalleryBundle;
}

/** Describes a bundle without a key (for tooling; nothing here is verified against a signature). */
export async function inspectBundle(input: Uint8Array | ArrayBuffer): Promise<BundleInspection> {
  const bytes = toBytes(input, 'bundle');
  if (isGalleryBundle(bytes)) return { type: 'gallery', gallery: await parseGalleryBundle(bytes) };
  const h = readHeader(bytes);
  const end = BUNDLE_HEADER + h.manifestLen;
  const manifest = parseManifest(bytes.subarray(BUNDLE_HEADER, end), h.count);
  let at = end + h.sigLen;
  const payloadsIntact: boolean[] = [];
  for (const p of manifest.payloads) {
    payloadsIntact.push(at + p.size <= bytes.length && hex(await sha256(bytes.subarray(at, at + p.size))) === p.sha256);
    at += p.size;
  }
  return { type: 'update', signed: h.alg !== ALG_NONE, keyId: h.keyId, manifest, payloadsIntact };
}

// ---------------------------------------------------------------------------------------------
// installing verified bundles

/**
 * Model pins of a verified model bundle, for FaceEngine.create's `pinnedModels`:
 * `pinnedModels: { ...PINNED_MODELS, ...pinsFromBundle(verified.manifest) }` accepts the shipped
 * models and the bundle's (only those: the engine still checks every model against its pin).
 */
export function pinsFromBundle(manifest: BundleManifest): Record<string, string> {
  if (manifest.kind !== 'model') fail('E_BUNDLE_KIND', `pins come from model bundles, this is a '${manifest.kind}' bundle`);
  return Object.fromEntries(manifest.payloads.map((p) => [p.model!.id, p.model!.pin]));
}

/**
 * The model bytes of a verified model bundle by role, with their pins: pass `models` (merged with the
 * models you keep for roles the bundle does not carry) and `pinnedModels` to FaceEngine.create.
 */
export function modelsFromBundle(verified: Pick<VerifiedBundle, 'manifest' | 'payloads'>): {
  detector?: Uint8Array; embedder?: Uint8Array; antispoof: Uint8Array[]; pinnedModels: Record<string, string>;
} {
  const pinnedModels = pinsFromBundle(verified.manifest);
  const out: { detector?: Uint8Array; embedder?: Uint8Array; antispoof: Uint8Array[]; pinnedModels: Record<string, string> } = { antispoof: [], pinnedModels };
  verified.manifest.payloads.forEach((p, i) => {
    const role = p.model!.role, bytes = verified.payloads[i];
    if (role === 'antispoof') out.antispoof.push(bytes);
    else if (out[role]) fail('E_BUNDLE_KIND', `model bundle carries two ${role}s`);
    else out[role] = bytes;
  });
  return out;
}

/**
 * The gallery bundle inside a verified 'gallery' / 'gallery-delta' update bundle, checked against
 * its manifest (kind, name, version, embedder, base version; E_BUNDLE_KIND when they disagree).
 */
export async function galleryFromBundle(verified: Pick<VerifiedBundle, 'manifest' | 'payloads'>): Promise<GalleryBundle> {
  const m = verified.manifest;
  if (m.kind === 'model') fail('E_BUNDLE_KIND', 'this is a model bundle, not a gallery');
  const g = await parseGalleryBundle(verified.payloads[0]);
  const consistent = (g.kind === 'full') === (m.kind === 'gallery') && g.name === m.name && g.version === m.version && g.modelId === m.embedder
    && (g.kind === 'full' || g.baseVersion === m.baseVersion);
  if (!consistent) fail('E_BUNDLE_KIND', `the gallery bundle ('${g.name}' ${g.kind} v${g.version}, ${g.modelId}) does not match its manifest ('${m.name}' ${m.kind} v${m.version}, ${m.embedder})`);
  return g;
}

/**
 * Device side, in one call: verify a signed gallery update bundle, apply it to the gallery (all or
 * nothing: see applyGalleryBundle), and only then record its version (so a delta that cannot apply
 * yet can be retried after the full bundle). `options.channel` binds the device to one gallery name
 * (E_BUNDLE_CHANNEL for any other); without it the gallery object binds to the first name applied.
 * Calls for the same name run one after the other.
 * Errors: BundleError as verifyBundle and applyGalleryBundle; TemplateError E_TEMPLATE_MODEL for a
 * gallery of another model. If the gallery was installed and only the final record of the channel
 * version fails, the gallery stays installed (its own `gallery:<name>` version was saved) and the
 * call throws E_BUNDLE_STATE.
 */
export async function applySignedGalleryBundle(gallery: GalleryLike, publicKey: BundlePublicKeyInput | BundlePublicKeyInput[], bytes: Uint8Array | ArrayBuffer,
                                               store: BundleStateStore = defaultBundleStateStore, options: Omit<VerifyBundleOptions, 'commit' | 'kind'> = {}): Promise<GalleryApplyResult & { manifest: BundleManifest }> {
  checkGalleryLike(gallery);
  checkStore(store);
  const o = checkVerifyOptions({ ...options, kind: ['gallery', 'gallery-delta'], commit: false });
  const v = await verifySigned(publicKey, bytes, o);
  const g = await galleryFromBundle(v);
  const { name, version } = v.manifest;
  return serial(NAMES, name, async () => {
    refuseRollback(name, version, await loadState(store, name));
    const result = await applyChecked(gallery, g, store, o.channel);
    await saveState(store, name, version);
    return { ...result, manifest: v.manifest };
  });
}
