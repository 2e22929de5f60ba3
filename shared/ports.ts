/**
 * Ports: the seams between the pure core (domain, usecases) and the adapters (Azure SDKs, got).
 * Use cases depend only on these interfaces; adapters implement them; tests may substitute them
 * in unit tests only (integration tests always run the real adapters against Azurite + simulators).
 */

import type { FailureKind } from './domain/errors.js';
import type { PartnerCredentialRecord } from './domain/partnerCredential.js';
import type { SubscriptionRecord, SubscriptionStatus } from './domain/subscription.js';

export type SourceKind = 'graph' | 'm365d';

/** `INCIDENT_SOURCE` (design §3): one source for every tenant, or `auto` (per tenant: Graph once its token carries the role). */
export type SourceSetting = SourceKind | 'auto';

/**
 * The legacy API stops on this instant (Microsoft retirement notice MC1220762): from it, a tenant whose source is
 * `m365d` is not collected (run result `failed`, code `SOURCE_RETIRED`, design §7).
 */
export const LEGACY_RETIREMENT = '2027-02-01T00:00:00.000Z';
/** From this instant health is `degraded` while a tenant still collects from the legacy API (design §11). */
export const LEGACY_WARNING_FROM = '2027-01-01T00:00:00.000Z';

/** Whether the legacy API is retired at `now` (an injected clock's time, never the machine date). */
export function legacyRetired(now: Date): boolean {
  return now.getTime() >= Date.parse(LEGACY_RETIREMENT);
}

/** Whether `now` is inside the last month before the legacy API stops, or after it (health, start-up warning). */
export function legacyDeadlineNear(now: Date): boolean {
  return now.getTime() >= Date.parse(LEGACY_WARNING_FROM);
}

export type JsonObject = { [key: string]: unknown };

/** One incident as an incident source returned it. */
export interface FetchedIncident {
  /** Graph `id`; legacy `incidentId` in decimal. */
  readonly incidentId: string;
  /** The API's own string: Graph `lastUpdateDateTime`, legacy `lastUpdateTime` (precision varies). */
  readonly lastUpdateTime: string;
  /** The object exactly as the API returned it; alerts in `alerts` (also when fetched by a fallback call). */
  readonly incident: JsonObject;
}

export interface IncidentPage {
  readonly incidents: readonly FetchedIncident[];
  /**
   * The value (an API `lastUpdate…` string) the tenant's checkpoint may advance to once this page and all
   * earlier pages are durably written, or undefined when this page alone does not make any advance safe. Sources
   * set it only on the last page of a bounded query read whole (design §6.5: a time slice; never a single page of
   * a query still being paged, whatever order the server promised).
   */
  readonly checkpoint?: string;
  /**
   * Records of this page that could not be accepted (no `id`, a `lastUpdate…` that is null, unparseable or
   * without a time zone): kept for the quarantine, never written as incidents and never the reason a page fails.
   */
  readonly rejected?: readonly RejectedRecord[];
}

/** One record an incident source received but could not accept (issue 10 §3: kept, not dropped). */
export interface RejectedRecord {
  /** The record exactly as the API returned it (any JSON value). */
  readonly raw: unknown;
  /** Why it was refused, naming the field, e.g. `'lastUpdateDateTime' is null`. Never holds secrets. */
  readonly reason: string;
}

/**
 * The quarantine of rejected records (table `RejectedIncidents`: PK tenant ID, RK a stable hash of the raw JSON).
 * A record re-read on every overlap is kept once; the first copy (its run and time) stays.
 */
export interface QuarantineStore {
  /** Keep each record not kept before; returns how many were new. */
  keep(tenantId: string, source: SourceKind, runId: string, records: readonly RejectedRecord[]): Promise<number>;
  /** The quarantined records, oldest first (`tenantId` narrows to one tenant). */
  list(tenantId?: string): AsyncIterable<QuarantinedRecord>;
}

/** A quarantined record as stored. */
export interface QuarantinedRecord {
  readonly tenantId: string;
  /** The stable key: SHA-256 (hex) of the raw JSON text. */
  readonly key: string;
  readonly source: SourceKind;
  readonly runId: string;
  /** ISO 8601 UTC: when it was first kept. */
  readonly rejectedAt: string;
  readonly reason: string;
  /** The raw JSON text as received (re-serialised). */
  readonly raw: string;
}

/** Inclusive time window, both ends as fixed-width UTC strings (`YYYY-MM-DDTHH:mm:ss.fffffffZ`). */
export interface SyncWindow {
  readonly from: string;
  readonly to: string;
}

export interface PageOptions {
  readonly signal?: AbortSignal;
}

