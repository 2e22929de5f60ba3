/**
 * How long to wait before retrying an incidents-API request: pure functions, unit-tested.
 * Server hints win (Graph's `Retry-After`, the legacy API's "Try again in N seconds" body), capped so one
 * unreasonable answer cannot stall a run; otherwise jittered exponential backoff, capped.
 */

export interface BackoffOptions {
  /** First backoff step (attempt 1). */
  readonly baseMs: number;
  /** Largest computed backoff. */
  readonly capMs: number;
  /** Largest server-requested wait honoured (longer hints are cut to this). */
  readonly maxRetryAfterMs: number;
  /** Random source in [0, 1) for jitter. */
  readonly random?: () => number;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (relative to `nowMs`); undefined if absent/invalid. */
export function parseRetryAfter(header: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The legacy API's throttling hint in the body: `{"error":{"message":"… Try again in N seconds."}}`. */
export function parseTryAgainIn(body: unknown): number | undefined {
  const message = apiErrorOf(body)?.message ?? (typeof body === 'string' ? body : undefined);
  if (message === undefined) return undefined;
  const match = /try again in (\d+(?:\.\d+)?) seconds?/i.exec(message);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** `{error:{code,message}}` of Graph and the legacy API, when the body has that shape. */
export function apiErrorOf(body: unknown): { code?: string; message?: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/**
 * Delay before retry number `attempt` (1-based). A server hint is honoured up to `maxRetryAfterMs`;
 * otherwise "full jitter" between half and all of `min(cap, base·2^(attempt−1))`, so callers spread out.
 */
export function retryDelayMs(attempt: number, serverHintMs: number | undefined, options: BackoffOptions): number {
  if (serverHintMs !== undefined) return Math.max(1, Math.min(serverHintMs, options.maxRetryAfterMs));
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
