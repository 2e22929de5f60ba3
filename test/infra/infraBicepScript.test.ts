/**
 * scripts/infra-bicep.mjs: warnings fail the check (the CLI itself exits 0 on them), a failed check leaves no
 * compiled template behind, and a machine without Bicep gets instructions instead of an obscure error.
 * A stand-in `bicep` (a shell script) plays the CLI so each outcome can be produced on demand.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  build,
  EXIT_UNAVAILABLE,
  InfraCheckError,
  parseDiagnostics,
  resolveBicep,
} from '../../scripts/infra-bicep.mjs';

const work = mkdtempSync(join(tmpdir(), 'infra-bicep-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A stand-in Bicep CLI: `--version`, `build … --outfile F` (writes F), `lint` (prints lintOutput). */
function fakeBicep(name: string, lintOutput: string): string {
  const path = join(work, name);
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'if [ "$1" = "--version" ]; then echo "Bicep CLI version 0.49.2 (fake)"; exit 0; fi',
      'if [ "$1" = "build" ]; then',
      '  while [ $# -gt 0 ]; do if [ "$1" = "--outfile" ]; then shift; echo "{}" > "$1"; fi; shift; done',
      '  exit 0',
      'fi',
      `if [ "$1" = "lint" ]; then printf '%s\\n' '${lintOutput}' >&2; exit 0; fi`,
      'exit 64',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

function thrown(action: () => unknown): InfraCheckError {
  try {
    action();
  } catch (error) {
    if (error instanceof InfraCheckError) return error;
    throw error;
  }
  throw new Error('expected an InfraCheckError');
}

describe('parseDiagnostics', () => {
  it('reads errors, warnings and infos, and drops a module diagnostic reported twice', () => {
    const output = [
      '/repo/infra/main.bicep(3,7) : Error no-unused-params: Parameter "x" is declared but never used. [https://aka.ms/x]',
      '/repo/infra/modules/a.bicep(10,2) : Warning BCP081: Resource type "A@1" does not have types available.',
      '/repo/infra/modules/a.bicep(10,2) : Warning BCP081: Resource type "A@1" does not have types available.',
      '/repo/infra/main.bicep(1,1) : Info some-info: informational',
      'Restoring packages…',
    ].join('\n');
    const diagnostics = parseDiagnostics(output);
    expect(diagnostics.map((d) => [d.level, d.code, d.line, d.column])).toEqual([
      ['Error', 'no-unused-params', 3, 7],
      ['Warning', 'BCP081', 10, 2],
      ['Info', 'some-info', 1, 1],
    ]);
  });
});

describe('build', () => {
  it('fails on a linter warning even though the CLI exits 0, and leaves no main.json', () => {
    const cacheDir = join(work, 'warning');
    const bicep = fakeBicep(
      'bicep-warning',
      '/repo/infra/main.bicep(5,3) : Warning prefer-interpolation: Use string interpolation.',
    );
    const error = thrown(() => build({ cacheDir, env: { ...process.env, BICEP_BIN: bicep } }));
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/0 error\(s\), 1 warning\(s\)/);
    expect(error.message).toContain('prefer-interpolation');
    expect(existsSync(join(cacheDir, 'main.json'))).toBe(false);
    const summary = JSON.parse(readFileSync(join(cacheDir, 'check.json'), 'utf8')) as { warnings: number };
    expect(summary.warnings).toBe(1);
  });

  it('writes main.json and a zero-diagnostics summary when build and lint are clean', () => {
    const cacheDir = join(work, 'clean');
    const bicep = fakeBicep('bicep-clean', '');
    const summary = build({ cacheDir, env: { ...process.env, BICEP_BIN: bicep } });
    expect(summary).toMatchObject({
      bicepVersion: '0.49.2',
      bicepSource: 'BICEP_BIN',
      errors: 0,
      warnings: 0,
      restoreMs: 0,
    });
    expect(readFileSync(join(cacheDir, 'main.json'), 'utf8').trim()).toBe('{}');
  });
});

describe('resolveBicep without Bicep', () => {
  it('explains how to get Bicep when neither BICEP_BIN nor dotnet is available', () => {
    const cacheDir = join(work, 'nothing');
    const env = { PATH: join(work, 'empty-path'), HOME: work };
    const error = thrown(() => resolveBicep({ cacheDir, env }));
    expect(error.exitCode).toBe(EXIT_UNAVAILABLE);
    expect(error.message).toMatch(/dotnet/);
    expect(error.message).toMatch(/az bicep install/);
    expect(error.message).toMatch(/BICEP_BIN=/);
  });

  it('names a BICEP_BIN that does not exist', () => {
    const missing = join(work, 'no-such-bicep');
    const error = thrown(() => resolveBicep({ cacheDir: join(work, 'x'), env: { BICEP_BIN: missing } }));
    expect(error.exitCode).toBe(EXIT_UNAVAILABLE);
    expect(error.message).toContain(missing);
  });
});
