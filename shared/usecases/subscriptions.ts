/**
 * Subscription management (design §9): add, list, remove, enable, dead letters, replay. Shared by the CLI and the
 * admin API. The webhook secret goes to the SubscriptionSecretStore only, and is registered with the log redactor;
 * it is returned by `addSubscription` once, when generated, and by nothing else.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InputError, NotFoundError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import {
  CLI_FIELDS,
  matchesFilters,
  newSubscription,
  parseSubscriptionId,
  type FieldNames,
  type SubscriptionFilters,
  type SubscriptionInput,
  type SubscriptionKind,
  type SubscriptionRecord,
  type SubscriptionStatus,
  wantsTenant,
} from '../domain/subscription.js';
import { isTenantId } from '../domain/tenantId.js';
import type {
  Clock,
  DeadLetter,
  DeliveryHealth,
  SubscriptionSummary,
  DeliveryStateStore,
  EventLog,
  Logger,
  SubscriptionSecretStore,
  SubscriptionStore,
  TenantStore,
} from '../ports.js';

/** What subscription management needs. `redact` registers a secret with the log redactor (shared/log.ts). */
export interface SubscriptionDeps {
  readonly subscriptions: SubscriptionStore;
  readonly state: DeliveryStateStore;
  readonly secrets: SubscriptionSecretStore;
  readonly events: EventLog;
  readonly tenants: TenantStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly redact: (secret: string) => void;
}

/** `subscriptions add --json` (design §9): `secret` only when it was generated, and only here. */
export interface AddedSubscription {
  readonly id: string;
  readonly kind: SubscriptionKind;
  readonly url?: string;
  readonly secret?: string;
  readonly filters: SubscriptionFilters;
}

/** `subscriptions list --json` item (design §9): never a secret. */
export interface SubscriptionView {
  readonly id: string;
  readonly kind: SubscriptionKind;
  readonly url?: string;
  readonly endpoint?: string;
  readonly ruleId?: string;
  readonly stream?: string;
  readonly filters: SubscriptionFilters;
  readonly status: SubscriptionStatus;
  /**
   * Events awaiting a retry or queued behind one; for a disabled subscription also the events waiting after its
   * cursors (at most BACKLOG_READ_CAP per tenant counted).
   */
  readonly pending: number;
  readonly deadLettered: number;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`Subscription ${id} does not exist.`, ErrorCode.SUBSCRIPTION_NOT_FOUND);
}

/** The subscription, or NotFoundError SUBSCRIPTION_NOT_FOUND; a malformed ID is an InputError naming `field`. */
export async function requireSubscription(
  deps: Pick<SubscriptionDeps, 'subscriptions'>,
  rawId: string,
  field = 'subscriptionId',
): Promise<SubscriptionRecord> {
  const id = parseSubscriptionId(rawId, field);
  const sub = await deps.subscriptions.get(id);
  if (!sub) throw notFound(id);
  return sub;
}

/**
 * Validate and store a new subscription (its secret first, so a stored webhook always has one). Its cursor of each
 * registered tenant starts at the tenant's highest event sequence (one EventLog.lastSequence per tenant): it receives
 * every event written after the add, older ones only through `replay` (design §9).
 */
export async function addSubscription(
  deps: SubscriptionDeps,
  input: SubscriptionInput,
  names: FieldNames = CLI_FIELDS,
): Promise<AddedSubscription> {
  const made = newSubscription(
    input,
    deps.clock.now(),
    { uuid: randomUUID(), secret: () => `whsec_${randomBytes(32).toString('base64')}` },
    names,
  );
  const { record } = made;
  if (made.secret !== undefined) {
    deps.redact(made.secret);
    await deps.secrets.put(record.id, made.secret);
  }
  // Start each tenant's cursor at its highest event sequence before the subscription is visible to a pass: every
  // event written after the add has a higher sequence, so it is delivered (a tenant without a cursor starts at 0).
  const tenants = (await deps.tenants.list()).map((t) => t.tenantId.toLowerCase());
  for (const tenantId of tenants) {
    if (!wantsTenant(record.filters, tenantId)) continue;
    const last = await deps.events.lastSequence(tenantId);
    if (last !== undefined) await deps.state.saveCursor(record.id, tenantId, last);
  }
  await deps.subscriptions.add(record);
  deps.logger.info('subscription.added', { subscriptionId: record.id, kind: record.kind });
  return {
    id: record.id,
    kind: record.kind,
    ...(record.url !== undefined ? { url: record.url } : {}),
    ...(made.generated && made.secret !== undefined ? { secret: made.secret } : {}),
    filters: record.filters,
  };
}

