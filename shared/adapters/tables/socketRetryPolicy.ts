/**
 * A pipeline policy for the Table clients: re-send a request whose pooled keep-alive connection the service closed
 * under it. The Azure SDK's retry strategy retries ECONNRESET but not EPIPE (its list of retried system errors in
 * `@azure/core-rest-pipeline` / `@typespec/ts-http-runtime` lacks it), and EPIPE is what Node reports when a request
 * is written to a socket the server has already closed.
 *
 * The cause is prevented by the clients' agent (keepAliveAgent.ts): the SDK's own agent kept idle sockets until the
 * client's event loop read the server's FIN, so a loop busy through Azurite's 5 s keep-alive timeout handed the
 * next request a closed socket, and each immediate re-send the next closed one from the pool (all three attempts
 * failed with EPIPE in one loaded run). This policy stays as the backstop for a close that still crosses a request
 * in flight; with that agent, a re-send gets a new connection or one used moments ago.
 *
 * Safe to re-send: EPIPE means the request could not be written whole, so the service cannot have acted on it (a
 * `$batch` is parsed only once complete), and every write of the collector is idempotent or ETag-guarded anyway.
 */
import type { TableServiceClientOptions } from '@azure/data-tables';

/** The SDK's pipeline policy type, reached through the Tables package (no direct dependency on its pipeline). */
export type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/** Attempts after the first for a request that failed with EPIPE before any answer. */
export const SOCKET_RETRIES = 2;

/** Error codes meaning "the request was never delivered whole on a reused connection". */
const UNSENT_CODES: ReadonlySet<string> = new Set(['EPIPE']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && UNSENT_CODES.has(code)) return code;
  return typeof cause === 'object' && cause !== null ? codeOf(cause) : undefined;
}

/** Re-sends (at once, on a fresh connection from the pool) up to SOCKET_RETRIES times; any other error passes. */
export function socketRetryPolicy(retries = SOCKET_RETRIES): PipelinePolicy {
  return {
    name: 'collectorSocketRetry',
    async sendRequest(request, next) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await next(request);
        } catch (error) {
          if (attempt >= retries || codeOf(error) === undefined) throw error;
        }
      }
    },
  };
}
