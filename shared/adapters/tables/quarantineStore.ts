/**
 * QuarantineStore on the `RejectedIncidents` table (PK tenant ID, RK SHA-256 hex of the raw record's JSON text).
 * A rejected record (issue 10 §3: no usable ID or `lastUpdate…`) is kept with its raw JSON, the reason, the source
 * and the run that first saw it. Keeping is insert-only: the same record re-read on every overlap maps to the same
 * row key, so it is kept once and its first run stays. The raw JSON is stored gzip-compressed in ≤ 64 KiB binary
 * properties (`raw`, `raw_1`, …); a record whose compressed form does not fit one entity keeps its reason, hash and
 * size, with `rawOmitted` set (never the case for a real incident, which the Incidents table stores in one entity).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock, QuarantinedRecord, QuarantineStore, RejectedRecord, SourceKind } from '../../ports.js';
import { ENTITY_BUDGET_BYTES, MAX_PROPERTY_BYTES } from './entitySize.js';
import { asString } from './entityValues.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall } from './tableErrors.js';

type Row = Record<string, unknown>;

/** The raw record's JSON text (`null` for undefined, which JSON cannot carry). */
export function rawText(raw: unknown): string {
  return JSON.stringify(raw) ?? 'null';
}

/** The stable row key of a raw record: SHA-256 hex of its JSON text as received and re-serialised. */
export function quarantineKey(raw: unknown): string {
  return createHash('sha256').update(rawText(raw), 'utf8').digest('hex');
}

function rawParts(text: string): Record<string, Uint8Array> | undefined {
  const bytes = gzipSync(Buffer.from(text, 'utf8'));
  // Base64 on the wire: 4/3 of the bytes must stay inside the entity budget.
  if ((bytes.byteLength * 4) / 3 > ENTITY_BUDGET_BYTES) return undefined;
  const parts: Record<string, Uint8Array> = {};
  for (let offset = 0, i = 0; offset < bytes.byteLength; offset += MAX_PROPERTY_BYTES, i++)
    parts[i === 0 ? 'raw' : `raw_${i}`] = bytes.subarray(
      offset,
      Math.min(bytes.byteLength, offset + MAX_PROPERTY_BYTES),
    );
  return parts;
}

function readRaw(row: Row): string {
  const parts: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    const part = row[i === 0 ? 'raw' : `raw_${i}`];
    if (!(part instanceof Uint8Array)) break;
    parts.push(part);
  }
  return parts.length === 0 ? '' : gunzipSync(Buffer.concat(parts)).toString('utf8');
}

export class TableQuarantineStore implements QuarantineStore {
  private readonly clock: Clock;

  constructor(
    private readonly tables: TableClients,
    options: { readonly clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
  }

  private get table(): TableClient {
    return this.tables.client('rejected');
  }

  async keep(tenantId: string, source: SourceKind, runId: string, records: readonly RejectedRecord[]): Promise<number> {
    let kept = 0;
    const keys = new Set<string>();
    for (const record of records) {
      const text = rawText(record.raw);
      const key = quarantineKey(record.raw);
      if (keys.has(key)) continue;
      keys.add(key);
      const parts = rawParts(text);
      const entity = {
        partitionKey: tenantId,
        rowKey: key,
        source,
        runId,
        rejectedAt: this.clock.now().toISOString(),
        reason: record.reason.slice(0, 1_000),
        rawLength: text.length,
        ...(parts ?? { rawOmitted: true }),
      };
      const created = await tableCall('keep a rejected incident record', async () => {
        try {
          await this.table.createEntity(entity);
          return true;
        } catch (error) {
          // Already kept (an overlap re-read): the first copy stays.
          if (hasStatus(error, 409)) return false;
          throw error;
        }
      });
      if (created) kept++;
    }
    return kept;
  }

  async *list(tenantId?: string): AsyncIterable<QuarantinedRecord> {
    const queryOptions = tenantId !== undefined ? { filter: odata`PartitionKey eq ${tenantId}` } : {};
    const rows: QuarantinedRecord[] = await tableCall('list rejected incident records', async () => {
      const found: QuarantinedRecord[] = [];
      for await (const row of this.table.listEntities<Row>({ queryOptions })) {
        found.push({
          tenantId: asString(row.partitionKey),
          key: asString(row.rowKey),
          source: asString(row.source) === 'm365d' ? 'm365d' : 'graph',
          runId: asString(row.runId),
          rejectedAt: asString(row.rejectedAt),
          reason: asString(row.reason),
          raw: row.rawOmitted === true ? '' : readRaw(row),
        });
      }
      return found;
    });
    rows.sort((a, b) => a.rejectedAt.localeCompare(b.rejectedAt));
    yield* rows;
  }
}
