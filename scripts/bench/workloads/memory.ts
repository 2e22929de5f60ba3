/**
 * Memory: peak RSS of the collector process (not the simulators', not Azurite's) while collecting many small
 * tenants, and one very large tenant, with the Node flags the Bicep deploys (deployedSettings.ts) — the goal is
 * judged there. A run with Node's defaults is information: its CPU beside the deployed run's is what the heap cap
 * costs. Pages are streamed: the peak must not grow with the incident count.
 */
import { startBenchStack } from '../benchStack.js';
import type { ChildScript } from '../childScript.js';
import { runCollectorProcess } from '../collectorProcess.js';
import { deployedSettings } from '../deployedSettings.js';
import { seconds, type FigureRow } from '../report.js';
import { summarize, type WorkloadResult } from './fleet.js';

export interface MemoryConfig {
  readonly tenants: number;
  readonly incidentsPerTenant: number;
  readonly apiMs: number;
  readonly tokenMs: number;
  /** Quota time scale (simulator and limiter): a 50,000-incident tenant needs 1,000 Graph calls, 7 minutes at 150/min. */
  readonly timeScale?: number;
  /** `deployed`: the Bicep's Node flags (the goal); `defaults`: none (information, and the heap cap's CPU cost). */
  readonly node: 'deployed' | 'defaults';
}

export async function memoryWorkload(label: string, config: MemoryConfig, child: ChildScript): Promise<WorkloadResult> {
  const bench = await startBenchStack({
    tenants: config.tenants,
    incidentsPerTenant: config.incidentsPerTenant,
    latency: { apiMs: config.apiMs, tokenMs: config.tokenMs },
    ...(config.timeScale !== undefined ? { timeScale: config.timeScale } : {}),
    seed: 11,
  });
  try {
    const deployedArgs = config.node === 'deployed' ? deployedSettings().nodeArguments : [];
    // --expose-gc only lets the child measure what is still reachable after the run; it changes no GC behaviour.
    const nodeArgs = ['--expose-gc', ...deployedArgs];
    const run = await runCollectorProcess(
      child.path,
      bench.collectorEnv('graph'),
      config.timeScale !== undefined ? { timeScale: config.timeScale } : {},
      bench.azuritePid,
      nodeArgs,
    );
    const expected = config.tenants * config.incidentsPerTenant;
    if (run.failed.length > 0 || run.incidentsFetched < expected) {
      throw new Error(
        `The memory run (${label}) did not collect everything: ${run.incidentsFetched}/${expected}; ${run.failed.join('; ')}`,
      );
    }
    const deployed = config.node === 'deployed';
    const flags = deployed ? `as deployed: ${deployedArgs.join(' ') || 'no flags'}` : "Node's defaults";
    const rows: FigureRow[] = [
      {
        workload: 'Memory',
        figure: `peak RSS, ${label}, ${flags} (${run.incidentsFetched} incidents in ${seconds(run.wallMs)}, ${(run.cpuMs / 1000).toFixed(1)} CPU s)`,
        value: `${run.maxRssMB.toFixed(0)} MB`,
        raw: run.maxRssMB,
        // The goal is judged with the deployed flags; Node's defaults are information.
        ...(deployed ? { goal: '≤ 200 MB', met: run.maxRssMB <= 200 } : {}),
      },
    ];
    if (run.retainedHeapMB !== undefined) {
      rows.push({
        workload: 'Memory',
        figure: `heap still reachable after the run, ${label}, ${flags}`,
        value: `${run.retainedHeapMB.toFixed(0)} MB`,
        raw: run.retainedHeapMB,
      });
    }
    return { rows, details: { config, nodeArgs, cpuMs: run.cpuMs, run: summarize(run) } };
  } finally {
    await bench.stop();
  }
}

/** The heap cap's CPU cost: CPU with the deployed flags ÷ CPU with Node's defaults, same workload (information). */
export function heapCapCostRow(label: string, deployedCpuMs: number, defaultsCpuMs: number): FigureRow {
  const ratio = deployedCpuMs / defaultsCpuMs;
  return {
    workload: 'Memory',
    figure: `CPU of the deployed heap cap ÷ Node's defaults, ${label} (${(deployedCpuMs / 1000).toFixed(1)} / ${(defaultsCpuMs / 1000).toFixed(1)} CPU s)`,
    value: `${ratio.toFixed(2)}×`,
    raw: ratio,
  };
}
