/**
 * Small OData helpers shared by both incident sources: query strings written the way the services document
 * them (`$filter=…`, values percent-encoded, `$` kept literal), and reading a nextLink's `$skip`.
 */
import { CollectorError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import { isTimestamp } from '../domain/time.js';
import type { FetchedIncident, JsonObject, RejectedRecord } from '../ports.js';

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

/** The incidents of a page, and the records refused one by one (issue 10 §3: one bad record never fails a page). */
export interface IncidentRecords {
  readonly incidents: FetchedIncident[];
  readonly rejected: RejectedRecord[];
}

/**
 * Split an incident list answer's `value` into accepted incidents and rejected records. A record is accepted when it
 * is an object whose `idKey` is a non-empty string or a finite number and whose `timeKey` is an ISO-8601 instant
 * with a zone (`Z` or an offset; compared and keyed as UTC downstream). Anything else — a null or zone-less
 * timestamp, a missing ID, a non-object — is rejected with a reason naming the field, never guessed. Only an answer
 * without a `value` array is malformed as a whole (MALFORMED_RESPONSE, transient).
 */
export function incidentRecords(body: JsonObject, what: string, idKey: string, timeKey: string): IncidentRecords {
  const value = body.value;
  if (!Array.isArray(value)) {
    throw new CollectorError(`${what}: the answer has no 'value' array.`, {
      code: ErrorCode.MALFORMED_RESPONSE,
      kind: 'transient',
    });
  }
  const incidents: FetchedIncident[] = [];
  const rejected: RejectedRecord[] = [];
  for (const raw of value as unknown[]) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      rejected.push({ raw, reason: 'the record is not a JSON object' });
      continue;
    }
    const item = raw as JsonObject;
    const id = item[idKey];
    const incidentId =
      typeof id === 'string' && id !== '' ? id : typeof id === 'number' && Number.isFinite(id) ? String(id) : undefined;
    if (incidentId === undefined) {
      rejected.push({ raw, reason: `'${idKey}' is ${describe(id)}` });
      continue;
    }
    const time = item[timeKey];
    if (typeof time !== 'string' || !isTimestamp(time)) {
      rejected.push({
        raw,
        reason:
          typeof time === 'string'
            ? `'${timeKey}' is not an ISO-8601 instant with a time zone: ${JSON.stringify(time.slice(0, 40))}`
            : `'${timeKey}' is ${describe(time)}`,
      });
      continue;
    }
    incidents.push({ incidentId, lastUpdateTime: time, incident: item });
  }
  return { incidents, rejected };
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (value === '') return 'empty';
  return `not usable (${Array.isArray(value) ? 'array' : typeof value})`;
}
