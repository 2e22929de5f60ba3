/**
 * The delivery engine (design §9): one pass sends every event that is due to every active subscription — new
 * events after each (subscription, tenant) cursor, and retries whose time has come — and returns the figures.
 *
 * State (DeliveryStateStore, table `DeliveryState`, PK subscription ID):
 * - `<tenant>|c`: the cursor, the highest sequence of the tenant's events this subscription has handled (delivered,
 *   filtered out, or moved into a pending row). ETag-guarded, so a replay that moves it back wins over a pass.
 * - `<tenant>|p|<incident>`: a pending incident: the sequences of its events still owed, the head retried on
 *   `DELIVERY_RETRY_SCHEDULE`, the rest waiting behind it. An incident with a pending row gets no new event sent
 *   before its head is delivered or dead-lettered; every other incident goes on.
 * - `<tenant>|d|<sequence>`: a dead letter (after the schedule's last wait), kept until replayed.
 *
 * Concurrency: a (subscription, tenant) pair is worked by the holder of the lease `delivery|<sub>|<tenant>` only
 * (Leases table). The lease lasts 4 × the webhook timeout (at least a minute) and is renewed before a send when
 * less than half of it is left, so it never runs out during one send: two deliverers never send events of one
 * incident at once. A crash leaves the cursor at its last saved point: the events after it are sent again (same
 * body), and sequences already in a pending row are not added twice. A pair whose receiver leaves UNANSWERED_LIMIT
 * attempts in a row unanswered (timeout, connection error) sends nothing more in the pass: its new events are queued
 * as due retries, so one slow receiver does not hold the pass past the 2-minute promise for healthy ones.
 *
 * Which event logs a pass reads (the delivery hint): the collector records on the tenant row the highest event
 * sequence it wrote (`Tenants.eventSequence`, in the write that ends a collection, after the events are durable).
 * A pass reads a tenant's log only when that hint is above the lowest cursor of the subscriptions that want the
 * tenant, or the tenant has no hint, or one of those subscriptions has no cursor for it; otherwise it costs nothing.
 * The hint can be behind the log — a crash between the events' transaction and the tenant write, a rerun after it
 * (its versions exist, so it records no new event), a collection that lost its lease — so a full pass, which reads
 * every tenant's log as if there were no hint, runs whenever `fullPasses` says so (FullPassSchedule: the first pass
 * of a process, then the first pass starting FULL_PASS_INTERVAL_MS = 15 minutes or more after the last full one, on
 * `clock`). Worst-case added delay for an event the hint does not show: it is sent by the first pass that starts
 * 15 minutes or more after it was written (with the timer each minute, at most 16 minutes plus that pass's own
 * time), or earlier by the tenant's next collection that writes an event (it raises the hint). Events the hint
 * shows keep the 2-minute promise: the collection writes the hint with its outcome, and a collection running longer
 * than a minute raises it as it goes (collectTenant's EVENT_HINT_EVERY_MS), so an event waits at most about a minute
 * for its hint, then the next minute's pass.
 * Without `fullPasses` every pass is full (the CLI's `deliver` and `collect`'s end pass).
 *
 * Cost of one pass, with S active subscriptions, T tenants (H of them read: hint above the lowest cursor, no hint,
 * or a missing cursor; H = T in a full pass), E new events, R due retries:
 * 1 query of Subscriptions + 1 of Tenants (the hints come with it) + S partition queries of DeliveryState (cursors,
 * pending, dead letters) + H range queries of the event log (one per tenant read, from the lowest cursor of the
 * subscriptions that want it) + per pair with work: lease acquire/release (2–4 operations), one pair query, one
 * cursor write; per event sent: one CloudEvent read (EventLog.cloudEvent) and one POST; per failure or queued event:
 * one pending-row write. Idle: 2 + S queries (2 + S + T in a full pass; every tenant without a hint, i.e. without any
 * event yet, adds one); averaged over a 15-pass full-pass interval, 2 + S + T/15.
 */
