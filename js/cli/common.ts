// What every wasmface command shares: the exit codes and the one mapping from errors to them (typed
// errors of js/errors.ts and BundleError codes), numeric options, JSON files read strictly, files
// written atomically, and images read with the file named in any error.

import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WasmfaceError, BackendError, DisposedError, KernelError, OptionError, OutOfMemoryError } from '../errors.js';
import { BundleError } from '../bundle.js';
import { LockedOutError } from '../limiter.js';
import { readImageFile } from '../node.js';
import type { ImageInput } from '../image.js';

/** Exit codes of every command (README "CLI", `wasmface --help`). */
export const EXIT = {
  /** Done; for a decision (compare, verify, identify): a match. */
  OK: 0,
  /** A decision: not the same person, or nobody in the gallery reached the threshold. */
  NO_MATCH: 1,
  /** Wrong command line: unknown command or option, missing or malformed argument, a file that would be overwritten. */
  USAGE: 2,
  /** Input or data error: a file that cannot be read or written, a corrupt image, gallery, CSV, state file or bundle, no face. */
  INPUT: 3,
  /** Refused for security: not judged live; a bundle unsigned, with a bad signature, tampered with, a roll-back, another channel. */
  REFUSED: 4,
  /** Environment or internal error: no usable wasm build, out of memory, a bug (stack trace printed). */
  INTERNAL: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `exit codes:
  0  ok; for compare, verify, identify: a match
  1  no match (a decision: not the same person, nobody in the gallery)
  2  usage error (unknown command or option, malformed number, a file --extract would overwrite)
  3  input or data error (unreadable file; corrupt image, gallery, CSV, state file or bundle; no face; unknown --id)
  4  refused for security (not judged live; bundle unsigned, bad signature, tampered, roll-back, other channel)
  5  environment or internal error (no usable wasm build, out of memory, a bug: stack trace printed)`;

/** An error the CLI itself raises, with its exit code. */
export class CliError extends Error {
  constructor(readonly exitCode: ExitCode, message: string) { super(message); }
}

export function usage(message: string): never { throw new CliError(EXIT.USAGE, message); }
export function badInput(message: string): never { throw new CliError(EXIT.INPUT, message); }

// BundleError codes that mean "an attacker may be at work": the bundle is refused, not broken
const REFUSED_BUNDLE = new Set(['E_BUNDLE_UNSIGNED', 'E_BUNDLE_SIGNATURE', 'E_BUNDLE_TAMPERED', 'E_BUNDLE_ROLLBACK', 'E_BUNDLE_CHANNEL']);

// codes of plain WasmfaceErrors about an option the user gave (--threshold, --operating-point, --top, --kind, --channel)
const USAGE_CODES = new Set(['E_OPTION', 'E_OPERATING_POINT']);

interface SystemError extends Error { code: string; syscall: string; path?: string }
const isSystemError = (e: unknown): e is SystemError =>
  e instanceof Error && typeof (e as SystemError).code === 'string' && typeof (e as SystemError).syscall === 'string';
const isParseArgsError = (e: unknown): boolean => typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('ERR_PARSE_ARGS');

export function exitCodeFor(e: unknown): ExitCode {
  if (e instanceof CliError) return e.exitCode;
  if (isParseArgsError(e)) return EXIT.USAGE;
  if (isSystemError(e)) return EXIT.INPUT;
  if (e instanceof BundleError) return REFUSED_BUNDLE.has(e.code) ? EXIT.REFUSED : e.code === 'E_NO_WEBCRYPTO' ? EXIT.INTERNAL : EXIT.INPUT;
  if (e instanceof LockedOutError) return EXIT.REFUSED;
  if (e instanceof OptionError || (e instanceof WasmfaceError && USAGE_CODES.has(e.code))) return EXIT.USAGE;
  if (e instanceof BackendError || e instanceof OutOfMemoryError || e instanceof KernelError || e instanceof DisposedError) return EXIT.INTERNAL;
  if (e instanceof WasmfaceError) return EXIT.INPUT; // images, templates, models, no face
  return EXIT.INTERNAL;
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The error as one line for the user: "x.jpg: no such file or directory (ENOENT)", "... [E_CODE]". */
export function errorLine(e: unknown): string {
  if (isSystemError(e)) {
    // "ENOENT: no such file or directory, open 'x.jpg'" -> "x.jpg: no such file or directory (ENOENT)"
    const what = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
    return `${e.path ?? e.syscall}: ${what} (${e.code})`;
  }
  return e instanceof WasmfaceError ? `${e.message} [${e.code}]` : messageOf(e);
}

/** Reports an error on stderr: one line for anything the user can act on, the stack trace for a bug; returns the exit code. */
export function reportError(e: unknown, prefix = 'wasmface'): ExitCode {
  const code = exitCodeFor(e);
  if (code === EXIT.INTERNAL && !(e instanceof WasmfaceError)) console.error(`${prefix}: internal error (please report it):`, e);
  else console.error(`${prefix}: ${errorLine(e)}`);
  return code;
}

/** Prefixes `what` (a file name) to the message of an input error (a WasmfaceError: no face, bad template...) thrown by fn. */
export function about<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WasmfaceError && exitCodeFor(e) === EXIT.INPUT && !e.message.startsWith(`${what}: `)) e.message = `${what}: ${e.message}`;
    throw e;
  }
}

