/**
 * Admin-consent onboarding (design §8). The link carries a one-time, unguessable `state` (stored hashed, 24 h,
 * consumed by its first use whatever the outcome). The callback never trusts the returned `tenant` alone: the
 * tenant is registered only after a token for it passes the tid/roles check and one `$top=1` call succeeds.
 */
import { randomBytes } from 'node:crypto';
import { parseDisplayName } from '../domain/inputLimits.js';
import { CollectorError, ConfigError, InputError } from '../domain/errors.js';
import { afterSuccess } from '../domain/tenantState.js';
import {
  legacyRetired,
  type Clock,
  type ConsentStateStore,
  type IncidentSource,
  type Logger,
  type SourceKind,
  type SourceRegistry,
  type TenantRecord,
  type TenantStore,
  type TokenProvider,
} from '../ports.js';
import { toFailure } from './collectTenant.js';
import { configuredSource, defaultSetting, SOURCE_RETIRED, sourcePair, sourceRetiredError } from './sourceChoice.js';
import { isTenantId } from '../domain/tenantId.js';

export const CONSENT_STATE_TTL_MS = 24 * 3_600_000;
/** Bulk links may live longer than a day, at most this many days (design §8). */
export const MAX_LINK_VALID_DAYS = 30;

/** `--valid-days`: a whole number of days, 1–30 (design §8); undefined keeps the 24-hour default. */
export function parseValidDays(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const days = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_LINK_VALID_DAYS)
    throw new InputError(
      '--valid-days',
      `--valid-days must be a whole number of days from 1 to ${MAX_LINK_VALID_DAYS}; got ${JSON.stringify(text.slice(0, 20))}.`,
    );
  return days;
}
/** Expired states deleted per link created: links are made one at a time, so this keeps well ahead of them. */
export const EXPIRED_STATES_PER_LINK = 50;

export interface ConsentLinkDeps {
  readonly consentStates: ConsentStateStore;
  readonly clock: Clock;
  readonly authorityHost: string;
  readonly clientId: string;
  readonly scope: string;
  readonly redirectUri: string | undefined;
  readonly logger: Logger;
}

export interface ConsentLink {
  readonly url: string;
  readonly state: string;
  readonly expiresAt: string;
}

/**
 * A stored display name, when a new link may carry it: names stored before display names were checked (control
 * characters, over 256 characters) give undefined, so re-issuing a link never fails on an old name.
 */
export function storedNameForLink(name: string): string | undefined {
  try {
    return parseDisplayName(name, 'name');
  } catch {
    return undefined;
  }
}

const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** 32 random bytes, base64url: what createConsentLink issues. Anything else is rejected before storage. */
const STATE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Make a one-time consent link (design §8). `validDays` (1–30, bulk onboarding) replaces the 24-hour life; the
 * returned `expiresAt` says which applies. `source` asks consent for that source's scope instead of `deps.scope`
 * (`sources check` asks for Graph whatever `INCIDENT_SOURCE` is) and is recorded on the state, so the callback
 * verifies that source. Bad input → InputError naming the field.
 */
