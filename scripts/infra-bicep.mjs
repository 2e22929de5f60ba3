#!/usr/bin/env node
/**
 * The real Bicep CLI for this repository: restore it, build infra/main.bicep, lint every .bicep file.
 *
 *   node scripts/infra-bicep.mjs build     restore if needed, build to .bicep/main.json, lint infra/**\/*.bicep
 *   node scripts/infra-bicep.mjs restore   only restore the CLI (prints the time it took)
 *   node scripts/infra-bicep.mjs where     print the path of the Bicep binary that would be used
 *
 * Where Bicep comes from: BICEP_BIN when set (e.g. the one `az bicep install` puts in ~/.azure/bin); otherwise the
 * NuGet package pinned in infra/tools/bicep-cli.csproj, restored by the .NET SDK into .bicep/ (git-ignored).
 *
 * Any error or warning — compiler or linter — fails (exit 1): the CLI exits 0 on warnings, so its output is parsed.
 * .bicep/main.json is only written when the build and the lint are both clean, so a present, fresh main.json
 * means "compiled and linted with zero diagnostics". A summary with timings goes to .bicep/check.json.
 * Exit 3 means Bicep could not be obtained (no BICEP_BIN, no dotnet): the message says how to get it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const BICEP_VERSION = '0.49.2';
export const EXIT_UNAVAILABLE = 3;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INFRA = join(ROOT, 'infra');
const PROJECT = join(INFRA, 'tools', 'bicep-cli.csproj');
/** Where the CLI is restored and the outputs go; tests pass their own. */
export const DEFAULT_CACHE_DIR = join(ROOT, '.bicep');
export const COMPILED_TEMPLATE = join(DEFAULT_CACHE_DIR, 'main.json');

/** Options shared by the commands: the cache directory and the environment (BICEP_BIN, PATH). */
function withDefaults(options = {}) {
  return { cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR, env: options.env ?? process.env };
}

/** Thrown for a reason to stop; `exitCode` tells the caller which. */
export class InfraCheckError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'InfraCheckError';
    this.exitCode = exitCode;
  }
}

/** NuGet runtime identifier of the Bicep package for this machine (the package name ends with it). */
function bicepRid() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (os === undefined || arch === undefined) return undefined;
  return `${os}-${arch}`;
}

function restoredBinary(cacheDir, rid) {
  const exe = process.platform === 'win32' ? 'bicep.exe' : 'bicep';
  return join(cacheDir, 'packages', `azure.bicep.commandline.${rid}`, BICEP_VERSION, 'tools', exe);
}

