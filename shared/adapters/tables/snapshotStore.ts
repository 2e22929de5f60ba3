/**
 * SnapshotStore on Table Storage: `Incidents` (latest version per incident), `IncidentHistory` (one immutable row
 * per version) and `PayloadChunks` (compressed payloads too large for one entity).
 *
 * Write order for a page: payload chunks, then history rows, then latest rows. Latest rows are written with ETag
 * conditions (create when absent, If-Match when present) so that a concurrent or stale writer can never replace a
 * newer version: on 409/412 the affected rows are re-read and re-decided.
 *
 * Events (design §9): every new history row is created together with one event row (RowKey `~ev_<sequence>`, see
 * keys.ts) in the same entity-group transaction of the tenant's IncidentHistory partition, so neither exists without
 * the other. Both are creates, never upserts: a version whose history row already exists (a re-run page, an overlap
 * re-read, a rerun after a crash between transactions) fails its transaction with 409 instead of adding a second
 * event; the writer then reads which versions exist, drops them and submits the rest again. Sequences come from an
 * EventSequenceClock per writer, seeded from the stored event rows (see its docstring), and the transactions of
 * one write are submitted one after another in sequence order, so a reader of "entries after sequence N" never sees
 * a later sequence committed before an earlier one of the same writer.
 *
 * `incident.created` is decided from the stored latest row (none → the oldest new version of the incident is its
 * first), which costs no extra read. One case it cannot see: a crash after a version's history transaction but
 * before its latest row, and the incident changing before the rerun — the rerun's newer version is then typed
 * `incident.created` although an older version is stored (its CloudEvent still has a unique id and sequence).
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { mapBounded } from '../../lib/bounded.js';
import { CollectorError } from '../../domain/errors.js';
import { compareInstants, toFixedWidth } from '../../domain/time.js';
import { entrySeverity, EventSequenceClock, toMicros, typeVersions } from '../../domain/incidentEvent.js';
import type {
  Clock,
  EventEntry,
  FetchedIncident,
  SnapshotQuery,
  SnapshotStore,
  SnapshotWriter,
  SourceKind,
  StoredSnapshot,
  WriteResult,
  WriterOptions,
} from '../../ports.js';
import { type BatchOp, planGroupedBatches } from './batchPlanner.js';
import {
  BATCH_CONCURRENCY,
  type BatchOutcome,
  submitBatches,
  submitBatchesSettled,
  submitPlannedSettled,
} from './batchWriter.js';
import type { PlainEntity } from './entitySize.js';
import { asOptionalString, asString } from './entityValues.js';
import {
  decodeKey,
  EVENT_ROWS_END,
  eventRowKey,
  historyRowKey,
  isHistoryRowKey,
  HISTORY_ROWS_FILTER,
  sequenceOfEventRowKey,
  tenantKey,
} from './keys.js';
import { lookupFilter, planKeyLookups } from './keyLookupPlan.js';
import { LatestIndex } from './latestIndex.js';
import { chunkCount, chunkKeyOf, chunkRowKey, compressedBytes, decodeIncident } from './payloadCodec.js';
import { type IncidentVersion, planPage, RowEncoder, type StoredLatest, toVersion } from './snapshotRows.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';
import { ErrorCode } from '../../domain/errorCodes.js';

export interface SnapshotStoreOptions {
  readonly clock?: Clock;
  /** Independent transactions / queries in flight at once. */
  readonly concurrency?: number;
  /** Rows per page when reading snapshots (each may be up to ~1 MiB). */
  readonly readPageSize?: number;
}

/** One response's worth of rows: the most a single query page returns. */
const INDEX_QUERY_PAGE = 1000;
const LATEST_COLUMNS = ['RowKey', 'contentHash', 'lastUpdateKey'];

/** Attempts at the latest rows when concurrent writers keep winning the ETag race. */
const MAX_LATEST_ATTEMPTS = 5;
/** Attempts at a write's (history row, event row) pairs when transactions keep meeting rows written meanwhile. */
const MAX_HISTORY_ATTEMPTS = 5;
const SOURCES: ReadonlySet<string> = new Set(['graph', 'm365d']);

type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string };

/** The entry's severity (subscription filters): the API's string, capped like the summary columns. */
function optionalSeverity(incident: FetchedIncident['incident']): { severity?: string } {
  const severity = entrySeverity(incident);
  return severity === undefined ? {} : { severity: severity.slice(0, 1024) };
}