/** Events read per tenant when counting a disabled subscription's waiting events (the figure is capped there). */
export const BACKLOG_READ_CAP = 1000;

/**
 * Events a disabled subscription owes beyond its pending rows: per tenant it wants (registered or with a cursor), the
 * events after its cursor that pass its filters — one EventLog read of at most BACKLOG_READ_CAP per tenant, so the
 * figure is capped at that many per tenant. (An active subscription's new events are a pass's business: not counted.)
 */
async function waitingAfterCursors(
  deps: Pick<SubscriptionDeps, 'events' | 'tenants'>,
  sub: SubscriptionRecord,
  cursors: ReadonlyMap<string, number>,
): Promise<number> {
  const tenants = new Set((await deps.tenants.list()).map((t) => t.tenantId.toLowerCase()));
  for (const t of cursors.keys()) tenants.add(t);
  let waiting = 0;
  for (const tenantId of tenants) {
    if (!wantsTenant(sub.filters, tenantId)) continue;
    const entries = await deps.events.read(tenantId, cursors.get(tenantId) ?? 0, BACKLOG_READ_CAP);
    waiting += entries.filter((e) => matchesFilters(sub.filters, e)).length;
  }
  return waiting;
}

/**
 * Every subscription with its backlog: one DeliveryState partition query each; for a disabled (410) one also the
 * events waiting after its cursors (see waitingAfterCursors), since no pass moves them into pending rows.
 */
export async function listSubscriptions(
  deps: Pick<SubscriptionDeps, 'subscriptions' | 'state' | 'events' | 'tenants'>,
): Promise<SubscriptionView[]> {
  const subs = await deps.subscriptions.list();
  return Promise.all(
    subs.map(async (s) => {
      const st = await deps.state.state(s.id);
      const retrying = st.pending.reduce((n, p) => n + p.sequences.length, 0);
      const waiting = s.status === 'disabled' ? await waitingAfterCursors(deps, s, st.cursors) : 0;
      return {
        id: s.id,
        kind: s.kind,
        ...(s.url !== undefined ? { url: s.url } : {}),
        ...(s.endpoint !== undefined ? { endpoint: s.endpoint, ruleId: s.ruleId, stream: s.stream } : {}),
        filters: s.filters,
        status: s.status,
        pending: retrying + waiting,
        deadLettered: st.deadLetters.length,
      };
    }),
  );
}

/** Remove a subscription, its secret and its delivery state. */
export async function removeSubscription(deps: SubscriptionDeps, rawId: string): Promise<void> {
  const sub = await requireSubscription(deps, rawId);
  await deps.subscriptions.remove(sub.id);
  if (sub.kind === 'webhook') await deps.secrets.delete(sub.id);
  await deps.state.purge(sub.id);
  deps.logger.info('subscription.removed', { subscriptionId: sub.id });
}

/** Set a subscription active again: the events it owes (kept while disabled) are sent from the next pass. */
export async function enableSubscription(deps: SubscriptionDeps, rawId: string): Promise<SubscriptionRecord> {
  const sub = await requireSubscription(deps, rawId);
  return deps.subscriptions.setStatus(sub.id, 'active');
}

/** The subscription's dead letters, by tenant then sequence. */
export async function listDeadLetters(deps: SubscriptionDeps, rawId: string): Promise<DeadLetter[]> {
  const sub = await requireSubscription(deps, rawId);
  return [...(await deps.state.state(sub.id)).deadLetters];
}

export interface ReplayOptions {
  /** ISO 8601: only events whose time is at or after it (default: all). */
  readonly since?: string;
  /** Only these tenants (default: every tenant the subscription wants). */
  readonly tenants?: readonly string[];
}

/** Per tenant: the cursor a replay set (events after it are sent again, in order). */
export interface ReplayResult {
  readonly subscriptionId: string;
  readonly tenants: readonly { readonly tenantId: string; readonly fromSequence: number }[];
  /** Dead letters removed (their events are among those re-queued). */
  readonly deadLettersRequeued: number;
}

const REPLAY_PAGE = 1000;

/** The highest sequence of the tenant's events older than `since` (0: none), reading the log in pages. */
async function sequenceBefore(events: EventLog, tenantId: string, since: number): Promise<number> {
  let after = 0;
  for (;;) {
    const page = await events.read(tenantId, after, REPLAY_PAGE);
    for (const e of page) {
      if (Date.parse(e.time) >= since) return after;
      after = e.sequence;
    }
    if (page.length < REPLAY_PAGE) return after;
  }
}

