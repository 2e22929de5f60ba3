/** The benchmark's output: rows of (figure, value, goal, met?), printed as a table and written as JSON. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface FigureRow {
  readonly workload: string;
  readonly figure: string;
  /** Display form, e.g. `12.3 s`. */
  readonly value: string;
  /** The raw number the goal is checked on (undefined for information-only rows). */
  readonly raw?: number;
  readonly goal?: string;
  /** undefined: information, no goal. */
  readonly met?: boolean;
}

export interface BenchResult {
  readonly mode: 'full' | 'smoke';
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly rows: readonly FigureRow[];
  /** Per-workload details (counts, CPU split, configuration) for the reader who wants to check a figure. */
  readonly details: Record<string, unknown>;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGB: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews every figure. */
  readonly loadAverage?: { readonly atStart: number; readonly atEnd: number };
}

export function machineInfo(loadAtStart?: number): MachineInfo {
  const cpus = os.cpus();
  return {
    ...(loadAtStart !== undefined
      ? { loadAverage: { atStart: round2(loadAtStart), atEnd: round2(os.loadavg()[0] ?? 0) } }
      : {}),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function formatTable(rows: readonly FigureRow[]): string {
  const header = ['WORKLOAD', 'FIGURE', 'VALUE', 'GOAL', 'MET?'];
  const body = rows.map((r) => [
    r.workload,
    r.figure,
    r.value,
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The same table in Markdown (docs/performance.md). */
export function formatMarkdown(rows: readonly FigureRow[]): string {
  const lines = ['| Workload | Figure | Value | Goal | Met? |', '|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.workload} | ${r.figure} | ${r.value} | ${r.goal ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    );
  return lines.join('\n');
}

/** Writes bench.json (everything) and bench.md (the table in Markdown, for docs/performance.md). */
export async function writeResult(dir: string, result: BenchResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const base = result.mode === 'smoke' ? 'bench-smoke' : 'bench';
  const file = path.join(dir, `${base}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  const m = result.machine;
  const load = m.loadAverage ? `, load average ${m.loadAverage.atStart} → ${m.loadAverage.atEnd}` : '';
  const machine = `${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB RAM, Node ${m.node}, ${m.platform}; run ${result.startedAt}, ${result.durationS} s${load}.`;
  await writeFile(path.join(dir, `${base}.md`), `${formatMarkdown(result.rows)}\n\n${machine}\n`);
  return file;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
export const ratio = (x: number): string => x.toFixed(2);