import { randomUUID } from 'node:crypto';
import { matchesFilters, wantsTenant, type SubscriptionRecord } from '../domain/subscription.js';
import { ensureError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import { mapBounded } from '../lib/bounded.js';
import { reportDeadLettered, reportDeliveryBacklog } from '../telemetry/delivery.js';
import type {
  Clock,
  CollectorMetrics,
  DeliveryOutcome,
  DeliveryStateStore,
  EventEntry,
  EventLog,
  IncidentCloudEvent,
  Lease,
  LeaseStore,
  LogAnalyticsSender,
  Logger,
  PendingIncident,
  SubscriptionDeliveryState,
  SubscriptionSecretStore,
  SubscriptionStore,
  TenantStore,
  WebhookSender,
} from '../ports.js';

/** Default interval between full passes (FullPassSchedule), in ms on the pass's clock: 15 minutes. */
export const FULL_PASS_INTERVAL_MS = 15 * 60_000;

/**
 * When a pass is full (reads every tenant's event log whatever its hint says): the first pass asked about, then the
 * first pass that starts `intervalMs` or more after the start of the last full pass that completed its reads (or any
 * pass starting before it: a clock moved back). Kept in memory by whoever runs passes repeatedly (the deliverEvents
 * timer: one per process). Whatever the number of processes, every pass is either full or preceded within
 * `intervalMs` by a full pass of its own process, so an event the hints do not show is read by the first pass that
 * starts `intervalMs` or more after it was written. RangeError for an interval that is not a positive integer.
 */
export class FullPassSchedule {
  private lastFullAt: number | undefined;

  constructor(readonly intervalMs: number = FULL_PASS_INTERVAL_MS) {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1)
      throw new RangeError(`intervalMs must be a positive integer; got ${intervalMs}`);
  }

  /** Whether a pass starting at `now` must be full. */
  due(now: Date): boolean {
    const t = now.getTime();
    return this.lastFullAt === undefined || t < this.lastFullAt || t - this.lastFullAt >= this.intervalMs;
  }

  /** Record a full pass that started at `startedAt` and has read every tenant's event log. */
  done(startedAt: Date): void {
    this.lastFullAt = startedAt.getTime();
  }
}

/** What a delivery pass needs (the composition root builds it; unit specs use fakes). */
export interface DeliverDeps {
  readonly subscriptions: SubscriptionStore;
  readonly state: DeliveryStateStore;
  readonly events: EventLog;
  /** Registered tenants: whose event logs a pass reads (with every tenant that has delivery state). */
  readonly tenants: TenantStore;
  readonly leases: LeaseStore;
  readonly secrets: SubscriptionSecretStore;
  readonly webhook: WebhookSender;
  /** Absent until a Logs Ingestion sender is configured: log-analytics events then stay pending (not dropped). */
  readonly logAnalytics?: LogAnalyticsSender;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Where the pass reports its telemetry (default none): `collector.delivery_deadlettered` per dead letter, and
   * `collector.delivery_backlog` per listed subscription after the pass (shared/telemetry/delivery.ts).
   */
  readonly metrics?: CollectorMetrics;
  /** `DELIVERY_RETRY_SCHEDULE`, seconds between attempts. */
  readonly retrySchedule: readonly number[];
  /** `DELIVERY_TIMEOUT_SECONDS`: sizes the pair lease. */
  readonly timeoutSeconds: number;
  /** (subscription, tenant) pairs worked at once per subscription (default 4); subscriptions run side by side. */
  readonly concurrency?: number;
  /** Events read from a tenant's log per pass (default 500); the rest wait for the next pass. */
  readonly readLimit?: number;
  /** Lease owner name (default a fresh UUID per pass). */
  readonly owner?: string;
  /**
   * Time budget of the pass in ms on `clock` (default none): once spent, no new send starts and what is left counts
   * as pending for the next pass (the timer function keeps a pass well inside the Functions timeout).
   */
  readonly budgetMs?: number;
  /**
   * When passes may trust the tenants' delivery hints (see the module docstring); absent: every pass is full (reads
   * every tenant's event log), for one-off passes such as the CLI's.
   */
  readonly fullPasses?: FullPassSchedule;
}

/** Figures of one pass (`deliver --json`). */
export interface DeliveryResult {
  /** Events acknowledged by their receiver in this pass. */
  readonly delivered: number;
  /** Attempts that failed in this pass and will be retried. */
  readonly failed: number;
  /** Events given up on in this pass (after the schedule's last attempt). */
  readonly deadLettered: number;
  /** Events still owed after the pass: awaiting a retry or behind one, or not reached (beyond the read limit, a pair another deliverer holds, a disabled or unserved subscription). */
  readonly pending: number;
}

/** A pass's figures plus what decides `deliver`'s exit code (not part of `--json`). */
export interface DeliveryReport extends DeliveryResult {
  /** Events awaiting a retry after the pass (also those whose retry was not due yet). */
  readonly retrying: number;
  /** Subscriptions whose events cannot be sent at all (e.g. no Logs Ingestion sender configured), with why. */
  readonly blocked: readonly { readonly subscriptionId: string; readonly code: string; readonly message: string }[];
}

