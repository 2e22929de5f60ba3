/**
 * The operator's view (design §11 `GET /api/status`, `incident-collector status`): health, the tenants that need
 * action with what fixes them (tenantAdvice.ts), every tenant a page at a time (optionally of one status), the last
 * runs, and each subscription's backlog and dead letters when delivery is wired. Read from storage only.
 */
import { ensureError, InputError } from '../domain/errors.js';
import { TENANT_STATUSES } from '../domain/tenantState.js';
import type { RunRecord, RunStore, SubscriptionSummary, TenantStatus } from '../ports.js';
import { readHealth, type HealthDeps, type HealthReport } from './health.js';
import { adviseTenants, type TenantAdvice } from './tenantAdvice.js';

/** Tenants per page of the "all tenants" list. */
export const STATUS_PAGE_SIZE = 100;
/** Tenants needing action shown in full; beyond, the view says how many more and links the status filter. */
export const NEEDS_ACTION_SHOWN = 50;
/** Runs in "last runs". */
export const RECENT_RUNS_SHOWN = 10;

export interface StatusViewDeps extends HealthDeps {
  readonly runs: RunStore;
  /** Delivery's subscriptions (`subscriptions list` entries); absent while delivery is not wired. */
  readonly subscriptions?: () => Promise<readonly SubscriptionSummary[]>;
}

/** Which slice of the tenant list to show. */
export interface StatusQuery {
  /** 1-based page of {@link STATUS_PAGE_SIZE} tenants. */
  readonly page: number;
  /** Only tenants of this status; undefined: all. */
  readonly status?: TenantStatus;
}

export interface StatusView {
  readonly health: HealthReport;
  readonly needsAction: { readonly total: number; readonly shown: readonly TenantAdvice[] };
  readonly tenants: {
    /** Tenants matching the filter. */
    readonly total: number;
    readonly page: number;
    /** At least 1. */
    readonly pages: number;
    readonly status?: TenantStatus;
    readonly rows: readonly TenantAdvice[];
  };
  /** Newest first; null when the Runs table could not be read. */
  readonly runs: readonly RunRecord[] | null;
  /**
   * `not_wired`: delivery provides no list (the view says "No subscriptions"); `unreadable`: its read failed;
   * `ok` with the list (maybe empty).
   */
  readonly subscriptions:
    | { readonly state: 'ok'; readonly list: readonly SubscriptionSummary[] }
    | { readonly state: 'not_wired' | 'unreadable' };
}

/**
 * The query parameters `page` (a whole number ≥ 1, default 1) and `status` (a tenant status, default all), checked:
 * InputError naming `page` or `status` otherwise.
 */
export function parseStatusQuery(raw: { readonly page?: string | null; readonly status?: string | null }): StatusQuery {
  const pageText = raw.page?.trim() ?? '';
  let page = 1;
  if (pageText !== '') {
    if (!/^\d{1,6}$/.test(pageText) || Number(pageText) < 1)
      throw new InputError('page', `page must be a whole number from 1; got ${JSON.stringify(pageText.slice(0, 20))}.`);
    page = Number(pageText);
  }
  const statusText = raw.status?.trim() ?? '';
  if (statusText === '') return { page };
  if (!(TENANT_STATUSES as readonly string[]).includes(statusText))
    throw new InputError(
      'status',
      `status must be one of ${TENANT_STATUSES.join(', ')}; got ${JSON.stringify(statusText.slice(0, 40))}.`,
    );
  return { page, status: statusText as TenantStatus };
}

/** Build the view. Never throws for storage trouble: health says `unhealthy` and the lists come back empty. */
export async function buildStatusView(deps: StatusViewDeps, query: StatusQuery): Promise<StatusView> {
  const { report, tenants } = await readHealth(deps);
  const advice = adviseTenants(tenants, { now: deps.clock.now(), defaultSource: deps.defaultSource });
  const needing = advice.filter((a) => a.needsAction);
  const matching = query.status === undefined ? advice : advice.filter((a) => a.status === query.status);
  const pages = Math.max(1, Math.ceil(matching.length / STATUS_PAGE_SIZE));
  const page = Math.min(query.page, pages);
  const [runs, subscriptions] = await Promise.all([recentRuns(deps), subscriptionList(deps)]);
  return {
    health: report,
    needsAction: { total: needing.length, shown: needing.slice(0, NEEDS_ACTION_SHOWN) },
    tenants: {
      total: matching.length,
      page,
      pages,
      ...(query.status !== undefined ? { status: query.status } : {}),
      rows: matching.slice((page - 1) * STATUS_PAGE_SIZE, page * STATUS_PAGE_SIZE),
    },
    runs,
    subscriptions,
  };
}

async function recentRuns(deps: StatusViewDeps): Promise<readonly RunRecord[] | null> {
  try {
    return await deps.runs.recent(RECENT_RUNS_SHOWN);
  } catch (error) {
    deps.logger.error('status.runs_failed', { message: ensureError(error).message });
    return null;
  }
}

async function subscriptionList(deps: StatusViewDeps): Promise<StatusView['subscriptions']> {
  if (!deps.subscriptions) return { state: 'not_wired' };
  try {
    return { state: 'ok', list: await deps.subscriptions() };
  } catch (error) {
    deps.logger.error('status.subscriptions_failed', { message: ensureError(error).message });
    return { state: 'unreadable' };
  }
}
