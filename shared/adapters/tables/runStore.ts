/**
 * RunStore on the `Runs` table (PK the UTC date `yyyy-mm-dd` of startedAt, RK runId: the run's summary row, design
 * §4). Counters are updated with ETag-guarded read-modify-write, retried on 412 with exponential backoff and full
 * jitter, so concurrent workers never lose an increment.
 * lastFinished() and recent() read the most recent few date partitions (a day holds ~24 scheduled runs), newest first.
 *
 * Counter shards (queue workers): a queued tenant's outcome (recordTenant/recordDeadLetter with a slot) goes to one
 * of RUN_COUNTER_SHARDS shard rows of its run, RK `<runId>|<kk>` (kk = slot mod K, two digits) in the run's
 * partition, never to the summary row: a message contends only with the messages of its shard. A shard row holds
 * its counters and `settledSlots`, one bit per slot of that shard (bit ⌊slot / K⌋, domain/runSlots.ts), written in
 * the same guarded write, so a redelivered message is counted once. A shard row is created by its first outcome.
 * Readers (`get`, `recent`) fold the shards of an unfinished run into its summary (one range read of the run's
 * rows, settled bits not selected); `finish` writes the totals and `countersFolded` onto the summary row with
 * finishedAt, after which readers take the summary alone (finished runs read as one row, as before). A run whose
 * summary row still carries settled bits (written before shards) keeps them: a shard row starts from its slots'
 * bits there, so no tenant is counted twice across the change.
 *
 * Round trips: for recordTenants (one process coalescing its own run's results, runCollection) the store remembers
 * the row as it last created or wrote it (ETag, counters), so the next increment is one conditional write instead
 * of a read and a write; a remembered row that is stale (someone else wrote since) only costs the 412 and the read it
 * saved. Shard rows are always read first (several worker processes write each shard, so a remembered shard row
 * would mostly be stale: a 412 and a read on top of the write), and one process writes a shard row one increment
 * at a time, so its own messages never race each other on it: a queued outcome is a read and a conditional write.
 */
import type { TableClient } from '@azure/data-tables';
import { CollectorError, InputError, NotFoundError } from '../../domain/errors.js';
import { assertSlot, isSlotSettled, withSlotSettled } from '../../domain/runSlots.js';
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
const MAX_COUNTER_ATTEMPTS = 30;
/** Backoff after a 412: a random wait of up to min(MAX, BASE·2^attempt) ms (full jitter). */
const BACKOFF_BASE_MS = 4;
const BACKOFF_MAX_MS = 1000;
/**
 * Counter shard rows per queued run. 16: four worker processes of 48 messages each put ≤192 outcomes in flight at
 * once, ≤12 per shard, and an outcome holds its shard for one round trip of its minutes-long message, so 412s
 * become rare; the run's range read (completion check, `runs`/status) stays 17 small rows; a shard's settled bits
 * need at most MAX_RUN_SLOTS / 16 bits = 4 KiB, far below the 64 KiB binary property limit.
 */
export const RUN_COUNTER_SHARDS = 16;
/** Rows whose last written state the store remembers at once (a process records few runs at a time). */
const MAX_REMEMBERED_ROWS = 16 * (RUN_COUNTER_SHARDS + 1);
/** The columns a fold reads: everything but the settled bits. */
const FOLD_COLUMNS = [
  'RowKey',
  'startedAt',
  'finishedAt',
  'trigger',
  ...COUNTERS,
  'credentialKind',
  'credentialName',
  'credentialVersion',
  'credentialExpiresOn',
  'credentialCheckedAt',
  'credentialFailure',
  'countersFolded',
];
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

/** The RowKey of shard `k` of a run. */
export function shardRowKey(runId: string, k: number): string {
  return `${runId}|${String(k).padStart(2, '0')}`;
}

/** The shard a slot's outcome goes to, and its bit there. */
function shardOfSlot(slot: number): { k: number; bit: number } {
  return { k: slot % RUN_COUNTER_SHARDS, bit: Math.floor(slot / RUN_COUNTER_SHARDS) };
}

/** The OData filter for a run's summary row and all its shard rows (`|` sorts above every run ID character). */
function runRowsFilter(partition: string, runId: string): string {
  return `PartitionKey eq '${partition}' and (RowKey eq '${runId}' or (RowKey gt '${runId}|' and RowKey lt '${runId}}'))`;
}

