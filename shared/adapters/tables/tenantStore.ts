/**
 * TenantStore on the `Tenants` table (PK `tenant`, RK the lower-case tenant GUID). The checkpoint (column `watermark`, a design §4 contract name)
 * only moves forward: advanceCheckpoint is a compare-write guarded by the row's ETag and retried on 412, and
 * upsert/update never write it. The store remembers each tenant row's last seen ETag and checkpoint, so a
 * collection advancing its checkpoint page after page writes once per page instead of reading first; a stale
 * memory only costs a 412 and the read it saved. patchWithCheckpoint writes a collection's outcome columns in that
 * same conditional write, so the last checkpoint of a collection costs no write of its own. Cleared optional columns are stored as '' (Merge cannot remove a property) and
 * read back as absent.
 */
import type { TableClient } from '@azure/data-tables';
import { CollectorError, NotFoundError } from '../../domain/errors.js';
import { TENANT_STATUSES } from '../../domain/tenantState.js';
import { compareInstants } from '../../domain/time.js';
import type { TenantPatch, TenantRecord, TenantStatus, TenantStore } from '../../ports.js';
import { asNumber, asOptionalString, asString, definedOnly } from './entityValues.js';
import { tenantKey } from './keys.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';
import { ErrorCode } from '../../domain/errorCodes.js';

export const TENANT_PARTITION = 'tenant';
const MAX_CHECKPOINT_ATTEMPTS = 50;
const STATUSES: ReadonlySet<string> = new Set<TenantStatus>(TENANT_STATUSES);

type Row = Record<string, unknown> & { rowKey?: string; etag?: string };

/** The tenant row as this store last read or wrote it. */
interface KnownRow {
  readonly etag: string;
  readonly checkpoint: string | undefined;
}

function toRecord(row: Row): TenantRecord {
  const status = asString(row.status);
  const record: Record<string, unknown> = {
    tenantId: asString(row.rowKey),
    displayName: asString(row.displayName),
    status: (STATUSES.has(status) ? status : 'pending_consent') as TenantStatus,
    consecutiveFailures: asNumber(row.consecutiveFailures) ?? 0,
  };
  // The checkpoint's column keeps its contract name (design §4).
  const checkpoint = asOptionalString(row.watermark);
  if (checkpoint !== undefined) record.checkpoint = checkpoint;
  const rejected = asNumber(row.incidentsRejected);
  if (rejected !== undefined && rejected > 0) record.incidentsRejected = rejected;
  // The delivery hint: an integer sequence (stored as a Double above Int32's range, exact below 2^53).
  const eventSequence = asNumber(row.eventSequence);
  if (eventSequence !== undefined && Number.isSafeInteger(eventSequence)) record.eventSequence = eventSequence;
  for (const name of [
    'consentedAt',
    'lastRunAt',
    'lastSuccessAt',
    'lastProbeAt',
    'statusChangedAt',
    'lastFailedRunId',
    'lastErrorCode',
    'lastError',
    'consentLinkExpiresAt',
    'recentVersions',
  ] as const) {
    const value = asOptionalString(row[name]);
    if (value !== undefined) record[name] = value;
  }
  // Design §4: optional `graph`/`m365d`; empty (or anything else) = INCIDENT_SOURCE decides.
  const source = asOptionalString(row.source);
  if (source === 'graph' || source === 'm365d') record.source = source;
  return record as unknown as TenantRecord;
}

/** The columns a patch writes: never the key, never the checkpoint. */
function patchColumns(patch: TenantPatch): Record<string, string | number | boolean> {
  const {
    checkpoint: _c,
    watermark: _w,
    tenantId: _t,
    ...rest
  } = patch as TenantPatch & {
    checkpoint?: unknown;
    watermark?: unknown;
    tenantId?: unknown;
  };
  return definedOnly(rest);
}

