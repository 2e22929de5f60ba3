/**
 * Fleet (the Graph backfill): many tenants × incidents with injected API and token latency, collected by one
 * process at the configured TENANT_CONCURRENCY. Its goal figure is the collector's CPU per incident version
 * against the floor (cpuFloor.ts) measured in the same run on the same seeded incidents; the wall time against
 * the latency bound is information here (a backfill on 2 shared cores is CPU-bound: the latency-bound goal is
 * judged in the hourly workload).
 */
import { DEFAULT_TENANT_CONCURRENCY } from '../../../shared/config/settings.js';
import { demoTenants } from '../../../devstack/demoTenants.js';
import { startBenchStack } from '../benchStack.js';
import { measureCpuFloor, type CpuFloor } from '../cpuFloor.js';
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
  /** Fleet tenants whose incidents the CPU floor is measured on (default 20). */
  readonly floorTenants?: number;
}

export interface WorkloadResult {
  readonly rows: FigureRow[];
  readonly details: Record<string, unknown>;
}

export async function fleetWorkload(config: FleetConfig, child: ChildScript): Promise<WorkloadResult> {
  const concurrency = config.concurrency ?? DEFAULT_TENANT_CONCURRENCY;
  // The floor first, while this process has nothing else to do: the same seeded incidents the fleet collects.
  const specs = demoTenants(config.tenants, { seed: 1, incidents: config.incidentsPerTenant });
  const floor = measureCpuFloor({ specs: specs.slice(0, config.floorTenants ?? 20) });
  const bench = await startBenchStack({
    tenants: config.tenants,
    incidentsPerTenant: config.incidentsPerTenant,
    latency: { apiMs: config.apiMs, tokenMs: config.tokenMs },
  });
  try {
    const env = bench.collectorEnv('graph', { TENANT_CONCURRENCY: String(concurrency) });
    const fleet = await runCollectorProcess(child.path, env, {}, bench.azuritePid);
    assertComplete('fleet', fleet, config);

    const boundMs = fleetLowerBoundMs({
      pagesPerTenant: fleet.pagesPerTenant,
      concurrency,
      apiMs: config.apiMs,
      tokenMs: config.tokenMs,
    });
    const name = `Fleet ${config.tenants}×${config.incidentsPerTenant}`;
    const rows: FigureRow[] = [
      ...cpuPerVersionRows(fleet, floor),
      {
        workload: name,
        figure: `backfill wall time (TENANT_CONCURRENCY=${concurrency}) ÷ latency bound (${seconds(boundMs)})`,
        value: `${seconds(fleet.wallMs)} (${ratio(fleet.wallMs / boundMs)})`,
        raw: fleet.wallMs / boundMs,
      },
      {
        workload: name,
        figure: `CPU s: collector / simulators / Azurite (${seconds(fleet.wallMs)} wall)`,
        value: `${cpu(fleet.cpuMs)} / ${cpu(fleet.simulatorCpuMs)} / ${fleet.azuriteCpuMs === undefined ? '?' : cpu(fleet.azuriteCpuMs)}`,
      },
    ];
    return {
      rows,
      details: {
        config: { ...config, concurrency },
        cpuFloor: floor,
        lowerBoundMs: boundMs,
        fleet: summarize(fleet),
      },
    };
  } finally {
    await bench.stop();
  }
}

const cpu = (ms: number): string => (ms / 1000).toFixed(1);

/** Issue 15 goal 1: the collector's CPU per incident version written, beside the floor and their ratio. */
export function cpuPerVersionRows(run: CollectorRun, floor: CpuFloor): FigureRow[] {
  const perVersion = run.cpuMs / Math.max(1, run.incidentsChanged);
  const ratioToFloor = perVersion / floor.msPerIncident;
  const kb = (floor.meanIncidentBytes / 1024).toFixed(1);
  return [
    {
      workload: 'CPU per version',
      figure: `collector CPU per incident version (${run.incidentsChanged} versions, ${kb} KB each)`,
      value: `${perVersion.toFixed(3)} ms`,
      raw: perVersion,
    },
    {
      workload: 'CPU per version',
      figure: `floor: JSON.parse pages + stringify, gzip, base64 once (${floor.incidents} incidents, same run)`,
      value: `${floor.msPerIncident.toFixed(3)} ms`,
      raw: floor.msPerIncident,
    },
    {
      workload: 'CPU per version',
      figure: 'ratio collector ÷ floor',
      value: ratio(ratioToFloor),
      raw: ratioToFloor,
      goal: '≤ 1.5',
      met: ratioToFloor <= 1.5,
    },
  ];
}

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
  const { pagesPerTenant, changedPerTenant: _changed, ...rest } = run;
  return { ...rest, pages: pagesPerTenant.reduce((sum, p) => sum + p, 0) };
}
