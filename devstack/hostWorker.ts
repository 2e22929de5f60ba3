/**
 * One local Functions host process (devstack/queueHost.ts): loads the app entry with its registrations captured,
 * listens on its queue triggers, and answers its supervisor over the Node IPC channel (hostProcess.ts). App settings
 * come from the environment, as under the Functions host; the host's own options come as JSON in `QUEUE_HOST`
 * (`HostWorkerConfig`).
 *
 * Protocol (`WorkerRequest` in, `WorkerReply` out): `ready` once listening; `fire` runs a timer function once and
 * answers `fired`; `mark` restarts the CPU and queue-operation counters; `stop` stops polling, waits for the
 * invocations in flight and answers `stopped` with the counters, then the process exits. Without an IPC channel
 * (started by hand) it runs until SIGINT/SIGTERM. Handler log lines go to stderr at `logLevel` and above.
 */
import { loadFunctionApp } from './functionsCore.js';
import { QueueHost, readQueueOptions, type HostEvent, type QueueOperationCounts } from './queueHost.js';

/** What the supervisor tells a worker (JSON in the `QUEUE_HOST` environment variable). */
export interface HostWorkerConfig {
  /** The app entry to import (dist/functions/index.js or a bundle of it). */
  readonly entry: string;
  /** The host.json whose `extensions.queues` the triggers follow. */
  readonly hostJson: string;
  /** Only these queue functions listen (default: all). */
  readonly functions?: readonly string[];
  /** Lowest handler log level written to stderr (default `information`). */
  readonly logLevel?: 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'none';
  /** Forward each invocation's outcome to the supervisor as an `event` reply. */
  readonly events?: boolean;
}

export type WorkerRequest = { type: 'fire'; name: string } | { type: 'mark' } | { type: 'stop' };

/** Counters since start or the last `mark`. */
export interface WorkerCounters {
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly queue: QueueOperationCounts;
  /** Queue-triggered invocations that resolved (the message deleted) / threw. */
  readonly completed: number;
  readonly failed: number;
  /** Invocations that threw, by the error's code (`other` without one). */
  readonly failedBy: Readonly<Record<string, number>>;
  readonly maxRssMB: number;
}

export type WorkerReply =
  | { type: 'ready'; pid: number; listening: string[] }
  | { type: 'fired'; name: string; sent: number; sendingAt: number; texts: string[] }
  | { type: 'marked' }
  | { type: 'stopped'; counters: WorkerCounters }
  | { type: 'event'; event: HostEvent }
  | { type: 'error'; message: string };

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'none'];

async function main(): Promise<void> {
  const raw = process.env.QUEUE_HOST;
  if (!raw) throw new Error('QUEUE_HOST (the worker configuration, JSON) is not set.');
  const config = JSON.parse(raw) as HostWorkerConfig;
  const minLevel = LEVELS.indexOf(config.logLevel ?? 'information');
  const send = (reply: WorkerReply) => process.send?.(reply);
  let completed = 0;
  let failed = 0;
  let failedBy: Record<string, number> = {};
  const registrations = await loadFunctionApp(config.entry);
  const host = new QueueHost({
    registrations,
    queueOptions: await readQueueOptions(config.hostJson),
    ...(config.functions ? { functions: config.functions } : {}),
    log: (fn, level, text) => {
      if (LEVELS.indexOf(level) >= minLevel) process.stderr.write(`[${process.pid} ${fn}] ${level}: ${text}\n`);
    },
    onEvent: (event) => {
      // Queue invocations only (a fired timer has no message).
      if (event.kind === 'completed' && event.messageId !== undefined) completed++;
      if (event.kind === 'failed' && event.messageId !== undefined) {
        failed++;
        const code = event.errorCode ?? 'other';
        failedBy[code] = (failedBy[code] ?? 0) + 1;
      }
      if (config.events) send({ type: 'event', event });
    },
  });
  let cpuBase = process.cpuUsage();
  let wallBase = performance.now();
  let queueBase = { ...host.counts };
  let doneBase = { completed: 0, failed: 0 };
  const counters = (): WorkerCounters => {
    const cpu = process.cpuUsage(cpuBase);
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - wallBase,
      queue: {
        receives: host.counts.receives - queueBase.receives,
        deletes: host.counts.deletes - queueBase.deletes,
        updates: host.counts.updates - queueBase.updates,
        sends: host.counts.sends - queueBase.sends,
      },
      completed: completed - doneBase.completed,
      failed: failed - doneBase.failed,
      failedBy,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    };
  };
  await host.start();
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= host.stop().then(() => {
      // The app's clients keep sockets open: exit once the supervisor has the counters.
      if (process.send)
        process.send({ type: 'stopped', counters: counters() } satisfies WorkerReply, () => process.exit(0));
      else process.exit(0);
    });
    return stopping;
  };
  process.on('message', (request: WorkerRequest) => {
    if (request.type === 'fire') {
      host.fireTimer(request.name).then(
        (fired) => send({ type: 'fired', name: request.name, ...fired }),
        (error: unknown) => send({ type: 'error', message: (error as Error).message }),
      );
    } else if (request.type === 'mark') {
      cpuBase = process.cpuUsage();
      wallBase = performance.now();
      queueBase = { ...host.counts };
      doneBase = { completed, failed };
      failedBy = {};
      send({ type: 'marked' });
    } else if (request.type === 'stop') {
      void stop();
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
  send({ type: 'ready', pid: process.pid, listening: host.listening });
}

main().catch((error: unknown) => {
  process.stderr.write(`queue host: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.send?.({ type: 'error', message: (error as Error).message } satisfies WorkerReply);
  process.exit(1);
});
