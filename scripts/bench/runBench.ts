/** Runs the benchmark's workloads in order, each on its own fresh stack, and collects the figures. */
import os from 'node:os';
import { prepareChildScript } from './childScript.js';
import type { BenchPreset } from './presets.js';
import { machineInfo, type BenchResult, type FigureRow } from './report.js';
import { coldStartWorkload } from './workloads/coldStart.js';
import { fleetWorkload, type WorkloadResult } from './workloads/fleet.js';
import { memoryWorkload } from './workloads/memory.js';
import { quotaWorkload } from './workloads/quota.js';

export const WORKLOADS = ['fleet', 'quota', 'memory', 'coldstart'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  readonly mode: 'full' | 'smoke';
  readonly preset: BenchPreset;
  readonly only?: readonly WorkloadName[];
  /** Progress lines (stderr in the CLI). */
  readonly progress?: (line: string) => void;
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const wanted = new Set<WorkloadName>(options.only && options.only.length > 0 ? options.only : WORKLOADS);
  const say = options.progress ?? (() => undefined);
  const rows: FigureRow[] = [];
  const details: Record<string, unknown> = {};
  const record = (key: string, result: WorkloadResult) => {
    rows.push(...result.rows);
    details[key] = result.details;
    for (const row of result.rows) say(`  ${row.workload}: ${row.figure} = ${row.value}`);
  };

  const child = await prepareChildScript();
  try {
    const { preset } = options;
    if (wanted.has('fleet')) {
      say(
        `fleet: ${preset.fleet.tenants} tenants × ${preset.fleet.incidentsPerTenant} incidents, and the sequential baseline…`,
      );
      record('fleet', await fleetWorkload(preset.fleet, child));
    }
    if (wanted.has('quota')) {
      for (const q of preset.quota) {
        say(`quota: ${q.source}, ${q.incidents} incidents, time scale ×${q.timeScale}…`);
        record(`quota_${q.source}`, await quotaWorkload(q, child));
      }
    }
    if (wanted.has('memory')) {
      for (const [i, m] of preset.memory.entries()) {
        say(`memory: ${m.label}…`);
        record(`memory_${i + 1}`, await memoryWorkload(m.label, m.config, child));
      }
    }
    if (wanted.has('coldstart')) {
      say('cold start: bundled vs unbundled import…');
      record('coldStart', await coldStartWorkload(preset.coldStart));
    }
  } finally {
    await child.dispose();
  }
  return {
    mode: options.mode,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    machine: machineInfo(loadAtStart),
    rows,
    details,
  };
}
