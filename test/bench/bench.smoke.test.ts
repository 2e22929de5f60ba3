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

    // Fleet and the sequential baseline.
    expect(raw(row(rows, /^Fleet/, /^wall time/))).toBeGreaterThan(0);
    expect(raw(row(rows, /^Fleet/, /^lower bound/))).toBeGreaterThan(0);
    expect(row(rows, /^Fleet/, /^ratio/).goal).toBe('≤ 1.25');
    expect(raw(row(rows, /^Versus sequential/, /^speed-up/))).toBeGreaterThan(0);
    const fleet = result.details.fleet as { fleet: { incidentsFetched: number; ok: number; tenants: number } };
    expect(fleet.fleet.incidentsFetched).toBe(SMOKE.fleet.tenants * SMOKE.fleet.incidentsPerTenant);
    expect(fleet.fleet.ok).toBe(fleet.fleet.tenants);

    // Quotas: both sources, 429s counted from the simulator's log, writes counted by the pipeline policy.
    for (const source of [/legacy/, /Graph/]) {
      const throttled = raw(row(rows, new RegExp(`^Quota .*${source.source}`), /^429s/));
      expect(Number.isInteger(throttled)).toBe(true);
      expect(throttled).toBeGreaterThanOrEqual(0);
      row(rows, new RegExp(`^Quota .*${source.source}`), /quota window/);
      // Two contract tables, ≤ 100 operations per transaction: at least 20 round trips per 1,000 new incidents.
      expect(raw(row(rows, new RegExp(`^Writes .*${source.source}`), /round trips per 1,000/))).toBeGreaterThanOrEqual(
        20,
      );
    }

    // Memory: the collector child's own peak RSS.
    const rss = raw(row(rows, /^Memory/, /peak RSS/));
    expect(rss).toBeGreaterThan(20);
    expect(rss).toBeLessThan(4096);
    const retained = raw(row(rows, /^Memory/, /still reachable/));
    expect(retained).toBeGreaterThan(0);
    expect(retained).toBeLessThan(rss);

    // Cold start: the bundle registers the same functions as the unbundled build.
    expect(raw(row(rows, /^Cold start/, /bundled \(/))).toBeGreaterThan(0);
    expect(raw(row(rows, /^Cold start/, /unbundled/))).toBeGreaterThan(0);
    expect((result.details.coldStart as { registered: string[] }).registered.length).toBeGreaterThan(0);

    // Every goal row says whether it was met; the JSON round-trips.
    for (const r of rows.filter((x) => x.goal !== undefined)) expect(typeof r.met).toBe('boolean');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
    try {
      const file = await writeResult(dir, result);
      const back = JSON.parse(await readFile(file, 'utf8')) as typeof result;
      expect(back.rows).toEqual(rows);
      expect(back.machine.cpus).toBeGreaterThan(0);
      expect(await readFile(path.join(dir, 'bench-smoke.md'), 'utf8')).toContain('| Fleet');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(formatTable(rows).split('\n')).toHaveLength(rows.length + 2);
  });
});
