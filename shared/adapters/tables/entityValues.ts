/**
 * Reading typed values back from entities. Int64 columns come back as bigint (JSON.stringify throws on it), and
 * empty strings mean "cleared" (Merge cannot remove a property), so both are normalised here.
 */

export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

/** A string column, with '' (a cleared value) read as absent. */
export function asOptionalString(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  return undefined;
}

export function asString(value: unknown, fallback = ''): string {
  return asOptionalString(value) ?? fallback;
}

/** Drop undefined values (a patch field left undefined means "leave unchanged"). */
export function definedOnly<T extends Record<string, unknown>>(values: T): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'bigint') out[key] = Number(value);
  }
  return out;
}
