/**
 * The one HTTP client of the incident APIs (got). Per attempt: wait for the tenant's rate limiter, take a
 * fresh token (tokens can expire between retries), count the request. Retries GETs on 408/429/5xx, network
 * errors and malformed JSON (limit 4, i.e. at most 5 attempts per call), honouring server hints. Every failure
 * leaves this file as a CollectorError: got's types never leak, and no token or secret is in any message.
 */
import got, { type Got, type RequestError, type RetryObject } from 'got';
import {
  CollectorError,
  classifyHttpStatus,
  isRetryableStatus,
  isTransientNetworkCode,
  TRANSIENT_NETWORK_CODES,
} from '../domain/errors.js';
import type { CollectorMetrics, JsonObject, Logger, TokenProvider } from '../ports.js';
import type { RateLimiter } from './rateLimiter.js';
import { RequestStats } from './requestStats.js';
import { apiErrorOf, parseRetryAfter, parseTryAgainIn, retryDelayMs, type BackoffOptions } from './retryPolicy.js';
import { ErrorCode } from '../domain/errorCodes.js';

/** Retries after the first attempt: a call makes at most RETRY_LIMIT + 1 requests. */
export const RETRY_LIMIT = 4;

/** got needs the statuses as a list: every status the domain's rule calls retryable. */
const RETRY_STATUS_CODES = Array.from({ length: 600 - 400 }, (_, i) => 400 + i).filter(isRetryableStatus);
const RETRY_ERROR_CODES: string[] = [
  ...TRANSIENT_NETWORK_CODES,
  // got's own check when a connection drops mid-body (fewer bytes than Content-Length).
  'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
  // A truncated or invalid JSON body (e.g. a reset mid-body) is worth another attempt.
  'ERR_BODY_PARSE_FAILURE',
];

export interface IncidentHttpOptions {
  readonly retryLimit?: number;
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly stats?: RequestStats;
  readonly logger?: Logger;
  /** Retries and 429s are counted here too (issue 12), per tenant. */
  readonly metrics?: CollectorMetrics;
}

/** Who a request is for: the tenant's token provider and limiter are consulted on every attempt. */
export interface TenantRequest {
  readonly tenantId: string;
  readonly tokenProvider: TokenProvider;
  readonly limiter?: RateLimiter;
  readonly signal?: AbortSignal;
}

/** What every incident source needs to reach its API for a tenant. */
export interface SourceClientOptions {
  /** API root, e.g. https://graph.microsoft.com. */
  readonly endpoint: string;
  readonly tokenProvider: TokenProvider;
  readonly http: IncidentHttp;
  readonly limiter?: RateLimiter;
  readonly logger?: Logger;
}

/** The request context of one tenant's call: its token provider and limiter are consulted on every attempt. */
export function tenantRequest(
  client: SourceClientOptions,
  tenantId: string,
  options?: { readonly signal?: AbortSignal },
): TenantRequest {
  return {
    tenantId,
    tokenProvider: client.tokenProvider,
    ...(client.limiter ? { limiter: client.limiter } : {}),
    ...(options?.signal ? { signal: options.signal } : {}),
  };
}

/** Token scope of an API: `{origin}/.default`. */
export function scopeOf(endpoint: string): string {
  return `${new URL(endpoint).origin}/.default`;
}

export interface IncidentHttp {
  /** GET a JSON object (full URL). Throws CollectorError after the bounded retries. */
  getJson(url: string, request: TenantRequest): Promise<JsonObject>;
  readonly stats: RequestStats;
}

interface RequestContext {
  readonly tenant: TenantRequest;
  [key: string]: unknown;
}

