/**
 * HistoryPruner on Table Storage: the daily prune of one tenant's IncidentHistory (old versions with their event
 * rows) and PayloadChunks (chunks no row references). See domain/retention.ts for which versions go.
 *
 * Reads per tenant (keys and a few columns only, page by page): the `Incidents` partition (latest versions and
 * their chunk keys); with a cutoff, the tenant's event rows (one RowKey range, kept in memory only for versions
 * before the cutoff); the history rows before the cutoff or with chunks (one filtered partition query, streamed:
 * RowKeys sort by incident, then version, so one incident's versions arrive together); the PayloadChunks partition.
 *
 * Removal: a version's history row and its event row are deleted in the same entity-group transaction (batches of
 * at most 100 rows, pairs never split), so no event row ever points at a removed version. A batch that fails (e.g.
 * a concurrent prune deleted a row first: 404) is retried row by row, a missing row counting as removed by the other.
 *
 * Safety against a concurrent writer, whose order is: chunks (upserted, so their Timestamp is refreshed on every
 * write that references them), then history row + event row (one transaction), then the latest row.
 *   t0 writer upserts chunk C            → C.Timestamp = t0
 *   t1 prune reads the rows              → the new row may be missing from what it read
 *   t2 writer creates the row using C
 *   t3 prune lists chunks: C is unreferenced in its view, but C.Timestamp = t0 is within the grace → kept.
 * Likewise a history row stamped within the grace is never removed (its event row may have been written after the
 * prune read the event rows). A chunk is deleted with If-Match on the ETag it was listed with: a writer's upsert
 * in between changes the ETag and the delete is skipped.
 */
import type { TableClient } from '@azure/data-tables';
import { decideOldVersions, isOwed, type OldVersion } from '../../domain/retention.js';
import { toFixedWidth } from '../../domain/time.js';
import type { HistoryPruner, IncidentEventType, TenantPruneCounts, TenantPrunePolicy } from '../../ports.js';
import type { BatchOp } from './batchPlanner.js';
import { planGroupedBatches } from './batchPlanner.js';
import { submitPlannedSettled } from './batchWriter.js';
import { asOptionalString, asString } from './entityValues.js';
import {
  EVENT_ROW_PREFIX,
  EVENT_ROWS_END,
  HISTORY_ROWS_FILTER,
  HISTORY_SUFFIX_LENGTH,
  idKeyOfHistoryRowKey,
  sequenceOfEventRowKey,
  tenantKey,
} from './keys.js';
import { chunkCount, chunkKeyOf } from './payloadCodec.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, toTableError } from './tableErrors.js';

type Row = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string; timestamp?: string };

/** Rows per query response (the service's maximum). */
const PAGE = 1000;
const EVENT_TYPES: ReadonlySet<string> = new Set(['incident.created', 'incident.updated']);

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The service's Timestamp of a row in ms (0 when absent: such a row counts as old). */
function stampedAt(row: Row): number {
  const t = row.timestamp === undefined ? NaN : Date.parse(row.timestamp);
  return Number.isNaN(t) ? 0 : t;
}

/** The key of a PayloadChunks RowKey (`<key>_<nnn>`). */
function chunkKeyOfRowKey(rowKey: string): string {
  const i = rowKey.lastIndexOf('_');
  return i < 0 ? rowKey : rowKey.slice(0, i);
}

interface HistoryRow {
  readonly key: string;
  readonly lastUpdateKey: string;
  readonly recent: boolean;
  /** Chunk key when the payload is in PayloadChunks. */
  readonly chunkKey?: string;
}

export class TableHistoryPruner implements HistoryPruner {
  constructor(
    private readonly tables: TableClients,
    /** Transactions per tenant in flight at once (deletes of different batches are independent). */
    private readonly concurrency = 2,
  ) {}

  private get history(): TableClient {
    return this.tables.client('history');
  }

  private get incidents(): TableClient {
    return this.tables.client('incidents');
  }

  private get chunks(): TableClient {
    return this.tables.client('chunks');
  }

