/**
 * In-memory RunStore, faithful to TableRunStore: runs keyed by (UTC start date, run ID); create keeps the first
 * row; counters and the settled-slot bits change together, so a slot is counted once; a missing run is
 * NotFoundError TABLE_RUN_NOT_FOUND; lastFinished and recent look back 7 date partitions from the injected clock,
 * newest first.
 */
import { assertSafeKey } from '../../shared/adapters/tables/keys.js';
import { newestFirst, requireRecentLimit, runPartition } from '../../shared/adapters/tables/runStore.js';
import { ErrorCode } from '../../shared/domain/errorCodes.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { isSlotSettled, withSlotSettled } from '../../shared/domain/runSlots.js';
import type { Clock, RunRecord, RunStore, TenantRunResult } from '../../shared/ports.js';
import { Faults } from './journal.js';

type Counter = Exclude<
  keyof RunRecord,
  'runId' | 'startedAt' | 'finishedAt' | 'trigger' | 'credential' | 'credentialFailure'
>;
const LOOKBACK_DAYS = 7;
const DAY_MS = 86_400_000;

function runNotFound(): NotFoundError {
  return new NotFoundError('The run to record into does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
}

export class FakeRunStore implements RunStore {
  private readonly rows = new Map<string, { run: RunRecord; slots: Uint8Array | undefined }>();
  readonly faults = new Faults();

  constructor(private readonly clock: Clock) {}

  private key(runId: string, startedAt: string): string {
    return `${runPartition(startedAt)}/${assertSafeKey(runId, 'run ID')}`;
  }

  async create(run: RunRecord): Promise<void> {
    this.faults.check('create');
    const key = this.key(run.runId, run.startedAt);
    if (!this.rows.has(key)) this.rows.set(key, { run: { ...run }, slots: undefined });
  }

  async get(runId: string, startedAt: string): Promise<RunRecord | undefined> {
    this.faults.check('get');
    const row = this.rows.get(this.key(runId, startedAt));
    return row ? { ...row.run } : undefined;
  }

  async recordTenant(runId: string, startedAt: string, result: TenantRunResult, slot?: number): Promise<boolean> {
    this.faults.check('recordTenant');
    const outcome: Counter =
      result.status === 'ok' ? 'tenantsOk' : result.status === 'failed' ? 'tenantsFailed' : 'tenantsSkipped';
    return this.increment(runId, startedAt, slot, {
      [outcome]: 1,
      incidentsFetched: result.incidentsFetched,
      incidentsChanged: result.incidentsChanged,
      pages: result.pages,
    });
  }

  /** As recordTenant for each result, under the same fault name. */
  async recordTenants(runId: string, startedAt: string, results: readonly TenantRunResult[]): Promise<void> {
    this.faults.check('recordTenant');
    if (results.length > 0 && !this.rows.has(this.key(runId, startedAt))) throw runNotFound();
    for (const result of results) await this.recordTenant(runId, startedAt, result);
  }

  async recordDeadLetter(runId: string, startedAt: string, slot?: number): Promise<boolean> {
    this.faults.check('recordDeadLetter');
    return this.increment(runId, startedAt, slot, { deadLetters: 1 });
  }

  async isSettled(runId: string, startedAt: string, slot: number): Promise<boolean> {
    this.faults.check('isSettled');
    const row = this.rows.get(this.key(runId, startedAt));
    if (!row) throw runNotFound();
    return isSlotSettled(row.slots, slot);
  }

  private increment(
    runId: string,
    startedAt: string,
    slot: number | undefined,
    delta: Partial<Record<Counter, number>>,
  ): boolean {
    const row = this.rows.get(this.key(runId, startedAt));
    if (!row) throw runNotFound();
    if (slot !== undefined) {
      if (isSlotSettled(row.slots, slot)) return false;
      row.slots = withSlotSettled(row.slots, slot);
    }
    const run: Record<string, unknown> = { ...row.run };
    for (const [counter, add] of Object.entries(delta)) run[counter] = ((run[counter] as number) ?? 0) + (add ?? 0);
    row.run = run as unknown as RunRecord;
    return true;
  }

  async finish(runId: string, startedAt: string, finishedAt: string): Promise<void> {
    this.faults.check('finish');
    const row = this.rows.get(this.key(runId, startedAt));
    if (!row) throw new NotFoundError('The run to finish does not exist.', ErrorCode.TABLE_RUN_NOT_FOUND);
    row.run = { ...row.run, finishedAt };
  }

  async markCredentialFailure(runId: string, startedAt: string, code: string): Promise<void> {
    this.faults.check('markCredentialFailure');
    const row = this.rows.get(this.key(runId, startedAt));
    if (!row) throw runNotFound();
    row.run = { ...row.run, credentialFailure: code };
  }

  async recent(limit: number): Promise<RunRecord[]> {
    this.faults.check('recent');
    requireRecentLimit(limit);
    const today = this.clock.now().getTime();
    const partitions = new Set(
      Array.from({ length: LOOKBACK_DAYS }, (_, day) => new Date(today - day * DAY_MS).toISOString().slice(0, 10)),
    );
    return [...this.rows.entries()]
      .filter(([key]) => partitions.has(key.slice(0, 10)))
      .map(([, { run }]) => ({ ...run }))
      .sort(newestFirst)
      .slice(0, limit);
  }

  async lastFinished(): Promise<RunRecord | undefined> {
    this.faults.check('lastFinished');
    const today = this.clock.now().getTime();
    for (let day = 0; day < LOOKBACK_DAYS; day++) {
      const partition = new Date(today - day * DAY_MS).toISOString().slice(0, 10);
      let best: RunRecord | undefined;
      for (const [key, { run }] of this.rows) {
        if (!key.startsWith(`${partition}/`) || !run.finishedAt) continue;
        if (!best || run.finishedAt > (best.finishedAt ?? '')) best = run;
      }
      if (best) return { ...best };
    }
    return undefined;
  }
}