export async function createConsentLink(
  deps: ConsentLinkDeps,
  input: {
    tenant?: string;
    name?: string;
    validDays?: number;
    source?: { readonly kind: SourceKind; readonly scope: string };
  },
): Promise<ConsentLink> {
  if (!deps.redirectUri) {
    throw new ConfigError(
      'CONSENT_REDIRECT_URI',
      'Setting CONSENT_REDIRECT_URI is missing: set it to the registered redirect URI of /api/consent/callback (e.g. https://<app>.azurewebsites.net/api/consent/callback).',
    );
  }
  const tenant = input.tenant?.trim();
  let authorityTenant = 'organizations';
  let boundTenant: string | undefined;
  if (tenant !== undefined && tenant !== '') {
    if (isTenantId(tenant)) {
      boundTenant = tenant.toLowerCase();
      authorityTenant = boundTenant;
    } else if (DOMAIN.test(tenant)) {
      authorityTenant = tenant.toLowerCase();
    } else {
      throw new InputError(
        'tenant',
        `tenant must be a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com; got ${JSON.stringify(tenant.slice(0, 80))}.`,
      );
    }
  }
  const name = parseDisplayName(input.name, 'name');
  const state = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const validDays = parseValidDays(input.validDays);
  const ttlMs = validDays === undefined ? CONSENT_STATE_TTL_MS : validDays * 86_400_000;
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  await deps.consentStates.save(state, {
    ...(boundTenant ? { tenantId: boundTenant } : {}),
    ...(name ? { displayName: name } : {}),
    ...(input.source ? { source: input.source.kind } : {}),
    createdAt: now.toISOString(),
    expiresAt,
  });
  await pruneExpiredStates(deps, now);
  const url = new URL(`${deps.authorityHost}/${encodeURIComponent(authorityTenant)}/v2.0/adminconsent`);
  url.searchParams.set('client_id', deps.clientId);
  url.searchParams.set('scope', input.source?.scope ?? deps.scope);
  url.searchParams.set('redirect_uri', deps.redirectUri);
  url.searchParams.set('state', state);
  return { url: url.toString(), state, expiresAt };
}

/**
 * Housekeeping where states are made: links nobody used leave expired states behind. Failing to delete them
 * costs nothing now (an expired state is refused anyway), so it is logged and the link is still issued.
 */
async function pruneExpiredStates(deps: ConsentLinkDeps, now: Date): Promise<void> {
  try {
    const deleted = await deps.consentStates.deleteExpired(now.toISOString(), EXPIRED_STATES_PER_LINK);
    if (deleted > 0) deps.logger.info('consent.expired_states_deleted', { count: deleted });
  } catch (error) {
    deps.logger.warn('consent.expired_states_not_deleted', { message: toFailure(error).message });
  }
}

