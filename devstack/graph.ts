/**
 * GraphSim: Microsoft Graph `GET /v1.0/security/incidents` (+ `/incidents/{id}` and the `alerts_v2` fallback),
 * with the observed limits: $top ≤ 50, $skip ≤ 500, `$filter` on lastUpdateDateTime (and createdDateTime),
 * `$orderby`, `$expand=alerts`, `$count`, whole-URL `@odata.nextLink`, per-tenant quota with Retry-After, and
 * the persistent 500 of `$expand=alerts` on large tenants (`failExpandAbove`).
 */
import { randomUUID } from 'node:crypto';
import { checkAccess, intOption, unknownOptions, type ApiErrors } from './apiAccess.js';
import type { EntraSim } from './entra.js';
import { graphAlerts, graphIncident } from './graphShape.js';
import { ODataFilterError, parseTimeFilter, type TimeClause } from './odataFilter.js';
import { TenantQuota } from './quota.js';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';
import type { TimeKey } from './sortedIncidents.js';
import type { DefenderWorld } from './world.js';

export const GRAPH_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];

export interface GraphSimOptions {
  readonly quotaPerMinute?: number;
  readonly timeScale?: number;
  /** Epoch-ms clock the per-tenant quota counts on (default Date.now); see StackOptions.quotaClock. */
  readonly quotaClock?: () => number;
}

const INCIDENTS = '/v1.0/security/incidents';
const ONE_INCIDENT = /^\/v1\.0\/security\/incidents\/(\d+)\/?$/;
const ALERTS = '/v1.0/security/alerts_v2';
const FIELD_KEYS: Record<string, TimeKey> = { lastUpdateDateTime: 'lastUpdate', createdDateTime: 'createdAt' };
const MAX_TOP = 50;
const MAX_SKIP = 500;

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  const requestId = randomUUID();
  return json(
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': requestId,
        },
      },
    },
    headers,
  );
}

const badRequest = (message: string) => graphError(400, 'BadRequest', message);

const ERRORS: ApiErrors = {
  unauthorized: (message) => graphError(401, 'InvalidAuthenticationToken', message),
  forbidden: () =>
    graphError(
      403,
      'Forbidden',
      'Missing application roles. API required roles: SecurityIncident.Read.All, SecurityIncident.ReadWrite.All.',
    ),
  throttled: (seconds) =>
    graphError(
      429,
      'TooManyRequests',
      'Too many requests. Please retry after the time specified in the Retry-After header.',
      { 'retry-after': String(seconds) },
    ),
};

export class GraphSim extends SimServer {
  private readonly quota: TenantQuota;
  private expandLimit: number | undefined;
  private readonly pageSortedOnly = new Set<string>();

  constructor(
    private readonly world: DefenderWorld,
    private readonly entra: EntraSim,
    options: GraphSimOptions = {},
  ) {
    super();
    const timeScale = options.timeScale ?? 1;
    this.quota = new TenantQuota(
      [{ limit: options.quotaPerMinute ?? 150, windowMs: 60_000 / timeScale }],
      options.quotaClock,
    );
  }

  /** `$expand=alerts` answers 500 (persistently) for tenants with more than `n` incidents; null turns it off. */
  failExpandAbove(n: number | null): void {
    this.expandLimit = n ?? undefined;
  }

  /**
   * The tenant's incident list ignores `$orderby` across pages (a fault seen in public reports): the query is served
   * newest first, and only each page is sorted as asked. `false` restores the honest order.
   */
  sortPagesOnly(tenantId: string, on = true): void {
    if (on) this.pageSortedOnly.add(tenantId.toLowerCase());
    else this.pageSortedOnly.delete(tenantId.toLowerCase());
  }

  /** Every tenant's list is served in the order asked again (undoes sortPagesOnly). */
  restoreOrder(): void {
    this.pageSortedOnly.clear();
  }

  protected kindOf(_method: string, path: string): string | undefined {
    if (path === INCIDENTS || path === `${INCIDENTS}/`) return 'incidents';
    if (ONE_INCIDENT.test(path)) return 'incident';
    if (path === ALERTS || path === `${ALERTS}/`) return 'alerts';
    return undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    if (ctx.req.kind === undefined)
      return graphError(
        400,
        'BadRequest',
        `Resource not found for the segment '${ctx.req.path.split('/').pop() ?? ''}'.`,
      );
    if (ctx.req.method !== 'GET') return graphError(405, 'MethodNotAllowed', 'Only GET is simulated.');
    const access = await checkAccess(ctx, this.entra, new URL(this.url).origin, GRAPH_READ_ROLES, this.quota, ERRORS);
    if (!access.ok) return access.answer;
    if (ctx.req.kind === 'incidents') return this.listIncidents(access.tenantId, ctx);
    if (ctx.req.kind === 'incident') return this.oneIncident(access.tenantId, ctx);
    return this.listAlerts(access.tenantId, ctx);
  }

