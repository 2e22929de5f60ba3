/**
 * EventLog on Table Storage (design §9): the event rows the snapshot store writes into each tenant's
 * IncidentHistory partition (RowKey `~ev_<16-digit sequence>`, created in the same transaction as the version's
 * history row; see keys.ts and snapshotStore.ts). Columns of an event row: `incidentId`, `lastUpdateTime` (the API's
 * own string), `type` (`incident.created`/`incident.updated`), `time` (the version's snapshotAt), `severity` (when
 * the incident had a string one) and `historyRowKey` (the history row it belongs to).
 */
import type { TableClient } from '@azure/data-tables';
import { ErrorCode } from '../../domain/errorCodes.js';
import { CollectorError, NotFoundError } from '../../domain/errors.js';
import { buildCloudEvent } from '../../domain/incidentEvent.js';
import { toFixedWidth } from '../../domain/time.js';
import type { EventEntry, EventLog, IncidentCloudEvent, IncidentEventType } from '../../ports.js';
import { asOptionalString, asString } from './entityValues.js';
import {
  encodeKey,
  EVENT_ROW_PREFIX,
  EVENT_ROWS_END,
  eventRowKey,
  historyRowKey,
  idKeyOfHistoryRowKey,
  sequenceOfEventRowKey,
  tenantKey,
} from './keys.js';
import { lookupFilter } from './keyLookupPlan.js';
import type { TableSnapshotStore } from './snapshotStore.js';
import type { TableClients } from './tableClients.js';
import { tableCall, toTableError } from './tableErrors.js';

/** The columns `read` selects: an entry needs nothing else. */
const ENTRY_COLUMNS = ['RowKey', 'incidentId', 'lastUpdateTime', 'type', 'time', 'severity'];
/** The most rows one query response returns. */
const MAX_QUERY_PAGE = 1000;
const TYPES: ReadonlySet<string> = new Set(['incident.created', 'incident.updated']);

type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string };

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function invalidRow(what: string): CollectorError {
  return new CollectorError(`A stored event row ${what}.`, { code: ErrorCode.TABLE_ROW_INVALID, kind: 'permanent' });
}

function toEntry(tenantId: string, row: Entity): EventEntry {
  const sequence = sequenceOfEventRowKey(asString(row.rowKey));
  if (sequence === undefined) throw invalidRow('has a malformed RowKey');
  const type = asString(row.type);
  if (!TYPES.has(type)) throw invalidRow('has an unknown type');
  const severity = asOptionalString(row.severity);
  return {
    tenantId,
    sequence,
    incidentId: asString(row.incidentId),
    lastUpdateTime: asString(row.lastUpdateTime),
    type: type as IncidentEventType,
    time: asString(row.time),
    ...(severity !== undefined ? { severity } : {}),
  };
}

export class TableEventLog implements EventLog {
  constructor(
    private readonly tables: TableClients,
    /** Decodes history rows (payload chunks included) exactly as history() does. */
    private readonly snapshots: TableSnapshotStore,
  ) {}

  private get history(): TableClient {
    return this.tables.client('history');
  }

