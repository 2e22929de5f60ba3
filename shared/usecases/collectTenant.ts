/**
 * The per-tenant collection (design §6), written once and run by the queue worker, the CLI and the tests.
 *
 * lease → skip/re-probe rules → token (tid + roles checked before anything is fetched) → window → for each page:
 * durable write, then checkpoint → tenant health columns. Failures are classified (design §7) and recorded on the
 * tenant; they are returned, not thrown, so one tenant never stops the others.
 *
 * Table round trips: the writer may hold a page's rows to fill whole transactions with the next page's
 * (SnapshotWriter); a checkpoint the source proves becomes due once nothing up to it is held, and is written when
 * the next page arrives — or, for the collection's last one, in the same write as the outcome (patchWithCheckpoint),
 * or before a failure is recorded. A checkpoint not later than the one read under the lease is never written.
 */
import { CollectorError, ensureError, type FailureKind } from '../domain/errors.js';
import { afterFailedProbe, afterFailure, afterSuccess, runDecision } from '../domain/tenantState.js';
import { compareInstants, toEpochMs } from '../domain/time.js';
import { computeWindow } from '../domain/window.js';
import { redact } from '../log.js';
import { withLookahead } from './pageLookahead.js';
import { chooseSource, SOURCE_RETIRED } from './sourceChoice.js';
import type {
  Clock,
  CollectorMetrics,
  FetchedIncident,
  IncidentSource,
  Lease,
  LeaseStore,
  RejectedRecord,
  SourceKind,
  Logger,
  QuarantineStore,
  SnapshotStore,
  SnapshotWriter,
  SourceRegistry,
  TenantRecord,
  TenantRunResult,
  TenantStore,
  TokenProvider,
  WriteResult,
} from '../ports.js';
import { ErrorCode } from '../domain/errorCodes.js';

export interface SyncOptions {
  readonly overlapSeconds: number;
  readonly lagSeconds: number;
  readonly initialLookbackDays: number;
  readonly reprobeHours: number;
}

export interface CollectDeps {
  readonly tenants: TenantStore;
  readonly leases: LeaseStore;
  readonly snapshots: SnapshotStore;
  /** The process's primary source (and its tokens): used for every tenant when `sources` is absent. */
  readonly source: IncidentSource;
  readonly tokens: TokenProvider;
  /**
   * Every source by kind: each tenant is collected from its own (`Tenants.source`, else `INCIDENT_SOURCE`, `auto`
   * choosing per tenant), with that source's scope, roles, limiter and paging. See sourceChoice.ts.
   */
  readonly sources?: SourceRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sync: SyncOptions;
  /**
   * Where records a source rejected are kept (issue 10 §3). Optional so callers whose sources never reject need
   * none; a page that does carry rejected records without one fails the tenant (QUARANTINE_UNAVAILABLE) rather
   * than dropping them.
   */
  readonly quarantine?: QuarantineStore;
  /** Where versions written, outcomes and checkpoints are counted (issue 12); absent: not counted. */
  readonly metrics?: CollectorMetrics;
}

export interface CollectRequest {
  readonly tenantId: string;
  readonly runId: string;
  /** One-off backfill start (ISO-8601); the checkpoint still only moves forward. */
  readonly since?: string;
  /** Who holds the lease (worker invocation ID, CLI process…). */
  readonly owner: string;
  readonly signal?: AbortSignal;
  /**
   * Called with the outcome while the lease is still held (not for LEASE_HELD or LEASE_LOST, where this worker
   * holds no lease), so a worker that finds the lease free knows the holder's outcome is already recorded. An
   * error thrown here propagates (after the lease is released).
   */
  readonly settle?: (result: TenantRunResult) => Promise<void>;
}

/** How long a lease is taken for; renewed while pages keep coming. */
export const LEASE_MS = 10 * 60_000;
/**
 * A due checkpoint (below) is written when the next page comes only once this many records were read since the
 * last checkpoint write, or {@link CHECKPOINT_EVERY_MS} passed: a crash then costs at most about that much
 * re-reading, and a source that proves a checkpoint on every page (legacy time slices) does not add a tenant-row
 * write to every transaction's worth of rows. The last one always goes with the outcome, or before a failure is
 * recorded.
 */
