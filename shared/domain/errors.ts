/**
 * Errors of the collector, and the pure classification of outside failures (design §7).
 * A new error class exists only where a caller acts differently; everything else is a `code`.
 */

/** What a failure means for the tenant and for retrying. */
export type FailureKind =
  /** App not consented / service principal gone / tenant unknown: stop until re-consent. */
  | 'consent_revoked'
  /** Token lacks the read role, or API 403: stop until fixed. */
  | 'missing_permissions'
  /** Partner credential broken (bad/expired secret) or token for the wrong tenant. */
  | 'credential_error'
  /** Throttling, 5xx, timeouts, resets, transient AADSTS: retry later. */
  | 'transient'
  /** Anything else that will not heal by retrying the same request (e.g. 400, malformed body). */
  | 'permanent';

export interface CollectorErrorOptions {
  readonly code: string;
  readonly kind: FailureKind;
  readonly cause?: unknown;
  /** HTTP status of the outside call, when there was one. */
  readonly status?: number;
}

/** Base of every error the core and adapters throw on purpose. Messages never contain secrets or tokens. */
export class CollectorError extends Error {
  readonly code: string;
  readonly kind: FailureKind;
  readonly status?: number;

  constructor(message: string, options: CollectorErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CollectorError';
    this.code = options.code;
    this.kind = options.kind;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** A setting or flag is missing or malformed. The message names it. CLI exit code 2. */
export class ConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

/** A named thing (tenant, run) does not exist. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the current state (e.g. enabling a tenant that is being removed). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Normalise anything thrown into an Error, once, so logging never meets a non-Error. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  try {
    return new Error(typeof value === 'string' ? value : JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/** Classify an incidents-API HTTP failure (after the adapter's own bounded retries). */
export function classifyHttpStatus(status: number): { code: string; kind: FailureKind } {
  const code = `HTTP_${status}`;
  if (status === 403) return { code, kind: 'missing_permissions' };
  if (status === 401) return { code, kind: 'credential_error' };
  if (status === 408 || status === 429 || status >= 500) return { code, kind: 'transient' };
  return { code, kind: 'permanent' };
}

/** Network-level failure codes (got/Node) that are worth retrying. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
  'EHOSTUNREACH',
]);

export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
}