function toStoredLatest(row: Entity): StoredLatest {
  return { hash: asString(row.contentHash), lastUpdateKey: asString(row.lastUpdateKey), etag: asString(row.etag) };
}

/** Written rows enter the index with their new ETag; rows of a lost (or unanswered) batch are forgotten. */
function rememberWritten(index: LatestIndex, outcomes: readonly BatchOutcome[]): void {
  for (const outcome of outcomes) {
    for (const [i, op] of outcome.ops.entries()) {
      const key = op.entity.rowKey;
      const etag = outcome.error === undefined ? outcome.etags?.[i] : undefined;
      if (etag === undefined || op.kind === 'delete') {
        index.forget([key]);
        continue;
      }
      index.written(key, {
        hash: asString(op.entity.contentHash),
        lastUpdateKey: asString(op.entity.lastUpdateKey),
        etag,
      });
    }
  }
}

/**
 * A writer's event sequence: seeded lazily (one range query of the tenant's event rows, only when the writer first
 * records an event), re-seeded after a transaction met a row written by someone else.
 */
class SequenceSource {
  private clock: EventSequenceClock | undefined;

  constructor(private readonly seed: () => Promise<EventSequenceClock>) {}

  async get(): Promise<EventSequenceClock> {
    return (this.clock ??= await this.seed());
  }

  reset(): void {
    this.clock = undefined;
  }
}

/** A version about to be written with its event. */
interface Pair {
  readonly version: IncidentVersion;
  readonly historyKey: string;
  readonly row: PlainEntity;
  /** When its page was read (the history row's `snapshotAt`, the event's `time`). */
  readonly snapshotAt: string;
}

/**
 * The rows one or more planned pages still have to write, in write order: payload chunks, then (history row, event
 * row) pairs, then latest rows. Pages held together never touch the same incident (see BufferedWriter).
 */
interface PendingRows {
  readonly chunks: Map<string, PlainEntity>;
  readonly pairs: Pair[];
  /** Latest row entities by incident key, and the versions they carry (the candidates of writeLatest). */
  readonly latestRows: Map<string, PlainEntity>;
  readonly latest: IncidentVersion[];
  /** The stored latest rows the pages were planned against, by incident key. */
  readonly stored: Map<string, StoredLatest>;
}

function emptyRows(): PendingRows {
  return { chunks: new Map(), pairs: [], latestRows: new Map(), latest: [], stored: new Map() };
}

/** Add `page` to `into` (disjoint incidents, so plain unions keep each page's plan). */
function addRows(into: PendingRows, page: PendingRows): void {
  for (const [key, row] of page.chunks) into.chunks.set(key, row);
  into.pairs.push(...page.pairs);
  for (const [key, row] of page.latestRows) into.latestRows.set(key, row);
  into.latest.push(...page.latest);
  for (const [key, row] of page.stored) into.stored.set(key, row);
}

/**
 * Versions a writer may hold before it writes them: two Graph pages of 50, or one legacy page of 100, so the
 * (history row, event row) pairs fill whole transactions of 100 operations and the latest rows one of 100.
 */
export const FLUSH_VERSIONS = 100;

/** Records a writer reports for the next collection at most (22 characters each on the tenant row). */
export const MAX_RECENT_VERSIONS = 200;
const DIGEST_CHARS = 22;

/**
 * One incident record as the writer planned it — incident key, lastUpdate instant (fixed width) and content hash —
 * in 22 characters (128 bits of SHA-256, base64url): a collision is as unlikely as one of the content hashes the
 * store already relies on.
 */
function recordDigest(v: IncidentVersion): string {
  return createHash('sha256')
    .update(`${v.idKey}\n${v.lastUpdateKey}\n${v.hash}`, 'utf8')
    .digest('base64url')
    .slice(0, DIGEST_CHARS);
}

/** `TenantRecord.recentVersions` as a set of digests; anything malformed counts as nothing known. */
function parseRecent(encoded: string | undefined): ReadonlySet<string> {
  if (encoded === undefined || encoded.length % DIGEST_CHARS !== 0 || !/^[A-Za-z0-9_-]*$/.test(encoded))
    return new Set();
  const out = new Set<string>();
  for (let at = 0; at < encoded.length; at += DIGEST_CHARS) out.add(encoded.slice(at, at + DIGEST_CHARS));
  return out;
}

