/**
 * HTTP presentation of the admin API, in one place: use-case results and typed errors as HTTP responses (plain
 * HttpResponseInit objects: in native ESM the HttpResponse class cannot be imported by name from the CommonJS
 * @azure/functions package). JSON errors are `{ error: { code, message } }`:
 * InputError → 400 `INVALID_<FIELD>`, NotFoundError → 404 (its code, e.g. TENANT_NOT_FOUND), ConflictError → 409
 * CONFLICT, ConfigError (a missing app setting: the server's fault) → 500 NOT_CONFIGURED, anything else → 500
 * INTERNAL with a generic message (details are logged, never answered).
 */
import type { HttpResponseInit } from '@azure/functions';
import { ErrorCode } from '../../shared/domain/errorCodes.js';
import { ConfigError, ConflictError, ensureError, InputError, NotFoundError } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports.js';
import type { HtmlPage } from './consentPage.js';

/** A JSON answer before it becomes an HttpResponseInit. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

const JSON_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/** A JSON answer with the API's protective headers. */
export function jsonAnswer(response: ApiResponse): HttpResponseInit {
  return { status: response.status, jsonBody: response.body, headers: JSON_HEADERS };
}

/** An HTML page (consent callback) as it was rendered, headers included. */
export function htmlAnswer(page: HtmlPage): HttpResponseInit {
  return { status: page.status, body: page.body, headers: { ...page.headers } };
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The 400 code of a bad field: `tenantId` → INVALID_TENANT_ID, `since` → INVALID_SINCE. */
export function invalidCode(field: string): string {
  return `INVALID_${field
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()}`;
}

/** The one error → HTTP status mapping of the admin API; `operation` names the call in the logs. */
export function apiErrorResponse(error: unknown, logger: Logger, operation: string): ApiResponse {
  if (error instanceof InputError) return { status: 400, body: errorBody(invalidCode(error.field), error.message) };
  if (error instanceof NotFoundError) return { status: 404, body: errorBody(error.code, error.message) };
  if (error instanceof ConflictError) return { status: 409, body: errorBody(ErrorCode.CONFLICT, error.message) };
  if (error instanceof ConfigError) {
    logger.error('admin.not_configured', { operation, setting: error.setting });
    return { status: 500, body: errorBody(ErrorCode.NOT_CONFIGURED, error.message) };
  }
  const e = ensureError(error);
  logger.error('admin.failed', {
    operation,
    errorCode: 'code' in e ? String((e as { code: unknown }).code) : e.name,
    message: e.message,
  });
  return {
    status: 500,
    body: errorBody(ErrorCode.INTERNAL, 'The request failed unexpectedly; see the function logs.'),
  };
}

/** Run one admin operation and answer its result, or the error mapped by apiErrorResponse. */
export async function answerJson(
  logger: Logger,
  operation: string,
  work: () => Promise<ApiResponse>,
): Promise<HttpResponseInit> {
  try {
    return jsonAnswer(await work());
  } catch (error) {
    return jsonAnswer(apiErrorResponse(error, logger, operation));
  }
}
