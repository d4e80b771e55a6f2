// The gallery JSON file of `wasmface enroll` (people.json), read by every command that takes
// --gallery: checked on reading (a corrupt file is an input error naming it, never "empty") and
// written atomically.

import { existsSync } from 'node:fs';
import { badInput, isPlainObject, readJsonFile, writeAtomic } from './common.js';

export interface GalleryMember { id: string; template: string; images: number; meta?: Record<string, unknown> }

export interface GalleryFile {
  format: 'wasmface-gallery';
  version: 1;
  modelId: string;
  members: GalleryMember[];
  /** Bundle versions applied by `bundle import-gallery` (without --state): { "gallery:NAME": version }. */
  bundles?: Record<string, number>;
  /** The channel (gallery bundle name) this file accepts, recorded by its first `bundle import-gallery`. */
  channel?: string;
}

export const newGalleryFile = (modelId: string): GalleryFile => ({ format: 'wasmface-gallery', version: 1, modelId, members: [] });

export function readGalleryFile(path: string): GalleryFile {
  const g = readJsonFile(path, 'wasmface gallery file');
  function bad(what: string): never { return badInput(`${path} is not a wasmface gallery file (version 1): ${what}`); }
  if (!isPlainObject(g) || g.format !== 'wasmface-gallery' || g.version !== 1) bad('no "format": "wasmface-gallery", "version": 1');
  if (typeof g.modelId !== 'string') bad('"modelId" is not a string');
  if (!Array.isArray(g.members)) bad('"members" is not a list');
  const ids = new Set<string>();
  (g.members as unknown[]).forEach((m, i) => {
    if (!isPlainObject(m) || typeof m.id !== 'string' || !m.id || typeof m.template !== 'string') bad(`member ${i + 1} needs an "id" and a base64 "template"`);
    const { id } = m as unknown as GalleryMember;
    if (ids.has(id)) bad(`'${id}' appears twice`);
    ids.add(id);
  });
  if (g.bundles !== undefined && (!isPlainObject(g.bundles) || !Object.values(g.bundles).every((v) => Number.isSafeInteger(v) && (v as number) >= 1))) {
    bad('"bundles" must map names to integer versions >= 1');
  }
  if (g.channel !== undefined && (typeof g.channel !== 'string' || !g.channel)) bad('"channel" is not a name');
  return g as unknown as GalleryFile;
}

/** The gallery file at path, or a new empty one for modelId when there is none (enroll creates it). */
export const readOrCreateGalleryFile = (path: string, modelId: string): GalleryFile => (existsSync(path) ? readGalleryFile(path) : newGalleryFile(modelId));

export function writeGalleryFile(path: string, g: GalleryFile): void {
  writeAtomic(path, JSON.stringify(g, null, 1));
}

/** Refuses templates of another model (an input error: re-enrol). */
export function checkGalleryModel(path: string, g: GalleryFile, modelId: string): void {
  if (g.modelId !== modelId) badInput(`${path} holds templates of model '${g.modelId}', this build uses '${modelId}': re-enrol`);
}
