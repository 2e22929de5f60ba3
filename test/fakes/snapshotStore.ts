/**
 * In-memory SnapshotStore, faithful to TableSnapshotStore: the same page planning (planPage: unchanged content is
 * skipped, every other version goes to history keyed by version, the newest per incident becomes latest unless the
 * stored latest is newer), history written before latest, idempotent re-writes, `since` inclusive and compared as
 * instants, rows listed by tenant then RowKey, tenant IDs lower case, payloads returned as copies. Every new history
 * row records one event into `events` (a FakeEventLog) by the Table store's rules: the same sequence clock, types
 * and CloudEvent (shared/domain/incidentEvent.ts), the first stored copy of a version kept.
 */
import { historyRowKey, tenantKey } from '../../shared/adapters/tables/keys.js';
import { planPage, toVersion, type StoredLatest } from '../../shared/adapters/tables/snapshotRows.js';
import { FLUSH_VERSIONS } from '../../shared/adapters/tables/snapshotStore.js';
import { compareInstants } from '../../shared/domain/time.js';
import { buildCloudEvent, EventSequenceClock, toMicros, typeVersions } from '../../shared/domain/incidentEvent.js';
import type {
  Clock,
  EventEntry,
  FetchedIncident,
  JsonObject,
  SnapshotQuery,
  SnapshotStore,
  SnapshotWriter,
  SourceKind,
  StoredSnapshot,
  WriteResult,
} from '../../shared/ports.js';
import { FakeEventLog } from './eventLog.js';
import { Faults, Journal } from './journal.js';

interface Row {
  readonly snapshot: StoredSnapshot;
  readonly lastUpdateKey: string;
  readonly etag: string;
}

type Partitions = Map<string, Map<string, Row>>;

function copy(incident: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(incident)) as JsonObject;
}

export class FakeSnapshotStore implements SnapshotStore {
  private readonly latestRows: Partitions = new Map();
  private readonly historyRows: Partitions = new Map();
  private etags = 0;
  readonly faults = new Faults();
  /** Pages written per tenant (lower case), in order: what a spec asserts "nothing more was written" on. */
  readonly writes: { tenantId: string; incidentIds: string[] }[] = [];
  /**
   * Called at the start of each page write with its 1-based number (per store), before any injected fault: a spec
   * makes something happen "while page n is written" here. Collection fetches the next page while one is written
   * (lookahead), so a source-side hook cannot say which write comes first; this one can.
   */
  onWrite?: (tenantId: string, index: number) => void | Promise<void>;
  /** Writers hold pages and write them in groups, as the Table store's do (see writer). */
  holdPages = false;
  private writeCalls = 0;

  constructor(
    private readonly clock: Clock,
    readonly journal = new Journal(),
    /** The change feed this store records into: one event per new history row. */
    readonly events = new FakeEventLog(),
  ) {}

  /**
   * With `holdPages`, like the Table store's writer: holds pages until {@link FLUSH_VERSIONS} incidents are held, a
   * page touches a held incident, or flush(); held pages are then written in order (so `writes` and the journal show
   * when rows became durable). Without it (the default), each page is written at once.
   */
  writer(tenantId: string): SnapshotWriter {
    const writeNow = (source: SourceKind, incidents: readonly FetchedIncident[]) =>
      this.writePage(tenantId, source, incidents);
    const holding = () => this.holdPages;
    let held: { source: SourceKind; incidents: readonly FetchedIncident[] }[] = [];
    const heldIds = new Set<string>();
    const commit = async (): Promise<WriteResult> => {
      const pages = held;
      held = [];
      heldIds.clear();
      const events: EventEntry[] = [];
      for (const page of pages) events.push(...((await writeNow(page.source, page.incidents)).events ?? []));
      return events.length > 0 ? { changed: events.length, events } : { changed: 0 };
    };
    const merge = (a: WriteResult, b: WriteResult): WriteResult => {
      const events = [...(a.events ?? []), ...(b.events ?? [])];
      return events.length > 0 ? { changed: events.length, events } : { changed: 0 };
    };
    return {
      async writePage(source, incidents) {
        if (!holding()) return writeNow(source, incidents);
        if (incidents.length === 0) return { changed: 0 };
        let result: WriteResult = { changed: 0 };
        if (incidents.some((i) => heldIds.has(i.incidentId))) result = await commit();
        held.push({ source, incidents });
        for (const i of incidents) heldIds.add(i.incidentId);
        if (held.reduce((n, p) => n + p.incidents.length, 0) >= FLUSH_VERSIONS) result = merge(result, await commit());
        return result;
      },
      flush: commit,
      get pending() {
        return held.reduce((n, p) => n + p.incidents.length, 0);
      },
    };
  }

