/**
 * Runs one collection in a fresh collector process (collectChild) and returns its report, plus the CPU the
 * simulators (this process) and Azurite spent meanwhile — so a reader can see which process the time went to.
 * runChildProcess is the same protocol for any benchmark child (the delivery workload's deliverChild too).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildOptions, ChildReport } from './childProtocol.js';

export interface CollectorRun extends ChildReport {
  /** CPU of this process (the HTTPS simulators) while the child ran. */
  readonly simulatorCpuMs: number;
  /** CPU of the Azurite process while the child ran (Linux /proc; undefined elsewhere). */
  readonly azuriteCpuMs: number | undefined;
}

/** User + system CPU of another process in ms, from /proc (clock ticks assumed 100/s, the Linux default). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export async function runCollectorProcess(
  script: string,
  env: Record<string, string>,
  options: ChildOptions,
  azuritePid?: number,
  extraNodeArgs: readonly string[] = [],
): Promise<CollectorRun> {
  return runChildProcess<ChildReport>(script, env, options, azuritePid, extraNodeArgs);
}

/**
 * The same protocol for any benchmark child (collectChild, deliverChild): `options` as JSON in BENCH_CHILD, one JSON
 * report line (`R`) on stdout, and the CPU this process (the simulators) and Azurite spent while it ran.
 */
export async function runChildProcess<R>(
  script: string,
  env: Record<string, string>,
  options: unknown,
  azuritePid?: number,
  extraNodeArgs: readonly string[] = [],
): Promise<R & { readonly simulatorCpuMs: number; readonly azuriteCpuMs: number | undefined }> {
  const azuriteBefore = processCpuMs(azuritePid);
  const cpuBefore = process.cpuUsage();
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": extra Node flags for investigating a figure.
  const nodeArgs = [...extraNodeArgs, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...env, BENCH_CHILD: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const cpu = process.cpuUsage(cpuBefore);
  const azuriteAfter = processCpuMs(azuritePid);
  const line = stdout.trim().split('\n').pop();
  if (code !== 0 || !line)
    throw new Error(`The ${path.basename(script)} process exited with ${code}: ${stderr.trim() || '(no output)'}`);
  const report = JSON.parse(line) as R;
  return {
    ...report,
    simulatorCpuMs: (cpu.user + cpu.system) / 1000,
    azuriteCpuMs: azuriteBefore !== undefined && azuriteAfter !== undefined ? azuriteAfter - azuriteBefore : undefined,
  };
}
