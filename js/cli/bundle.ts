// `wasmface bundle ...`: fleet deployment from the command line. Key generation, signing model and
// gallery update bundles on the back-end, inspecting and verifying them (with a roll-back state file)
// as a device would, and converting the gallery JSON files of `wasmface enroll` to and from gallery
// bundles (.wfg). The logic lives in js/bundle.ts; this file reads and writes files.

import { parseArgs } from 'node:util';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import {
  generateBundleKeys, signBundle, verifyBundle, inspectBundle, parseGalleryBundle, encodeGalleryBundle, diffGalleryBundles, applyGalleryBundle,
  galleryFromBundle, galleryStateKey, isGalleryBundle, BundleError, MemoryBundleStateStore,
  type BundleStateStore, type BundleKind, type BundleManifest, type GalleryBundle, type GalleryBundleInput, type GalleryLike, type ModelRole,
  type BundlePayloadInput, type VerifiedBundle,
} from '../bundle.js';
import { Template } from '../template.js';
import { CliError, EXIT, EXIT_HELP, type ExitCode, badInput, isPlainObject, messageOf, numberOption, occupied, readJsonFile, reportError, usage, writeAtomic } from './common.js';
import { newGalleryFile, readGalleryFile, writeGalleryFile, type GalleryFile, type GalleryMember } from './gallery-file.js';

export const BUNDLE_USAGE = `usage: wasmface bundle <command> [options]

  keygen --out DIR [--force]               new ECDSA P-256 signing key: DIR/private.pem, private.jwk (back-end only),
                                           public.pem, public.jwk (for the devices)
  sign --key PRIVATE --name NAME --version N (--model [ROLE=]FILE... | --gallery FILE) --out FILE [--note TEXT]
                                           signed update bundle of models (.wfm, .wfm.gz; role detector|embedder|antispoof
                                           read from the file unless given) or of a gallery (.wfg, or a people.json from
                                           enroll: NAME and N become the gallery's name and version)
  inspect FILE [--key PUBLIC] [--json]     what a bundle (.wfb) or gallery bundle (.wfg) holds; with --key, check the signature
  verify FILE --key PUBLIC [--state FILE] [--channel NAME] [--kind K] [--extract DIR [--force]] [--json]
                                           verify as a device does: signature, payload hashes, the channel (bundle name) when
                                           given, and no roll-back below the versions recorded in the state file (updated on
                                           success); --extract writes the payloads into DIR, never over a file without --force
  export-gallery --gallery people.json --out people.wfg [--name NAME] [--version N] [--base old.wfg]
                                           gallery JSON -> full gallery bundle, or with --base the delta from old.wfg
  import-gallery FILE --gallery people.json [--key PUBLIC] [--state FILE] [--channel NAME]
                                           apply a gallery bundle (.wfg, or a signed .wfb with --key) to a gallery JSON file,
                                           all or nothing; the file records the channel of its first import and refuses others

Keys are read as PEM, JWK JSON, DER (SPKI/PKCS#8) or a raw 65-byte public point. The state file
(--state) is JSON { name: version }; a corrupt one is refused, never taken for "no state". A refused
bundle prints its [E_BUNDLE_...] code.

${EXIT_HELP}`;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Key file contents: text (PEM, JWK JSON) when it looks like text, else DER / raw bytes. */
function readKey(path: string): string | Uint8Array {
  const raw = new Uint8Array(readFileSync(path));
  const head = Buffer.from(raw.subarray(0, 64)).toString('utf8').trimStart();
  return head.startsWith('-----') || head.startsWith('{') ? Buffer.from(raw).toString('utf8') : raw;
}

const STATE_HINT = 'restore it from a backup: deleting it would let every older bundle in again';

/** A state file, strictly: no file is "nothing accepted yet"; anything but { name: integer >= 1 } is an input error. */
function readStateFile(path: string): Map<string, number> {
  const versions = new Map<string, number>();
  if (!occupied(path)) return versions;
  const v = readJsonFile(path, `bundle state file (${STATE_HINT})`);
  if (!isPlainObject(v)) badInput(`${path} is not a bundle state file: expected an object { name: version }, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v} (${STATE_HINT})`);
  for (const [name, version] of Object.entries(v)) {
    if (!Number.isSafeInteger(version) || (version as number) < 1) {
      badInput(`${path} is corrupt: the version of '${name}' is ${JSON.stringify(version)}, not an integer >= 1 (${STATE_HINT})`);
    }
    versions.set(name, version as number);
  }
  return versions;
}

