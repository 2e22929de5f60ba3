/**
 * Memory: peak RSS of the collector process (not the simulators', not Azurite's) while collecting many small
 * tenants, and one very large tenant. Pages are streamed: the peak must not grow with the incident count.
 */
import { startBenchStack } from '../benchStack.js';
import type { ChildScript } from '../childScript.js';
import { runCollectorProcess } from '../collectorProcess.js';
import { seconds, type FigureRow } from '../report.js';
import { summarize, type WorkloadResult } from './fleet.js';

export interface MemoryConfig {
  readonly tenants: number;
  readonly incidentsPerTenant: number;
  readonly apiMs: number;
  readonly tokenMs: number;
  /** Quota time scale (simulator and limiter): a 50,000-incident tenant needs 1,000 Graph calls, 7 minutes at 150/min. */
  readonly timeScale?: number;
  /** V8 old-space cap in MB (`--max-old-space-size`), as an app setting `languageWorkers__node__arguments` would set it. */
  readonly maxOldSpaceMB?: number;
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
    // --expose-gc only lets the child measure what is still reachable after the run; it changes no GC behaviour.
    const nodeArgs = [
      '--expose-gc',
      ...(config.maxOldSpaceMB !== undefined ? [`--max-old-space-size=${config.maxOldSpaceMB}`] : []),
    ];
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
    const capped = config.maxOldSpaceMB !== undefined;
    const rows: FigureRow[] = [
      {
        workload: 'Memory',
        figure: `peak RSS, ${label} (${run.incidentsFetched} incidents in ${seconds(run.wallMs)}, ${(run.cpuMs / 1000).toFixed(1)} CPU s)`,
        value: `${run.maxRssMB.toFixed(0)} MB`,
        raw: run.maxRssMB,
        // The capped variant is information: the goal is judged on Node's defaults.
        ...(capped ? {} : { goal: '≤ 200 MB', met: run.maxRssMB <= 200 }),
      },
    ];
    if (run.retainedHeapMB !== undefined) {
      rows.push({
        workload: 'Memory',
        figure: `heap still reachable after the run, ${label}`,
        value: `${run.retainedHeapMB.toFixed(0)} MB`,
        raw: run.retainedHeapMB,
      });
    }
    return { rows, details: { config, run: summarize(run) } };
  } finally {
    await bench.stop();
  }
}
