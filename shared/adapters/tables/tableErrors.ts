/**
 * Translate Table Storage failures (RestError from @azure/data-tables / core-rest-pipeline) into CollectorError,
 * so nothing past this adapter depends on the SDK's error type. Messages name the operation and the service's
 * error code only — never keys, entity contents or request bodies.
 */
import { CollectorError, isRetryableStatus, isTransientNetworkCode } from '../../domain/errors.js';

interface RestErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly details?: { readonly errorCode?: string } | unknown;
}

function asRestErrorLike(error: unknown): RestErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as RestErrorLike) : undefined;
}

/** HTTP status of a failed table call, if the service answered. */
export function errorStatus(error: unknown): number | undefined {
  const status = asRestErrorLike(error)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The service's error code. Azurite usually leaves RestError.code undefined and puts it in details.errorCode;
 * transaction failures carry it in `code`.
 */
export function errorCode(error: unknown): string | undefined {
  const e = asRestErrorLike(error);
  const details = e?.details as { errorCode?: unknown } | undefined;
  if (details && typeof details.errorCode === 'string' && details.errorCode !== '') return details.errorCode;
  return typeof e?.code === 'string' && e.code !== '' ? e.code : undefined;
}

export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  const status = errorStatus(error);
  return status !== undefined && statuses.includes(status);
}

function isTransient(status: number | undefined, code: string | undefined, name: string | undefined): boolean {
  if (status !== undefined) return isRetryableStatus(status);
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  // No status: the request never got an answer (connection refused, reset, timeout).
  return isTransientNetworkCode(code) || code === 'REQUEST_SEND_ERROR' || code === undefined;
}

/** Wrap any failure of a table call as a CollectorError `TABLE_<errorCode or status>`. */
export function toTableError(error: unknown, operation: string): CollectorError {
  if (error instanceof CollectorError) return error;
  const e = asRestErrorLike(error);
  const status = errorStatus(error);
  const code = errorCode(error);
  const label = code ?? (status !== undefined ? String(status) : 'UNREACHABLE');
  const kind = isTransient(status, code, e?.name) ? 'transient' : 'permanent';
  const answer =
    status !== undefined
      ? `answered ${status}${code ? ` ${code}` : ''}`
      : `failed without an answer${code ? ` (${code})` : ''}`;
  return new CollectorError(`Table storage ${operation} ${answer}.`, {
    code: `TABLE_${label}`,
    kind,
    cause: error,
    ...(status !== undefined ? { status } : {}),
  });
}

/** Run a table call and translate its failure. */
export async function tableCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toTableError(error, operation);
  }
}