  /** Stream a query page by page (only `select` columns). */
  private async *pages(client: TableClient, filter: string, select: string[], what: string): AsyncGenerator<Row[]> {
    const iterator = client.listEntities<Row>({ queryOptions: { filter, select } }).byPage({ maxPageSize: PAGE });
    for (;;) {
      let next: IteratorResult<Row[]>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw toTableError(error, what);
      }
      if (next.done) return;
      yield next.value;
    }
  }

  /** Distinct PartitionKeys of a table: one `$top=1` query per partition (skip-scan), never a full scan. */
  private async partitionsOf(client: TableClient, what: string): Promise<string[]> {
    const found: string[] = [];
    let after: string | undefined;
    for (;;) {
      const filter = after === undefined ? '' : `PartitionKey gt ${quote(after)}`;
      let first: string | undefined;
      try {
        const iterator = client
          .listEntities<Row>({ queryOptions: { ...(filter ? { filter } : {}), select: ['PartitionKey'] } })
          .byPage({ maxPageSize: 1 });
        // The service may answer an empty page with a continuation: follow it until a row or the end.
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          const row = next.value[0];
          if (row?.partitionKey !== undefined) {
            first = row.partitionKey;
            break;
          }
        }
      } catch (error) {
        throw toTableError(error, what);
      }
      if (first === undefined) return found;
      found.push(first);
      after = first;
    }
  }

  async tenantPartitions(): Promise<string[]> {
    const [history, chunks] = await Promise.all([
      this.partitionsOf(this.history, 'list incident history partitions'),
      this.partitionsOf(this.chunks, 'list payload chunk partitions'),
    ]);
    return [...new Set([...history, ...chunks])].sort();
  }

  async pruneTenant(rawTenantId: string, policy: TenantPrunePolicy): Promise<TenantPruneCounts> {
    const tenantId = tenantKey(rawTenantId);
    const counts: TenantPruneCounts = {
      versionsRemoved: 0,
      eventsRemoved: 0,
      chunksRemoved: 0,
      kept: { latest: 0, undelivered: 0, previous: 0, recent: 0 },
    };
    const writtenBefore = Date.parse(policy.writtenBefore);
    const cutoffKey = policy.cutoff === undefined ? undefined : toFixedWidth(policy.cutoff);
    const pk = `PartitionKey eq ${quote(tenantId)}`;
    const referenced = new Set<string>();

    // 1. Latest rows: which version each incident points at, and the chunks they reference.
    const latest = new Map<string, string>();
    for await (const page of this.pages(
      this.incidents,
      pk,
      ['RowKey', 'lastUpdateKey', 'contentHash', 'payloadChunks', 'payloadChunkKey'],
      'read latest incidents to prune',
    )) {
      for (const row of page) {
        latest.set(asString(row.rowKey), asString(row.lastUpdateKey));
        if (chunkCount(row) > 0) referenced.add(chunkKeyOf(row, asString(row.contentHash)));
      }
    }

    // 2. Event rows of versions before the cutoff (the only ones a decision needs).
    const events = new Map<string, { sequence: number; rowKey: string; type: IncidentEventType }>();
    if (cutoffKey !== undefined) {
      const filter = `${pk} and RowKey ge ${quote(EVENT_ROW_PREFIX)} and RowKey lt ${quote(EVENT_ROWS_END)}`;
      for await (const page of this.pages(
        this.history,
        filter,
        ['RowKey', 'historyRowKey', 'type'],
        'read events to prune',
      )) {
        for (const row of page) {
          const rowKey = asString(row.rowKey);
          const sequence = sequenceOfEventRowKey(rowKey);
          const historyKey = asOptionalString(row.historyRowKey);
          const type = asString(row.type);
          if (sequence === undefined || historyKey === undefined || !EVENT_TYPES.has(type)) continue;
          if (historyKey.slice(-(HISTORY_SUFFIX_LENGTH - 1)) >= cutoffKey) continue;
          events.set(historyKey, { sequence, rowKey, type: type as IncidentEventType });
        }
      }
    }

    // 3. History rows before the cutoff, and every row with chunks (for the references), one incident at a time.
    const removals: BatchOp[][] = [];
    const flush = async (force: boolean): Promise<void> => {
      const size = removals.reduce((n, g) => n + g.length, 0);
      if (size === 0 || (!force && size < 100 * this.concurrency)) return;
      const groups = removals.splice(0);
      if (!policy.dryRun) await this.removeGroups(groups);
    };
    const owed = isOwed(policy.undelivered);
    const decide = async (idKey: string, rows: readonly HistoryRow[]): Promise<void> => {
      const olds: OldVersion[] = [];
      const chunkOf = new Map<string, string>();
      let newerExists = false;
      for (const r of rows) {
        if (r.chunkKey !== undefined) chunkOf.set(r.key, r.chunkKey);
        if (cutoffKey !== undefined && r.lastUpdateKey < cutoffKey) {
          const event = events.get(r.key);
          olds.push({ key: r.key, lastUpdateKey: r.lastUpdateKey, recent: r.recent, ...(event ? { event } : {}) });
        } else newerExists = true;
      }
      const latestKey = latest.get(idKey);
      const lastOld = olds.at(-1);
      if (lastOld !== undefined && latestKey !== undefined && latestKey > lastOld.lastUpdateKey) newerExists = true;
      const removed = new Set<string>();
      for (const d of decideOldVersions(olds, {
        ...(latestKey !== undefined ? { latestKey } : {}),
        newerExists,
        owed,
      })) {
        const event = d.version.event;
        if (d.kept !== undefined) counts.kept[d.kept]++;
        if (d.removeVersion) {
          removed.add(d.version.key);
          counts.versionsRemoved++;
          const group: BatchOp[] = [{ kind: 'delete', entity: { partitionKey: tenantId, rowKey: d.version.key } }];
          if (event) {
            counts.eventsRemoved++;
            group.push({ kind: 'delete', entity: { partitionKey: tenantId, rowKey: event.rowKey } });
          }
          removals.push(group);
        } else if (d.removeEventOnly && event) {
          counts.eventsRemoved++;
          removals.push([{ kind: 'delete', entity: { partitionKey: tenantId, rowKey: event.rowKey } }]);
        }
      }
      for (const [key, chunkKey] of chunkOf) if (!removed.has(key)) referenced.add(chunkKey);
      await flush(false);
    };
    const chunkedFilter = 'payloadChunks gt 0';
    const historyFilter =
      cutoffKey === undefined
        ? `${pk} and ${HISTORY_ROWS_FILTER} and ${chunkedFilter}`
        : `${pk} and ${HISTORY_ROWS_FILTER} and (lastUpdateKey lt ${quote(cutoffKey)} or ${chunkedFilter})`;
    let currentId: string | undefined;
    let group: HistoryRow[] = [];
    for await (const page of this.pages(
      this.history,
      historyFilter,
      ['RowKey', 'lastUpdateKey', 'contentHash', 'payloadChunks', 'payloadChunkKey', 'Timestamp'],
      'read incident history to prune',
    )) {
      for (const row of page) {
        const key = asString(row.rowKey);
        const idKey = idKeyOfHistoryRowKey(key);
        if (currentId !== undefined && idKey !== currentId) {
          await decide(currentId, group);
          group = [];
        }
        currentId = idKey;
        const chunked = chunkCount(row) > 0;
        group.push({
          key,
          lastUpdateKey: asOptionalString(row.lastUpdateKey) ?? key.slice(-(HISTORY_SUFFIX_LENGTH - 1)),
          recent: stampedAt(row) >= writtenBefore,
          ...(chunked ? { chunkKey: chunkKeyOf(row, asString(row.contentHash)) } : {}),
        });
      }
    }
    if (currentId !== undefined) await decide(currentId, group);
    await flush(true);

    // 4. Chunks no remaining row references, older than the grace period.
    const orphans: Row[] = [];
    for await (const page of this.pages(this.chunks, pk, ['RowKey', 'Timestamp'], 'read payload chunks to prune')) {
      for (const row of page) {
        const rowKey = asString(row.rowKey);
        if (referenced.has(chunkKeyOfRowKey(rowKey)) || stampedAt(row) >= writtenBefore) continue;
        orphans.push(row);
      }
    }
    if (policy.dryRun) counts.chunksRemoved = orphans.length;
    else counts.chunksRemoved = await this.removeChunks(tenantId, orphans);
    return counts;
  }

  /** Delete groups (a version with its event row) in transactions; a failed batch is retried row by row. */
  private async removeGroups(groups: readonly (readonly BatchOp[])[]): Promise<void> {
    const batches = planGroupedBatches(groups);
    const outcomes = await submitPlannedSettled(this.history, batches, this.concurrency);
    for (const outcome of outcomes) {
      if (outcome.error === undefined) continue;
      if (!hasStatus(outcome.error, 404)) throw toTableError(outcome.error, 'remove old history versions');
      for (const op of outcome.ops) {
        try {
          await this.history.deleteEntity(op.entity.partitionKey, op.entity.rowKey);
        } catch (error) {
          if (!hasStatus(error, 404)) throw toTableError(error, 'remove old history versions');
        }
      }
    }
  }

  /** Delete chunk rows, each only if unchanged since listed (If-Match); returns how many were deleted. */
  private async removeChunks(tenantId: string, rows: readonly Row[]): Promise<number> {
    let removed = 0;
    for (const row of rows) {
      try {
        await this.chunks.deleteEntity(tenantId, asString(row.rowKey), { etag: asString(row.etag) });
        removed++;
      } catch (error) {
        // 412: a writer upserted it meanwhile (it is referenced again); 404: someone else removed it.
        if (!hasStatus(error, 404, 412)) throw toTableError(error, 'remove orphan payload chunks');
      }
    }
    return removed;
  }
}
