/**
 * Supervisor side of the local Functions host: where the worker's and the app's JavaScript come from, and worker
 * processes (devstack/hostWorker.ts) spoken to over the Node IPC channel.
 *
 * Built (`npm run build`, this file in dist/devstack/): the worker is dist/devstack/hostWorker.js and the app is
 * dist/functions/index.js, as `func start` would load it. From the TypeScript sources (jest): both are bundled with
 * esbuild into a temporary folder (the app exactly as the deployment package bundles it, scripts/package.mjs), which
 * `dispose()` removes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostWorkerConfig, WorkerCounters, WorkerReply, WorkerRequest } from './hostWorker.js';
import type { HostEvent } from './queueHost.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root from devstack/ (sources) or dist/devstack/ (built). */
export function repositoryRoot(): string {
  const up = path.resolve(here, '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

export interface HostScripts {
  /** The worker script to run with Node. */
  readonly worker: string;
  /** The function app entry the worker imports. */
  readonly appEntry: string;
  /** The app's host.json. */
  readonly hostJson: string;
  dispose(): Promise<void>;
}

/** The worker and app scripts (built files when present, otherwise esbuild bundles of the sources). */
export async function prepareHostScripts(): Promise<HostScripts> {
  const root = repositoryRoot();
  const hostJson = path.join(root, 'host.json');
  const built = path.join(here, 'hostWorker.js');
  if (existsSync(built))
    return {
      worker: built,
      appEntry: path.join(here, '..', 'functions', 'index.js'),
      hostJson,
      dispose: async () => undefined,
    };
  const { build } = await import('esbuild');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'queue-host-'));
  try {
    const worker = path.join(dir, 'hostWorker.mjs');
    await build({
      entryPoints: [path.join(root, 'devstack', 'hostWorker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile: worker,
      logLevel: 'error',
      // The worker's InvocationContext comes from @azure/functions, which asks for the worker-injected module.
      external: ['@azure/functions-core'],
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    });
    const packaging = (await import(pathToFileURL(path.join(root, 'scripts', 'package.mjs')).href)) as {
      bundleApp(outDir: string): Promise<string>;
    };
    const appEntry = await packaging.bundleApp(path.join(dir, 'app'));
    return { worker, appEntry, hostJson, dispose: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A running worker process. */
export class HostWorker {
  private readonly waiting: { accept: (reply: WorkerReply) => boolean; resolve: (r: WorkerReply) => void }[] = [];
  private exited: Promise<number | null>;
  private stderrTail = '';
  private stoppedWith: WorkerCounters | undefined;
  listening: string[] = [];

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (reply: WorkerReply) => {
      if (reply.type === 'event') this.onEvent?.(reply.event);
      // A worker also stops on its own signal (Ctrl-C reaches the whole process group).
      if (reply.type === 'stopped') this.stoppedWith = reply.counters;
      const at = this.waiting.findIndex((w) => w.accept(reply));
      if (at >= 0) this.waiting.splice(at, 1)[0]?.resolve(reply);
    });
  }

  /** Each invocation's outcome (with `events: true` in the config). */
  onEvent: ((event: HostEvent) => void) | undefined;

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Start a worker with `settings` as its whole environment (plus PATH) and wait until it listens. `stderr`:
   * `inherit` shows the handlers' log lines; `pipe` keeps the last few kB for an error message.
   */
  static async start(
    scripts: HostScripts,
    settings: Readonly<Record<string, string>>,
    config: Omit<HostWorkerConfig, 'entry' | 'hostJson'> = {},
    options: { stderr?: 'inherit' | 'pipe'; nodeArgs?: readonly string[] } = {},
  ): Promise<HostWorker> {
    const full: HostWorkerConfig = { entry: scripts.appEntry, hostJson: scripts.hostJson, ...config };
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), scripts.worker], {
      env: { PATH: process.env.PATH ?? '', ...settings, QUEUE_HOST: JSON.stringify(full) },
      stdio: ['ignore', 'inherit', options.stderr ?? 'pipe', 'ipc'],
    });
    const worker = new HostWorker(child);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      worker.stderrTail = (worker.stderrTail + d).slice(-4000);
    });
    const ready = await worker.reply((r) => r.type === 'ready');
    if (ready.type === 'ready') worker.listening = ready.listening;
    return worker;
  }

  private reply(accept: (reply: WorkerReply) => boolean): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const entry = {
        accept: (r: WorkerReply) => accept(r) || r.type === 'error',
        resolve: (r: WorkerReply) =>
          r.type === 'error' ? reject(new Error(`Queue host worker: ${r.message}`)) : resolve(r),
      };
      this.waiting.push(entry);
      void this.exited.then((code) => {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(new Error(`The queue host worker exited (${code}): ${this.stderrTail.trim() || '(no output)'}`));
      });
    });
  }

  private request(request: WorkerRequest): void {
    this.child.send(request);
  }

  /** Run a timer function once in this worker; resolves when its output messages are sent. */
  async fire(name: string): Promise<Extract<WorkerReply, { type: 'fired' }>> {
    const reply = this.reply((r) => r.type === 'fired' && r.name === name);
    this.request({ type: 'fire', name });
    return (await reply) as Extract<WorkerReply, { type: 'fired' }>;
  }

  /** Restart the worker's counters (CPU, wall, queue operations, invocations). */
  async mark(): Promise<void> {
    const reply = this.reply((r) => r.type === 'marked');
    this.request({ type: 'mark' });
    await reply;
  }

  /** Stop polling, let the invocations in flight finish, and return the counters since start or the last mark. */
  async stop(): Promise<WorkerCounters> {
    if (!this.stoppedWith) {
      const reply = this.reply((r) => r.type === 'stopped');
      reply.catch(() => undefined);
      try {
        this.request({ type: 'stop' });
        await reply;
      } catch (error) {
        if (!this.stoppedWith) throw error;
      }
    }
    await this.exited;
    return this.stoppedWith as WorkerCounters;
  }

  /** End the process without waiting (clean-up after a failure). */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
