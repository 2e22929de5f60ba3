/**
 * Timestamps as the simulated APIs write them. The canonical form is fixed-width (7 fractional digits, 100 ns);
 * each instant is generated with its own precision (trailing zeros), so Graph shows `…45.2900000Z` and the
 * legacy API, which trims trailing zeros, shows `…45.29Z` for the same instant — both compare equal at 100 ns.
 */
import type { Prng } from './prng.js';

/** Significant fractional digits, weighted like the samples (mostly 7, sometimes 2–4, rarely none). */
const PRECISIONS = [7, 7, 7, 7, 2, 2, 3, 4, 0];

export function fixedAt(epochMs: number, prng: Prng, digits = prng.pick(PRECISIONS)): string {
  const second = Math.floor(epochMs / 1000) * 1000;
  let fraction = '';
  for (let i = 0; i < 7; i++) fraction += i < digits ? String(prng.int(0, 9)) : '0';
  return `${new Date(second).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** `now` at 100 ns: the clock's milliseconds plus four random sub-millisecond digits. */
export function fixedNow(now: Date, prng: Prng): string {
  return `${now.toISOString().slice(0, 23)}${String(prng.int(0, 9999)).padStart(4, '0')}Z`;
}

/** The legacy API's form: trailing zeros of the fraction trimmed (`.2900000` → `.29`, `.0000000` → none). */
export function trimmedText(fixed: string): string {
  return fixed.replace(/\.?0+Z$/, 'Z');
}

export function fixedToMs(fixed: string): number {
  return Date.parse(`${fixed.slice(0, 23)}Z`);
}

/** A sub-second-precision text for activity times (`…50.116Z` or `…59Z`), shown as-is by both APIs. */
export function activityText(epochMs: number, prng: Prng): string {
  const iso = new Date(Math.floor(epochMs)).toISOString();
  const style = prng.int(0, 2);
  return style === 0
    ? `${iso.slice(0, 19)}Z`
    : style === 1
      ? iso
      : `${iso.slice(0, 23)}${String(prng.int(0, 9999)).padStart(4, '0')}Z`;
}
