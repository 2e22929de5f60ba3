/**
 * Tenant registry use cases (design §5 lifecycle): add (verify), enable/disable, remove, list.
 * Verification = one token (tid + roles checked) and one `$top=1` call.
 */
import { CollectorError, InputError, NotFoundError } from '../domain/errors.js';
import { parseDisplayName } from '../domain/inputLimits.js';
import { parseTenantId } from '../domain/tenantId.js';
import { afterFailure, afterSuccess, TENANT_STATUSES } from '../domain/tenantState.js';
import {
  legacyRetired,
  type Clock,
  type IncidentSource,
  type Logger,
  type SnapshotStore,
  type SourceRegistry,
  type TenantRecord,
  type TenantStatus,
  type TenantStore,
  type TokenProvider,
} from '../ports.js';
import { probeTenantSource, toFailure, type Failure } from './collectTenant.js';
import { SOURCE_RETIRED } from './sourceChoice.js';

export interface TenantDeps {
  readonly tenants: TenantStore;
  readonly snapshots: SnapshotStore;
  readonly source: IncidentSource;
  readonly tokens: TokenProvider;
  /** Every source by kind: a registered tenant is verified on its own source (see sourceChoice.ts). */
  readonly sources?: SourceRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface VerifyOutcome {
  readonly tenant: TenantRecord;
  /** Undefined when verification succeeded (or was not asked for). */
  readonly failure?: Failure;
}

/**
 * Verify a tenant now and store the status that explains the result. The probe is on the tenant's own source
 * (`probeTenantSource`: its column, else `INCIDENT_SOURCE`, `auto` falling back to the legacy API while Graph lacks
 * the role), for a new tenant too: a tenant not yet stored is first stored `pending_consent`. SOURCE_RETIRED (the
 * legacy API from 2027-02-01) leaves the status and failure count unchanged, as in collectTenant: the tenant did
 * nothing wrong, it has to be moved (`tenants set-source <id> graph`, named in the error).
 */
export async function verifyTenant(deps: TenantDeps, tenantId: string, displayName?: string): Promise<VerifyOutcome> {
  let current =
    (await deps.tenants.get(tenantId)) ??
    (await deps.tenants.upsert(tenantId, {
      displayName: displayName ?? tenantId,
      status: 'pending_consent',
      statusChangedAt: deps.clock.now().toISOString(),
      consecutiveFailures: 0,
    }));
  try {
    current = await probeTenantSource(deps, current);
  } catch (error) {
    const failure = toFailure(error);
    if (failure.code === SOURCE_RETIRED) {
      const tenant = await deps.tenants.upsert(tenantId, {
        ...(displayName !== undefined ? { displayName } : {}),
        lastErrorCode: failure.code,
        lastError: failure.message.slice(0, 1024),
        lastProbeAt: deps.clock.now().toISOString(),
      });
      deps.logger.warn('tenant.verify_failed', { tenantId, errorCode: failure.code, status: tenant.status });
      return { tenant, failure };
    }
    const patch = afterFailure(current, failure, deps.clock.now(), { collected: false });
    const tenant = await deps.tenants.upsert(tenantId, {
      ...patch,
      ...(displayName !== undefined ? { displayName } : {}),
      lastProbeAt: deps.clock.now().toISOString(),
    });
    deps.logger.warn('tenant.verify_failed', { tenantId, errorCode: failure.code, status: tenant.status });
    return { tenant, failure };
  }
  const tenant = await deps.tenants.upsert(tenantId, {
    ...afterSuccess(current, deps.clock.now(), { collected: false }),
    ...(displayName !== undefined ? { displayName } : {}),
    lastProbeAt: deps.clock.now().toISOString(),
  });
  deps.logger.info('tenant.verified', { tenantId });
  return { tenant };
}

/**
 * `tenants add`: idempotent. Re-adding keeps the checkpoint; a disabled tenant stays disabled (only its name
 * changes); without verification the tenant is stored `active` and the first collection verifies it.
 */
export async function addTenant(
  deps: TenantDeps,
  input: { tenantId: string; displayName?: string; verify: boolean },
): Promise<VerifyOutcome> {
  // Every user-supplied value is checked here, before any storage, token or API call (issue 10 §5).
  const tenantId = parseTenantId(input.tenantId);
  const givenName = parseDisplayName(input.displayName, 'name');
  const existing = await deps.tenants.get(tenantId);
  const displayName = givenName ?? existing?.displayName ?? tenantId;
  if (existing?.status === 'disabled') {
    return { tenant: await deps.tenants.upsert(tenantId, { displayName }) };
  }
  if (!input.verify) {
    const now = deps.clock.now().toISOString();
    const tenant = await deps.tenants.upsert(tenantId, {
      displayName,
      status: 'active',
      ...(existing?.status === 'active' ? {} : { statusChangedAt: now }),
      ...(existing ? {} : { consecutiveFailures: 0 }),
    });
    return { tenant };
  }
  if (!existing)
    await deps.tenants.upsert(tenantId, {
      displayName,
      status: 'pending_consent',
      statusChangedAt: deps.clock.now().toISOString(),
      consecutiveFailures: 0,
    });
  return verifyTenant(deps, tenantId, displayName);
}

/** The registered tenant with this ID (any case), or NotFoundError; a malformed ID is an InputError. */
export async function requireTenant(deps: Pick<TenantDeps, 'tenants'>, tenantIdRaw: string): Promise<TenantRecord> {
  const tenantId = parseTenantId(tenantIdRaw);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFoundError(`Tenant ${tenantId} is not registered.`);
  return tenant;
}

export async function disableTenant(deps: TenantDeps, tenantIdRaw: string): Promise<TenantRecord> {
  const tenant = await requireTenant(deps, tenantIdRaw);
  if (tenant.status === 'disabled') return tenant;
  const updated = await deps.tenants.update(tenant.tenantId, {
    status: 'disabled',
    statusChangedAt: deps.clock.now().toISOString(),
  });
  deps.logger.info('tenant.disabled', { tenantId: tenant.tenantId });
  return updated;
}

/** `enable` re-verifies and stores the resulting status. */
export async function enableTenant(deps: TenantDeps, tenantIdRaw: string): Promise<VerifyOutcome> {
  const tenant = await requireTenant(deps, tenantIdRaw);
  if (tenant.status === 'disabled') {
    // Leave `disabled` first so the verification's failure mapping sees a normal tenant.
    await deps.tenants.update(tenant.tenantId, {
      status: tenant.consentedAt ? 'active' : 'pending_consent',
      statusChangedAt: deps.clock.now().toISOString(),
    });
  }
  return verifyTenant(deps, tenant.tenantId);
}

/** `remove` keeps incidents and history unless `purge`. */
export async function removeTenant(deps: TenantDeps, tenantIdRaw: string, purge: boolean): Promise<void> {
  const tenant = await requireTenant(deps, tenantIdRaw);
  if (purge) await deps.snapshots.purgeTenant(tenant.tenantId);
  await deps.tenants.delete(tenant.tenantId);
  deps.logger.info('tenant.removed', { tenantId: tenant.tenantId, purged: purge });
}

/**
 * The public shape of a tenant (CLI `tenants list --json`, admin API). Cleared error fields read as null;
 * `incidentsRejected` counts the tenant's records kept in the quarantine (`RejectedIncidents`), 0 when none.
 */
export function tenantView(t: TenantRecord): Record<string, unknown> {
  const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);
  return {
    tenantId: t.tenantId,
    displayName: t.displayName,
    status: t.status,
    consentedAt: orNull(t.consentedAt),
    watermark: orNull(t.checkpoint),
    lastRunAt: orNull(t.lastRunAt),
    lastSuccessAt: orNull(t.lastSuccessAt),
    consecutiveFailures: t.consecutiveFailures,
    lastErrorCode: orNull(t.lastErrorCode),
    lastError: orNull(t.lastError),
    source: t.source ?? null,
    consentLinkExpiresAt: orNull(t.consentLinkExpiresAt),
    incidentsRejected: t.incidentsRejected ?? 0,
  };
}

