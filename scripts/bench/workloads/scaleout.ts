/**
 * Scale-out on the queue (issue 15 goal 4): the latency-bound hourly workload of hourly.ts (same set-up, change
 * pattern and latencies), run the way Azure Functions runs it — the REAL `collectSchedule` timer handler plans the
 * run and enqueues one `tenant-collect` message per due tenant, and 1, 2, 4… worker PROCESSES, each the local
 * Functions host (devstack/queueHost.ts) running the real `collectTenant` handler with host.json's queue settings
 * and the app settings in its environment, drain the queue.
 *
 * Per process count, on one stack: the tenants are changed again (the same amount of change every run), the
 * workers start and listen, the first worker fires the timer; the wall time runs from the first enqueue to the
 * moment the run's row is finished (every tenant has an outcome). Beside it: throughput, scale-up over one process,
 * each worker's CPU ÷ wall, the machine's CPU busy fraction over the run (os.cpus() deltas — on a 2-core machine
 * running the simulators and Azurite too, the honest reason scale-out flattens), and queue operations per tenant
 * (Put, Get — empty polls included — Delete, Update: transactions the cost model prices).
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSettings } from '../../../shared/config/settings.js';
import { createServices } from '../../../shared/composition.js';
import { silentLogger } from '../../../shared/log.js';
import { HostWorker, prepareHostScripts } from '../../../devstack/hostProcess.js';
import type { WorkerCounters } from '../../../devstack/hostWorker.js';
import type { ChildScript } from '../childScript.js';
import { processCpuMs } from '../collectorProcess.js';
import { seconds, type FigureRow } from '../report.js';
import type { TableLatencyProxy } from '../tableLatencyProxy.js';
import type { WorkloadResult } from './fleet.js';
import { changeTenants, startCollectedStack, withLatency, type HourlyConfig } from './hourly.js';

/** The hourly workload's sizes and latencies (tenant i gets i mod (maxChanges + 1) changes before each run). */
export interface ScaleoutConfig extends Pick<
  HourlyConfig,
  'tenants' | 'incidentsPerTenant' | 'maxChanges' | 'apiMs' | 'tokenMs' | 'tableMs'
> {
  /** Worker process counts, one run each, in order (the first is the reference of the scale-up). */
  readonly workers: readonly number[];
}