/**
 * Roll-back state as a JSON file { name: version }, read strictly and written atomically. A save
 * re-reads the file and never records a version at or below the one it holds (another process may
 * have written it meanwhile). `hold()` keeps saves in memory until `flush()` (import-gallery writes
 * the gallery file first).
 */
class FileStateStore implements BundleStateStore {
  private versions: Map<string, number>;
  private held: Map<string, number> | null = null;
  constructor(readonly path: string) { this.versions = readStateFile(path); }
  load(name: string): number | null { return this.held?.get(name) ?? this.versions.get(name) ?? null; }
  save(name: string, version: number): void {
    if (this.held) this.held.set(name, version);
    else this.write([[name, version]]);
  }
  hold(): this { this.held ??= new Map(); return this; }
  flush(): void {
    const held = this.held;
    this.held = null;
    if (held?.size) this.write([...held]);
  }
  private write(entries: [string, number][]): void {
    const now = readStateFile(this.path);
    for (const [name, version] of entries) {
      const last = now.get(name);
      if (last !== undefined && last >= version) throw new BundleError('E_BUNDLE_ROLLBACK', `${this.path} already records '${name}' version ${last}: not recording version ${version}`);
      now.set(name, version);
    }
    writeAtomic(this.path, JSON.stringify(Object.fromEntries(now), null, 1) + '\n');
    this.versions = now;
  }
}

/** The gallery JSON of `wasmface enroll` as a GalleryLike, so applyGalleryBundle works on it unchanged. */
export class JsonGallery implements GalleryLike {
  // the member behind each template entries() handed out: adding one of those back (a failed apply
  // restoring its snapshot) restores the member exactly, images, meta and any other field included
  private readonly handedOut = new WeakMap<Template, GalleryMember>();
  constructor(readonly file: GalleryFile) {}
  get modelId(): string { return this.file.modelId; }
  add(id: string, template: Template): void {
    this.remove(id);
    const was = this.handedOut.get(template);
    this.file.members.push(was?.id === id ? structuredClone(was) : { id, template: b64(template.toBytes()), images: template.images });
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
    return this.file.members.map((m) => {
      const template = Template.fromBytes(unb64(m.template));
      this.handedOut.set(template, structuredClone(m));
      return { id: m.id, template };
    });
  }
  /** Versions applied to this file, kept in the file itself. */
  store(): BundleStateStore {
    return {
      load: (name) => this.file.bundles?.[name] ?? null,
      save: (name, version) => { (this.file.bundles ??= {})[name] = version; },
    };
  }
}

/**
 * The channel import-gallery accepts into a gallery file: the one the file records (its first
 * import; for older files, the only gallery whose version it records), which --channel may repeat
 * but not change; else --channel; else any (the first import binds the file).
 */
function galleryChannel(path: string, file: GalleryFile, option: string | undefined): { channel: string | undefined; recorded: boolean } {
  const prefix = galleryStateKey('');
  const named = Object.keys(file.bundles ?? {}).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  const recorded = file.channel ?? (named.length === 1 ? named[0] : undefined);
  if (recorded !== undefined && option !== undefined && option !== recorded) {
    throw new BundleError('E_BUNDLE_CHANNEL', `${path} holds gallery channel '${recorded}': refusing --channel '${option}' (import another channel into a new gallery file)`);
  }
  return { channel: recorded ?? option, recorded: recorded !== undefined };
}

function galleryInputFromJson(g: GalleryFile, name: string, version: number): GalleryBundleInput {
  return {
    kind: 'full', name, modelId: g.modelId, version,
    entries: g.members.map((m) => ({ id: m.id, template: Template.fromBytes(unb64(m.template), g.modelId), ...(m.meta ? { meta: m.meta } : {}) })),
  };
}

const int = (v: string | undefined, what: string) => numberOption(v, what, { integer: true, min: 1 });

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

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

/**
 * A payload (or gallery) name as a plain file name: its last path segment ('/' and '\' both
 * separate), only letters, digits, '_', '-' and '.', no leading dot (so never '.', '..' or hidden),
 * no trailing dot, no Windows device name, at most 128 characters; 'payload' when nothing is left.
 */
