/**
 * The hourly run, latency-bound (issue 15 goals 2 and 3): many tenants already collected once, each with 0–5
 * incidents changed since, collected with partner-like latencies — `apiMs` per API answer, `tokenMs` per token and
 * `tableMs` per Table round trip (TableLatencyProxy in front of Azurite, like an in-region Azure Table).
 *
 * Steps on one stack: a backfill without latency (set-up, not measured); the changes (world.mutate); then, with
 * latency on, a sequential baseline over a subset of tenants (concurrency 1, the product's own pipeline), the
 * hourly run over the rest at the product default TENANT_CONCURRENCY, and two small runs over unchanged tenants
 * whose difference is the fixed Table round trips one tenant with no change costs (run-level calls cancel out).
 *
 * The lower bound counts only the unavoidable, per tenant: one token, its pages × API latency, and per Table round
 * trip that must happen — one transaction per table a changed tenant's versions touch (history with its events,
 * latest), and one checkpoint write — then spreads the sum over the concurrency (never below the longest tenant).
 */
import { gzipSync } from 'node:zlib';
import { DEFAULT_TENANT_CONCURRENCY } from '../../../shared/config/settings.js';
import { MAX_BATCH_OPERATIONS } from '../../../shared/adapters/tables/batchPlanner.js';
import { viaTablePort } from '../../reliability/tableProxy.js';
import { startBenchStack, type BenchStack } from '../benchStack.js';
import type { ChildScript } from '../childScript.js';
import { runCollectorProcess, type CollectorRun } from '../collectorProcess.js';
import { HOURS_PER_MONTH, monthlyCost, PRICES, totalUsd, type CostLine } from '../costModel.js';
import { deployedSettings } from '../deployedSettings.js';
import { ratio, seconds, type FigureRow } from '../report.js';
import { TableLatencyProxy } from '../tableLatencyProxy.js';
import { summarize, type WorkloadResult } from './fleet.js';

export interface HourlyConfig {
  /** Tenants of the measured hourly run. */
  readonly tenants: number;
  /** Incidents seeded per tenant (collected by the set-up backfill). */
  readonly incidentsPerTenant: number;
  /** Tenant i gets i mod (maxChanges + 1) changed incidents: 0 … maxChanges, evenly. */
  readonly maxChanges: number;
  readonly apiMs: number;
  readonly tokenMs: number;
  /** Added to each Table round trip by the proxy. */
  readonly tableMs: number;
  /** Tenants of the sequential baseline (extra tenants, same change pattern); its time is scaled to `tenants`. */
  readonly sequentialTenants: number;
  /** Unchanged tenants of the two fixed-cost runs (small, large); their round-trip difference ÷ count difference. */
  readonly fixedProbe: readonly [number, number];
  /** TENANT_CONCURRENCY (default: the product default). */
  readonly concurrency?: number;
}

/** What one tenant of the hourly run cannot avoid, in ms (see the module docstring). */
export function hourlyTenantFloorMs(
  pages: number,
  changed: number,
  latency: { readonly apiMs: number; readonly tokenMs: number; readonly tableMs: number },
  tablesPerVersion: { readonly history: number; readonly latest: number } = { history: 2, latest: 1 },
): number {
  const writes =
    changed > 0
      ? Math.ceil((changed * tablesPerVersion.history) / MAX_BATCH_OPERATIONS) +
        Math.ceil((changed * tablesPerVersion.latest) / MAX_BATCH_OPERATIONS)
      : 0;
  return latency.tokenMs + pages * latency.apiMs + (writes + 1) * latency.tableMs;
}

/** The run's lower bound: Σ per-tenant floors ÷ concurrency, never below the longest single tenant. */
export function hourlyLowerBoundMs(perTenantMs: readonly number[], concurrency: number): number {
  const total = perTenantMs.reduce((sum, ms) => sum + ms, 0);
  const lanes = Math.max(1, Math.min(concurrency, perTenantMs.length));
  return Math.max(total / lanes, ...perTenantMs, 0);
}

