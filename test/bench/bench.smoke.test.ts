/**
 * The benchmark at toy sizes, end to end (simulators, Azurite, collector child processes, the deployment
 * bundle): every figure is produced and sane. No timing goal is asserted — CI machines vary; `npm run bench`
 * is where goals are judged.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SMOKE } from '../../scripts/bench/presets.js';
import { formatTable, writeResult, type FigureRow } from '../../scripts/bench/report.js';
import { runBench } from '../../scripts/bench/runBench.js';

function row(rows: readonly FigureRow[], workload: RegExp, figure: RegExp): FigureRow {
  const found = rows.find((r) => workload.test(r.workload) && figure.test(r.figure));
  if (!found) throw new Error(`No row ${workload} / ${figure} in:\n${formatTable(rows)}`);
  return found;
}

function raw(r: FigureRow): number {
  expect(typeof r.raw).toBe('number');
  expect(Number.isFinite(r.raw)).toBe(true);
  return r.raw as number;
}

describe('benchmark smoke run', () => {
  it('produces every figure with its goal, writes the JSON, and leaves nothing running', async () => {
    const result = await runBench({ mode: 'smoke', preset: SMOKE });
    const rows = result.rows;

    // CPU per version against the floor measured in the same run (goal 1).
    const perVersion = raw(row(rows, /^CPU per version/, /^collector CPU per incident version/));
    const floor = raw(row(rows, /^CPU per version/, /^floor/));
    expect(perVersion).toBeGreaterThan(0);
    expect(floor).toBeGreaterThan(0);
    expect(row(rows, /^CPU per version/, /^ratio/).goal).toBe('≤ 1.5');
    expect(raw(row(rows, /^CPU per version/, /^ratio/))).toBeCloseTo(perVersion / floor, 6);
    const fleet = result.details.fleet as { fleet: { incidentsFetched: number; ok: number; tenants: number } };
    expect(fleet.fleet.incidentsFetched).toBe(SMOKE.fleet.tenants * SMOKE.fleet.incidentsPerTenant);
    expect(fleet.fleet.ok).toBe(fleet.fleet.tenants);

    // The latency-bound hourly run (goals 2 and 3) and its cost model (goal 7).
    const wall = raw(row(rows, /^Hourly/, /^wall time/));
    const bound = raw(row(rows, /^Hourly/, /^lower bound/));
    expect(bound).toBeGreaterThan(0);
    expect(raw(row(rows, /^Hourly/, /^ratio/))).toBeCloseTo(wall / bound, 6);
    expect(row(rows, /^Hourly/, /^ratio/).goal).toBe('≤ 1.3');
    // Every tenant costs at least its lease, its tenant row and its run counter: never zero, never absurd.
    const fixed = raw(row(rows, /^Hourly/, /^fixed Table round trips per tenant/));
    expect(fixed).toBeGreaterThanOrEqual(1);
    expect(fixed).toBeLessThan(50);
    expect(raw(row(rows, /^Versus sequential/, /^speed-up/))).toBeGreaterThan(0);
    const hourly = result.details.hourly as { hourly: { incidentsChanged: number; ok: number; tenants: number } };
    expect(hourly.hourly.ok).toBe(SMOKE.hourly.tenants);
    expect(hourly.hourly.incidentsChanged).toBeGreaterThan(0);
    for (const item of [/^Functions executions/, /^Functions GB-seconds/, /^Table transactions/, /^Table storage/]) {
      expect(raw(row(rows, /^Cost/, item))).toBeGreaterThan(0);
    }
    row(rows, /^Cost/, /^Key Vault/);
    row(rows, /^Cost/, /^Logs Ingestion/);
    expect(row(rows, /^Cost/, /^total/).value).toMatch(/^\$\d+\.\d\d \/ \$\d+\.\d\d$/);

    // Scale-out on the queue (goal 4): per worker-process count, the run through the local Functions host.
    const scaleName = /^Queue scale-out/;
    for (const n of SMOKE.scaleout.workers) {
      const label = `${n} worker process${n === 1 ? '' : 'es'}`;
      const scaleWall = raw(row(rows, scaleName, new RegExp(`^${label}: wall from first enqueue`)));
      expect(scaleWall).toBeGreaterThan(0);
      expect(raw(row(rows, scaleName, new RegExp(`^${label}: throughput`)))).toBeCloseTo(
        SMOKE.scaleout.tenants / (scaleWall / 1000),
        6,
      );
      expect(raw(row(rows, scaleName, new RegExp(`^${label}: scale-up`)))).toBeGreaterThan(0);
      const busy = raw(row(rows, scaleName, new RegExp(`^${label}: CPU ÷ wall per worker / machine busy`)));
      expect(busy).toBeGreaterThanOrEqual(0);
      expect(busy).toBeLessThanOrEqual(1);
      // Each tenant costs at least its Put and its Delete, plus a share of the Gets.
      expect(raw(row(rows, scaleName, new RegExp(`^${label}: queue operations per tenant`)))).toBeGreaterThan(2);
    }
    expect(raw(row(rows, scaleName, /^1 worker process: scale-up/))).toBe(1);
    const scaleRuns = (result.details.scaleout as { runs: { tenantsOk: number; workerCpuMs: number[] }[] }).runs;
    expect(scaleRuns.map((r) => r.tenantsOk)).toEqual(SMOKE.scaleout.workers.map(() => SMOKE.scaleout.tenants));
    expect(scaleRuns.map((r) => r.workerCpuMs.length)).toEqual([...SMOKE.scaleout.workers]);

    // Quotas: both sources, 429s counted from the simulator's log, writes counted by the pipeline policy.
    for (const source of [/legacy/, /Graph/]) {
      const throttled = raw(row(rows, new RegExp(`^Quota .*${source.source}`), /^429s/));
      expect(Number.isInteger(throttled)).toBe(true);
      expect(throttled).toBeGreaterThanOrEqual(0);
      row(rows, new RegExp(`^Quota .*${source.source}`), /quota window/);
      // History + event rows and latest rows, ≤ 100 operations per transaction: never below the floor of 30.
      const writes = row(rows, new RegExp(`^Writes .*${source.source}`), /round trips per 1,000/);
      expect(raw(writes)).toBeGreaterThanOrEqual(30);
      expect(writes.goal).toBe('≤ 1.25 × floor = 37.5');
    }

    // Memory: the collector child's own peak RSS, judged with the Bicep's Node flags; the heap cap's CPU cost.
    const deployedRow = row(rows, /^Memory/, /peak RSS, .*as deployed: --max-old-space-size=\d+/);
    expect(deployedRow.goal).toBe('≤ 200 MB');
    expect(row(rows, /^Memory/, /peak RSS, .*Node's defaults/).goal).toBeUndefined();
    expect(raw(row(rows, /^Memory/, /^CPU of the deployed heap cap/))).toBeGreaterThan(0);
    const rss = raw(deployedRow);
    expect(rss).toBeGreaterThan(20);
    expect(rss).toBeLessThan(4096);
    const retained = raw(row(rows, /^Memory/, /still reachable/));
    expect(retained).toBeGreaterThan(0);
    expect(retained).toBeLessThan(rss);

    // Cold start: the bundle registers the same functions as the unbundled build.
    expect(raw(row(rows, /^Cold start/, /bundled \(/))).toBeGreaterThan(0);
    expect(raw(row(rows, /^Cold start/, /unbundled/))).toBeGreaterThan(0);
    expect(rows.some((r) => /speed-up/.test(r.figure) && /^Cold start/.test(r.workload))).toBe(false);
    expect((result.details.coldStart as { registered: string[] }).registered.length).toBeGreaterThan(0);

    // Delivery: both sinks got every version's event exactly once; counts per event, never timing.
    const versions = SMOKE.delivery.tenants * SMOKE.delivery.incidentsPerTenant;
    for (const sink of [/^Delivery \(webhook/, /^Delivery \(Logs Ingestion/]) {
      const arrived = row(rows, sink, /^events arrived verified/);
      expect(arrived.goal).toBe(`= ${versions} versions`);
      expect(raw(arrived)).toBe(versions);
      expect(arrived.met).toBe(true);
      expect(raw(row(rows, sink, /^events per second/))).toBeGreaterThan(0);
      // Each event needs at least its CloudEvent's two reads; a pass's fixed queries spread over few events stay small.
      const perEvent = raw(row(rows, sink, /^Table round trips per event/));
      expect(perEvent).toBeGreaterThanOrEqual(2);
      expect(perEvent).toBeLessThan(10);
      expect(raw(row(rows, sink, /^deliverer CPU per event/))).toBeGreaterThan(0);
      // The idle pass: 2 + S + T queries (one subscription).
      expect(raw(row(rows, sink, /^idle pass/))).toBe(2 + 1);
      expect(raw(row(rows, sink, /^full idle pass/))).toBe(2 + 1 + SMOKE.delivery.tenants);
    }
    expect(raw(row(rows, /^Delivery \(webhook/, /^events per POST/))).toBe(1);
    expect(raw(row(rows, /^Delivery \(Logs Ingestion/, /^events per batch/))).toBeGreaterThan(1);
    // Recording: event rows never make fewer transactions than the same writes without them.
    for (const size of [5, 50, 100]) {
      const planned = row(rows, /^Event rows/, new RegExp(`^history-table transactions .* ${size} versions per write`));
      expect(raw(planned)).toBeGreaterThanOrEqual(0);
    }
    const eventRowBytes = raw(row(rows, /^Event rows/, /^bytes stored per event row/));
    expect(eventRowBytes).toBeGreaterThan(200);
    expect(eventRowBytes).toBeLessThan(2048);
    expect(raw(row(rows, /^Event rows/, /^event-sequence seed reads/))).toBe(1);
    expect(raw(row(rows, /^Event rows/, /^CPU per event row/))).toBeGreaterThan(0);
    for (const item of [/^deliverEvents executions/, /^deliverEvents GB-seconds/, /^Table transactions of idle/]) {
      expect(raw(row(rows, /^Cost .*\(delivery\)/, item))).toBeGreaterThan(0);
    }
    row(rows, /^Cost .*\(delivery\)/, /^Table transactions of webhook delivery/);
    expect(raw(row(rows, /^Cost .*\(delivery\)/, /^total/))).toBeGreaterThan(0);
    // With the hourly workload in the same run: the delivery's monthly figures beside the collection's.
    expect(raw(row(rows, /^Cost .*\(delivery\)/, /^delivery ÷ collection/))).toBeGreaterThan(0);

    // Every goal row says whether it was met; the JSON round-trips.
    for (const r of rows.filter((x) => x.goal !== undefined)) expect(typeof r.met).toBe('boolean');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
    try {
      const file = await writeResult(dir, result);
      const back = JSON.parse(await readFile(file, 'utf8')) as typeof result;
      expect(back.rows).toEqual(rows);
      expect(back.machine.cpus).toBeGreaterThan(0);
      expect(await readFile(path.join(dir, 'bench-smoke.md'), 'utf8')).toContain('| Hourly');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(formatTable(rows).split('\n')).toHaveLength(rows.length + 2);
  });
});
