/**
 * Concurrency (issue 5 §2): two overlapping runs from two processes over the same tenants, a duplicate delivery
 * of one tenant inside one run, and many writers racing on one checkpoint. No regression, no lost update, and
 * the store equals the truth.
 */
import { compareInstants, shiftFixedWidth, toFixedWidth } from '../../shared/domain/time.js';
import type { SourceKind } from '../../shared/ports.js';
import { collectTenant } from '../../shared/usecases/collectTenant.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { addFigures, compareWithTruth, ZERO_TRUTH, type TruthFigures } from './storeTruth.js';
import { TenantAllocator } from './tenantAllocator.js';
import { CheckpointRecorder } from './checkpointRecorder.js';

export interface ConcurrencyRow extends TruthFigures {
  readonly source: SourceKind;
  readonly tenants: number;
  /** Collections that ran (the others found the lease held). */
  readonly collected: number;
  readonly leaseHeld: number;
  readonly checkpointRegressions: number;
  /** Checkpoint racers: the final value must be the highest any writer offered. */
  readonly lostCheckpointUpdates: number;
}

export async function measureConcurrency(
  stack: LocalStack,
  allocator: TenantAllocator,
  source: SourceKind,
  tenantsCount: number,
  logLines: string[],
): Promise<ConcurrencyRow> {
  const tenants = allocator.allocate(tenantsCount, 120);
  const env = { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0', TENANT_CONCURRENCY: '4' };
  const recorder = new CheckpointRecorder();
  const a = await collectorProcess({ env, logLines, recorder });
  const b = await collectorProcess({ env, logLines, recorder });
  await TenantAllocator.register(a.services.tenants, tenants);

  // Overlapping runs (two processes) plus a duplicate delivery of the first tenant in a third "worker".
  const [runA, runB, dup] = await Promise.all([
    runCollection(a.runDeps, { trigger: 'overlap-a', tenantIds: tenants }),
    runCollection(b.runDeps, { trigger: 'overlap-b', tenantIds: tenants }),
    collectTenant(b.runDeps, { tenantId: tenants[0] as string, runId: 'duplicate', owner: 'duplicate-message' }),
  ]);
  const results = [...runA.tenants, ...runB.tenants, dup];
  const collected = results.filter((r) => r.status === 'ok').length;
  const leaseHeld = results.filter((r) => r.error?.code === 'LEASE_HELD').length;

  // A tenant whose runs all lost the lease race is collected by the next run, as the platform would redeliver.
  await runCollection(a.runDeps, { trigger: 'after', tenantIds: tenants });
  await recorder.observeStore(a.services.tenants, tenants);

  // Checkpoint racers: 24 writers offer shuffled values around the current checkpoint at once. The values the
  // racers return are not observed: each is the stored value at some instant during its own call, and
  // overlapping calls may settle in any order. Regressions are watched by a reader polling the row one read
  // after another while the racers run, so its observations are in the store's own order.
  let lost = 0;
  for (const tenant of tenants) {
    const current = (await a.services.tenants.get(tenant))?.checkpoint as string;
    const offers = Array.from({ length: 24 }, (_, i) => shiftFixedWidth(toFixedWidth(current), (i - 8) * 1_000));
    offers.sort(() => Math.random() - 0.5);
    let racing = true;
    const poller = (async () => {
      while (racing) recorder.observe(tenant, (await a.services.tenants.get(tenant))?.checkpoint);
    })();
    try {
      await Promise.all(offers.map((w, i) => (i % 2 === 0 ? a : b).services.tenants.advanceCheckpoint(tenant, w)));
    } finally {
      racing = false;
      await poller;
    }
    const highest = offers.reduce((m, w) => (compareInstants(w, m) > 0 ? w : m));
    const stored = (await a.services.tenants.get(tenant))?.checkpoint as string;
    if (compareInstants(stored, highest) !== 0) lost++;
  }
  await recorder.observeStore(a.services.tenants, tenants);

  let figures: TruthFigures = { ...ZERO_TRUTH };
  for (const t of tenants)
    figures = addFigures(
      figures,
      await compareWithTruth(a.services.snapshots, stack.world, source, t, stack.env.AzureWebJobsStorage),
    );
  return {
    source,
    tenants: tenants.length,
    collected,
    leaseHeld,
    ...figures,
    checkpointRegressions: recorder.regressions,
    lostCheckpointUpdates: lost,
  };
}
