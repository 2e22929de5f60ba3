/**
 * Small OData helpers shared by both incident sources: query strings written the way the services document
 * them (`$filter=…`, values percent-encoded, `$` kept literal), and reading a nextLink's `$skip`.
 */
import { CollectorError } from '../domain/errors.js';
import type { JsonObject } from '../ports.js';
import { ErrorCode } from '../domain/errorCodes.js';

/** `base?$k=v&…` with values percent-encoded (spaces as %20, which every OData service accepts). */
export function odataUrl(base: string, params: ReadonlyArray<readonly [string, string | number]>): string {
  const query = params.map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`).join('&');
  return query === '' ? base : `${base}?${query}`;
}

/** The `$skip` of a URL (0 when absent or unreadable). */
export function skipOf(url: string): number {
  try {
    const params = new URL(url).searchParams;
    const raw = params.get('$skip') ?? params.get('%24skip');
    const skip = raw === null ? 0 : Number(raw);
    return Number.isFinite(skip) && skip > 0 ? skip : 0;
  } catch {
    return 0;
  }
}

/** The `value` array of an OData collection answer, each element an object. */
export function odataValue(body: JsonObject, what: string): JsonObject[] {
  const value = body.value;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    throw new CollectorError(`${what}: the answer has no 'value' array of objects.`, {
      code: ErrorCode.MALFORMED_RESPONSE,
      kind: 'transient',
    });
  }
  return value as JsonObject[];
}

/** A string property every incident must carry (id, lastUpdate…), or a clear error. */
export function requiredString(item: JsonObject, key: string, what: string): string {
  const value = item[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new CollectorError(`${what}: an item lacks '${key}'.`, {
    code: ErrorCode.MALFORMED_RESPONSE,
    kind: 'transient',
  });
}