export function safeName(name: string): string {
  let s = (name.split(/[\\/]/).pop() ?? '').replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_').slice(0, 128).replace(/\.+$/, '_');
  if (WINDOWS_DEVICE.test(s)) s = `_${s}`;
  return s || 'payload';
}

/** Writes the payloads into dir, all or none: refused (nothing written) on a name clash or, without force, an existing file. */
function extractPayloads(dir: string, v: VerifiedBundle, force: boolean): string[] {
  const claimed = new Map<string, string>(); // lower-cased file name (case-insensitive file systems) -> payload name
  const paths = v.manifest.payloads.map((p) => {
    const file = safeName(p.name), other = claimed.get(file.toLowerCase());
    if (other !== undefined) badInput(`payloads '${other}' and '${p.name}' would both be extracted to ${file}: refusing (nothing was written)`);
    claimed.set(file.toLowerCase(), p.name);
    const path = join(dir, file);
    if (dirname(resolve(path)) !== resolve(dir)) badInput(`payload '${p.name}' would be written outside ${dir}: refusing`); // safeName makes this impossible
    if (!force && occupied(path)) usage(`${path} already exists: refusing to overwrite it with payload '${p.name}' (pass --force to replace it; nothing was written)`);
    return path;
  });
  mkdirSync(dir, { recursive: true });
  paths.forEach((path, i) => writeAtomic(path, v.payloads[i]));
  return paths;
}

const OPTIONS = {
  out: { type: 'string' }, key: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' },
  model: { type: 'string', multiple: true }, gallery: { type: 'string' }, state: { type: 'string' }, extract: { type: 'string' },
  kind: { type: 'string' }, base: { type: 'string' }, note: { type: 'string' }, public: { type: 'string' }, channel: { type: 'string' },
  json: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

/** Runs `wasmface bundle <argv>`; returns the exit code (EXIT in js/cli/common.ts), errors reported on stderr. */
export async function runBundleCommand(argv: string[]): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    return reportError(new CliError(EXIT.USAGE, `${messageOf(e)} (wasmface bundle help)`), 'wasmface bundle');
  }
  const { values: o, positionals: [sub, ...args] } = parsed;
  if (o.help || !sub || sub === 'help') { console.log(BUNDLE_USAGE); return sub || o.help ? EXIT.OK : EXIT.USAGE; }
  try {
    return await run(sub, args, o);
  } catch (e) {
    return reportError(e, `wasmface bundle ${sub}`);
  }
}

type Opts = { [k: string]: string | boolean | string[] | undefined } & {
  out?: string; key?: string; name?: string; version?: string; model?: string[]; gallery?: string; state?: string; extract?: string;
  kind?: string; base?: string; note?: string; public?: string; channel?: string; json?: boolean; force?: boolean;
};

