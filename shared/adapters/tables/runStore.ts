/**
 * RunStore on the `Runs` table (PK the UTC date `yyyy-mm-dd` of startedAt, RK runId). Counters are updated with
 * ETag-guarded read-modify-write, retried on 412, so concurrent workers never lose an increment.
 * lastFinished() and recent() read the most recent few date partitions (a day holds ~24 scheduled runs), newest first.
 * `settledSlots` (binary, one bit per queued tenant) is written in the same guarded write as the counters, so a
 * redelivered message is counted once (domain/runSlots.ts).
 *
 * Round trips: for recordTenants (one process coalescing its own run's results, runCollection) the store remembers
 * the row as it last created or wrote it (ETag, counters), so the next increment is one conditional write instead
 * of a read and a write; a remembered row that is stale (someone else wrote since) only costs the 412 and the read it
 * saved. Per-tenant increments from many queue workers (recordTenant) always read first: their row is contended.
 */
import type { TableClient } from '@azure/data-tables';
import { CollectorError, InputError, NotFoundError } from '../../domain/errors.js';
import { isSlotSettled, withSlotSettled } from '../../domain/runSlots.js';
import type { PartnerCredentialRecord } from '../../domain/partnerCredential.js';
import { MAX_RECENT_RUNS, type Clock, type RunRecord, type RunStore, type TenantRunResult } from '../../ports.js';
import { asNumber, asOptionalString, asString } from './entityValues.js';
import { assertSafeKey } from './keys.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';
import { ErrorCode } from '../../domain/errorCodes.js';

const COUNTERS = [
  'tenantsPlanned',
  'tenantsOk',
  'tenantsFailed',
  'tenantsSkipped',
  'incidentsFetched',
  'incidentsChanged',
  'pages',
  'deadLetters',
] as const;
type Counter = (typeof COUNTERS)[number];
const MAX_COUNTER_ATTEMPTS = 50;
/** Runs whose rows the store remembers at once (a process records few runs at a time). */
const MAX_REMEMBERED_RUNS = 16;
/** How many date partitions lastFinished() looks back through. */
const LOOKBACK_DAYS = 7;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown> & { rowKey?: string; etag?: string };

/** `RunStore.recent`'s limit, checked: a whole number 1–MAX_RECENT_RUNS, else InputError naming `limit`. */
export function requireRecentLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECENT_RUNS)
    throw new InputError('limit', `limit must be a whole number between 1 and ${MAX_RECENT_RUNS}; got ${limit}.`);
  return limit;
}

/** Newest start first; equal starts by run ID, descending (run IDs begin with the start time). */
export function newestFirst(a: RunRecord, b: RunRecord): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}

/** The PartitionKey of a run: the UTC date of its start. */
export function runPartition(startedAt: string): string {
  const ms = Date.parse(startedAt);
  if (Number.isNaN(ms))
    throw new CollectorError('A run start time is not a valid timestamp.', {
      code: ErrorCode.TABLE_INVALID_KEY,
      kind: 'permanent',
    });
  return new Date(ms).toISOString().slice(0, 10);
}

function toRecord(row: Row): RunRecord {
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, asNumber(row[c]) ?? 0])) as Record<Counter, number>;
  const finishedAt = asOptionalString(row.finishedAt);
  return {
    runId: asString(row.rowKey),
    startedAt: asString(row.startedAt),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    trigger: asString(row.trigger),
    ...counters,
    ...credentialOf(row),
    ...(asOptionalString(row.credentialFailure) ? { credentialFailure: asOptionalString(row.credentialFailure) } : {}),
  };
}

/** The Runs row's credential columns (credentialKind, credentialName, credentialVersion, credentialExpiresOn, credentialCheckedAt). */
function credentialOf(row: Row): { credential?: PartnerCredentialRecord } {
  const kind = asOptionalString(row.credentialKind);
  if (kind !== 'secret' && kind !== 'certificate' && kind !== 'federated') return {};
  const name = asOptionalString(row.credentialName);
  const expiresOn = asOptionalString(row.credentialExpiresOn);
  return {
    credential: {
      kind,
      ...(name ? { name } : {}),
      version: asOptionalString(row.credentialVersion) ?? '',
      ...(expiresOn ? { expiresOn } : {}),
      checkedAt: asOptionalString(row.credentialCheckedAt) ?? asString(row.startedAt),
    },
  };
}

