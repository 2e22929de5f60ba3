/**
 * Health (design §11, a contract): `{ status, checkedAt, lastRun, tenants, coverage, problems }` from what is
 * stored — the newest finished `Runs` row, the `Tenants` table, the partner credential recorded on that run, and
 * delivery's dead-letter count when delivery is wired — never a live call to Entra ID or an incidents API.
 *
 * - `unhealthy` (HTTP 503): the newest finished run is older than `STALE_AFTER_MINUTES`; no run has finished and
 *   a tenant was registered longer ago than that; the newest finished run found the partner credential refused;
 *   storage cannot be read.
 * - `degraded` (200): no run finished yet; a tenant is `failing`, `credential_error`, `consent_revoked` or
 *   `missing_permissions`; the partner credential expired or expires within 30 days; events were dead-lettered in
 *   the last 24 hours (or delivery's count could not be read); from 2027-01-01 a tenant still collects from the
 *   legacy API.
 * - `healthy` otherwise; it may still carry problems that degrade nothing (`CREDENTIAL_EXPIRY_UNKNOWN`).
 *
 * The report is anonymous: counts and codes only, never a tenant ID or name, never a secret.
 */
import { ensureError } from '../domain/errors.js';
import { isPartnerCredentialCode } from '../domain/partnerCredential.js';
import { TENANT_STATUSES } from '../domain/tenantState.js';
import { partnerCredentialProblem } from './credentialStatus.js';
import {
  LEGACY_RETIREMENT,
  legacyDeadlineNear,
  type Clock,
  type DeliveryHealth,
  type Logger,
  type RunRecord,
  type RunStore,
  type SourceSetting,
  type TenantRecord,
  type TenantStatus,
  type TenantStore,
} from '../ports.js';

/** The three answers of design §11, worst last. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One reason the app is not fully healthy: a stable code and a sentence without tenant data. */
export interface HealthProblem {
  readonly code: string;
  readonly message: string;
}

/** The newest finished run as health shows it (counts of tenant outcomes; ISO 8601 UTC times). */
export interface HealthLastRun {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
}

/** The health report (design §11). */
export interface HealthReport {
  readonly status: HealthStatus;
  /** When this report was made (the injected clock), ISO 8601 UTC. */
  readonly checkedAt: string;
  /** The newest finished run of the last 7 days, or null when none finished. */
  readonly lastRun: HealthLastRun | null;
  /** How many tenants have each status (every status listed, 0 included); `{}` when storage could not be read. */
  readonly tenants: Readonly<Partial<Record<TenantStatus, number>>>;
  /**
   * Share (0–1, rounded down to 4 decimals, so 1 means every one) of collectable tenants — not `disabled`,
   * `pending_consent`, `consent_revoked` or `missing_permissions` — whose `lastSuccessAt` is within
   * `STALE_AFTER_MINUTES`; null when no tenant is collectable.
   */
  readonly coverage: number | null;
  /** Worst first; a `degraded` or `unhealthy` report has at least one. Never a secret or tenant ID. */
  readonly problems: readonly HealthProblem[];
}

/** What each health problem code does to the status; `none`: reported, but degrades nothing by itself. */
type Effect = 'unhealthy' | 'degraded' | 'none';

/** Every problem code health reports, with its effect (design §11). Codes are contracts: only add. */
export const HEALTH_PROBLEMS = {
  /** Tables could not be read: nothing else is known. */
  STORAGE_UNAVAILABLE: 'unhealthy',
  /** The newest finished run is older than STALE_AFTER_MINUTES. */
  RUN_STALE: 'unhealthy',
  /** No run finished in the last 7 days although a tenant was registered longer than STALE_AFTER_MINUTES ago. */
  RUN_OVERDUE: 'unhealthy',
  /** The newest finished run found the partner credential refused (AADSTS7000215 …). */
  PARTNER_CREDENTIAL_REJECTED: 'unhealthy',
  /** No run finished yet, and no tenant waits longer than STALE_AFTER_MINUTES. */
  NO_RUN_YET: 'degraded',
  TENANTS_FAILING: 'degraded',
  TENANTS_CREDENTIAL_ERROR: 'degraded',
  TENANTS_CONSENT_REVOKED: 'degraded',
  TENANTS_MISSING_PERMISSIONS: 'degraded',
  CREDENTIAL_EXPIRED: 'degraded',
  CREDENTIAL_EXPIRING: 'degraded',
  CREDENTIAL_EXPIRY_UNKNOWN: 'none',
  /** Delivery gave up on events in the last 24 hours. */
  EVENTS_DEAD_LETTERED: 'degraded',
  /** Delivery's own count could not be read (its storage failed): dead letters are unknown. */
  DELIVERY_STATUS_UNKNOWN: 'degraded',
  LEGACY_SOURCE_IN_USE: 'degraded',
} as const satisfies Readonly<Record<string, Effect>>;