/** The lease key of a (subscription, tenant) pair in the Leases table. */
export function pairLeaseKey(subscriptionId: string, tenantId: string): string {
  return `delivery|${subscriptionId}|${tenantId.toLowerCase()}`;
}

export const NO_LOG_ANALYTICS_SENDER = ErrorCode.LOG_ANALYTICS_NOT_CONFIGURED;
/** Events per Logs Ingestion call from the delivery engine (the sender may split further by size). */
export const LOG_ANALYTICS_BATCH = 100;

interface Counters {
  delivered: number;
  failed: number;
  deadLettered: number;
  pending: number;
  retrying: number;
  /** `pending`, split by subscription ID (the backlog gauge). */
  readonly pendingBy: Map<string, number>;
}

/** Count `n` more (or, negative, fewer) events owed to `subscriptionId`, in the total and in its share. */
function owe(counters: Counters, subscriptionId: string, n: number): void {
  counters.pending += n;
  counters.pendingBy.set(subscriptionId, (counters.pendingBy.get(subscriptionId) ?? 0) + n);
}

function addSeconds(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

/** Attempts in a row without an answer after which a pair stops sending for the rest of the pass. */
export const UNANSWERED_LIMIT = 2;

/** Whether a sink got no answer at all: a timeout or a connection error (no HTTP status, not one of our own codes). */
function unanswered(outcome: DeliveryOutcome): boolean {
  if (outcome.kind !== 'retry' || outcome.status !== undefined) return false;
  return outcome.code === 'TIMEOUT' || outcome.code === 'REQUEST_FAILED' || /^E[A-Z_]+$/.test(outcome.code);
}

/** A failed read of an event's CloudEvent as a retry outcome (its code when it has one, else EVENT_READ_FAILED). */
function unreadable(error: unknown): DeliveryOutcome {
  const e = ensureError(error) as Error & { code?: unknown };
  return { kind: 'retry', code: typeof e.code === 'string' ? e.code : 'EVENT_READ_FAILED', message: e.message };
}

/** Run one delivery pass over every active subscription. Store errors of one pair are logged; the pass goes on. */
export async function deliverPass(deps: DeliverDeps): Promise<DeliveryReport> {
  const owner = deps.owner ?? `deliver-${randomUUID()}`;
  const readLimit = deps.readLimit ?? 500;
  const counters: Counters = {
    delivered: 0,
    failed: 0,
    deadLettered: 0,
    pending: 0,
    retrying: 0,
    pendingBy: new Map(),
  };
  const blocked: { subscriptionId: string; code: string; message: string }[] = [];
  const startedAt = deps.clock.now();
  const full = deps.fullPasses?.due(startedAt) ?? true;
  const all = await deps.subscriptions.list();
  const tenants = await deps.tenants.list();
  const registered = tenants.map((t) => t.tenantId.toLowerCase());
  const hints = new Map<string, number>();
  for (const t of tenants) if (t.eventSequence !== undefined) hints.set(t.tenantId.toLowerCase(), t.eventSequence);
  const states = new Map<string, SubscriptionDeliveryState>();
  await mapBounded(all, 8, async (sub) => {
    states.set(sub.id, await deps.state.state(sub.id));
  });
  for (const sub of all) {
    const st = states.get(sub.id);
    owe(counters, sub.id, 0);
    for (const p of st?.pending ?? []) {
      owe(counters, sub.id, p.sequences.length);
      if (sub.status === 'active') counters.retrying += p.sequences.length;
    }
  }
  const active = all.filter((s) => s.status === 'active');
  const tenantIds = new Set(registered);
  for (const st of states.values()) {
    for (const t of st.cursors.keys()) tenantIds.add(t);
    for (const p of st.pending) tenantIds.add(p.tenantId);
  }

  // One range query per tenant, from the lowest cursor among the active subscriptions that want the tenant —
  // unless (not in a full pass) the tenant's hint says nothing was written after that cursor: then no query, and the
  // pass goes on as if the read had found nothing (a due retry of the tenant is still worked).
  const shared = new Map<string, { from: number; entries: EventEntry[] }>();
  await mapBounded([...tenantIds].sort(), 8, async (tenantId) => {
    const wanting = active.filter((s) => wantsTenant(s.filters, tenantId));
    if (wanting.length === 0) return;
    const cursors = wanting.map((s) => states.get(s.id)?.cursors.get(tenantId));
    const from = Math.min(...cursors.map((c) => c ?? 0));
    const hint = hints.get(tenantId);
    if (!full && hint !== undefined && hint <= from && cursors.every((c) => c !== undefined)) {
      shared.set(tenantId, { from, entries: [] });
      return;
    }
    shared.set(tenantId, { from, entries: await deps.events.read(tenantId, from, readLimit) });
  });
  // Every log was read: the next full pass is due an interval after this one's start.
  if (full) deps.fullPasses?.done(startedAt);

  const engine = new PassEngine(deps, owner, readLimit, counters, shared, deps.clock.now().getTime());
  await Promise.all(
    active.map(async (sub) => {
      const st = states.get(sub.id) as SubscriptionDeliveryState;
      if (sub.kind === 'log-analytics' && !deps.logAnalytics) {
        const message = `No Logs Ingestion sender is configured: the events of log-analytics subscription ${sub.id} stay pending.`;
        blocked.push({ subscriptionId: sub.id, code: NO_LOG_ANALYTICS_SENDER, message });
        deps.logger.error('delivery.blocked', { subscriptionId: sub.id, code: NO_LOG_ANALYTICS_SENDER, message });
        for (const [tenantId, read] of shared)
          owe(counters, sub.id, engine.unhandled(sub, st.cursors.get(tenantId), read.entries));
        return;
      }
      const now = deps.clock.now().getTime();
      const pairs = [...shared.keys()].filter((tenantId) => {
        if (!wantsTenant(sub.filters, tenantId)) return false;
        const cursor = st.cursors.get(tenantId);
        const read = shared.get(tenantId);
        // A full shared read may end before this subscription's cursor: the pair then reads on its own.
        const hasNew =
          read !== undefined &&
          (read.entries.length >= readLimit || read.entries.some((e) => e.sequence > (cursor ?? 0)));
        const due = st.pending.some((p) => p.tenantId === tenantId && Date.parse(p.nextAttemptAt) <= now);
        return hasNew || due;
      });
      // Pending incidents of tenants the subscription no longer reads from (e.g. a tenant filter) still retry.
      for (const p of st.pending)
        if (!pairs.includes(p.tenantId) && Date.parse(p.nextAttemptAt) <= now) pairs.push(p.tenantId);
      await mapBounded(pairs, deps.concurrency ?? 4, (tenantId) => engine.pair(sub, tenantId, st));
    }),
  );
  for (const [subscriptionId, pending] of counters.pendingBy)
    reportDeliveryBacklog({ metrics: deps.metrics }, subscriptionId, pending);
  const { delivered, failed, deadLettered, pending, retrying } = counters;
  return { delivered, failed, deadLettered, pending, retrying, blocked };
}

/** One pass's work on (subscription, tenant) pairs. */
class PassEngine {
  private readonly gone = new Set<string>();
  private readonly secretCache = new Map<string, Promise<string>>();
  private readonly leaseMs: number;

  constructor(
    private readonly deps: DeliverDeps,
    private readonly owner: string,
    private readonly readLimit: number,
    private readonly counters: Counters,
    private readonly shared: ReadonlyMap<string, { from: number; entries: EventEntry[] }>,
    private readonly startedAt: number,
  ) {
    this.leaseMs = Math.max(60_000, deps.timeoutSeconds * 4000);
  }

  /** True once the pass's budget is spent (no new send starts). */
  outOfTime(): boolean {
    return this.deps.budgetMs !== undefined && this.deps.clock.now().getTime() - this.startedAt >= this.deps.budgetMs;
  }

  /** How many of `entries` after `cursor` the subscription wants (for the pending figure of an unserved pair). */
  unhandled(sub: SubscriptionRecord, cursor: number | undefined, entries: readonly EventEntry[]): number {
    return entries.filter((e) => e.sequence > (cursor ?? 0) && matchesFilters(sub.filters, e)).length;
  }

  /** Work one pair under its lease; a pair another deliverer holds is left to it (its events count as pending). */
  async pair(sub: SubscriptionRecord, tenantId: string, overview: SubscriptionDeliveryState): Promise<void> {
    const { deps } = this;
    const key = pairLeaseKey(sub.id, tenantId);
    let lease: Lease | undefined;
    try {
      lease = await deps.leases.acquire(key, this.owner, this.leaseMs);
    } catch (error) {
      deps.logger.warn('delivery.lease_failed', {
        subscriptionId: sub.id,
        tenantId,
        error: ensureError(error).message,
      });
    }
    if (!lease) {
      const read = this.shared.get(tenantId);
      owe(this.counters, sub.id, read ? this.unhandled(sub, overview.cursors.get(tenantId), read.entries) : 0);
      return;
    }
    const before = overview.pending.filter((p) => p.tenantId === tenantId).reduce((n, p) => n + p.sequences.length, 0);
    const run = new PairRun(this, sub, tenantId, lease);
    try {
      await run.work();
    } catch (error) {
      // A store error stopped the pair: what it did not reach waits for the next pass, so the pass failed.
      this.counters.failed++;
      deps.logger.error('delivery.pair_failed', {
        subscriptionId: sub.id,
        tenantId,
        error: ensureError(error).message,
      });
    } finally {
      owe(this.counters, sub.id, run.owed() - before);
      this.counters.retrying += run.retryingAfter() - before;
      await deps.leases.release(run.lease).catch(() => undefined);
    }
  }

  get d(): DeliverDeps {
    return this.deps;
  }

  get limit(): number {
    return this.readLimit;
  }

  get figures(): Counters {
    return this.counters;
  }

  get leaseDurationMs(): number {
    return this.leaseMs;
  }

  sharedRead(tenantId: string): { from: number; entries: EventEntry[] } | undefined {
    return this.shared.get(tenantId);
  }

  isGone(subscriptionId: string): boolean {
    return this.gone.has(subscriptionId);
  }

  /** A 410: disable the subscription (its events wait, undelivered, until `subscriptions enable`). */
  async markGone(sub: SubscriptionRecord, status: number): Promise<void> {
    if (this.gone.has(sub.id)) return;
    this.gone.add(sub.id);
    await this.deps.subscriptions.setStatus(sub.id, 'disabled', `HTTP_${status}`);
    this.deps.logger.warn('delivery.subscription_disabled', { subscriptionId: sub.id, code: `HTTP_${status}` });
  }

  /** Send events in one Logs Ingestion call (log-analytics only); an unexpected sink error is a retry. */
  async sendMany(sub: SubscriptionRecord, events: readonly IncidentCloudEvent[]): Promise<DeliveryOutcome> {
    const sender = this.deps.logAnalytics;
    if (!sender)
      return { kind: 'retry', code: NO_LOG_ANALYTICS_SENDER, message: 'No Logs Ingestion sender is configured.' };
    try {
      return await sender.send(
        { endpoint: sub.endpoint ?? '', ruleId: sub.ruleId ?? '', stream: sub.stream ?? '' },
        events,
      );
    } catch (error) {
      const e = ensureError(error) as Error & { code?: unknown };
      return { kind: 'retry', code: typeof e.code === 'string' ? e.code : 'SEND_FAILED', message: e.message };
    }
  }

  /** Send one event through the subscription's sink; an unexpected sink error is a retry, never a crash. */
  async send(sub: SubscriptionRecord, event: IncidentCloudEvent): Promise<DeliveryOutcome> {
    try {
      if (sub.kind === 'webhook') {
        let secret = this.secretCache.get(sub.id);
        if (!secret) {
          secret = this.deps.secrets.get(sub.id);
          this.secretCache.set(sub.id, secret);
        }
        return await this.deps.webhook.send({ url: sub.url ?? '', secret: await secret }, event);
      }
      const sender = this.deps.logAnalytics;
      if (!sender)
        return {
          kind: 'retry',
          code: NO_LOG_ANALYTICS_SENDER,
          message: 'No Logs Ingestion sender is configured.',
        };
      return await sender.send({ endpoint: sub.endpoint ?? '', ruleId: sub.ruleId ?? '', stream: sub.stream ?? '' }, [
        event,
      ]);
    } catch (error) {
      const e = ensureError(error) as Error & { code?: unknown };
      return { kind: 'retry', code: typeof e.code === 'string' ? e.code : 'SEND_FAILED', message: e.message };
    }
  }
}

/** The work on one pair while its lease is held. */
class PairRun {
  private cursor: number | undefined;
  private version: string | undefined;
  private savedCursor: number | undefined;
  private readonly pending = new Map<string, PendingIncident>();
  private stopped = false;
  private unread = 0;
  /** Attempts in a row of this pair that got no answer (timeout, connection error). */
  private unanswered = 0;

  constructor(
    private readonly engine: PassEngine,
    private readonly sub: SubscriptionRecord,
    private readonly tenantId: string,
    public lease: Lease,
  ) {}

  /** Events this pair still owes after the work: in pending rows, plus wanted events not reached. */
  owed(): number {
    return this.retryingAfter() + this.unread;
  }

  /** Events in pending rows after the work. */
  retryingAfter(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.sequences.length;
    return n;
  }

  private get deps(): DeliverDeps {
    return this.engine.d;
  }

  /**
   * After UNANSWERED_LIMIT attempts in a row without an answer, the pair sends nothing more this pass: its new events
   * are queued as due retries, so one slow receiver does not hold the pass past the 2-minute promise for the others.
   */
  private get parked(): boolean {
    return this.unanswered >= UNANSWERED_LIMIT;
  }

  async work(): Promise<void> {
    const { deps, sub, tenantId } = this;
    const fresh = await deps.state.pair(sub.id, tenantId);
    this.cursor = fresh.cursor;
    this.savedCursor = fresh.cursor;
    this.version = fresh.cursorVersion;
    for (const p of fresh.pending) this.pending.set(p.incidentId, p);
    try {
      // 1. Retries that are due, oldest head first.
      await this.drainDue();
      // 2. New events after the cursor.
      const entries = await this.newEntries();
      // Log Analytics takes rows in batches: consecutive events to send go in one call (at most LOG_ANALYTICS_BATCH).
      const batching = sub.kind === 'log-analytics';
      const batch: EventEntry[] = [];
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as EventEntry;
        if (batching && this.wantsSend(entry)) {
          batch.push(entry);
          if (batch.length < LOG_ANALYTICS_BATCH && i < entries.length - 1) continue;
          // The batch is the run of entries ending here.
          const sent = batch.splice(0);
          if (!(await this.flush(sent))) {
            this.unread += this.engine.unhandled(sub, this.cursor, entries.slice(i + 1 - sent.length));
            break;
          }
          continue;
        }
        if (batch.length > 0) {
          // The batch is the run of entries just before this one.
          const sent = batch.splice(0);
          if (!(await this.flush(sent))) {
            this.unread += this.engine.unhandled(sub, this.cursor, entries.slice(i - sent.length));
            break;
          }
        }
        if (!(await this.canSend())) {
          this.unread += this.engine.unhandled(sub, this.cursor, entries.slice(i));
          break;
        }
        await this.handle(entry);
        if (this.engine.isGone(sub.id)) {
          // A 410: this entry (its cursor did not move) and the rest wait until `subscriptions enable`.
          this.unread += this.engine.unhandled(sub, this.cursor, entries.slice(i));
          break;
        }
      }
      // 3. Replayed versions queued before a waiting head are due at once.
      await this.drainDue();
    } finally {
      await this.saveCursor();
    }
  }

  private async drainDue(): Promise<void> {
    const due = [...this.pending.values()]
      .filter((p) => Date.parse(p.nextAttemptAt) <= this.deps.clock.now().getTime())
      .sort((a, b) => (a.sequences[0] ?? 0) - (b.sequences[0] ?? 0));
    for (const p of due) {
      if (this.parked || !(await this.canSend())) return;
      await this.drain(p.incidentId);
    }
  }

  /** Entries after this pair's cursor: from the pass's shared read when it covers them, else a read of our own. */
  private async newEntries(): Promise<EventEntry[]> {
    const after = this.cursor ?? 0;
    const read = this.engine.sharedRead(this.tenantId);
    if (read && (read.from === after || (read.from < after && read.entries.length < this.engine.limit)))
      return read.entries.filter((e) => e.sequence > after);
    return this.deps.events.read(this.tenantId, after, this.engine.limit);
  }

  /** False once the subscription is gone or the lease cannot be kept; renews the lease when half of it is used. */
  private async canSend(): Promise<boolean> {
    if (this.stopped || this.engine.isGone(this.sub.id) || this.engine.outOfTime()) return false;
    const left = Date.parse(this.lease.expiresAt) - this.deps.clock.now().getTime();
    if (left < this.engine.leaseDurationMs / 2) {
      const renewed = await this.deps.leases.renew(this.lease, this.engine.leaseDurationMs);
      if (!renewed) {
        this.deps.logger.warn('delivery.lease_lost', { subscriptionId: this.sub.id, tenantId: this.tenantId });
        this.stopped = true;
        return false;
      }
      this.lease = renewed;
    }
    return true;
  }

  /** Whether `entry` would be sent now (not filtered out or queued behind a pending version). */
  private wantsSend(entry: EventEntry): boolean {
    return matchesFilters(this.sub.filters, entry) && !this.pending.has(entry.incidentId);
  }

  /**
   * Send a batch of new events in one call (Log Analytics). Delivered: the cursor passes them. Retry: each incident of
   * the batch gets a pending row with its versions, the schedule applies. Gone: nothing moves. False when the pair
   * must stop (gone, or the lease could not be kept).
   */
  private async flush(batch: readonly EventEntry[]): Promise<boolean> {
    if (!(await this.canSend())) return false;
    let outcome: DeliveryOutcome;
    try {
      const events = [];
      for (const entry of batch) events.push(await this.deps.events.cloudEvent(entry));
      outcome = await this.engine.sendMany(this.sub, events);
    } catch (error) {
      outcome = unreadable(error);
    }
    if (outcome.kind === 'gone') {
      this.stopped = true;
      await this.engine.markGone(this.sub, outcome.status);
      return false;
    }
    if (outcome.kind === 'delivered') this.engine.figures.delivered += batch.length;
    else {
      const byIncident = new Map<string, EventEntry[]>();
      for (const e of batch) byIncident.set(e.incidentId, [...(byIncident.get(e.incidentId) ?? []), e]);
      for (const [incidentId, list] of byIncident) {
        const p: PendingIncident = {
          tenantId: this.tenantId,
          incidentId,
          sequences: list.map((e) => e.sequence),
          attempt: 0,
          nextAttemptAt: this.deps.clock.now().toISOString(),
        };
        await this.failed(p, outcome, list[0] as EventEntry);
      }
    }
    this.cursor = (batch.at(-1) as EventEntry).sequence;
    return true;
  }

  /** A pending row of this pair's tenant whose head is due now, as a fresh first attempt. */
  private duePending(incidentId: string, sequences: number[]): PendingIncident {
    return {
      tenantId: this.tenantId,
      incidentId,
      sequences,
      attempt: 0,
      nextAttemptAt: this.deps.clock.now().toISOString(),
    };
  }

  private async handle(entry: EventEntry): Promise<void> {
    const { sub } = this;
    if (!matchesFilters(sub.filters, entry)) {
      this.cursor = entry.sequence;
      return;
    }
    if (this.parked && !this.pending.has(entry.incidentId)) {
      // The receiver did not answer twice in a row: queue the event as a due retry without sending it.
      const p = this.duePending(entry.incidentId, [entry.sequence]);
      await this.deps.state.putPending(sub.id, p);
      this.pending.set(entry.incidentId, p);
      this.cursor = entry.sequence;
      return;
    }
    const waiting = this.pending.get(entry.incidentId);
    if (waiting) {
      // An earlier version of this incident awaits a retry: this one queues behind it.
      if (!waiting.sequences.includes(entry.sequence)) {
        const sequences = [...waiting.sequences, entry.sequence].sort((a, b) => a - b);
        // A replayed version older than the waiting head goes first, and at once (a fresh first attempt).
        const queued: PendingIncident =
          sequences[0] === entry.sequence ? this.duePending(waiting.incidentId, sequences) : { ...waiting, sequences };
        await this.deps.state.putPending(sub.id, queued);
        this.pending.set(entry.incidentId, queued);
      }
      this.cursor = entry.sequence;
      return;
    }
    const outcome = await this.attempt(entry);
    if (outcome.kind === 'gone') return;
    if (outcome.kind === 'retry') {
      await this.failed(this.duePending(entry.incidentId, [entry.sequence]), outcome, entry);
    }
    this.cursor = entry.sequence;
  }

  /** Send the head of a pending incident and those behind it while they succeed. */
  private async drain(incidentId: string): Promise<void> {
    let p = this.pending.get(incidentId);
    while (p && p.sequences.length > 0 && Date.parse(p.nextAttemptAt) <= this.deps.clock.now().getTime()) {
      if (!(await this.canSend())) return;
      const head = p.sequences[0] as number;
      const [entry] = await this.deps.events.read(this.tenantId, head - 1, 1);
      if (!entry || entry.sequence !== head) {
        // The event is gone from the log (tenant purged): nothing left to send for it.
        this.deps.logger.warn('delivery.event_missing', {
          subscriptionId: this.sub.id,
          tenantId: this.tenantId,
          sequence: head,
        });
        p = await this.advance(p);
        continue;
      }
      const outcome = await this.attempt(entry);
      if (outcome.kind === 'gone') return;
      if (outcome.kind === 'delivered') {
        p = await this.advance(p);
        continue;
      }
      p = await this.failed(p, outcome, entry);
      if (p && p.attempt > 0) return;
    }
  }

  /** Drop the head; store what remains (the next head due now) or delete the row. */
  private async advance(p: PendingIncident): Promise<PendingIncident | undefined> {
    const rest = p.sequences.slice(1);
    if (rest.length === 0) {
      await this.deps.state.deletePending(this.sub.id, this.tenantId, p.incidentId);
      this.pending.delete(p.incidentId);
      return undefined;
    }
    const next: PendingIncident = {
      tenantId: p.tenantId,
      incidentId: p.incidentId,
      sequences: rest,
      attempt: 0,
      nextAttemptAt: this.deps.clock.now().toISOString(),
    };
    await this.deps.state.putPending(this.sub.id, next);
    this.pending.set(p.incidentId, next);
    return next;
  }

  /**
   * Count a failed attempt of `p`'s head: schedule the next one, or dead-letter the head after the last (then the
   * next version is due at once). Returns the stored pending incident, or undefined when none is left.
   */
  private async failed(
    p: PendingIncident,
    outcome: { code: string; message: string },
    entry: EventEntry,
  ): Promise<PendingIncident | undefined> {
    const { deps } = this;
    const attempt = p.attempt + 1;
    const now = deps.clock.now();
    const wait = deps.retrySchedule[attempt - 1];
    if (wait === undefined) {
      const eventId = `${entry.tenantId}/${entry.incidentId}/${entry.lastUpdateTime}`;
      await deps.state.addDeadLetter({
        subscriptionId: this.sub.id,
        tenantId: this.tenantId,
        sequence: entry.sequence,
        incidentId: entry.incidentId,
        eventId,
        type: entry.type,
        eventTime: entry.time,
        attempts: attempt,
        lastErrorCode: outcome.code,
        lastError: outcome.message,
        deadLetteredAt: now.toISOString(),
      });
      this.engine.figures.deadLettered++;
      // The alert "events dead-lettered" counts this log event: ids and the error code only, never the URL or a body.
      reportDeadLettered(
        { logger: deps.logger, metrics: deps.metrics },
        {
          subscriptionId: this.sub.id,
          tenantId: this.tenantId,
          incidentId: entry.incidentId,
          eventId,
          attempts: attempt,
          errorCode: outcome.code,
        },
      );
      return this.advance(p);
    }
    this.engine.figures.failed++;
    const next: PendingIncident = {
      ...p,
      attempt,
      nextAttemptAt: addSeconds(now, wait),
      lastErrorCode: outcome.code,
      lastError: outcome.message.slice(0, 1024),
    };
    await deps.state.putPending(this.sub.id, next);
    this.pending.set(p.incidentId, next);
    deps.logger.info('delivery.retry_scheduled', {
      subscriptionId: this.sub.id,
      tenantId: this.tenantId,
      sequence: entry.sequence,
      attempt,
      code: outcome.code,
      nextAttemptAt: next.nextAttemptAt,
    });
    return next;
  }

  /**
   * One attempt: read the CloudEvent, send it, count a delivery, turn a 410 into a disabled subscription. A CloudEvent
   * that cannot be read (table error, undecodable row) is a failed attempt: the entry stays pending and is retried.
   */
  private async attempt(entry: EventEntry): Promise<DeliveryOutcome> {
    let event: IncidentCloudEvent;
    try {
      event = await this.deps.events.cloudEvent(entry);
    } catch (error) {
      return unreadable(error);
    }
    const outcome = await this.engine.send(this.sub, event);
    this.unanswered = unanswered(outcome) ? this.unanswered + 1 : 0;
    if (outcome.kind === 'delivered') this.engine.figures.delivered++;
    if (outcome.kind === 'gone') {
      this.stopped = true;
      await this.engine.markGone(this.sub, outcome.status);
    }
    return outcome;
  }

  private async saveCursor(): Promise<void> {
    if (this.cursor === undefined || this.cursor === this.savedCursor) return;
    const version = await this.deps.state.saveCursor(this.sub.id, this.tenantId, this.cursor, this.version);
    if (version === undefined) {
      this.deps.logger.warn('delivery.cursor_moved', { subscriptionId: this.sub.id, tenantId: this.tenantId });
      return;
    }
    this.savedCursor = this.cursor;
    this.version = version;
  }
}
