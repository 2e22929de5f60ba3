/** The `incident-collector` command as a function: parse argv, run, return the exit code. */
import { CommanderError } from 'commander';
import { loadSettings } from '../config/settings.js';
import { createServices, type Services } from '../composition.js';
import { stderrLogger } from '../log.js';
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
  const getServices = async (): Promise<Services> => {
    services ??= createServices(loadSettings(env), { logger: stderrLogger('warn'), env });
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
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOfCommanderError(error);
    const { code, message } = exitCodeOfError(error);
    io.err(`error: ${message}\n`);
    return code;
  }
}
