// `wasmface bundle ...`: fleet deployment from the command line. Key generation, signing model and
// gallery update bundles on the back-end, inspecting and verifying them (with a roll-back state file)
// as a device would, and converting the gallery JSON files of `wasmface enroll` to and from gallery
// bundles (.wfg). The logic lives in js/bundle.ts; this file reads and writes files.

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  generateBundleKeys, signBundle, verifyBundle, inspectBundle, parseGalleryBundle, encodeGalleryBundle, diffGalleryBundles, applyGalleryBundle,
  galleryFromBundle, isGalleryBundle, MemoryBundleStateStore,
  type BundleStateStore, type BundleKind, type BundleManifest, type GalleryBundle, type GalleryBundleInput, type GalleryLike, type ModelRole,
  type BundlePayloadInput, type VerifiedBundle,
} from '../bundle.js';
import { Template } from '../template.js';

export const BUNDLE_USAGE = `usage: wasmface bundle <command> [options]

  keygen --out DIR [--force]               new ECDSA P-256 signing key: DIR/private.pem, private.jwk (back-end only),
                                           public.pem, public.jwk (for the devices)
  sign --key PRIVATE --name NAME --version N (--model [ROLE=]FILE... | --gallery FILE) --out FILE [--note TEXT]
                                           signed update bundle of models (.wfm, .wfm.gz; role detector|embedder|antispoof
                                           read from the file unless given) or of a gallery (.wfg, or a people.json from
                                           enroll: NAME and N become the gallery's name and version)
  inspect FILE [--key PUBLIC] [--json]     what a bundle (.wfb) or gallery bundle (.wfg) holds; with --key, check the signature
  verify FILE --key PUBLIC [--state FILE] [--kind K] [--extract DIR] [--json]
                                           verify as a device does: signature, payload hashes, and no roll-back below the
                                           versions recorded in the state file (updated on success)
  export-gallery --gallery people.json --out people.wfg [--name NAME] [--version N] [--base old.wfg]
                                           gallery JSON -> full gallery bundle, or with --base the delta from old.wfg
  import-gallery FILE --gallery people.json [--key PUBLIC] [--state FILE]
                                           apply a gallery bundle (.wfg, or a signed .wfb with --key) to a gallery JSON file

Keys are read as PEM, JWK JSON, DER (SPKI/PKCS#8) or a raw 65-byte public point. Exit code 1 with a
[E_BUNDLE_...] code when a bundle is refused.`;

interface GalleryMember { id: string; template: string; images: number; meta?: Record<string, unknown> }
interface GalleryFile { format: 'wasmface-gallery'; version: 1; modelId: string; members: GalleryMember[]; bundles?: Record<string, number> }

class UsageError extends Error {}
const usage = (message: string): never => { throw new UsageError(message); };

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Key file contents: text (PEM, JWK JSON) when it looks like text, else DER / raw bytes. */
function readKey(path: string): string | Uint8Array {
  const raw = new Uint8Array(readFileSync(path));
  const head = Buffer.from(raw.subarray(0, 64)).toString('utf8').trimStart();
  return head.startsWith('-----') || head.startsWith('{') ? Buffer.from(raw).toString('utf8') : raw;
}

function writeAtomic(path: string, data: string | Uint8Array, mode?: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
  renameSync(tmp, path);
}

/** Roll-back state as a JSON file { name: version }, rewritten on every save. */
class FileStateStore implements BundleStateStore {
  private readonly versions: Record<string, number>;
  constructor(private readonly path: string) {
    this.versions = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    if (typeof this.versions !== 'object' || this.versions === null || Array.isArray(this.versions)) usage(`${path} is not a bundle state file`);
  }
  load(name: string): number | null { return typeof this.versions[name] === 'number' ? this.versions[name] : null; }
  save(name: string, version: number): void {
    this.versions[name] = version;
    writeAtomic(this.path, JSON.stringify(this.versions, null, 1) + '\n');
  }
}

function readGalleryJson(path: string): GalleryFile {
  const g = JSON.parse(readFileSync(path, 'utf8')) as GalleryFile;
  if (g?.format !== 'wasmface-gallery' || g.version !== 1 || typeof g.modelId !== 'string' || !Array.isArray(g.members)) usage(`${path} is not a wasmface gallery file (version 1)`);
  return g;
}