/**
 * One collection's writer: plans each page at once (reads what it must, encodes its rows) but holds the rows and
 * writes them in full transactions — when {@link FLUSH_VERSIONS} pairs or latest rows are held, when a page touches
 * an incident whose rows are still held (its plan must see them stored), and on flush(). A held row is not durable:
 * the caller advances the checkpoint only when nothing is held (see SnapshotWriter.flush).
 */
class BufferedWriter implements SnapshotWriter {
  private held = emptyRows();
  /** Incident keys with held rows. */
  private readonly heldIncidents = new Set<string>();
  /** Digest → lastUpdateKey of every record passed to writePage (see recentVersions). */
  private readonly handled = new Map<string, string>();

  constructor(
    private readonly store: TableSnapshotStore,
    private readonly tenantId: string,
    private readonly index: LatestIndex,
    private readonly sequences: SequenceSource,
    /** Records the last successful collection handled: all stored (see SnapshotWriter.recentVersions). */
    private readonly known: ReadonlySet<string>,
  ) {}

  recentVersions(since: string): string {
    const from = toFixedWidth(since);
    const kept = [...this.handled].filter(([, lastUpdateKey]) => compareInstants(lastUpdateKey, from) >= 0);
    if (kept.length > MAX_RECENT_VERSIONS) return '';
    return kept
      .map(([digest]) => digest)
      .sort()
      .join('');
  }

  get pending(): number {
    return this.held.pairs.length + this.held.latest.length;
  }

  async writePage(source: SourceKind, incidents: readonly FetchedIncident[]): Promise<WriteResult> {
    if (incidents.length === 0) return { changed: 0 };
    const versions = incidents.map(toVersion);
    let allKnown = true;
    for (const v of versions) {
      const digest = recordDigest(v);
      this.handled.set(digest, v.lastUpdateKey);
      if (!this.known.has(digest)) allKnown = false;
    }
    // The last successful collection planned and stored these very records: nothing to read or write.
    if (allKnown) return { changed: 0 };
    const events: EventEntry[] = [];
    if (versions.some((v) => this.heldIncidents.has(v.idKey))) events.push(...(await this.commit()));
    const rows = await this.store.planRows(this.tenantId, source, versions, this.index);
    if (rows !== undefined) {
      addRows(this.held, rows);
      for (const p of rows.pairs) this.heldIncidents.add(p.version.idKey);
      for (const v of rows.latest) this.heldIncidents.add(v.idKey);
      if (this.held.pairs.length >= FLUSH_VERSIONS || this.held.latest.length >= FLUSH_VERSIONS)
        events.push(...(await this.commit()));
    }
    return written(events);
  }

  async flush(): Promise<WriteResult> {
    return written(await this.commit());
  }

  private async commit(): Promise<EventEntry[]> {
    const rows = this.held;
    // Forgotten before the write: after a failure the writer holds nothing (the collection fails; a rerun re-reads).
    this.held = emptyRows();
    this.heldIncidents.clear();
    return this.store.writeRows(this.tenantId, rows, this.index, this.sequences);
  }
}

function written(events: readonly EventEntry[]): WriteResult {
  return events.length > 0 ? { changed: events.length, events } : { changed: 0 };
}

export class TableSnapshotStore implements SnapshotStore {
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly readPageSize: number;

  constructor(
    private readonly tables: TableClients,
    options: SnapshotStoreOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.concurrency = options.concurrency ?? BATCH_CONCURRENCY;
    this.readPageSize = options.readPageSize ?? 50;
  }

  private get incidents(): TableClient {
    return this.tables.client('incidents');
  }

  private get historyTable(): TableClient {
    return this.tables.client('history');
  }

  private get chunks(): TableClient {
    return this.tables.client('chunks');
  }

  async writePage(
    rawTenantId: string,
    source: SourceKind,
    incidents: readonly FetchedIncident[],
  ): Promise<WriteResult> {
    const tenantId = tenantKey(rawTenantId);
    return this.write(tenantId, source, incidents, undefined, this.sequenceSource(tenantId));
  }

  /**
   * Pages of one collection share an index of the tenant's latest rows (see LatestIndex) and one event sequence
   * clock (seeded once, at its first event).
   */
  writer(rawTenantId: string, options: WriterOptions = {}): SnapshotWriter {
    const tenantId = tenantKey(rawTenantId);
    return new BufferedWriter(
      this,
      tenantId,
      new LatestIndex(),
      this.sequenceSource(tenantId),
      parseRecent(options.recentVersions),
    );
  }

