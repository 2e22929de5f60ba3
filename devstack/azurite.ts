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
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * How long a start may take before it is reported as hung: a hang guard, not a speed goal. Azurite starts in 1–2 s
 * on a quiet machine but took over 20 s on 2 cores shared with a dozen busy processes (the old limit failed CI).
 */
const START_GUARD_MS = 180_000;

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

/** Read "Azurite <Service> service is successfully listening at http://127.0.0.1:<port>" for all three services. */
function announcedPorts(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ blob: number; queue: number; table: number }> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<'blob' | 'queue' | 'table', number>> = {};
    let buffered = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep draining stdout, or a chatty child would block on a full pipe.
      child.stdout?.removeListener('data', onData);
      child.stdout?.resume();
      if (error) reject(error);
      else resolve({ blob: found.blob as number, queue: found.queue as number, table: found.table as number });
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      for (const match of buffered.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^\s:]+:(\d+)/g,
      )) {
        found[(match[1] as string).toLowerCase() as 'blob' | 'queue' | 'table'] = Number(match[2]);
      }
      if (found.blob !== undefined && found.queue !== undefined && found.table !== undefined) finish();
      else buffered = buffered.slice(-1000);
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`Azurite exited with code ${code} before listening`));
    const timer = setTimeout(
      () => finish(new Error(`Azurite did not announce its ports within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
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

  /**
   * The first start lets Azurite bind port 0 and reads the ports it announces, so no other process can take a port
   * between choosing and binding it (two test workers starting stacks at once did, now and then). A restart
   * reuses the same ports, as a restarted storage account keeps its endpoint.
   */
  async start(): Promise<this> {
    if (this.child) return this;
    const ports = this.ports ?? { blob: 0, queue: 0, table: 0 };
    const require = createRequire(import.meta.url);
    const entry = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
    const args = [
      entry,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(ports.blob),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(ports.queue),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(ports.table),
    ];
    if (this.persistent) {
      this.location ??= await mkdtemp(path.join(os.tmpdir(), 'azurite-'));
      args.push('--location', this.location);
    } else {
      args.push('--inMemoryPersistence');
    }
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.child = child;
    try {
      this.ports = await announcedPorts(child, START_GUARD_MS);
      await waitForPort(this.ports.table, START_GUARD_MS, child);
      await waitForPort(this.ports.queue, START_GUARD_MS, child);
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
