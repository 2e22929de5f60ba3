/**
 * The daily prune (design §3 `HISTORY_RETENTION_DAYS`; README "Data lifecycle"): per tenant partition, remove
 * history versions whose lastUpdateTime is older than the retention, with their event rows, and the PayloadChunks
 * rows no history or latest row references. Run by the `pruneHistory` timer and `incident-collector history prune`.
 *
 * Never removed: a tenant's latest version of an incident; a version whose event is still owed to a subscription,
 * active or disabled — after the subscription's cursor for the tenant (or, with no cursor yet, written since the
 * subscription was created), awaiting a retry, or dead-lettered (a dead letter stays replayable until `replay`
 * re-queues it or the subscription is removed); the version just before a kept one with an update event (so that
 * event keeps its `changedFields`/`previous`); rows and chunks written within the grace period (default 1 day).
 *
 * Delivery state is read once, before any tenant: a cursor only moves forward during the prune, so what was owed
 * then is a superset of what is owed later. One exception, documented for operators: a `replay` started while a
 * prune runs may find some old versions already gone; replay sends what is kept.
 */
import { wantsTenant } from '../domain/subscription.js';
import { ensureError, CollectorError } from '../domain/errors.js';
import { toMicros } from '../domain/incidentEvent.js';
import { mapBounded } from '../lib/bounded.js';
import type {
  Clock,
  DeliveryStateStore,
  HistoryPruner,
  Logger,
  PruneKept,
  SubscriptionStore,
  UndeliveredEvents,
} from '../ports.js';

/** Rows and chunks the service stamped within this long before the prune started are never removed. */
export const DEFAULT_PRUNE_GRACE_MS = 24 * 60 * 60 * 1000;

export interface RetentionDeps {
  readonly pruner: HistoryPruner;
  readonly subscriptions: SubscriptionStore;
  readonly deliveryState: DeliveryStateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `HISTORY_RETENTION_DAYS`; 0 removes no version (orphan chunks are still removed). */
  readonly retentionDays: number;
  /** Tenants pruned at once (`TENANT_CONCURRENCY`). */
  readonly concurrency: number;
  /** Grace period in ms (default DEFAULT_PRUNE_GRACE_MS). */
  readonly graceMs?: number;
}

/** `history prune --json`: the counts of one prune, summed over tenants (with `dryRun`, what would go). */
export interface PruneReport {
  readonly dryRun: boolean;
  /** ISO 8601 UTC: versions with lastUpdateTime before this could go; null with HISTORY_RETENTION_DAYS=0. */
  readonly cutoff: string | null;
  /** Tenant partitions pruned (those that failed included). */
  readonly tenants: number;
  readonly versionsRemoved: number;
  readonly eventsRemoved: number;
  readonly chunksRemoved: number;
  /** Versions before the cutoff that were kept, by reason. */
  readonly kept: PruneKept;
  /** Tenants whose prune failed (the others went on): `{ tenantId, code, message }`. */
  readonly failed: readonly { readonly tenantId: string; readonly code: string; readonly message: string }[];
}

/** Per tenant: the events owed to any subscription (active or disabled), from one read of the delivery state. */
export async function undeliveredByTenant(
  deps: Pick<RetentionDeps, 'subscriptions' | 'deliveryState'>,
  tenantIds: readonly string[],
): Promise<Map<string, UndeliveredEvents>> {
  const subs = await deps.subscriptions.list();
  const states = await mapBounded(subs, 8, (s) => deps.deliveryState.state(s.id));
  const out = new Map<string, { after?: number; sequences: Set<number> }>();
  const entry = (tenantId: string) => {
    let e = out.get(tenantId);
    if (!e) out.set(tenantId, (e = { sequences: new Set() }));
    return e;
  };
  for (const [i, sub] of subs.entries()) {
    const st = states[i];
    if (!st) continue;
    for (const p of st.pending) for (const seq of p.sequences) entry(p.tenantId).sequences.add(seq);
    for (const d of st.deadLetters) entry(d.tenantId).sequences.add(d.sequence);
    const tenants = new Set([...tenantIds, ...st.cursors.keys()]);
    for (const tenantId of tenants) {
      if (!wantsTenant(sub.filters, tenantId)) continue;
      // No cursor yet: delivery skips events written before the subscription was created, and an event's
      // sequence is at least its write time in µs, so everything from createdAt on may be owed.
      const from = st.cursors.get(tenantId) ?? toMicros(new Date(sub.createdAt)) - 1;
      const e = entry(tenantId);
      e.after = e.after === undefined ? from : Math.min(e.after, from);
    }
  }
  return out;
}

/**
 * Prune every tenant partition. One failing tenant never stops the others (its failure is logged and listed);
 * throws only when reading the partitions or the delivery state fails.
 */
export async function pruneHistory(deps: RetentionDeps, options: { dryRun?: boolean } = {}): Promise<PruneReport> {
  const dryRun = options.dryRun ?? false;
  const now = deps.clock.now();
  const cutoff =
    deps.retentionDays > 0 ? new Date(now.getTime() - deps.retentionDays * 86_400_000).toISOString() : undefined;
  const writtenBefore = new Date(now.getTime() - (deps.graceMs ?? DEFAULT_PRUNE_GRACE_MS)).toISOString();
  const tenantIds = await deps.pruner.tenantPartitions();
  const owed = await undeliveredByTenant(deps, tenantIds);
  const totals = { versionsRemoved: 0, eventsRemoved: 0, chunksRemoved: 0 };
  const kept: PruneKept = { latest: 0, undelivered: 0, previous: 0, recent: 0 };
  const failed: { tenantId: string; code: string; message: string }[] = [];
  await mapBounded(tenantIds, deps.concurrency, async (tenantId) => {
    try {
      const c = await deps.pruner.pruneTenant(tenantId, {
        ...(cutoff !== undefined ? { cutoff } : {}),
        writtenBefore,
        undelivered: owed.get(tenantId) ?? { sequences: new Set() },
        dryRun,
      });
      totals.versionsRemoved += c.versionsRemoved;
      totals.eventsRemoved += c.eventsRemoved;
      totals.chunksRemoved += c.chunksRemoved;
      for (const k of Object.keys(kept) as (keyof PruneKept)[]) kept[k] += c.kept[k];
      if (c.versionsRemoved + c.chunksRemoved > 0)
        deps.logger.info('history.pruned', {
          tenantId,
          versionsRemoved: c.versionsRemoved,
          eventsRemoved: c.eventsRemoved,
          chunksRemoved: c.chunksRemoved,
          dryRun,
        });
    } catch (error) {
      const e = ensureError(error);
      const code = e instanceof CollectorError ? e.code : 'PRUNE_FAILED';
      failed.push({ tenantId, code, message: e.message });
      deps.logger.error('history.prune_failed', { tenantId, errorCode: code, error: e.message });
    }
  });
  const report: PruneReport = {
    dryRun,
    cutoff: cutoff ?? null,
    tenants: tenantIds.length,
    ...totals,
    kept,
    failed: failed.sort((a, b) => a.tenantId.localeCompare(b.tenantId)),
  };
  deps.logger.info('history.prune_finished', {
    tenants: report.tenants,
    versionsRemoved: report.versionsRemoved,
    eventsRemoved: report.eventsRemoved,
    chunksRemoved: report.chunksRemoved,
    failed: failed.length,
    dryRun,
  });
  return report;
}