/** A code of {@link HEALTH_PROBLEMS}. */
export type HealthProblemCode = keyof typeof HEALTH_PROBLEMS;

/** Code of the problem "N tenants still collect from the legacy API" (from 2027-01-01). */
export const LEGACY_SOURCE_IN_USE = 'LEGACY_SOURCE_IN_USE';

/** Tenants that are not collected at all (disabled, never consented) do not count as collecting from a source. */
const NOT_COLLECTING = new Set(['disabled', 'pending_consent']);

/** Statuses outside `coverage` (design §11): not collected now, by choice or until the customer acts. */
const NOT_COLLECTABLE: ReadonlySet<TenantStatus> = new Set([
  'disabled',
  'pending_consent',
  'consent_revoked',
  'missing_permissions',
]);

/** Tenant statuses that degrade health, each with its problem code and what the operator should run. */
const DEGRADING: readonly { status: TenantStatus; code: HealthProblemCode; what: string }[] = [
  { status: 'credential_error', code: 'TENANTS_CREDENTIAL_ERROR', what: 'cannot get a token (credential_error)' },
  { status: 'consent_revoked', code: 'TENANTS_CONSENT_REVOKED', what: 'lost admin consent (consent_revoked)' },
  {
    status: 'missing_permissions',
    code: 'TENANTS_MISSING_PERMISSIONS',
    what: 'lack the incident read permission (missing_permissions)',
  },
  { status: 'failing', code: 'TENANTS_FAILING', what: 'failed several runs in a row (failing)' },
];

const MINUTE_MS = 60_000;

/**
 * Whether the tenant still collects from the legacy API: its own column says `m365d`, or it has none and
 * INCIDENT_SOURCE is `m365d` — or `auto`, which pins a tenant to `graph` the first time Graph is ready, so an
 * `auto` tenant without the column has not been collected from Graph yet.
 */
export function collectsFromLegacy(tenant: TenantRecord, defaultSource: SourceSetting): boolean {
  if (NOT_COLLECTING.has(tenant.status)) return false;
  return (tenant.source ?? defaultSource) !== 'graph';
}

/**
 * When the tenant was registered, as far as its row tells (the table keeps no creation time): the earliest of its
 * consent, status change, probe, run and success times. Undefined when it carries none of them.
 */
export function registeredAt(tenant: TenantRecord): number | undefined {
  const times = [tenant.consentedAt, tenant.statusChangedAt, tenant.lastProbeAt, tenant.lastRunAt, tenant.lastSuccessAt]
    .map((v) => (v === undefined ? NaN : Date.parse(v)))
    .filter((v) => !Number.isNaN(v));
  return times.length ? Math.min(...times) : undefined;
}

/** How long the anonymous health endpoint reuses one read of the Tenants table (ms). */
export const TENANT_LIST_TTL_MS = 60_000;

/**
 * An in-process cache of the Tenants table for the anonymous health endpoint, so an anonymous caller cannot make
 * every request scan it: a list is reused for `ttlMs` by the injected clock (a clock that went back reloads) and
 * only while the newest finished run is the same one (a run that finished changes tenants, so it reloads);
 * concurrent misses share one scan, and a failed scan is not cached.
 */
export class TenantListCache {
  private cached: { readonly at: number; readonly key: string; readonly tenants: readonly TenantRecord[] } | undefined;
  private loading: Promise<TenantRecord[]> | undefined;

  constructor(private readonly ttlMs: number = TENANT_LIST_TTL_MS) {}

  /** The cached list when fresh for `key` (the newest finished run's ID, '' for none), else one `list()`. */
  async list(tenants: TenantStore, clock: Clock, key: string): Promise<readonly TenantRecord[]> {
    const now = clock.now().getTime();
    const c = this.cached;
    if (c && c.key === key && now >= c.at && now - c.at < this.ttlMs) return c.tenants;
    this.loading ??= tenants.list().finally(() => (this.loading = undefined));
    const list = await this.loading;
    this.cached = { at: now, key, tenants: list };
    return list;
  }
}

