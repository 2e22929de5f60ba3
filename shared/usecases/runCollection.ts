/**
 * A collection run over many tenants in one process (CLI, tests, benchmarks), with bounded concurrency,
 * a `Runs` record, and the one rule that crosses tenants: a bad or expired partner secret (AADSTS7000215/7000222)
 * stops the run, because every other tenant would fail the same way (design §7).
 */
import { randomUUID } from 'node:crypto';
import { mapBounded } from '../lib/bounded.js';
import { NotFoundError } from '../domain/errors.js';
import {
  credentialExpiryProblem,
  daysUntilExpiry,
  isPartnerCredentialCode,
  type PartnerCredentialRecord,
} from '../domain/partnerCredential.js';
import { runLeaseOwner } from '../domain/runSlots.js';
import { afterFailure, runDecision } from '../domain/tenantState.js';
import type { Logger, RunRecord, RunStore, TenantRecord, TenantRunResult, TokenProvider } from '../ports.js';
import { collectTenant, type CollectDeps } from './collectTenant.js';
import { RunCounterBuffer } from './runCounters.js';

/**
 * A tenant of a run whose partner credential was refused (design §7: re-read once, then stop the run): record it
 * `credential_error` with `error` (code and redacted message of the refusal) without calling Entra, and return its
 * run result. A tenant this run would skip anyway (disabled, awaiting consent) keeps its status and is `skipped`.
 * `known` is the tenant as already read (re-read first), used when it is gone from the store.
 */
export async function recordCredentialRefusal(
  deps: Pick<CollectDeps, 'tenants' | 'clock' | 'sync'>,
  tenantId: string,
  runId: string,
  error: { readonly code: string; readonly message: string },
  known?: TenantRecord,
): Promise<TenantRunResult> {
  const current = (await deps.tenants.get(tenantId)) ?? known;
  const empty = { tenantId, incidentsFetched: 0, incidentsChanged: 0, pages: 0 };
  if (current === undefined || runDecision(current, deps.clock.now(), deps.sync.reprobeHours) === 'skip')
    return { ...empty, status: 'skipped' };
  await deps.tenants.update(
    tenantId,
    afterFailure(current, { kind: 'credential_error', ...error }, deps.clock.now(), { collected: true, runId }),
  );
  return { ...empty, status: 'failed', error: { ...error, kind: 'credential_error' } };
}

export interface RunDeps extends CollectDeps {
  readonly runs: RunStore;
  readonly concurrency: number;
}

export interface RunRequest {
  /** Only these tenants (each must be registered). */
  readonly tenantIds?: readonly string[];
  readonly since?: string;
  readonly trigger: string;
  readonly signal?: AbortSignal;
  /** Progress: called after each tenant finishes. */
  readonly onTenantDone?: (result: TenantRunResult, total: number) => void;
}

export interface RunSummary {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly tenants: TenantRunResult[];
}

/**
 * The partner credential's kind, version and expiry for the Runs row (design §11: health reads the expiry from
 * there), logged as `credential.read`. A failed read is not a run failure here: the tenants' token requests meet
 * and report the same cause, so this returns undefined and logs only the code.
 */
export async function readCredentialRecord(
  deps: { readonly tokens: Pick<TokenProvider, 'describeCredential'>; readonly logger: Logger },
  runId: string,
): Promise<PartnerCredentialRecord | undefined> {
  if (deps.tokens.describeCredential === undefined) return undefined;
  try {
    const record = await deps.tokens.describeCredential();
    const daysLeft = daysUntilExpiry(record, new Date(record.checkedAt));
    deps.logger.info('credential.read', {
      runId,
      credentialKind: record.kind,
      credentialVersion: record.version,
      credentialExpiresOn: record.expiresOn ?? null,
      credentialDaysLeft: daysLeft ?? null,
    });
    const problem = credentialExpiryProblem(record, new Date(record.checkedAt));
    if (problem) deps.logger.warn('credential.expiring', { runId, errorCode: problem.code, message: problem.message });
    return record;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    deps.logger.warn('credential.read_failed', { runId, errorCode: typeof code === 'string' ? code : 'UNKNOWN' });
    return undefined;
  }
}

