/**
 * Limits on user-supplied values (issue 10 §5), checked once at the use-case boundary — before any token, API or
 * storage call — so the CLI (exit 2), the admin API (HTTP 400) and the consent flow refuse the same values with
 * the same message naming the field. Tenant IDs (`parseTenantId`) and instants (`requireTimestamp`) have their
 * own parsers; this module holds the free-text ones.
 */
import { InputError } from './errors.js';

/** Display names: at most 256 characters (what consent links always allowed; far below Table Storage's 32K). */
export const MAX_DISPLAY_NAME_LENGTH = 256;

// C0/C1 control characters (newlines, tabs, escapes): they break the CLI's tables, logs and CSV-minded readers.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A tenant display name as given by a user: trimmed; undefined when absent or blank. An InputError naming `field`
 * when longer than MAX_DISPLAY_NAME_LENGTH characters (code points) or holding control characters.
 */
export function parseDisplayName(value: string | undefined, field = 'name'): string | undefined {
  if (value === undefined) return undefined;
  const name = value.trim();
  if (name === '') return undefined;
  const length = [...name].length;
  if (length > MAX_DISPLAY_NAME_LENGTH)
    throw new InputError(field, `${field} must be at most ${MAX_DISPLAY_NAME_LENGTH} characters; got ${length}.`);
  if (CONTROL.test(name))
    throw new InputError(field, `${field} must not contain control characters (line breaks, tabs, escapes).`);
  return name;
}
