/**
 * The one rule for GUIDs and tenant IDs (Entra ID directory IDs are GUIDs). Used by the settings (client IDs),
 * the use cases (tenant arguments, queue messages, the consent callback) and through them by every host.
 */
import { InputError } from './errors.js';

/** A GUID in any case: 8-4-4-4-12 hexadecimal digits. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a GUID (any case, no braces or surrounding space). */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** True when `value` has the form of a tenant ID (a GUID); whether the tenant exists is another question. */
export function isTenantId(value: string): boolean {
  return isGuid(value);
}

/**
 * A tenant ID argument, trimmed and lower-cased (the stored form). Throws InputError naming `what` (the field,
 * flag or parameter the value came from) when it is not a GUID.
 */
export function parseTenantId(value: string, what = 'tenantId'): string {
  const trimmed = value.trim();
  if (!isTenantId(trimmed))
    throw new InputError(
      what,
      `${what} must be a tenant ID (a GUID such as 00000000-0000-0000-0000-000000000000); got ${JSON.stringify(trimmed.slice(0, 80))}.`,
    );
  return trimmed.toLowerCase();
}