  private sequenceSource(tenantId: string): SequenceSource {
    return new SequenceSource(async () => {
      const seedMicros = toMicros(this.clock.now());
      return new EventSequenceClock(await this.highestSequenceFrom(tenantId, seedMicros), seedMicros);
    });
  }

  /** The largest stored event sequence ≥ `fromSequence` of the tenant, or undefined (one range query, keys only). */
  private async highestSequenceFrom(tenantId: string, fromSequence: number): Promise<number | undefined> {
    const filter = lookupFilter(tenantId, { kind: 'range', from: eventRowKey(fromSequence), to: EVENT_ROWS_END });
    let highest: number | undefined;
    for (const row of await this.query(this.historyTable, filter, ['RowKey'], 'read event sequence')) {
      const sequence = sequenceOfEventRowKey(asString(row.rowKey));
      if (sequence !== undefined && (highest === undefined || sequence > highest)) highest = sequence;
    }
    return highest;
  }

  private async write(
    tenantId: string,
    source: SourceKind,
    incidents: readonly FetchedIncident[],
    index: LatestIndex | undefined,
    sequences: SequenceSource,
  ): Promise<WriteResult> {
    if (incidents.length === 0) return { changed: 0 };
    const rows = await this.planRows(tenantId, source, incidents.map(toVersion), index);
    if (rows === undefined) return { changed: 0 };
    return written(await this.writeRows(tenantId, rows, index, sequences));
  }

  /**
   * Plan one page against the stored latest rows (from the index when it can answer): the rows it needs written,
   * encoded, or undefined when nothing of it is new. Reads only (latest rows, and history for stale versions).
   * @internal used by BufferedWriter
   */
  async planRows(
    tenantId: string,
    source: SourceKind,
    versions: readonly IncidentVersion[],
    index: LatestIndex | undefined,
  ): Promise<PendingRows | undefined> {
    const stored = await this.storedLatest(
      tenantId,
      versions.map((v) => v.idKey),
      index,
    );
    const plan = planPage(versions, stored);
    if (plan.history.length === 0) return undefined;

    const existing = await this.existingHistoryKeys(tenantId, plan.maybeExisting);

    const snapshotAt = this.clock.now().toISOString();
    const encoder = new RowEncoder({ tenantId, source, snapshotAt });
    // The first stored copy of a version stays (design §4): an older version already in history is not rewritten,
    // whichever source read it.
    const pairs: (Pair & { chunks: readonly PlainEntity[] })[] = plan.history
      .map((v) => ({ v, key: historyRowKey(v.idKey, v.lastUpdateKey) }))
      .filter(({ key }) => !existing.has(key))
      .map(({ v, key }) => {
        const encoded = encoder.encode(v, key);
        return { version: v, historyKey: key, row: encoded.row, snapshotAt, chunks: encoded.chunks };
      });
    const latestEncoded = plan.latest.map((v) => [v.idKey, encoder.encode(v, v.idKey)] as const);
    // Chunks are content-addressed, shared by the history and latest rows of one version.
    const chunks = new Map<string, PlainEntity>();
    for (const encoded of [...pairs, ...latestEncoded.map(([, e]) => e)])
      for (const c of encoded.chunks) chunks.set(c.rowKey, c);
    return {
      chunks,
      pairs: pairs.map(({ chunks: _chunks, ...pair }) => pair),
      latestRows: new Map(latestEncoded.map(([k, e]) => [k, e.row] as const)),
      latest: [...plan.latest],
      stored,
    };
  }

  /**
   * Write planned rows in order: chunks first (so no row ever references a payload that is not there yet), then
   * each new version's history row with its event, then the latest rows. Returns the events recorded.
   * @internal used by BufferedWriter
   */
  async writeRows(
    tenantId: string,
    rows: PendingRows,
    index: LatestIndex | undefined,
    sequences: SequenceSource,
  ): Promise<EventEntry[]> {
    if (rows.pairs.length === 0 && rows.latest.length === 0) return [];
    await submitBatches(
      this.chunks,
      [...rows.chunks.values()].map((entity) => ({ kind: 'upsert', entity })),
      'write payload chunks',
      this.concurrency,
    );
    const events = await this.writeHistory(tenantId, rows.pairs, rows.stored, sequences);
    await this.writeLatest(tenantId, rows.latestRows, rows.latest, rows.stored, index);
    return events;
  }

