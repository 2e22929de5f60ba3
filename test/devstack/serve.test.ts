/**
 * `npm run stack` (dist/devstack/stackCommand.js, built by `npm test` before jest) as a user runs it: a child process that
 * prints the settings, the built CLI pointed at them lists the demo tenants, and Ctrl-C (SIGINT) stops it cleanly
 * with every port and the CA file released. Every wait is on an event (the ready line, the exit), never on time.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { demoTenants } from '../../devstack/demoTenants.js';
import { READY_LINE } from '../../devstack/serve.js';

const run = promisify(execFile);
const TENANTS = 2;
const outDir = mkdtempSync(path.join(os.tmpdir(), 'stack-cmd-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Resolves with everything printed once `line` was printed; rejects if the process exits first. */
function printed(child: ChildProcess, line: string): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(line)) resolve({ stdout, stderr });
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`npm run stack exited (${code ?? signal}) before it was ready:\n${stdout}\n${stderr}`)),
    );
  });
}

/** The `NAME='value'` lines of the printed "# Environment" section. */
function envSection(stdout: string): Record<string, string> {
  const section = stdout.split('# Environment')[1]?.split('\n\n')[0] ?? '';
  const values: Record<string, string> = {};
  for (const line of section.split('\n').slice(1)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)='(.*)'$/.exec(line);
    if (match) values[match[1] as string] = (match[2] as string).replaceAll(`'\\''`, "'");
  }
  return values;
}

/** True when 127.0.0.1:port can be bound again. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('npm run stack', () => {
  it('serves until SIGINT, prints settings the built CLI works with, then exits 0 and frees its ports', async () => {
    const child = spawn(
      process.execPath,
      ['dist/devstack/stackCommand.js', '--tenants', String(TENANTS), '--out', outDir],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const { stdout } = await printed(child, READY_LINE);
      const settings = envSection(stdout);

      // What is printed is what is written, in both shapes.
      const envFile = readFileSync(path.join(outDir, 'local.stack.env'), 'utf8');
      expect(envSection(`# Environment\n${envFile}`)).toEqual(settings);
      const document = JSON.parse(readFileSync(path.join(outDir, 'local.settings.user.json'), 'utf8')) as {
        IsEncrypted: boolean;
        Values: Record<string, string>;
      };
      expect(document).toEqual({ IsEncrypted: false, Values: settings });
      for (const name of ['AzureWebJobsStorage', 'KEY_VAULT_URL', 'PARTNER_CLIENT_ID', 'GRAPH_ENDPOINT'])
        expect(settings[name]).toBeTruthy();
      expect(settings.CONSENT_REDIRECT_URI).toBe('http://localhost:7071/api/consent/callback');
      const caFile = settings.NODE_EXTRA_CA_CERTS as string;
      expect(readFileSync(caFile, 'utf8')).toContain('BEGIN CERTIFICATE');

      // The built CLI, in a process of its own that has nothing but the printed settings.
      const listed = await run(process.execPath, ['dist/shared/cli/main.js', 'tenants', 'list', '--json'], {
        env: { PATH: process.env.PATH ?? '', ...settings },
      });
      const tenants = JSON.parse(listed.stdout) as { tenantId: string; displayName: string; status: string }[];
      expect(tenants.map((t) => [t.tenantId, t.displayName, t.status]).sort()).toEqual(
        demoTenants(TENANTS)
          .map((t) => [t.tenantId, t.displayName, 'active'])
          .sort(),
      );

      const urls = ['AZURE_AUTHORITY_HOST', 'KEY_VAULT_URL', 'GRAPH_ENDPOINT', 'M365D_ENDPOINT'].map(
        (name) => new URL(settings[name] as string),
      );
      const storagePorts = [...(settings.AzureWebJobsStorage as string).matchAll(/Endpoint=http:\/\/[^:]+:(\d+)/g)].map(
        (m) => Number(m[1]),
      );
      const ports = [...urls.map((u) => Number(u.port)), ...storagePorts];
      expect(storagePorts).toHaveLength(3);
      expect(ports.every((p) => p > 0)).toBe(true);
      expect(await Promise.all(ports.map(portFree))).toEqual(ports.map(() => false));

      child.kill('SIGINT');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(await Promise.all(ports.map(portFree))).toEqual(ports.map(() => true));
      expect(existsSync(caFile)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
