/** Run the real CLI in-process with captured stdout/stderr. */
import type { Io } from '../shared/cli/io.js';
import { main } from '../shared/cli/run.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    interactive: false,
  };
  const code = await main(argv, io, env);
  return { code, stdout, stderr };
}

/** Parse NDJSON output. */
export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
