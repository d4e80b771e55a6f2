// Validation of the options objects of public calls: each field is its documented type and range,
// or the call is refused with OptionError naming the field, what it takes and what it got. Unknown
// keys are refused too: a misspelt option silently falling back to its default is how security
// settings get lost.
import { OptionError } from './errors.js';

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return Object.prototype.toString.call(v);
}

/** An options argument: undefined gives {}, a plain object is checked for unknown keys, anything else is refused. */
export function optionsObject<T extends object>(value: unknown, what: string, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OptionError(`${what} must be an object, got ${describeValue(value)}`);
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) throw new OptionError(`${what} has no option '${k}' (known: ${known.join(', ')})`);
  }
  return value as Partial<T>;
}

/** A number in [lo, hi] (integer when asked), or undefined. */
export function optNumber(v: unknown, name: string, lo: number, hi: number, integer = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new OptionError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${describeValue(v)}`);
  }
  return v;
}

export function optBoolean(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new OptionError(`${name} must be true or false, got ${describeValue(v)}`);
  return v;
}

export function optString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new OptionError(`${name} must be a non-empty string, got ${describeValue(v)}`);
  return v;
}

/** Own-property lookup: names like 'constructor' or '__proto__' are not entries of a table. */
export function lookup<V>(table: Readonly<Record<string, V>>, key: unknown): V | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