/** dotnet without telemetry, banners or first-run work, so CI output stays about Bicep. */
function dotnetEnv(env) {
  return { ...env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1' };
}

/** `net<major>.0` of the installed SDK, or undefined when dotnet is not on PATH. */
function dotnetFramework(env) {
  const probe = spawnSync('dotnet', ['--version'], { encoding: 'utf8', env: dotnetEnv(env) });
  if (probe.error !== undefined || probe.status !== 0) return undefined;
  const major = /^(\d+)\./.exec(probe.stdout.trim())?.[1];
  return major === undefined ? undefined : `net${major}.0`;
}

function unavailableMessage(reason) {
  return [
    `Bicep CLI not available: ${reason}.`,
    'This repository restores Bicep from NuGet with the .NET SDK. Either:',
    '  - install the .NET SDK 8 or later so `dotnet` is on PATH, then re-run `npm run infra:build`; or',
    '  - install Bicep another way (for example `az bicep install`, which puts it in ~/.azure/bin/bicep) and run',
    '    BICEP_BIN=~/.azure/bin/bicep npm run infra:build',
  ].join('\n');
}

/** Restore the pinned package into .bicep/packages; returns the elapsed milliseconds. */
export function restoreBicep(options) {
  const { cacheDir, env } = withDefaults(options);
  const rid = bicepRid();
  if (rid === undefined)
    throw new InfraCheckError(
      unavailableMessage(`no Bicep package for ${process.platform}/${process.arch}`),
      EXIT_UNAVAILABLE,
    );
  const framework = dotnetFramework(env);
  if (framework === undefined)
    throw new InfraCheckError(unavailableMessage('`dotnet` is not on PATH and BICEP_BIN is not set'), EXIT_UNAVAILABLE);
  const started = performance.now();
  const result = spawnSync(
    'dotnet',
    [
      'restore',
      PROJECT,
      '--nologo',
      '--packages',
      join(cacheDir, 'packages'),
      // Keep obj/ out of the source tree: everything the restore writes lives under .bicep/.
      `-p:MSBuildProjectExtensionsPath=${join(cacheDir, 'obj')}${process.platform === 'win32' ? '\\' : '/'}`,
      `-p:TargetFramework=${framework}`,
      `-p:BicepRid=${rid}`,
    ],
    { encoding: 'utf8', env: dotnetEnv(env) },
  );
  const elapsed = performance.now() - started;
  if (result.status !== 0) {
    throw new InfraCheckError(
      `dotnet restore of Azure.Bicep.CommandLine.${rid} ${BICEP_VERSION} failed:\n${result.stdout}${result.stderr}`,
    );
  }
  const binary = restoredBinary(cacheDir, rid);
  if (!existsSync(binary))
    throw new InfraCheckError(`dotnet restore succeeded but ${relative(ROOT, binary)} is missing.`);
  // NuGet extraction does not always keep the executable bit.
  if (process.platform !== 'win32') chmodSync(binary, 0o755);
  return elapsed;
}

/** The Bicep binary to use and how long a restore took (0 when none was needed). */
export function resolveBicep(options) {
  const { cacheDir, env } = withDefaults(options);
  const fromEnv = env.BICEP_BIN?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new InfraCheckError(`BICEP_BIN points to ${fromEnv}, which does not exist.`, EXIT_UNAVAILABLE);
    return { binary: fromEnv, restoreMs: 0, source: 'BICEP_BIN' };
  }
  const rid = bicepRid();
  const binary = rid === undefined ? undefined : restoredBinary(cacheDir, rid);
  if (binary !== undefined && existsSync(binary)) return { binary, restoreMs: 0, source: 'restored' };
  const restoreMs = restoreBicep({ cacheDir, env });
  return { binary: restoredBinary(cacheDir, bicepRid()), restoreMs, source: 'restored' };
}

function runBicep(binary, args) {
  const result = spawnSync(binary, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw new InfraCheckError(`Could not run ${binary}: ${result.error.message}`);
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/**
 * Diagnostics in Bicep's default format: `file(line,col) : Error|Warning|Info code: message`.
 * A module's diagnostics are reported by every file that uses it, so duplicates are removed.
 */
export function parseDiagnostics(output) {
  const pattern = /^(.+?)\((\d+),(\d+)\)\s*:\s*(Error|Warning|Info)\s+([^:\s]+):\s*(.*)$/;
  const seen = new Map();
  for (const line of output.split(/\r?\n/)) {
    const m = pattern.exec(line.trim());
    if (m === null) continue;
    const [, file, lineNo, column, level, code, message] = m;
    seen.set(`${file}:${lineNo}:${column}:${code}`, {
      file: relative(ROOT, file),
      line: Number(lineNo),
      column: Number(column),
      level,
      code,
      message,
    });
  }
  return [...seen.values()];
}

function bicepFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(path);
    return entry.name.endsWith('.bicep') ? [path] : [];
  });
}