/** A fresh, sortable run ID: UTC time plus randomness. */
export function newRunId(startedAt: Date): string {
  return `${startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

/**
 * A new `Runs` row: every counter 0 except `tenantsSkipped` (tenants counted skipped up front, e.g. not due), and the
 * partner credential record when it could be read. Written once by whoever starts a run (CLI, timer, manual collect).
 */
export function newRunRecord(run: {
  readonly runId: string;
  readonly startedAt: string;
  readonly trigger: string;
  readonly tenantsPlanned: number;
  readonly tenantsSkipped?: number;
  readonly credential?: PartnerCredentialRecord | undefined;
}): RunRecord {
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    trigger: run.trigger,
    tenantsPlanned: run.tenantsPlanned,
    tenantsOk: 0,
    tenantsFailed: 0,
    tenantsSkipped: run.tenantsSkipped ?? 0,
    incidentsFetched: 0,
    incidentsChanged: 0,
    pages: 0,
    deadLetters: 0,
    ...(run.credential !== undefined ? { credential: run.credential } : {}),
  };
}

/** Resolve `--tenant` filters against the registry; unknown tenants are a usage error. */
export function selectTenants(all: readonly TenantRecord[], requested: readonly string[] | undefined): TenantRecord[] {
  if (!requested || requested.length === 0) return [...all];
  const byId = new Map(all.map((t) => [t.tenantId, t]));
  const wanted = [...new Set(requested.map((t) => t.toLowerCase()))];
  const unknown = wanted.filter((id) => !byId.has(id));
  if (unknown.length)
    throw new NotFoundError(
      `Unknown tenant${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see "tenants list").`,
    );
  return wanted.map((id) => byId.get(id) as TenantRecord);
}

export async function runCollection(deps: RunDeps, request: RunRequest): Promise<RunSummary> {
  const startedDate = deps.clock.now();
  const startedAt = startedDate.toISOString();
  const runId = newRunId(startedDate);
  const tenants = selectTenants(await deps.tenants.list(), request.tenantIds);
  const credential = await readCredentialRecord(deps, runId);
  await deps.runs.create(
    newRunRecord({ runId, startedAt, trigger: request.trigger, tenantsPlanned: tenants.length, credential }),
  );
  deps.logger.info('run.started', { runId, tenantCount: tenants.length, trigger: request.trigger });

  let secretFailure: TenantRunResult['error'] | undefined;
  const owner = runLeaseOwner(runId);
  // Counted in coalesced writes (one row every tenant adds to): a few writes per run instead of two per tenant.
  const counters = new RunCounterBuffer(deps.runs, runId, startedAt);
  const results = await mapBounded(
    tenants,
    deps.concurrency,
    async (tenant) => {
      const r = await collectTenant(deps, {
        tenantId: tenant.tenantId,
        runId,
        owner,
        ...(request.since ? { since: request.since } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (r.error && isPartnerCredentialCode(r.error.code)) secretFailure ??= r.error;
      counters.add(r);
      request.onTenantDone?.(r, tenants.length);
      return r;
    },
    async (tenant) => {
      // The partner credential is broken: every tenant due now would fail the same way.
      const error = { code: secretFailure?.code ?? 'AADSTS7000215', message: secretFailure?.message ?? '' };
      const r = await recordCredentialRefusal(deps, tenant.tenantId, runId, error, tenant);
      counters.add(r);
      request.onTenantDone?.(r, tenants.length);
      return r;
    },
    () => secretFailure !== undefined,
  );
  await counters.drain();
  const finishedAt = deps.clock.now().toISOString();
  await deps.runs.finish(runId, startedAt, finishedAt);
  deps.logger.info('run.finished', {
    runId,
    tenantsOk: results.filter((r) => r.status === 'ok').length,
    tenantsFailed: results.filter((r) => r.status === 'failed').length,
    tenantsSkipped: results.filter((r) => r.status === 'skipped').length,
    durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
  });
  return { runId, startedAt, finishedAt, tenants: results };
}