async function run(sub: string, args: string[], o: Opts): Promise<ExitCode> {
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
      return EXIT.OK;
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
          wfg = await encodeGalleryBundle(galleryInputFromJson(readGalleryFile(path), name!, version!));
        }
        payloads.push({ name: `${safeName(name!)}-v${version}.wfg`, bytes: wfg });
      }
      const pub = o.public ? readKey(o.public) : undefined;
      const out = await signBundle(readKey(o.key!), { kind: kind!, name: name!, version: version!, note: o.note }, payloads, pub === undefined ? {} : { publicKey: pub });
      writeAtomic(o.out!, out);
      const info = await inspectBundle(out);
      console.log(`wrote ${o.out} (${out.length} bytes), signed by key ${info.keyId}`);
      for (const l of describeManifest(info.manifest!)) console.log(l);
      return EXIT.OK;
    }
    case 'inspect': {
      if (args.length !== 1) usage('inspect needs one FILE');
      const bytes = new Uint8Array(readFileSync(args[0]));
      const info = await inspectBundle(bytes);
      let verified: VerifiedBundle | null = null;
      if (o.key && info.type === 'update') verified = await verifyBundle(readKey(o.key), bytes, new MemoryBundleStateStore());
      if (o.json) {
        console.log(JSON.stringify({ ...info, gallery: info.gallery && { ...info.gallery, entries: info.gallery.entries.map((e) => ({ id: e.id, meta: e.meta })) }, signatureVerified: verified ? true : undefined }));
        return EXIT.OK;
      }
      if (info.type === 'gallery') {
        for (const l of describeGallery(info.gallery!)) console.log(l);
        console.log('  content SHA-256 ok (not signed: a gallery bundle is authenticated by the update bundle it travels in)');
        return EXIT.OK;
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
      return EXIT.OK;
    }
    case 'verify': {
      if (args.length !== 1 || !o.key) usage('verify needs one FILE and --key PUBLIC');
      const kinds = o.kind?.split(',') as BundleKind[] | undefined;
      const store = o.state ? new FileStateStore(o.state) : new MemoryBundleStateStore();
      const v = await verifyBundle(readKey(o.key!), new Uint8Array(readFileSync(args[0])), store, { kind: kinds, channel: o.channel, commit: false });
      if (v.manifest.kind !== 'model') await galleryFromBundle(v); // the gallery inside matches its manifest
      const written = o.extract ? extractPayloads(o.extract, v, !!o.force) : [];
      await v.commit(); // the version is recorded once everything was checked and extracted
      if (o.json) console.log(JSON.stringify({ ok: true, keyId: v.keyId, manifest: v.manifest, extracted: written }));
      else {
        console.log(`OK ${describeManifest(v.manifest).join('\n')}`);
        console.log(`  signature ok (key ${v.keyId}), payload hashes ok${o.state ? `; ${o.state}: '${v.manifest.name}' -> ${v.manifest.version}` : '; no --state: roll-back checked against nothing'}`);
        if (written.length) console.log(`  extracted: ${written.join(', ')}`);
      }
      return EXIT.OK;
    }
    case 'export-gallery': {
      if (!o.gallery || !o.out) usage('export-gallery needs --gallery people.json and --out FILE');
      const g = readGalleryFile(o.gallery!);
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
      return EXIT.OK;
    }
    case 'import-gallery':
      return importGallery(args, o);
    default:
      return usage(`unknown bundle command '${sub}' (wasmface bundle help)`);
  }
}

/**
 * import-gallery: the bundle is checked and applied to the gallery in memory (all or nothing), the
 * gallery file is written (atomically), and only then the versions are recorded in the --state file;
 * without --state they are recorded in the gallery file itself, in the same write. A failure at any
 * step before leaves the gallery file and the state file as they were.
 */
async function importGallery(args: string[], o: Opts): Promise<ExitCode> {
  if (args.length !== 1 || !o.gallery) usage('import-gallery needs one FILE and --gallery people.json');
  const path = o.gallery!;
  const bytes = new Uint8Array(readFileSync(args[0]));
  const existing = existsSync(path) ? readGalleryFile(path) : null;
  const file = existing ?? newGalleryFile('');
  const { channel, recorded } = galleryChannel(path, file, o.channel);
  const gallery = new JsonGallery(file);
  const stateFile = o.state ? new FileStateStore(o.state).hold() : null;
  const store = stateFile ?? gallery.store();
  let r;
  try {
    let bundle: GalleryBundle, verified: VerifiedBundle | null = null;
    if (isGalleryBundle(bytes)) {
      bundle = await parseGalleryBundle(bytes);
    } else {
      if (!o.key) usage(`${args[0]} is an update bundle: pass --key PUBLIC to verify it`);
      verified = await verifyBundle(readKey(o.key!), bytes, store, { kind: ['gallery', 'gallery-delta'], channel, commit: false });
      bundle = await galleryFromBundle(verified);
    }
    if (!existing) file.modelId = bundle.modelId;
    r = await applyGalleryBundle(gallery, bundle, store, { channel });
    for (const e of bundle.entries) if (e.meta) { const m = file.members.find((x) => x.id === e.id); if (m) m.meta = e.meta; }
    if (verified) await verified.commit(); // into the gallery file's record, or held for the state file
  } catch (e) {
    if (e instanceof BundleError && e.code === 'E_BUNDLE_CHANNEL' && recorded) e.message += ` (${path} was bound to '${channel}' by its first import; use a new gallery file for another channel)`;
    throw e;
  }
  file.channel = r.name;
  writeGalleryFile(path, file);
  try {
    stateFile?.flush();
  } catch (e) {
    return badInput(`${path} now holds gallery '${r.name}' version ${r.version}, but ${o.state} could not record it (${messageOf(e)}): fix ${o.state}; importing the same bundle again is safe`);
  }
  console.log(`${path}: gallery '${r.name}' now at version ${r.version} (${r.added} added, ${r.replaced} replaced, ${r.removed} removed; ${file.members.length} people)`);
  return EXIT.OK;
}
