/**
 * The content hash of an incident: sha256 (hex) of its canonical JSON — object keys sorted, no whitespace — so the
 * same incident hashes the same whatever key order the API used.
 *
 * Key order is that of an object whose keys were inserted in `Array.prototype.sort` order, as JSON.stringify
 * then emits them: array-index keys ("0", "17") first in numeric order, then the others in UTF-16 code-unit
 * order. That is the form every stored contentHash was computed on; it must not change (a different hash would
 * make every stored incident look changed and rewrite it).
 */
import { createHash } from 'node:crypto';

const PROTO_KEY = '__proto__';

function canonicalValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = canonicalValue(value[i]);
    return out;
  }
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  keys.sort();
  // An ordinary object literal (fast properties: JSON.stringify's fast path), keys added in sorted order.
  const sorted: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // An own `__proto__` key stays data instead of becoming the prototype.
    if (key === PROTO_KEY)
      Object.defineProperty(sorted, key, {
        value: canonicalValue(source[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else sorted[key] = canonicalValue(source[key]);
  }
  return sorted;
}

/** The canonical JSON text of a JSON value (see the module docstring for the key order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value));
}

/** sha256 (lower-case hex) of the value's canonical JSON. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
