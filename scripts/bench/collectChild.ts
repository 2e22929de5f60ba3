/**
 * The collector as its own process, so its time, CPU and peak RSS are the collector's alone (the simulators
 * and Azurite run elsewhere). Settings come from the environment exactly as in production; the benchmark's own
 * knobs come as JSON in BENCH_CHILD. Prints one JSON line (ChildReport) on stdout.
 */
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { RequestStats } from '../../shared/adapters/requestStats.js';
import { stderrLogger } from '../../shared/log.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { scaledSourceQuotas } from '../../devstack/scaledQuotas.js';
import type { ChildOptions, ChildReport } from './childProtocol.js';
import { countTableRoundTrips } from './tableRoundTrips.js';

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_CHILD ?? '{}') as ChildOptions;
  const tables = countTableRoundTrips();
  const stats = new RequestStats();
  const settings = loadSettings(process.env);
  const services = createServices(settings, {
    logger: stderrLogger('error'),
    env: process.env,
    tables: { additionalPolicies: tables.additionalPolicies },
    http: { stats },
    ...(options.timeScale !== undefined ? { quotas: scaledSourceQuotas(options.timeScale) } : {}),
  });
  await services.ready();
  // Table creation (ready) is start-up, not collection: count from here.
  const before = tables.total();
  const kindsBefore = tables.byKind();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // The sequential baseline is the product itself at concurrency 1: the same per-tenant page pipeline.
  const deps = { ...services.runDeps(), ...(options.sequential ? { concurrency: 1 } : {}) };
  const summary = await runCollection(deps, {
    trigger: 'bench',
    ...(options.tenantIds ? { tenantIds: options.tenantIds } : {}),
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  // With --expose-gc (BENCH_NODE_ARGS): what is still reachable after the run, as opposed to garbage.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const retainedMB = gc ? process.memoryUsage().heapUsed / 2 ** 20 : undefined;
  const report: ChildReport = {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    ...(retainedMB !== undefined ? { retainedHeapMB: retainedMB } : {}),
    tenants: summary.tenants.length,
    ok: summary.tenants.filter((t) => t.status === 'ok').length,
    failed: summary.tenants
      .filter((t) => t.status === 'failed')
      .map((t) => `${t.tenantId}: ${t.error?.code ?? '?'}`)
      .slice(0, 5),
    pagesPerTenant: summary.tenants.map((t) => t.pages),
    changedPerTenant: summary.tenants.map((t) => t.incidentsChanged),
    incidentsFetched: summary.tenants.reduce((sum, t) => sum + t.incidentsFetched, 0),
    incidentsChanged: summary.tenants.reduce((sum, t) => sum + t.incidentsChanged, 0),
    tableRoundTrips: tables.total() - before,
    tableByKind: Object.fromEntries(
      Object.entries(tables.byKind())
        .map(([k, n]) => [k, n - (kindsBefore[k] ?? 0)])
        .filter(([, n]) => n !== 0),
    ),
    batchedOperations: tables.batchedOperations(),
    api: stats.get(),
    concurrency: deps.concurrency,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
