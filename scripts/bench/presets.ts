/**
 * Workload sizes. `full` is the benchmark (about ten minutes on a 2-core machine); `smoke` is the
 * same code at toy sizes for CI, where only the presence and sanity of the figures is checked.
 */
import type { FleetConfig } from './workloads/fleet.js';
import type { MemoryConfig } from './workloads/memory.js';
import type { QuotaConfig } from './workloads/quota.js';
import type { ColdStartConfig } from './workloads/coldStart.js';
import type { HourlyConfig } from './workloads/hourly.js';
import type { DeliveryConfig } from './workloads/delivery.js';
import type { ScaleoutConfig } from './workloads/scaleout.js';

export interface BenchPreset {
  readonly fleet: FleetConfig;
  readonly hourly: HourlyConfig;
  readonly scaleout: ScaleoutConfig;
  readonly quota: readonly QuotaConfig[];
  readonly memory: readonly { readonly label: string; readonly config: MemoryConfig }[];
  readonly coldStart: ColdStartConfig;
  readonly delivery: DeliveryConfig;
}

const latency = { apiMs: 50, tokenMs: 30 };

export const FULL: BenchPreset = {
  fleet: { tenants: 500, incidentsPerTenant: 200, ...latency },
  hourly: {
    tenants: 1_000,
    incidentsPerTenant: 10,
    maxChanges: 5,
    apiMs: 200,
    tokenMs: 100,
    tableMs: 8,
    sequentialTenants: 25,
    fixedProbe: [10, 30],
  },
  // The hourly workload through the queue: the same tenants, changes and latencies, drained by 1, 2 and 4 workers.
  scaleout: {
    tenants: 1_000,
    incidentsPerTenant: 10,
    maxChanges: 5,
    apiMs: 200,
    tokenMs: 100,
    tableMs: 8,
    workers: [1, 2, 4],
  },
  quota: [
    // Time scales chosen so the quota, not the machine, is what limits the run: 50/min becomes 50 per 7.5 s
    // (150 ms per call, enough for a 100-incident page's latency + write on 2 shared cores); Graph 150 per 15 s.
    { source: 'm365d', incidents: 10_000, timeScale: 8, ...latency },
    { source: 'graph', incidents: 10_000, timeScale: 4, ...latency },
  ],
  memory: [
    { label: '1,000 tenants × 20', config: { tenants: 1_000, incidentsPerTenant: 20, ...latency, node: 'deployed' } },
    {
      label: '1 tenant × 50,000',
      config: { tenants: 1, incidentsPerTenant: 50_000, ...latency, timeScale: 30, node: 'deployed' },
    },
    { label: '1,000 tenants × 20', config: { tenants: 1_000, incidentsPerTenant: 20, ...latency, node: 'defaults' } },
  ],
  coldStart: { runs: 7 },
  // 2,000 events of 200 tenants; a receiver answering in 30 ms, Table round trips of 8 ms and the change pattern
  // (0–5 per tenant and hour) of the hourly run.
  delivery: { tenants: 200, incidentsPerTenant: 10, postMs: 30, tableMs: 8, hourlyMaxChanges: 5 },
};

export const SMOKE: BenchPreset = {
  fleet: { tenants: 6, incidentsPerTenant: 60, apiMs: 20, tokenMs: 10, concurrency: 3, floorTenants: 2 },
  hourly: {
    tenants: 12,
    incidentsPerTenant: 6,
    maxChanges: 5,
    apiMs: 10,
    tokenMs: 5,
    tableMs: 2,
    sequentialTenants: 2,
    fixedProbe: [1, 2],
    concurrency: 4,
  },
  scaleout: { tenants: 12, incidentsPerTenant: 6, maxChanges: 5, apiMs: 10, tokenMs: 5, tableMs: 2, workers: [1, 2] },
  quota: [
    { source: 'm365d', incidents: 300, timeScale: 120, apiMs: 5, tokenMs: 5 },
    { source: 'graph', incidents: 300, timeScale: 120, apiMs: 5, tokenMs: 5 },
  ],
  memory: [
    {
      label: '10 tenants × 20',
      config: { tenants: 10, incidentsPerTenant: 20, apiMs: 5, tokenMs: 5, node: 'deployed' },
    },
    {
      label: '10 tenants × 20',
      config: { tenants: 10, incidentsPerTenant: 20, apiMs: 5, tokenMs: 5, node: 'defaults' },
    },
  ],
  coldStart: { runs: 1 },
  delivery: { tenants: 4, incidentsPerTenant: 6, postMs: 5, tableMs: 2, hourlyMaxChanges: 5, microRows: 2_000 },
};