export interface IncidentSource {
  readonly kind: SourceKind;
  /** Token scope: `{origin of the API}/.default`. */
  readonly scope: string;
  /** Application roles any one of which allows reading incidents. */
  readonly readRoles: readonly string[];
  /** Pages of the window, yielded as they arrive (never accumulated). */
  pages(tenantId: string, window: SyncWindow, options?: PageOptions): AsyncIterable<IncidentPage>;
  /** One `$top=1` call: proves token, role and API access. Throws a CollectorError on failure. */
  probe(tenantId: string, options?: PageOptions): Promise<void>;
}

/**
 * The incident sources of one process, each with its own token scope, read roles, rate limiter and paging (a run
 * collects each tenant from its own source). Built lazily: a fleet that never uses the legacy API never builds it.
 */
export interface SourceRegistry {
  /** `INCIDENT_SOURCE`: what a tenant without its own `source` column is collected from. */
  readonly defaultSetting: SourceSetting;
  /** The source of this kind and the token provider for its scope and roles. */
  sourceFor(kind: SourceKind): { readonly source: IncidentSource; readonly tokens: TokenProvider };
}

/** Access tokens for a tenant, already checked (`tid` equals the tenant, `roles` holds a read role). */
export interface TokenProvider {
  getToken(tenantId: string, options?: PageOptions): Promise<string>;
  /**
   * The partner credential in use (kind, Key Vault name/version, expiry), read as a token request would read it.
   * Optional: test fakes may leave it out. Throws the CollectorError of a failed read.
   */
  describeCredential?(): Promise<PartnerCredentialRecord>;
}

/**
 * One read of a Key Vault secret (or a certificate's secret). `contentType` is Key Vault's (`application/x-pem-file`,
 * `application/x-pkcs12` for certificates); `expiresOn` is the item's expiry when one is set.
 */
export interface SecretRead {
  readonly value: string;
  readonly version: string;
  readonly contentType?: string;
  readonly expiresOn?: Date;
}

/** The partner app's client secret (or certificate), read without a version so rotation needs no redeploy. */
export interface SecretProvider {
  /** Cached value (bounded age). */
  getSecret(): Promise<SecretRead>;
  /** Re-read now (after `invalid_client`); returns the fresh value. */
  refresh(): Promise<SecretRead>;
}

export type TenantStatus =
  | 'pending_consent'
  | 'active'
  | 'consent_revoked'
  | 'missing_permissions'
  | 'credential_error'
  | 'disabled'
  | 'failing';

export interface TenantRecord {
  readonly tenantId: string;
  readonly displayName: string;
  readonly status: TenantStatus;
  readonly consentedAt?: string;
  /** Checkpoint: the API's own `lastUpdate…` string of the highest incident durably written. */
  readonly checkpoint?: string;
  readonly lastRunAt?: string;
  readonly lastSuccessAt?: string;
  readonly lastProbeAt?: string;
  /** When `status` last changed (drives re-probing). */
  readonly statusChangedAt?: string;
  readonly consecutiveFailures: number;
  /** The run whose failure was last counted: queue retries within one run count once. */
  readonly lastFailedRunId?: string;
  readonly lastErrorCode?: string;
  readonly lastError?: string;
  /** When the consent link last issued for this tenant expires (bulk onboarding; a pending tenant past it needs a new one). */
  readonly consentLinkExpiresAt?: string;
  /** The tenant's own source (`Tenants.source`); absent = `INCIDENT_SOURCE` decides. */
  readonly source?: SourceKind;
  /** Records of this tenant kept in the quarantine (rejected, each counted once), when any. */
  readonly incidentsRejected?: number;
  /**
   * Opaque, for the snapshot writer only (`Tenants.recentVersions`): the incident records the last successful
   * collection handled (stored, or found stored) that the next window reads again — see SnapshotWriter.
   * Never shown to operators; absent or '' when unknown.
   */
  readonly recentVersions?: string;
  /**
   * The delivery hint (`Tenants.eventSequence`): the highest event sequence a collection of this tenant recorded,
   * written with the collection's final tenant write (after the events are durable), so it is never ahead of the
   * event log; it may be behind (a crash between the events and that write). Absent before the first collection that
   * wrote an event. A delivery pass skips the tenant's event log while the hint is not above the lowest cursor of the
   * subscriptions that want the tenant; its periodic full pass reads every log whatever the hint (design §9,
   * usecases/deliver.ts).
   */
  readonly eventSequence?: number;
}

/** Fields to merge into a tenant row; `source: ''` clears the tenant's own source (back to `INCIDENT_SOURCE`). */
export type TenantPatch = Partial<Omit<TenantRecord, 'tenantId' | 'checkpoint' | 'source'>> & {
  readonly source?: SourceKind | '';
};

