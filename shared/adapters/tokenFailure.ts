/**
 * Turning an @azure/identity failure into a CollectorError (design §7). The OAuth `error` decides first, the
 * AADSTS numbers refine it. Messages keep only the first sentence of the AADSTS line and the trace id —
 * never the token, the secret or Entra's full description.
 */
import { CollectorError, isRetryableStatus, type FailureKind } from '../domain/errors.js';
import { PARTNER_CREDENTIAL_AADSTS } from '../domain/partnerCredential.js';

/** Entra ID's AADSTS numbers by what they mean for the tenant (design §7). */
const CONSENT_REVOKED_CODES = new Set([700016, 7000229, 65001, 500011, 650052, 90002]);
/** Bad or expired secret, refused client assertion: the partner credential itself (one list, in the domain). */
const BAD_SECRET_CODES = PARTNER_CREDENTIAL_AADSTS;
const TRANSIENT_CODES = new Set([50033, 90006, 90024, 90033]);

/** The AADSTS numbers in an Entra ID error description or message. */
export function aadstsCodes(text: string): number[] {
  return [...text.matchAll(/AADSTS(\d+)/g)].map((m) => Number(m[1]));
}

/**
 * Classify a token endpoint failure. The OAuth `error` decides first; AADSTS numbers refine it.
 * Returns the code reported to operators (`AADSTS700016`, or the OAuth error when there is no number).
 */
export function classifyTokenFailure(
  oauthError: string | undefined,
  codes: readonly number[],
  status?: number,
): { code: string; kind: FailureKind } {
  const first = codes[0];
  const code = first !== undefined ? `AADSTS${first}` : (oauthError ?? (status ? `HTTP_${status}` : 'TOKEN_ERROR'));
  const error = oauthError?.toLowerCase();
  if (error === 'temporarily_unavailable' || error === 'server_error') return { code, kind: 'transient' };
  if (codes.some((c) => TRANSIENT_CODES.has(c))) return { code, kind: 'transient' };
  if (codes.some((c) => BAD_SECRET_CODES.has(c))) return { code, kind: 'credential_error' };
  if (codes.some((c) => CONSENT_REVOKED_CODES.has(c))) return { code, kind: 'consent_revoked' };
  if (error === 'invalid_tenant') return { code, kind: 'consent_revoked' };
  if (error === 'unauthorized_client') return { code, kind: 'consent_revoked' };
  if (error === 'invalid_client') return { code, kind: 'credential_error' };
  if (status !== undefined && isRetryableStatus(status)) return { code, kind: 'transient' };
  if (error === undefined && status === undefined) return { code, kind: 'transient' };
  return { code, kind: 'permanent' };
}

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
