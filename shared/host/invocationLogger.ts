/**
 * Logging for the Functions host. The services are built once per process, but every line belongs to one
 * invocation: the process-wide logger looks up the current invocation (AsyncLocalStorage) and writes through its
 * context, so the host correlates the line with the invocation in Application Insights. Outside an invocation
 * (start-up) it falls back to stderr. Lines pass through the redacting logger of shared/log.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createLogger, type LogLevel } from '../log.js';
import type { Logger } from '../ports.js';

/** The part of an `InvocationContext` the logger needs (structural, so shared/ does not import @azure/functions). */
export interface InvocationLog {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const current = new AsyncLocalStorage<InvocationLog>();

/** Run `work` with its log lines going to `context`. */
export function withInvocation<T>(context: InvocationLog, work: () => Promise<T>): Promise<T> {
  return current.run(context, work);
}

function writeLine(level: LogLevel, line: string): void {
  const context = current.getStore();
  if (context) context[level](line);
  else process.stderr.write(`${line}\n`);
}

/** The process-wide logger handed to createServices. */
export function createInvocationLogger(): Logger {
  return createLogger(writeLine);
}
