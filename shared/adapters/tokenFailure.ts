/**
 * Turning an @azure/identity failure into a CollectorError (design §7). The OAuth `error` decides first, the
 * AADSTS numbers refine it. Messages keep only the first sentence of the AADSTS line and the trace id —
 * never the token, the secret or Entra's full description.
 */
import { CollectorError, aadstsCodes, classifyTokenFailure } from '../domain/errors.js';

export interface TokenFailureFacts {
  /** OAuth `error` (invalid_client, unauthorized_client, …) when known. */
  readonly oauthError?: string;
  readonly codes: readonly number[];
  readonly status?: number;
  /** First sentence of the AADSTS line, e.g. "AADSTS700016: Application with identifier '…' was not found in the directory '…'." */
  readonly summary?: string;
  readonly traceId?: string;
  /** MSAL could not resolve the tenant's endpoints (discovery failed): unknown tenant or unreachable authority. */
  readonly endpointsUnresolved: boolean;
}

interface IdentityErrorShape {
  name?: string;
  message?: string;
  statusCode?: number;
  errorResponse?: {
    error?: string;
    errorDescription?: string;
    error_description?: string;
    traceId?: string;
    trace_id?: string;
    errorCodes?: number[];
  };
  cause?: unknown;
}

/** Read what an identity error says, from the structured response when there is one, else from the message. */
export function tokenFailureFacts(error: unknown): TokenFailureFacts {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as IdentityErrorShape;
  const message = typeof e.message === 'string' ? e.message : '';
  const response = e.errorResponse;
  const description = response?.errorDescription ?? response?.error_description ?? message;
  const prefix = /^\s*([a-z_]+)\s*:/.exec(message)?.[1];
  const oauthError = response?.error ?? prefix;
  const codes = response?.errorCodes?.length
    ? response.errorCodes
    : [...new Set(aadstsCodes(description === message ? message : `${description} ${message}`))];
  const traceId =
    response?.traceId ?? response?.trace_id ?? /Trace ID:\s*([0-9a-f-]{36})/i.exec(`${description} ${message}`)?.[1];
  const summary = firstAadstsSentence(description) ?? firstAadstsSentence(message);
  const endpointsUnresolved =
    /endpoints_resolution_error|could not resolve endpoints|endpoints cannot be resolved/i.test(message) ||
    oauthError === 'endpoints_resolution_error';
  return {
    ...(oauthError !== undefined && oauthError !== 'endpoints_resolution_error' ? { oauthError } : {}),
    codes,
    ...(typeof e.statusCode === 'number' ? { status: e.statusCode } : {}),
    ...(summary !== undefined ? { summary } : {}),
    ...(traceId !== undefined ? { traceId } : {}),
    endpointsUnresolved,
  };
}

/** "AADSTS700016: Application … 'x'. Trace ID: …" → "AADSTS700016: Application … 'x'." */
export function firstAadstsSentence(text: string): string | undefined {
  const match = /AADSTS\d+:[^\r\n]*/.exec(text);
  if (!match) return undefined;
  const line = match[0];
  // A sentence ends at ". " (or the end); quoted names may contain dots, so require the following space.
  const end = line.search(/\.(\s|$)/);
  const sentence = end >= 0 ? line.slice(0, end + 1) : line;
  return sentence.length > 300 ? `${sentence.slice(0, 300)}…` : sentence;
}

/**
 * The CollectorError for a token endpoint failure of `tenantId`. The identity error is deliberately not kept
 * as `cause`: it carries Entra's full description and request details, which loggers would print.
 */
export function tokenError(tenantId: string, facts: TokenFailureFacts): CollectorError {
  const { code, kind } = classifyTokenFailure(facts.oauthError, facts.codes, facts.status);
  return new CollectorError(describe(tenantId, facts), {
    code,
    kind,
    ...(facts.status !== undefined ? { status: facts.status } : {}),
  });
}

function describe(tenantId: string, facts: TokenFailureFacts): string {
  const parts = [`Token request for tenant ${tenantId} failed`];
  const what = [facts.oauthError, facts.summary].filter(Boolean).join(': ');
  if (what) parts.push(`: ${what}`);
  if (facts.traceId) parts.push(` (trace ${facts.traceId})`);
  return parts.join('');
}