/**
 * Re-queue the subscription's events (design §9 `replay`): per tenant, the cursor moves back to just before the
 * first event at or after `since` (default: the first event), and dead letters of that range are dropped (their
 * events come again with the rest, in order). A pass in progress notices the moved cursor (ETag) and leaves it.
 */
export async function replaySubscription(
  deps: SubscriptionDeps,
  rawId: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const sub = await requireSubscription(deps, rawId);
  const since = options.since === undefined ? undefined : Date.parse(options.since);
  const chosen = options.tenants?.map((t) => {
    const id = t.trim().toLowerCase();
    if (!isTenantId(id)) throw new InputError('--tenant', '--tenant must be a tenant ID (GUID).');
    return id;
  });
  const st = await deps.state.state(sub.id);
  const known = new Set((await deps.tenants.list()).map((t) => t.tenantId.toLowerCase()));
  for (const t of st.cursors.keys()) known.add(t);
  const tenants = (chosen ?? [...known]).filter((t) => !sub.filters.tenants || sub.filters.tenants.includes(t)).sort();
  const result: { tenantId: string; fromSequence: number }[] = [];
  let requeued = 0;
  for (const tenantId of tenants) {
    const from = since === undefined ? 0 : await sequenceBefore(deps.events, tenantId, since);
    await deps.state.resetCursor(sub.id, tenantId, from);
    for (const d of st.deadLetters) {
      if (d.tenantId !== tenantId || d.sequence <= from) continue;
      await deps.state.deleteDeadLetter(sub.id, tenantId, d.sequence);
      requeued++;
    }
    result.push({ tenantId, fromSequence: from });
  }
  deps.logger.info('subscription.replayed', { subscriptionId: sub.id, tenants: result.length, requeued });
  return { subscriptionId: sub.id, tenants: result, deadLettersRequeued: requeued };
}

function bodyString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InputError(field, `${field} must be a string.`);
  return v;
}

function bodyStrings(body: Record<string, unknown>, field: string): string[] {
  const v = body[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || v.length > 1000)
    throw new InputError(field, `${field} must be an array of at most 1000 strings.`);
  return v as string[];
}

/**
 * The admin API's `POST /api/subscriptions` body (JSON): `{ url, secret?, tenants?, minSeverity?, types? }` or
 * `{ logAnalytics: true, endpoint, ruleId, stream, …filters }`. A malformed body is an InputError naming `body` or
 * the field.
 */
export function parseSubscriptionBody(text: string): SubscriptionInput {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new InputError('body', 'The body must be a JSON object.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InputError('body', 'The body must be a JSON object.');
  const body = parsed as Record<string, unknown>;
  const la = body.logAnalytics;
  if (la !== undefined && typeof la !== 'boolean')
    throw new InputError('logAnalytics', 'logAnalytics must be a boolean.');
  const pick = (field: string) => {
    const v = bodyString(body, field);
    return v === undefined ? {} : { [field]: v };
  };
  return {
    ...pick('url'),
    ...pick('secret'),
    ...pick('endpoint'),
    ...pick('ruleId'),
    ...pick('stream'),
    ...pick('minSeverity'),
    logAnalytics: la === true,
    tenants: bodyStrings(body, 'tenants'),
    types: bodyStrings(body, 'types'),
  };
}

/**
 * Delivery's figure for health (design §11 "events were dead-lettered in the last 24 hours"): dead letters of every
 * subscription whose `deadLetteredAt` is within 24 hours of the clock (one DeliveryState partition query each).
 */
export async function deliveryHealth(
  deps: Pick<SubscriptionDeps, 'subscriptions' | 'state' | 'clock'>,
): Promise<DeliveryHealth> {
  const since = deps.clock.now().getTime() - 24 * 3600_000;
  let deadLetteredLast24h = 0;
  for (const sub of await deps.subscriptions.list())
    for (const d of (await deps.state.state(sub.id)).deadLetters)
      if (Date.parse(d.deadLetteredAt) >= since) deadLetteredLast24h++;
  return { deadLetteredLast24h };
}

/** The status page's subscriptions: the `list --json` items (never a secret). */
export async function subscriptionSummaries(
  deps: Pick<SubscriptionDeps, 'subscriptions' | 'state' | 'events' | 'tenants'>,
): Promise<SubscriptionSummary[]> {
  return (await listSubscriptions(deps)).map((v) => ({
    id: v.id,
    kind: v.kind,
    ...(v.url !== undefined ? { url: v.url } : {}),
    filters: { ...v.filters },
    status: v.status,
    pending: v.pending,
    deadLettered: v.deadLettered,
  }));
}
