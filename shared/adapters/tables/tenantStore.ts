/**
 * TenantStore on the `Tenants` table (PK `tenant`, RK the lower-case tenant GUID). The checkpoint (`watermark`)
 * only moves forward: advanceWatermark is a read-compare-write guarded by the row's ETag and retried on 412, and
 * upsert/update never write it. Cleared optional columns are stored as '' (Merge cannot remove a property) and
 * read back as absent.
 */
import type { TableClient } from '@azure/data-tables';
import { CollectorError, NotFoundError } from '../../domain/errors.js';
import { compareInstants } from '../../domain/time.js';
import type { TenantPatch, TenantRecord, TenantStatus, TenantStore } from '../../ports.js';
import { asNumber, asOptionalString, asString, definedOnly } from './entityValues.js';
import { tenantKey } from './keys.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';

export const TENANT_PARTITION = 'tenant';
const MAX_WATERMARK_ATTEMPTS = 50;
const STATUSES: ReadonlySet<string> = new Set<TenantStatus>([
  'pending_consent', 'active', 'consent_revoked', 'missing_permissions', 'credential_error', 'disabled', 'failing',
]);

type Row = Record<string, unknown> & { rowKey?: string; etag?: string };

function toRecord(row: Row): TenantRecord {
  const status = asString(row.status);
  const record: Record<string, unknown> = {
    tenantId: asString(row.rowKey),
    displayName: asString(row.displayName),
    status: (STATUSES.has(status) ? status : 'pending_consent') as TenantStatus,
    consecutiveFailures: asNumber(row.consecutiveFailures) ?? 0,
  };
  for (const name of ['consentedAt', 'watermark', 'lastRunAt', 'lastSuccessAt', 'lastProbeAt', 'statusChangedAt', 'lastFailedRunId', 'lastErrorCode', 'lastError'] as const) {
    const value = asOptionalString(row[name]);
    if (value !== undefined) record[name] = value;
  }
  return record as unknown as TenantRecord;
}

/** The columns a patch writes: never the key, never the watermark. */
function patchColumns(patch: TenantPatch): Record<string, string | number | boolean> {
  const { watermark: _w, tenantId: _t, ...rest } = patch as TenantPatch & { watermark?: unknown; tenantId?: unknown };
  return definedOnly(rest);
}

export class TableTenantStore implements TenantStore {
  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('tenants');
  }

  private async read(key: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(TENANT_PARTITION, key);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read tenant');
    }
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    const row = await this.read(tenantKey(tenantId));
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<TenantRecord[]> {
    return tableCall('list tenants', async () => {
      const records: TenantRecord[] = [];
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq '${TENANT_PARTITION}'` } })) records.push(toRecord(row));
      return records;
    });
  }

  async upsert(tenantId: string, patch: TenantPatch & { displayName?: string }): Promise<TenantRecord> {
    const key = tenantKey(tenantId);
    const columns = patchColumns(patch);
    try {
      await this.table.createEntity({ partitionKey: TENANT_PARTITION, rowKey: key, displayName: '', status: 'pending_consent', consecutiveFailures: 0, ...columns });
    } catch (error) {
      if (!hasStatus(error, 409)) throw toTableError(error, 'create tenant');
      await tableCall('update tenant', () => this.table.updateEntity({ partitionKey: TENANT_PARTITION, rowKey: key, ...columns }, 'Merge'));
    }
    return this.mustGet(key);
  }

  async update(tenantId: string, patch: TenantPatch): Promise<TenantRecord> {
    const key = tenantKey(tenantId);
    try {
      // Merge without an ETag is unconditional but fails with 404 on a missing row, so it never creates one.
      await this.table.updateEntity({ partitionKey: TENANT_PARTITION, rowKey: key, ...patchColumns(patch) }, 'Merge');
    } catch (error) {
      if (hasStatus(error, 404)) throw new NotFoundError(`Tenant ${key} is not registered.`);
      throw toTableError(error, 'update tenant');
    }
    return this.mustGet(key);
  }

  private async mustGet(key: string): Promise<TenantRecord> {
    const row = await this.read(key);
    if (!row) throw new NotFoundError(`Tenant ${key} is not registered.`);
    return toRecord(row);
  }

  async advanceWatermark(tenantId: string, watermark: string): Promise<string | undefined> {
    const key = tenantKey(tenantId);
    compareInstants(watermark, watermark); // reject a malformed value before touching the row
    for (let attempt = 0; attempt < MAX_WATERMARK_ATTEMPTS; attempt++) {
      const row = await this.read(key);
      if (!row) throw new NotFoundError(`Tenant ${key} is not registered.`);
      const current = asOptionalString(row.watermark);
      if (current !== undefined && compareInstants(watermark, current) <= 0) return current;
      try {
        await this.table.updateEntity({ partitionKey: TENANT_PARTITION, rowKey: key, watermark }, 'Merge', { etag: asString(row.etag) });
        return watermark;
      } catch (error) {
        // 412: someone changed the row since we read it; read again and re-compare.
        if (!hasStatus(error, 412)) throw toTableError(error, 'advance watermark');
      }
      // A little jitter so many contending writers do not retry in lock-step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 5)));
    }
    throw new CollectorError('The checkpoint could not be advanced: the tenant row kept changing.', { code: 'TABLE_WATERMARK_CONTENTION', kind: 'transient' });
  }

  async delete(tenantId: string): Promise<void> {
    try {
      await this.table.deleteEntity(TENANT_PARTITION, tenantKey(tenantId));
    } catch (error) {
      if (!hasStatus(error, 404)) throw toTableError(error, 'delete tenant');
    }
  }
}
