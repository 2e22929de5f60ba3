/**
 * Fleet: many tenants × incidents with injected API and token latency, collected by one process at the
 * configured TENANT_CONCURRENCY, against the lower bound that concurrency, page counts and latency allow.
 * Versus sequential: a subset of fresh tenants from the same stack, collected one tenant at a time (concurrency
 * 1) with the product's normal page pipeline, scaled per tenant to the fleet's size: the speed-up is what tenant
 * concurrency buys. The subset runs first, on the emptier Azurite, so the comparison does not favour the fleet.
 */
import { DEFAULT_TENANT_CONCURRENCY } from '../../../shared/config/settings.js';
import { startBenchStack } from '../benchStack.js';
import type { ChildScript } from '../childScript.js';
import { runCollectorProcess, type CollectorRun } from '../collectorProcess.js';
import { fleetLowerBoundMs } from '../lowerBound.js';
import { ratio, seconds, type FigureRow } from '../report.js';

export interface FleetConfig {
  readonly tenants: number;
  readonly incidentsPerTenant: number;
  readonly apiMs: number;
  readonly tokenMs: number;
  /** TENANT_CONCURRENCY for the fleet run (default: the product default). */
  readonly concurrency?: number;
  /** Tenants in the sequential baseline, collected at concurrency 1 (its time is scaled to `tenants`). */
  readonly sequentialTenants: number;
}

export interface WorkloadResult {
  readonly rows: FigureRow[];
  readonly details: Record<string, unknown>;
}

export async function fleetWorkload(config: FleetConfig, child: ChildScript): Promise<WorkloadResult> {
  const concurrency = config.concurrency ?? DEFAULT_TENANT_CONCURRENCY;
  const bench = await startBenchStack({
    tenants: config.sequentialTenants + config.tenants,
    incidentsPerTenant: config.incidentsPerTenant,
    latency: { apiMs: config.apiMs, tokenMs: config.tokenMs },
  });
  try {
    const sequentialIds = bench.tenantIds.slice(0, config.sequentialTenants);
    const fleetIds = bench.tenantIds.slice(config.sequentialTenants);
    const env = bench.collectorEnv('graph', { TENANT_CONCURRENCY: String(concurrency) });
    const sequential = await runCollectorProcess(
      child.path,
      env,
      { sequential: true, tenantIds: sequentialIds },
      bench.azuritePid,
    );
    const fleet = await runCollectorProcess(child.path, env, { tenantIds: fleetIds }, bench.azuritePid);
    assertComplete('fleet', fleet, config);
    assertComplete('sequential', sequential, config);

    const boundMs = fleetLowerBoundMs({
      pagesPerTenant: fleet.pagesPerTenant,
      concurrency,
      apiMs: config.apiMs,
      tokenMs: config.tokenMs,
    });
    const sequentialScaledMs = (sequential.wallMs / config.sequentialTenants) * config.tenants;
    const speedUp = sequentialScaledMs / fleet.wallMs;
    const name = `Fleet ${config.tenants}×${config.incidentsPerTenant}`;
    const rows: FigureRow[] = [
      {
        workload: name,
        figure: `wall time (TENANT_CONCURRENCY=${concurrency})`,
        value: seconds(fleet.wallMs),
        raw: fleet.wallMs,
      },
      {
        workload: name,
        figure: 'lower bound (token + pages × API latency ÷ concurrency)',
        value: seconds(boundMs),
        raw: boundMs,
      },
      {
        workload: name,
        figure: 'ratio wall ÷ lower bound',
        value: ratio(fleet.wallMs / boundMs),
        raw: fleet.wallMs / boundMs,
        goal: '≤ 1.25',
        met: fleet.wallMs / boundMs <= 1.25,
      },
      {
        workload: name,
        figure: `CPU s: collector / simulators / Azurite (${seconds(fleet.wallMs)} wall)`,
        value: `${cpu(fleet.cpuMs)} / ${cpu(fleet.simulatorCpuMs)} / ${fleet.azuriteCpuMs === undefined ? '?' : cpu(fleet.azuriteCpuMs)}`,
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
    return {
      rows,
      details: {
        config: { ...config, concurrency },
        lowerBoundMs: boundMs,
        sequentialScaledMs,
        fleet: summarize(fleet),
        sequential: summarize(sequential),
      },
    };
  } finally {
    await bench.stop();
  }
}

const cpu = (ms: number): string => (ms / 1000).toFixed(1);

function assertComplete(what: string, run: CollectorRun, config: FleetConfig): void {
  const expected = run.tenants * config.incidentsPerTenant;
  if (run.failed.length > 0 || run.incidentsFetched < expected) {
    throw new Error(
      `The ${what} run did not collect everything: ${run.ok}/${run.tenants} ok, ${run.incidentsFetched}/${expected} incidents; ${run.failed.join('; ')}`,
    );
  }
}

/** The child report without the long per-tenant list. */
export function summarize(run: CollectorRun): Record<string, unknown> {
  const { pagesPerTenant, ...rest } = run;
  return { ...rest, pages: pagesPerTenant.reduce((sum, p) => sum + p, 0) };
}