function credentialColumns(credential: PartnerCredentialRecord | undefined): Record<string, string> {
  if (credential === undefined) return {};
  return {
    credentialKind: credential.kind,
    credentialName: credential.name ?? '',
    credentialVersion: credential.version,
    credentialExpiresOn: credential.expiresOn ?? '',
    credentialCheckedAt: credential.checkedAt,
  };
}

function runNotFound(): NotFoundError {
  return new NotFoundError('The run to record into does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
}

/** The settled-slot bits; a value of another type (a row edited by hand) is refused rather than overwritten. */
function slotBits(row: Row): Uint8Array | undefined {
  const value = row.settledSlots;
  if (value === undefined || value === null) return undefined;
  if (value instanceof Uint8Array) return value;
  throw new CollectorError(
    `Run ${asString(row.rowKey)}: column settledSlots is not binary, so which tenants are counted is unknown.`,
    { code: ErrorCode.TABLE_RUN_CORRUPT, kind: 'permanent' },
  );
}

function resultIncrements(result: TenantRunResult): Partial<Record<Counter, number>> {
  const outcome: Counter =
    result.status === 'ok' ? 'tenantsOk' : result.status === 'failed' ? 'tenantsFailed' : 'tenantsSkipped';
  return {
    [outcome]: 1,
    incidentsFetched: result.incidentsFetched,
    incidentsChanged: result.incidentsChanged,
    pages: result.pages,
  };
}

export class TableRunStore implements RunStore {
  private readonly clock: Clock;
  /** By `partition/runId`: the row as this store last created or wrote it, with its ETag. */
  private readonly remembered = new Map<string, Row>();

  constructor(
    private readonly tables: TableClients,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
  }

  private get table(): TableClient {
    return this.tables.client('runs');
  }

  private async read(runId: string, startedAt: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(runPartition(startedAt), assertSafeKey(runId, 'run ID'));
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read run');
    }
  }

  async create(run: RunRecord): Promise<void> {
    const entity = {
      partitionKey: runPartition(run.startedAt),
      rowKey: assertSafeKey(run.runId, 'run ID'),
      startedAt: run.startedAt,
      finishedAt: run.finishedAt ?? '',
      trigger: run.trigger,
      ...Object.fromEntries(COUNTERS.map((c) => [c, run[c]])),
      ...credentialColumns(run.credential),
    };
    try {
      const response = await this.table.createEntity(entity);
      this.remember(
        run.runId,
        run.startedAt,
        response.etag === undefined ? undefined : { ...entity, etag: response.etag },
      );
    } catch (error) {
      // A redelivered "plan" message may create the same run twice; the first row stands.
      if (!hasStatus(error, 409)) throw toTableError(error, 'create run');
    }
  }

  private remember(runId: string, startedAt: string, row: Row | undefined): void {
    const key = `${runPartition(startedAt)}/${runId}`;
    this.remembered.delete(key);
    if (row === undefined) return;
    this.remembered.set(key, row);
    for (const oldest of this.remembered.keys()) {
      if (this.remembered.size <= MAX_REMEMBERED_RUNS) break;
      this.remembered.delete(oldest);
    }
  }

  async get(runId: string, startedAt: string): Promise<RunRecord | undefined> {
    const row = await this.read(runId, startedAt);
    return row ? toRecord(row) : undefined;
  }

  async recordTenant(runId: string, startedAt: string, result: TenantRunResult, slot?: number): Promise<boolean> {
    return this.increment(runId, startedAt, resultIncrements(result), slot);
  }

  async recordTenants(runId: string, startedAt: string, results: readonly TenantRunResult[]): Promise<void> {
    if (results.length === 0) return;
    const delta: Partial<Record<Counter, number>> = {};
    for (const result of results)
      for (const [counter, add] of Object.entries(resultIncrements(result)) as [Counter, number][])
        delta[counter] = (delta[counter] ?? 0) + add;
    await this.increment(runId, startedAt, delta, undefined, true);
  }

  async recordDeadLetter(runId: string, startedAt: string, slot?: number): Promise<boolean> {
    return this.increment(runId, startedAt, { deadLetters: 1 }, slot);
  }

  async isSettled(runId: string, startedAt: string, slot: number): Promise<boolean> {
    const row = await this.read(runId, startedAt);
    if (!row) throw runNotFound();
    return isSlotSettled(slotBits(row), slot);
  }

  /** Read-add-write guarded by the ETag; a lost race re-reads and adds again. False: the slot was settled already. */
  private async increment(
    runId: string,
    startedAt: string,
    delta: Partial<Record<Counter, number>>,
    slot?: number,
    fromMemory = false,
  ): Promise<boolean> {
    let known = fromMemory ? this.remembered.get(`${runPartition(startedAt)}/${runId}`) : undefined;
    for (let attempt = 0; attempt < MAX_COUNTER_ATTEMPTS; attempt++) {
      const row = known ?? (await this.read(runId, startedAt));
      if (!row) throw runNotFound();
      const updated: Record<string, number | Uint8Array> = {};
      if (slot !== undefined) {
        const bits = slotBits(row);
        if (isSlotSettled(bits, slot)) return false;
        updated.settledSlots = withSlotSettled(bits, slot);
      }
      for (const [counter, add] of Object.entries(delta)) updated[counter] = (asNumber(row[counter]) ?? 0) + (add ?? 0);
      try {
        const response = await this.table.updateEntity(
          { partitionKey: runPartition(startedAt), rowKey: runId, ...updated },
          'Merge',
          { etag: asString(row.etag) },
        );
        this.remember(
          runId,
          startedAt,
          response.etag === undefined ? undefined : { ...row, ...updated, etag: response.etag },
        );
        return true;
      } catch (error) {
        this.remember(runId, startedAt, undefined);
        if (!hasStatus(error, 412)) throw toTableError(error, 'update run counters');
      }
      // A remembered row was merely stale: read it at once.
      if (known !== undefined) {
        known = undefined;
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 5)));
    }
    throw new CollectorError('The run counters could not be updated: the row kept changing.', {
      code: ErrorCode.TABLE_RUN_CONTENTION,
      kind: 'transient',
    });
  }

  async finish(runId: string, startedAt: string, finishedAt: string): Promise<void> {
    try {
      await this.table.updateEntity(
        { partitionKey: runPartition(startedAt), rowKey: assertSafeKey(runId, 'run ID'), finishedAt },
        'Merge',
      );
    } catch (error) {
      if (hasStatus(error, 404))
        throw new NotFoundError('The run to finish does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
      throw toTableError(error, 'finish run');
    }
  }

  async markCredentialFailure(runId: string, startedAt: string, code: string): Promise<void> {
    try {
      await this.table.updateEntity(
        { partitionKey: runPartition(startedAt), rowKey: assertSafeKey(runId, 'run ID'), credentialFailure: code },
        'Merge',
      );
    } catch (error) {
      if (hasStatus(error, 404)) throw runNotFound();
      throw toTableError(error, 'mark run credential failure');
    }
  }

  /** Every run of one date partition (`finishedOnly`: those with a finishedAt), in the table's order. */
  private async partition(date: string, finishedOnly: boolean): Promise<RunRecord[]> {
    return tableCall('list runs', async () => {
      const rows: RunRecord[] = [];
      const filter = `PartitionKey eq '${date}'${finishedOnly ? " and finishedAt gt ''" : ''}`;
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter } })) rows.push(toRecord(row));
      return rows;
    });
  }

  /** The date partitions to read, today (by the clock) first. */
  private partitions(): string[] {
    const today = this.clock.now().getTime();
    return Array.from({ length: LOOKBACK_DAYS }, (_, day) => new Date(today - day * DAY_MS).toISOString().slice(0, 10));
  }

  async recent(limit: number): Promise<RunRecord[]> {
    requireRecentLimit(limit);
    const out: RunRecord[] = [];
    // A partition holds only runs started that day, so every run of a newer partition is newer than an older one's.
    for (const date of this.partitions()) {
      out.push(...(await this.partition(date, false)).sort(newestFirst));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  async lastFinished(): Promise<RunRecord | undefined> {
    for (const date of this.partitions()) {
      const finished = await this.partition(date, true);
      const latest = finished.reduce<RunRecord | undefined>(
        (best, r) => (!best || (r.finishedAt ?? '') > (best.finishedAt ?? '') ? r : best),
        undefined,
      );
      if (latest) return latest;
    }
    return undefined;
  }
}