/** The gallery JSON of `wasmface enroll` as a GalleryLike, so applyGalleryBundle works on it unchanged. */
class JsonGallery implements GalleryLike {
  constructor(readonly file: GalleryFile) {}
  get modelId(): string { return this.file.modelId; }
  add(id: string, template: Template): void {
    this.remove(id);
    this.file.members.push({ id, template: b64(template.toBytes()), images: template.images });
  }
  remove(id: string): boolean {
    const n = this.file.members.length;
    this.file.members = this.file.members.filter((m) => m.id !== id);
    return this.file.members.length !== n;
  }
  get(id: string): Template | null {
    const m = this.file.members.find((x) => x.id === id);
    return m ? Template.fromBytes(unb64(m.template)) : null;
  }
  clear(): void { this.file.members = []; }
  entries(): { id: string; template: Template }[] {
    return this.file.members.map((m) => ({ id: m.id, template: Template.fromBytes(unb64(m.template)) }));
  }
  /** Versions applied to this file, kept in the file itself. */
  store(): BundleStateStore {
    return {
      load: (name) => this.file.bundles?.[name] ?? null,
      save: (name, version) => { (this.file.bundles ??= {})[name] = version; },
    };
  }
}

function galleryInputFromJson(g: GalleryFile, name: string, version: number): GalleryBundleInput {
  return {
    kind: 'full', name, modelId: g.modelId, version,
    entries: g.members.map((m) => ({ id: m.id, template: Template.fromBytes(unb64(m.template), g.modelId), ...(m.meta ? { meta: m.meta } : {}) })),
  };
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) usage(`${what} must be an integer >= 1, got ${v}`);
  return n;
}

const short = (h: string) => `${h.slice(0, 16)}…`;

function describeManifest(m: BundleManifest): string[] {
  const lines = [`${m.kind} bundle '${m.name}' version ${m.version}, created ${m.createdAt}${m.note ? ` (${m.note})` : ''}`];
  if (m.embedder) lines.push(`  templates of model ${m.embedder}${m.baseVersion !== undefined ? `, delta from gallery version ${m.baseVersion}` : ''}`);
  for (const p of m.payloads) {
    lines.push(`  ${p.name}  ${p.size} bytes  sha256 ${short(p.sha256)}${p.model ? `  ${p.model.role} ${p.model.id} pin ${short(p.model.pin)}` : ''}`);
  }
  return lines;
}

function describeGallery(g: GalleryBundle): string[] {
  return [
    `${g.kind} gallery bundle '${g.name}' version ${g.version}${g.baseVersion !== null ? ` (delta from ${g.baseVersion})` : ''}, model ${g.modelId}, created ${new Date(g.createdAt).toISOString()}`,
    `  ${g.entries.length} ${g.kind === 'full' ? 'members' : 'added or replaced'}${g.entries.length ? `: ${g.entries.slice(0, 10).map((e) => e.id).join(', ')}${g.entries.length > 10 ? ', ...' : ''}` : ''}`,
    ...(g.kind === 'delta' ? [`  ${g.removed.length} removed${g.removed.length ? `: ${g.removed.slice(0, 10).join(', ')}${g.removed.length > 10 ? ', ...' : ''}` : ''}`] : []),
  ];
}

function safeName(name: string): string {
  const b = basename(name).replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_');
  return b || 'payload';
}

/** Runs `wasmface bundle <argv>`; returns the exit code. Refused bundles throw BundleError (exit 1 in the caller). */
export async function runBundleCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        out: { type: 'string' }, key: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' },
        model: { type: 'string', multiple: true }, gallery: { type: 'string' }, state: { type: 'string' }, extract: { type: 'string' },
        kind: { type: 'string' }, base: { type: 'string' }, note: { type: 'string' }, public: { type: 'string' },
        json: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`wasmface bundle: ${(e as Error).message}\n${BUNDLE_USAGE}`);
    return 2;
  }
  const { values: o, positionals: [sub, ...args] } = parsed;
  if (o.help || !sub || sub === 'help') { console.log(BUNDLE_USAGE); return sub || o.help ? 0 : 2; }
  try {
    return await run(sub, args, o);
  } catch (e) {
    if (e instanceof UsageError) { console.error(`wasmface bundle ${sub}: ${e.message}`); return 2; }
    throw e;
  }
}

type Opts = { [k: string]: string | boolean | string[] | undefined } & {
  out?: string; key?: string; name?: string; version?: string; model?: string[]; gallery?: string; state?: string; extract?: string;
  kind?: string; base?: string; note?: string; public?: string; json?: boolean; force?: boolean;
};