  /**
   * One range query over the tenant's event rows (`RowKey gt ~ev_<afterSequence> and lt ~ev\``), the entry columns
   * only, at most `limit` (1..1000 per response; a larger limit returns at most one response's rows). `afterSequence`
   * below 0 reads from the first entry. RangeError for a `limit` that is not a positive integer.
   */
  async read(rawTenantId: string, afterSequence: number, limit: number): Promise<EventEntry[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer; got ${limit}`);
    if (!Number.isSafeInteger(afterSequence)) throw new RangeError(`afterSequence must be a safe integer`);
    const tenantId = tenantKey(rawTenantId);
    const lower =
      afterSequence < 0 ? `RowKey ge ${quote(EVENT_ROW_PREFIX)}` : `RowKey gt ${quote(eventRowKey(afterSequence))}`;
    const filter = `PartitionKey eq ${quote(tenantId)} and ${lower} and RowKey lt ${quote(EVENT_ROWS_END)}`;
    const pages = this.history
      .listEntities<Entity>({ queryOptions: { filter, select: ENTRY_COLUMNS } })
      .byPage({ maxPageSize: Math.min(limit, MAX_QUERY_PAGE) });
    // The service may answer an empty page with a continuation: follow it until rows come or the range ends.
    for (;;) {
      let next: IteratorResult<Entity[] & { continuationToken?: string }>;
      try {
        next = await pages.next();
      } catch (error) {
        throw toTableError(error, 'read events');
      }
      if (next.done) return [];
      if (next.value.length > 0) return next.value.slice(0, limit).map((row) => toEntry(tenantId, row));
      if (next.value.continuationToken === undefined) return [];
    }
  }

  /**
   * The tenant's highest event sequence (undefined: no event): one keys-only range query over the tenant's event rows
   * (`RowKey ge ~ev_ and lt ~ev\``), followed to its end (Table Storage returns rows in ascending order only).
   */
  async lastSequence(rawTenantId: string): Promise<number | undefined> {
    const tenantId = tenantKey(rawTenantId);
    const filter = `PartitionKey eq ${quote(tenantId)} and RowKey ge ${quote(EVENT_ROW_PREFIX)} and RowKey lt ${quote(EVENT_ROWS_END)}`;
    return tableCall('read last event sequence', async () => {
      let highest: number | undefined;
      for await (const row of this.history.listEntities<Entity>({ queryOptions: { filter, select: ['RowKey'] } })) {
        const sequence = sequenceOfEventRowKey(asString(row.rowKey));
        if (sequence !== undefined && (highest === undefined || sequence > highest)) highest = sequence;
      }
      return highest;
    });
  }

  /**
   * The entry's CloudEvent: reads the RowKeys of the incident's versions up to this one (keys only), then this
   * version's row and the one just before it (one query), and builds the event with the pure domain code.
   * NotFoundError EVENT_NOT_FOUND when the version is not stored (e.g. the tenant was purged).
   */
  async cloudEvent(entry: EventEntry): Promise<IncidentCloudEvent> {
    const tenantId = tenantKey(entry.tenantId);
    const idKey = encodeKey(entry.incidentId);
    const key = historyRowKey(idKey, toFixedWidth(entry.lastUpdateTime));
    const keys = await tableCall('read event versions', async () => {
      const found: string[] = [];
      const filter = lookupFilter(tenantId, { kind: 'range', from: `${idKey}_`, to: key });
      for await (const row of this.history.listEntities<Entity>({ queryOptions: { filter, select: ['RowKey'] } })) {
        const rowKey = asString(row.rowKey);
        if (idKeyOfHistoryRowKey(rowKey) === idKey) found.push(rowKey);
      }
      return found.sort();
    });
    if (keys.at(-1) !== key)
      throw new NotFoundError(
        `The version ${entry.lastUpdateTime} of incident ${entry.incidentId} is not stored.`,
        ErrorCode.EVENT_NOT_FOUND,
      );
    const previousKey = entry.type === 'incident.updated' ? keys.at(-2) : undefined;
    const wanted = previousKey === undefined ? [key] : [key, previousKey];
    const rows = await tableCall('read event versions', async () => {
      const out = new Map<string, Entity>();
      const filter = lookupFilter(tenantId, { kind: 'keys', keys: wanted });
      for await (const row of this.history.listEntities<Entity>({ queryOptions: { filter } }))
        out.set(asString(row.rowKey), row);
      return out;
    });
    const current = rows.get(key);
    if (current === undefined)
      throw new NotFoundError(`The version of event ${entry.sequence} is not stored.`, ErrorCode.EVENT_NOT_FOUND);
    const version = await this.snapshots.toSnapshot(current);
    const previousRow = previousKey === undefined ? undefined : rows.get(previousKey);
    const previous = previousRow === undefined ? undefined : await this.snapshots.toSnapshot(previousRow);
    return buildCloudEvent({
      entry: { ...entry, tenantId },
      source: version.source,
      incident: version.incident,
      ...(previous !== undefined ? { previous: previous.incident } : {}),
    });
  }
}