  private listIncidents(tenantId: string, ctx: RouteContext): SimResponse {
    const q = ctx.req.query;
    const unknown = unknownOptions(q, ['$top', '$skip', '$filter', '$orderby', '$expand', '$count']);
    if (unknown.length > 0) return badRequest(`Query option '${unknown[0]}' is not supported.`);
    const top = intOption(q, '$top') ?? MAX_TOP;
    const skip = intOption(q, '$skip') ?? 0;
    if (Number.isNaN(top)) return badRequest(`Invalid value '${q.get('$top')}' for $top query option found.`);
    if (Number.isNaN(skip)) return badRequest(`Invalid value '${q.get('$skip')}' for $skip query option found.`);
    if (top > MAX_TOP)
      return badRequest(
        `The limit of '${MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '${top}'.`,
      );
    if (skip > MAX_SKIP)
      return badRequest(
        `The limit of '${MAX_SKIP}' for Skip query has been exceeded. The value from the incoming request is '${skip}'.`,
      );
    const expand = q.get('$expand');
    if (expand !== null && expand !== 'alerts')
      return badRequest(`Could not find a property named '${expand}' on type 'microsoft.graph.security.incident'.`);
    const count = q.get('$count');
    if (count !== null && count !== 'true' && count !== 'false')
      return badRequest(`Invalid value '${count}' for $count query option found.`);
    const order = parseOrderBy(q.get('$orderby'));
    if (!order)
      return badRequest(
        `Invalid $orderby '${q.get('$orderby')}': only lastUpdateDateTime or createdDateTime, asc or desc.`,
      );
    let clauses: TimeClause[] = [];
    const filter = q.get('$filter');
    try {
      if (filter !== null)
        clauses = parseTimeFilter(filter, Object.keys(FIELD_KEYS)).map((c) => ({
          ...c,
          field: FIELD_KEYS[c.field] as string,
        }));
    } catch (error) {
      if (error instanceof ODataFilterError) return badRequest(error.message);
      throw error;
    }
    if (expand && this.expandLimit !== undefined && this.world.incidentCount(tenantId) > this.expandLimit) {
      return graphError(500, 'InternalServerError', 'An internal server error occurred while processing the request.');
    }
    const pagesOnly = this.pageSortedOnly.has(tenantId.toLowerCase()) && q.get('$orderby') !== null;
    const selection = this.world.hasTenant(tenantId)
      ? this.world.select(tenantId, { clauses, ...order, ...(pagesOnly ? { descending: !order.descending } : {}) })
      : { total: 0, page: () => [] };
    const page = selection.page(skip, top);
    if (pagesOnly) {
      const key = order.orderBy === 'lastUpdate' ? 'lastUpdateDateTime' : 'createdDateTime';
      const at = (i: (typeof page)[number]) => String(graphIncident(i, false)[key]);
      page.sort((a, b) => (order.descending ? at(b).localeCompare(at(a)) : at(a).localeCompare(at(b))));
    }
    const body: Record<string, unknown> = {
      '@odata.context': `${this.url}/v1.0/$metadata#security/incidents${expand ? '(alerts())' : ''}`,
    };
    if (count === 'true') body['@odata.count'] = selection.total;
    body.value = page.map((incident) => graphIncident(incident, expand === 'alerts'));
    if (page.length > 0 && skip + page.length < selection.total)
      body['@odata.nextLink'] = this.nextLink(ctx, skip + page.length);
    return json(200, body);
  }

  private oneIncident(tenantId: string, ctx: RouteContext): SimResponse {
    const id = ONE_INCIDENT.exec(ctx.req.path)?.[1] ?? '';
    const expand = ctx.req.query.get('$expand');
    if (expand !== null && expand !== 'alerts')
      return badRequest(`Could not find a property named '${expand}' on type 'microsoft.graph.security.incident'.`);
    const incident = this.world.hasTenant(tenantId) ? this.world.incident(tenantId, id) : undefined;
    if (!incident) return graphError(404, 'NotFound', `Incident '${id}' was not found.`);
    return json(200, {
      '@odata.context': `${this.url}/v1.0/$metadata#security/incidents/$entity`,
      ...graphIncident(incident, expand === 'alerts'),
    });
  }

  private listAlerts(tenantId: string, ctx: RouteContext): SimResponse {
    const q = ctx.req.query;
    const unknown = unknownOptions(q, ['$top', '$skip', '$filter']);
    if (unknown.length > 0) return badRequest(`Query option '${unknown[0]}' is not supported.`);
    const m = /^\s*incidentId\s+eq\s+'(\d+)'\s*$/.exec(q.get('$filter') ?? '');
    if (!m?.[1]) return badRequest("Only $filter=incidentId eq '<id>' is simulated for alerts_v2.");
    const top = intOption(q, '$top') ?? MAX_TOP;
    const skip = intOption(q, '$skip') ?? 0;
    if (Number.isNaN(top) || Number.isNaN(skip) || top > 2000) return badRequest('Invalid $top or $skip.');
    const incident = this.world.hasTenant(tenantId) ? this.world.incident(tenantId, m[1]) : undefined;
    const alerts = incident ? graphAlerts(incident) : [];
    const page = alerts.slice(skip, skip + top);
    const body: Record<string, unknown> = {
      '@odata.context': `${this.url}/v1.0/$metadata#security/alerts_v2`,
      value: page,
    };
    if (page.length > 0 && skip + page.length < alerts.length)
      body['@odata.nextLink'] = this.nextLink(ctx, skip + page.length);
    return json(200, body);
  }

  /** The whole next URL: the same query with `$skip` advanced. */
  private nextLink(ctx: RouteContext, skip: number): string {
    const next = new URL(`${this.url}${ctx.req.path}`);
    for (const [k, v] of ctx.req.query) if (k !== '$skip') next.searchParams.append(k, v);
    next.searchParams.set('$skip', String(skip));
    return next.toString();
  }
}

function parseOrderBy(raw: string | null): { orderBy: TimeKey; descending: boolean } | undefined {
  if (raw === null) return { orderBy: 'createdAt', descending: true };
  const m = /^\s*(lastUpdateDateTime|createdDateTime)(?:\s+(asc|desc))?\s*$/.exec(raw);
  if (!m?.[1]) return undefined;
  return { orderBy: FIELD_KEYS[m[1]] as TimeKey, descending: m[2] === 'desc' };
}