  /**
   * Create each new version's history row and event row in one transaction, transactions one after another in
   * sequence order. A transaction that fails with 409 met a row written meanwhile (the version's history row from
   * an earlier run, or — with a stale second writer — the same sequence): the versions that exist are dropped (an
   * incident with a stored version makes later versions `incident.updated`), the clock re-seeded, the rest retried.
   * Returns the entries recorded, in sequence order.
   */
  private async writeHistory(
    tenantId: string,
    pairs: readonly Pair[],
    stored: ReadonlyMap<string, StoredLatest>,
    sequences: SequenceSource,
  ): Promise<EventEntry[]> {
    const recorded: EventEntry[] = [];
    const storedIncidents = new Set(stored.keys());
    let pending = pairs;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const clock = await sequences.get();
      const typed = typeVersions(
        pending.map((p) => ({ ...p, idKey: p.version.idKey, lastUpdateKey: p.version.lastUpdateKey })),
        (idKey) => storedIncidents.has(idKey),
      );
      const groups = typed.map(({ version: pair, type }) => {
        const entry: EventEntry = {
          tenantId,
          sequence: clock.next(this.clock.now().getTime()),
          incidentId: pair.version.incidentId,
          lastUpdateTime: pair.version.lastUpdateTime,
          type,
          time: pair.snapshotAt,
          ...optionalSeverity(pair.version.incident),
        };
        const eventRow: PlainEntity = {
          partitionKey: tenantId,
          rowKey: eventRowKey(entry.sequence),
          incidentId: entry.incidentId,
          lastUpdateTime: entry.lastUpdateTime,
          type: entry.type,
          time: entry.time,
          ...(entry.severity !== undefined ? { severity: entry.severity } : {}),
          historyRowKey: pair.historyKey,
        };
        return {
          pair,
          entry,
          ops: [
            { kind: 'create', entity: pair.row },
            { kind: 'create', entity: eventRow },
          ] satisfies BatchOp[],
        };
      });
      const byHistoryKey = new Map(groups.map((g) => [g.pair.historyKey, g] as const));
      const batches = planGroupedBatches(groups.map((g) => g.ops));
      let failedAt = -1;
      let failure: unknown;
      for (const [i, batch] of batches.entries()) {
        const [outcome] = await submitPlannedSettled(this.historyTable, [batch], 1);
        if (outcome?.error !== undefined) {
          failedAt = i;
          failure = outcome.error;
          break;
        }
        for (const op of batch) {
          const group = byHistoryKey.get(op.entity.rowKey);
          if (group) {
            recorded.push(group.entry);
            storedIncidents.add(group.pair.version.idKey);
          }
        }
      }
      if (failedAt < 0) return recorded;
      if (!hasStatus(failure, 409) || attempt >= MAX_HISTORY_ATTEMPTS)
        throw toTableError(failure, 'write incident history');
      const unsent = batches
        .slice(failedAt)
        .flatMap((batch) => batch.flatMap((op) => byHistoryKey.get(op.entity.rowKey)?.pair ?? []));
      const exists = await this.existingHistoryKeys(
        tenantId,
        unsent.map((p) => p.version),
      );
      for (const p of unsent) if (exists.has(p.historyKey)) storedIncidents.add(p.version.idKey);
      pending = unsent.filter((p) => !exists.has(p.historyKey));
      sequences.reset();
    }
    return recorded;
  }

  /** The stored latest rows of these keys: from the index when it can answer, else from the table. */
  private async storedLatest(
    tenantId: string,
    idKeys: readonly string[],
    index: LatestIndex | undefined,
  ): Promise<Map<string, StoredLatest>> {
    if (index?.state === 'unloaded') await this.loadIndex(tenantId, index);
    if (index?.state !== 'complete') return this.readLatest(tenantId, idKeys);
    const { found, unknown } = index.lookup(idKeys);
    if (unknown.length === 0) return found;
    const read = await this.readLatest(tenantId, unknown);
    index.learn(unknown, read);
    for (const [key, row] of read) found.set(key, row);
    return found;
  }

  /** One query for the whole partition's keys and hashes; usable only when it fits in one response. */
  private async loadIndex(tenantId: string, index: LatestIndex): Promise<void> {
    const filter = `PartitionKey eq '${tenantId.replace(/'/g, "''")}'`;
    const pages = this.incidents
      .listEntities<Entity>({ queryOptions: { filter, select: LATEST_COLUMNS } })
      .byPage({ maxPageSize: INDEX_QUERY_PAGE });
    let first: IteratorResult<Entity[] & { continuationToken?: string }>;
    try {
      first = await pages.next();
    } catch (error) {
      throw toTableError(error, 'read latest incidents');
    }
    const rows = new Map<string, StoredLatest>();
    if (first.done) return index.load(rows, true);
    for (const row of first.value) if (row.rowKey !== undefined) rows.set(row.rowKey, toStoredLatest(row));
    index.load(rows, first.value.continuationToken === undefined);
  }

  /** Latest rows, ETag-conditional; re-decide the rows of a batch that lost a race, a bounded number of times. */
  private async writeLatest(
    tenantId: string,
    rows: ReadonlyMap<string, PlainEntity>,
    candidates: readonly IncidentVersion[],
    initial: ReadonlyMap<string, StoredLatest>,
    index: LatestIndex | undefined,
  ): Promise<void> {
    let stored = initial;
    let pending = candidates;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const ops: BatchOp[] = pending.map((v) => {
        const entity = rows.get(v.idKey) as PlainEntity;
        const current = stored.get(v.idKey);
        return current ? { kind: 'update', entity, etag: current.etag } : { kind: 'create', entity };
      });
      const outcomes = await submitBatchesSettled(this.incidents, ops, this.concurrency);
      if (index) rememberWritten(index, outcomes);
      const lost = outcomes.filter((o) => o.error !== undefined);
      if (lost.length === 0) return;
      const hard = lost.find((o) => !hasStatus(o.error, 409, 412));
      if (hard) throw toTableError(hard.error, 'write latest incidents');
      if (attempt >= MAX_LATEST_ATTEMPTS)
        throw toTableError(lost[0]?.error, 'write latest incidents (conflicts persisted)');
      const retryKeys = new Set(lost.flatMap((o) => o.ops.map((op) => op.entity.rowKey)));
      stored = await this.readLatest(tenantId, [...retryKeys]);
      index?.learn(retryKeys, stored);
      pending = pending.filter((v) => {
        if (!retryKeys.has(v.idKey)) return false;
        const current = stored.get(v.idKey);
        if (!current) return true;
        // A racing writer stored this version (any content) or a newer one: the first copy stays.
        return compareInstants(v.lastUpdateKey, current.lastUpdateKey) > 0;
      });
    }
  }

  /** Stored hash, version and ETag of the given incidents' latest rows: few queries, only the needed columns. */
  private async readLatest(tenantId: string, idKeys: readonly string[]): Promise<Map<string, StoredLatest>> {
    const wanted = new Set(idKeys);
    const found = new Map<string, StoredLatest>();
    await mapBounded(planKeyLookups(wanted), this.concurrency, async (lookup) => {
      const rows = await this.query(
        this.incidents,
        lookupFilter(tenantId, lookup),
        LATEST_COLUMNS,
        'read latest incidents',
      );
      for (const row of rows) {
        const key = row.rowKey;
        if (key === undefined || !wanted.has(key)) continue;
        found.set(key, toStoredLatest(row));
      }
    });
    return found;
  }

  /** Which of these (older-than-latest) versions already have a history row. Rare: stale pages only. */
  private async existingHistoryKeys(tenantId: string, versions: readonly IncidentVersion[]): Promise<Set<string>> {
    const existing = new Set<string>();
    if (versions.length === 0) return existing;
    const keys = versions.map((v) => historyRowKey(v.idKey, v.lastUpdateKey));
    // History RowKeys are never plain decimals, so these are always exact-key lookups, never a range.
    await mapBounded(planKeyLookups(keys), this.concurrency, async (lookup) => {
      for (const row of await this.query(
        this.historyTable,
        lookupFilter(tenantId, lookup),
        ['RowKey'],
        'read incident history',
      )) {
        if (row.rowKey !== undefined) existing.add(row.rowKey);
      }
    });
    return existing;
  }

  private async query(client: TableClient, filter: string, select: string[], operation: string): Promise<Entity[]> {
    return tableCall(operation, async () => {
      const rows: Entity[] = [];
      for await (const row of client.listEntities<Entity>({ queryOptions: { filter, select } })) rows.push(row);
      return rows;
    });
  }

  latest(query: SnapshotQuery = {}): AsyncIterable<StoredSnapshot> {
    return this.scan(this.incidents, query, 'read latest incidents', false);
  }

  /** History rows only: the query leaves out the partition's event rows (the `~ev_` range). */
  history(query: SnapshotQuery = {}): AsyncIterable<StoredSnapshot> {
    return this.scan(this.historyTable, query, 'read incident history', true);
  }

  private async *scan(
    client: TableClient,
    query: SnapshotQuery,
    operation: string,
    historyOnly: boolean,
  ): AsyncGenerator<StoredSnapshot> {
    const since = query.since === undefined ? undefined : toFixedWidth(query.since);
    const filters: string[] = [];
    if (query.tenantId !== undefined)
      filters.push(`PartitionKey eq '${tenantKey(query.tenantId).replace(/'/g, "''")}'`);
    if (historyOnly) filters.push(HISTORY_ROWS_FILTER);
    // Prefilter on the fixed-width column, then compare exactly as instants.
    if (since !== undefined) filters.push(`lastUpdateKey ge '${since}'`);
    const pages = client
      .listEntities<Entity>(filters.length > 0 ? { queryOptions: { filter: filters.join(' and ') } } : {})
      .byPage({ maxPageSize: this.readPageSize });
    for (;;) {
      let next: IteratorResult<Entity[]>;
      try {
        next = await pages.next();
      } catch (error) {
        throw toTableError(error, operation);
      }
      if (next.done) return;
      for (const row of next.value) {
        if (historyOnly && !isHistoryRowKey(asString(row.rowKey))) continue;
        const lastUpdateTime = asString(row.lastUpdateTime);
        if (since !== undefined && compareInstants(lastUpdateTime, since) < 0) continue;
        yield await this.toSnapshot(row, lastUpdateTime);
      }
    }
  }

  /** A stored row (latest or history, all columns) as a snapshot, its payload decoded (chunks read when split). */
  async toSnapshot(row: Entity, lastUpdateTime: string = asString(row.lastUpdateTime)): Promise<StoredSnapshot> {
    const tenantId = asString(row.partitionKey);
    const hash = asString(row.contentHash);
    const count = chunkCount(row);
    const chunkRows = count > 0 ? await this.readChunks(tenantId, chunkKeyOf(row, hash), count) : [];
    const incident = decodeIncident(compressedBytes(row, chunkRows), hash);
    const source = asString(row.source);
    if (!SOURCES.has(source))
      throw new CollectorError('A stored incident row has an unknown source.', {
        code: ErrorCode.TABLE_ROW_INVALID,
        kind: 'permanent',
      });
    const rowKey = asString(row.rowKey);
    return {
      tenantId,
      incidentId: asOptionalString(row.incidentId) ?? decodeKey(rowKey),
      lastUpdateTime,
      source: source as SourceKind,
      snapshotAt: asString(row.snapshotAt),
      contentHash: hash,
      incident,
    };
  }

  private async readChunks(tenantId: string, key: string, count: number): Promise<Entity[]> {
    const filter = lookupFilter(tenantId, {
      kind: 'range',
      from: chunkRowKey(key, 0),
      to: chunkRowKey(key, count - 1),
    });
    const rows = await this.query(this.chunks, filter, [], 'read payload chunks');
    return rows.sort((a, b) => asString(a.rowKey).localeCompare(asString(b.rowKey)));
  }

  async purgeTenant(rawTenantId: string): Promise<void> {
    const tenantId = tenantKey(rawTenantId);
    for (const [client, what] of [
      [this.incidents, 'incidents'],
      [this.historyTable, 'incident history'],
      [this.chunks, 'payload chunks'],
    ] as const) {
      await this.purgePartition(client, tenantId, what);
    }
  }

  /** Delete a partition page by page (keys only), in batches. */
  private async purgePartition(client: TableClient, partitionKey: string, what: string): Promise<void> {
    const filter = `PartitionKey eq '${partitionKey.replace(/'/g, "''")}'`;
    const pages = client
      .listEntities<Entity>({ queryOptions: { filter, select: ['RowKey'] } })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      let next: IteratorResult<Entity[]>;
      try {
        next = await pages.next();
      } catch (error) {
        throw toTableError(error, `list ${what} to purge`);
      }
      if (next.done) return;
      const ops: BatchOp[] = next.value.flatMap((row) =>
        row.rowKey === undefined ? [] : [{ kind: 'delete' as const, entity: { partitionKey, rowKey: row.rowKey } }],
      );
      await submitBatches(client, ops, `purge ${what}`, this.concurrency);
    }
  }
}
