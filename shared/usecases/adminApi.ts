/**
 * The admin API (function key): the tenant lifecycle of the CLI over HTTP. Each operation takes the raw request
 * values, calls the tenant use cases and answers `{ status, body }` with JSON bodies; errors are
 * `{ error: { code, message } }` — 400 for a bad tenant ID or parameter, 404 for an unknown tenant, 409 for a
 * request the tenant's state forbids. Unexpected failures answer 500 with a generic message (details are logged).
 */
import { ConfigError, ConflictError, ensureError, NotFoundError } from '../domain/errors.js';
import { parseTenantId } from '../domain/tenantId.js';
import { requireTimestamp } from '../domain/time.js';
import type { Logger, RunStore, TenantStatus } from '../ports.js';
import { createConsentLink, type ConsentLinkDeps } from './consent.js';
import type { TenantCollectMessage } from './planRun.js';
import { newRunId } from './runCollection.js';
import { disableTenant, enableTenant, removeTenant, requireTenant, tenantView, type TenantDeps } from './tenants.js';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface AdminDeps extends TenantDeps {
  readonly runs: RunStore;
}

/** The statuses a collection would skip: a manual collect of them is refused with what to do instead. */
const NOT_COLLECTABLE: Readonly<Partial<Record<TenantStatus, string>>> = {
  disabled: 'it is disabled: enable it first (POST /api/tenants/{id}/enable)',
  pending_consent: 'it has not consented yet: send its admin a consent link (GET /api/consent/link)',
  consent_revoked: 'its consent was revoked: send its admin a new consent link (GET /api/consent/link)',
  missing_permissions:
    'the app lacks the incident read permission in it: fix the grant, then POST /api/tenants/{id}/enable',
};

/** ConfigErrors naming an app setting are the server's fault (500), not the caller's (400). */
const SERVER_SETTINGS = new Set(['CONSENT_REDIRECT_URI']);

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** `tenantId` → INVALID_TENANT_ID. */
function invalidCode(setting: string): string {
  return `INVALID_${setting
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()}`;
}

/** Map what an operation threw to the API's error answer. */
export function apiErrorResponse(error: unknown, logger: Logger, operation: string): ApiResponse {
  if (error instanceof ConfigError && SERVER_SETTINGS.has(error.setting)) {
    logger.error('admin.not_configured', { operation, setting: error.setting });
    return { status: 500, body: errorBody('NOT_CONFIGURED', error.message) };
  }
  if (error instanceof ConfigError) return { status: 400, body: errorBody(invalidCode(error.setting), error.message) };
  if (error instanceof NotFoundError) return { status: 404, body: errorBody('TENANT_NOT_FOUND', error.message) };
  if (error instanceof ConflictError) return { status: 409, body: errorBody('CONFLICT', error.message) };
  const e = ensureError(error);
  logger.error('admin.failed', {
    operation,
    errorCode: 'code' in e ? String((e as { code: unknown }).code) : e.name,
    message: e.message,
  });
  return { status: 500, body: errorBody('INTERNAL', 'The request failed unexpectedly; see the function logs.') };
}

async function answer(logger: Logger, operation: string, work: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await work();
  } catch (error) {
    return apiErrorResponse(error, logger, operation);
  }
}

export function listTenantsApi(deps: AdminDeps): Promise<ApiResponse> {
  return answer(deps.logger, 'list', async () => {
    const tenants = await deps.tenants.list();
    return { status: 200, body: { tenants: tenants.map(tenantView) } };
  });
}

export function getTenantApi(deps: AdminDeps, rawId: string | undefined): Promise<ApiResponse> {
  return answer(deps.logger, 'get', async () => ({
    status: 200,
    body: tenantView(await requireTenant(deps, rawId ?? '')),
  }));
}

export function disableTenantApi(deps: AdminDeps, rawId: string | undefined): Promise<ApiResponse> {
  return answer(deps.logger, 'disable', async () => {
    return { status: 200, body: tenantView(await disableTenant(deps, rawId ?? '')) };
  });
}

/** Enable re-verifies: 200 with the resulting tenant, and the verification error when it failed. */
export function enableTenantApi(deps: AdminDeps, rawId: string | undefined): Promise<ApiResponse> {
  return answer(deps.logger, 'enable', async () => {
    const outcome = await enableTenant(deps, rawId ?? '');
    return {
      status: 200,
      body: {
        ...tenantView(outcome.tenant),
        verification: outcome.failure
          ? { ok: false, error: { code: outcome.failure.code, message: outcome.failure.message } }
          : { ok: true },
      },
    };
  });
}