export interface HourlyMeasurement {
  readonly hourly: CollectorRun;
  readonly sequential: CollectorRun;
  readonly fixedRoundTripsPerTenant: number;
  readonly lowerBoundMs: number;
  readonly concurrency: number;
  readonly config: HourlyConfig;
  /** Mean UTF-8 JSON and gzip sizes of the stack's incidents, bytes (for the cost model). */
  readonly meanIncidentBytes: number;
  readonly meanCompressedBytes: number;
}

/** A bench stack whose tenants were collected once (the set-up backfill, without latency), and its collector env. */
export async function startCollectedStack(
  options: { readonly tenants: number; readonly incidentsPerTenant: number; readonly seed: number },
  child: ChildScript,
): Promise<{ bench: BenchStack; base: Record<string, string> }> {
  const bench = await startBenchStack(options);
  try {
    // Incidents changed "now" are inside the window only without the lag (SYNC_LAG_SECONDS=0 is valid, design §3).
    const base = bench.collectorEnv('graph', { SYNC_LAG_SECONDS: '0' });
    const backfill = await runCollectorProcess(child.path, { ...base, TENANT_CONCURRENCY: '32' }, {}, bench.azuritePid);
    if (backfill.failed.length > 0) throw new Error(`The hourly set-up backfill failed: ${backfill.failed.join('; ')}`);
    return { bench, base };
  } catch (error) {
    await bench.stop();
    throw error;
  }
}

/**
 * The hourly change pattern: tenant i of `tenantIds` gets i mod (maxChanges + 1) of its incidents changed now
 * (world.mutate). Calling it again before the next run gives that run the same amount of change. Returns the count
 * per tenant.
 */
export function changeTenants(
  bench: BenchStack,
  tenantIds: readonly string[],
  maxChanges: number,
): Map<string, number> {
  const changes = new Map<string, number>();
  for (const [i, tenantId] of tenantIds.entries()) {
    const count = i % (maxChanges + 1);
    changes.set(tenantId, count);
    const ids = bench.stack.world.graphIncidents(tenantId).map((incident) => String(incident.id));
    for (const id of ids.slice(0, count)) bench.stack.world.mutate(tenantId, id);
  }
  return changes;
}

/**
 * Partner-like latency from here on: `apiMs` per API answer, `tokenMs` per token on the simulators, and a
 * TableLatencyProxy adding `tableMs` per Table round trip, with the collector env pointed through it.
 */
export async function withLatency(
  bench: BenchStack,
  base: Record<string, string>,
  latency: { readonly apiMs: number; readonly tokenMs: number; readonly tableMs: number },
): Promise<{ proxy: TableLatencyProxy; env: Record<string, string> }> {
  bench.stack.graph.latencyMs = latency.apiMs;
  bench.stack.entra.latencyMs = latency.tokenMs;
  const azurite = bench.stack.azurite;
  if (!azurite) throw new Error('The hourly workload needs Azurite.');
  const proxy = await new TableLatencyProxy(azurite.tablePort, latency.tableMs).start();
  return { proxy, env: { ...base, AzureWebJobsStorage: viaTablePort(azurite.connectionString, proxy.port) } };
}