export interface NumberOptionRange { integer?: boolean; min?: number; max?: number }

/**
 * A numeric command-line option: undefined when absent, else the number, or a usage error for
 * anything that is not plainly a number in [min, max] ('abc', '', 'NaN', '1e999', '0x10', '2.5' for
 * an integer).
 */
export function numberOption(value: string | undefined, name: string, { integer = false, min = -Infinity, max = Infinity }: NumberOptionRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  const plain = integer ? /^[0-9]+$/.test(s) : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s);
  const n = plain ? Number(s) : NaN;
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n)) || n < min || n > max) {
    const range = min > -Infinity && max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` >= ${min}` : max < Infinity ? ` <= ${max}` : '';
    usage(`${name} must be ${integer ? 'an integer' : 'a number'}${range}, got '${value}'`);
  }
  return n;
}

/** A JSON file; a file that is not JSON is an input error naming it (what: "gallery file", ...). */
export function readJsonFile(path: string, what: string): unknown {
  const text = readFileSync(path, 'utf8');
  if (!text.trim()) badInput(`${path} is empty: not a ${what}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    return badInput(`${path} is not a ${what}: not valid JSON (${messageOf(e)})`);
  }
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether anything (a file, a directory, a dangling link) is at path. */
export const occupied = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/**
 * Writes a file so that readers see the old contents or the new, never a part: a temporary file in
 * the same directory, flushed to disk, renamed over the target. An existing file keeps its mode
 * unless `mode` is given. On failure the target is untouched and the temporary file removed.
 */
export function writeAtomic(path: string, data: string | Uint8Array, mode?: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fileMode = mode ?? statSync(path, { throwIfNoEntry: false })?.mode ?? 0o666;
  try {
    const fd = openSync(tmp, 'wx', fileMode & 0o7777);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (isSystemError(e)) e.path = path; // name the file the user asked for, not the temporary one
    throw e;
  }
  try { // the rename itself survives a power cut once the directory is flushed (not possible everywhere)
    const dir = openSync(dirname(path), 'r');
    try { fsyncSync(dir); } finally { closeSync(dir); }
  } catch { /* Windows and some file systems cannot fsync a directory */ }
}

/** An image file: a missing file is a file error, anything the decoder refuses an input error naming the file. */
export function readImage(path: string): ImageInput {
  try {
    return readImageFile(path);
  } catch (e) {
    if (isSystemError(e)) throw e;
    return badInput(`${path}: not a decodable image (${errorLine(e)})`);
  }
}
