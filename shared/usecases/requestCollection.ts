/**
 * A manual (or backfill) collection of one tenant, as the admin API asks for it: validate the request, create a
 * run of one tenant and hand back the message to enqueue. Host-agnostic: it throws typed errors, the host maps
 * them to its answers (functions/http/answers.ts).
 */
import { ConflictError, InputError } from '../domain/errors.js';
import { requireTimestamp } from '../domain/time.js';
import type { Clock, Logger, RunStore, TenantStatus, TenantStore, TokenProvider } from '../ports.js';
import type { TenantCollectMessage } from './planRun.js';
import { newRunId, newRunRecord, readCredentialRecord } from './runCollection.js';
import { requireTenant } from './tenants.js';

/** What requestCollection reads and writes. */
export interface CollectionRequestDeps {
  readonly tenants: TenantStore;
  readonly runs: RunStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * When given, the partner credential's kind, version and expiry are recorded on the run row like a scheduled
   * run's, so health (which reads the newest finished run, design §11) still sees the expiry after a manual run.
   */
  readonly tokens?: Pick<TokenProvider, 'describeCredential'>;
}

/** The statuses a collection would skip: a manual collect of them is refused with what to do instead. */
const NOT_COLLECTABLE: Readonly<Partial<Record<TenantStatus, string>>> = {
  disabled: 'it is disabled: enable it first (POST /api/tenants/{id}/enable)',
  pending_consent: 'it has not consented yet: send its admin a consent link (GET /api/consent/link)',
  consent_revoked: 'its consent was revoked: send its admin a new consent link (GET /api/consent/link)',
  missing_permissions:
    'the app lacks the incident read permission in it: fix the grant, then POST /api/tenants/{id}/enable',
};

/** `since` from the JSON body (`{ "since": "…" }`) or, when the body is empty, the query. */
export function parseSince(bodyText: string, querySince: string | null | undefined): string | undefined {
  let fromBody: unknown;
  if (bodyText.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText) as unknown;
    } catch {
      throw new InputError('body', 'The request body must be JSON, e.g. {"since": "2026-01-31T00:00:00Z"}, or empty.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InputError('body', 'The request body must be a JSON object, e.g. {"since": "2026-01-31T00:00:00Z"}.');
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

/** A collection the caller must now enqueue. */
export interface CollectionRequested {
  readonly runId: string;
  readonly tenantId: string;
  /** The backfill start, when one was asked for (ISO-8601 as given). */
  readonly since?: string;
  /** The message to put on `tenant-collect`. */
  readonly message: TenantCollectMessage;
}

/**
 * A manual (or backfill) collection of one tenant: a run of one tenant is created, and the caller enqueues the
 * returned message on the same queue the timer uses, so the same worker, lease and retry rules apply. Throws
 * InputError (bad `since` or tenant ID), NotFoundError (unknown tenant) or ConflictError (a status that is not
 * collected, with what to do instead).
 */
export async function requestCollection(
  deps: CollectionRequestDeps,
  input: CollectRequestInput,
): Promise<CollectionRequested> {
  const since = parseSince(input.bodyText, input.querySince);
  const tenant = await requireTenant(deps, input.tenantId ?? '');
  const refusal = NOT_COLLECTABLE[tenant.status];
  if (refusal) throw new ConflictError(`Tenant ${tenant.tenantId} cannot be collected now: ${refusal}.`);
  const now = deps.clock.now();
  const runId = newRunId(now);
  const startedAt = now.toISOString();
  const credential = deps.tokens
    ? await readCredentialRecord({ tokens: deps.tokens, logger: deps.logger }, runId)
    : undefined;
  await deps.runs.create(newRunRecord({ runId, startedAt, trigger: 'manual', tenantsPlanned: 1, credential }));
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
  return { runId, tenantId: tenant.tenantId, ...(since !== undefined ? { since } : {}), message };
}
