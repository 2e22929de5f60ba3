/** Runs the benchmark's workloads in order, each on its own fresh stack, and collects the figures. */
import os from 'node:os';
import { prepareChildScript } from './childScript.js';
import type { BenchPreset } from './presets.js';
import { machineInfo, type BenchResult, type FigureRow } from './report.js';
import { coldStartWorkload } from './workloads/coldStart.js';
import { fleetWorkload, type WorkloadResult } from './workloads/fleet.js';
import { hourlyWorkload } from './workloads/hourly.js';
import { heapCapCostRow, memoryWorkload } from './workloads/memory.js';
import { quotaWorkload } from './workloads/quota.js';
import { deliveryVersusCollectionRow, deliveryWorkload } from './workloads/delivery.js';
import type { CostLine } from './costModel.js';
import { scaleoutWorkload } from './workloads/scaleout.js';

export const WORKLOADS = [
  'fleet',
  'hourly',
  'scaleout',
  'quota',
  'memory',
  'coldstart',
  // Delivery: events per second delivered and what recording an event costs (issue 11), its cost lines (issue 15).
  'delivery',
] as const;
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
      say(`fleet: the CPU floor, then ${preset.fleet.tenants} tenants × ${preset.fleet.incidentsPerTenant} incidents…`);
      record('fleet', await fleetWorkload(preset.fleet, child));
    }
    if (wanted.has('hourly')) {
      const h = preset.hourly;
      say(
        `hourly: set-up backfill, then ${h.tenants} tenants with 0–${h.maxChanges} changes, ${h.apiMs}/${h.tokenMs}/${h.tableMs} ms latency, and the sequential baseline…`,
      );
      record('hourly', await hourlyWorkload(h, child));
    }
    if (wanted.has('scaleout')) {
      const s = preset.scaleout;
      say(
        `scaleout: set-up backfill, then ${s.tenants} tenants through the queue with ${s.workers.join(', ')} worker processes…`,
      );
      record('scaleout', await scaleoutWorkload(s, child));
    }
    if (wanted.has('quota')) {
      for (const q of preset.quota) {
        say(`quota: ${q.source}, ${q.incidents} incidents, time scale ×${q.timeScale}…`);
        record(`quota_${q.source}`, await quotaWorkload(q, child));
      }
    }
    if (wanted.has('memory')) {
      const cpuOf = new Map<string, number>();
      for (const [i, m] of preset.memory.entries()) {
        say(`memory: ${m.label} (${m.config.node === 'deployed' ? 'Node flags as deployed' : "Node's defaults"})…`);
        const result = await memoryWorkload(m.label, m.config, child);
        record(`memory_${i + 1}`, result);
        cpuOf.set(`${m.label}|${m.config.node}`, result.details.cpuMs as number);
      }
      for (const m of preset.memory.filter((x) => x.config.node === 'deployed')) {
        const deployed = cpuOf.get(`${m.label}|deployed`);
        const defaults = cpuOf.get(`${m.label}|defaults`);
        if (deployed !== undefined && defaults !== undefined) {
          const row = heapCapCostRow(m.label, deployed, defaults);
          rows.push(row);
          say(`  ${row.workload}: ${row.figure} = ${row.value}`);
        }
      }
    }
    if (wanted.has('coldstart')) {
      say('cold start: bundled vs unbundled import…');
      record('coldStart', await coldStartWorkload(preset.coldStart));
    }
    if (wanted.has('delivery')) {
      const d = preset.delivery;
      say(
        `delivery: ${d.tenants} tenants × ${d.incidentsPerTenant} events to a webhook (${d.postMs} ms per POST), then to Logs Ingestion, ${d.tableMs} ms per Table round trip…`,
      );
      const deliver = await prepareChildScript('deliverChild');
      try {
        record('delivery', await deliveryWorkload(d, { collect: child, deliver }));
      } finally {
        await deliver.dispose();
      }
      const collection = (details.hourly as { cost?: { lines: CostLine[] } } | undefined)?.cost?.lines;
      const delivery = (details.delivery as { cost: { lines: CostLine[] } }).cost.lines;
      if (collection) {
        const row = deliveryVersusCollectionRow(collection, delivery);
        rows.push(row);
        say(`  ${row.workload}: ${row.figure} = ${row.value}`);
      }
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
