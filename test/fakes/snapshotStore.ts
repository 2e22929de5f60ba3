/**
 * In-memory SnapshotStore, faithful to TableSnapshotStore: the same page planning (planPage: unchanged content is
 * skipped, every other version goes to history keyed by version, the newest per incident becomes latest unless the
 * stored latest is newer), history written before latest, idempotent re-writes, `since` inclusive and compared as
 * instants, rows listed by tenant then RowKey, tenant IDs lower case, payloads returned as copies.
 */
import { historyRowKey, tenantKey } from '../../shared/adapters/tables/keys.js';
import { planPage, toVersion, type StoredLatest } from '../../shared/adapters/tables/snapshotRows.js';
import { compareInstants } from '../../shared/domain/time.js';
import type {
  Clock,
  FetchedIncident,
  JsonObject,
  SnapshotQuery,
  SnapshotStore,
  SnapshotWriter,
  SourceKind,
  StoredSnapshot,
  WriteResult,
} from '../../shared/ports.js';
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
  private writeCalls = 0;

  constructor(
    private readonly clock: Clock,
    readonly journal = new Journal(),
  ) {}

  writer(tenantId: string): SnapshotWriter {
    return { writePage: (source, incidents) => this.writePage(tenantId, source, incidents) };
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
    const changed =
      plan.certainlyNew +
      plan.maybeExisting.filter((v) => !history.has(historyRowKey(v.idKey, v.lastUpdateKey))).length;
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
    for (const v of plan.history) history.set(historyRowKey(v.idKey, v.lastUpdateKey), row(v));
    for (const v of plan.latest) latest.set(v.idKey, row(v));
    this.writes.push({ tenantId, incidentIds: incidents.map((i) => i.incidentId) });
    this.journal.add(`write ${tenantId} ${incidents.map((i) => i.incidentId).join(',')}`);
    return { changed };
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
    this.journal.add(`purge ${tenantId}`);
  }
}