/** `tenants set-source`: `graph`/`m365d` pins the tenant's source; `default` clears it (INCIDENT_SOURCE decides). */
export const SOURCE_CHOICES = ['graph', 'm365d', 'default'] as const;

/**
 * Set or clear a tenant's own source (design §4 `source` column). The checkpoint is kept: the next collection
 * starts from it (as an instant, with the usual overlap) on the new source, so no incident is missed across the
 * switch, and versions the old source already stored are not written again. Unknown tenant → NotFoundError; a bad
 * choice → InputError naming the argument; `m365d` from 2027-02-01 (injected clock) → CollectorError SOURCE_RETIRED.
 */
export async function setTenantSource(
  deps: Pick<TenantDeps, 'tenants' | 'logger' | 'clock'>,
  tenantIdRaw: string,
  choice: string,
): Promise<TenantRecord> {
  if (!(SOURCE_CHOICES as readonly string[]).includes(choice))
    throw new InputError(
      'source',
      `source must be one of ${SOURCE_CHOICES.join(', ')}; got ${JSON.stringify(choice.slice(0, 40))}.`,
    );
  const tenant = await requireTenant(deps, tenantIdRaw);
  if (choice === 'm365d' && legacyRetired(deps.clock.now()))
    throw new CollectorError(
      `The legacy incidents API stopped on 2027-02-01: tenant ${tenant.tenantId} cannot be moved to it (m365d). ` +
        `Use "incident-collector tenants set-source ${tenant.tenantId} graph".`,
      { code: SOURCE_RETIRED, kind: 'permanent' },
    );
  const updated = await deps.tenants.update(tenant.tenantId, {
    source: choice === 'default' ? '' : (choice as 'graph' | 'm365d'),
  });
  deps.logger.info('tenant.source_set', {
    tenantId: tenant.tenantId,
    from: tenant.source ?? 'default',
    to: updated.source ?? 'default',
  });
  return updated;
}

/** Parse `tenants list --status` values (repeatable); an unknown status is an InputError naming `--status`. */
export function parseStatuses(values: readonly string[]): ReadonlySet<TenantStatus> {
  const known: readonly string[] = TENANT_STATUSES;
  for (const v of values)
    if (!known.includes(v))
      throw new InputError('--status', `--status must be one of ${known.join(', ')}; got ${JSON.stringify(v)}.`);
  return new Set(values as TenantStatus[]);
}