function parsePurge(raw: string | null | undefined): boolean {
  if (raw === undefined || raw === null || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError('purge', `purge must be true or false; got ${JSON.stringify(raw.slice(0, 20))}.`);
}

export function removeTenantApi(
  deps: AdminDeps,
  rawId: string | undefined,
  rawPurge: string | null | undefined,
): Promise<ApiResponse> {
  return answer(deps.logger, 'remove', async () => {
    const tenantId = parseTenantId(rawId ?? '');
    const purge = parsePurge(rawPurge);
    await removeTenant(deps, tenantId, purge);
    return { status: 200, body: { tenantId, removed: true, purged: purge } };
  });
}

/** `since` from the JSON body (`{ "since": "…" }`) or, when the body is empty, the query. */
export function parseSince(bodyText: string, querySince: string | null | undefined): string | undefined {
  let fromBody: unknown;
  if (bodyText.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText) as unknown;
    } catch {
      throw new ConfigError('body', 'The request body must be JSON, e.g. {"since": "2026-01-31T00:00:00Z"}, or empty.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('body', 'The request body must be a JSON object, e.g. {"since": "2026-01-31T00:00:00Z"}.');
    }
    fromBody = (parsed as Record<string, unknown>).since;
  }
  const since = fromBody ?? (querySince === null || querySince === '' ? undefined : querySince);
  if (since === undefined || since === null) return undefined;
  return requireTimestamp(typeof since === 'string' ? since : JSON.stringify(since), 'since');
}

export interface CollectRequestInput {
  readonly tenantId: string | undefined;
  readonly bodyText: string;
  readonly querySince?: string | null;
}

export interface CollectAccepted extends ApiResponse {
  /** The message to enqueue (present only on 202). */
  readonly message?: TenantCollectMessage;
}

/**
 * A manual (or backfill) collection of one tenant: a run of one tenant is created, and the caller enqueues the
 * returned message on the same queue the timer uses, so the same worker, lease and retry rules apply.
 */
export async function requestCollection(
  deps: Pick<AdminDeps, 'tenants' | 'clock' | 'logger'> & { runs: RunStore },
  input: CollectRequestInput,
): Promise<CollectAccepted> {
  try {
    const since = parseSince(input.bodyText, input.querySince);
    const tenant = await requireTenant(deps, input.tenantId ?? '');
    const refusal = NOT_COLLECTABLE[tenant.status];
    if (refusal) throw new ConflictError(`Tenant ${tenant.tenantId} cannot be collected now: ${refusal}.`);
    const now = deps.clock.now();
    const runId = newRunId(now);
    const startedAt = now.toISOString();
    await deps.runs.create({
      runId,
      startedAt,
      trigger: 'manual',
      tenantsPlanned: 1,
      tenantsOk: 0,
      tenantsFailed: 0,
      tenantsSkipped: 0,
      incidentsFetched: 0,
      incidentsChanged: 0,
      pages: 0,
      deadLetters: 0,
    });
    const message: TenantCollectMessage = {
      runId,
      runStartedAt: startedAt,
      tenantId: tenant.tenantId,
      slot: 0,
      ...(since !== undefined ? { since } : {}),
    };
    deps.logger.info('admin.collect_requested', {
      runId,
      tenantId: tenant.tenantId,
      ...(since !== undefined ? { since } : {}),
    });
    return {
      status: 202,
      body: { runId, tenantId: tenant.tenantId, ...(since !== undefined ? { since } : {}) },
      message,
    };
  } catch (error) {
    return apiErrorResponse(error, deps.logger, 'collect');
  }
}

/** `GET /api/consent/link?tenant=&name=`: a one-time consent link for a customer's administrator. */
export function consentLinkApi(
  deps: ConsentLinkDeps,
  query: { tenant?: string | null; name?: string | null },
): Promise<ApiResponse> {
  return answer(deps.logger, 'consent_link', async () => {
    const link = await createConsentLink(deps, {
      ...(query.tenant ? { tenant: query.tenant } : {}),
      ...(query.name ? { name: query.name } : {}),
    });
    deps.logger.info('consent.link_created', { tenantGiven: Boolean(query.tenant), expiresAt: link.expiresAt });
    return { status: 200, body: { url: link.url, state: link.state, expiresAt: link.expiresAt } };
  });
}
