/**
 * Azurite stopped mid-run and restarted (issue 5 §1): when the victim's `atPage`-th page is requested, storage
 * goes away for `downMs` while the run goes on. `process`: the persistent Azurite process is halted and started
 * again (same ports); Azurite's own persistence is lazy, so under load a restart can come back without its last
 * writes — a property of the emulator, not of Azure, reported as `dataSurvived`. `network`: Azurite keeps running
 * and a proxy in front of it cuts every connection and refuses new ones (what a storage outage looks like to the
 * collector, with durable data). Then a fresh process collects again and the store is compared with the truth.
 */
import type { SourceKind } from '../../shared/ports.js';
import { LEASE_MS } from '../../shared/usecases/collectTenant.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { addFigures, compareWithTruth, ZERO_TRUTH, type TruthFigures } from './storeTruth.js';
import { TableProxy, viaTablePort } from './tableProxy.js';
import { TenantAllocator } from './tenantAllocator.js';
import { CheckpointRecorder } from './checkpointRecorder.js';

export interface OutageOptions {
  /** A stack started with `azurite: { persistent: true }`. */
  readonly stack: LocalStack;
  readonly allocator: TenantAllocator;
  readonly source: SourceKind;
  readonly tenants: number;
  readonly incidents: number;
  readonly atPage: number;
  /**
   * How long storage stays away, in ms, or `'untilRunEnds'` (network mode only): back only once the outage run has
   * finished, so every tenant's write after the cut meets the outage whatever the machine's speed — what the test
   * suite uses; a wall-clock outage races the Table SDK's own retries (300 ms … 3 s, 3 retries).
   */
  readonly downMs: number | 'untilRunEnds';
  readonly mode: 'process' | 'network';
  readonly logLines: string[];
  readonly messages: string[];
}

export interface OutageRow extends TruthFigures {
  readonly source: SourceKind;
  readonly atPage: number;
  readonly mode: 'process' | 'network';
  readonly outageHappened: boolean;
  /** The tenants' rows were still there after the restart (always true for `network`). */
  readonly dataSurvived: boolean;
  /** Distinct errors of the rerun (empty when it recovered), for diagnosis. */
  readonly rerunErrors: readonly string[];
  /** Tenants that failed during the outage run (expected: storage is shared by all). */
  readonly failedDuringOutage: number;
  readonly checkpointRegressions: number;
  readonly notRecovered: number;
}

export async function storageOutage(options: OutageOptions): Promise<OutageRow> {
  const { stack } = options;
  const azurite = stack.azurite;
  if (!azurite) throw new Error('storageOutage needs Azurite');
  if (options.downMs === 'untilRunEnds' && options.mode !== 'network')
    throw new Error("storageOutage: downMs 'untilRunEnds' needs mode 'network' (process mode holds the page until up)");
  const tenants = options.allocator.allocate(options.tenants, options.incidents);
  const victim = tenants[0] as string;
  const proxy = await new TableProxy(azurite.tablePort, () => 'forward').start();
  const env = {
    ...stack.env,
    INCIDENT_SOURCE: options.source,
    SYNC_LAG_SECONDS: '0',
    TENANT_CONCURRENCY: '4',
    ...(options.mode === 'network' ? { AzureWebJobsStorage: viaTablePort(azurite.connectionString, proxy.port) } : {}),
  };
  const recorder = new CheckpointRecorder();
  const first = await collectorProcess({ env, logLines: options.logLines, recorder });
  await TenantAllocator.register(first.services.tenants, tenants);
  const down = options.mode === 'network' ? () => proxy.cut() : () => azurite.halt();
  const up = options.mode === 'network' ? () => proxy.start() : () => azurite.start();

  const api = options.source === 'graph' ? stack.graph : stack.legacy;
  let pages = 0;
  let restarted: Promise<unknown> | undefined;
  let runEnded!: () => void;
  const outageRunEnded = new Promise<void>((resolve) => (runEnded = resolve));
  const { downMs } = options;
  api.onRequest = async (req) => {
    if (restarted || req.kind !== 'incidents' || req.tenantId !== victim || ++pages < options.atPage) return;
    restarted = (async () => {
      await down();
      await (downMs === 'untilRunEnds' ? outageRunEnded : new Promise((resolve) => setTimeout(resolve, downMs)));
      await up();
    })();
    // Network mode: answer the victim's page at once, so its write of that page meets the outage (the collector
    // reads little from storage between pages, so an outage it does not write into may pass unnoticed).
    // Process mode: hold the page until the emulator is back (a restart takes its own time).
    if (options.mode === 'process') await restarted;
  };
  let run1;
  try {
    run1 = await runCollection(first.runDeps, { trigger: 'reliability', tenantIds: tenants }).catch(
      (error: unknown) => {
        options.messages.push(error instanceof Error ? error.message : String(error));
        return undefined;
      },
    );
  } finally {
    api.onRequest = undefined;
    runEnded();
    await restarted;
  }
  const dataSurvived =
    (await first.services.tenants.list()).filter((t) => tenants.includes(t.tenantId)).length === tenants.length;
  for (const r of run1?.tenants ?? []) if (r.error) options.messages.push(r.error.message);
  await recorder.observeStore(first.services.tenants, tenants);

  // A collection that ends while storage is still down cannot release its lease; by design the tenant is then
  // skipped (LEASE_HELD) until the lease expires, so two workers never collect it at once. The rerun stands for the
  // next run after that: its lease clock is LEASE_MS + 1 minute later.
  const later = { now: () => new Date(Date.now() + LEASE_MS + 60_000) };
  const second = await collectorProcess({ env, logLines: options.logLines, recorder, storageClock: later });
  const run2 = await runCollection(second.runDeps, { trigger: 'reliability', tenantIds: tenants });
  for (const r of run2.tenants) if (r.error) options.messages.push(r.error.message);
  const rerunErrors = [
    ...new Set(run2.tenants.flatMap((r) => (r.error ? [`${r.error.code}: ${r.error.message}`] : []))),
  ].slice(0, 3);
  await recorder.observeStore(second.services.tenants, tenants);
  let figures: TruthFigures = { ...ZERO_TRUTH };
  for (const t of tenants)
    figures = addFigures(
      figures,
      await compareWithTruth(second.services.snapshots, stack.world, options.source, t, stack.env.AzureWebJobsStorage),
    );
  await proxy.stop();
  return {
    source: options.source,
    atPage: options.atPage,
    mode: options.mode,
    outageHappened: restarted !== undefined,
    dataSurvived,
    rerunErrors,
    ...figures,
    failedDuringOutage: run1 ? run1.tenants.filter((r) => r.status !== 'ok').length : tenants.length,
    checkpointRegressions: recorder.regressions,
    notRecovered: run2.tenants.filter((r) => r.status !== 'ok').length,
  };
}