export class TableTenantStore implements TenantStore {
  /** By tenant key; one small entry per tenant this process has touched. */
  private readonly known = new Map<string, KnownRow>();

  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('tenants');
  }

  private async read(key: string): Promise<Row | undefined> {
    try {
      const row = await this.table.getEntity<Row>(TENANT_PARTITION, key);
      this.remember(key, row.etag, asOptionalString(row.watermark));
      return row;
    } catch (error) {
      if (hasStatus(error, 404)) {
        this.known.delete(key);
        return undefined;
      }
      throw toTableError(error, 'read tenant');
    }
  }

  private remember(key: string, etag: string | undefined, checkpoint: string | undefined): void {
    if (etag === undefined) this.known.delete(key);
    else this.known.set(key, { etag, checkpoint });
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    const row = await this.read(tenantKey(tenantId));
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<TenantRecord[]> {
    return tableCall('list tenants', async () => {
      const records: TenantRecord[] = [];
      for await (const row of this.table.listEntities<Row>({
        queryOptions: { filter: `PartitionKey eq '${TENANT_PARTITION}'` },
      }))
        records.push(toRecord(row));
      return records;
    });
  }

  async upsert(tenantId: string, patch: TenantPatch & { displayName?: string }): Promise<TenantRecord> {
    const key = tenantKey(tenantId);
    const columns = patchColumns(patch);
    try {
      await this.table.createEntity({
        partitionKey: TENANT_PARTITION,
        rowKey: key,
        displayName: '',
        status: 'pending_consent',
        consecutiveFailures: 0,
        ...columns,
      });
    } catch (error) {
      if (!hasStatus(error, 409)) throw toTableError(error, 'create tenant');
      await tableCall('update tenant', () =>
        this.table.updateEntity({ partitionKey: TENANT_PARTITION, rowKey: key, ...columns }, 'Merge'),
      );
    }
    return this.mustGet(key);
  }

  async update(tenantId: string, patch: TenantPatch): Promise<TenantRecord> {
    await this.patch(tenantId, patch);
    return this.mustGet(tenantKey(tenantId));
  }

  async patch(tenantId: string, patch: TenantPatch): Promise<void> {
    const key = tenantKey(tenantId);
    try {
      // Merge without an ETag is unconditional but fails with 404 on a missing row, so it never creates one.
      await this.table.updateEntity({ partitionKey: TENANT_PARTITION, rowKey: key, ...patchColumns(patch) }, 'Merge');
    } catch (error) {
      if (hasStatus(error, 404)) throw new NotFoundError(`Tenant ${key} is not registered.`);
      throw toTableError(error, 'update tenant');
    } finally {
      // An unconditional merge may land on a row someone else changed since it was remembered: the remembered
      // checkpoint could be stale under the new ETag, so the next checkpoint write reads first.
      this.known.delete(key);
    }
  }

  private async mustGet(key: string): Promise<TenantRecord> {
    const row = await this.read(key);
    if (!row) throw new NotFoundError(`Tenant ${key} is not registered.`);
    return toRecord(row);
  }

  async advanceCheckpoint(tenantId: string, checkpoint: string): Promise<string | undefined> {
    return this.mergeCheckpoint(tenantId, checkpoint, {});
  }

  async patchWithCheckpoint(tenantId: string, patch: TenantPatch, checkpoint: string): Promise<string | undefined> {
    return this.mergeCheckpoint(tenantId, checkpoint, patchColumns(patch));
  }

  /**
   * Merge `columns` and the checkpoint in one ETag-conditional write when the checkpoint is later than the stored
   * one; otherwise merge `columns` alone (unconditionally, as `patch` does). Returns the stored checkpoint.
   */
  private async mergeCheckpoint(
    tenantId: string,
    checkpoint: string,
    columns: Record<string, string | number | boolean>,
  ): Promise<string | undefined> {
    const key = tenantKey(tenantId);
    compareInstants(checkpoint, checkpoint); // reject a malformed value before touching the row
    // First from memory (no read): the conditional write fails with 412 if the row changed since.
    let remembered = this.known.get(key);
    for (let attempt = 0; attempt < MAX_CHECKPOINT_ATTEMPTS; attempt++) {
      // Nothing to write: the answer must be the stored value, which memory cannot vouch for (another process
      // may have moved it on), so that case always reads.
      if (remembered?.checkpoint !== undefined && compareInstants(checkpoint, remembered.checkpoint) <= 0)
        remembered = undefined;
      const row = remembered ?? (await this.readKnown(key));
      const current = row.checkpoint;
      if (current !== undefined && compareInstants(checkpoint, current) <= 0) {
        if (Object.keys(columns).length > 0) await this.patch(tenantId, columns as TenantPatch);
        return current;
      }
      if (await this.writeCheckpoint(key, checkpoint, row.etag, columns)) return checkpoint;
      // 412: the row changed since. A remembered ETag is simply stale (read at once); a fresh one lost a race.
      if (remembered) {
        remembered = undefined;
        continue;
      }
      // A little jitter so many contending writers do not retry in lock-step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 5)));
    }
    throw new CollectorError('The checkpoint could not be advanced: the tenant row kept changing.', {
      code: ErrorCode.TABLE_CHECKPOINT_CONTENTION,
      kind: 'transient',
    });
  }

  private async readKnown(key: string): Promise<KnownRow> {
    const row = await this.read(key);
    if (!row) throw new NotFoundError(`Tenant ${key} is not registered.`);
    return { etag: asString(row.etag), checkpoint: asOptionalString(row.watermark) };
  }

  /** The conditional Merge of the checkpoint (and `columns`); false when the row changed since `etag` (412). */
  private async writeCheckpoint(
    key: string,
    checkpoint: string,
    etag: string,
    columns: Record<string, string | number | boolean>,
  ): Promise<boolean> {
    try {
      const response = await this.table.updateEntity(
        { ...columns, partitionKey: TENANT_PARTITION, rowKey: key, watermark: checkpoint },
        'Merge',
        { etag },
      );
      this.remember(key, response.etag, checkpoint);
      return true;
    } catch (error) {
      this.known.delete(key);
      if (hasStatus(error, 412)) return false;
      if (hasStatus(error, 404)) throw new NotFoundError(`Tenant ${key} is not registered.`);
      throw toTableError(error, 'advance checkpoint');
    }
  }

  async delete(tenantId: string): Promise<void> {
    this.known.delete(tenantKey(tenantId));
    try {
      await this.table.deleteEntity(TENANT_PARTITION, tenantKey(tenantId));
    } catch (error) {
      if (!hasStatus(error, 404)) throw toTableError(error, 'delete tenant');
    }
  }
}
