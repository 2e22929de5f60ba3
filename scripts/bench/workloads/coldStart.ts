/**
 * Cold start: how long a fresh Node process takes to import the function app entry — the esbuild bundle of
 * the deployment package versus the unbundled tsc output (dist/functions/index.js) — with a stub of
 * `@azure/functions-core` preloaded (what the Functions worker injects), so every `app.*` registration runs as
 * in the host. Median of several runs, alternating the two so neither gets a warmer disk cache.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REGISTRY_KEY, writeCoreStub } from '../../../devstack/functionsCore.js';
import { repoRoot } from '../repoRoot.js';
import type { FigureRow } from '../report.js';
import type { WorkloadResult } from './fleet.js';

export interface ColdStartConfig {
  readonly runs: number;
}

const MEASURE = `
const started = performance.now();
await import(process.env.BENCH_ENTRY);
const ms = performance.now() - started;
const registered = globalThis.${REGISTRY_KEY}.map((r) => r.metadata.name);
process.stdout.write(JSON.stringify({ ms, registered }));
`;

/** Settings an import might validate (placeholders: nothing is contacted while importing). */
const PLACEHOLDER_ENV = {
  PARTNER_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
  PARTNER_CLIENT_SECRET: 'placeholder-not-a-secret',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

interface Sample {
  readonly ms: number;
  readonly registered: readonly string[];
}

function importOnce(stubFile: string, entry: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(stubFile).href, '--input-type=module', '-e', MEASURE],
      {
        env: { PATH: process.env.PATH ?? '', ...PLACEHOLDER_ENV, BENCH_ENTRY: pathToFileURL(entry).href },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`Importing ${entry} failed (exit ${code}): ${err.trim()}`));
      else resolve(JSON.parse(out) as Sample);
    });
  });
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed: ${err.trim()}`)),
    );
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function coldStartWorkload(config: ColdStartConfig): Promise<WorkloadResult> {
  const root = repoRoot();
  const unbundled = path.join(root, 'dist', 'functions', 'index.js');
  if (!existsSync(unbundled))
    throw new Error(`${path.relative(root, unbundled)} is missing: run "npm run build" first.`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-coldstart-'));
  try {
    const stub = await writeCoreStub(dir);
    const packageDir = path.join(dir, 'package');
    await run(path.join(root, 'scripts', 'package.mjs'), ['--out', packageDir, '--no-zip']);
    const bundled = path.join(packageDir, 'dist', 'index.js');

    const samples = { bundled: [] as Sample[], unbundled: [] as Sample[] };
    for (let i = 0; i < config.runs; i++) {
      samples.bundled.push(await importOnce(stub, bundled));
      samples.unbundled.push(await importOnce(stub, unbundled));
    }
    const bundledMs = median(samples.bundled.map((s) => s.ms));
    const unbundledMs = median(samples.unbundled.map((s) => s.ms));
    const registered = samples.bundled[0]?.registered ?? [];
    const sameRegistrations =
      JSON.stringify([...registered].sort()) === JSON.stringify([...(samples.unbundled[0]?.registered ?? [])].sort());
    if (registered.length === 0 || !sameRegistrations) {
      throw new Error(
        `Registrations differ or are missing: bundled ${JSON.stringify(registered)}, unbundled ${JSON.stringify(samples.unbundled[0]?.registered)}`,
      );
    }
    const rows: FigureRow[] = [
      {
        workload: 'Cold start',
        figure: `import, bundled (median of ${config.runs}, ${registered.length} functions registered)`,
        value: `${bundledMs.toFixed(0)} ms`,
        raw: bundledMs,
        goal: '≤ 300 ms',
        met: bundledMs <= 300,
      },
      {
        workload: 'Cold start',
        // Information only: the unbundled import mostly measures reading several hundred files from disk.
        figure: 'import, unbundled dist/functions/index.js (information: mostly disk reads)',
        value: `${unbundledMs.toFixed(0)} ms`,
        raw: unbundledMs,
      },
    ];
    return {
      rows,
      details: {
        registered,
        bundledSamplesMs: samples.bundled.map((s) => s.ms),
        unbundledSamplesMs: samples.unbundled.map((s) => s.ms),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
