/**
 * Azurite (the real storage emulator, from npm) for tests, the demo and benchmarks: loopback only, free ports,
 * telemetry off, in memory by default (or in a temporary folder that is removed on stop, so it can be restarted
 * with its data — used by the fault suite).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const DEVSTORE_ACCOUNT = 'devstoreaccount1';
export const DEVSTORE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Azurite did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface AzuriteOptions {
  /** Keep data on disk in a temporary folder (removed by stop()), so stop+start keeps the data. */
  readonly persistent?: boolean;
}

export class Azurite {
  private child: ChildProcess | undefined;
  private location: string | undefined;
  private ports: { blob: number; queue: number; table: number } | undefined;
  private readonly persistent: boolean;

  constructor(options: AzuriteOptions = {}) {
    this.persistent = options.persistent ?? false;
  }

  get tablePort(): number {
    return this.requirePorts().table;
  }

  get queuePort(): number {
    return this.requirePorts().queue;
  }

  get tableEndpoint(): string {
    return `http://127.0.0.1:${this.tablePort}/${DEVSTORE_ACCOUNT}`;
  }

  get queueEndpoint(): string {
    return `http://127.0.0.1:${this.queuePort}/${DEVSTORE_ACCOUNT}`;
  }

  /** An explicit connection string (UseDevelopmentStorage=true would mean the default ports). */
  get connectionString(): string {
    const p = this.requirePorts();
    return [
      'DefaultEndpointsProtocol=http',
      `AccountName=${DEVSTORE_ACCOUNT}`,
      `AccountKey=${DEVSTORE_KEY}`,
      `BlobEndpoint=http://127.0.0.1:${p.blob}/${DEVSTORE_ACCOUNT}`,
      `QueueEndpoint=http://127.0.0.1:${p.queue}/${DEVSTORE_ACCOUNT}`,
      `TableEndpoint=http://127.0.0.1:${p.table}/${DEVSTORE_ACCOUNT}`,
    ].join(';');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private requirePorts(): { blob: number; queue: number; table: number } {
    if (!this.ports) throw new Error('Azurite is not started');
    return this.ports;
  }

  async start(): Promise<this> {
    if (this.child) return this;
    this.ports ??= { blob: await freePort(), queue: await freePort(), table: await freePort() };
    const require = createRequire(import.meta.url);
    const entry = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
    const args = [
      entry,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost', '127.0.0.1', '--blobPort', String(this.ports.blob),
      '--queueHost', '127.0.0.1', '--queuePort', String(this.ports.queue),
      '--tableHost', '127.0.0.1', '--tablePort', String(this.ports.table),
    ];
    if (this.persistent) {
      this.location ??= await mkdtemp(path.join(os.tmpdir(), 'azurite-'));
      args.push('--location', this.location);
    } else {
      args.push('--inMemoryPersistence');
    }
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.child = child;
    try {
      await waitForPort(this.ports.table, 20000, child);
      await waitForPort(this.ports.queue, 20000, child);
    } catch (error) {
      child.kill('SIGKILL');
      this.child = undefined;
      throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ''}`, { cause: error });
    }
    return this;
  }

  /** Stop the process (SIGKILL when `hard`). Persistent data survives until stop({ cleanup: true }). */
  async halt(hard = false): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.halt();
    if (this.location) {
      await rm(this.location, { recursive: true, force: true });
      this.location = undefined;
    }
  }
}
