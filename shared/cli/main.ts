#!/usr/bin/env node
/** Entry point of `incident-collector` (package.json `bin`). */
import { main } from './run.js';

/** Exit once stdout is flushed: pooled keep-alive sockets of the SDKs must not hold the process open. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exitAfterFlush, (error: unknown) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  exitAfterFlush(1);
});
