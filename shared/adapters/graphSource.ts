/**
 * Microsoft Graph `/v1.0/security/incidents` as an IncidentSource (design §6 step 4).
 * Ascending `lastUpdateDateTime` pages of up to 50, `$expand=alerts`, nextLinks followed whole; restarts at
 * the highest instant seen instead of going past `$skip` 500 (graphPaging.ts). When `$expand=alerts` keeps
 * failing with 500 (large tenants), the tenant's run switches to plain pages plus per-incident alert look-ups.
 */
import { mapBounded } from '../lib/bounded.js';
import { CollectorError } from '../domain/errors.js';
import { compareInstants } from '../domain/time.js';
import type { FetchedIncident, IncidentPage, IncidentSource, JsonObject, PageOptions, SyncWindow } from '../ports.js';
import { scopeOf, tenantRequest, type SourceClientOptions } from './http.js';
import { isDrifted, nextGraphStep, restartStep } from './graphPaging.js';
import { odataUrl, odataValue, requiredString, skipOf } from './odata.js';
import { ErrorCode } from '../domain/errorCodes.js';

export const GRAPH_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'] as const;
/** Graph's maximum `$top` for incidents. */
export const GRAPH_MAX_PAGE_SIZE = 50;
/** Drift restarts per window before offsets are trusted as they are (a tenant changing on every page). */
const MAX_DRIFT_RESTARTS = 20;

export interface GraphIncidentSourceOptions extends SourceClientOptions {
  readonly pageSize?: number;
  readonly expandAlerts?: boolean;
  /** Per-incident alert look-ups in flight at once, in the fallback. */
  readonly alertConcurrency?: number;
}

export class GraphIncidentSource implements IncidentSource {
  /** The roles any one of which allows reading (for the token provider, built before the source). */
  static readonly READ_ROLES: readonly string[] = GRAPH_READ_ROLES;
  readonly kind = 'graph' as const;
  readonly scope: string;
  readonly readRoles: readonly string[] = GRAPH_READ_ROLES;
  private readonly base: string;
  private readonly pageSize: number;
  private readonly options: GraphIncidentSourceOptions;