function bicepVersion(binary) {
  const { output } = runBicep(binary, ['--version']);
  return /(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? 'unknown';
}

/** Build main.bicep (into a temporary file) and lint every .bicep file; returns diagnostics and timings. */
function buildAndLint(binary, compiledTemplate) {
  const staged = `${compiledTemplate}.${process.pid}.tmp`;
  const buildStarted = performance.now();
  const build = runBicep(binary, ['build', join(INFRA, 'main.bicep'), '--outfile', staged]);
  const buildMs = performance.now() - buildStarted;
  const lintStarted = performance.now();
  const lint = runBicep(binary, ['lint', '--pattern', `${relative(ROOT, INFRA)}/**/*.bicep`]);
  const lintMs = performance.now() - lintStarted;
  const diagnostics = parseDiagnostics(`${build.output}\n${lint.output}`);
  const failedWithoutDiagnostics = (build.status !== 0 || lint.status !== 0) && diagnostics.length === 0;
  return { staged, build, lint, buildMs, lintMs, diagnostics, failedWithoutDiagnostics };
}

function formatDiagnostic(d) {
  return `  ${d.file}(${d.line},${d.column}) ${d.level} ${d.code}: ${d.message}`;
}

export function build(options) {
  const { cacheDir, env } = withDefaults(options);
  const compiledTemplate = join(cacheDir, 'main.json');
  mkdirSync(cacheDir, { recursive: true });
  const { binary, restoreMs, source } = resolveBicep({ cacheDir, env });
  const version = bicepVersion(binary);
  const run = buildAndLint(binary, compiledTemplate);
  const failing = run.diagnostics.filter((d) => d.level === 'Error' || d.level === 'Warning');
  const files = bicepFiles(INFRA)
    .map((f) => relative(ROOT, f))
    .sort();
  const summary = {
    bicepVersion: version,
    bicepSource: source,
    compiledTemplate,
    restoreMs: Math.round(restoreMs),
    buildMs: Math.round(run.buildMs),
    lintMs: Math.round(run.lintMs),
    files,
    errors: failing.filter((d) => d.level === 'Error').length,
    warnings: failing.filter((d) => d.level === 'Warning').length,
    diagnostics: run.diagnostics,
  };
  writeFileSync(join(cacheDir, 'check.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (failing.length > 0 || run.failedWithoutDiagnostics || !existsSync(run.staged)) {
    rmSync(run.staged, { force: true });
    rmSync(compiledTemplate, { force: true });
    const detail =
      failing.length > 0 ? failing.map(formatDiagnostic).join('\n') : `${run.build.output}${run.lint.output}`.trim();
    throw new InfraCheckError(
      `Bicep ${version}: ${summary.errors} error(s), ${summary.warnings} warning(s); warnings count as failures.\n${detail}`,
    );
  }
  renameSync(run.staged, compiledTemplate);
  return summary;
}

function printSummary(summary) {
  const restored = summary.restoreMs > 0 ? `restore ${summary.restoreMs} ms, ` : '';
  process.stdout.write(
    `Bicep ${summary.bicepVersion} (${summary.bicepSource}): ${restored}build ${summary.buildMs} ms, lint ${summary.lintMs} ms; ` +
      `${summary.files.length} files, 0 errors, 0 warnings → ${relative(ROOT, summary.compiledTemplate)}\n`,
  );
}

/** True when .bicep/main.json is missing or older than any file under infra/ (sources, modules, config). */
export function compiledTemplateIsStale() {
  if (!existsSync(COMPILED_TEMPLATE)) return true;
  const builtAt = statSync(COMPILED_TEMPLATE).mtimeMs;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const path = join(dir, entry.name);
      return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  return newest(INFRA) > builtAt;
}

function main(command = 'build') {
  try {
    if (command === 'build') printSummary(build());
    else if (command === 'restore')
      process.stdout.write(`Restored Bicep ${BICEP_VERSION} in ${Math.round(restoreBicep())} ms\n`);
    else if (command === 'where') process.stdout.write(`${resolveBicep().binary}\n`);
    else throw new InfraCheckError(`Unknown command "${command}". Use build, restore or where.`, 2);
    return 0;
  } catch (error) {
    if (!(error instanceof InfraCheckError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv[2]);
}
