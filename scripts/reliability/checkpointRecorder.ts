/**
 * A TenantStore wrapper that records the stored checkpoint after every checkpoint write (advanceCheckpoint and
 * patchWithCheckpoint calls) and
 * counts regressions: a stored checkpoint that is earlier than one recorded before for the same tenant.
 * Also usable across runs and processes: `observe` feeds checkpoints read back from the table.
 * `wrap` suits writers that take turns (one collection per tenant at a time, under its lease). Calls that overlap
 * may settle in any order, each returning the stored value at some instant during the call, so racing writers
 * are watched by a reader polling the row instead (see concurrency.ts).
 */
import { compareInstants } from '../../shared/domain/time.js';
import type { TenantStore } from '../../shared/ports.js';

export class CheckpointRecorder {
  private readonly highest = new Map<string, string>();
  regressions = 0;
  observations = 0;

  observe(tenantId: string, checkpoint: string | undefined): void {
    if (checkpoint === undefined) {
      if (this.highest.has(tenantId)) this.regressions++;
      return;
    }
    this.observations++;
    const before = this.highest.get(tenantId);
    if (before !== undefined && compareInstants(checkpoint, before) < 0) this.regressions++;
    if (before === undefined || compareInstants(checkpoint, before) > 0) this.highest.set(tenantId, checkpoint);
  }

  /** Observe every tenant's stored checkpoint now. */
  async observeStore(store: TenantStore, tenantIds: readonly string[]): Promise<void> {
    for (const id of tenantIds) this.observe(id, (await store.get(id))?.checkpoint);
  }

  wrap(store: TenantStore): TenantStore {
    return {
      get: (id) => store.get(id),
      list: () => store.list(),
      upsert: (id, patch) => store.upsert(id, patch),
      update: (id, patch) => store.update(id, patch),
      patch: (id, patch) => store.patch(id, patch),
      delete: (id) => store.delete(id),
      advanceCheckpoint: async (id, checkpoint) => {
        const stored = await store.advanceCheckpoint(id, checkpoint);
        this.observe(id, stored);
        return stored;
      },
      patchWithCheckpoint: async (id, patch, checkpoint) => {
        const stored = await store.patchWithCheckpoint(id, patch, checkpoint);
        this.observe(id, stored);
        return stored;
      },
    };
  }
}