export function createIncidentHttp(options: IncidentHttpOptions = {}): IncidentHttp {
  const stats = options.stats ?? new RequestStats();
  const backoff: BackoffOptions = {
    baseMs: options.backoff?.baseMs ?? 1_000,
    capMs: options.backoff?.capMs ?? 30_000,
    maxRetryAfterMs: options.backoff?.maxRetryAfterMs ?? 120_000,
    ...(options.backoff?.random ? { random: options.backoff.random } : {}),
  };
  const client = buildClient(options, stats, backoff);
  return {
    stats,
    async getJson(url, request) {
      try {
        const context: RequestContext = { tenant: request };
        const response = await client.get(url, {
          context,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        const body: unknown = response.body;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new CollectorError(`${describe(url)} answered JSON that is not an object.`, {
            code: ErrorCode.MALFORMED_RESPONSE,
            kind: 'transient',
          });
        }
        return body as JsonObject;
      } catch (error) {
        if (request.signal?.aborted) {
          throw new CollectorError(`${describe(url)} was aborted.`, {
            code: ErrorCode.ABORTED,
            kind: 'transient',
            cause: request.signal.reason,
          });
        }
        throw toCollectorError(error, url);
      }
    },
  };
}

function buildClient(options: IncidentHttpOptions, stats: RequestStats, backoff: BackoffOptions): Got {
  return got.extend({
    // Parsed by got itself (not `.json()` afterwards), so a malformed body is a ParseError got can retry.
    responseType: 'json',
    timeout: { request: options.requestTimeoutMs ?? 60_000, connect: options.connectTimeoutMs ?? 10_000 },
    headers: { accept: 'application/json' },
    retry: {
      limit: options.retryLimit ?? RETRY_LIMIT,
      methods: ['GET'],
      statusCodes: RETRY_STATUS_CODES,
      errorCodes: RETRY_ERROR_CODES,
      // got refuses to retry when Retry-After exceeds this; we cap the wait ourselves in calculateDelay.
      maxRetryAfter: 86_400_000,
      calculateDelay: (retry) => delayFor(retry, backoff, stats, options.logger, options.metrics),
    },
    hooks: {
      beforeRequest: [
        async (requestOptions) => {
          const { tenant } = requestOptions.context as RequestContext;
          await tenant.limiter?.acquire(tenant.tenantId, tenant.signal);
          const token = await tenant.tokenProvider.getToken(
            tenant.tenantId,
            tenant.signal ? { signal: tenant.signal } : undefined,
          );
          requestOptions.headers.authorization = `Bearer ${token}`;
          stats.recordRequest(tenant.tenantId);
        },
      ],
    },
  });
}

/** got's retry hook: our delay, told to the limiter on 429 so every caller for the tenant pauses. */
function delayFor(
  retry: RetryObject,
  backoff: BackoffOptions,
  stats: RequestStats,
  logger?: Logger,
  metrics?: CollectorMetrics,
): number {
  if (retry.computedValue === 0) return 0;
  const { tenant } = retry.error.options.context as RequestContext;
  const response = retry.error.response;
  const status = response?.statusCode;
  const hint = response
    ? (parseRetryAfter(response.headers['retry-after'], Date.now()) ?? parseTryAgainIn(response.body))
    : undefined;
  const delay = retryDelayMs(retry.attemptCount, hint, backoff);
  if (status === 429) {
    stats.recordThrottled(tenant.tenantId);
    // Without a hint the limiter still pauses the tenant for the backoff we chose.
    tenant.limiter?.penalize(tenant.tenantId, delay);
  }
  stats.recordRetry(tenant.tenantId);
  metrics?.httpRetry(tenant.tenantId, status);
  logger?.warn('http_retry', {
    tenantId: tenant.tenantId,
    status,
    errorCode: status === undefined ? retry.error.code : `HTTP_${status}`,
    attempt: retry.attemptCount,
    delayMs: delay,
  });
  return delay;
}

/** Normalise whatever got threw. Errors we threw ourselves in hooks (token, limiter) come back unchanged. */
export function toCollectorError(error: unknown, url: string): CollectorError {
  if (error instanceof CollectorError) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof CollectorError) return cause;
  const requestError = error as Partial<RequestError> & { name?: string; code?: string };
  const where = describe(url);
  if (requestError.name === 'HTTPError' && requestError.response) {
    const status = requestError.response.statusCode;
    const { code, kind } = classifyHttpStatus(status);
    const api = apiErrorOf(requestError.response.body);
    const detail = api ? `: ${[api.code, api.message].filter(Boolean).join(' ')}` : '';
    return new CollectorError(`${where} answered ${status}${trim(detail)}`, { code, kind, status });
  }
  if (requestError.name === 'ParseError' || requestError.code === 'ERR_BODY_PARSE_FAILURE') {
    const status = requestError.response?.statusCode;
    return new CollectorError(`${where} answered a malformed or truncated JSON body.`, {
      code: ErrorCode.MALFORMED_RESPONSE,
      kind: 'transient',
      ...(status !== undefined ? { status } : {}),
    });
  }
  if (requestError.name === 'AbortError' || requestError.code === 'ERR_ABORTED') {
    return new CollectorError(`${where} was aborted.`, { code: ErrorCode.ABORTED, kind: 'transient' });
  }
  const code = typeof requestError.code === 'string' ? requestError.code : 'REQUEST_FAILED';
  const transient =
    isTransientNetworkCode(code) ||
    RETRY_ERROR_CODES.includes(code) ||
    requestError.name === 'TimeoutError' ||
    requestError.name === 'RequestError';
  return new CollectorError(`${where} failed: ${code}`, { code, kind: transient ? 'transient' : 'permanent' });
}

/** Host and path only: the query is long and says nothing the operator needs. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `GET ${u.host}${u.pathname}`;
  } catch {
    return 'GET (invalid URL)';
  }
}

function trim(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