async function run(sub: string, args: string[], o: Opts): Promise<number> {
  switch (sub) {
    case 'keygen': {
      if (!o.out) usage('keygen needs --out DIR');
      const dir = o.out!;
      mkdirSync(dir, { recursive: true });
      const files = ['private.pem', 'private.jwk', 'public.pem', 'public.jwk'].map((f) => join(dir, f));
      if (!o.force && files.some(existsSync)) usage(`${dir} already holds keys; pass --force to replace them (bundles signed with the old key will no longer verify)`);
      const k = await generateBundleKeys();
      writeAtomic(files[0], k.privatePem, 0o600);
      writeAtomic(files[1], JSON.stringify(k.privateJwk) + '\n', 0o600);
      writeAtomic(files[2], k.publicPem);
      writeAtomic(files[3], JSON.stringify(k.publicJwk) + '\n');
      console.log(`key ${k.keyId}: ${files[0]} and ${files[1]} stay on the signing machine (mode 600); give devices ${files[2]} or ${files[3]}`);
      return 0;
    }
    case 'sign': {
      if (!o.key || !o.out) usage('sign needs --key PRIVATE and --out FILE');
      if (!!o.model?.length === !!o.gallery) usage('sign needs either --model FILE... or --gallery FILE');
      let kind: BundleKind, name = o.name, version = int(o.version, '--version');
      const payloads: BundlePayloadInput[] = [];
      if (o.model?.length) {
        if (!name || !version) usage('sign --model needs --name NAME and --version N');
        kind = 'model';
        for (const spec of o.model) {
          const m = /^(detector|embedder|antispoof)=(.+)$/.exec(spec);
          const path = m ? m[2] : spec;
          payloads.push({ name: basename(path), bytes: new Uint8Array(readFileSync(path)), ...(m ? { model: { role: m[1] as ModelRole } } : {}) });
        }
      } else {
        const path = o.gallery!;
        const bytes = new Uint8Array(readFileSync(path));
        let wfg: Uint8Array;
        if (isGalleryBundle(bytes)) {
          const g = await parseGalleryBundle(bytes);
          if (name !== undefined && name !== g.name) usage(`${path} is gallery '${g.name}'; --name must match (or be left out)`);
          if (version !== undefined && version !== g.version) usage(`${path} is version ${g.version}; --version must match (or be left out)`);
          name = g.name; version = g.version;
          kind = g.kind === 'full' ? 'gallery' : 'gallery-delta';
          wfg = bytes;
        } else {
          if (!name || !version) usage('sign --gallery people.json needs --name NAME and --version N (they become the gallery\'s name and version)');
          kind = 'gallery';
          wfg = await encodeGalleryBundle(galleryInputFromJson(readGalleryJson(path), name!, version!));
        }
        payloads.push({ name: `${safeName(name!)}-v${version}.wfg`, bytes: wfg });
      }
      const pub = o.public ? readKey(o.public) : undefined;
      const out = await signBundle(readKey(o.key!), { kind: kind!, name: name!, version: version!, note: o.note }, payloads, pub === undefined ? {} : { publicKey: pub });
      writeAtomic(o.out!, out);
      const info = await inspectBundle(out);
      console.log(`wrote ${o.out} (${out.length} bytes), signed by key ${info.keyId}`);
      for (const l of describeManifest(info.manifest!)) console.log(l);
      return 0;
    }
    case 'inspect': {
      if (args.length !== 1) usage('inspect needs one FILE');
      const bytes = new Uint8Array(readFileSync(args[0]));
      const info = await inspectBundle(bytes);
      let verified: VerifiedBundle | null = null;
      if (o.key && info.type === 'update') verified = await verifyBundle(readKey(o.key), bytes, new MemoryBundleStateStore());
      if (o.json) {
        console.log(JSON.stringify({ ...info, gallery: info.gallery && { ...info.gallery, entries: info.gallery.entries.map((e) => ({ id: e.id, meta: e.meta })) }, signatureVerified: verified ? true : undefined }));
        return 0;
      }
      if (info.type === 'gallery') {
        for (const l of describeGallery(info.gallery!)) console.log(l);
        console.log('  content SHA-256 ok (not signed: a gallery bundle is authenticated by the update bundle it travels in)');
        return 0;
      }
      for (const l of describeManifest(info.manifest!)) console.log(l);
      console.log(`  payload hashes: ${info.payloadsIntact!.every(Boolean) ? 'ok' : `MISMATCH in ${info.manifest!.payloads.filter((_, i) => !info.payloadsIntact![i]).map((p) => p.name).join(', ')}`}`);
      console.log(!info.signed ? '  UNSIGNED: devices refuse it'
        : verified ? `  signature ok (key ${verified.keyId}); roll-back not checked here (use verify --state)`
          : `  signed by key ${info.keyId}; signature NOT checked (pass --key PUBLIC): the manifest above is unverified`);
      if (info.manifest!.kind !== 'model' && info.payloadsIntact![0]) {
        const g = await parseGalleryBundle(bytes.subarray(bytes.length - info.manifest!.payloads[0].size));
        for (const l of describeGallery(g)) console.log(`  ${l}`);
      }
      return 0;
    }
    case 'verify': {
      if (args.length !== 1 || !o.key) usage('verify needs one FILE and --key PUBLIC');
      const kinds = o.kind?.split(',') as BundleKind[] | undefined;
      const store = o.state ? new FileStateStore(o.state) : new MemoryBundleStateStore();
      const v = await verifyBundle(readKey(o.key!), new Uint8Array(readFileSync(args[0])), store, { kind: kinds, commit: false });
      if (v.manifest.kind !== 'model') await galleryFromBundle(v); // the gallery inside matches its manifest
      const written: string[] = [];
      if (o.extract) {
        mkdirSync(o.extract, { recursive: true });
        v.manifest.payloads.forEach((p, i) => { const path = join(o.extract!, safeName(p.name)); writeAtomic(path, v.payloads[i]); written.push(path); });
      }
      await v.commit();
      if (o.json) console.log(JSON.stringify({ ok: true, keyId: v.keyId, manifest: v.manifest, extracted: written }));
      else {
        console.log(`OK ${describeManifest(v.manifest).join('\n')}`);
        console.log(`  signature ok (key ${v.keyId}), payload hashes ok${o.state ? `; ${o.state}: '${v.manifest.name}' -> ${v.manifest.version}` : '; no --state: roll-back checked against nothing'}`);
        if (written.length) console.log(`  extracted: ${written.join(', ')}`);
      }
      return 0;
    }
    case 'export-gallery': {
      if (!o.gallery || !o.out) usage('export-gallery needs --gallery people.json and --out FILE');
      const g = readGalleryJson(o.gallery!);
      const name = o.name ?? basename(o.gallery!, extname(o.gallery!));
      const base = o.base ? await parseGalleryBundle(new Uint8Array(readFileSync(o.base))) : null;
      // default version: seconds since the epoch, so successive exports increase without a counter
      const version = int(o.version, '--version') ?? Math.max(Math.floor(Date.now() / 1000), base ? base.version + 1 : 1);
      const full = galleryInputFromJson(g, name, version);
      let out: Uint8Array;
      if (base) {
        const next = await parseGalleryBundle(await encodeGalleryBundle(full));
        out = await encodeGalleryBundle(diffGalleryBundles(base, next));
      } else {
        out = await encodeGalleryBundle(full);
      }
      writeAtomic(o.out!, out);
      const parsed = await parseGalleryBundle(out);
      console.log(`wrote ${o.out} (${out.length} bytes)`);
      for (const l of describeGallery(parsed)) console.log(l);
      return 0;
    }
    case 'import-gallery': {
      if (args.length !== 1 || !o.gallery) usage('import-gallery needs one FILE and --gallery people.json');
      const bytes = new Uint8Array(readFileSync(args[0]));
      let bundle: GalleryBundle, verified: VerifiedBundle | null = null;
      const existing = existsSync(o.gallery!) ? readGalleryJson(o.gallery!) : null;
      const file: GalleryFile = existing ?? { format: 'wasmface-gallery', version: 1, modelId: '', members: [] };
      const gallery = new JsonGallery(file);
      // versions: the --state file when given (a device's), else recorded in the gallery file itself
      const store = o.state ? new FileStateStore(o.state) : gallery.store();
      if (isGalleryBundle(bytes)) {
        bundle = await parseGalleryBundle(bytes);
      } else {
        if (!o.key) usage(`${args[0]} is an update bundle: pass --key PUBLIC to verify it`);
        verified = await verifyBundle(readKey(o.key!), bytes, store, { kind: ['gallery', 'gallery-delta'], commit: false });
        bundle = await galleryFromBundle(verified);
      }
      if (!existing) file.modelId = bundle.modelId;
      const r = await applyGalleryBundle(gallery, bundle, store);
      for (const e of bundle.entries) if (e.meta) { const m = gallery.file.members.find((x) => x.id === e.id); if (m) m.meta = e.meta; }
      if (verified) await verified.commit();
      writeAtomic(o.gallery!, JSON.stringify(gallery.file, null, 1));
      console.log(`${o.gallery}: gallery '${r.name}' now at version ${r.version} (${r.added} added, ${r.replaced} replaced, ${r.removed} removed; ${gallery.file.members.length} people)`);
      return 0;
    }
    default:
      usage(`unknown bundle command '${sub}'\n${BUNDLE_USAGE}`);
  }
  return 2;
}
