/**
 * In-memory TenantStore, faithful to TableTenantStore: IDs keyed lower case (tenantKey), upsert creates with
 * `pending_consent`/0 failures and merges otherwise, update never creates (NotFoundError), patches never write the
 * checkpoint, cleared optional columns ('') read back as absent, advanceCheckpoint compares instants at full
 * precision and only moves forward.
 */
import { tenantKey } from '../../shared/adapters/tables/keys.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { TENANT_STATUSES } from '../../shared/domain/tenantState.js';
import { compareInstants } from '../../shared/domain/time.js';
import type { TenantPatch, TenantRecord, TenantStatus, TenantStore } from '../../shared/ports.js';
import { Faults, Journal } from './journal.js';

type Row = Record<string, string | number | boolean>;

const OPTIONAL = [
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
] as const;
const STATUSES: ReadonlySet<string> = new Set<string>(TENANT_STATUSES);

/** The columns a patch writes, as the Table adapter does: never the key or the checkpoint, never undefined. */
function columns(patch: TenantPatch): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'tenantId' || key === 'checkpoint' || key === 'watermark') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

function toRecord(key: string, row: Row): TenantRecord {
  const status = typeof row.status === 'string' && STATUSES.has(row.status) ? row.status : 'pending_consent';
  const record: Record<string, unknown> = {
    tenantId: key,
    displayName: typeof row.displayName === 'string' ? row.displayName : '',
    status: status as TenantStatus,
    consecutiveFailures: typeof row.consecutiveFailures === 'number' ? row.consecutiveFailures : 0,
  };
  if (typeof row.watermark === 'string' && row.watermark !== '') record.checkpoint = row.watermark;
  for (const name of OPTIONAL) {
    const value = row[name];
    if (typeof value === 'string' && value !== '') record[name] = value;
  }
  // As the Table adapter: only `graph`/`m365d` count; '' (cleared) or anything else = INCIDENT_SOURCE decides.
  if (row.source === 'graph' || row.source === 'm365d') record.source = row.source;
  if (typeof row.eventSequence === 'number' && Number.isSafeInteger(row.eventSequence))
    record.eventSequence = row.eventSequence;
  return record as unknown as TenantRecord;
}

export class FakeTenantStore implements TenantStore {
  private readonly rows = new Map<string, Row>();
  readonly faults = new Faults();

  constructor(readonly journal = new Journal()) {}

  /** Test setup: a tenant row as-is (its checkpoint included), bypassing the port's rules. */
  seed(record: Partial<TenantRecord> & { tenantId: string }): void {
    const { tenantId, checkpoint, ...rest } = record;
    this.rows.set(tenantKey(tenantId), {
      displayName: '',
      status: 'pending_consent',
      consecutiveFailures: 0,
      ...columns(rest),
      ...(checkpoint !== undefined ? { watermark: checkpoint } : {}),
    });
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    this.faults.check('get');
    const key = tenantKey(tenantId);
    const row = this.rows.get(key);
    return row ? toRecord(key, row) : undefined;
  }

  async list(): Promise<TenantRecord[]> {
    this.faults.check('list');
    return [...this.rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, row]) => toRecord(key, row));
  }

  async upsert(tenantId: string, patch: TenantPatch & { displayName?: string }): Promise<TenantRecord> {
    this.faults.check('upsert');
    const key = tenantKey(tenantId);
    const existing = this.rows.get(key);
    const row = existing
      ? { ...existing, ...columns(patch) }
      : { displayName: '', status: 'pending_consent', consecutiveFailures: 0, ...columns(patch) };
    this.rows.set(key, row);
    this.journal.add(`tenant ${key} ${JSON.stringify(columns(patch))}`);
    return toRecord(key, row);
  }

  async update(tenantId: string, patch: TenantPatch): Promise<TenantRecord> {
    this.faults.check('update');
    const key = tenantKey(tenantId);
    const existing = this.rows.get(key);
    if (!existing) throw new NotFoundError(`Tenant ${key} is not registered.`);
    const row = { ...existing, ...columns(patch) };
    this.rows.set(key, row);
    this.journal.add(`tenant ${key} ${JSON.stringify(columns(patch))}`);
    return toRecord(key, row);
  }

  /** As update (same faults, same journal line), without the record. */
  async patch(tenantId: string, patch: TenantPatch): Promise<void> {
    await this.update(tenantId, patch);
  }

  async advanceCheckpoint(tenantId: string, checkpoint: string): Promise<string | undefined> {
    this.faults.check('advanceCheckpoint');
    const key = tenantKey(tenantId);
    compareInstants(checkpoint, checkpoint); // a malformed value throws before the row is touched
    const row = this.rows.get(key);
    if (!row) throw new NotFoundError(`Tenant ${key} is not registered.`);
    const current = typeof row.watermark === 'string' && row.watermark !== '' ? row.watermark : undefined;
    if (current !== undefined && compareInstants(checkpoint, current) <= 0) return current;
    this.rows.set(key, { ...row, watermark: checkpoint });
    this.journal.add(`checkpoint ${key} ${checkpoint}`);
    return checkpoint;
  }

  /** advanceCheckpoint then patch (their faults and journal lines, in that order), as one call. */
  async patchWithCheckpoint(tenantId: string, patch: TenantPatch, checkpoint: string): Promise<string | undefined> {
    const stored = await this.advanceCheckpoint(tenantId, checkpoint);
    await this.patch(tenantId, patch);
    return stored;
  }

  async delete(tenantId: string): Promise<void> {
    this.faults.check('delete');
    const key = tenantKey(tenantId);
    if (this.rows.delete(key)) this.journal.add(`tenant-deleted ${key}`);
  }
}
