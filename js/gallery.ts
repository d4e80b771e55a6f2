// Gallery: the templates of enrolled people in wasm memory, for 1:N identification. Rows live in
// fixed-size chunks, so a gallery grows without copying and its memory is what its rows take
// (100k 128-d templates: 51 MB, not the 128 MB a doubled, copied array left behind); the first
// chunk starts at 16 rows and doubles, so a small gallery (a phone's one owner) takes kilobytes. Removal zeroes
// what the template held. Every change is checked before anything is touched: a refused add leaves
// the gallery as it was.

import type { WasmExports } from './wasm-abi.js';
import { OutOfMemoryError, check, DisposedError, OptionError } from './errors.js';
import { Template, TemplateError, checkUnitEmbedding } from './template.js';
import { utf8Encode } from './utf8.js';
import { describeValue } from './options.js';
import { WasmBuffer } from './wasm-buffer.js';

export interface IdentifyMatch { id: string; score: number }

/** Longest member id, in UTF-8 bytes (gallery bundles use the same limit). */
export const MAX_MEMBER_ID_BYTES = 256;
/** Rows per chunk of gallery memory. */
const CHUNK_ROWS = 1024;
/** Rows the first chunk starts with; it doubles (copied) until it reaches CHUNK_ROWS. */
const FIRST_CHUNK_ROWS = 16;

/** A member id: 1..256 bytes of UTF-8 without control characters. Throws OptionError otherwise. */
export function checkMemberId(id: unknown): string {
  if (typeof id !== 'string' || !id || /[\u0000-\u001f\u007f]/.test(id) || utf8Encode(id).length > MAX_MEMBER_ID_BYTES) {
    throw new OptionError(`a gallery member id must be a string of 1..${MAX_MEMBER_ID_BYTES} UTF-8 bytes without control characters, got ${describeValue(id)}`);
  }
  return id;
}

export class Gallery {
  private ids: string[] = [];
  private index = new Map<string, number>();
  private chunks: number[] = [];
  /** Rows chunk 0 holds: below CHUNK_ROWS only while it is the only chunk. */
  private firstRows = 0;
  private disposed = false;
  private readonly scores: WasmBuffer;
  private readonly top: WasmBuffer;
  private readonly query: WasmBuffer;

  /** Made by FaceEngine.createGallery(); `owner` identifies the engine whose memory holds the rows. */
  constructor(readonly owner: object, private readonly wasm: WasmExports, readonly modelId: string, readonly dim: number,
              private readonly assertEngineLive: () => void) {
    this.scores = new WasmBuffer(wasm);
    this.top = new WasmBuffer(wasm);
    this.query = new WasmBuffer(wasm);
  }

  private live(): void {
    this.assertEngineLive();
    if (this.disposed) throw new DisposedError('this gallery');
  }

  get size(): number { return this.ids.length; }
  /** Member ids in gallery order (a copy: changing the gallery while iterating it is safe). */
  get members(): readonly string[] { return Object.freeze(this.ids.slice()); }

  private capacity(): number {
    return this.chunks.length ? this.firstRows + (this.chunks.length - 1) * CHUNK_ROWS : 0;
  }

  /** One more chunk, or a doubled first chunk (rows copied, the old one zeroed by free). */
  private grow(): void {
    const small = this.chunks.length === 0 || this.firstRows < CHUNK_ROWS;
    const rows = !this.chunks.length ? FIRST_CHUNK_ROWS : small ? Math.min(CHUNK_ROWS, this.firstRows * 2) : CHUNK_ROWS;
    const bytes = rows * this.dim * 4, p = this.wasm.alloc(bytes);
    if (!p) throw new OutOfMemoryError(bytes);
    if (!small) { this.chunks.push(p); return; }
    if (this.chunks.length) {
      const old = this.chunks[0];
      new Uint8Array(this.wasm.memory.buffer).copyWithin(p, old, old + this.ids.length * this.dim * 4);
      this.wasm.free(old);
    }
    this.chunks = [p];
    this.firstRows = rows;
  }

  private rowPtr(i: number): number {
    return this.chunks[Math.floor(i / CHUNK_ROWS)] + (i % CHUNK_ROWS) * this.dim * 4;
  }

  /** A checked template of this gallery's model and size (parsed when given as bytes). */
  private accept(id: string, template: Template | Uint8Array): Float32Array {
    const t = template instanceof Template ? template : Template.fromBytes(template, this.modelId);
    if (t.modelId !== this.modelId) throw new TemplateError('E_TEMPLATE_MODEL', `template for '${id}' was made by model '${t.modelId}', the gallery holds '${this.modelId}' templates: re-enrol`);
    return checkUnitEmbedding(t.embedding, `template for '${id}'`, this.dim);
  }

