/**
 * Tenant lifecycle (design §4, §5, §7) as pure functions: which tenants a run collects, which it re-probes, and the
 * status a success or a failure leads to.
 */
import type { TenantPatch, TenantRecord, TenantStatus } from '../ports.js';
import type { FailureKind } from './errors.js';

/** Consecutive failed runs of transient errors after which a tenant is `failing`. */
export const FAILING_AFTER = 3;

/** Statuses a run skips, re-probing them every REPROBE_HOURS. */
const REPROBED: ReadonlySet<TenantStatus> = new Set(['pending_consent', 'consent_revoked', 'missing_permissions']);

export type RunDecision = 'collect' | 'reprobe' | 'skip';

export const TENANT_STATUSES: readonly TenantStatus[] = [
  'pending_consent',
  'active',
  'consent_revoked',
  'missing_permissions',
  'credential_error',
  'disabled',
  'failing',
];

/** What a run does with a tenant now. `credential_error` and `failing` are still collected, so they heal alone. */
export function runDecision(tenant: TenantRecord, now: Date, reprobeHours: number): RunDecision {
  if (tenant.status === 'disabled') return 'skip';
  if (!REPROBED.has(tenant.status)) return 'collect';
  const last = [tenant.lastProbeAt, tenant.statusChangedAt].filter((v): v is string => !!v).map((v) => Date.parse(v));
  const since = last.length ? Math.max(...last) : 0;
  return now.getTime() - since >= reprobeHours * 3_600_000 ? 'reprobe' : 'skip';
}

function statusChange(tenant: TenantRecord | undefined, status: TenantStatus, nowIso: string): TenantPatch {
  return tenant?.status === status ? { status } : { status, statusChangedAt: nowIso };
}

/** A collection (or verification) succeeded. */
export function afterSuccess(tenant: TenantRecord | undefined, now: Date, opts: { collected: boolean }): TenantPatch {
  const nowIso = now.toISOString();
  return {
    ...statusChange(tenant, 'active', nowIso),
    ...(tenant?.consentedAt ? {} : { consentedAt: nowIso }),
    ...(opts.collected ? { lastRunAt: nowIso, lastSuccessAt: nowIso } : {}),
    consecutiveFailures: 0,
    lastFailedRunId: '',
    lastErrorCode: '',
    lastError: '',
  };
}

/**
 * A collection or verification failed with an error of `kind`. A tenant that was never active (no `consentedAt`)
 * and fails on consent is `pending_consent`, not `consent_revoked`.
 */
export function afterFailure(
  tenant: TenantRecord | undefined,
  failure: { kind: FailureKind; code: string; message: string },
  now: Date,
  opts: { collected: boolean; runId?: string },
): TenantPatch {
  const nowIso = now.toISOString();
  // A queue retry of the same run is not another failed run.
  const sameRun = opts.runId !== undefined && tenant?.lastFailedRunId === opts.runId;
  const failures = (tenant?.consecutiveFailures ?? 0) + (sameRun ? 0 : 1);
  let status: TenantStatus;
  switch (failure.kind) {
    case 'consent_revoked':
      status = tenant?.consentedAt ? 'consent_revoked' : 'pending_consent';
      break;
    case 'missing_permissions':
      status = 'missing_permissions';
      break;
    case 'credential_error':
      status = 'credential_error';
      break;
    default: {
      // Transient or unexpected: keep the status until FAILING_AFTER runs in a row failed. A tenant never verified
      // stays pending_consent (it is not collected, so "failing" would be misleading).
      const current = tenant?.status ?? 'pending_consent';
      status = current === 'pending_consent' || failures < FAILING_AFTER ? current : 'failing';
    }
  }
  return {
    ...statusChange(tenant, status, nowIso),
    ...(opts.collected ? { lastRunAt: nowIso } : {}),
    ...(opts.runId !== undefined ? { lastFailedRunId: opts.runId } : {}),
    consecutiveFailures: failures,
    lastErrorCode: failure.code,
    lastError: failure.message.slice(0, 1024),
  };
}

/** A re-probe of a skipped tenant failed: keep its status, note the probe. */
export function afterFailedProbe(failure: { code: string; message: string }, now: Date): TenantPatch {
  return { lastProbeAt: now.toISOString(), lastErrorCode: failure.code, lastError: failure.message.slice(0, 1024) };
}
