/**
 * Errors of the collector, and the pure classification of outside failures (design §7).
 * A new error class exists only where a caller acts differently; everything else is a `code` of the catalogue
 * (`errorCodes.ts`).
 */
import { ErrorCode } from './errorCodes.js';

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

/**
 * An app setting is missing or malformed: the operator's fault, never the caller's. The message names the
 * setting. CLI exit code 2; the admin API answers 500 NOT_CONFIGURED.
 */
export class ConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

/**
 * Bad input from whoever called: a request parameter or body, or a CLI argument or flag. The message names the
 * field (`tenantId`, `since`, `--tenant`). CLI exit code 2; the admin API answers 400 `INVALID_<FIELD>`.
 */
export class InputError extends Error {
  /** The parameter, body field or flag as the caller wrote it. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.field = field;
  }
}

/**
 * A named thing (tenant, run) does not exist: the one "not found" form, whether a use case looked it up or a
 * store found its row gone. `code` says what was missing (TENANT_NOT_FOUND, TABLE_RUN_NOT_FOUND); kind permanent.
 */
export class NotFoundError extends CollectorError {
  constructor(message: string, code: string = ErrorCode.TENANT_NOT_FOUND) {
    super(message, { code, kind: 'permanent' });
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

/**
 * The one status → retry rule of every outside HTTP call (incidents APIs, token endpoint, Key Vault, Table
 * Storage): 408 (timeout), 429 (throttled) and every 5xx may succeed on a later attempt; nothing else will.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Classify an incidents-API HTTP failure (after the adapter's own bounded retries). */
export function classifyHttpStatus(status: number): { code: string; kind: FailureKind } {
  const code = `HTTP_${status}`;
  if (status === 403) return { code, kind: 'missing_permissions' };
  if (status === 401) return { code, kind: 'credential_error' };
  if (isRetryableStatus(status)) return { code, kind: 'transient' };
  return { code, kind: 'permanent' };
}

/** Network-level failure codes (Node sockets, DNS, undici, got) that are worth retrying: the request got no answer. */
export const TRANSIENT_NETWORK_CODES: readonly string[] = Object.freeze([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EADDRINUSE',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

const TRANSIENT_NETWORK = new Set(TRANSIENT_NETWORK_CODES);

/** True for a network code in TRANSIENT_NETWORK_CODES. */
export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_NETWORK.has(code);
}