/** A summary row with its shard rows folded in (unless `finish` folded them already). */
function toRecord(row: Row, shards: readonly Row[] = []): RunRecord {
  const folded = row.countersFolded === true;
  const counters = Object.fromEntries(
    COUNTERS.map((c) => [
      c,
      (asNumber(row[c]) ?? 0) + (folded ? 0 : shards.reduce((sum, shard) => sum + (asNumber(shard[c]) ?? 0), 0)),
    ]),
  ) as Record<Counter, number>;
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

/** Group a listing's rows by run: summary rows with their shard rows (shards without a summary are dropped). */
function foldRows(rows: readonly Row[]): RunRecord[] {
  const summaries = new Map<string, Row>();
  const shards = new Map<string, Row[]>();
  for (const row of rows) {
    const key = asString(row.rowKey);
    const bar = key.indexOf('|');
    if (bar < 0) summaries.set(key, row);
    else {
      const runId = key.slice(0, bar);
      const ofRun = shards.get(runId);
      if (ofRun) ofRun.push(row);
      else shards.set(runId, [row]);
    }
  }
  return [...summaries].map(([runId, row]) => toRecord(row, shards.get(runId)));
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

/** A shard's initial bits: the slots of shard `k` that a pre-shard summary row had settled. */
function legacyShardBits(summary: Row, k: number): Uint8Array | undefined {
  const bits = slotBits(summary);
  if (bits === undefined) return undefined;
  let out: Uint8Array | undefined;
  for (let slot = k; slot < bits.length * 8; slot += RUN_COUNTER_SHARDS)
    if (isSlotSettled(bits, slot)) out = withSlotSettled(out, shardOfSlot(slot).bit);
  return out;
}

/** Wait before retry `attempt` (0-based) after a 412: exponential with full jitter. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
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
  /** By `partition/rowKey`: a summary or shard row as this store last created or wrote it, with its ETag. */
  private readonly remembered = new Map<string, Row>();
  /** By `partition/rowKey`: the tail of this process's increments of a shard row, run one after another. */
  private readonly shardTails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly tables: TableClients,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
  }

  private get table(): TableClient {
    return this.tables.client('runs');
  }

  private async read(partition: string, rowKey: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(partition, rowKey);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read run');
    }
  }

  /** The run's summary row and its shard rows (settled bits not selected), in one range read. */
  private async runRows(runId: string, startedAt: string): Promise<{ summary?: Row; shards: Row[] }> {
    const filter = runRowsFilter(runPartition(startedAt), assertSafeKey(runId, 'run ID'));
    return tableCall('read run', async () => {
      let summary: Row | undefined;
      const shards: Row[] = [];
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: FOLD_COLUMNS } })) {
        if (row.rowKey === runId) summary = row;
        else shards.push(row);
      }
      return { ...(summary ? { summary } : {}), shards };
    });
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
        entity.partitionKey,
        entity.rowKey,
        response.etag === undefined ? undefined : { ...entity, etag: response.etag },
      );
    } catch (error) {
      // A redelivered "plan" message may create the same run twice; the first row stands.
      if (!hasStatus(error, 409)) throw toTableError(error, 'create run');
    }
  }

  private remember(partition: string, rowKey: string, row: Row | undefined): void {
    const key = `${partition}/${rowKey}`;
    this.remembered.delete(key);
    if (row === undefined) return;
    this.remembered.set(key, row);
    for (const oldest of this.remembered.keys()) {
      if (this.remembered.size <= MAX_REMEMBERED_ROWS) break;
      this.remembered.delete(oldest);
    }
  }

  async get(runId: string, startedAt: string): Promise<RunRecord | undefined> {
    const { summary, shards } = await this.runRows(runId, startedAt);
    return summary ? toRecord(summary, shards) : undefined;
  }

  async recordTenant(runId: string, startedAt: string, result: TenantRunResult, slot?: number): Promise<boolean> {
    return this.incrementShard(runId, startedAt, resultIncrements(result), slot);
  }

  async recordTenants(runId: string, startedAt: string, results: readonly TenantRunResult[]): Promise<void> {
    if (results.length === 0) return;
    const delta: Partial<Record<Counter, number>> = {};
    for (const result of results)
      for (const [counter, add] of Object.entries(resultIncrements(result)) as [Counter, number][])
        delta[counter] = (delta[counter] ?? 0) + add;
    const partition = runPartition(startedAt);
    const rowKey = assertSafeKey(runId, 'run ID');
    await this.increment(partition, rowKey, delta, undefined, this.remembered.get(`${partition}/${rowKey}`), () =>
      Promise.resolve(undefined),
    );
  }

  async recordDeadLetter(runId: string, startedAt: string, slot?: number): Promise<boolean> {
    return this.incrementShard(runId, startedAt, { deadLetters: 1 }, slot);
  }

  async isSettled(runId: string, startedAt: string, slot: number): Promise<boolean> {
    assertSlot(slot);
    const partition = runPartition(startedAt);
    const { k, bit } = shardOfSlot(slot);
    const shard = await this.read(partition, shardRowKey(assertSafeKey(runId, 'run ID'), k));
    if (shard) return isSlotSettled(slotBits(shard), bit);
    const summary = await this.read(partition, runId);
    if (!summary) throw runNotFound();
    return isSlotSettled(slotBits(summary), slot);
  }

  /**
   * Add to the slot's shard row (a random shard without a slot), one increment of this process at a time per
   * shard row. A missing shard row is created from the summary
   * row (which must exist: TABLE_RUN_NOT_FOUND otherwise). False: the slot was settled already.
   */
  private async incrementShard(
    runId: string,
    startedAt: string,
    delta: Partial<Record<Counter, number>>,
    slot?: number,
  ): Promise<boolean> {
    const partition = runPartition(startedAt);
    const { k, bit } =
      slot === undefined ? { k: Math.floor(Math.random() * RUN_COUNTER_SHARDS), bit: undefined } : shardOfSlot(slot);
    const rowKey = shardRowKey(assertSafeKey(runId, 'run ID'), k);
    const key = `${partition}/${rowKey}`;
    const run = async (): Promise<boolean> => {
      // A shard row that does not exist yet starts from the summary's (pre-shard) bits for its slots.
      const seed = async (): Promise<Row | undefined> => {
        const summary = await this.read(partition, runId);
        if (!summary) throw runNotFound();
        const bits = legacyShardBits(summary, k);
        return { partitionKey: partition, rowKey, ...(bits ? { settledSlots: bits } : {}) };
      };
      return this.increment(partition, rowKey, delta, bit, undefined, seed);
    };
    const previous = this.shardTails.get(key) ?? Promise.resolve();
    const mine = previous.then(run, run);
    const tail = mine.catch(() => undefined);
    this.shardTails.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.shardTails.get(key) === tail) this.shardTails.delete(key);
    }
  }

  /**
   * Read-add-write of one row guarded by its ETag; a lost race re-reads and adds again after a backoff. `known`: the
   * row as last written here (stale memory costs one 412). `seed`: the row to create when it does not exist
   * (undefined: the run does not exist). False: the slot (a bit of this row) was settled already.
   */
  private async increment(
    partition: string,
    rowKey: string,
    delta: Partial<Record<Counter, number>>,
    bit: number | undefined,
    known: Row | undefined,
    seed: () => Promise<Row | undefined>,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_COUNTER_ATTEMPTS; attempt++) {
      const stored = known ?? (await this.read(partition, rowKey));
      const row = stored ?? (await seed());
      if (!row) throw runNotFound();
      const updated: Record<string, number | Uint8Array> = {};
      if (bit !== undefined) {
        const bits = slotBits(row);
        if (isSlotSettled(bits, bit)) return false;
        updated.settledSlots = withSlotSettled(bits, bit);
      }
      for (const [counter, add] of Object.entries(delta)) updated[counter] = (asNumber(row[counter]) ?? 0) + (add ?? 0);
      try {
        const entity = { partitionKey: partition, rowKey, ...updated };
        const response = stored
          ? await this.table.updateEntity(entity, 'Merge', { etag: asString(row.etag) })
          : await this.table.createEntity(entity);
        this.remember(
          partition,
          rowKey,
          response.etag === undefined ? undefined : { ...row, ...updated, etag: response.etag },
        );
        return true;
      } catch (error) {
        this.remember(partition, rowKey, undefined);
        // 412: someone wrote since; 409: someone created the shard row first.
        if (!hasStatus(error, stored ? 412 : 409)) throw toTableError(error, 'update run counters');
      }
      // A remembered row was merely stale, or the row was just created: read it at once.
      if (known !== undefined || stored === undefined) {
        known = undefined;
        continue;
      }
      await backoff(attempt);
    }
    throw new CollectorError('The run counters could not be updated: the row kept changing.', {
      code: ErrorCode.TABLE_RUN_CONTENTION,
      kind: 'transient',
    });
  }

  /**
   * Stamp finishedAt on the summary row with the run's totals (its shards folded in) and `countersFolded`, guarded
   * by the summary's ETag (a concurrent recordTenants re-reads). Finishing again rewrites the time only.
   */
  async finish(runId: string, startedAt: string, finishedAt: string): Promise<void> {
    const partition = runPartition(startedAt);
    for (let attempt = 0; attempt < MAX_COUNTER_ATTEMPTS; attempt++) {
      const { summary, shards } = await this.runRows(runId, startedAt);
      if (!summary) throw new NotFoundError('The run to finish does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
      const totals = toRecord(summary, shards);
      const entity = {
        partitionKey: partition,
        rowKey: runId,
        finishedAt,
        ...(shards.length > 0 || summary.countersFolded === true
          ? { ...Object.fromEntries(COUNTERS.map((c) => [c, totals[c]])), countersFolded: true }
          : {}),
      };
      try {
        await this.table.updateEntity(entity, 'Merge', { etag: asString(summary.etag) });
        this.remember(partition, runId, undefined);
        return;
      } catch (error) {
        this.remember(partition, runId, undefined);
        if (hasStatus(error, 404))
          throw new NotFoundError('The run to finish does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
        if (!hasStatus(error, 412)) throw toTableError(error, 'finish run');
      }
      await backoff(attempt);
    }
    throw new CollectorError('The run could not be finished: its row kept changing.', {
      code: ErrorCode.TABLE_RUN_CONTENTION,
      kind: 'transient',
    });
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

  /** Every run of one date partition (`finishedOnly`: those with a finishedAt), shards folded, in the table's order. */
  private async partition(date: string, finishedOnly: boolean): Promise<RunRecord[]> {
    return tableCall('list runs', async () => {
      const rows: Row[] = [];
      // A finished run's summary row carries its totals; shard rows have no finishedAt.
      const filter = `PartitionKey eq '${date}'${finishedOnly ? " and finishedAt gt ''" : ''}`;
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: FOLD_COLUMNS } }))
        rows.push(row);
      return foldRows(rows);
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
