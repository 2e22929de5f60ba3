/**
 * The run counters of a process that collects a run's tenants itself (runCollection): results are added to the
 * `Runs` row in coalesced batches — at most one write in flight; whatever finished meanwhile goes in the next — so
 * a run of many tenants costs a few counter writes instead of a read and a conditional write per tenant (each of
 * which contends with the others on the one row). `drain()` writes what is left and rethrows the first failure,
 * so a run is finished only after every result is counted, and a storage failure still fails the run.
 */
import type { RunStore, TenantRunResult } from '../ports.js';

export class RunCounterBuffer {
  private pending: TenantRunResult[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly runs: Pick<RunStore, 'recordTenants'>,
    private readonly runId: string,
    private readonly startedAt: string,
  ) {}

  /** Queue one tenant's result; written with whatever else is waiting once no write is in flight. */
  add(result: TenantRunResult): void {
    this.pending.push(result);
    this.kick();
  }

  private kick(): void {
    if (this.inFlight !== undefined || this.pending.length === 0 || this.failure !== undefined) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight = this.runs
      .recordTenants(this.runId, this.startedAt, batch)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.inFlight = undefined;
        this.kick();
      });
  }

  /** Resolves once every queued result is written; rejects with the first write's failure. */
  async drain(): Promise<void> {
    while (this.inFlight !== undefined || (this.pending.length > 0 && this.failure === undefined)) {
      this.kick();
      await this.inFlight;
    }
    if (this.failure !== undefined) throw this.failure.error;
  }
}
