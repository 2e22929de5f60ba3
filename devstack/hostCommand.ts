/**
 * `npm run host -- [--workers N] [--fire NAME]`: the local Functions host (devstack/queueHost.ts) for the app's
 * queue triggers, without Azure Functions Core Tools. Runs N worker processes (default 1), each loading the built
 * app (dist/functions/index.js) and polling `tenant-collect` and `tenant-collect-poison` with host.json's
 * `extensions.queues` settings, until Ctrl-C. `--fire collectSchedule` runs that timer once in the first worker when
 * all listen: one full hourly run through the queue. App settings come from the environment, e.g. from
 * `npm run stack`: `set -a; . ./local.stack.env; set +a; npm run host -- --fire collectSchedule`.
 */
import { HostWorker, prepareHostScripts } from './hostProcess.js';

/** What `npm run host` was asked for. */
export interface HostCommandOptions {
  /** Worker processes (1 to 16). */
  readonly workers: number;
  /** Timer functions to run once when the workers listen. */
  readonly fire: readonly string[];
}

/** `--workers N`, `--fire NAME` (repeatable); throws naming the option on bad input. */
export function parseHostArgs(argv: readonly string[]): HostCommandOptions {
  let workers = 1;
  const fire: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--workers' && value !== undefined) {
      workers = Number(value);
      if (!Number.isInteger(workers) || workers < 1 || workers > 16)
        throw new Error(`--workers must be a whole number from 1 to 16, got "${value}".`);
      i++;
    } else if (arg === '--fire' && value !== undefined) {
      fire.push(value);
      i++;
    } else {
      throw new Error(`Unknown or incomplete option "${arg}". Usage: npm run host -- [--workers N] [--fire NAME]`);
    }
  }
  return { workers, fire };
}

/**
 * Start the workers with `settings` as their app settings, fire the timers asked for, and serve until SIGINT or
 * SIGTERM (then stop the workers, letting the invocations in flight finish). Resolves once stopped.
 */
export async function runLocalHost(
  options: HostCommandOptions,
  settings: Readonly<Record<string, string>>,
): Promise<void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const scripts = await prepareHostScripts();
  const workers: HostWorker[] = [];
  try {
    for (let i = 0; i < options.workers; i++)
      workers.push(await HostWorker.start(scripts, settings, { logLevel: 'information' }, { stderr: 'inherit' }));
    say(
      `Local Functions host: ${workers.length} worker process(es) (pids ${workers.map((w) => w.pid).join(', ')}) listening for ${workers[0]?.listening.join(', ')}. Ctrl-C stops.`,
    );
    for (const name of options.fire) {
      const fired = await (workers[0] as HostWorker).fire(name);
      say(`${name}: ran once, ${fired.sent} output message(s) sent.`);
    }
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    say('Stopping: letting the invocations in flight finish…');
    const counters = await Promise.all(workers.map((w) => w.stop()));
    const completed = counters.reduce((sum, c) => sum + c.completed, 0);
    const failed = counters.reduce((sum, c) => sum + c.failed, 0);
    say(`Stopped: ${completed} invocation(s) completed, ${failed} failed.`);
  } catch (error) {
    for (const worker of workers) worker.kill();
    throw error;
  } finally {
    await scripts.dispose();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  try {
    const env = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    await runLocalHost(parseHostArgs(process.argv.slice(2)), env);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`npm run host: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