  async writePage(
    rawTenantId: string,
    source: SourceKind,
    incidents: readonly FetchedIncident[],
  ): Promise<WriteResult> {
    await this.onWrite?.(rawTenantId, ++this.writeCalls);
    this.faults.check('writePage');
    const tenantId = tenantKey(rawTenantId);
    if (incidents.length === 0) return { changed: 0 };
    const versions = incidents.map(toVersion);
    const latest = this.partition(this.latestRows, tenantId);
    const history = this.partition(this.historyRows, tenantId);
    const stored = new Map<string, StoredLatest>();
    for (const v of versions) {
      const row = latest.get(v.idKey);
      if (row)
        stored.set(v.idKey, { hash: row.snapshot.contentHash, lastUpdateKey: row.lastUpdateKey, etag: row.etag });
    }
    const plan = planPage(versions, stored);
    const snapshotAt = this.clock.now().toISOString();
    const row = (v: (typeof versions)[number]): Row => ({
      snapshot: {
        tenantId,
        incidentId: v.incidentId,
        lastUpdateTime: v.lastUpdateTime,
        source,
        snapshotAt,
        contentHash: v.hash,
        incident: copy(v.incident),
      },
      lastUpdateKey: v.lastUpdateKey,
      etag: `W/"${++this.etags}"`,
    });
    // The first stored copy of a version stays; only new history rows get an event (in sequence order).
    const fresh = plan.history.filter((v) => !history.has(historyRowKey(v.idKey, v.lastUpdateKey)));
    const seedMicros = toMicros(this.clock.now());
    const last = this.events.highestSequence(tenantId);
    const sequences = new EventSequenceClock(last !== undefined && last >= seedMicros ? last : undefined, seedMicros);
    const recorded: EventEntry[] = [];
    for (const { version: v, type } of typeVersions(fresh, (idKey) => stored.has(idKey))) {
      const key = historyRowKey(v.idKey, v.lastUpdateKey);
      const previous = [...history.entries()]
        .filter(([k]) => k.startsWith(`${v.idKey}_`) && k.length === key.length && k < key)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .at(-1)?.[1];
      history.set(key, row(v));
      const entry: EventEntry = {
        tenantId,
        sequence: sequences.next(this.clock.now().getTime()),
        incidentId: v.incidentId,
        lastUpdateTime: v.lastUpdateTime,
        type,
        time: snapshotAt,
      };
      const event = buildCloudEvent({
        entry,
        source,
        incident: copy(v.incident),
        ...(previous !== undefined ? { previous: copy(previous.snapshot.incident) } : {}),
      });
      recorded.push(this.events.append(event));
    }
    for (const v of plan.latest) latest.set(v.idKey, row(v));
    this.writes.push({ tenantId, incidentIds: incidents.map((i) => i.incidentId) });
    this.journal.add(`write ${tenantId} ${incidents.map((i) => i.incidentId).join(',')}`);
    return recorded.length > 0 ? { changed: recorded.length, events: recorded } : { changed: 0 };
  }

  private partition(table: Partitions, tenantId: string): Map<string, Row> {
    let rows = table.get(tenantId);
    if (!rows) {
      rows = new Map();
      table.set(tenantId, rows);
    }
    return rows;
  }

  latest(query: SnapshotQuery = {}): AsyncIterable<StoredSnapshot> {
    return this.scan(this.latestRows, query);
  }

  history(query: SnapshotQuery = {}): AsyncIterable<StoredSnapshot> {
    return this.scan(this.historyRows, query);
  }

  private async *scan(table: Partitions, query: SnapshotQuery): AsyncGenerator<StoredSnapshot> {
    this.faults.check('scan');
    const only = query.tenantId === undefined ? undefined : tenantKey(query.tenantId);
    if (query.since !== undefined) compareInstants(query.since, query.since);
    const tenants = [...table.keys()].filter((t) => only === undefined || t === only).sort();
    for (const tenantId of tenants) {
      const rows = [...(table.get(tenantId) ?? new Map<string, Row>()).entries()].sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      );
      for (const [, row] of rows) {
        if (query.since !== undefined && compareInstants(row.snapshot.lastUpdateTime, query.since) < 0) continue;
        yield { ...row.snapshot, incident: copy(row.snapshot.incident) };
      }
    }
  }

  async purgeTenant(rawTenantId: string): Promise<void> {
    this.faults.check('purgeTenant');
    const tenantId = tenantKey(rawTenantId);
    this.latestRows.delete(tenantId);
    this.historyRows.delete(tenantId);
    this.events.purge(tenantId);
    this.journal.add(`purge ${tenantId}`);
  }
}