export async function measureHourly(config: HourlyConfig, child: ChildScript): Promise<HourlyMeasurement> {
  const concurrency = config.concurrency ?? DEFAULT_TENANT_CONCURRENCY;
  const [fewProbe, manyProbe] = config.fixedProbe;
  if (!(manyProbe > fewProbe && fewProbe >= 1)) throw new RangeError('fixedProbe must be [a, b] with 1 ≤ a < b.');
  const { bench, base } = await startCollectedStack(
    { tenants: config.sequentialTenants + config.tenants, incidentsPerTenant: config.incidentsPerTenant, seed: 21 },
    child,
  );
  let proxy: TableLatencyProxy | undefined;
  try {
    const changes = changeTenants(bench, bench.tenantIds, config.maxChanges);
    const latent = await withLatency(bench, base, config);
    proxy = latent.proxy;
    const env = { ...latent.env, TENANT_CONCURRENCY: String(concurrency) };

    const sequentialIds = bench.tenantIds.slice(0, config.sequentialTenants);
    const hourlyIds = bench.tenantIds.slice(config.sequentialTenants);
    const sequential = await runCollectorProcess(
      child.path,
      env,
      { sequential: true, tenantIds: sequentialIds },
      bench.azuritePid,
    );
    const hourly = await runCollectorProcess(child.path, env, { tenantIds: hourlyIds }, bench.azuritePid);
    for (const [what, run] of [
      ['sequential', sequential],
      ['hourly', hourly],
    ] as const) {
      if (run.failed.length > 0 || run.ok !== run.tenants)
        throw new Error(
          `The ${what} run did not collect every tenant: ${run.ok}/${run.tenants}; ${run.failed.join('; ')}`,
        );
    }
    const expectedChanged = hourlyIds.reduce((sum, id) => sum + (changes.get(id) ?? 0), 0);
    if (hourly.incidentsChanged < expectedChanged)
      throw new Error(`The hourly run wrote ${hourly.incidentsChanged} of ${expectedChanged} changed incidents.`);

    // Fixed cost of a tenant with no change: two runs over unchanged tenants, the difference per tenant.
    const unchanged = hourlyIds.filter((id) => changes.get(id) === 0);
    if (unchanged.length < manyProbe) throw new Error(`Only ${unchanged.length} unchanged tenants for the probe.`);
    const few = await runCollectorProcess(child.path, env, { tenantIds: unchanged.slice(0, fewProbe) });
    const many = await runCollectorProcess(child.path, env, { tenantIds: unchanged.slice(0, manyProbe) });
    const fixedRoundTripsPerTenant = (many.tableRoundTrips - few.tableRoundTrips) / (manyProbe - fewProbe);

    let jsonBytes = 0;
    let gzBytes = 0;
    let sampled = 0;
    for (const tenantId of bench.tenantIds.slice(0, 20)) {
      for (const incident of bench.stack.world.graphIncidents(tenantId)) {
        const json = Buffer.from(JSON.stringify(incident), 'utf8');
        jsonBytes += json.byteLength;
        gzBytes += gzipSync(json).byteLength;
        sampled++;
      }
    }

    const latency = { apiMs: config.apiMs, tokenMs: config.tokenMs, tableMs: config.tableMs };
    const perTenant = hourly.pagesPerTenant.map((pages, i) =>
      hourlyTenantFloorMs(pages, hourly.changedPerTenant[i] ?? 0, latency),
    );
    return {
      hourly,
      sequential,
      fixedRoundTripsPerTenant,
      lowerBoundMs: hourlyLowerBoundMs(perTenant, concurrency),
      concurrency,
      config,
      meanIncidentBytes: jsonBytes / Math.max(1, sampled),
      meanCompressedBytes: gzBytes / Math.max(1, sampled),
    };
  } finally {
    await proxy?.stop();
    await bench.stop();
  }
}

export function hourlyRows(m: HourlyMeasurement): FigureRow[] {
  const { config, hourly, sequential } = m;
  const name = `Hourly ${config.tenants} tenants`;
  const wallRatio = hourly.wallMs / m.lowerBoundMs;
  const sequentialScaledMs = (sequential.wallMs / config.sequentialTenants) * config.tenants;
  const speedUp = sequentialScaledMs / hourly.wallMs;
  const latencyText = `${config.apiMs} ms API, ${config.tokenMs} ms token, ${config.tableMs} ms Table`;
  return [
    {
      workload: name,
      figure: `wall time (TENANT_CONCURRENCY=${m.concurrency}, 0–${config.maxChanges} changes each, ${latencyText}; ${hourly.incidentsChanged} versions)`,
      value: seconds(hourly.wallMs),
      raw: hourly.wallMs,
    },
    {
      workload: name,
      figure: 'lower bound (token + pages × API + needed transactions + checkpoint, ÷ concurrency)',
      value: seconds(m.lowerBoundMs),
      raw: m.lowerBoundMs,
    },
    {
      workload: name,
      figure: 'ratio wall ÷ lower bound',
      value: ratio(wallRatio),
      raw: wallRatio,
      goal: '≤ 1.3',
      met: wallRatio <= 1.3,
    },
    {
      workload: name,
      figure: `fixed Table round trips per tenant with no change (runs of ${m.config.fixedProbe.join(' and ')} tenants)`,
      value: m.fixedRoundTripsPerTenant.toFixed(1),
      raw: m.fixedRoundTripsPerTenant,
      goal: '≤ 5',
      met: m.fixedRoundTripsPerTenant <= 5,
    },
    {
      workload: name,
      figure: `CPU s: collector / simulators / Azurite (${seconds(hourly.wallMs)} wall)`,
      value: `${(hourly.cpuMs / 1000).toFixed(1)} / ${(hourly.simulatorCpuMs / 1000).toFixed(1)} / ${hourly.azuriteCpuMs === undefined ? '?' : (hourly.azuriteCpuMs / 1000).toFixed(1)}`,
    },
    {
      workload: 'Versus sequential',
      figure: `speed-up (${config.sequentialTenants} tenants at concurrency 1, ${seconds(sequential.wallMs)}, scaled ×${(config.tenants / config.sequentialTenants).toFixed(0)})`,
      value: `${speedUp.toFixed(1)}×`,
      raw: speedUp,
      goal: '≥ 20×',
      met: speedUp >= 20,
    },
  ];
}

