/**
 * `npm run bench [-- --smoke] [-- --only fleet,hourly,scaleout,quota,memory,coldstart]`: runs the benchmark, prints the table
 * (figure, value, goal, met?) and writes bench-results/bench.json. Exit code 0 even when a goal is missed: this
 * is a measurement, not a test (the JSON and the table say which goals were met). BENCH_FLEET_SIZE resizes the
 * fleet workload only (see withFleetSize); BENCH_NODE_ARGS adds Node flags to the collector process.
 */
import path from 'node:path';
import { type BenchPreset, FULL, SMOKE } from './presets.js';
import { repoRoot } from './repoRoot.js';
import { formatTable, writeResult } from './report.js';
import { runBench, WORKLOADS, type WorkloadName } from './runBench.js';

function parseArgs(argv: readonly string[]): { smoke: boolean; only: WorkloadName[] } {
  const smoke = argv.includes('--smoke');
  const at = argv.indexOf('--only');
  const only = at >= 0 ? (argv[at + 1] ?? '').split(',').filter(Boolean) : [];
  const unknown = only.filter((w) => !(WORKLOADS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown workload(s): ${unknown.join(', ')}. Choose from ${WORKLOADS.join(', ')}.\n`);
    process.exit(2);
  }
  return { smoke, only: only as WorkloadName[] };
}

/**
 * BENCH_FLEET_SIZE=<tenants>x<incidents> (e.g. `100x200`): the fleet workload at another size, for profiling the
 * per-version path without the full backfill. Unset, the preset's size is used (the published figures).
 */
function withFleetSize(preset: BenchPreset, size: string | undefined): BenchPreset {
  if (size === undefined || size === '') return preset;
  const match = /^(\d+)x(\d+)$/.exec(size.trim());
  if (!match) throw new Error(`BENCH_FLEET_SIZE must look like 100x200 (tenants x incidents), got "${size}".`);
  const [tenants, incidentsPerTenant] = [Number(match[1]), Number(match[2])];
  if (tenants < 1 || incidentsPerTenant < 1)
    throw new Error('BENCH_FLEET_SIZE needs at least 1 tenant and 1 incident.');
  return { ...preset, fleet: { ...preset.fleet, tenants, incidentsPerTenant } };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const result = await runBench({
    mode: args.smoke ? 'smoke' : 'full',
    preset: withFleetSize(args.smoke ? SMOKE : FULL, process.env.BENCH_FLEET_SIZE),
    only: args.only,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const file = await writeResult(path.join(repoRoot(), 'bench-results'), result);
  const m = result.machine;
  const load = m.loadAverage ? `, load average ${m.loadAverage.atStart} → ${m.loadAverage.atEnd}` : '';
  process.stdout.write(
    `\n${formatTable(result.rows)}\n\n${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}, ${m.platform}; ${result.durationS} s${load}. Written to ${path.relative(process.cwd(), file)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