export const CHECKPOINT_EVERY_RECORDS = 1000;
export const CHECKPOINT_EVERY_MS = 60_000;
/**
 * In a collection that runs longer than this, the delivery hint (`Tenants.eventSequence`, see deliver.ts) is raised
 * when the next page comes once this long has passed since the collection started or the hint was last written —
 * riding on a checkpoint write when one is due then, else as its own small merge — so that events made durable early
 * in a long backfill are sent by the minute timer (design §9's 2-minute promise: at most this long, then the next
 * pass), not left for the next full pass. A collection shorter than this writes the hint once, with its outcome.
 */
export const EVENT_HINT_EVERY_MS = 60_000;
/** Result codes of a collection that found, or lost, the tenant's lease to another worker (status `skipped`). */
export const LEASE_HELD = ErrorCode.LEASE_HELD;
export const LEASE_LOST = ErrorCode.LEASE_LOST;

/** A failure as reported in run results and tenant columns. */
export interface Failure {
  readonly kind: FailureKind;
  readonly code: string;
  readonly message: string;
}

/**
 * Normalise anything thrown into a classified failure. Unknown errors are `permanent` with code INTERNAL. The message
 * goes to run results, tenant columns and `collect --json`, so it passes the redactor here, once, whatever threw it.
 */
export function toFailure(error: unknown): Failure {
  if (error instanceof CollectorError) return { kind: error.kind, code: error.code, message: redact(error.message) };
  const e = ensureError(error);
  return { kind: 'permanent', code: ErrorCode.INTERNAL, message: redact(`${e.name}: ${e.message}`) };
}

function result(tenantId: string, status: TenantRunResult['status'], counts: Counts, error?: Failure): TenantRunResult {
  return {
    tenantId,
    status,
    incidentsFetched: counts.fetched,
    incidentsChanged: counts.changed,
    pages: counts.pages,
    ...(counts.rejected > 0 ? { incidentsRejected: counts.rejected } : {}),
    ...(error ? { error: { code: error.code, message: error.message, kind: error.kind } } : {}),
  };
}

interface Counts {
  fetched: number;
  changed: number;
  pages: number;
  /** Records rejected into the quarantine this run (re-reads included, like `fetched`). */
  rejected: number;
}

/** Prove token and API access with one token call and one `$top=1` request, on the process's primary source. */
export async function probeTenant(
  deps: Pick<CollectDeps, 'tokens' | 'source'>,
  tenantId: string,
  signal?: AbortSignal,
): Promise<void> {
  await deps.tokens.getToken(tenantId, signal ? { signal } : undefined);
  await deps.source.probe(tenantId, signal ? { signal } : undefined);
}

/**
 * Prove token and API access on the tenant's own source (its `source` column, else `INCIDENT_SOURCE`; `auto`
 * picks Graph when ready). Throws a CollectorError (SOURCE_RETIRED for the legacy API from 2027-02-01).
 */
export async function probeTenantSource(
  deps: Pick<CollectDeps, 'tokens' | 'source' | 'sources' | 'tenants' | 'clock' | 'logger'>,
  tenant: TenantRecord,
  signal?: AbortSignal,
): Promise<TenantRecord> {
  const chosen = await chooseSource(deps, tenant, signal ? { signal } : {});
  await chosen.source.probe(tenant.tenantId, signal ? { signal } : undefined);
  return chosen.tenant;
}