/** One run of the queue-driven hourly workload. */
export interface ScaleoutRun {
  readonly workers: number;
  /** From the first enqueue to the run's row finished, ms. */
  readonly wallMs: number;
  readonly tenants: number;
  readonly tenantsOk: number;
  /** Per worker: CPU ms, invocations, queue operations over the run. */
  readonly perWorker: readonly WorkerCounters[];
  /** The machine's CPU busy fraction over the run (all cores). */
  readonly machineBusy: number;
  readonly azuriteCpuMs: number | undefined;
  /** This process (the simulators) over the run. */
  readonly simulatorCpuMs: number;
  /** Queue operations (workers' Put/Get/Delete/Update) per tenant. */
  readonly queueOpsPerTenant: number;
  /** Table round trips per tenant over the run (the latency proxy's count: timer, workers, and nothing else). */
  readonly tableRoundTripsPerTenant: number;
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/** The queue operations of a worker's counters. */
function queueOps(c: WorkerCounters): number {
  return c.queue.receives + c.queue.deletes + c.queue.updates + c.queue.sends;
}

export async function measureScaleout(config: ScaleoutConfig, child: ChildScript): Promise<ScaleoutRun[]> {
  if (config.workers.length === 0) throw new RangeError('scaleout.workers must name at least one process count.');
  const { bench, base } = await startCollectedStack(
    { tenants: config.tenants, incidentsPerTenant: config.incidentsPerTenant, seed: 22 },
    child,
  );
  let proxy: TableLatencyProxy | undefined;
  const scripts = await prepareHostScripts();
  const started: HostWorker[] = [];
  try {
    const latent = await withLatency(bench, base, config);
    proxy = latent.proxy;
    // The run rows are read straight from Azurite (not through the latency proxy): watching is not the workload.
    const services = createServices(loadSettings(base), { logger: silentLogger, env: base });
    const runs: ScaleoutRun[] = [];
    for (const n of config.workers) {
      changeTenants(bench, bench.tenantIds, config.maxChanges);
      const workers: HostWorker[] = [];
      for (let i = 0; i < n; i++) {
        const worker = await HostWorker.start(scripts, latent.env, {
          logLevel: 'error',
          functions: ['collectTenant', 'collectTenantPoison'],
        });
        workers.push(worker);
        started.push(worker);
      }
      await Promise.all(workers.map((w) => w.mark()));
      const machineBefore = cpuTimes();
      const tableBefore = latent.proxy.requests;
      const azuriteBefore = processCpuMs(bench.azuritePid);
      const simulatorBefore = process.cpuUsage();
      const fired = await (workers[0] as HostWorker).fire('collectSchedule');
      const first = JSON.parse(Buffer.from(fired.texts[0] ?? '', 'base64').toString('utf8') || '{}') as {
        runId?: string;
        runStartedAt?: string;
      };
      if (!first.runId || !first.runStartedAt || fired.sent !== config.tenants)
        throw new Error(`The timer enqueued ${fired.sent} messages for ${config.tenants} tenants.`);
      let run = await services.runs.get(first.runId, first.runStartedAt);
      while (!run?.finishedAt) {
        await sleep(50);
        run = await services.runs.get(first.runId, first.runStartedAt);
      }
      const wallMs = Date.now() - fired.sendingAt;
      const machineAfter = cpuTimes();
      const tableRoundTrips = latent.proxy.requests - tableBefore;
      const azuriteAfter = processCpuMs(bench.azuritePid);
      const simulator = process.cpuUsage(simulatorBefore);
      const perWorker = await Promise.all(workers.map((w) => w.stop()));
      const completed = perWorker.reduce((sum, c) => sum + c.completed, 0);
      if (run.tenantsOk !== config.tenants || completed !== config.tenants)
        throw new Error(
          `Run ${first.runId} with ${n} workers: ${run.tenantsOk} of ${config.tenants} tenants ok, ${completed} invocations completed (each tenant should be collected once).`,
        );
      const totalDelta = machineAfter.total - machineBefore.total;
      runs.push({
        workers: n,
        wallMs,
        tenants: config.tenants,
        tenantsOk: run.tenantsOk,
        perWorker,
        machineBusy: totalDelta > 0 ? 1 - (machineAfter.idle - machineBefore.idle) / totalDelta : 0,
        azuriteCpuMs:
          azuriteBefore !== undefined && azuriteAfter !== undefined ? azuriteAfter - azuriteBefore : undefined,
        simulatorCpuMs: (simulator.user + simulator.system) / 1000,
        queueOpsPerTenant: perWorker.reduce((sum, c) => sum + queueOps(c), 0) / config.tenants,
        tableRoundTripsPerTenant: tableRoundTrips / config.tenants,
      });
    }
    return runs;
  } finally {
    for (const worker of started) worker.kill();
    await scripts.dispose();
    await proxy?.stop();
    await bench.stop();
  }
}

/** `12 (TABLE_RUN_CONTENTION 12)`, or `0`. */
function failureText(perWorker: readonly WorkerCounters[]): string {
  const by = new Map<string, number>();
  for (const c of perWorker) for (const [code, n] of Object.entries(c.failedBy)) by.set(code, (by.get(code) ?? 0) + n);
  const total = [...by.values()].reduce((sum, n) => sum + n, 0);
  return total === 0 ? '0' : `${total} (${[...by].map(([code, n]) => `${code} ${n}`).join(', ')})`;
}

export function scaleoutRows(config: ScaleoutConfig, runs: readonly ScaleoutRun[]): FigureRow[] {
  const name = `Queue scale-out ${config.tenants} tenants`;
  const reference = runs[0];
  const rows: FigureRow[] = [];
  for (const run of runs) {
    const throughput = run.tenants / (run.wallMs / 1000);
    const scaleUp = reference ? reference.wallMs / run.wallMs : 1;
    const workerUse = run.perWorker.map((c) => (c.cpuMs / run.wallMs).toFixed(2)).join(', ');
    const label = `${run.workers} worker process${run.workers === 1 ? '' : 'es'}`;
    rows.push(
      {
        workload: name,
        figure: `${label}: wall from first enqueue to run complete (0–${config.maxChanges} changes each, ${config.apiMs} ms API, ${config.tokenMs} ms token, ${config.tableMs} ms Table)`,
        value: seconds(run.wallMs),
        raw: run.wallMs,
      },
      { workload: name, figure: `${label}: throughput`, value: `${throughput.toFixed(1)} tenants/s`, raw: throughput },
      {
        workload: name,
        figure: `${label}: scale-up vs ${reference?.workers ?? 1} process`,
        value: `${scaleUp.toFixed(2)}×`,
        raw: scaleUp,
      },
      {
        workload: name,
        figure: `${label}: CPU ÷ wall per worker / machine busy (${os.cpus().length} cores)`,
        value: `${workerUse} / ${(run.machineBusy * 100).toFixed(0)} %`,
        raw: run.machineBusy,
      },
      {
        workload: name,
        figure: `${label}: invocations that threw, by code (each message redelivered after host.json visibilityTimeout)`,
        value: failureText(run.perWorker),
        raw: run.perWorker.reduce((sum, c) => sum + c.failed, 0),
      },
      {
        workload: name,
        figure: `${label}: Table round trips per tenant (timer and workers, counted by the latency proxy)`,
        value: run.tableRoundTripsPerTenant.toFixed(1),
        raw: run.tableRoundTripsPerTenant,
      },
      {
        workload: name,
        figure: `${label}: queue operations per tenant (Put + Get incl. empty polls + Delete + Update)`,
        value: run.queueOpsPerTenant.toFixed(2),
        raw: run.queueOpsPerTenant,
      },
    );
  }
  return rows;
}

export async function scaleoutWorkload(config: ScaleoutConfig, child: ChildScript): Promise<WorkloadResult> {
  const runs = await measureScaleout(config, child);
  return {
    rows: scaleoutRows(config, runs),
    details: {
      config,
      runs: runs.map((r) => ({
        ...r,
        workerCpuMs: r.perWorker.map((c) => c.cpuMs),
        workerMaxRssMB: r.perWorker.map((c) => c.maxRssMB),
      })),
    },
  };
}
