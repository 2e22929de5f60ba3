/**
 * Microsoft Graph `/v1.0/security/incidents` as an IncidentSource (design §6 step 4).
 * Ascending `lastUpdateDateTime` pages of up to 50, `$expand=alerts`, nextLinks followed whole.
 *
 * The checkpoint (design §6.5) is only ever offered at the end of a bounded query read whole (a time slice; at
 * first the whole window): every incident in it is then known, whatever order the server used. The promised
 * ascending order is verified page by page; while it held (on two pages or more) the highest instant read is a
 * resume hint inside the slice — used to restart before `$skip` passes 500 or after the service refuses its own
 * continuation — and once it did not hold, the slice is halved in time and read from its start instead.
 * Optional features are dropped once when refused: `$expand=alerts` failing persistently (any 5xx or timeout; large
 * tenants) → plain pages plus per-incident alert look-ups; a 400 to the first request of a query → `$orderby`
 * (then `$count`, then `$expand`) is left out, and without `$orderby` the window is read as unordered slices.
 * Records without a usable `id` or `lastUpdateDateTime` are returned as `rejected`, never failing the page.
 */
import { mapBounded } from '../lib/bounded.js';
import { CollectorError } from '../domain/errors.js';
import { compareInstants, laterOf, toEpochMs } from '../domain/time.js';
import type { FetchedIncident, IncidentPage, IncidentSource, JsonObject, PageOptions, SyncWindow } from '../ports.js';
import { scopeOf, tenantRequest, type SourceClientOptions } from './http.js';
import { GRAPH_MAX_SKIP, isDrifted, nextGraphStep } from './graphPaging.js';
import { incidentRecords, odataUrl, odataValue, skipOf } from './odata.js';
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
    const log = this.options.logger;
    /** Optional query features still in use this run, and whether the promised order may serve as a resume hint. */
    const run = { expand: this.options.expandAlerts ?? true, ordered: true, count: true, trustOrder: true };
    const windowEndMs = toEpochMs(window.to) + 1;
    // The slice being read: [sliceFrom, sliceEnd) — or up to the window's end inclusive when sliceEnd is undefined.
    let sliceFrom = window.from;
    let sliceEnd: string | undefined;
    let sliceWidthMs: number | undefined;
    // Per slice: the highest lastUpdate read (its checkpoint once read whole), and whether every page so far
    // came in the promised order (then `highest` is a resume hint inside the slice, never a checkpoint).
    let highest: string | undefined;
    let inOrder = true;
    let pagesInOrder = 0;
    let sliceRecords = 0;
    // Per query (the slice's, or a resumed one).
    let queryFrom = window.from;
    let url = '';
    let firstUrl = '';
    let previous: string | undefined;
    let seen = new Set<string>();
    let emptyPages = 0;
    let count: number | undefined;
    let driftRestarts = 0;

    const startQuery = (from: string): void => {
      queryFrom = from;
      url = this.listUrl(from, sliceEnd, window.to, run);
      firstUrl = url;
      previous = undefined;
      seen = new Set();
      emptyPages = 0;
      count = undefined;
    };
    const startSlice = (): void => {
      highest = undefined;
      inOrder = true;
      pagesInOrder = 0;
      sliceRecords = 0;
      startQuery(sliceFrom);
    };
    /** Resume inside the slice at the hint — only while the promised order held on at least two pages. */
    const resume = (why: string): boolean => {
      const hint = highest;
      if (!run.ordered || !run.trustOrder || !inOrder || pagesInOrder < 2 || hint === undefined) return false;
      if (compareInstants(hint, queryFrom) <= 0) return false;
      log?.info('graph.resume_at_hint', { tenantId, why, from: hint });
      startQuery(hint);
      return true;
    };
    /** Halve the slice (time) and read its first half from its start: a bounded query that fits Graph's paging. */
    const split = (why: string): void => {
      const fromMs = toEpochMs(sliceFrom);
      const endMs = sliceEnd === undefined ? windowEndMs : toEpochMs(sliceEnd);
      if (endMs - fromMs <= 1) {
        throw new CollectorError(
          `Graph cannot page the incidents of ${new Date(fromMs).toISOString()} (${why}); more share one millisecond than its $skip limit allows.`,
          { code: ErrorCode.GRAPH_INSTANT_OVERFLOW, kind: 'permanent' },
        );
      }
      const midMs = Math.floor((fromMs + endMs) / 2);
      sliceEnd = msInstant(midMs);
      sliceWidthMs = midMs - fromMs;
      log?.info('graph.slice_split', { tenantId, why, from: sliceFrom, before: sliceEnd });
      startSlice();
    };

    startSlice();
    for (;;) {
      seen.add(url);
      let body: JsonObject;
      try {
        body = await this.options.http.getJson(url, tenantRequest(this.options, tenantId, options));
      } catch (error) {
        if (run.expand && isServerFailure(error)) {
          // Observed on large tenants: $expand=alerts with $filter fails persistently (500, 503, 504, timeouts).
          // Drop it once for this run; the slice is read again from its start (cheap, and needs no order).
          log?.warn('graph.expand_alerts_failed', {
            tenantId,
            errorCode: (error as CollectorError).code,
            fallback: 'alerts_v2 per incident',
          });
          run.expand = false;
          startSlice();
          continue;
        }
        if (url === firstUrl && isRefusal(error)) {
          // A query we built was refused: drop an optional feature once (order first, then count, then expand).
          const feature = run.ordered ? '$orderby' : run.count ? '$count' : run.expand ? '$expand' : undefined;
          if (feature === undefined) throw error;
          log?.warn('graph.query_option_refused', {
            tenantId,
            option: feature,
            errorCode: (error as CollectorError).code,
          });
          if (feature === '$orderby') {
            run.ordered = false;
            run.trustOrder = false;
          } else if (feature === '$count') run.count = false;
          else run.expand = false;
          startSlice();
          continue;
        }
        if (url !== firstUrl && isRefusal(error)) {
          // The service refused its own continuation: restart from what is written (the hint while the order
          // held, otherwise a smaller slice from its start).
          log?.warn('graph.continuation_refused', {
            tenantId,
            errorCode: (error as CollectorError).code,
            skip: skipOf(url),
          });
          if (!resume('continuation refused')) split('continuation refused');
          continue;
        }
        throw error;
      }

      const { incidents, rejected } = incidentRecords(body, 'Graph incidents', 'id', 'lastUpdateDateTime');
      const pageCount = run.count && typeof body['@odata.count'] === 'number' ? body['@odata.count'] : undefined;
      if (isDrifted(count, pageCount, url) && driftRestarts < MAX_DRIFT_RESTARTS) {
        driftRestarts++;
        log?.info('graph.paging_drift_restart', { tenantId, previousCount: count, pageCount });
        if (!resume('paging drift')) startSlice();
        continue;
      }
      count = pageCount ?? count;
      if (run.ordered) {
        // Verify the promised ascending order, within the page and against the pages before it.
        for (const { lastUpdateTime } of incidents) {
          if (previous !== undefined && compareInstants(lastUpdateTime, previous) < 0) {
            if (inOrder) log?.warn('graph.order_not_held', { tenantId, from: sliceFrom });
            inOrder = false;
            run.trustOrder = false;
          }
          previous = laterOf(previous, lastUpdateTime);
        }
        if (inOrder) pagesInOrder++;
      }
      if (!run.expand) await this.attachAlerts(tenantId, incidents, options);
      highest = laterOf(highest, maxLastUpdate(incidents));
      sliceRecords += incidents.length;
      const extra = rejected.length > 0 ? { rejected } : {};

      emptyPages = incidents.length === 0 && rejected.length === 0 ? emptyPages + 1 : 0;
      const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
      if (nextLink !== undefined && skipOf(nextLink) > GRAPH_MAX_SKIP) {
        // Never past Graph's $skip limit: resume at the hint, or read a smaller slice.
        if (incidents.length > 0 || rejected.length > 0) yield { incidents, ...extra };
        if (!resume('deep page')) split('deep page');
        continue;
      }
      const step = nextGraphStep({ nextLink, queryFrom, highest, seen, emptyPages });
      if (step.action === 'follow') {
        if (incidents.length > 0 || rejected.length > 0) yield { incidents, ...extra };
        url = step.url;
        continue;
      }
      // The slice's query was read whole: everything in it is known, whatever order it came in (design §6.5).
      if (incidents.length > 0 || rejected.length > 0 || highest !== undefined)
        yield { incidents, ...extra, ...(highest !== undefined ? { checkpoint: highest } : {}) };
      if (sliceEnd === undefined) return;
      sliceFrom = sliceEnd;
      const width = (sliceWidthMs ?? 1) * (sliceRecords < GRAPH_MAX_SKIP / 2 ? 2 : 1);
      const fromMs = toEpochMs(sliceFrom);
      sliceEnd = fromMs + width >= windowEndMs ? undefined : msInstant(fromMs + width);
      sliceWidthMs = width;
      startSlice();
    }
  }

  /** The window's query. `$count=true` lets paging notice when incidents leave earlier positions mid-paging. */
  private listUrl(
    from: string,
    before: string | undefined,
    to: string,
    features: { readonly ordered: boolean; readonly count: boolean; readonly expand: boolean },
  ): string {
    const upper = before === undefined ? `lastUpdateDateTime le ${to}` : `lastUpdateDateTime lt ${before}`;
    return odataUrl(`${this.base}/v1.0/security/incidents`, [
      ['$filter', `lastUpdateDateTime ge ${from} and ${upper}`],
      ...(features.ordered ? [['$orderby', 'lastUpdateDateTime asc'] as const] : []),
      ['$top', this.pageSize],
      ...(features.count ? [['$count', 'true'] as const] : []),
      ...(features.expand ? [['$expand', 'alerts'] as const] : []),
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

function maxLastUpdate(incidents: readonly FetchedIncident[]): string | undefined {
  let max: string | undefined;
  for (const { lastUpdateTime } of incidents)
    if (max === undefined || compareInstants(lastUpdateTime, max) > 0) max = lastUpdateTime;
  return max;
}

/** `ms` as a fixed-width instant (an ms-aligned slice bound). */
function msInstant(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}

/**
 * What a failing `$expand=alerts` answers once the retries are spent: any 5xx (500, 502, 503, 504 are all
 * observed), or a timeout / reset. A class of failures, not one status.
 */
function isServerFailure(error: unknown): boolean {
  if (!(error instanceof CollectorError) || error.kind !== 'transient') return false;
  if (error.status !== undefined) return error.status >= 500;
  return (
    error.code !== ErrorCode.MALFORMED_RESPONSE && error.code !== ErrorCode.ABORTED && !error.code.startsWith('AADSTS')
  );
}

/**
 * A request refused as such (4xx other than auth, permission, timeout and throttling): a query option the service
 * does not take, or a continuation it no longer honours (400, 404, 410, 422 …).
 */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof CollectorError) || error.status === undefined) return false;
  return error.status >= 400 && error.status < 500 && ![401, 403, 408, 429].includes(error.status);
}