export async function collectTenant(deps: CollectDeps, request: CollectRequest): Promise<TenantRunResult> {
  const { tenantId } = request;
  const acquired = await deps.leases.acquire(tenantId, request.owner, LEASE_MS);
  if (!acquired) {
    deps.logger.info('tenant.lease_held', { runId: request.runId, tenantId });
    return result(
      tenantId,
      'skipped',
      { fetched: 0, changed: 0, pages: 0, rejected: 0 },
      { kind: 'transient', code: LEASE_HELD, message: 'Another worker is collecting this tenant.' },
    );
  }
  const held = { lease: acquired };
  try {
    const outcome = await collectUnderLease(deps, request, held);
    deps.metrics?.tenantOutcome(tenantId, outcome.status, outcome.error?.code);
    // A lost lease belongs to another worker now: that worker's outcome is the one to settle.
    if (outcome.error?.code !== LEASE_LOST) await request.settle?.(outcome);
    return outcome;
  } finally {
    await deps.leases
      .release(held.lease)
      .catch((error: unknown) =>
        deps.logger.warn('tenant.lease_release_failed', { tenantId, message: ensureError(error).message }),
      );
  }
}

/** The collection proper; `held.lease` is kept renewed. Every failure becomes a classified result. */
async function collectUnderLease(
  deps: CollectDeps,
  request: CollectRequest,
  held: { lease: Lease },
): Promise<TenantRunResult> {
  const { tenantId } = request;
  const log = deps.logger;
  const counts: Counts = { fetched: 0, changed: 0, pages: 0, rejected: 0 };
  // The highest event sequence written by this collection: the delivery hint of the final tenant write.
  let eventSequence: number | undefined;
  const started = Date.now();
  /**
   * A checkpoint proven by the source and every row up to it durably written, not yet stored: written when the
   * next page comes, with the outcome when none comes, or before a failure is recorded (it was due before it).
   */
  const progress: { due?: string | undefined } = {};
  try {
    // Read under the lease, so no concurrent worker changes status or checkpoint between this read and the run.
    let tenant = await deps.tenants.get(tenantId);
    if (!tenant) {
      return result(tenantId, 'failed', counts, {
        kind: 'permanent',
        code: ErrorCode.TENANT_NOT_FOUND,
        message: `Tenant ${tenantId} is not registered.`,
      });
    }
    const decision = runDecision(tenant, deps.clock.now(), deps.sync.reprobeHours);
    if (decision === 'skip') {
      log.info('tenant.skipped', { runId: request.runId, tenantId, status: tenant.status });
      return result(tenantId, 'skipped', counts);
    }
    if (decision === 'reprobe') {
      const probed = await reprobe(deps, tenant, request);
      if (!probed.ok) return result(tenantId, 'skipped', counts, probed.failure);
      tenant = probed.tenant;
    }

    // Design §6.2: tid and roles are checked (inside the token provider) before any data is fetched or written,
    // on the tenant's own source (design §4 `source` column; INCIDENT_SOURCE=auto chooses per tenant).
    const chosen = await chooseSource(deps, tenant, {
      runId: request.runId,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    tenant = chosen.tenant;
    const source = chosen.source;
    let checkpoint = tenant.checkpoint;
    /** A checkpoint proven by the source (design §6.5) and later than `checkpoint`, its rows possibly still held. */
    let unwritten: string | undefined;
    /** For the tenant row: records this collection handled that the next one reads again (SnapshotWriter). */
    let recent: string | undefined;

    const window = computeWindow({
      ...(tenant.checkpoint ? { checkpoint: tenant.checkpoint } : {}),
      ...(request.since ? { since: request.since } : {}),
      now: deps.clock.now(),
      overlapSeconds: deps.sync.overlapSeconds,
      lagSeconds: deps.sync.lagSeconds,
      initialLookbackDays: deps.sync.initialLookbackDays,
    });
    if (window) {
      log.info('tenant.collect_started', {
        runId: request.runId,
        tenantId,
        source: source.kind,
        from: window.from,
        to: window.to,
      });
      const pages = withLookahead((signal) => source.pages(tenantId, window, { signal }), request.signal);
      let rejectedTotal = tenant.incidentsRejected ?? 0;
      // One writer for the whole collection (we hold the lease): it may remember the tenant's latest rows, and may
      // hold a page's rows to write them with the next page's in full transactions (SnapshotWriter).
      const writer: SnapshotWriter = deps.snapshots.writer?.(
        tenantId,
        tenant.recentVersions !== undefined ? { recentVersions: tenant.recentVersions } : {},
      ) ?? {
        writePage: (kind, incidents) => deps.snapshots.writePage(tenantId, kind, incidents),
        flush: async () => ({ changed: 0 }),
        pending: 0,
      };
      const recordWritten = (written: WriteResult): void => {
        counts.changed += written.changed;
        const last = written.events?.at(-1)?.sequence; // events come in sequence order
        if (last !== undefined) eventSequence = Math.max(eventSequence ?? last, last);
        if (written.changed > 0) deps.metrics?.incidentVersionsWritten(tenantId, source.kind, written.changed);
      };
      let readSinceCheckpoint = 0;
      let checkpointWrittenAt = deps.clock.now().getTime();
      // The delivery hint as this collection last stored it, and when (EVENT_HINT_EVERY_MS).
      let hintStored: number | undefined;
      let hintStoredAt = deps.clock.now().getTime();
      for await (const page of pages) {
        const now = deps.clock.now().getTime();
        const hint =
          eventSequence !== undefined && eventSequence !== hintStored && now - hintStoredAt >= EVENT_HINT_EVERY_MS
            ? { eventSequence }
            : undefined;
        // A checkpoint proven before this page (due: nothing up to it is held) is written here, when enough was read
        // since the last one (CHECKPOINT_EVERY_…), so that the last one goes with the outcome below.
        if (
          progress.due !== undefined &&
          (readSinceCheckpoint >= CHECKPOINT_EVERY_RECORDS || now - checkpointWrittenAt >= CHECKPOINT_EVERY_MS)
        ) {
          checkpoint =
            (hint
              ? await deps.tenants.patchWithCheckpoint(tenantId, hint, progress.due)
              : await deps.tenants.advanceCheckpoint(tenantId, progress.due)) ?? checkpoint;
          progress.due = undefined;
          readSinceCheckpoint = 0;
          checkpointWrittenAt = deps.clock.now().getTime();
        } else if (hint) await deps.tenants.patch(tenantId, hint);
        if (hint) {
          hintStored = hint.eventSequence;
          hintStoredAt = now;
        }
        readSinceCheckpoint += page.incidents.length;
        counts.pages += 1;
        counts.fetched += page.incidents.length;
        if (deps.metrics) countBySeverity(deps.metrics, tenantId, page.incidents);
        if (page.incidents.length > 0) recordWritten(await writer.writePage(source.kind, page.incidents));
        if (page.rejected !== undefined && page.rejected.length > 0) {
          // Kept, not dropped, and never a reason to fail the tenant: the page's good incidents are written above.
          rejectedTotal = await quarantine(deps, tenantId, source.kind, request.runId, page.rejected, rejectedTotal);
          counts.rejected += page.rejected.length;
        }
        // Design §6.5: a checkpoint becomes due only once every page up to it is durably written (the writer holds
        // nothing); one not later than the stored value (read under the lease) needs no write at all.
        if (page.checkpoint !== undefined && isLater(page.checkpoint, unwritten ?? checkpoint))
          unwritten = page.checkpoint;
        if (unwritten !== undefined && writer.pending === 0) {
          progress.due = unwritten;
          unwritten = undefined;
        }
        held.lease = await keepLease(deps.leases, held.lease, deps.clock);
      }
      // Every held row is written before the collection counts as done and before its last checkpoint.
      recordWritten(await writer.flush());
      if (unwritten !== undefined) progress.due = unwritten;
      // What the next window reads again (from the checkpoint less the overlap), for its writer to skip unchanged.
      const next = progress.due ?? checkpoint;
      if (next !== undefined && writer.recentVersions)
        recent = writer.recentVersions(new Date(toEpochMs(next) - deps.sync.overlapSeconds * 1000).toISOString());
    }
    const outcome = {
      ...afterSuccess(tenant, deps.clock.now(), { collected: true }),
      ...(recent !== undefined ? { recentVersions: recent } : {}),
      ...(eventSequence !== undefined ? { eventSequence } : {}),
    };
    if (progress.due !== undefined)
      checkpoint = (await deps.tenants.patchWithCheckpoint(tenantId, outcome, progress.due)) ?? checkpoint;
    else await deps.tenants.patch(tenantId, outcome);
    if (checkpoint !== undefined) deps.metrics?.checkpoint(tenantId, checkpoint);
    log.info('tenant.collected', {
      runId: request.runId,
      tenantId,
      source: source.kind,
      incidentCount: counts.fetched,
      incidentsChanged: counts.changed,
      pages: counts.pages,
      durationMs: Date.now() - started,
    });
    return result(tenantId, 'ok', counts);
  } catch (error) {
    const failure = toFailure(error);
    if (failure.code === LEASE_LOST) {
      // Another worker owns the tenant now: its row is that worker's to write. Like LEASE_HELD, not a failure.
      log.warn('tenant.lease_lost', {
        runId: request.runId,
        tenantId,
        pages: counts.pages,
        durationMs: Date.now() - started,
      });
      return result(tenantId, 'skipped', counts, failure);
    }
    log.warn('tenant.failed', {
      runId: request.runId,
      tenantId,
      errorCode: failure.code,
      kind: failure.kind,
      message: failure.message,
      pages: counts.pages,
      durationMs: Date.now() - started,
    });
    if (progress.due !== undefined) await writeDueCheckpoint(deps, tenantId, progress.due);
    if (failure.code === SOURCE_RETIRED) await recordRetired(deps, tenantId, failure);
    else await recordFailure(deps, tenantId, failure, request.runId, eventSequence);
    return result(tenantId, 'failed', counts, failure);
  }
}

/**
 * Keep rejected records in the quarantine (each once) and count the new ones on the tenant (`incidentsRejected`).
 * Returns the tenant's new total. The log names the reasons, never the raw records.
 */
async function quarantine(
  deps: CollectDeps,
  tenantId: string,
  sourceKind: SourceKind,
  runId: string,
  rejected: readonly RejectedRecord[],
  total: number,
): Promise<number> {
  if (!deps.quarantine) {
    throw new CollectorError(
      `${rejected.length} incident record(s) could not be accepted and no quarantine store is configured to keep them.`,
      { code: ErrorCode.QUARANTINE_UNAVAILABLE, kind: 'permanent' },
    );
  }
  const kept = await deps.quarantine.keep(tenantId, sourceKind, runId, rejected);
  deps.logger.warn('tenant.records_rejected', {
    runId,
    tenantId,
    rejected: rejected.length,
    newlyQuarantined: kept,
    reasons: [...new Set(rejected.map((r) => r.reason))].slice(0, 5),
  });
  if (kept === 0) return total;
  const updated = await deps.tenants.update(tenantId, { incidentsRejected: total + kept });
  return updated.incidentsRejected ?? total + kept;
}

/** Whether `candidate` is a later instant than `current` (anything is later than no checkpoint). */
function isLater(candidate: string, current: string | undefined): boolean {
  return current === undefined || compareInstants(candidate, current) > 0;
}

/** Report a page's incidents by severity (the API's value, lower case). */
function countBySeverity(metrics: CollectorMetrics, tenantId: string, incidents: readonly FetchedIncident[]): void {
  const bySeverity = new Map<string, number>();
  for (const { incident } of incidents) {
    const severity = typeof incident.severity === 'string' ? incident.severity.toLowerCase() : 'unknown';
    bySeverity.set(severity, (bySeverity.get(severity) ?? 0) + 1);
  }
  for (const [severity, count] of bySeverity) metrics.incidentsFetched(tenantId, severity, count);
}

/** Renew the lease when half of it has elapsed; losing it stops this collection (another worker owns it now). */
async function keepLease(leases: LeaseStore, lease: Lease, clock: Clock): Promise<Lease> {
  // The lease store stamps expiresAt with the same clock.
  if (Date.parse(lease.expiresAt) - clock.now().getTime() > LEASE_MS / 2) return lease;
  const renewed = await leases.renew(lease, LEASE_MS);
  if (!renewed)
    throw new CollectorError('The tenant lease was lost to another worker; stopping this collection.', {
      code: LEASE_LOST,
      kind: 'transient',
    });
  return renewed;
}

async function reprobe(
  deps: CollectDeps,
  tenant: TenantRecord,
  request: CollectRequest,
): Promise<{ ok: true; tenant: TenantRecord } | { ok: false; failure: Failure }> {
  let probedTenant: TenantRecord;
  try {
    probedTenant = await probeTenantSource(deps, tenant, request.signal);
  } catch (error) {
    const failure = toFailure(error);
    await deps.tenants.update(tenant.tenantId, afterFailedProbe(failure, deps.clock.now()));
    deps.logger.info('tenant.reprobe_failed', {
      runId: request.runId,
      tenantId: tenant.tenantId,
      status: tenant.status,
      errorCode: failure.code,
    });
    return { ok: false, failure };
  }
  const now = deps.clock.now();
  const updated = await deps.tenants.update(tenant.tenantId, {
    ...afterSuccess(probedTenant, now, { collected: false }),
    lastProbeAt: now.toISOString(),
  });
  deps.logger.info('tenant.reprobe_succeeded', {
    runId: request.runId,
    tenantId: tenant.tenantId,
    previousStatus: tenant.status,
  });
  return { ok: true, tenant: updated };
}

/**
 * A checkpoint that was due before the collection failed (proven by the source, its rows durable before the error):
 * written as it would have been had the failure come a page later. Its own failure is logged, not thrown: the
 * collection's failure is the one to record, and the next run only re-reads a little more.
 */
async function writeDueCheckpoint(deps: CollectDeps, tenantId: string, due: string): Promise<void> {
  try {
    await deps.tenants.advanceCheckpoint(tenantId, due);
  } catch (error) {
    deps.logger.warn('tenant.checkpoint_failed', { tenantId, message: ensureError(error).message });
  }
}

/** Design §7: a tenant refused because its source is retired keeps its status; only the last error is noted. */
async function recordRetired(deps: CollectDeps, tenantId: string, failure: Failure): Promise<void> {
  try {
    await deps.tenants.update(tenantId, {
      lastRunAt: deps.clock.now().toISOString(),
      lastErrorCode: failure.code,
      lastError: failure.message.slice(0, 1024),
    });
  } catch (error) {
    deps.logger.error('tenant.record_failure_failed', {
      tenantId,
      errorCode: failure.code,
      message: ensureError(error).message,
    });
  }
}

/** Record a failed run on the tenant, with the delivery hint when events were written before the failure. */
async function recordFailure(
  deps: CollectDeps,
  tenantId: string,
  failure: Failure,
  runId: string,
  eventSequence: number | undefined,
): Promise<void> {
  try {
    const current = await deps.tenants.get(tenantId);
    const stored = await deps.tenants.update(tenantId, {
      ...afterFailure(current, failure, deps.clock.now(), { collected: true, runId }),
      ...(eventSequence !== undefined ? { eventSequence } : {}),
    });
    // The tenant's status after this failure (`failing` after N runs in a row, `credential_error`…): the alert
    // "a tenant failing or credential error" (infra/modules/monitoring.bicep) reads it from here.
    deps.logger.info('tenant.failure_recorded', {
      runId,
      tenantId,
      status: stored.status,
      consecutiveFailures: stored.consecutiveFailures,
      errorCode: failure.code,
      kind: failure.kind,
    });
  } catch (error) {
    // Storage itself may be what failed; the run result still carries the failure.
    deps.logger.error('tenant.record_failure_failed', {
      tenantId,
      errorCode: failure.code,
      message: ensureError(error).message,
    });
  }
}
