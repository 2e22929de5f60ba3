/**
 * LegacySim: the retiring Microsoft 365 Defender `GET /api/incidents`: $top ≤ 100 (default 100) with $skip,
 * `$filter` on lastUpdateTime/createdTime, newest lastUpdateTime first, no nextLink, alerts always included,
 * and the documented quota (50/min, 1,500/hour per tenant) answered with 429 and a body naming the wait — but
 * no Retry-After header. `$orderby` is accepted and ignored: the API documents no ordering to rely on.
 */
import { randomUUID } from 'node:crypto';
import { checkAccess, intOption, unknownOptions, type ApiErrors } from './apiAccess.js';
import type { EntraSim } from './entra.js';
import { legacyIncident } from './legacyShape.js';
import { ODataFilterError, parseTimeFilter, type TimeClause } from './odataFilter.js';
import { TenantQuota } from './quota.js';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';
import type { TimeKey } from './sortedIncidents.js';
import type { DefenderWorld } from './world.js';

export const LEGACY_READ_ROLES = ['Incident.Read.All', 'Incident.ReadWrite.All'];

export interface LegacySimOptions {
  readonly quotaPerMinute?: number;
  readonly quotaPerHour?: number;
  readonly timeScale?: number;
  /** Epoch-ms clock the per-tenant quota counts on (default Date.now); see StackOptions.quotaClock. */
  readonly quotaClock?: () => number;
}

const INCIDENTS = /^\/api\/incidents\/?$/;
const ONE_INCIDENT = /^\/api\/incidents\/(\d+)\/?$/;
const FIELD_KEYS: Record<string, TimeKey> = { lastUpdateTime: 'lastUpdate', createdTime: 'createdAt' };
const MAX_TOP = 100;

function legacyError(status: number, code: string, message: string): SimResponse {
  return json(status, { error: { code, message, target: randomUUID() } });
}

const ERRORS: ApiErrors = {
  unauthorized: (message) => legacyError(401, 'Unauthorized', message),
  forbidden: () =>
    legacyError(
      403,
      'Forbidden',
      'The application does not have any of the required application permissions (Incident.ReadWrite.All, Incident.Read.All) to access the resource.',
    ),
  throttled: (seconds) =>
    legacyError(429, 'TooManyRequests', `Rate limit is exceeded. Try again in ${seconds} seconds.`),
};

export class LegacySim extends SimServer {
  private readonly quota: TenantQuota;

  constructor(
    private readonly world: DefenderWorld,
    private readonly entra: EntraSim,
    options: LegacySimOptions = {},
  ) {
    super();
    const timeScale = options.timeScale ?? 1;
    this.quota = new TenantQuota(
      [
        { limit: options.quotaPerMinute ?? 50, windowMs: 60_000 / timeScale },
        { limit: options.quotaPerHour ?? 1500, windowMs: 3_600_000 / timeScale },
      ],
      options.quotaClock,
    );
  }

  protected kindOf(_method: string, path: string): string | undefined {
    return INCIDENTS.test(path) ? 'incidents' : ONE_INCIDENT.test(path) ? 'incident' : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    if (ctx.req.kind === undefined) return legacyError(404, 'ResourceNotFound', `No route for ${ctx.req.path}`);
    if (ctx.req.method !== 'GET') return legacyError(405, 'MethodNotAllowed', 'Only GET is simulated.');
    const access = await checkAccess(ctx, this.entra, new URL(this.url).origin, LEGACY_READ_ROLES, this.quota, ERRORS);
    if (!access.ok) return access.answer;
    return ctx.req.kind === 'incident'
      ? this.oneIncident(access.tenantId, ctx)
      : this.listIncidents(access.tenantId, ctx);
  }

  private listIncidents(tenantId: string, ctx: RouteContext): SimResponse {
    const q = ctx.req.query;
    const unknown = unknownOptions(q, ['$top', '$skip', '$filter', '$orderby']);
    if (unknown.length > 0) return legacyError(400, 'InvalidRequest', `Query option '${unknown[0]}' is not supported.`);
    const top = intOption(q, '$top') ?? MAX_TOP;
    const skip = intOption(q, '$skip') ?? 0;
    if (Number.isNaN(top) || Number.isNaN(skip))
      return legacyError(400, 'InvalidRequest', 'Invalid $top or $skip value.');
    if (top > MAX_TOP)
      return legacyError(400, 'InvalidRequest', `Invalid $top value ${top}: the maximum page size is ${MAX_TOP}.`);
    let clauses: TimeClause[] = [];
    const filter = q.get('$filter');
    try {
      if (filter !== null)
        clauses = parseTimeFilter(filter, Object.keys(FIELD_KEYS)).map((c) => ({
          ...c,
          field: FIELD_KEYS[c.field] as string,
        }));
    } catch (error) {
      if (error instanceof ODataFilterError) return legacyError(400, 'InvalidRequest', error.message);
      throw error;
    }
    const selection = this.world.hasTenant(tenantId)
      ? this.world.select(tenantId, { clauses, orderBy: 'lastUpdate', descending: true })
      : { total: 0, page: () => [] };
    return json(200, {
      '@odata.context': `${this.url}/api/$metadata#Incidents`,
      value: selection.page(skip, top).map((incident) => legacyIncident(incident)),
    });
  }

  private oneIncident(tenantId: string, ctx: RouteContext): SimResponse {
    const id = ONE_INCIDENT.exec(ctx.req.path)?.[1] ?? '';
    const incident = this.world.hasTenant(tenantId) ? this.world.incident(tenantId, id) : undefined;
    if (!incident) return legacyError(404, 'ResourceNotFound', `Incident ${id} was not found.`);
    return json(200, { '@odata.context': `${this.url}/api/$metadata#Incidents/$entity`, ...legacyIncident(incident) });
  }
}