  constructor(options: GraphIncidentSourceOptions) {
    this.options = options;
    this.base = options.endpoint.replace(/\/+$/, '');
    this.scope = scopeOf(options.endpoint);
    this.pageSize = Math.min(GRAPH_MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? GRAPH_MAX_PAGE_SIZE));
  }

  async probe(tenantId: string, options?: PageOptions): Promise<void> {
    const body = await this.options.http.getJson(
      odataUrl(`${this.base}/v1.0/security/incidents`, [['$top', 1]]),
      tenantRequest(this.options, tenantId, options),
    );
    odataValue(body, 'Graph incidents');
  }

  async *pages(tenantId: string, window: SyncWindow, options?: PageOptions): AsyncGenerator<IncidentPage> {
    const run = { expand: this.options.expandAlerts ?? true };
    let queryFrom = window.from;
    let url = this.listUrl(queryFrom, window.to, run.expand);
    let highest: string | undefined;
    let seen = new Set<string>();
    let emptyPages = 0;
    let count: number | undefined;
    let driftRestarts = 0;

    const restartAt = (from: string): void => {
      queryFrom = from;
      url = this.listUrl(from, window.to, run.expand);
      seen = new Set();
      count = undefined;
    };

    for (;;) {
      seen.add(url);
      let body: JsonObject;
      try {
        body = await this.options.http.getJson(url, tenantRequest(this.options, tenantId, options));
      } catch (error) {
        if (run.expand && isServerError(error)) {
          // Observed on large tenants: $expand=alerts with $filter answers 500 persistently. Same window, no expand.
          this.options.logger?.warn('graph.expand_alerts_failed', {
            tenantId,
            errorCode: (error as CollectorError).code,
            fallback: 'alerts_v2 per incident',
          });
          run.expand = false;
          restartAt(highest ?? queryFrom);
          continue;
        }
        if (isBadRequest(error) && skipOf(url) > 0) {
          // The service refused a deep page: restart from what we have (or fail clearly when that is no progress).
          const step = restartStep(queryFrom, highest);
          if (step.action === 'restart') restartAt(step.from);
          continue;
        }
        throw error;
      }

      const items = odataValue(body, 'Graph incidents');
      const pageCount = typeof body['@odata.count'] === 'number' ? body['@odata.count'] : undefined;
      if (isDrifted(count, pageCount, url) && driftRestarts < MAX_DRIFT_RESTARTS) {
        driftRestarts++;
        this.options.logger?.info('graph.paging_drift_restart', { tenantId, previousCount: count, pageCount });
        restartAt(highest ?? queryFrom);
        continue;
      }
      count = pageCount ?? count;
      const incidents = items.map((item) => toFetched(item));
      if (!run.expand) await this.attachAlerts(tenantId, incidents, options);
      const pageMax = maxLastUpdate(incidents);
      if (pageMax !== undefined && (highest === undefined || compareInstants(pageMax, highest) > 0)) highest = pageMax;
      if (incidents.length > 0) yield { incidents, ...(pageMax !== undefined ? { checkpoint: pageMax } : {}) };

      emptyPages = incidents.length === 0 ? emptyPages + 1 : 0;
      const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
      const step = nextGraphStep({ nextLink, queryFrom, highest, seen, emptyPages });
      if (step.action === 'done') return;
      if (step.action === 'follow') url = step.url;
      else restartAt(step.from);
    }
  }

  /** The window's query. `$count=true` lets paging notice when incidents leave earlier positions mid-paging. */
  private listUrl(from: string, to: string, expand: boolean): string {
    return odataUrl(`${this.base}/v1.0/security/incidents`, [
      ['$filter', `lastUpdateDateTime ge ${from} and lastUpdateDateTime le ${to}`],
      ['$orderby', 'lastUpdateDateTime asc'],
      ['$top', this.pageSize],
      ['$count', 'true'],
      ...(expand ? [['$expand', 'alerts'] as const] : []),
    ]);
  }

  /** Fallback: each incident's alerts from alerts_v2, placed in `alerts` exactly as returned. */
  private async attachAlerts(
    tenantId: string,
    incidents: readonly FetchedIncident[],
    options?: PageOptions,
  ): Promise<void> {
    await mapBounded(incidents, this.options.alertConcurrency ?? 4, async (fetched) => {
      fetched.incident.alerts = await this.alertsOf(tenantId, fetched.incidentId, options);
    });
  }

  private async alertsOf(tenantId: string, incidentId: string, options?: PageOptions): Promise<JsonObject[]> {
    const alerts: JsonObject[] = [];
    const seen = new Set<string>();
    let url: string | undefined = odataUrl(`${this.base}/v1.0/security/alerts_v2`, [
      ['$filter', `incidentId eq '${incidentId.replace(/'/g, "''")}'`],
    ]);
    while (url !== undefined) {
      if (seen.has(url))
        throw new CollectorError(
          'Graph returned an alerts_v2 @odata.nextLink that was already followed (paging loop).',
          { code: ErrorCode.GRAPH_NEXTLINK_LOOP, kind: 'permanent' },
        );
      seen.add(url);
      const body = await this.options.http.getJson(url, tenantRequest(this.options, tenantId, options));
      alerts.push(...odataValue(body, 'Graph alerts_v2'));
      url = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
    }
    return alerts;
  }
}

function toFetched(item: JsonObject): FetchedIncident {
  return {
    incidentId: requiredString(item, 'id', 'Graph incidents'),
    lastUpdateTime: requiredString(item, 'lastUpdateDateTime', 'Graph incidents'),
    incident: item,
  };
}

function maxLastUpdate(incidents: readonly FetchedIncident[]): string | undefined {
  let max: string | undefined;
  for (const { lastUpdateTime } of incidents)
    if (max === undefined || compareInstants(lastUpdateTime, max) > 0) max = lastUpdateTime;
  return max;
}

/** 500 after the retries: what a failing `$expand=alerts` answers. */
function isServerError(error: unknown): boolean {
  return error instanceof CollectorError && error.status === 500;
}

function isBadRequest(error: unknown): boolean {
  return error instanceof CollectorError && error.status === 400;
}