export interface HealthDeps {
  readonly runs: RunStore;
  readonly tenants: TenantStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `INCIDENT_SOURCE`: what a tenant without its own source collects from (the legacy-deadline check). */
  readonly defaultSource: SourceSetting;
  /** `STALE_AFTER_MINUTES`. */
  readonly staleAfterMinutes: number;
  /** Delivery's dead-letter count (design §9); absent while delivery is not wired → no dead-letter problem. */
  readonly deliveryHealth?: () => Promise<DeliveryHealth>;
  /** Reuse the Tenants read across calls (the anonymous HTTP endpoint); absent → read on every call. */
  readonly tenantCache?: TenantListCache;
}

/** Health and the tenant rows it was computed from (the status page and `status` command show both). */
export interface HealthSnapshot {
  readonly report: HealthReport;
  /** The tenants as read for this report; empty when storage could not be read. */
  readonly tenants: readonly TenantRecord[];
}

/** The health report; never throws (a storage failure is the `unhealthy` STORAGE_UNAVAILABLE report). */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  return (await readHealth(deps)).report;
}

/** {@link checkHealth}, returning the tenant rows too (read once). Never throws. */
export async function readHealth(deps: HealthDeps): Promise<HealthSnapshot> {
  const now = deps.clock.now();
  const checkedAt = now.toISOString();
  let last: RunRecord | undefined;
  let tenants: readonly TenantRecord[];
  try {
    last = await deps.runs.lastFinished();
    tenants = deps.tenantCache
      ? await deps.tenantCache.list(deps.tenants, deps.clock, last?.runId ?? '')
      : await deps.tenants.list();
  } catch (error) {
    deps.logger.error('health.storage_failed', { message: ensureError(error).message });
    return {
      report: {
        status: 'unhealthy',
        checkedAt,
        lastRun: null,
        tenants: {},
        coverage: null,
        problems: [
          {
            code: 'STORAGE_UNAVAILABLE',
            message:
              'Storage (the Runs and Tenants tables) cannot be read: check the storage account and the access the app has to it (AzureWebJobsStorage).',
          },
        ],
      },
      tenants: [],
    };
  }

  const found: { code: HealthProblemCode; message: string }[] = [];
  const staleMs = deps.staleAfterMinutes * MINUTE_MS;
  const minutes = `${deps.staleAfterMinutes} minute${deps.staleAfterMinutes === 1 ? '' : 's'}`;

  // The run schedule.
  if (last?.finishedAt !== undefined) {
    const age = now.getTime() - Date.parse(last.finishedAt);
    if (age > staleMs)
      found.push({
        code: 'RUN_STALE',
        message: `The newest collection run finished ${Math.floor(age / MINUTE_MS)} minutes ago, more than STALE_AFTER_MINUTES (${minutes}): check that the timer function runs (COLLECT_SCHEDULE) and the function app is started.`,
      });
  } else {
    // No finished run in the look-back, yet a tenant was collected by a run more than STALE_AFTER_MINUTES ago (a run
    // older than the look-back, or one that never finished): collection stopped. A recent lastRunAt is a run in
    // progress, judged by the rules below.
    const lastRunAt = tenants.reduce(
      (max, t) => Math.max(max, t.lastRunAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(t.lastRunAt)),
      Number.NEGATIVE_INFINITY,
    );
    // Every tenant counts, disabled ones too: a tenant registered long ago is there however its collection ended.
    const oldest = tenants.reduce(
      (min, t) => Math.min(min, registeredAt(t) ?? Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
    );
    if (now.getTime() - lastRunAt > staleMs && Number.isFinite(lastRunAt))
      found.push({
        code: 'RUN_STALE',
        message: `No collection run has finished in the last 7 days; the newest run a tenant records was ${Math.floor((now.getTime() - lastRunAt) / MINUTE_MS)} minutes ago, more than STALE_AFTER_MINUTES (${minutes}): check that the timer function runs (COLLECT_SCHEDULE) and the function app is started.`,
      });
    else if (now.getTime() - oldest > staleMs)
      found.push({
        code: 'RUN_OVERDUE',
        message: `No collection run has finished in the last 7 days, and tenants were registered more than STALE_AFTER_MINUTES (${minutes}) ago: check that the timer function runs (COLLECT_SCHEDULE) and the function app is started.`,
      });
    else
      found.push({
        code: 'NO_RUN_YET',
        message: 'No collection run has finished yet: the first one starts on the timer (COLLECT_SCHEDULE).',
      });
  }

  // The partner credential as the newest finished run met it.
  if (last !== undefined) {
    const refused =
      last.credentialFailure !== undefined && isPartnerCredentialCode(last.credentialFailure)
        ? last.credentialFailure
        : tenants.find(
            (t) =>
              t.status === 'credential_error' &&
              t.lastFailedRunId === last?.runId &&
              t.lastErrorCode !== undefined &&
              isPartnerCredentialCode(t.lastErrorCode),
          )?.lastErrorCode;
    if (refused !== undefined)
      found.push({
        code: 'PARTNER_CREDENTIAL_REJECTED',
        message: `The newest collection run found the partner credential refused by Entra ID (${refused}): rotate it, then run "incident-collector credentials check".`,
      });
    const credential = await partnerCredentialProblem({ runs: deps.runs, clock: deps.clock, lastFinished: last });
    if (credential) found.push({ code: credential.code, message: credential.message });
  }

  // Tenants.
  const counts = Object.fromEntries(TENANT_STATUSES.map((s) => [s, 0])) as Record<TenantStatus, number>;
  for (const t of tenants) counts[t.status] += 1;
  for (const { status, code, what } of DEGRADING) {
    const n = counts[status];
    if (n > 0)
      found.push({
        code,
        message: `${n} tenant${n === 1 ? '' : 's'} ${what}: run "incident-collector status" for what to do.`,
      });
  }

  // Delivery.
  if (deps.deliveryHealth) {
    try {
      const delivery = await deps.deliveryHealth();
      const n = delivery.deadLetteredLast24h;
      if (n > 0)
        found.push({
          code: 'EVENTS_DEAD_LETTERED',
          message: `${n} event${n === 1 ? ' was' : 's were'} dead-lettered in the last 24 hours: see "incident-collector subscriptions list".`,
        });
    } catch (error) {
      deps.logger.error('health.delivery_failed', { message: ensureError(error).message });
      found.push({
        code: 'DELIVERY_STATUS_UNKNOWN',
        message: 'The delivery status (dead-lettered events) could not be read.',
      });
    }
  }

  // The legacy API's retirement.
  if (legacyDeadlineNear(now)) {
    const onLegacy = tenants.filter((t) => collectsFromLegacy(t, deps.defaultSource)).length;
    if (onLegacy > 0)
      found.push({
        code: LEGACY_SOURCE_IN_USE,
        message: `${onLegacy} tenant${onLegacy === 1 ? '' : 's'} still collect${onLegacy === 1 ? 's' : ''} from the legacy incidents API, which stops on ${LEGACY_RETIREMENT.slice(0, 10)}: run "incident-collector sources check".`,
      });
  }

  const rank: Record<Effect, number> = { unhealthy: 0, degraded: 1, none: 2 };
  const sorted = [...found].sort((a, b) => rank[HEALTH_PROBLEMS[a.code]] - rank[HEALTH_PROBLEMS[b.code]]);
  const effects = new Set(sorted.map((p) => HEALTH_PROBLEMS[p.code]));
  const status: HealthStatus = effects.has('unhealthy')
    ? 'unhealthy'
    : effects.has('degraded')
      ? 'degraded'
      : 'healthy';
  return {
    report: {
      status,
      checkedAt,
      lastRun: last?.finishedAt !== undefined ? lastRunOf(last, last.finishedAt) : null,
      tenants: counts,
      coverage: coverageOf(tenants, now.getTime(), staleMs),
      problems: sorted.map(({ code, message }) => ({ code, message })),
    },
    tenants,
  };
}

function lastRunOf(run: RunRecord, finishedAt: string): HealthLastRun {
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt,
    ok: run.tenantsOk,
    failed: run.tenantsFailed,
    skipped: run.tenantsSkipped,
  };
}

/** design §11 `coverage`; see {@link HealthReport.coverage}. */
export function coverageOf(tenants: readonly TenantRecord[], nowMs: number, staleMs: number): number | null {
  const collectable = tenants.filter((t) => !NOT_COLLECTABLE.has(t.status));
  if (collectable.length === 0) return null;
  const fresh = collectable.filter((t) => {
    const at = t.lastSuccessAt === undefined ? NaN : Date.parse(t.lastSuccessAt);
    return !Number.isNaN(at) && nowMs - at <= staleMs;
  }).length;
  return Math.floor((fresh / collectable.length) * 10_000) / 10_000;
}

/** The HTTP answer of a report (design §11): 503 when `unhealthy`, else 200. */
export function healthHttpStatus(report: HealthReport): 200 | 503 {
  return report.status === 'unhealthy' ? 503 : 200;
}