export interface TenantStore {
  get(tenantId: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
  /** Create the tenant, or merge into the existing row (never touches `checkpoint`). Returns the stored record. */
  upsert(tenantId: string, patch: TenantPatch & { displayName?: string }): Promise<TenantRecord>;
  /** Merge fields into an existing tenant. Throws NotFoundError when absent. */
  update(tenantId: string, patch: TenantPatch): Promise<TenantRecord>;
  /**
   * The same merge as `update` without reading the row back (one round trip on Table Storage): for callers that do
   * not need the stored record, such as recording a collection's outcome. Throws NotFoundError when absent.
   */
  patch(tenantId: string, patch: TenantPatch): Promise<void>;
  /**
   * Move the checkpoint forward to `checkpoint` when it is later than the stored one (compared as instants,
   * full precision); never backwards, safe against concurrent writers (ETag). Returns the stored value.
   */
  advanceCheckpoint(tenantId: string, checkpoint: string): Promise<string | undefined>;
  /**
   * `patch` and `advanceCheckpoint` in one: merge the fields and, when `checkpoint` is later than the stored one,
   * move the checkpoint to it (never backwards) — for recording a collection's outcome together with its last
   * checkpoint. Table Storage does it in one Merge guarded by the row's ETag (a concurrent change of the row costs a
   * read and a retry). Returns the stored checkpoint. Throws NotFoundError when the tenant is absent.
   */
  patchWithCheckpoint(tenantId: string, patch: TenantPatch, checkpoint: string): Promise<string | undefined>;
  delete(tenantId: string): Promise<void>;
}

export interface Lease {
  readonly tenantId: string;
  readonly owner: string;
  readonly expiresAt: string;
}

export interface LeaseStore {
  /** Take the tenant's lease for `durationMs`, or undefined when another owner holds an unexpired one. */
  acquire(tenantId: string, owner: string, durationMs: number): Promise<Lease | undefined>;
  /** Extend a held lease; false when it was lost. */
  renew(lease: Lease, durationMs: number): Promise<Lease | undefined>;
  release(lease: Lease): Promise<void>;
  /** The owner of the tenant's unexpired lease, or undefined when nobody holds it. */
  holder(tenantId: string): Promise<string | undefined>;
}

export interface StoredSnapshot {
  readonly tenantId: string;
  readonly incidentId: string;
  readonly lastUpdateTime: string;
  readonly source: SourceKind;
  readonly snapshotAt: string;
  readonly contentHash: string;
  readonly incident: JsonObject;
}

export interface SnapshotQuery {
  readonly tenantId?: string;
  /** Inclusive, compared as instants against `lastUpdateTime`. */
  readonly since?: string;
}

export interface WriteResult {
  /** New versions written (new history rows). */
  readonly changed: number;
  /**
   * The event entries recorded with those versions (one per new history row, design §9), in sequence order.
   * Stores that record events report them; absent when nothing was written.
   */
  readonly events?: readonly EventEntry[];
}

/** What a collection's writer may start from. */
export interface WriterOptions {
  /** `TenantRecord.recentVersions` as read under the tenant's lease (see SnapshotWriter.recentVersions). */
  readonly recentVersions?: string;
}

/**
 * One tenant's page writes within one collection (see SnapshotStore.writer).
 *
 * A writer may hold a page's rows instead of writing them at once, so that rows of several pages fill whole
 * transactions (Table Storage: 100 operations each). Held rows are not durable: the caller must call flush() before
 * it advances the tenant's checkpoint past them and before the collection ends successfully (or check `pending` is
 * 0). A collection that fails simply drops the writer: the checkpoint never passed the held rows, so they are read
 * again by the next run. The write order of each version (payload chunks, history row with its event, latest row)
 * and the order of events are kept across held pages.
 */
export interface SnapshotWriter {
  /**
   * Plan the page (what is new against the stored rows) and write or hold its rows. The result counts the versions
   * made durable by this call — this page's and earlier held pages' — not those still held.
   */
  writePage(source: SourceKind, incidents: readonly FetchedIncident[]): Promise<WriteResult>;
  /** Write every held row (nothing when none is held); the result counts the versions it made durable. */
  flush(): Promise<WriteResult>;
  /** Rows held, not yet written (0 for a writer that writes each page at once). */
  readonly pending: number;
  /**
   * The records this writer handled (each incident's ID, lastUpdate instant and content) whose lastUpdate is at or
   * after `since`, encoded for `TenantRecord.recentVersions` ('' when there are too many to keep). Meaningful only
   * once nothing is pending and the collection succeeded: every record in it is then stored. A writer given that
   * value by the next collection (SnapshotStore.writer) skips a page whose every record is in it — the same
   * records were planned and written then, so there is nothing to read or write — saving the read of the tenant's
   * latest rows for a tenant with no change. Absent: the writer keeps no such record.
   */
  recentVersions?(since: string): string;
}

export interface SnapshotStore {
  /**
   * Optional: a writer for one collection of one tenant, used by the lease holder only. It may remember what it
   * reads and writes (e.g. the tenant's stored latest rows) across its pages to save round trips; every guarantee
   * of writePage holds (ETag conditions still guard the latest rows). Drop it when the collection ends.
   */
  writer?(tenantId: string, options?: WriterOptions): SnapshotWriter;
  /**
   * Durably write one page: a history row per new version (written first), then the latest rows
   * (never replaced by an older version). Idempotent: re-writing a page adds no rows.
   */
  writePage(tenantId: string, source: SourceKind, incidents: readonly FetchedIncident[]): Promise<WriteResult>;
  latest(query?: SnapshotQuery): AsyncIterable<StoredSnapshot>;
  history(query?: SnapshotQuery): AsyncIterable<StoredSnapshot>;
  purgeTenant(tenantId: string): Promise<void>;
}

/** One latest version as the read API lists it (design §10): the summary columns, never the payload. */
export interface IncidentSummary {
  readonly tenantId: string;
  readonly incidentId: string;
  /** The API's own `lastUpdate…` string. */
  readonly lastUpdateTime: string;
  readonly source: SourceKind;
  /** ISO 8601 UTC. */
  readonly snapshotAt: string;
  /** The incident's own values as stored in the summary columns (title = displayName / incidentName); '' when absent. */
  readonly status: string;
  readonly severity: string;
  readonly title: string;
}

/** A page request of latest versions (design §10); every filter optional. */
export interface LatestPageQuery {
  /** Lower-case tenant ID. */
  readonly tenantId?: string;
  /** Inclusive, compared as instants against `lastUpdateTime`. */
  readonly since?: string;
  /** Case-insensitive. */
  readonly status?: string;
  /** Case-insensitive. */
  readonly severity?: string;
  /** Rows wanted, 1..500. */
  readonly top: number;
  /** The opaque token of the previous page. */
  readonly continuationToken?: string;
}

export interface LatestPage {
  /** At most `top` rows (fewer is possible before the last page: follow the token). */
  readonly value: IncidentSummary[];
  /** Opaque; absent on the last page. */
  readonly continuationToken?: string;
}

/**
 * Reads for the HTTP read API (design §10), bounded per call: one page of latest summaries (never the whole table),
 * one incident's latest version, or its versions streamed oldest first.
 */
export interface IncidentReader {
  /** InputError naming `continuationToken` when the token is not one this reader issued. */
  latestPage(query: LatestPageQuery): Promise<LatestPage>;
  /** The latest stored version, or undefined when the incident is not stored. */
  latestOf(tenantId: string, incidentId: string): Promise<StoredSnapshot | undefined>;
  /** Every stored version of the incident, oldest first (none when unknown). */
  versionsOf(tenantId: string, incidentId: string): AsyncIterable<StoredSnapshot>;
}

export type RunTenantOutcome = 'ok' | 'failed' | 'skipped';

export interface TenantRunResult {
  readonly tenantId: string;
  readonly status: RunTenantOutcome;
  readonly incidentsFetched: number;
  readonly incidentsChanged: number;
  readonly pages: number;
  /** Records rejected into the quarantine in this run (absent when none); `collect --json` prints it when present. */
  readonly incidentsRejected?: number;
  /**
   * `kind` (design §7 failure kind) lets a host decide retry vs record (the queue worker); it is not part of the
   * CLI's `collect --json` contract, which prints `{ code, message }` only.
   */
  readonly error?: { readonly code: string; readonly message: string; readonly kind?: FailureKind };
}

export interface RunRecord {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** `cli`, `schedule`, `manual`, … */
  readonly trigger: string;
  readonly tenantsPlanned: number;
  readonly tenantsOk: number;
  readonly tenantsFailed: number;
  readonly tenantsSkipped: number;
  readonly incidentsFetched: number;
  readonly incidentsChanged: number;
  readonly pages: number;
  readonly deadLetters: number;
  /** The partner credential as read when the run started (kind, version, expiry), when it could be read. */
  readonly credential?: PartnerCredentialRecord;
  /**
   * The partner-credential error code (`isPartnerCredentialCode`) a worker of this run met after the token
   * provider's one re-read (design §7): later workers of the run record their tenant `credential_error` with it
   * without calling Entra. Absent while the credential has not been refused in this run.
   */
  readonly credentialFailure?: string;
}

export interface RunStore {
  create(run: RunRecord): Promise<void>;
  get(runId: string, startedAt: string): Promise<RunRecord | undefined>;
  /**
   * Add one tenant's result to the run's counters (safe against concurrent workers). With a slot (a queued run's
   * message), the result is counted only if that slot was not settled before: false means it already was, and
   * nothing changed.
   */
  recordTenant(runId: string, startedAt: string, result: TenantRunResult, slot?: number): Promise<boolean>;
  /**
   * Add several tenants' results to the run's counters at once, as recordTenant would one by one (safe against
   * concurrent workers; on Table Storage one read and one conditional write however many results). No slots: for
   * a process that collects the run's tenants itself and counts each result once. An empty list changes nothing.
   */
  recordTenants(runId: string, startedAt: string, results: readonly TenantRunResult[]): Promise<void>;
  /** Count a dead letter; with a slot, only if that slot was not settled before (false: it was, nothing changed). */
  recordDeadLetter(runId: string, startedAt: string, slot?: number): Promise<boolean>;
  /** Whether a queued tenant's outcome is already counted in the run; TABLE_RUN_NOT_FOUND when the run is gone. */
  isSettled(runId: string, startedAt: string, slot: number): Promise<boolean>;
  finish(runId: string, startedAt: string, finishedAt: string): Promise<void>;
  /**
   * Note on the run that the partner credential was refused with `code` (design §7, the queue path's "stop the
   * run"); the counters are untouched. NotFoundError TABLE_RUN_NOT_FOUND when the run does not exist.
   */
  markCredentialFailure(runId: string, startedAt: string, code: string): Promise<void>;
  /** The most recent finished run, for health. */
  lastFinished(): Promise<RunRecord | undefined>;
  /**
   * Up to `limit` (1–{@link MAX_RECENT_RUNS}) runs, finished or not, newest `startedAt` first, from the date
   * partitions of the last 7 days by the store's clock (the status page's "last runs"). InputError `limit` otherwise.
   */
  recent(limit: number): Promise<RunRecord[]>;
}

/** The most runs `RunStore.recent` returns in one call. */
export const MAX_RECENT_RUNS = 200;

export interface ConsentState {
  /** The tenant the link was made for (GUID), or undefined for an `organizations` link. */
  readonly tenantId?: string;
  readonly displayName?: string;
  /**
   * The source whose scope the link asked consent for, when the link named one (`sources check` issues Graph
   * links): the callback verifies that source. Undefined: the tenant's own source, else `INCIDENT_SOURCE`.
   */
  readonly source?: SourceKind;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface ConsentStateStore {
  save(state: string, record: ConsentState): Promise<void>;
  /**
   * Consume a state exactly once: returns the record on the first call for an existing state
   * (expired or not — the caller checks expiry), undefined for unknown or already-consumed states.
   * Atomic against concurrent callers.
   */
  consume(state: string): Promise<ConsentState | undefined>;
  /** Delete at most `limit` states that expired before `now` (links never used); returns how many were deleted. */
  deleteExpired(now: string, limit: number): Promise<number>;
}

export interface Clock {
  now(): Date;
}

export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/**
 * The collector's metrics (issue 12): what the core reports, with no OpenTelemetry type in sight. The adapter in
 * shared/telemetry/ turns each call into an OTel instrument measurement (names in its docstring); `noMetrics` drops
 * everything (telemetry off, unit tests). Tenant IDs are attributes: bounded by the number of customer tenants.
 */
export interface CollectorMetrics {
  /** `count` new IncidentHistory versions were written for `tenantId` from `source` (one page's `changed`). */
  incidentVersionsWritten(tenantId: string, source: SourceKind, count: number): void;
  /**
   * `count` incidents of `severity` (the API's own value, lower case; `unknown` when absent) were read for `tenantId`
   * in one page (new or updated in the collection window, re-reads of the overlap included).
   */
  incidentsFetched(tenantId: string, severity: string, count: number): void;
  /** One tenant's collection ended: `status` of the run result, and its error code when it has one. */
  tenantOutcome(tenantId: string, status: TenantRunResult['status'], errorCode?: string): void;
  /**
   * The tenant's checkpoint after a successful collection (an API `lastUpdate…` instant, ISO-8601): the gauge
   * reports its age in seconds (now − checkpoint) each time metrics are exported.
   */
  checkpoint(tenantId: string, checkpoint: string): void;
  /** The incidents API (or Entra) was retried for `tenantId`: `status` is the HTTP status, undefined on a network error; 429 counts as throttled too. */
  httpRetry(tenantId: string, status: number | undefined): void;
  /** Delivery (design §9): events waiting for `subscriptionId` (new and retrying) after a delivery pass. */
  deliveryBacklog(subscriptionId: string, pending: number): void;
  /** Delivery (design §9): `count` events of `subscriptionId` were dead-lettered (their last attempt failed). */
  deadLettered(subscriptionId: string, count: number): void;
}

/** Metrics that go nowhere: the default when telemetry is off. */
export const noMetrics: CollectorMetrics = {
  incidentVersionsWritten: () => undefined,
  incidentsFetched: () => undefined,
  tenantOutcome: () => undefined,
  checkpoint: () => undefined,
  httpRetry: () => undefined,
  deliveryBacklog: () => undefined,
  deadLettered: () => undefined,
};

// ---------------------------------------------------------------------------------------------------------------
// The change feed and its delivery (design §9). The seams between event recording (the snapshot write path),
// the delivery engine (usecases/delivery*), the sinks (webhook, Log Analytics) and the subscription store.
// ---------------------------------------------------------------------------------------------------------------

export type IncidentEventType = 'incident.created' | 'incident.updated';

/** `data` of an incident event (design §9). */
export interface IncidentEventData {
  readonly tenantId: string;
  readonly incidentId: string;
  /** The API's own `lastUpdate…` string of this version. */
  readonly lastUpdateTime: string;
  readonly source: SourceKind;
  /** Per tenant, strictly increasing in the order versions were written; gaps allowed. */
  readonly sequence: number;
  /** The incident's own values as the API returned them (title = Graph displayName / legacy incidentName). */
  readonly severity?: unknown;
  readonly status?: unknown;
  readonly title?: unknown;
  /** `incident.updated` only: top-level keys whose value differs from the previous stored version. */
  readonly changedFields?: readonly string[];
  /** `incident.updated` only: previous values of `changedFields` (alerts excluded; keys the previous lacked omitted). */
  readonly previous?: JsonObject;
  /** Exactly as the API returned it; without `alerts` when `truncated`. */
  readonly incident: JsonObject;
  /** Present (true) only when the incident's JSON exceeds 1 MiB. */
  readonly truncated?: true;
  /** With `truncated`: how many alerts were left out. */
  readonly alertCount?: number;
}

/** A CloudEvents 1.0 event in JSON structured mode (design §9). */
export interface IncidentCloudEvent {
  readonly specversion: '1.0';
  /** `<tenantId>/<incidentId>/<lastUpdateTime>`: the same version always has the same id. */
  readonly id: string;
  /** `/tenants/<tenantId>` */
  readonly source: string;
  readonly type: IncidentEventType;
  /** `incidents/<incidentId>` */
  readonly subject: string;
  /** The version's snapshotAt, ISO 8601 UTC. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: IncidentEventData;
}

/**
 * One recorded event, as the event log keeps it: enough to route and filter without reading the payload. Written
 * in the same Table transaction as the history row of its version, so neither exists without the other.
 */
export interface EventEntry {
  readonly tenantId: string;
  readonly sequence: number;
  readonly incidentId: string;
  readonly lastUpdateTime: string;
  readonly type: IncidentEventType;
  /** snapshotAt of the version, ISO 8601 UTC (the CloudEvent `time`). */
  readonly time: string;
  /** The incident's severity as the API returned it (for subscription filters), when it had one. */
  readonly severity?: string;
}

/** The durable change feed: per tenant, entries in `sequence` order. */
export interface EventLog {
  /** Entries of one tenant with sequence > `afterSequence`, ascending, at most `limit`. */
  read(tenantId: string, afterSequence: number, limit: number): Promise<EventEntry[]>;
  /** The full CloudEvent of an entry (reads its version and the one before it for changedFields/previous). */
  cloudEvent(entry: EventEntry): Promise<IncidentCloudEvent>;
  /**
   * The tenant's highest stored event sequence, or undefined before its first event (sequences commit in order per
   * tenant, so every event written after this read has a higher one). Used to start a new subscription's cursors.
   */
  lastSequence(tenantId: string): Promise<number | undefined>;
}

/** How one delivery attempt ended (a sink's answer, classified per design §9). */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly status?: number }
  /** Retry on the schedule: another status, a timeout, a connection error, a 429/5xx from Logs Ingestion. */
  | { readonly kind: 'retry'; readonly code: string; readonly message: string; readonly status?: number }
  /** Webhook answered 410: the subscription is disabled until `subscriptions enable`. */
  | { readonly kind: 'gone'; readonly status: 410 };

/** Where a webhook subscription's events go; `secret` is `whsec_<base64>` (never logged). */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

/** A Log Analytics subscription's destination (Azure Monitor Logs Ingestion API). */
export interface LogAnalyticsTarget {
  /** Data collection endpoint, `https://…ingest.monitor.azure.com`. */
  readonly endpoint: string;
  /** Data collection rule immutable ID, `dcr-…`. */
  readonly ruleId: string;
  /** Stream name, e.g. `Custom-DefenderIncidents_CL`. */
  readonly stream: string;
}

/** Sends one event to a webhook: one POST, signed per Standard Webhooks, no redirects, DELIVERY_TIMEOUT_SECONDS. */
export interface WebhookSender {
  send(target: WebhookTarget, event: IncidentCloudEvent, options?: PageOptions): Promise<DeliveryOutcome>;
}

/** Sends events as rows to Logs Ingestion, batched by the sender; one outcome for the whole call. */
export interface LogAnalyticsSender {
  send(
    target: LogAnalyticsTarget,
    events: readonly IncidentCloudEvent[],
    options?: PageOptions,
  ): Promise<DeliveryOutcome>;
}

/**
 * Webhook subscription secrets (design §9): in Azure a Key Vault of their own (the collector's identity never gains
 * write access to the partner credential's vault); the `SubscriptionSecrets` table only when no vault is set.
 */
export interface SubscriptionSecretStore {
  put(subscriptionId: string, secret: string): Promise<void>;
  /** NotFoundError when absent. */
  get(subscriptionId: string): Promise<string>;
  delete(subscriptionId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// What health and the status page read from delivery (design §9, §11). Delivery fills these; the operator's view
// works without them ("No subscriptions", no dead-letter problem).
// ---------------------------------------------------------------------------------------------------------------

/** Delivery's contribution to health (design §11 "events were dead-lettered in the last 24 hours"). */
export interface DeliveryHealth {
  /** Events given up on (dead-lettered) in the last 24 hours, over all subscriptions. */
  readonly deadLetteredLast24h: number;
}

/** One subscription as `subscriptions list --json` prints it (design §9): the status page shows these. */
export interface SubscriptionSummary {
  readonly id: string;
  /** `webhook`, `log_analytics`, … as delivery names them. */
  readonly kind: string;
  /** The receiver's URL (webhooks); never a secret. */
  readonly url?: string;
  /** The subscription's filters as configured (tenants, severities, types, …). */
  readonly filters: JsonObject;
  readonly status: 'active' | 'disabled';
  /** Events waiting to be delivered (the backlog). */
  readonly pending: number;
  /** Events given up on. */
  readonly deadLettered: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Subscriptions and delivery state (design §9). Record types live in domain/subscription.ts.
// ---------------------------------------------------------------------------------------------------------------

/** The `Subscriptions` table (PK `subscription`, RK subscription ID). Never holds a secret. */
export interface SubscriptionStore {
  /** Store a new subscription (its ID is fresh). */
  add(record: SubscriptionRecord): Promise<void>;
  get(id: string): Promise<SubscriptionRecord | undefined>;
  /** Every subscription, by ID. */
  list(): Promise<SubscriptionRecord[]>;
  /** Set `active` (clears `disabledReason`) or `disabled` with a reason. NotFoundError SUBSCRIPTION_NOT_FOUND. */
  setStatus(id: string, status: SubscriptionStatus, reason?: string): Promise<SubscriptionRecord>;
  /** Delete the row; NotFoundError SUBSCRIPTION_NOT_FOUND when absent. */
  remove(id: string): Promise<void>;
}

/**
 * The events of one incident a subscription still owes (design §9 order per (subscription, incident)): the head
 * (`sequences[0]`) is retried on the schedule; the rest wait behind it, in version order.
 */
export interface PendingIncident {
  readonly tenantId: string;
  readonly incidentId: string;
  /** Event sequences of this incident still to deliver, ascending. */
  readonly sequences: readonly number[];
  /** Failed attempts of the head so far (0: the head was never tried). */
  readonly attempt: number;
  /** ISO 8601 UTC: when the head is tried next. */
  readonly nextAttemptAt: string;
  readonly lastErrorCode?: string;
  readonly lastError?: string;
}

/** An event given up on after the last attempt of the schedule: kept, listable, replayable. */
export interface DeadLetter {
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly sequence: number;
  readonly incidentId: string;
  /** The CloudEvent id (`<tenantId>/<incidentId>/<lastUpdateTime>`). */
  readonly eventId: string;
  readonly type: IncidentEventType;
  /** The event's `time` (snapshotAt), ISO 8601 UTC. */
  readonly eventTime: string;
  readonly attempts: number;
  readonly lastErrorCode: string;
  readonly lastError: string;
  readonly deadLetteredAt: string;
}

/** One subscription's delivery state for one tenant: its cursor and its incidents awaiting a retry. */
export interface PairState {
  /** The highest sequence handled (delivered, filtered out, or queued as pending); undefined: never stored. */
  readonly cursor?: number;
  /** Opaque version of the cursor row for saveCursor's condition (undefined: no row). */
  readonly cursorVersion?: string;
  /**
   * True once a replay has set the cursor: from then on the cursor alone decides (events written before the
   * subscription was created are no longer skipped).
   */
  readonly replayed?: boolean;
  readonly pending: readonly PendingIncident[];
}

/** One subscription's whole delivery state, read in one partition query (a delivery pass, `subscriptions list`). */
export interface SubscriptionDeliveryState {
  /** Tenant ID → cursor. */
  readonly cursors: ReadonlyMap<string, number>;
  readonly pending: readonly PendingIncident[];
  readonly deadLetters: readonly DeadLetter[];
}

/**
 * The `DeliveryState` table: PK subscription ID; RK `<tenant>|c` (cursor), `<tenant>|p|<incident key>` (pending
 * incident), `<tenant>|d|<sequence, 16 digits>` (dead letter). Writers of one (subscription, tenant) hold its lease.
 */
export interface DeliveryStateStore {
  state(subscriptionId: string): Promise<SubscriptionDeliveryState>;
  pair(subscriptionId: string, tenantId: string): Promise<PairState>;
  /**
   * Move the cursor to `sequence` if the row is still at `version` (undefined: the row must not exist yet). Returns
   * the new version, or undefined when someone else (a replay) changed it meanwhile and nothing was written.
   */
  saveCursor(subscriptionId: string, tenantId: string, sequence: number, version?: string): Promise<string | undefined>;
  /** Set the cursor unconditionally and mark it replayed (PairState.replayed). */
  resetCursor(subscriptionId: string, tenantId: string, sequence: number): Promise<void>;
  putPending(subscriptionId: string, pending: PendingIncident): Promise<void>;
  deletePending(subscriptionId: string, tenantId: string, incidentId: string): Promise<void>;
  addDeadLetter(letter: DeadLetter): Promise<void>;
  deleteDeadLetter(subscriptionId: string, tenantId: string, sequence: number): Promise<void>;
  /** Delete every row of the subscription (after `subscriptions remove`). */
  purge(subscriptionId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Data lifecycle: history retention and orphan payload chunks (design §3 HISTORY_RETENTION_DAYS; README "Data
// lifecycle"). The use case (usecases/retention.ts) decides what is owed to subscriptions; the store removes.
// ---------------------------------------------------------------------------------------------------------------

/** Which of a tenant's events are still owed to some subscription (their versions are never removed). */
export interface UndeliveredEvents {
  /** Every event with a sequence above this is owed; undefined when no subscription reads the tenant's new events. */
  readonly after?: number;
  /** Events owed individually: awaiting a retry (pending) or dead-lettered. */
  readonly sequences: ReadonlySet<number>;
}

/** What one tenant's prune may remove. */
export interface TenantPrunePolicy {
  /**
   * ISO 8601 UTC: history versions whose lastUpdateTime is before this instant may be removed; undefined removes
   * no version (HISTORY_RETENTION_DAYS=0), only orphan payload chunks.
   */
  readonly cutoff?: string;
  /** ISO 8601 UTC: rows and chunks the service stamped (Timestamp) at or after this are never removed. */
  readonly writtenBefore: string;
  readonly undelivered: UndeliveredEvents;
  /** Count only; remove nothing. */
  readonly dryRun: boolean;
}

/** Old versions (before the cutoff) kept, by reason (a version counts once, under the first reason that holds). */
export interface PruneKept {
  /** The version the `Incidents` row points at (or, without one, the incident's newest). */
  latest: number;
  /** Versions whose event is still owed to a subscription (after its cursor, pending or dead-lettered). */
  undelivered: number;
  /** The version just before a kept version with an event: kept so that event is rebuilt with the same body. */
  previous: number;
  /** Written within the grace period (a concurrent writer's rows: their events may not have been read yet). */
  recent: number;
}

/** Counts of one tenant's prune (with `dryRun`, what would be removed). */
export interface TenantPruneCounts {
  versionsRemoved: number;
  eventsRemoved: number;
  /** PayloadChunks rows removed (several per payload when it is large). */
  chunksRemoved: number;
  readonly kept: PruneKept;
}

/** The store side of the daily prune (Table Storage: IncidentHistory, Incidents, PayloadChunks). */
export interface HistoryPruner {
  /** Tenant IDs that have IncidentHistory or PayloadChunks rows (registered or not), sorted. */
  tenantPartitions(): Promise<string[]>;
  /**
   * Remove the tenant's history versions the policy allows with their event rows (in one transaction per batch of
   * up to 100 rows), then the PayloadChunks rows no remaining history or latest row references. Throws
   * CollectorError (table errors) for this tenant only.
   */
  pruneTenant(tenantId: string, policy: TenantPrunePolicy): Promise<TenantPruneCounts>;
}