export interface ConsentCallbackDeps {
  readonly consentStates: ConsentStateStore;
  readonly tenants: TenantStore;
  readonly tokens: TokenProvider;
  readonly source: IncidentSource;
  /** Every source by kind (see sourceChoice.ts); without it only `source`/`tokens` exist. */
  readonly sources?: SourceRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The callback's query parameters (first value of each). */
export interface ConsentCallbackQuery {
  readonly state?: string;
  readonly tenant?: string;
  readonly error?: string;
  readonly error_description?: string;
  readonly admin_consent?: string;
}

export type ConsentReason =
  | 'missing_state'
  | 'invalid_state'
  | 'expired_state'
  | 'consent_error'
  | 'invalid_tenant'
  | 'tenant_mismatch'
  | 'verification_failed'
  | 'missing_permissions'
  | 'temporarily_unavailable'
  | 'source_retired';

export type ConsentOutcome =
  | { readonly ok: true; readonly tenant: TenantRecord; readonly reconsented: boolean }
  | {
      readonly ok: false;
      /** HTTP status for the page: 4xx for anything the request or the admin caused, 503 for our outage. */
      readonly status: number;
      readonly reason: ConsentReason;
      /** Raw values for the page (the renderer escapes them). */
      readonly detail?: { readonly code?: string; readonly description?: string; readonly tenantId?: string };
    };

function fail(
  status: number,
  reason: ConsentReason,
  detail?: { code?: string; description?: string; tenantId?: string },
): ConsentOutcome {
  return { ok: false, status, reason, ...(detail ? { detail } : {}) };
}

export async function completeConsent(deps: ConsentCallbackDeps, query: ConsentCallbackQuery): Promise<ConsentOutcome> {
  const state = query.state;
  if (state === undefined || state === '') return fail(400, 'missing_state');
  if (!STATE.test(state)) return fail(400, 'invalid_state');
  const record = await deps.consentStates.consume(state);
  if (!record) return fail(400, 'invalid_state');
  const now = deps.clock.now();
  if (Date.parse(record.expiresAt) <= now.getTime()) return fail(400, 'expired_state');

  // `admin_consent=True` appears even on failure: success is the absence of `error`.
  if (query.error !== undefined && query.error !== '') {
    deps.logger.warn('consent.denied', { errorCode: query.error.slice(0, 64) });
    return fail(400, 'consent_error', {
      code: query.error.slice(0, 200),
      ...(query.error_description ? { description: query.error_description.slice(0, 1000) } : {}),
    });
  }
  const returned = query.tenant?.trim() ?? '';
  if (!isTenantId(returned)) return fail(400, 'invalid_tenant');
  const tenantId = returned.toLowerCase();
  if (record.tenantId !== undefined && record.tenantId !== tenantId) {
    deps.logger.warn('consent.tenant_mismatch', { tenantId, expectedTenantId: record.tenantId });
    return fail(400, 'tenant_mismatch', { tenantId });
  }

  const existing = await deps.tenants.get(tenantId);
  try {
    await probeConsentedSource(
      deps,
      tenantId,
      record.source ?? (existing ? configuredSource(deps, existing) : undefined),
    );
  } catch (error) {
    const failure = toFailure(error);
    deps.logger.warn('consent.verification_failed', { tenantId, errorCode: failure.code, kind: failure.kind });
    if (failure.code === SOURCE_RETIRED) {
      // Status unchanged (a new tenant is not registered); the operator's message names the moving command.
      deps.logger.warn('consent.source_retired', { tenantId, message: failure.message });
      return fail(409, 'source_retired', { code: failure.code, tenantId });
    }
    if (failure.kind === 'missing_permissions')
      return fail(403, 'missing_permissions', { code: failure.code, tenantId });
    if (failure.kind === 'transient') return fail(503, 'temporarily_unavailable', { code: failure.code, tenantId });
    return fail(400, 'verification_failed', { code: failure.code, tenantId });
  }

  const displayName = record.displayName ?? existing?.displayName ?? tenantId;
  if (existing?.status === 'disabled') {
    // Consent does not override an operator's decision to disable the tenant.
    const tenant = await deps.tenants.upsert(tenantId, { consentedAt: now.toISOString(), displayName });
    deps.logger.info('consent.registered', { tenantId, reconsented: true, status: 'disabled' });
    return { ok: true, tenant, reconsented: true };
  }
  // Re-consent keeps the checkpoint (upsert never touches the checkpoint) and returns the tenant to active.
  const tenant = await deps.tenants.upsert(tenantId, {
    ...afterSuccess(existing, now, { collected: false }),
    consentedAt: now.toISOString(),
    displayName,
    lastProbeAt: now.toISOString(),
  });
  deps.logger.info('consent.registered', { tenantId, reconsented: existing !== undefined });
  return { ok: true, tenant, reconsented: existing !== undefined };
}

/**
 * Prove token and API access for a consenting tenant on the source its consent was for: the link's recorded
 * source (a Graph link from `sources check` → Graph), else the tenant's own column, else `INCIDENT_SOURCE`
 * (`auto`: Graph when its token carries the read role, else the legacy API). Nothing is written (the tenant may not
 * be registered yet). The legacy API from 2027-02-01 (injected clock) → SOURCE_RETIRED before any call to it.
 */
async function probeConsentedSource(
  deps: ConsentCallbackDeps,
  tenantId: string,
  consented: SourceKind | 'auto' | undefined,
): Promise<SourceKind> {
  const setting = consented ?? defaultSetting(deps);
  const retiredCheck = () => {
    if (legacyRetired(deps.clock.now())) throw sourceRetiredError(tenantId);
  };
  if (setting !== 'auto') {
    if (setting === 'm365d') retiredCheck();
    const pair = sourcePair(deps, setting);
    await pair.tokens.getToken(tenantId);
    await pair.source.probe(tenantId);
    return setting;
  }
  const graph = sourcePair(deps, 'graph');
  try {
    await graph.tokens.getToken(tenantId);
  } catch (error) {
    if (!(error instanceof CollectorError) || error.kind !== 'missing_permissions') throw error;
    retiredCheck();
    const legacy = sourcePair(deps, 'm365d');
    await legacy.tokens.getToken(tenantId);
    await legacy.source.probe(tenantId);
    return 'm365d';
  }
  await graph.source.probe(tenantId);
  return 'graph';
}
