/**
 * Liveness: the app answers, and when the last run finished. Nothing about tenants, so a host may show it to an
 * anonymous caller. A storage outage reports `unavailable` (still no detail; the cause is logged).
 *
 * With a clock, the partner credential recorded on the newest finished run (design §11, issue 13) is checked:
 * expired or expiring within 30 days → `degraded` with a `CREDENTIAL_EXPIRED` / `CREDENTIAL_EXPIRING` problem; a
 * Key Vault credential stored without an expiry → a `CREDENTIAL_EXPIRY_UNKNOWN` problem that alone leaves `ok`.
 *
 * From 2027-01-01 (the injected clock) the report is `degraded` while any tenant still collects from the retiring
 * legacy API (design §11): `problems` then names how many, never which.
 */
import { ensureError } from '../domain/errors.js';
import { partnerCredentialProblem } from './credentialStatus.js';
import {
  LEGACY_RETIREMENT,
  legacyDeadlineNear,
  type Clock,
  type Logger,
  type RunStore,
  type SourceSetting,
  type TenantRecord,
  type TenantStore,
} from '../ports.js';

/** One reason the app is not fully healthy: a stable code and a sentence without tenant data. */
export interface HealthProblem {
  readonly code: string;
  readonly message: string;
}

export interface HealthReport {
  /** `ok` and `degraded` are answered 200 by the HTTP host, `unavailable` 503. */
  readonly status: 'ok' | 'degraded' | 'unavailable';
  readonly lastRunFinishedAt: string | null;
  /**
   * Present when there is something to say: every `degraded` report has at least one; an `ok` report may carry
   * problems that do not degrade by themselves (`CREDENTIAL_EXPIRY_UNKNOWN`). Never a secret or tenant ID.
   */
  readonly problems?: readonly HealthProblem[];
}

/** Code of the problem "N tenants still collect from the legacy API" (from 2027-01-01). */
export const LEGACY_SOURCE_IN_USE = 'LEGACY_SOURCE_IN_USE';

/** Tenants that are not collected at all (disabled, never consented) do not count as collecting from a source. */
const NOT_COLLECTING = new Set(['disabled', 'pending_consent']);

/**
 * Whether the tenant still collects from the legacy API: its own column says `m365d`, or it has none and
 * INCIDENT_SOURCE is `m365d` — or `auto`, which pins a tenant to `graph` the first time Graph is ready, so an
 * `auto` tenant without the column has not been collected from Graph yet.
 */
export function collectsFromLegacy(tenant: TenantRecord, defaultSource: SourceSetting): boolean {
  if (NOT_COLLECTING.has(tenant.status)) return false;
  return (tenant.source ?? defaultSource) !== 'graph';
}

/** How long the anonymous health endpoint reuses a count of tenants on the legacy API (ms). */
export const LEGACY_COUNT_TTL_MS = 60_000;

/**
 * An in-process cache of "how many tenants collect from the legacy API", so an anonymous caller cannot make every
 * request scan the Tenants table: a count is reused for `ttlMs` by the injected clock (a clock that went back
 * reloads), concurrent misses share one scan, and a failed scan is not cached.
 */
export class LegacyCountCache {
  private cached: { readonly at: number; readonly source: SourceSetting; readonly count: number } | undefined;
  private loading: Promise<number> | undefined;

  constructor(private readonly ttlMs: number = LEGACY_COUNT_TTL_MS) {}

  /** The cached count when fresh, else the count of `tenants` (one `list()`), remembered at `clock.now()`. */
  async count(tenants: TenantStore, clock: Clock, defaultSource: SourceSetting): Promise<number> {
    const now = clock.now().getTime();
    const c = this.cached;
    if (c && c.source === defaultSource && now >= c.at && now - c.at < this.ttlMs) return c.count;
    this.loading ??= countOnLegacy(tenants, defaultSource).finally(() => (this.loading = undefined));
    const count = await this.loading;
    this.cached = { at: now, source: defaultSource, count };
    return count;
  }
}

async function countOnLegacy(tenants: TenantStore, defaultSource: SourceSetting): Promise<number> {
  return (await tenants.list()).filter((t) => collectsFromLegacy(t, defaultSource)).length;
}

export interface HealthDeps {
  readonly runs: RunStore;
  readonly logger: Logger;
  /**
   * With a clock, the recorded partner credential's expiry is checked; with `tenants`, `clock` and `defaultSource`,
   * the legacy-deadline check runs too (design §11).
   */
  readonly tenants?: TenantStore;
  readonly clock?: Clock;
  readonly defaultSource?: SourceSetting;
  /** Reuse the legacy count across calls (the anonymous HTTP endpoint); absent → counted on every call. */
  readonly legacyCount?: LegacyCountCache;
}

/** The health report; never throws (a storage failure is the `unavailable` report). */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  try {
    const last = await deps.runs.lastFinished();
    const problems: HealthProblem[] = [];
    let degraded = false;
    if (deps.clock) {
      const credential = await partnerCredentialProblem({ runs: deps.runs, clock: deps.clock, lastFinished: last });
      if (credential) {
        problems.push({ code: credential.code, message: credential.message });
        degraded ||= credential.degraded;
      }
    }
    if (deps.tenants && deps.clock && deps.defaultSource && legacyDeadlineNear(deps.clock.now())) {
      const onLegacy = deps.legacyCount
        ? await deps.legacyCount.count(deps.tenants, deps.clock, deps.defaultSource)
        : await countOnLegacy(deps.tenants, deps.defaultSource);
      if (onLegacy > 0) {
        degraded = true;
        problems.push({
          code: LEGACY_SOURCE_IN_USE,
          message: `${onLegacy} tenant${onLegacy === 1 ? '' : 's'} still collect${onLegacy === 1 ? 's' : ''} from the legacy incidents API, which stops on ${LEGACY_RETIREMENT.slice(0, 10)}: run "incident-collector sources check".`,
        });
      }
    }
    const lastRunFinishedAt = last?.finishedAt ?? null;
    const status = degraded ? 'degraded' : 'ok';
    return problems.length > 0 ? { status, lastRunFinishedAt, problems } : { status, lastRunFinishedAt };
  } catch (error) {
    deps.logger.error('health.storage_failed', { message: ensureError(error).message });
    return { status: 'unavailable', lastRunFinishedAt: null };
  }
}
