/** The `incident-collector` command as a function: parse argv, run, return the exit code. */
import { CommanderError } from 'commander';
import { loadSettings } from '../config/settings.js';
import { createServices, type Services } from '../composition.js';
import { redact, stderrLogger } from '../log.js';
import { disabledTelemetry, startTelemetry, type Telemetry } from '../telemetry/index.js';
import { createHandlers, exitCodeOfError } from './commands.js';
import { runDemo } from './demo.js';
import { processIo, type Io } from './io.js';
import { buildProgram, exitCodeOfCommanderError } from './program.js';

/** Run the CLI with `argv` (without node and script), returning the exit code. Used by tests too. */
export async function main(
  argv: readonly string[],
  io: Io = processIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let services: Services | undefined;
  // Telemetry (issue 12) only with APPLICATIONINSIGHTS_CONNECTION_STRING; stderr logging is unchanged either way.
  let telemetry: Telemetry = disabledTelemetry;
  const getServices = async (): Promise<Services> => {
    services ??= createServices(loadSettings(env), { logger: stderrLogger('warn'), env, metrics: telemetry.metrics });
    await services.ready();
    return services;
  };
  let exitCode = 0;
  const program = buildProgram(
    createHandlers(getServices, io, (opts) => runDemo(io, opts)),
    io,
    (code) => {
      exitCode = code;
    },
  );
  try {
    telemetry = await startTelemetry(env, { disableOfflineStorage: true });
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOfCommanderError(error);
    const { code, message } = exitCodeOfError(error);
    io.err(`error: ${message}\n`);
    return code;
  } finally {
    // Everything this command recorded is exported before it exits (a CLI run does not live to the next interval).
    await telemetry.shutdown().catch((error: unknown) => {
      io.err(`warning: telemetry could not be flushed: ${redact((error as Error).message)}\n`);
    });
  }
}