/** Issue 15 goal 7: the monthly cost per 1,000 tenants from this run's counts (information rows). */
export function costRows(m: HourlyMeasurement, instanceMemoryMB: number): { rows: FigureRow[]; lines: CostLine[] } {
  const input = {
    tenants: m.hourly.tenants,
    wallMs: m.hourly.wallMs,
    instanceMemoryMB,
    tableRoundTrips: m.hourly.tableRoundTrips,
    versionsWritten: m.hourly.incidentsChanged,
    meanCompressedBytes: m.meanCompressedBytes,
    meanIncidentBytes: m.meanIncidentBytes,
  };
  const withLogs = monthlyCost(input, true);
  const lines = withLogs.filter((l) => !l.item.startsWith('Logs Ingestion'));
  const changesPerTenant = m.hourly.incidentsChanged / m.hourly.tenants;
  const rows: FigureRow[] = lines.map((l) => ({
    workload: 'Cost / month / 1,000 tenants',
    figure: `${l.item} (${formatQuantity(l.quantity)} ${l.unit})`,
    value: `$${l.usd.toFixed(2)}`,
    raw: l.usd,
  }));
  const logs = withLogs.find((l) => l.item.startsWith('Logs Ingestion'));
  if (logs)
    rows.push({
      workload: 'Cost / month / 1,000 tenants',
      figure: `${logs.item} (${formatQuantity(logs.quantity)} ${logs.unit})`,
      value: `$${logs.usd.toFixed(2)}`,
      raw: logs.usd,
    });
  rows.push({
    workload: 'Cost / month / 1,000 tenants',
    figure: `total without / with the Logs Ingestion sink (${HOURS_PER_MONTH} hourly runs, ${changesPerTenant.toFixed(1)} changed incidents per tenant per run, list prices of ${PRICES.asOf}: see docs/performance.md)`,
    value: `$${totalUsd(lines).toFixed(2)} / $${totalUsd(withLogs).toFixed(2)}`,
    raw: totalUsd(lines),
  });
  return { rows, lines: withLogs };
}

function formatQuantity(q: number): string {
  if (q >= 1e6) return `${(q / 1e6).toFixed(2)} M`;
  if (q >= 1e3) return `${(q / 1e3).toFixed(1)} k`;
  return q < 10 ? q.toFixed(2) : q.toFixed(0);
}

export async function hourlyWorkload(config: HourlyConfig, child: ChildScript): Promise<WorkloadResult> {
  const m = await measureHourly(config, child);
  const cost = costRows(m, deployedSettings().instanceMemoryMB);
  return {
    rows: [...hourlyRows(m), ...cost.rows],
    details: {
      cost: { prices: PRICES, lines: cost.lines },
      meanIncidentBytes: m.meanIncidentBytes,
      meanCompressedBytes: m.meanCompressedBytes,
      config: { ...config, concurrency: m.concurrency },
      lowerBoundMs: m.lowerBoundMs,
      fixedRoundTripsPerTenant: m.fixedRoundTripsPerTenant,
      hourly: summarize(m.hourly),
      sequential: summarize(m.sequential),
    },
  };
}
