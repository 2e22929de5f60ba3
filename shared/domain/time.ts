/**
 * Timestamps at the APIs' full precision. Graph writes 7 fractional digits (100 ns), the legacy API any
 * number from 0 to 7, and `Date` keeps only milliseconds — so instants are compared and shifted as
 * fixed-width strings `YYYY-MM-DDTHH:mm:ss.fffffffZ`, which sort lexicographically in time order.
 */

import { InputError } from './errors.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

export class TimestampError extends Error {
  constructor(value: string) {
    super(`Not an ISO-8601 timestamp with a time zone: ${JSON.stringify(value.slice(0, 64))}`);
    this.name = 'TimestampError';
  }
}

/** True when `value` parses as an ISO-8601 instant with a zone (what the APIs and `--since` accept). */
export function isTimestamp(value: string): boolean {
  return ISO.test(value) && !Number.isNaN(Date.parse(value.replace(/\.(\d{3})\d+/, '.$1')));
}

/**
 * A user-given instant (`--since`, the admin API's `since`): returned as given when valid, otherwise an InputError
 * naming the argument.
 */
export function requireTimestamp(value: string, name: string): string {
  if (value.length > 64 || !isTimestamp(value)) {
    throw new InputError(
      name,
      `${name} must be an ISO-8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z; got ${JSON.stringify(value.slice(0, 80))}.`,
    );
  }
  return value;
}

/** Normalise an ISO-8601 instant to UTC with exactly 7 fractional digits (truncating beyond 100 ns). */
export function toFixedWidth(value: string): string {
  const m = ISO.exec(value);
  if (!m) throw new TimestampError(value);
  const frac = (m[7] ?? '').padEnd(7, '0').slice(0, 7);
  const zone = m[8] ?? 'Z';
  if (zone === 'Z') {
    const base = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
    if (Number.isNaN(Date.parse(`${base}Z`))) throw new TimestampError(value);
    return `${base}.${frac}Z`;
  }
  const ms = Date.parse(
    `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`,
  );
  if (Number.isNaN(ms)) throw new TimestampError(value);
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Fixed-width form of a Date (sub-millisecond digits zero). */
export function dateToFixedWidth(date: Date): string {
  return `${date.toISOString().slice(0, 23)}0000Z`;
}

/** Compare two instants given in any accepted form: negative, zero or positive. */
export function compareInstants(a: string, b: string): number {
  const fa = toFixedWidth(a);
  const fb = toFixedWidth(b);
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}

/** The later of two instants (undefined-safe), returned in the form it was given. */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareInstants(a, b) >= 0 ? a : b;
}

/** Shift a fixed-width instant by whole milliseconds, keeping the sub-millisecond digits. */
export function shiftFixedWidth(value: string, deltaMs: number): string {
  const fixed = toFixedWidth(value);
  const ms = Date.parse(`${fixed.slice(0, 23)}Z`) + deltaMs;
  return `${new Date(ms).toISOString().slice(0, 23)}${fixed.slice(23, 27)}Z`;
}

/** Milliseconds since the epoch of an instant (sub-millisecond digits dropped). */
export function toEpochMs(value: string): number {
  return Date.parse(`${toFixedWidth(value).slice(0, 23)}Z`);
}
