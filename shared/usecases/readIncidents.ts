/**
 * Reading stored incidents over HTTP (design §10): a page of latest versions with optional filters, and one
 * incident's latest version or every stored version. Parameters arrive as the raw query/route strings; each bad one
 * is an InputError naming it (the admin API answers 400 `INVALID_<FIELD>`). Reads are bounded per request: a page
 * reads at most `top` summary rows (never payloads, never a tenant's whole table).
 */
import { ErrorCode } from '../domain/errorCodes.js';
import { InputError, NotFoundError } from '../domain/errors.js';
import { parseTenantId } from '../domain/tenantId.js';
import { requireTimestamp } from '../domain/time.js';
import type { IncidentReader, IncidentSummary, JsonObject, LatestPageQuery, SourceKind } from '../ports.js';

export interface ReadIncidentsDeps {
  readonly incidents: IncidentReader;
}

/** `top` when absent. */
export const DEFAULT_TOP = 100;
/** The largest `top` accepted. */
export const MAX_TOP = 500;
/** Longest `status`/`severity` filter value (the APIs' values are short words). */
const MAX_FILTER_LENGTH = 64;
/** Longest incident ID accepted in a route (the table key allows 480 escaped characters). */
const MAX_INCIDENT_ID_LENGTH = 256;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The raw query parameters of `GET /api/incidents` (null or undefined = absent). */
export interface ListIncidentsParams {
  readonly tenant?: string | null;
  readonly since?: string | null;
  readonly status?: string | null;
  readonly severity?: string | null;
  readonly top?: string | null;
  readonly continuationToken?: string | null;
}

/** `200` body of `GET /api/incidents`. */
export interface IncidentList {
  readonly value: IncidentSummary[];
  readonly continuationToken?: string;
}

function present(value: string | null | undefined): value is string {
  return value !== undefined && value !== null;
}

function parseTop(raw: string | null | undefined): number {
  if (!present(raw)) return DEFAULT_TOP;
  const top = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(top >= 1 && top <= MAX_TOP))
    throw new InputError(
      'top',
      `top must be a whole number from 1 to ${MAX_TOP}; got ${JSON.stringify(raw.slice(0, 20))}.`,
    );
  return top;
}

function parseFilterValue(raw: string | null | undefined, field: string): string | undefined {
  if (!present(raw)) return undefined;
  const value = raw.trim();
  if (value === '' || value.length > MAX_FILTER_LENGTH || CONTROL.test(value))
    throw new InputError(
      field,
      `${field} must be a word of 1 to ${MAX_FILTER_LENGTH} characters (e.g. active, resolved, high); got ${JSON.stringify(raw.slice(0, 80))}.`,
    );
  return value;
}

/** Validate the parameters, then read one page of latest versions (`continuationToken` absent on the last page). */
export async function listIncidents(deps: ReadIncidentsDeps, params: ListIncidentsParams): Promise<IncidentList> {
  const status = parseFilterValue(params.status, 'status');
  const severity = parseFilterValue(params.severity, 'severity');
  const token = params.continuationToken;
  if (present(token) && token === '')
    throw new InputError('continuationToken', 'continuationToken must not be empty; omit it for the first page.');
  const query: LatestPageQuery = {
    top: parseTop(params.top),
    ...(present(params.tenant) ? { tenantId: parseTenantId(params.tenant, 'tenant') } : {}),
    ...(present(params.since) ? { since: requireTimestamp(params.since, 'since') } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(severity !== undefined ? { severity } : {}),
    ...(present(token) ? { continuationToken: token } : {}),
  };
  const page = await deps.incidents.latestPage(query);
  return page.continuationToken === undefined
    ? { value: page.value }
    : { value: page.value, continuationToken: page.continuationToken };
}

/** `200` body of `GET /api/tenants/{tenantId}/incidents/{incidentId}`: the latest version. */
export interface IncidentView {
  readonly tenantId: string;
  readonly incidentId: string;
  readonly lastUpdateTime: string;
  readonly source: SourceKind;
  readonly snapshotAt: string;
  /** As the API returned it. */
  readonly incident: JsonObject;
}

/** `200` body with `?history=true`: every stored version, oldest first. */
export interface IncidentVersions {
  readonly tenantId: string;
  readonly incidentId: string;
  readonly versions: {
    readonly lastUpdateTime: string;
    readonly source: SourceKind;
    readonly snapshotAt: string;
    readonly incident: JsonObject;
  }[];
}

/** The `history` query parameter: absent, empty or `false` → false; `true` → true; anything else an InputError. */
export function parseHistoryFlag(raw: string | null | undefined): boolean {
  if (!present(raw) || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new InputError('history', `history must be true or false; got ${JSON.stringify(raw.slice(0, 20))}.`);
}

function parseIncidentId(raw: string | undefined): string {
  const id = raw ?? '';
  if (id === '' || id.length > MAX_INCIDENT_ID_LENGTH || CONTROL.test(id))
    throw new InputError(
      'incidentId',
      `incidentId must be 1 to ${MAX_INCIDENT_ID_LENGTH} characters without control characters.`,
    );
  return id;
}

/**
 * One incident: its latest version, or with `history` every stored version oldest first. NotFoundError
 * INCIDENT_NOT_FOUND when the tenant has no such incident stored (whether or not the tenant is registered).
 */
export async function getIncident(
  deps: ReadIncidentsDeps,
  rawTenantId: string | undefined,
  rawIncidentId: string | undefined,
  history: boolean,
): Promise<IncidentView | IncidentVersions> {
  const tenantId = parseTenantId(rawTenantId ?? '', 'tenantId');
  const incidentId = parseIncidentId(rawIncidentId);
  const notFound = () =>
    new NotFoundError(`No incident ${incidentId} is stored for tenant ${tenantId}.`, ErrorCode.INCIDENT_NOT_FOUND);
  if (!history) {
    const latest = await deps.incidents.latestOf(tenantId, incidentId);
    if (latest === undefined) throw notFound();
    return {
      tenantId,
      incidentId: latest.incidentId,
      lastUpdateTime: latest.lastUpdateTime,
      source: latest.source,
      snapshotAt: latest.snapshotAt,
      incident: latest.incident,
    };
  }
  const versions: IncidentVersions['versions'] = [];
  for await (const v of deps.incidents.versionsOf(tenantId, incidentId))
    versions.push({
      lastUpdateTime: v.lastUpdateTime,
      source: v.source,
      snapshotAt: v.snapshotAt,
      incident: v.incident,
    });
  if (versions.length === 0) throw notFound();
  return { tenantId, incidentId, versions };
}