  /** Adds a member, or replaces the template of an existing id. A refused template changes nothing. */
  add(id: string, template: Template | Uint8Array): void {
    this.live();
    checkMemberId(id);
    const emb = this.accept(id, template);
    const at = this.index.get(id);
    if (at !== undefined) {
      new Float32Array(this.wasm.memory.buffer, this.rowPtr(at), this.dim).set(emb);
      return;
    }
    const n = this.ids.length;
    if (n === this.capacity()) this.grow();
    new Float32Array(this.wasm.memory.buffer, this.rowPtr(n), this.dim).set(emb);
    this.index.set(id, n);
    this.ids.push(id);
  }

  /** Removes a member; the memory its template held is zeroed (the last row moves into its slot). */
  remove(id: string): boolean {
    this.live();
    const i = this.index.get(id);
    if (i === undefined) return false;
    const last = this.ids.length - 1, row = this.dim * 4;
    const mem = new Uint8Array(this.wasm.memory.buffer);
    if (i !== last) mem.copyWithin(this.rowPtr(i), this.rowPtr(last), this.rowPtr(last) + row);
    mem.fill(0, this.rowPtr(last), this.rowPtr(last) + row);
    this.ids[i] = this.ids[last];
    this.index.set(this.ids[i], i);
    this.ids.pop();
    this.index.delete(id);
    // a chunk left empty goes back to the allocator (free zeroes it)
    if (this.capacity() - this.ids.length >= (this.chunks.length > 1 ? CHUNK_ROWS : this.firstRows)) {
      this.wasm.free(this.chunks.pop()!);
      if (!this.chunks.length) this.firstRows = 0;
    }
    return true;
  }

  private templateAt(i: number): Template {
    return new Template(this.modelId, new Float32Array(this.wasm.memory.buffer, this.rowPtr(i), this.dim).slice());
  }

  /** Templates of every member (copies), in gallery order: for export to a bundle. */
  entries(): { id: string; template: Template }[] {
    this.live();
    return this.ids.map((id, i) => ({ id, template: this.templateAt(i) }));
  }

  /** The template of one member, or null. */
  get(id: string): Template | null {
    this.live();
    const i = this.index.get(id);
    return i === undefined ? null : this.templateAt(i);
  }

  /**
   * The k best matches of a unit embedding (cosine, clamped to [-1, 1]), best first; ties keep
   * gallery order. O(n log k) for any k (a heap in wasm).
   */
  search(embedding: Float32Array, k = 5): IdentifyMatch[] {
    this.live();
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 10_000_000) throw new OptionError(`topK must be an integer in [1, 10000000], got ${describeValue(k)}`);
    const q = checkUnitEmbedding(embedding, 'query embedding', this.dim);
    const n = this.ids.length;
    if (!n) return [];
    const x = this.wasm, kk = Math.min(k, n);
    const qp = this.query.get(this.dim * 4), sp = this.scores.get(n * 4), tp = this.top.get(kk * 4);
    new Float32Array(x.memory.buffer, qp, this.dim).set(q);
    for (let c = 0; c < this.chunks.length; c++) {
      const rows = Math.min(CHUNK_ROWS, n - c * CHUNK_ROWS);
      check('gallery match', x.matchScores(qp, this.chunks[c], rows, this.dim, sp + c * CHUNK_ROWS * 4));
    }
    const got = x.matchTopK(sp, n, kk, tp);
    if (got < 0) check('gallery top-k', got);
    const idx = new Int32Array(x.memory.buffer, tp, got), s = new Float32Array(x.memory.buffer, sp, n);
    return [...idx].map((i) => ({ id: this.ids[i], score: Math.max(-1, Math.min(1, s[i])) }));
  }

  /** Removes every member and frees (and zeroes) the gallery's memory; the gallery stays usable. */
  clear(): void {
    this.live();
    this.release();
  }

  private release(): void {
    for (const p of this.chunks) this.wasm.free(p);
    this.chunks = [];
    this.firstRows = 0;
    this.ids = [];
    this.index.clear();
    for (const b of [this.scores, this.top, this.query]) b.dispose();
  }

  /** Frees the gallery's memory (zeroed); later calls throw DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    try { this.assertEngineLive(); this.release(); } catch { /* the engine and its memory are gone already */ }
    this.disposed = true;
  }
}
