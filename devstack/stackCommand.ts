/**
 * Entry point of `npm run stack` (see serve.ts): parse the options, serve until Ctrl-C. With `--host` (its own
 * options after it: `--workers N`, `--fire NAME`, see hostCommand.ts) the local Functions host runs the app's queue
 * and timer functions against the stack too: `npm run stack -- --host --fire collectSchedule` is one hourly run
 * through the queue without Core Tools.
 */
import { parseHostArgs, runLocalHost } from './hostCommand.js';
import { parseServeArgs, serveLocalStack } from './serve.js';

try {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--host');
  const hostOptions = at >= 0 ? parseHostArgs(argv.slice(at + 1)) : undefined;
  const values = await serveLocalStack(parseServeArgs(at >= 0 ? argv.slice(0, at) : argv));
  // Ctrl-C reaches the workers too (one process group): they finish their invocations while the stack stops.
  if (hostOptions) await runLocalHost(hostOptions, { PATH: process.env.PATH ?? '', ...values });
} catch (error) {
  process.stderr.write(`npm run stack: ${(error as Error).message}\n`);
  process.exit(1);
}
